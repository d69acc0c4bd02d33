"""The course's experiments: `tapegrad experiment NAME [OPTIONS]`.

Each experiment is a module here with NAME, SUMMARY, `parser()` and `run(args, out)`; `run` prints a
table, writes runs/NAME/NAME.csv and NAME.png (see _common.Output) and returns the files written.
Errors in the user's input (unknown name, bad option, unreadable data or output folder) are reported
on one line with exit code 2.
"""
import importlib
import sys

from ._common import ExperimentError

# name -> one-line summary (kept here so that --help does not import every experiment)
EXPERIMENTS = {
    "convnet": "the lectures' MNIST convnet (SGD lr 0.1, batch 100): train loss, test error and time per epoch",
    "capacity": "polynomial fits of degree 0..9 by least squares: train and test MSE, under- and over-fitting",
    "protocol": "train / validation / test: choose a hyperparameter on validation, use the test set once",
    "seeds": "one training run repeated over N seeds in parallel: worst / median / best test error",
    "playground": "2-D toy problems: logistic regression on polynomial features against a small MLP",
    "charlm": "a small character-level Transformer language model: train / validation loss, then sampled text",
    "embeddings": "word vectors by skip-gram or CBOW with negative sampling: nearest neighbours of a few words",
}

USAGE = "usage: tapegrad experiment NAME [--seed S] [--epochs E] [--data DIR] [--out DIR] [--tensorboard DIR] ..."


def _help():
    width = max(map(len, EXPERIMENTS))
    lines = [USAGE, "", "experiments:"] + [f"  {n.ljust(width)}  {s}" for n, s in EXPERIMENTS.items()]
    lines += ["", "Each prints a table and writes NAME.csv and NAME.png to --out (default runs/NAME).",
              "tapegrad experiment NAME --help lists the options of one experiment.",
              "Progress bars and plots need the optional tools: pip install tapegrad[tools]"]
    return "\n".join(lines)


def get(name):
    """The module of experiment `name`."""
    if name not in EXPERIMENTS:
        raise ExperimentError(f"unknown experiment {name!r} (choose from {', '.join(EXPERIMENTS)})")
    return importlib.import_module(f"{__name__}.{name}")


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run `tapegrad experiment ARGV...`; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_help(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    prog = f"tapegrad experiment {name}"
    try:
        module = get(name)
        from ._common import Output

        try:
            args = module.parser().parse_args(rest)
        except SystemExit as exc:  # --help
            return exc.code if isinstance(exc.code, int) else 0
        out = Output(args)
        written = module.run(args, out)
        out.finish(written or [])
        return 0
    except ExperimentError as exc:
        where = "tapegrad experiment" if name not in EXPERIMENTS else prog
        print(f"{where}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


__all__ = ["EXPERIMENTS", "ExperimentError", "get", "main"]
