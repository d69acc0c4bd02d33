"""Matrix product 1024x1024 float32, forward + backward (three products), against NumPy doing the
same three products directly and against PyTorch. Prints medians and ratios.

    python benchmarks/bench_matmul.py [--n 1024] [--repeats 7] [--rounds 3] [--threads N]

Two tapegrad lines: as a program of products alone runs (NumPy's BLAS does the products on its own
threads), and after a convolution has engaged tapegrad's own thread pool (the BLAS then runs
single-threaded and tapegrad splits each product by rows over its threads; see tapegrad/_threads.py).
NumPy is always timed with its BLAS at the same thread count, set explicitly: tapegrad's switch to a
single-threaded BLAS also applies to plain NumPy code in the process, which would make NumPy look slow.
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
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, help="thread count for all three (default: tapegrad's default, the "
                                                "usable cores)")
    args = p.parse_args()
    import tapegrad
    from tapegrad import _threads

    threads = args.threads or tapegrad.get_num_threads()
    tapegrad.set_num_threads(threads)
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

    def numpy_timed():
        """NumPy's own products with its BLAS at `threads` threads, whatever tapegrad has set."""
        before = _threads.blas_threads()
        _threads._set_blas_threads(threads)
        try:
            return timed(numpy_three, args.repeats)
        finally:
            if before is not None:
                _threads._set_blas_threads(before)

    a = tapegrad.from_numpy(A).requires_grad_()
    b = tapegrad.from_numpy(B).requires_grad_()

    def tapegrad_fb():
        a.grad = b.grad = None
        (a @ b).backward(tapegrad.from_numpy(G))

    flops = 3 * 2 * n ** 3
    # interleaved rounds (the best median of each), so that drift in the machine's load hits both
    t_np, t_tg = [], []
    for _ in range(args.rounds):
        t_np.append(numpy_timed())
        t_tg.append(timed(tapegrad_fb, args.repeats))
    # a convolution engages tapegrad's own pool (as in a convnet): BLAS single-threaded from here on
    F = tapegrad.nn.functional
    F.conv2d(tapegrad.randn(64, 1, 28, 28), tapegrad.randn(32, 1, 5, 5))
    engaged = _threads.intraop_threads() > 1
    t_own = []
    for _ in range(args.rounds):
        t_np.append(numpy_timed())
        t_own.append(timed(tapegrad_fb, args.repeats))
    t_np, t_tg, t_own = min(t_np), min(t_tg), min(t_own)
    print(f"matmul {n}x{n} fwd+bwd, {threads} threads: numpy {t_np * 1e3:.1f} ms ({flops / t_np / 1e9:.0f} GFLOP/s)")
    line = f"  tapegrad, BLAS threads        {t_tg * 1e3:6.1f} ms, tapegrad/numpy {t_tg / t_np:.3f}"
    try:
        import torch

        torch.set_num_threads(threads)
        ta = torch.from_numpy(A).requires_grad_()
        tb = torch.from_numpy(B).requires_grad_()
        tG = torch.from_numpy(G)

        def torch_fb():
            ta.grad = tb.grad = None
            (ta @ tb).backward(tG)

        t_pt = timed(torch_fb, args.repeats)
        line += f", torch {t_pt * 1e3:.1f} ms, tapegrad/torch {t_tg / t_pt:.3f}"
    except ImportError:
        t_pt = None
    print(line)
    if engaged:
        line = f"  tapegrad, own threads (after a convolution) {t_own * 1e3:6.1f} ms, tapegrad/numpy {t_own / t_np:.3f}"
        if t_pt is not None:
            line += f", tapegrad/torch {t_own / t_pt:.3f}"
        print(line)
    else:
        print("  (tapegrad's own pool not engaged: one thread, or the BLAS cannot be reached)")


if __name__ == "__main__":
    main()
