import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { type Job, JobSchema } from "@jobworker/proto";

/** A job in protobuf's canonical JSON form: lowerCamelCase names, enum names, zero values included. */
export function jobToJson(job: Job): JsonValue {
  return toJson(JobSchema, job, { alwaysEmitImplicit: true });
}
