/**
 * The jobworker.v1 API: messages, enums and the JobService descriptor,
 * generated from proto/jobworker/v1 by protoc-gen-es, and the parts of the
 * contract protobuf cannot express: the job id format and the error codes.
 */

export {
  ERROR_CODE_KEY,
  type ErrorCode,
  isErrorCode,
  SPECIFIC_ERROR_CODES,
  STATUS_ERROR_CODES,
  statusErrorCode,
} from "./error-code.js";
/** gRPC's standard health checking protocol, served beside JobService. */
export * as grpcHealthV1 from "./gen/grpc/health/v1/health_pb.js";
/** gRPC server reflection, both versions clients ask for. */
export * as grpcReflectionV1 from "./gen/grpc/reflection/v1/reflection_pb.js";
export * as grpcReflectionV1alpha from "./gen/grpc/reflection/v1alpha/reflection_pb.js";
export * from "./gen/jobworker/v1/interactive_pb.js";
export * from "./gen/jobworker/v1/job_pb.js";
export * from "./gen/jobworker/v1/job_service_pb.js";
export * from "./gen/jobworker/v1/watch_pb.js";
export { isJobId, JOB_ID_PATTERN } from "./job-id.js";
