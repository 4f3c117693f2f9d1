/** Test support: real jobworker-server processes for end-to-end tests, stress tests and benchmarks. */
export { testCgroupParent, testServerArgs, testStateDir } from "./server-args.js";
export { type JobClient, metricValue, ServerProcess, type ServerProcessOptions } from "./server-process.js";
