#!/usr/bin/python3
"""jobworker interop client: drives a jobworker server from Python's grpcio.

    interop_client.py SCENARIO '{"arg": ...}'

The server, its certificates and the descriptor set come from the environment
(INTEROP_TARGET host:port, INTEROP_CERTS a directory with ca.crt and NAME.crt /
NAME.key per identity, INTEROP_DESCRIPTOR_SET). Each scenario prints JSON
lines: events while it runs ({"event": ...}), then one {"result": ...}. A
scenario that waits for the test reads one line from stdin.
"""

import hashlib
import json
import os
import random
import socket
import ssl
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobworker_api import Api, Client, status_of, to_dict  # noqa: E402
from rpc_cases import every_rpc  # noqa: E402

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


def statuses(ctx, _args):
    """The status each probe of the authorization and validation matrix gets."""
    running = ctx.alice.unary("StartJob", {"command": "/bin/sleep", "args": ["600"]})[0].job.id
    done = ctx.alice.unary("StartJob", {"command": "/bin/true"})[0].job.id
    ctx.alice.unary("WaitJob", {"id": done})
    unknown = "00000000-0000-4000-8000-000000000000"
    probes = {
        "bob GetJob of alice's job": lambda: ctx.bob.unary("GetJob", {"id": running}),
        "bob StopJob of alice's job": lambda: ctx.bob.unary("StopJob", {"id": running}),
        "bob WaitJob of alice's job": lambda: ctx.bob.unary("WaitJob", {"id": running}),
        "bob StreamOutput of alice's job": lambda: ctx.bob.call("StreamOutput", {"id": running}),
        "bob DeleteJob of alice's job": lambda: ctx.bob.unary("DeleteJob", {"id": done}),
        "bob ListJobs of alice": lambda: ctx.bob.unary("ListJobs", {"owner": "alice"}),
        "bob CleanJobs of all owners": lambda: ctx.bob.unary("CleanJobs", {"allOwners": True}),
        "admin GetJob of alice's job": lambda: ctx.admin.unary("GetJob", {"id": running}),
        "admin ListJobs of alice": lambda: ctx.admin.unary("ListJobs", {"owner": "alice"}),
        "alice GetJob of an unknown id": lambda: ctx.alice.unary("GetJob", {"id": unknown}),
        "alice GetJob of a malformed id": lambda: ctx.alice.unary("GetJob", {"id": "not-a-job"}),
        "alice StopJob of an ended job": lambda: ctx.alice.unary("StopJob", {"id": done}),
        "alice DeleteJob of a running job": lambda: ctx.alice.unary("DeleteJob", {"id": running}),
        "alice ListJobs of 5000 a page": lambda: ctx.alice.unary("ListJobs", {"pageSize": 5000}),
        "alice StartJob of a missing executable": lambda: ctx.alice.unary("StartJob", {"command": "/no/such/file"}),
        "alice StartJob of 1 byte of memory": lambda: ctx.alice.unary(
            "StartJob", {"command": "/bin/true", "limits": {"memoryBytes": "1"}}
        ),
        "alice StartJob over the request size cap": lambda: ctx.alice.unary(
            "StartJob", {"command": "/bin/true", "args": ["x" * 100_000] * 30}
        ),
    }
    # No role: every method of the service, whatever the proto grows, is refused the same way.
    for method in ctx.api.methods:
        probes[f"nobody {method}"] = lambda method=method: ctx.nobody.call(method, {})
    observed = {name: outcome(probe) for name, probe in probes.items()}
    unimplemented = ctx.alice.channel.unary_unary("/jobworker.v1.JobService/NoSuchMethod")
    observed["alice an unknown method"] = outcome(lambda: unimplemented(b""))
    ctx.alice.unary("StopJob", {"id": running, "gracePeriod": "0s"})
    return observed


def pattern(size):
    """The deterministic binary stream the 50 MiB job writes (every byte value, NULs included)."""
    digest = hashlib.sha256()
    blocks = (size + 31) // 32
    for i in range(blocks):
        digest.update(hashlib.sha256(i.to_bytes(8, "big")).digest()[: min(32, size - 32 * i)])
    return digest.hexdigest()


def stream_bytes(ctx, args):
    """Follows a job's output to its end: its size, SHA-256 and whether offsets were contiguous."""
    digest, received, contiguous, chunks = hashlib.sha256(), 0, True, 0
    for chunk in ctx.alice.stream("StreamOutput", {"id": args["id"], "follow": True}):
        contiguous = contiguous and chunk.offset == received
        digest.update(chunk.data)
        received += len(chunk.data)
        chunks += 1
    return {
        "bytes": received,
        "sha256": digest.hexdigest(),
        "expectedSha256": pattern(args["expectedBytes"]),
        "contiguous": contiguous,
        "chunks": chunks,
    }


def follow_until_end(client, job_id, timeout):
    """Follows a job with a deadline: the status it ended with and the bytes it got."""
    received = 0
    try:
        for chunk in client.stream("StreamOutput", {"id": job_id, "follow": True}, timeout=timeout):
            received += len(chunk.data)
        return {"code": "OK", "bytes": received}
    except grpc.RpcError as error:
        return {**status_of(error), "bytes": received, "details": error.details()}


def followers(ctx, args):
    """`count` concurrent followers of a running job, each with a deadline in [min, max] seconds.

    At most `perConnection` share a connection: a call queued behind the server's
    stream cap can be refused (ENHANCE_YOUR_CALM) by Node's HTTP/2 as another ends,
    see docs/api.md.
    """
    count, per_connection = args["count"], args["perConnection"]
    clients = [ctx.connect("alice", own_connection=True) for _ in range(0, count, per_connection)]
    deadlines = [random.uniform(args["minSeconds"], args["maxSeconds"]) for _ in range(count)]
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            ends = list(
                pool.map(
                    lambda i: follow_until_end(clients[i // per_connection], args["id"], deadlines[i]),
                    range(count),
                )
            )
    finally:
        for client in clients:
            client.close()
    state = to_dict(ctx.alice.unary("GetJob", {"id": args["id"]})[0].job)["state"]
    codes = {}
    for end in ends:
        codes[end["code"]] = codes.get(end["code"], 0) + 1
    unexpected = sorted({end.get("details") for end in ends if end["code"] != "DEADLINE_EXCEEDED"})
    return {"codes": codes, "stateAfter": state, "unexpected": unexpected}


def unary_deadline(ctx, args):
    """WaitJob on a running job with a deadline."""
    return outcome(lambda: ctx.alice.unary("WaitJob", {"id": args["id"]}, timeout=args["seconds"]))


def cancel(ctx, args):
    """Opens `count` followers, says so once each has its first chunk, cancels all on a line from stdin."""
    calls = [ctx.alice.stream("StreamOutput", {"id": args["id"], "follow": True}) for _ in range(args["count"])]
    for call in calls:
        next(call)
    emit({"event": "following", "count": len(calls)})
    sys.stdin.readline()
    codes = {}
    for call in calls:
        call.cancel()
        code = call.code().name
        codes[code] = codes.get(code, 0) + 1
    return {"codes": codes}


def gzip(ctx, _args):
    """Every kind of call with a gzip-compressed request (the channel compresses them all).

    grpcio keeps grpc-encoding and grpc-accept-encoding to itself: the headers
    are checked with raw HTTP/2 in compression.spec.ts.
    """
    job = ctx.alice.unary("StartJob", {"command": "/bin/sh", "args": ["-c", "printf gzip-%s ok"]})[0].job
    ended = to_dict(ctx.alice.unary("WaitJob", {"id": job.id})[0].job)
    data = b"".join(chunk.data for chunk in ctx.alice.stream("StreamOutput", {"id": job.id}))
    big = ["y" * 100_000] * 9  # 900 KB of arguments that compress to almost nothing
    big_job = ctx.alice.unary("StartJob", {"command": "/bin/true", "args": big})[0].job
    # Under the cap compressed, over it once inflated: the cap applies to the inflated size.
    bomb = outcome(lambda: ctx.alice.unary("StartJob", {"command": "/bin/true", "args": ["z" * 100_000] * 30}))
    return {
        "exitCode": ended.get("exitCode"),
        "output": data.decode(),
        "bigArgs": len(big_job.args),
        "overCapInflated": bomb,
    }


def follow_through_shutdown(ctx, args):
    """Follows a running job; says so after the first chunk; reports how the stream ended."""
    received, offset = 0, 0
    try:
        for chunk in ctx.alice.stream("StreamOutput", {"id": args["id"], "follow": True}):
            if received == 0:
                emit({"event": "following"})
            received += len(chunk.data)
            offset = chunk.offset + len(chunk.data)
        return {"code": "OK", "nextOffset": offset}
    except grpc.RpcError as error:
        return {**status_of(error), "nextOffset": offset}


def keepalive(ctx, args):
    """Follows a quiet job to its end on a channel that pings every `pingMs` (and keeps doing so while idle)."""
    options = [
        ("grpc.keepalive_time_ms", args["pingMs"]),
        ("grpc.keepalive_timeout_ms", 5000),
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.max_pings_without_data", 0),
    ]
    client = ctx.connect("alice", own_connection=True, options=options)
    try:
        data = b"".join(c.data for c in client.stream("StreamOutput", {"id": args["id"], "follow": True}))
        return {"code": "OK", "output": data.decode()}
    except grpc.RpcError as error:
        return status_of(error)
    finally:
        client.close()


def resume(ctx, args):
    """Reads a job's output from an offset to its current end (no follow)."""
    chunks = list(ctx.alice.stream("StreamOutput", {"id": args["id"], "fromOffset": str(args["fromOffset"])}))
    return {"firstOffset": chunks[0].offset if chunks else None, "bytes": sum(len(c.data) for c in chunks)}


def tls_refusal(_ctx, args):
    """A bare TLS 1.3 (or `version`) handshake and first read with a client certificate: the alert that ended it."""
    host, port = os.environ["INTEROP_TARGET"].rsplit(":", 1)
    context = ssl.create_default_context(cafile=os.path.join(os.environ["INTEROP_CERTS"], "ca.crt"))
    version = args.get("version", "TLSv1_3")
    context.minimum_version = context.maximum_version = getattr(ssl.TLSVersion, version)
    context.set_alpn_protocols(["h2"])
    if args.get("identity"):
        certs = os.environ["INTEROP_CERTS"]
        context.load_cert_chain(os.path.join(certs, f"{args['identity']}.crt"), os.path.join(certs, f"{args['identity']}.key"))
    try:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                # TLS 1.3 verifies the client's certificate after the client's handshake is done:
                # the server's verdict arrives with the first read.
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
                data = tls.recv(1)
                return {"alert": None, "accepted": len(data) > 0}
    except ssl.SSLError as error:
        return {"alert": error.reason, "accepted": False}
    except (ConnectionResetError, ssl.SSLEOFError, BrokenPipeError) as error:
        return {"alert": None, "accepted": False, "closed": type(error).__name__}


SCENARIOS = {
    "every-rpc": every_rpc,
    "statuses": statuses,
    "stream-bytes": stream_bytes,
    "followers": followers,
    "unary-deadline": unary_deadline,
    "cancel": cancel,
    "gzip": gzip,
    "follow-through-shutdown": follow_through_shutdown,
    "resume": resume,
    "keepalive": keepalive,
    "tls-refusal": tls_refusal,
}

_emit_lock = threading.Lock()


def emit(line):
    with _emit_lock:
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()


def main():
    name, args = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    compression = grpc.Compression.Gzip if args.get("gzip") else None
    ctx = Context(compression) if name != "tls-refusal" else None
    try:
        emit({"result": SCENARIOS[name](ctx, args)})
    finally:
        if ctx:
            ctx.close()


if __name__ == "__main__":
    main()
