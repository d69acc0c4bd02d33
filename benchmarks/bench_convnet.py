"""One epoch of the lectures' MNIST convnet with SGD: tapegrad vs PyTorch eager on the CPU.

    python benchmarks/bench_convnet.py              # 600 steps of batch 100 (one epoch of 60000 images)
    python benchmarks/bench_convnet.py --steps 100  # a shorter run, scaled to seconds per epoch

Each framework runs in its own subprocess (same data, same thread count) so that its peak
resident memory can be read with resource.getrusage. Training images: MNIST's training set if
present at --data, else its test set (10000 images, cycled), else synthetic random images.

By default tapegrad runs as any program would: its first convolution engages its own thread pool
(OpenBLAS single-threaded, convolution, pooling and large products split over tapegrad's threads;
see tapegrad/_threads.py). --blas-threads N (N > 1) gives OpenBLAS N threads again after the warm-up
steps, which makes tapegrad leave the products to OpenBLAS's threads and split nothing itself: the
path of earlier versions, for comparison.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_data(data_dir, n):
    import numpy as np

    for prefix in ("train", "t10k"):
        img = os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz")
        lab = os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz")
        if os.path.exists(img) and os.path.exists(lab):
            with gzip.open(img, "rb") as f:
                x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
            with gzip.open(lab, "rb") as f:
                y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
            x = ((x.astype(np.float32) / 255.0 - 0.1307) / 0.3081).astype(np.float32)
            reps = -(-n // len(x))
            return np.concatenate([x] * reps)[:n], np.concatenate([y] * reps)[:n], f"MNIST {prefix} images"
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n).astype(np.int64),
            "synthetic random images")


def worker(framework, steps, batch, threads, data_dir, blas_threads=None):
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    import resource

    import numpy as np

    if framework == "torch":
        import torch
    else:
        sys.path.insert(0, ROOT)
        import tapegrad as torch
    torch.set_num_threads(threads)
    nn, F = torch.nn, torch.nn.functional

    class Flattener(nn.Module):
        def forward(self, x):
            return x.view(x.size(0), -1)

    model = nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(3), nn.ReLU(), nn.Conv2d(32, 64, 5), nn.MaxPool2d(2),
                          nn.ReLU(), Flattener(), nn.Linear(256, 200), nn.ReLU(), nn.Linear(200, 10))
    # both frameworks start from the same weights (PyTorch's default init ranges, drawn with NumPy)
    rng = np.random.default_rng(0)
    state, bound = {}, 1.0
    for name, value in model.state_dict().items():
        shape = tuple(value.shape)
        if name.endswith("weight"):
            bound = 1 / np.sqrt(np.prod(shape[1:]))
        state[name] = torch.tensor(rng.uniform(-bound, bound, shape).astype(np.float32))
    model.load_state_dict(state)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
    x, y, source = load_data(data_dir, steps * batch)
    xs = [torch.tensor(x[i * batch:(i + 1) * batch]) for i in range(steps)]
    ys = [torch.tensor(y[i * batch:(i + 1) * batch]) for i in range(steps)]

    def step(i):
        loss = criterion(model(xs[i]), ys[i])
        model.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    for i in range(min(3, steps)):  # warm-up (allocator, thread pools)
        step(i)
    if framework == "tapegrad" and blas_threads is not None:
        from tapegrad import _threads

        ob = _threads._openblas()
        if ob is None:
            raise SystemExit("--blas-threads needs the OpenBLAS bundled with NumPy")
        ob[0](blas_threads)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    blocks, tb = [], t0          # per 10-step block: the fastest block shows the speed without interference
    last = []
    for i in range(steps):
        loss = step(i)
        if i >= steps - 10:
            last.append(float(loss.item()))
        if (i + 1) % 10 == 0:
            loss.item()
            now = time.perf_counter()
            blocks.append((now - tb) / 10)
            tb = now
    seconds = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    pool = ""
    if framework == "tapegrad":
        from tapegrad import _threads

        pool = "tapegrad's pool, OpenBLAS 1 thread" if _threads.intraop_threads() > 1 else \
            f"OpenBLAS {_threads.blas_threads()} threads, no tapegrad split"
    print(json.dumps({"framework": framework, "seconds": seconds, "cpu_seconds": cpu, "steps": steps, "pool": pool,
                      "best_block": min(blocks) if blocks else seconds / steps,
                      "loss": sum(last) / len(last), "peak_rss_mb": r1.ru_maxrss / 1024, "data": source}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=600, help="SGD steps (600 x batch 100 = one MNIST epoch)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="/work/shared/data/mnist", help="folder with MNIST idx .gz files")
    ap.add_argument("--only", choices=["torch", "tapegrad"], help="run one framework")
    ap.add_argument("--blas-threads", type=int, help="tapegrad only: give OpenBLAS this many threads after the "
                    "warm-up (N > 1: OpenBLAS's threads do the products and tapegrad splits nothing, the path of "
                    "earlier versions; 1: the default)")
    ap.add_argument("--worker", choices=["torch", "tapegrad"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.batch, args.threads, args.data, args.blas_threads)
        return
    results = {}
    for fw in ([args.only] if args.only else ["torch", "tapegrad"]):
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
                   MKL_NUM_THREADS=str(args.threads))
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", fw, "--steps", str(args.steps),
               "--batch", str(args.batch), "--threads", str(args.threads), "--data", args.data]
        if args.blas_threads is not None:
            cmd += ["--blas-threads", str(args.blas_threads)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if out.returncode != 0:
            sys.stderr.write(out.stderr)
            raise SystemExit(f"{fw} worker failed")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results[fw] = r
        per_epoch = r["seconds"] / r["steps"] * (60000 / args.batch)
        blas = f"; {r['pool']}" if r.get("pool") else ""
        print(f"{fw:9s} {per_epoch:6.2f} s/epoch ({1000 * r['seconds'] / r['steps']:.1f} ms/step over {r['steps']} "
              f"steps, fastest 10-step block {1000 * r['best_block']:.1f} ms/step; CPU {r['cpu_seconds'] / r['seconds']:.2f} "
              f"cores busy), peak RSS {r['peak_rss_mb']:.0f} MB, mean loss of the last 10 steps {r['loss']:.3f}  [{r['data']}, "
              f"{args.threads} threads{blas}]")
    if len(results) == 2:
        ratio = results["tapegrad"]["seconds"] / results["torch"]["seconds"]
        cpu_ratio = results["tapegrad"]["cpu_seconds"] / results["torch"]["cpu_seconds"]
        best = results["tapegrad"]["best_block"] / results["torch"]["best_block"]
        print(f"ratio tapegrad/torch: {ratio:.2f}x wall time ({best:.2f}x fastest blocks), {cpu_ratio:.2f}x CPU time")
        if os.getloadavg()[0] > args.threads * 1.5:
            print(f"warning: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; other processes "
                  "distort these timings")


if __name__ == "__main__":
    main()
