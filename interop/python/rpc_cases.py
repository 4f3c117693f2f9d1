"""One interop case per RPC: a successful call of it, checked, from grpcio.

`every_rpc` runs the case of each method the descriptor set names and reports
the methods that have none, so a new RPC fails the suite until it gets a case
here: one function and one line in CASES.
"""

import grpc
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


CASES = {
    "StartJob": start_job,
    "StopJob": stop_job,
    "GetJob": get_job,
    "WaitJob": wait_job,
    "ListJobs": list_jobs,
    "StreamOutput": stream_output,
    "DeleteJob": delete_job,
    "CleanJobs": clean_jobs,
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
