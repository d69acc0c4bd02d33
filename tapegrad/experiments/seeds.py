"""Seed variance: the same training run repeated over N seeds, in parallel processes.

Parallelism: a pool of `--workers` processes started with the "spawn" method. Each worker is limited
to one BLAS thread, so that N workers use N cores instead of fighting over them: the pool is started
with OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS, VECLIB_MAXIMUM_THREADS, BLIS_NUM_THREADS
and NUMEXPR_NUM_THREADS set to 1 in the environment the children inherit (a spawned child imports
NumPy afresh, so its BLAS reads them at start-up); the parent's environment is restored right after.
Where threadpoolctl is installed, each worker also calls threadpool_limits(1).
With --workers 1 the runs happen in this process, one after another, with all BLAS threads.
"""
import math
import multiprocessing
import os
import time

import tapegrad as torch

from . import _data, _train
from ._common import (ExperimentError, Table, add_data_options, fmt_pct, make_parser, positive_float, positive_int,
                      say, write_csv)

NAME = "seeds"
SUMMARY = "one training run repeated over N seeds in parallel: worst / median / best test error"

DESCRIPTION = """\
The same training run (model, data, hyperparameters) repeated with seeds S, S+1, ..., S+N-1: the
seed sets the initial weights and the order of the mini-batches. The spread of the test errors is
the noise floor under any comparison of two trainings. The lectures report, for 100 runs of their
MNIST convnet (10 epochs): worst 1.3%, median 1.0%, best 0.82%.

Runs go to --workers processes (default: one per core), each limited to one BLAS thread.

examples:
  tapegrad experiment seeds --runs 8 --epochs 1 --train-size 10000
  tapegrad experiment seeds --runs 100 --epochs 10          # the lectures' study (hours on a laptop)"""

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "BLIS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=1, data=True, epochs_help="training epochs of each run")
    add_data_options(p)
    g = p.add_argument_group("runs")
    g.add_argument("--runs", type=positive_int, default=10, metavar="N", help="number of seeds (default: 10)")
    g.add_argument("--workers", type=positive_int, default=None, metavar="W",
                   help=f"parallel processes (default: one per core, here {os.cpu_count() or 1})")
    g.add_argument("--model", choices=["convnet", "mlp"], default="convnet",
                   help="the lectures' convnet, or a one-hidden-layer MLP (faster) (default: convnet)")
    g.add_argument("--width", type=positive_int, default=128, help="hidden units of --model mlp (default: 128)")
    g.add_argument("--lr", type=positive_float, default=0.1, help="SGD learning rate (default: 0.1)")
    g.add_argument("--batch-size", type=positive_int, default=100, help="mini-batch size (default: 100)")
    return p


# ---------------------------------------------------------------- the work of one run (in a worker)
_state = {}


def _init_worker():
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the parent's to handle: it terminates the pool
    try:
        from threadpoolctl import threadpool_limits

        _state["limits"] = threadpool_limits(1)
    except ImportError:  # the environment variables set by the parent already hold
        pass


def _one_run(job):
    spec, seed = job
    if _state.get("key") != spec["key"]:
        _state["data"] = _data.load(spec["source"], spec["train_size"], spec["test_size"])
        _state["key"] = spec["key"]
    data = _state["data"]
    torch.manual_seed(seed)
    model = _train.ConvNet() if spec["model"] == "convnet" else _train.mlp(spec["width"])
    writer = None
    if spec["tensorboard"]:
        from tapegrad.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=os.path.join(spec["tensorboard"], f"seed={seed}"))
    start = time.perf_counter()

    def on_epoch(epoch, loss, err, seconds):
        if writer is not None:
            writer.add_scalar("train/loss", loss, epoch)
            writer.add_scalar("train/error", err, epoch)

    try:
        train_loss, train_error = _train.fit(model, data.x_train, data.y_train, epochs=spec["epochs"], lr=spec["lr"],
                                             batch_size=spec["batch_size"], seed=seed, on_epoch=on_epoch)
        test_error = _train.evaluate(model, data.x_test, data.y_test)[1]
        if writer is not None:
            writer.add_scalar("test/error", test_error, spec["epochs"])
    finally:
        if writer is not None:
            writer.close()
    return dict(seed=seed, train_loss=train_loss, train_error=train_error, test_error=test_error,
                time_s=time.perf_counter() - start, pid=os.getpid(), blas_threads=torch.get_num_threads())


def _pool(workers):
    """A spawn pool whose workers start with one BLAS thread each."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update({k: "1" for k in THREAD_VARS})
    try:
        return multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------- the study
def summary(errors):
    e = sorted(errors)
    n = len(e)
    median = e[n // 2] if n % 2 else (e[n // 2 - 1] + e[n // 2]) / 2
    mean = sum(e) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in e) / (n - 1)) if n > 1 else 0.0
    return dict(worst=e[-1], median=median, best=e[0], mean=mean, std=std, spread=e[-1] - e[0])


def run(args, out):
    source, note = _data.find(args.data, args.dataset)
    if note:
        say("note: " + note)
    data = _data.load(source, args.train_size, args.test_size)   # here first: a bad file fails before the pool
    say("data: " + data.describe())
    workers = min(args.workers or os.cpu_count() or 1, args.runs)
    seeds = [args.seed + i for i in range(args.runs)]
    spec = dict(key=(source.key, source.where, args.train_size, args.test_size), source=source,
                train_size=args.train_size, test_size=args.test_size, model=args.model, width=args.width,
                lr=args.lr, batch_size=args.batch_size, epochs=args.epochs,
                tensorboard=os.path.join(args.tensorboard, NAME) if args.tensorboard else None)
    what = "the lectures' convnet" if args.model == "convnet" else f"an MLP 784-{args.width}-10"
    say(f"{args.runs} runs of {what}, SGD lr {args.lr}, batch {args.batch_size}, {args.epochs} epoch(s), seeds "
        f"{seeds[0]}..{seeds[-1]}, on {workers} worker process(es)" + (" with 1 BLAS thread each" if workers > 1 else ""))
    table = Table([("seed", "seed", "d"), ("train_loss", "train loss", ".4f"), ("test_error", "test error", fmt_pct),
                   ("time_s", "time (s)", ".1f")])
    jobs = [(spec, s) for s in seeds]
    start = time.perf_counter()
    bar = out.progress(total=args.runs, desc="runs", unit="run")
    try:
        if workers == 1:
            _state.update(key=spec["key"], data=data)
            results = map(_one_run, jobs)
            pool = None
        else:
            del data
            _state.clear()
            pool = _pool(workers)
            results = pool.imap_unordered(_one_run, jobs)
        try:
            for r in results:
                bar.update(1)
                table.add(r)
        except ExperimentError:
            raise
        except Exception as exc:
            raise ExperimentError(f"a run failed in a worker: {type(exc).__name__}: {exc}") from exc
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    finally:
        bar.close()
        _state.clear()
    wall = time.perf_counter() - start
    rows = sorted(table.rows, key=lambda r: r["seed"])
    s = summary([r["test_error"] for r in rows])
    busy = sum(r["time_s"] for r in rows)
    say(f"\ntest error over {args.runs} runs:")
    Table([(k, k, fmt_pct) for k in ("worst", "median", "best", "mean", "std", "spread")]).add(s)
    say(f"{args.runs} runs: worst {fmt_pct(s['worst'])} / median {fmt_pct(s['median'])} / best {fmt_pct(s['best'])}"
        f" (the lectures, 100 MNIST convnet runs of 10 epochs: 1.3% / 1.0% / 0.82%)")
    say(f"time: {wall:.1f} s wall for {busy:.1f} s of runs on {workers} worker(s) ({busy / wall:.1f}x)")
    write_csv(out.path(".csv"), rows, ["seed", "train_loss", "train_error", "test_error", "time_s", "pid",
                                       "blas_threads"])
    summary_path = out.path("_summary.csv")
    write_csv(summary_path, [dict(statistic=k, test_error=v) for k, v in s.items()], ["statistic", "test_error"])
    return [out.path(".csv"), summary_path, plot(out, rows, s, args, source.label)]


def plot(out, rows, s, args, label):
    fig = out.figure(figsize=(10, 3.8))
    if fig is None:
        return None
    ax1, ax2 = fig.subplots(1, 2)
    errors = [100 * r["test_error"] for r in rows]
    ordered = sorted(errors)
    ax1.plot(range(1, len(ordered) + 1), ordered, "o", ms=4)
    for k, style in (("worst", "C3"), ("median", "C2"), ("best", "C0")):
        ax1.axhline(100 * s[k], color=style, ls="--", lw=1, label=f"{k} {fmt_pct(s[k])}")
    ax1.set(xlabel="run (sorted by test error)", ylabel="test error (%)", title=f"{len(rows)} seeds on {label}")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.hist(errors, bins=max(5, min(30, len(errors) // 3)), color="C0", alpha=0.8)
    ax2.set(xlabel="test error (%)", ylabel="runs", title=f"spread {fmt_pct(s['spread'])}, std {fmt_pct(s['std'])}")
    ax2.grid(alpha=0.3)
    return out.save_figure(fig)
