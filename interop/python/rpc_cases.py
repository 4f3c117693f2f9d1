"""One interop case per RPC: a successful call of it, checked, from grpcio.

`every_rpc` runs the case of each method the descriptor set names and reports
the methods that have none, so a new RPC fails the suite until it gets a case
here: one function and one line in CASES.
"""

import base64
import socket

import grpc
from google.protobuf import json_format
from jobworker_api import to_dict


def start(ctx, command, *args):
    response, _ = ctx.alice.unary("StartJob", {"command": command, "args": list(args)})
    return response.job.id


def ended(ctx, job_id):
    response, _ = ctx.alice.unary("WaitJob", {"id": job_id})
    return response.job


def start_job(ctx):
    response, _ = ctx.alice.unary("StartJob", {"command": "/bin/echo", "args": ["hello"]})
    assert response.job.owner == "alice" and response.job.id, response.job


def stop_job(ctx):
    job_id = start(ctx, "/bin/sleep", "600")
    response, _ = ctx.alice.unary("StopJob", {"id": job_id, "gracePeriod": "1s"})
    job = to_dict(ended(ctx, job_id))
    assert job["endReason"] == "END_REASON_STOPPED", job
    assert response.job.id == job_id


def get_job(ctx):
    job_id = start(ctx, "/bin/true")
    response, _ = ctx.alice.unary("GetJob", {"id": job_id})
    assert response.job.id == job_id and response.job.command == "/bin/true", response.job


def wait_job(ctx):
    job = ended(ctx, start(ctx, "/bin/sh", "-c", "exit 7"))
    assert job.HasField("exit_code") and job.exit_code == 7, job


def list_jobs(ctx):
    job_id = start(ctx, "/bin/true")
    ids, token = [], ""
    while True:
        response, _ = ctx.alice.unary("ListJobs", {"pageSize": 2, "pageToken": token})
        ids += [job.id for job in response.jobs]
        token = response.next_page_token
        if not token:
            break
    assert job_id in ids, ids


def stream_output(ctx):
    job_id = start(ctx, "/bin/sh", "-c", "printf 'one\\0two\\377'")
    ended(ctx, job_id)
    chunks = list(ctx.alice.stream("StreamOutput", {"id": job_id}))
    data = b"".join(chunk.data for chunk in chunks)
    assert data == b"one\0two\xff", data
    assert chunks[0].offset == 0


def delete_job(ctx):
    job_id = start(ctx, "/bin/true")
    ended(ctx, job_id)
    ctx.alice.unary("DeleteJob", {"id": job_id})
    try:
        ctx.alice.unary("GetJob", {"id": job_id})
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.NOT_FOUND, error
    else:
        raise AssertionError("a deleted job is still there")


def clean_jobs(ctx):
    ended(ctx, start(ctx, "/bin/true"))
    response, _ = ctx.alice.unary("CleanJobs", {})
    assert response.deleted_count >= 1, response


def b64(data):
    """bytes in the proto3 JSON mapping."""
    return base64.b64encode(data).decode()


def start_with_stdin(ctx, *command, tty=False):
    response, _ = ctx.alice.unary(
        "StartJob", {"command": command[0], "args": list(command[1:]), "stdin": True, "tty": tty}
    )
    return response.job.id


def attach_job(ctx):
    job_id = start_with_stdin(ctx, "/bin/cat")
    requests = iter(
        [
            ctx.api.request("AttachJob", {"start": {"id": job_id, "fromOffset": "0"}}),
            ctx.api.request("AttachJob", {"input": b64(b"ping\0\377\n")}),
            ctx.api.request("AttachJob", {"closeInput": {}}),
        ]
    )
    output, ended_job = b"", None
    for response in ctx.alice.bidi("AttachJob", requests):
        if response.HasField("output"):
            output += response.output.data
        elif response.HasField("ended"):
            ended_job = response.ended
    assert output == b"ping\0\377\n", output
    assert ended_job is not None and ended_job.exit_code == 0, ended_job


def write_job_input(ctx):
    job_id = start_with_stdin(ctx, "/bin/cat")
    ctx.alice.unary("WriteJobInput", {"id": job_id, "data": b64(b"written\n"), "close": True})
    assert ended(ctx, job_id).exit_code == 0
    data = b"".join(chunk.data for chunk in ctx.alice.stream("StreamOutput", {"id": job_id}))
    assert data == b"written\n", data


def resize_job_terminal(ctx):
    # The shell reads one line, then prints the size its terminal has by then.
    job_id = start_with_stdin(ctx, "/bin/sh", "-c", "read line; stty size", tty=True)
    ctx.alice.unary("ResizeJobTerminal", {"id": job_id, "size": {"rows": 33, "columns": 103}})
    ctx.alice.unary("WriteJobInput", {"id": job_id, "data": b64(b"go\n")})
    assert ended(ctx, job_id).exit_code == 0
    data = b"".join(chunk.data for chunk in ctx.alice.stream("StreamOutput", {"id": job_id}))
    assert data.endswith(b"33 103\r\n"), data


def signal_job(ctx):
    job_id = start(ctx, "/bin/sleep", "600")
    ctx.alice.unary("SignalJob", {"id": job_id, "signal": "SIGUSR1"})
    job = to_dict(ended(ctx, job_id))
    assert job["endReason"] == "END_REASON_SIGNALED" and job["signal"] == 10, job


def exec_job(ctx):
    job_id = start(ctx, "/bin/sleep", "600")
    requests = iter([ctx.api.request("ExecJob", {"start": {"id": job_id, "command": "/bin/sh", "args": ["-c", "hostname; exit 5"]}})])
    stdout, exit_code = b"", None
    for response in ctx.alice.bidi("ExecJob", requests):
        if response.HasField("stdout"):
            stdout += response.stdout
        elif response.HasField("exit"):
            exit_code = response.exit.exit_code
    job, _ = ctx.alice.unary("GetJob", {"id": job_id})
    ctx.alice.unary("StopJob", {"id": job_id, "gracePeriod": "0s"})
    assert exit_code == 5, exit_code
    # The job's UTS namespace is its own: its hostname is not the host's.
    assert stdout.strip() and stdout.strip().decode() != socket.gethostname(), stdout


def watch_jobs(ctx):
    stream = ctx.alice.stream("WatchJobs", {})
    synced = False
    job_id = None
    try:
        for response in stream:
            for event in response.events:
                kind = json_format.MessageToDict(event).get("type")
                if kind == "JOB_EVENT_TYPE_SYNCED" and not synced:
                    synced = True
                    job_id = start(ctx, "/bin/true")
                elif kind == "JOB_EVENT_TYPE_ENDED" and event.job.id == job_id:
                    return
    finally:
        stream.cancel()
    raise AssertionError("the watch ended without the job's end")


def watch_usage(ctx):
    job_id = start(ctx, "/bin/sleep", "600")
    stream = ctx.alice.stream("WatchUsage", {"ids": [job_id], "interval": "0.25s"})
    try:
        response = next(iter(stream))
    finally:
        stream.cancel()
        ctx.alice.unary("StopJob", {"id": job_id, "gracePeriod": "0s"})
    assert [usage.id for usage in response.jobs] == [job_id], response
    assert response.jobs[0].usage.memory_current_bytes > 0, response


CASES = {
    "StartJob": start_job,
    "StopJob": stop_job,
    "GetJob": get_job,
    "WaitJob": wait_job,
    "ListJobs": list_jobs,
    "StreamOutput": stream_output,
    "DeleteJob": delete_job,
    "CleanJobs": clean_jobs,
    "AttachJob": attach_job,
    "WriteJobInput": write_job_input,
    "ResizeJobTerminal": resize_job_terminal,
    "SignalJob": signal_job,
    "ExecJob": exec_job,
    "WatchJobs": watch_jobs,
    "WatchUsage": watch_usage,
}


def every_rpc(ctx, _args=None):
    """{method: "ok" | the failure} for every method of the service, and those without a case."""
    results, missing = {}, []
    for name in ctx.api.methods:
        case = CASES.get(name)
        if case is None:
            missing.append(name)
            continue
        try:
            case(ctx)
            results[name] = "ok"
        except (AssertionError, grpc.RpcError) as error:
            results[name] = f"{type(error).__name__}: {error}"
    return {"methods": list(ctx.api.methods), "results": results, "missing": missing}
