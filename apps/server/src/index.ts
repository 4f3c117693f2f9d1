/** @jobworker/server: the jobworker API over mutual TLS, for embedding and tests. */
export { loadConfig, type ServerConfig, usage } from "./config.js";
export { envFileTemplate } from "./env-template.js";
export { type JobServer, MAX_REQUEST_BYTES, startJobServer } from "./job-server.js";
export { CIPHER_SUITES } from "./tls/tls-options.js";
