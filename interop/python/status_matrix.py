"""The status codes of the authorization and validation matrix, as grpcio receives them."""

from context import outcome

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
