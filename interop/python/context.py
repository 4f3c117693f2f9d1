"""What every scenario shares: the server's address and identities, channels, and how results are reported."""

import json
import os
import sys
import threading

import grpc
from jobworker_api import Api, Client, status_of

IDENTITIES = ("alice", "bob", "admin", "nobody")


def read(path):
    with open(path, "rb") as f:
        return f.read()


class Context:
    """The API, and a channel per identity (created when first used)."""

    def __init__(self, compression=None):
        self.api = Api(os.environ["INTEROP_DESCRIPTOR_SET"])
        self.target = os.environ["INTEROP_TARGET"]
        self.certs = os.environ["INTEROP_CERTS"]
        self.compression = compression
        self._clients = {}

    def client(self, identity):
        if identity not in self._clients:
            self._clients[identity] = self.connect(identity)
        return self._clients[identity]

    def connect(self, identity, own_connection=False, options=()):
        """A new channel for `identity` (the caller closes it)."""
        cert = lambda ext: read(os.path.join(self.certs, f"{identity}.{ext}"))  # noqa: E731
        ca = read(os.path.join(self.certs, "ca.crt"))
        return Client(self.api, self.target, ca, cert("crt"), cert("key"), self.compression, own_connection, options)

    def __getattr__(self, identity):
        if identity in IDENTITIES:
            return self.client(identity)
        raise AttributeError(identity)

    def close(self):
        for client in self._clients.values():
            client.close()


def outcome(thunk):
    """A call's status: OK, or the failure's code and jobworker-error-code."""
    try:
        thunk()
        return {"code": "OK", "errorCode": None}
    except grpc.RpcError as error:
        return status_of(error)


_emit_lock = threading.Lock()


def emit(line):
    with _emit_lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
