"""Run under `mpirun -n N`: DistributedDataParallel against one process training on the full batch.

Each rank trains a DDP model on its shard of every batch (B examples) and, alone, a reference model on
the whole batch (N*B examples); after K steps their parameters must agree within float32 rounding.
Prints one line per check and "DDP OK" at the end (rank 0).
"""
import os
import sys

import numpy as np

import tapegrad as torch
import tapegrad.distributed as dist
from tapegrad import nn
from tapegrad.nn import functional as F
from tapegrad.nn.parallel import DistributedDataParallel as DDP
from tapegrad.utils.data.distributed import DistributedSampler

dist.init_process_group(backend="mpi")
RANK, N = dist.get_rank(), dist.get_world_size()
TOL = 2e-5


class ConvNet(nn.Module):  # the lectures' convnet
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = F.relu(self.fc1(x.view(-1, 256)))
        return self.fc2(x)


def mlp():
    return nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 5))


def say(*args):
    if RANK == 0:
        print(*args, flush=True)


def max_diff(a, b):
    return max(float((p - q).abs().max()) for p, q in zip(a.parameters(), b.parameters()))


def same_on_all_ranks(model):
    """Every rank's parameters are bitwise rank 0's."""
    flat = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    mine = torch.from_numpy(flat.copy())
    dist.broadcast(mine, src=0)
    return bool((mine.numpy() == flat).all())


def data(step, shape, classes, per_rank):
    g = np.random.default_rng(1000 + step)
    x = g.standard_normal((N * per_rank,) + shape).astype(np.float32)
    y = g.integers(0, classes, N * per_rank)
    return torch.from_numpy(x), torch.from_numpy(y)


def equivalence(name, make, shape, classes, steps, per_rank, opt, **ddp_kwargs):
    torch.manual_seed(0)
    ref = make()
    torch.manual_seed(0 if RANK == 0 else 100 + RANK)  # differs between ranks: DDP must start from rank 0's
    model = DDP(make(), **ddp_kwargs)
    init = max_diff(ref, model.module)
    ref_opt, ddp_opt = opt(ref.parameters()), opt(model.parameters())
    for step in range(steps):
        x, y = data(step, shape, classes, per_rank)
        lo = RANK * per_rank
        ddp_opt.zero_grad()
        F.cross_entropy(model(x[lo:lo + per_rank]), y[lo:lo + per_rank]).backward()
        ddp_opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    diff = max_diff(ref, model.module)
    ok = init == 0 and diff < TOL and same_on_all_ranks(model.module)
    nb = len(model._buckets)
    # every bucket is sent from the hook of its last parameter, the earlier ones while backward still runs
    ok = ok and model.overlapped_buckets == steps * nb
    say(f"{name}: {steps} steps, {N} x {per_rank} vs 1 x {N * per_rank}: max |ddp - single| = {diff:.2e} "
        f"({nb} bucket(s), {model.overlapped_buckets / steps:.0f} per step sent during backward) "
        f"{'ok' if ok else 'FAIL'}")
    return ok


def no_sync_accumulation():
    torch.manual_seed(0)
    ref = mlp()
    torch.manual_seed(0)
    model = DDP(mlp())
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    ddp_opt = torch.optim.SGD(model.parameters(), lr=0.1)
    B = 4
    xs = [data(50 + k, (20,), 5, B) for k in range(3)]
    lo = RANK * B
    ddp_opt.zero_grad()
    with model.no_sync():
        for x, y in xs[:2]:
            F.cross_entropy(model(x[lo:lo + B]), y[lo:lo + B]).backward()
    local = model.module[0].weight.grad.clone()
    others = [torch.zeros_like(local) for _ in range(N)]
    dist.all_gather(others, local)
    unsynced = N == 1 or not all(bool((o == others[0]).all()) for o in others[1:])
    F.cross_entropy(model(xs[2][0][lo:lo + B]), xs[2][1][lo:lo + B]).backward()
    ddp_opt.step()
    ref_opt.zero_grad()
    for x, y in xs:
        F.cross_entropy(ref(x), y).backward()
    ref_opt.step()
    diff = max_diff(ref, model.module)
    ok = unsynced and diff < TOL and same_on_all_ranks(model.module)
    say(f"no_sync: 2 local micro-batches then 1 synced: grads differ between ranks inside no_sync: {unsynced}; "
        f"max |ddp - single| = {diff:.2e} {'ok' if ok else 'FAIL'}")
    return ok


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(6, 8)
        self.heads = nn.ModuleList([nn.Linear(8, 3) for _ in range(N)])
        self.never = nn.Linear(8, 3)

    def forward(self, x, head):
        return self.heads[head](torch.tanh(self.body(x)))


def unused_parameters():
    """Rank r uses only head r; `never` is used by no rank and keeps grad None."""
    torch.manual_seed(0)
    ref = TwoHeads()
    torch.manual_seed(0)
    model = DDP(TwoHeads(), find_unused_parameters=True)
    x, y = data(77, (6,), 3, 5)
    lo = RANK * 5
    F.cross_entropy(model(x[lo:lo + 5], RANK), y[lo:lo + 5]).backward()
    total = sum(F.cross_entropy(ref(x[r * 5:r * 5 + 5], r), y[r * 5:r * 5 + 5]) for r in range(N)) / N
    total.backward()
    diffs = [float((p.grad - q.grad).abs().max()) for p, q in zip(ref.parameters(), model.module.parameters())
             if q.grad is not None]
    nones = [n for n, p in model.module.named_parameters() if p.grad is None]
    ok = max(diffs) < TOL and nones == ["never.weight", "never.bias"]
    say(f"unused parameters: grads match the single-process average ({max(diffs):.2e}); no grad for {nones} "
        f"{'ok' if ok else 'FAIL'}")
    return ok


def sampler_partitions():
    ok = True
    for n, drop_last in ((103, False), (103, True), (100, False)):
        s = DistributedSampler(range(n), shuffle=True, seed=7, drop_last=drop_last)
        seen = {}
        for epoch in (0, 1):
            s.set_epoch(epoch)
            parts = []
            dist.all_gather_object(parts, list(s))
            seen[epoch] = parts
            flat = [i for p in parts for i in p]
            equal = len({len(p) for p in parts}) == 1 and len(parts[0]) == len(s)
            if drop_last:
                good = equal and len(set(flat)) == len(flat) == n // N * N
            else:
                good = equal and set(flat) == set(range(n)) and len(flat) == -(-n // N) * N
                good = good and (n % N != 0 or len(set(flat)) == len(flat))
            ok = ok and good
        again = DistributedSampler(range(n), shuffle=True, seed=7, drop_last=drop_last)
        again.set_epoch(1)
        ok = ok and list(again) == seen[1][RANK] and seen[0] != seen[1]
    say(f"DistributedSampler: shares disjoint, complete, equal in size, reproducible, new order each epoch "
        f"{'ok' if ok else 'FAIL'}")
    return ok


def checkpoint_resume(path):
    """Rank 0 writes the checkpoint (atomically); every rank resumes from it and continues identically."""
    torch.manual_seed(0)
    model = DDP(mlp())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(m, o, k):
        x, y = data(200 + k, (20,), 5, 4)
        o.zero_grad()
        F.cross_entropy(m(x[RANK * 4:RANK * 4 + 4]), y[RANK * 4:RANK * 4 + 4]).backward()
        o.step()

    for k in range(2):
        step(model, opt, k)
    if RANK == 0:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, path)
    dist.barrier()
    torch.manual_seed(5 + RANK)
    resumed = DDP(mlp())
    ropt = torch.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    ck = torch.load(path)
    resumed.load_state_dict(ck["model"])
    ropt.load_state_dict(ck["opt"])
    for k in range(2, 4):
        step(model, opt, k)
        step(resumed, ropt, k)
    leftovers = [f for f in os.listdir(os.path.dirname(path)) if f != os.path.basename(path)]
    ok = max_diff(model, resumed) == 0 and not leftovers and list(ck["model"])[0].startswith("module.")
    say(f"checkpoint: written by rank 0, resumed on every rank, training continues identically "
        f"{'ok' if ok else 'FAIL'}")
    return ok


def rewrap():
    """A DistributedDataParallel that is gone leaves no hook behind: the module can be wrapped again."""
    import gc

    net = mlp()
    first = DDP(net)
    del first
    gc.collect()
    left = sum(len(p.__dict__.get("_post_acc_hooks", {})) for p in net.parameters())
    model = DDP(net)
    x, y = data(300, (20,), 5, 4)
    F.cross_entropy(model(x[RANK * 4:RANK * 4 + 4]), y[RANK * 4:RANK * 4 + 4]).backward()
    ok = left == 0 and model.overlapped_buckets == 1
    say(f"re-wrapping: hooks left by a deleted DDP: {left} {'ok' if ok else 'FAIL'}")
    return ok


def sgd(lr, momentum=0.0):
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum)


results = [
    equivalence("MLP", mlp, (20,), 5, steps=6, per_rank=8, opt=sgd(0.1, 0.9)),
    equivalence("MLP, 1 KB buckets", mlp, (20,), 5, steps=6, per_rank=8, opt=sgd(0.1, 0.9), bucket_cap_mb=0.001),
    equivalence("convnet", ConvNet, (1, 28, 28), 10, steps=3, per_rank=8, opt=sgd(0.1)),
    no_sync_accumulation(),
    unused_parameters(),
    sampler_partitions(),
    rewrap(),
]
if len(sys.argv) > 1:
    results.append(checkpoint_resume(os.path.join(sys.argv[1], "ckpt.pt")))
flags = [False] * N
dist.all_gather_object(flags, all(results))
say("DDP OK" if all(flags) else "DDP FAILED")
dist.destroy_process_group()
