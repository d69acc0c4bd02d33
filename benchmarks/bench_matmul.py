"""Matrix product 1024x1024 float32, forward + backward (three products), against NumPy doing the
same three products directly and against PyTorch. Prints medians and ratios.

    python benchmarks/bench_matmul.py [--n 1024] [--repeats 7]
"""
import argparse
import statistics
import time

import numpy as np


def timed(fn, repeats):
    fn()  # warm up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    import tapegrad

    n = args.n
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    G = np.ones((n, n), np.float32)

    def numpy_three():
        C = A @ B
        ga = G @ B.T
        gb = A.T @ G
        return C, ga, gb

    a = tapegrad.from_numpy(A).requires_grad_()
    b = tapegrad.from_numpy(B).requires_grad_()

    def tapegrad_fb():
        a.grad = b.grad = None
        (a @ b).backward(tapegrad.from_numpy(G))

    t_np = timed(numpy_three, args.repeats)
    t_tg = timed(tapegrad_fb, args.repeats)
    flops = 3 * 2 * n ** 3
    line = (f"matmul {n}x{n} fwd+bwd: numpy {t_np * 1e3:.1f} ms ({flops / t_np / 1e9:.0f} GFLOP/s), "
            f"tapegrad {t_tg * 1e3:.1f} ms, tapegrad/numpy {t_tg / t_np:.3f}")
    try:
        import torch

        ta = torch.from_numpy(A).requires_grad_()
        tb = torch.from_numpy(B).requires_grad_()
        tG = torch.from_numpy(G)

        def torch_fb():
            ta.grad = tb.grad = None
            (ta @ tb).backward(tG)

        t_pt = timed(torch_fb, args.repeats)
        line += f", torch {t_pt * 1e3:.1f} ms, tapegrad/torch {t_tg / t_pt:.3f}"
    except ImportError:
        pass
    print(line)


if __name__ == "__main__":
    main()
