"""`tapegrad experiment convnet --workers N`: the lectures' convnet trained data-parallel on N MPI processes
(DistributedDataParallel, DistributedSampler), next to the same training on one process.

Both runs are `mpirun -n K python -m tapegrad.distributed._experiment SPEC RESULT`, each process pinned to
one core and one BLAS thread, so that the times compare like with like. The global batch is the same
(--batch-size, split evenly over the workers) and DistributedSampler draws the same permutation for any
number of workers, so each step sees the same examples in both runs: the models should agree up to
float32 rounding, and the table shows it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np


def mpirun_command(n, threads=1):
    """`mpirun -n n` with the flags a single machine needs (Open MPI: oversubscription, root in CI, one core
    per process when they fit), or a RuntimeError when there is no mpirun."""
    found = shutil.which("mpirun")
    if not found:
        raise RuntimeError("needs MPI: apt-get install openmpi-bin libopenmpi-dev, then pip install mpi4py")
    mpirun = os.path.realpath(found)
    cmd = [mpirun, "-n", str(n)]
    version = subprocess.run([mpirun, "--version"], capture_output=True, text=True).stdout
    if "Open MPI" in version or "OpenRTE" in version:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        cmd += ["--bind-to", "core" if n * threads <= cores else "none", "--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]
    return cmd


def run_convnet(args, out):
    """The experiment's driver (one process): launches the 1-process and the N-process runs, prints the table
    and writes NAME.csv; returns the files written."""
    from ..experiments._common import ExperimentError, Table, fmt_pct, say

    import importlib.util

    workers = args.workers
    if importlib.util.find_spec("mpi4py") is None or not shutil.which("mpirun"):
        raise ExperimentError("--workers needs MPI: apt-get install openmpi-bin libopenmpi-dev, "
                              "then pip install mpi4py")
    if args.batch_size % workers:
        raise ExperimentError(f"--batch-size {args.batch_size} does not split evenly over --workers {workers}")
    spec = {k: v for k, v in vars(args).items() if isinstance(v, (int, float, str, bool, type(None)))}
    runs = {}
    with tempfile.TemporaryDirectory(prefix="tapegrad-convnet-") as tmp:
        spec_path = os.path.join(tmp, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        for k in (1, workers):
            say(f"training on {k} process{'es' if k > 1 else ''} (mpirun -n {k}, one core and one thread each, "
                f"batch {args.batch_size // k} per process)")
            result = os.path.join(tmp, f"result{k}.json")
            env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
            try:
                cmd = mpirun_command(k) + [sys.executable, "-m", "tapegrad.distributed._experiment", spec_path, result]
            except RuntimeError as exc:
                raise ExperimentError(f"--workers: {exc}") from None
            proc = subprocess.run(cmd, env=env)
            if proc.returncode != 0 or not os.path.exists(result):
                raise ExperimentError(f"the {k}-process run failed (exit code {proc.returncode}); its output is above")
            with open(result) as f:
                runs[k] = json.load(f)
            runs[k]["params"] = np.load(result + ".npy")
    one, many = runs[1]["rows"], runs[workers]["rows"]
    n = f"{workers} procs"
    table = Table([("epoch", "epoch", "d"), ("train_loss_1", "train loss 1 proc", ".4f"),
                   ("train_loss_n", f"train loss {n}", ".4f"), ("test_error_1", "test error 1 proc", fmt_pct),
                   ("test_error_n", f"test error {n}", fmt_pct), ("time_s_1", "time (s) 1 proc", ".1f"),
                   ("time_s_n", f"time (s) {n}", ".1f"), ("speedup", "speed-up", ".2f")])
    for a, b in zip(one, many):
        table.add(dict(epoch=a["epoch"], train_loss_1=a["train_loss"], train_loss_n=b["train_loss"],
                       test_error_1=a["test_error"], test_error_n=b["test_error"], time_s_1=a["time_s"],
                       time_s_n=b["time_s"], speedup=a["time_s"] / b["time_s"], workers=workers))
    diff = float(np.abs(runs[1]["params"] - runs[workers]["params"]).max())
    t1, tn = sum(r["time_s"] for r in one), sum(r["time_s"] for r in many)
    say(f"{workers} processes: {tn:.1f} s of training against {t1:.1f} s on one ({t1 / tn:.2f}x); final models "
        f"differ by at most {diff:.1e} per parameter (the same examples in every step; float32 rounding only)")
    if runs[workers].get("padded"):
        say(f"note: DistributedSampler padded the training set by {runs[workers]['padded']} repeated examples so "
            f"that the {workers} shares are equal")
    path = out.path(".csv")
    table.write_csv(path, keys=["epoch", "workers", "train_loss_1", "train_loss_n", "test_error_1", "test_error_n",
                                "time_s_1", "time_s_n", "speedup"])
    return [path]


def _worker(spec_path, result_path):
    """One MPI process of a run: DDP training of the convnet on this rank's share of every batch."""
    import tapegrad as torch
    import tapegrad.distributed as dist
    from tapegrad.nn.parallel import DistributedDataParallel
    from tapegrad.utils.data import DataLoader, TensorDataset
    from tapegrad.utils.data.distributed import DistributedSampler

    from ..experiments import _data, _train
    from ..experiments._common import say

    with open(spec_path) as f:
        args = argparse.Namespace(**json.load(f))
    dist.init_process_group("mpi")
    rank, n = dist.get_rank(), dist.get_world_size()
    data = _data.load_from_args(args, None)
    torch.manual_seed(args.seed)
    model = DistributedDataParallel(_train.ConvNet())
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    train = TensorDataset(data.x_train, data.y_train)
    sampler = DistributedSampler(train, num_replicas=n, rank=rank, shuffle=True, seed=args.seed)
    batches = DataLoader(train, batch_size=args.batch_size // n, sampler=sampler)
    rows = []
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        dist.barrier()
        start = time.perf_counter()
        loss, error = _train.train_epoch(model, batches, optimizer)
        dist.barrier()
        seconds = time.perf_counter() - start
        stats = torch.tensor([loss, error], dtype=torch.float64)
        dist.all_reduce(stats, op=dist.ReduceOp.AVG)  # equal shares: the mean of the means
        if rank == 0:
            test_loss, test_error = _train.evaluate(model.module, data.x_test, data.y_test)
            rows.append(dict(epoch=epoch, train_loss=stats[0].item(), train_error=stats[1].item(),
                             test_loss=test_loss, test_error=test_error, time_s=seconds))
            say(f"  [{n} process{'es' if n > 1 else ''}] epoch {epoch}: train loss {stats[0].item():.4f}, "
                f"test error {100 * test_error:.2f}%, {seconds:.1f} s")
    if rank == 0:
        np.save(result_path + ".npy", np.concatenate([p.detach().numpy().ravel() for p in model.module.parameters()]))
        with open(result_path, "w") as f:
            json.dump({"rows": rows, "padded": sampler.total_size - len(train)}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    _worker(*sys.argv[1:3])
