"""What the experiments share: argument parsing, one-line errors, tables, CSV and PNG output,
progress bars and TensorBoard writers.

tqdm, matplotlib and tensorboard are optional (`pip install tapegrad[tools]`): without tqdm there
is no progress bar, without matplotlib no PNG, and the experiment says which output it skipped.
"""
import argparse
import csv
import math
import os
import sys

TOOLS_HINT = "pip install tapegrad[tools]"


class ExperimentError(Exception):
    """A problem with the user's input (arguments, data, output folder): reported on one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ExperimentError(f"{message} (see: {self.prog} --help)")


def positive_int(text):
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not (v > 0 and math.isfinite(v)):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def float_list(text):
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("expected at least one value")
    return values


def make_parser(name, description, *, epochs, data=False, epochs_help="training epochs"):
    """The options every experiment takes: --seed, --epochs, --data, --out, --tensorboard, --no-progress.

    `epochs=None` or `data=False` marks an option that does not apply: it is accepted (the interface
    is the same for all experiments) and reported as ignored when given."""
    p = _Parser(prog=f"tapegrad experiment {name}", description=description,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("common options")
    g.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    g.add_argument("--epochs", type=positive_int, default=epochs,
                   help=f"{epochs_help} (default: {epochs})" if epochs is not None else argparse.SUPPRESS)
    g.add_argument("--data", metavar="DIR", default=None,
                   help=("dataset root holding MNIST or Fashion-MNIST IDX files (default: MNIST if installed, "
                         "else Fashion-MNIST)") if data else argparse.SUPPRESS)
    g.add_argument("--out", metavar="DIR", default=None,
                   help=f"folder for {name}.csv and {name}.png (default: runs/{name})")
    g.add_argument("--tensorboard", metavar="DIR", default=None,
                   help="also write TensorBoard logs under DIR (needs: pip install tensorboard)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(_name=name, _uses_data=data, _uses_epochs=epochs is not None)
    return p


def add_data_options(p, *, train_size=None, test_size=None):
    g = p.add_argument_group("data")
    g.add_argument("--dataset", choices=["auto", "mnist", "fashion-mnist"], default="auto",
                   help="which dataset to use (default: auto, MNIST then Fashion-MNIST)")
    g.add_argument("--train-size", type=positive_int, default=train_size, metavar="N",
                   help="use only the first N training images, for speed" +
                   (f" (default: {train_size})" if train_size else " (default: all)"))
    g.add_argument("--test-size", type=positive_int, default=test_size, metavar="N",
                   help="use only the first N test images" + (f" (default: {test_size})" if test_size else
                                                               " (default: all)"))


def _write(line, file=None):
    """Print a line; through tqdm.write when tqdm is loaded, so that it does not tear a progress bar."""
    file = file or sys.stdout
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None and hasattr(tqdm, "tqdm"):
        tqdm.tqdm.write(line, file=file)
        file.flush()
    else:
        print(line, file=file, flush=True)


def say(*parts):
    _write(" ".join(str(p) for p in parts))


def warn(message):
    _write(f"WARNING: {message}", sys.stderr)


def fmt_pct(x):
    return "" if x is None else f"{100 * x:.2f}%"


# ---------------------------------------------------------------- tables and CSV
class Table:
    """Prints rows as they come, in fixed-width columns, and keeps them for the CSV.

    columns: (key, header, format) where format is a format spec ('.4f') or a function value -> str."""

    def __init__(self, columns, stream=None):
        self.columns = list(columns)
        self.rows = []
        self.stream = stream
        self.widths = [max(len(h), 9) if h else 0 for _, h, _ in self.columns]
        self._printed_header = False

    def _cell(self, value, fmt):
        if value is None or value == "":
            return ""
        if callable(fmt):
            return fmt(value)
        return format(value, fmt)

    def _line(self, cells):
        # numbers right-aligned, text (format `str`) left-aligned
        return "  ".join(c.ljust(w) if f is str else c.rjust(w)
                         for c, w, (_, _, f) in zip(cells, self.widths, self.columns)).rstrip()

    def header(self):
        _write(self._line([h for _, h, _ in self.columns]), self.stream)
        _write("  ".join("-" * w for w in self.widths).rstrip(), self.stream)
        self._printed_header = True

    def add(self, row, show=True):
        self.rows.append(dict(row))
        if show:
            if not self._printed_header:
                self.header()
            cells = [self._cell(row.get(k), f) for k, _, f in self.columns]
            self.widths = [max(w, len(c)) for w, c in zip(self.widths, cells)]
            _write(self._line(cells), self.stream)

    def write_csv(self, path, keys=None):
        write_csv(path, self.rows, keys or [k for k, _, _ in self.columns])


def write_csv(path, rows, keys):
    try:
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in keys})
    except OSError as exc:
        raise ExperimentError(f"cannot write {path}: {exc.strerror or exc}") from None


# ---------------------------------------------------------------- optional tools
class _NullBar:
    """Stands in for a tqdm bar when tqdm is missing or bars are off."""

    def __init__(self, iterable=None):
        self.iterable = iterable

    def __iter__(self):
        return iter(self.iterable)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def update(self, n=1):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def close(self):
        pass


class Output:
    """Where an experiment's results go: the --out folder (CSV, PNG), the terminal, TensorBoard."""

    def __init__(self, args):
        self.name = args._name
        self.args = args
        self.dir = args.out or os.path.join("runs", self.name)
        self.skipped = []
        self._tqdm = None
        self.progress_enabled = not args.no_progress
        # checked now, created at the first file written (a run that fails early leaves nothing behind)
        existing = os.path.abspath(self.dir)
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.path.isdir(existing):
            raise ExperimentError(f"--out {self.dir}: {existing} is a file, not a folder")
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ExperimentError(f"--out {self.dir}: {existing} is not writable")
        if args.tensorboard is not None:
            try:
                import tapegrad.utils.tensorboard  # noqa: F401
            except ImportError:
                raise ExperimentError("--tensorboard needs the tensorboard package: pip install tensorboard "
                                      f"(or {TOOLS_HINT})") from None
        if not args._uses_data and args.data is not None:
            say(f"note: {self.name} draws its own synthetic data; --data is ignored")
        if not args._uses_epochs and args.epochs is not None:
            say(f"note: {self.name} has no training epochs; --epochs is ignored")

    def path(self, suffix):
        """OUT/NAME+suffix, creating OUT if needed."""
        try:
            os.makedirs(self.dir, exist_ok=True)
        except OSError as exc:
            raise ExperimentError(f"--out {self.dir}: cannot create the folder ({exc.strerror or exc})") from None
        return os.path.join(self.dir, self.name + suffix)

    # progress bars
    def progress(self, iterable=None, total=None, desc=None, leave=False, unit="it"):
        if not self.progress_enabled:
            return _NullBar(iterable)
        if self._tqdm is None:
            try:
                from tqdm.auto import tqdm

                self._tqdm = tqdm
            except ImportError:
                self._tqdm = False
                self.skipped.append(f"progress bars (tqdm is not installed: {TOOLS_HINT})")
        if not self._tqdm:
            return _NullBar(iterable)
        return self._tqdm(iterable, total=total, desc=desc, leave=leave, unit=unit, file=sys.stderr,
                          dynamic_ncols=True, disable=None)

    # figures
    def figure(self, **kwargs):
        """A matplotlib Figure (no pyplot, no GUI backend), or None when matplotlib is missing."""
        try:
            from matplotlib.figure import Figure
        except ImportError:
            self.skipped.append(f"{self.name}.png (matplotlib is not installed: {TOOLS_HINT})")
            return None
        return Figure(**kwargs)

    def save_figure(self, fig):
        if fig is None:
            return None
        path = self.path(".png")
        try:
            fig.savefig(path, dpi=110, bbox_inches="tight")
        except OSError as exc:
            raise ExperimentError(f"cannot write {path}: {exc.strerror or exc}") from None
        return path

    def tensorboard(self, sub=None):
        """A SummaryWriter for --tensorboard DIR (DIR/<name>[/sub]), or None without --tensorboard."""
        if self.args.tensorboard is None:
            return None
        from tapegrad.utils.tensorboard import SummaryWriter

        parts = [self.args.tensorboard, self.name] + ([sub] if sub else [])
        return SummaryWriter(log_dir=os.path.join(*parts))

    def finish(self, written):
        """Report the files written and the outputs skipped."""
        files = [p for p in written if p]
        if files:
            say("wrote " + ", ".join(files))
        if self.args.tensorboard is not None:
            say(f"TensorBoard logs in {os.path.join(self.args.tensorboard, self.name)} "
                f"(view: tensorboard --logdir {self.args.tensorboard})")
        for s in self.skipped:
            say(f"skipped {s}")
