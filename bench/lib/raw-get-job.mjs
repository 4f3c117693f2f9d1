// The floor of any Node client for one runjob call: GetJob over node:http2
// with the same mutual TLS 1.3, the request and response framed by hand (no
// Connect, no protobuf runtime, no CLI framework). Run as its own process by
// cli-targets.ts, with the RUNJOB_* variables runjob reads and the job id as
// its argument; exits 0 once the response's trailers say OK. Plain JavaScript:
// a .ts file would have Node load its type stripper first.
import { readFileSync } from "node:fs";
import { connect } from "node:http2";

const env = process.env;
const id = Buffer.from(process.argv[2] ?? "");
const session = connect(`https://${env.RUNJOB_SERVER}`, {
  ca: readFileSync(env.RUNJOB_CA ?? ""),
  cert: readFileSync(env.RUNJOB_CERT ?? ""),
  key: readFileSync(env.RUNJOB_KEY ?? ""),
  minVersion: "TLSv1.3",
});
// GetJobRequest { id = 1 }: field 1, length-delimited; then gRPC's 5-byte frame header.
const message = Buffer.concat([Buffer.from([0x0a, id.length]), id]);
const frame = Buffer.alloc(5 + message.length);
frame.writeUInt32BE(message.length, 1);
message.copy(frame, 5);
const stream = session.request({
  ":method": "POST",
  ":path": "/jobworker.v1.JobService/GetJob",
  "content-type": "application/grpc+proto",
  te: "trailers",
});
let bytes = 0;
stream.on("data", (chunk) => {
  bytes += chunk.length;
});
stream.on("trailers", (trailers) => {
  process.exitCode = trailers["grpc-status"] === "0" && bytes > 5 ? 0 : 1;
});
stream.on("close", () => session.close());
stream.end(frame);
