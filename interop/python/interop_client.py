#!/usr/bin/python3
"""jobworker interop client: drives a jobworker server from Python's grpcio.

    interop_client.py SCENARIO '{"arg": ...}'

The server, its certificates and the descriptor set come from the environment
(INTEROP_TARGET host:port, INTEROP_CERTS a directory with ca.crt and NAME.crt /
NAME.key per identity, INTEROP_DESCRIPTOR_SET). Each scenario prints JSON
lines: events while it runs ({"event": ...}), then one {"result": ...}. A
scenario that waits for the test reads one line from stdin.
"""

import json
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from context import Context, emit  # noqa: E402
from rpc_cases import every_rpc  # noqa: E402
from status_matrix import statuses  # noqa: E402
from stream_scenarios import (  # noqa: E402
    cancel,
    follow_through_shutdown,
    followers,
    gzip,
    keepalive,
    resume,
    stream_bytes,
    unary_deadline,
)
from tls_probe import tls_refusal  # noqa: E402

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
