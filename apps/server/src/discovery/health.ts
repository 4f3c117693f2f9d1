import { EventEmitter } from "node:events";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { grpcHealthV1 } from "@jobworker/proto";

const ServingStatus = grpcHealthV1.HealthCheckResponse_ServingStatus;
type ServingStatus = grpcHealthV1.HealthCheckResponse_ServingStatus;

/**
 * What `grpc.health.v1.Health` reports: the server as a whole ("") and each
 * service it names, SERVING while it accepts calls and NOT_SERVING once it
 * shuts down, so a load balancer drains it before the port closes.
 */
export class HealthStatus {
  readonly #statuses = new Map<string, ServingStatus>();
  readonly #changes = new EventEmitter();

  constructor(services: readonly string[]) {
    for (const service of ["", ...services]) this.#statuses.set(service, ServingStatus.SERVING);
    // Each Watch call listens here; there is no fixed bound on their number.
    this.#changes.setMaxListeners(0);
  }

  /** The status of `service`, or undefined for a service this server does not know. */
  get(service: string): ServingStatus | undefined {
    return this.#statuses.get(service);
  }

  /** Every known service with its status. */
  all(): ReadonlyMap<string, ServingStatus> {
    return this.#statuses;
  }

  /** Marks every service NOT_SERVING (shutdown has begun); watchers hear it at once. */
  stopServing(): void {
    for (const service of this.#statuses.keys()) this.#statuses.set(service, ServingStatus.NOT_SERVING);
    this.#changes.emit("change");
  }

  /** Whether a change came (true) before `signal` aborted (false). */
  nextChange(signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const changed = () => {
        signal.removeEventListener("abort", aborted);
        resolve(true);
      };
      const aborted = () => {
        this.#changes.off("change", changed);
        resolve(false);
      };
      if (signal.aborted) return resolve(false);
      this.#changes.once("change", changed);
      signal.addEventListener("abort", aborted, { once: true });
    });
  }
}

/** `grpc.health.v1.Health` over a HealthStatus. */
export function healthService(status: HealthStatus): ServiceImpl<typeof grpcHealthV1.Health> {
  return {
    check(request) {
      const serving = status.get(request.service);
      if (serving === undefined) {
        throw new ConnectError(`unknown service ${JSON.stringify(request.service)}`, Code.NotFound);
      }
      return { status: serving };
    },

    list() {
      return { statuses: Object.fromEntries([...status.all()].map(([name, serving]) => [name, { status: serving }])) };
    },

    // As the protocol asks: an unknown service is SERVICE_UNKNOWN (it may be registered later),
    // and each change is sent once, until the client goes away or the server shuts down.
    async *watch(request, context) {
      let last: ServingStatus | undefined;
      // Shutdown marks NOT_SERVING just before it ends the call: that last change is still sent.
      for (let changed = true; changed; changed = await status.nextChange(context.signal)) {
        const current = status.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current !== last) yield { status: current };
        last = current;
      }
    },
  };
}
