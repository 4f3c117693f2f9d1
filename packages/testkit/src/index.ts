/** Test support: real jobworker-server processes for end-to-end tests, stress tests and benchmarks. */

export { idleConnections, stalledFollowers, within } from "./floods.js";
export { ensureRedisServer, RedisServer } from "./redis-server.js";
export { codeOf } from "./rpc-code.js";
export { testCgroupParent, testServerArgs, testStateDir } from "./server-args.js";
export { type JobClient, metricValue, ServerProcess, type ServerProcessOptions } from "./server-process.js";
export { installTestCa, makeTestCa, replaceFile, type TestCa, testCrl } from "./test-ca.js";
