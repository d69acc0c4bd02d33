"""Per-op overhead: y = ((a * b) + a).sum(); y.backward() on 4x4 float32 tensors, 10,000 iterations,
and the same forward under no_grad. Prints tapegrad's and PyTorch's time per iteration and the ratio.

    python benchmarks/bench_overhead.py [--iters 10000] [--repeats 5]
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


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iters", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    import tapegrad
    import torch

    torch.set_num_threads(1)
    for grad, label in ((True, "forward+backward"), (False, "no_grad forward")):
        tg = [loop(tapegrad, grad, args.iters) for _ in range(args.repeats)]
        pt = [loop(torch, grad, args.iters) for _ in range(args.repeats)]
        mt, mp = statistics.median(tg), statistics.median(pt)
        print(f"{label:18s} tapegrad {mt:7.2f} us/iter   torch {mp:7.2f} us/iter   ratio {mt / mp:.2f}")


if __name__ == "__main__":
    main()
