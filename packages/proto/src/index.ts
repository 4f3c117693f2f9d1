/**
 * The jobworker.v1 API: messages, enums and the JobService descriptor,
 * generated from proto/jobworker/v1 by protoc-gen-es.
 */
export * from "./gen/jobworker/v1/job_pb.js";
export * from "./gen/jobworker/v1/job_service_pb.js";
