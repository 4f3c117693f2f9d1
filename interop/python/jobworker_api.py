"""The jobworker API as a Python grpcio (gRPC C-core) client sees it.

No generated stubs: the messages come from a descriptor set built from proto/
at test time (`buf build proto -o FILE`), and every call goes through grpcio's
generic multi-callables, so a new RPC in the proto needs no code here.
"""

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

SERVICE = "jobworker.v1.JobService"


def _message_class(descriptor):
    # protobuf >= 4.22 has GetMessageClass; Debian 12's 4.21 has only the factory.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)


class Api:
    """The service's methods and message classes, read from a descriptor set."""

    def __init__(self, descriptor_set_path):
        with open(descriptor_set_path, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for file in files.file:  # buf writes dependencies before the files that import them
            self.pool.Add(file)
        self.service = self.pool.FindServiceByName(SERVICE)
        self.methods = {m.name: m for m in self.service.methods}

    def request(self, method, fields=None):
        """A request message for `method` from a dict in the proto3 JSON mapping."""
        cls = _message_class(self.methods[method].input_type)
        return json_format.ParseDict(fields or {}, cls())


class Client:
    """One identity's channel (mutual TLS) and calls by method name."""

    def __init__(self, api, target, ca, cert=None, key=None, compression=None, own_connection=False, options=()):
        self.api = api
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
        # grpcio shares one connection between channels to the same target unless told otherwise.
        options = list(options) + ([("grpc.use_local_subchannel_pool", 1)] if own_connection else [])
        self.channel = grpc.secure_channel(target, credentials, options=options, compression=compression)

    def close(self):
        self.channel.close()

    def _callable(self, method):
        descriptor = self.api.methods[method]
        path = f"/{SERVICE}/{method}"
        serialize = lambda message: message.SerializeToString()  # noqa: E731
        deserialize = _message_class(descriptor.output_type).FromString
        kind = (descriptor.client_streaming, descriptor.server_streaming)
        factory = {
            (False, False): self.channel.unary_unary,
            (False, True): self.channel.unary_stream,
            (True, False): self.channel.stream_unary,
            (True, True): self.channel.stream_stream,
        }[kind]
        return factory(path, request_serializer=serialize, response_deserializer=deserialize)

    def unary(self, method, fields=None, **options):
        """Calls a unary method; returns (response, call) so tests can read its metadata."""
        return self._callable(method).with_call(self.api.request(method, fields), **options)

    def stream(self, method, fields=None, **options):
        """Calls a server-streaming method; returns the call, an iterator of responses."""
        return self._callable(method)(self.api.request(method, fields), **options)

    def bidi(self, method, requests, **options):
        """Calls a client-streaming method with an iterator of requests; returns its responses."""
        return self._callable(method)(requests, **options)

    def call(self, method, fields=None, **options):
        """Calls any method with one request message and returns its responses as a list.

        A client-streaming method gets a stream of that one message, so checks
        that run over every method (the status matrix) need no case per kind.
        """
        descriptor = self.api.methods[method]
        request = self.api.request(method, fields)
        if descriptor.client_streaming:
            request = iter([request])
        responses = self._callable(method)(request, **options)
        return list(responses) if descriptor.server_streaming else [responses]


def to_dict(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=False)


def status_of(error):
    """A failed call's status name (NOT_FOUND, ...) and its jobworker-error-code trailer."""
    trailers = dict(error.trailing_metadata() or ())
    return {"code": error.code().name, "errorCode": trailers.get("jobworker-error-code")}
