"""Streams from grpcio: byte-exact output, deadlines, cancellation, shutdown, resuming, keepalive, gzip."""

import hashlib
import random
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
from context import emit, outcome
from jobworker_api import status_of, to_dict

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
