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
export * from "./gen/jobworker/v1/interactive_pb.js";
export * from "./gen/jobworker/v1/job_pb.js";
export * from "./gen/jobworker/v1/job_service_pb.js";
export { isJobId, JOB_ID_PATTERN } from "./job-id.js";
