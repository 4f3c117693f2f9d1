import { readFileSync } from "node:fs";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import { CliError } from "../cli-error.js";
import type { ConnectionSettings } from "./settings.js";

export type JobClient = Client<typeof JobService>;

/** A JobService client over HTTP/2 with mutual TLS 1.3, from the resolved settings. */
export function createJobClient(settings: ConnectionSettings): JobClient {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new CliError(
        `cannot read the ${what} ${path} (${(error as NodeJS.ErrnoException).code}): pass --${what} or set up certs with 'pnpm certs'`,
      );
    }
  };
  const transport = createGrpcTransport({
    baseUrl: `https://${settings.server}`,
    nodeOptions: {
      ca: read("ca", settings.ca),
      cert: read("cert", settings.cert),
      key: read("key", settings.key),
      minVersion: "TLSv1.3",
    },
  });
  return createClient(JobService, transport);
}
