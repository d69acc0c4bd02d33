"""The lectures' MNIST convnet, trained with SGD: per-epoch train loss, test error and time."""
import time

import tapegrad as torch

from . import _data, _train
from ._common import add_data_options, fmt_pct, make_parser, positive_float, positive_int, say, Table

NAME = "convnet"
SUMMARY = "the lectures' MNIST convnet (SGD lr 0.1, batch 100): train loss, test error and time per epoch"

DESCRIPTION = """\
The lectures' convnet: conv 5x5 (32) - maxpool 3 - relu - conv 5x5 (64) - maxpool 2 - relu -
linear 256-200 - relu - linear 200-10, trained with SGD (lr 0.1, batch 100) on inputs normalised by
the training mean and std. The lectures report about 1% test error on MNIST after 10 epochs.
Uses MNIST where it is installed, else Fashion-MNIST (a harder problem: expect about 10%).

example: tapegrad experiment convnet --epochs 1 --train-size 10000"""


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=10, data=True)
    add_data_options(p)
    g = p.add_argument_group("training")
    g.add_argument("--lr", type=positive_float, default=0.1, help="SGD learning rate (default: 0.1)")
    g.add_argument("--batch-size", type=positive_int, default=100, help="mini-batch size (default: 100)")
    g.add_argument("--workers", type=positive_int, default=1, metavar="N",
                   help="also train data-parallel on N MPI processes (DistributedDataParallel) and compare with one "
                        "process: time per epoch and test error side by side (needs Open MPI and mpi4py)")
    return p


def run(args, out):
    if args.workers > 1:  # mpirun -n 1 and -n N, side by side: tapegrad/distributed/_experiment.py
        from ..distributed._experiment import run_convnet

        return run_convnet(args, out)
    data = _data.load_from_args(args, say)
    torch.manual_seed(args.seed)
    model = _train.ConvNet()
    say(f"model: {sum(p.numel() for p in model.parameters())} parameters; SGD lr {args.lr}, batch {args.batch_size}, "
        f"{args.epochs} epoch(s), seed {args.seed}")
    tb = out.tensorboard()
    table = Table([("epoch", "epoch", "d"), ("train_loss", "train loss", ".4f"), ("train_error", "train error", fmt_pct),
                   ("test_loss", "test loss", ".4f"), ("test_error", "test error", fmt_pct),
                   ("time_s", "time (s)", ".1f")])

    def on_epoch(epoch, train_loss, train_error, seconds):
        start = time.perf_counter()
        test_loss, test_error = _train.evaluate(model, data.x_test, data.y_test, progress=out.progress,
                                                desc=f"test after epoch {epoch}")
        table.add(dict(epoch=epoch, train_loss=train_loss, train_error=train_error, test_loss=test_loss,
                       test_error=test_error, time_s=seconds, eval_time_s=time.perf_counter() - start))
        if tb is not None:
            tb.add_scalar("loss/train", train_loss, epoch)
            tb.add_scalar("loss/test", test_loss, epoch)
            tb.add_scalars("error", {"train": train_error, "test": test_error}, epoch)
            for name, p in model.named_parameters():
                tb.add_histogram(name, p, epoch)
            tb.flush()

    curve, window = [], []   # the training loss, averaged over windows of 10 steps

    def on_batch(epoch, loss):
        window.append(loss)
        if len(window) == 10:
            curve.append((epoch, sum(window) / len(window)))
            window.clear()
            if tb is not None:
                tb.add_scalar("loss/train_steps", curve[-1][1], round(epoch * 1000))

    try:
        _train.fit(model, data.x_train, data.y_train, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                   seed=args.seed, progress=out.progress, on_epoch=on_epoch, on_batch=on_batch)
    finally:
        if tb is not None:
            tb.close()
    last = table.rows[-1]
    total = sum(r["time_s"] for r in table.rows)
    ref = ("the lectures report about 1% on MNIST after 10 epochs" if data.source.key == "mnist" else
           "the lectures' 1% is for MNIST; Fashion-MNIST is harder")
    say(f"final test error {fmt_pct(last['test_error'])} after {last['epoch']} epoch(s), {total:.1f} s of training "
        f"({ref})")
    table.write_csv(out.path(".csv"), keys=["epoch", "train_loss", "train_error", "test_loss", "test_error", "time_s",
                                            "eval_time_s"])
    return [out.path(".csv"), plot(out, table.rows, curve, data.source.label)]


def plot(out, rows, curve, label):
    fig = out.figure(figsize=(10, 3.8))
    if fig is None:
        return None
    epochs = [r["epoch"] for r in rows]
    ax1, ax2 = fig.subplots(1, 2)
    if curve:
        ax1.plot([c[0] for c in curve], [c[1] for c in curve], "-", color="C0", alpha=0.35, lw=1,
                 label="train (10-step means)")
    ax1.plot(epochs, [r["train_loss"] for r in rows], "o-", color="C0", label="train (epoch mean)")
    ax1.plot(epochs, [r["test_loss"] for r in rows], "s--", color="C1", label="test")
    ax1.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"convnet on {label}: loss")
    ax2.plot(epochs, [100 * r["train_error"] for r in rows], "o-", color="C0", label="train (during the epoch)")
    ax2.plot(epochs, [100 * r["test_error"] for r in rows], "s--", color="C1", label="test")
    ax2.set(xlabel="epoch", ylabel="error (%)", title="error rate")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.set_xlim(0, max(epochs) + 0.2)
        if len(epochs) <= 20:
            ax.set_xticks(range(0, max(epochs) + 1))
    return out.save_figure(fig)
