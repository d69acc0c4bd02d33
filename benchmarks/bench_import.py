"""Time of `import tapegrad` (and, for reference, `import numpy` and `import torch`) in fresh
interpreters; medians of several runs. Bytecode caching is switched on for the children and warmed
by one untimed import first, as for an installed package (with PYTHONDONTWRITEBYTECODE=1 every
import recompiles the sources, which is not what users see).

    python benchmarks/bench_import.py [--repeats 7]
"""
import argparse
import os
import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import {m}; print(time.perf_counter() - t)"


def import_time(module, repeats):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, env=env)  # warm the caches
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", CODE.format(m=module)], capture_output=True, text=True, env=env)
        if out.returncode != 0:
            return None
        times.append(float(out.stdout))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--repeats", type=int, default=7)
    args = p.parse_args()
    results = {m: import_time(m, args.repeats) for m in ("numpy", "tapegrad", "torch")}
    for m, t in results.items():
        print(f"import {m:9s} {'unavailable' if t is None else f'{t:.3f} s'}")
    if results["torch"]:
        print(f"tapegrad/torch {results['tapegrad'] / results['torch']:.2f}")


if __name__ == "__main__":
    main()
