"""Run under `mpirun -n N`: every collective against NumPy on known data, and the errors for calls that do
not match between ranks. Prints "COLLECTIVES OK" (rank 0) when every check passed, else the failures."""
import numpy as np

import tapegrad as torch
import tapegrad.distributed as dist

dist.init_process_group(backend="mpi", init_method="env://")
R, N = dist.get_rank(), dist.get_world_size()
failures = []


def check(name, got, want):
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    if got.dtype != np.asarray(want).dtype or not np.array_equal(got, want):
        failures.append(f"rank {R}: {name}: got {got!r}, want {want!r}")


def known(r, dtype=np.float32, shape=(2, 3)):
    """Rank r's data: distinct on every rank, exact in every dtype used."""
    return (np.arange(np.prod(shape)).reshape(shape) % 5 + 2 * r + 1).astype(dtype)


everyone = [known(r) for r in range(N)]
for op, fn in (("SUM", np.sum), ("PRODUCT", np.prod), ("MIN", np.min), ("MAX", np.max), ("AVG", np.mean)):
    for dtype in (np.float32, np.float64, np.int64, np.int32):
        if op == "AVG" and dtype in (np.int64, np.int32):
            continue
        t = torch.from_numpy(known(R, dtype).copy())
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        check(f"all_reduce {op} {np.dtype(dtype).name}", t, fn(np.stack([known(r, dtype) for r in range(N)]), 0)
              .astype(dtype))
for op, fn in (("BAND", np.bitwise_and.reduce), ("BOR", np.bitwise_or.reduce), ("BXOR", np.bitwise_xor.reduce)):
    t = torch.from_numpy(known(R, np.int64).copy())
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    check(f"all_reduce {op}", t, fn(np.stack([known(r, np.int64) for r in range(N)]), 0))
t = torch.from_numpy(known(R, np.float16).copy())
dist.all_reduce(t)
check("all_reduce float16", t, np.sum([known(r, np.float16) for r in range(N)], 0, dtype=np.float16))
t = torch.tensor([R == 0, False, True])
dist.all_reduce(t)
check("all_reduce bool (or)", t, np.array([True, False, True]))
base = torch.from_numpy(np.zeros((3, 4), np.float32))
view = base[:, 1:3]  # a non-contiguous view: reduced in place through the view
view.copy_(torch.from_numpy(known(R, shape=(3, 2))))
dist.all_reduce(view)
check("all_reduce on a view", base[:, 1:3], np.sum([known(r, shape=(3, 2)) for r in range(N)], 0))
check("all_reduce on a view leaves the rest", base[:, 0], np.zeros(3, np.float32))
t = torch.from_numpy(known(R).copy())
work = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True)
work.wait()
check("all_reduce async AVG", t, np.mean(everyone, 0).astype(np.float32))

for src in range(N):
    t = torch.from_numpy(known(R).copy())
    dist.broadcast(t, src=src)
    check(f"broadcast from {src}", t, known(src))
outs = [torch.zeros(2, 3) for _ in range(N)]
dist.all_gather(outs, torch.from_numpy(known(R)))
for r in range(N):
    check(f"all_gather [{r}]", outs[r], known(r))
out = torch.zeros(N * 2, 3)
dist.all_gather_into_tensor(out, torch.from_numpy(known(R)))
check("all_gather_into_tensor", out, np.concatenate(everyone))
ins = [torch.from_numpy(known(R) * (i + 1)) for i in range(N)]
out = torch.zeros(2, 3)
dist.reduce_scatter(out, ins)
check("reduce_scatter", out, np.sum(everyone, 0) * (R + 1))
big = torch.from_numpy(np.concatenate([known(R) * (i + 1) for i in range(N)]))
out = torch.zeros(2, 3)
dist.reduce_scatter_tensor(out, big, op=dist.ReduceOp.MAX)
check("reduce_scatter_tensor MAX", out, np.max(everyone, 0) * (R + 1))
t = torch.from_numpy(known(R).copy())
dist.reduce(t, dst=N - 1)
check("reduce", t, np.sum(everyone, 0) if R == N - 1 else known(R))
got = [torch.zeros(2, 3) for _ in range(N)] if R == 0 else None
dist.gather(torch.from_numpy(known(R)), got, dst=0)
if R == 0:
    for r in range(N):
        check(f"gather [{r}]", got[r], known(r))
t = torch.zeros(2, 3)
dist.scatter(t, [torch.from_numpy(known(r) * 10) for r in range(N)] if R == 0 else None, src=0)
check("scatter", t, known(R) * 10)
if N > 1:
    if R == 0:
        dist.send(torch.from_numpy(known(0)), dst=1)
    elif R == 1:
        t = torch.zeros(2, 3)
        sender = dist.recv(t)
        check("send/recv", t, known(0))
        check("recv's sender", np.array(sender), np.array(0))
objs = []
dist.all_gather_object(objs, {"rank": R})
check("all_gather_object", np.array([o["rank"] for o in objs]), np.arange(N))
lst = [R, "x"] if R == 0 else [None, None]
dist.broadcast_object_list(lst, src=0)
check("broadcast_object_list", np.array(lst[0]), np.array(0))
dist.barrier()
sub = dist.new_group([0, N - 1])  # every rank calls new_group; only members communicate in it
t = torch.from_numpy(known(R).copy())
dist.all_reduce(t, group=sub)
if R in (0, N - 1):
    check("new_group all_reduce", t, known(0) + (known(N - 1) if N > 1 else 0))
    check("new_group get_rank", np.array(dist.get_rank(sub)), np.array(0 if R == 0 else 1))
else:
    check("new_group non-member", np.array(dist.get_rank(sub)), np.array(-1))
    check("new_group non-member tensor untouched", t, known(R))

# calls that do not match between ranks: the same error on every rank, naming the ranks and shapes
def expect_error(name, fn, *parts):
    try:
        fn()
    except dist.CollectiveMismatchError as exc:
        msg = str(exc)
        if not all(p in msg for p in parts):
            failures.append(f"rank {R}: {name}: message {msg!r} lacks {parts}")
        return msg
    failures.append(f"rank {R}: {name}: no error")


if N > 1:
    msg = expect_error("shapes", lambda: dist.all_reduce(torch.zeros(3, 2 + R)), "all_reduce",
                       "rank 0 has float32 [3, 2]", "rank 1 has float32 [3, 3]")
    if R == 0:
        print("error for different shapes:", msg, flush=True)
    expect_error("dtypes", lambda: dist.broadcast(torch.zeros(2, dtype=torch.float32 if R else torch.float64), 0),
                 "rank 0 has float64 [2]", "rank 1 has float32 [2]")
    expect_error("collectives", lambda: dist.all_reduce(torch.zeros(2)) if R == 0 else dist.barrier(),
                 "different collectives", "rank 0 called all_reduce", "rank 1 called barrier")
    expect_error("ops", lambda: dist.all_reduce(torch.zeros(2), op=dist.ReduceOp.MAX if R else dist.ReduceOp.SUM),
                 "rank 0 has float32 [2] (op sum)", "rank 1 has float32 [2] (op max)")
    expect_error("list", lambda: dist.all_gather([torch.zeros(2)] * (N + (R == 1)), torch.zeros(2)),
                 "rank 1: tensor_list must be a list of")
    t = torch.ones(2)
    dist.all_reduce(t)  # the group still works after the errors
    check("all_reduce after errors", t, np.full(2, N, np.float32))

report = []
dist.all_gather_object(report, failures)
if R == 0:
    bad = [f for fs in report for f in fs]
    print("\n".join(bad) if bad else "COLLECTIVES OK", flush=True)
dist.destroy_process_group()
