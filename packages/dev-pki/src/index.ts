/** Development and test PKI for jobworker: never use these certificates in production. */
export { DEV_CLIENTS, writeDevPki, writePair } from "./dev-pki.js";
export { type Authority, createAuthority, type Issued, type IssueOptions, issue } from "./pki.js";
