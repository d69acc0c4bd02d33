"""Per-op overhead: y = ((a * b) + a).sum(); y.backward() on 4x4 float32 tensors, 10,000 iterations,
and the same forward under no_grad. Prints tapegrad's and PyTorch's time per iteration and the ratio.

The two frameworks run in alternation (tapegrad, torch, torch, tapegrad, ...), so that a slow spell of the
shared machine weighs on both; the ratio printed is the median of the per-round ratios, and the ratio of
the fastest rounds is printed beside it.

    python benchmarks/bench_overhead.py [--iters 10000] [--repeats 7]
"""
import argparse
import statistics
import time


def loop(mod, grad, iters):
    a = mod.randn(4, 4, requires_grad=True)
    b = mod.randn(4, 4, requires_grad=True)
    t0 = time.perf_counter()
    if grad:
        for _ in range(iters):
            y = ((a * b) + a).sum()
            y.backward()
    else:
        with mod.no_grad():
            for _ in range(iters):
                y = ((a * b) + a).sum()
    return (time.perf_counter() - t0) / iters * 1e6


def rounds(tapegrad, torch, grad, iters, repeats):
    """(tapegrad times, torch times), one pair per round, the order alternating between rounds."""
    tg, pt = [], []
    for r in range(repeats):
        if r % 2:
            pt.append(loop(torch, grad, iters))
            tg.append(loop(tapegrad, grad, iters))
        else:
            tg.append(loop(tapegrad, grad, iters))
            pt.append(loop(torch, grad, iters))
    return tg, pt


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iters", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    import tapegrad
    import torch

    torch.set_num_threads(1)
    for grad, label in ((True, "forward+backward"), (False, "no_grad forward")):
        loop(tapegrad, grad, args.iters // 10)  # warm both up: first calls, caches
        loop(torch, grad, args.iters // 10)
        tg, pt = rounds(tapegrad, torch, grad, args.iters, args.repeats)
        ratio = statistics.median(t / p for t, p in zip(tg, pt))
        print(f"{label:18s} tapegrad {statistics.median(tg):7.2f} us/iter   torch {statistics.median(pt):7.2f} "
              f"us/iter   ratio {ratio:.2f} (fastest rounds: {min(tg) / min(pt):.2f})")


if __name__ == "__main__":
    main()
