"""One training step of an MLP 784-256-10 (Linear, ReLU, Linear, CrossEntropyLoss, SGD) at batch 64,
tapegrad against PyTorch in the same process with the same number of threads. Both models start
from the same state_dict. Prints the median time per step of each, and tapegrad/torch.

    python benchmarks/bench_mlp.py [--steps 200] [--repeats 5] [--threads 2] [--batch 64]
"""
import argparse
import os
import statistics
import time


def make_step(m, batch, X, Y, lr=0.01):
    """A training step written once for both frameworks (`m` is tapegrad or torch)."""
    nn = m.nn
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = m.optim.SGD(model.parameters(), lr=lr)
    xs = [m.from_numpy(X[i:i + batch]) for i in range(0, len(X), batch)]
    ys = [m.from_numpy(Y[i:i + batch]) for i in range(0, len(Y), batch)]
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        opt.zero_grad()
        loss = loss_fn(model(xs[i]), ys[i])
        loss.backward()
        opt.step()
        return loss

    return model, step


def timed(step, steps, repeats, clock):
    for _ in range(10):  # warm up
        step()
    per_step = []
    for _ in range(repeats):
        t0 = clock()
        for _ in range(steps):
            step()
        per_step.append((clock() - t0) / steps)
    return statistics.median(per_step)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--cpu-time", action="store_true",
                   help="time with the process's CPU clock instead of the wall clock: steadier on a shared "
                        "machine, and comparable when --threads 1 (idle BLAS threads may spin and count)")
    args = p.parse_args()
    # NumPy's BLAS reads its thread count when it loads: set it first, so both frameworks get the same
    # number of threads even where tapegrad.set_num_threads has no threadpoolctl to act through
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import tapegrad
    import torch

    torch.set_num_threads(args.threads)
    tapegrad.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.batch * 16, 784)).astype(np.float32)
    Y = rng.integers(0, 10, args.batch * 16).astype(np.int64)

    tmodel, tstep = make_step(torch, args.batch, X, Y)
    gmodel, gstep = make_step(tapegrad, args.batch, X, Y)
    gmodel.load_state_dict(tmodel.state_dict())
    # the same losses for the first steps: both run the same computation
    for _ in range(3):
        lt, lg = tstep().item(), gstep().item()
        assert abs(lt - lg) <= 1e-4 * max(1.0, abs(lt)), (lt, lg)

    clock = time.process_time if args.cpu_time else time.perf_counter
    results = {}
    for _ in range(2):  # interleave the two frameworks, so drift in machine load hits both
        for name, step in (("torch", tstep), ("tapegrad", gstep)):
            results.setdefault(name, []).append(timed(step, args.steps, args.repeats, clock))
    t_torch = min(results["torch"])
    t_tg = min(results["tapegrad"])
    clock_name = "CPU time" if args.cpu_time else "wall time"
    print(f"MLP 784-256-10, batch {args.batch}, SGD step, {args.threads} threads, {clock_name}")
    print(f"torch     {t_torch * 1e6:8.1f} us/step")
    print(f"tapegrad  {t_tg * 1e6:8.1f} us/step")
    print(f"tapegrad/torch {t_tg / t_torch:.2f}")


if __name__ == "__main__":
    main()
