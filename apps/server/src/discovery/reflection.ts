import { createRegistry, type DescFile, type DescService, type Registry, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import type { grpcReflectionV1, grpcReflectionV1alpha } from "@jobworker/proto";

/** A reflection request's question, as v1 and v1alpha both carry it. */
type Ask =
  | { case: "listServices" | "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType"; value: string }
  | { case: "fileContainingExtension"; value: unknown }
  | { case: undefined; value?: undefined };

/** The answer, as v1 and v1alpha both carry it. */
type Answer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * gRPC server reflection over the services this server registers: lists them
 * and answers each file or symbol with its file and every file it imports, so
 * grpcurl and buf curl can call the API with no proto files at hand.
 * jobworker's API declares no extensions: asking for one is NOT_FOUND.
 */
export function reflectionAnswers(services: readonly DescService[]): (ask: Ask) => Answer {
  const byName = new Map<string, DescFile>();
  for (const service of services) for (const file of withImports(service.file)) byName.set(file.proto.name, file);
  const registry = createRegistry(...byName.values());
  const names = services.map((service) => ({ name: service.typeName }));
  const files = (file: DescFile | undefined, what: string): Answer =>
    file
      ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withImports(file).map(serialize) } }
      : notFound(what);
  return (ask) => {
    switch (ask.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: names } };
      case "fileByFilename":
        return files(byName.get(ask.value), `file ${ask.value}`);
      case "fileContainingSymbol":
        return files(fileOfSymbol(registry, ask.value), `symbol ${ask.value}`);
      case "allExtensionNumbersOfType":
        return registry.getMessage(ask.value)
          ? { case: "allExtensionNumbersResponse", value: { baseTypeName: ask.value, extensionNumber: [] } }
          : notFound(`type ${ask.value}`);
      case "fileContainingExtension":
        return notFound("extension (this API declares none)");
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty request" } };
    }
  };
}

/** `grpc.reflection.v1.ServerReflection`: one answer per request, on the same stream. */
export function reflectionService(
  services: readonly DescService[],
): ServiceImpl<typeof grpcReflectionV1.ServerReflection> {
  const answer = reflectionAnswers(services);
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield { validHost: request.host, originalRequest: request, messageResponse: answer(request.messageRequest) };
      }
    },
  };
}

/** The same service under `grpc.reflection.v1alpha` (grpcurl and buf curl try both versions). */
export function reflectionServiceV1alpha(
  services: readonly DescService[],
): ServiceImpl<typeof grpcReflectionV1alpha.ServerReflection> {
  const answer = reflectionAnswers(services);
  return {
    async *serverReflectionInfo(requests) {
      for await (const request of requests) {
        yield { validHost: request.host, originalRequest: request, messageResponse: answer(request.messageRequest) };
      }
    },
  };
}

/** A symbol's file: a type, a service, or a method (`pkg.Service.Method`). */
function fileOfSymbol(registry: Registry, symbol: string): DescFile | undefined {
  const found = registry.get(symbol);
  if (found) return found.file;
  const dot = symbol.lastIndexOf(".");
  const service = dot > 0 ? registry.getService(symbol.slice(0, dot)) : undefined;
  return service?.methods.some((method) => method.name === symbol.slice(dot + 1)) ? service.file : undefined;
}

/** `file` and, after it, every file it imports directly or not, each once. */
function withImports(file: DescFile): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (seen.has(f.proto.name)) return;
    seen.set(f.proto.name, f);
    for (const dependency of f.dependencies) visit(dependency);
  };
  visit(file);
  return [...seen.values()];
}

function serialize(file: DescFile): Uint8Array {
  return toBinary(FileDescriptorProtoSchema, file.proto);
}

function notFound(what: string): Answer {
  return { case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what}: not found` } };
}
