"""The train / validation / test protocol, with a ledger of the test set's evaluations."""
import copy
import json
import os
import time

import tapegrad as torch
from tapegrad.utils.data import random_split

from . import _data, _train
from ._common import (ExperimentError, Table, add_data_options, float_list, fmt_pct, make_parser, positive_float,
                      positive_int, say, warn)

NAME = "protocol"
SUMMARY = "train / validation / test: choose a hyperparameter on validation, use the test set once"

DESCRIPTION = """\
A hyperparameter of a one-hidden-layer MLP (the learning rate, or the width) is chosen by the error
on a validation split carved from the training set; the chosen model then meets the test set once.

Every evaluation of the test set goes through a counter, and the counts are kept in a ledger,
OUT/protocol_ledger.json, across the runs of a study (the runs sharing an --out folder; --new-study
starts again). The tool warns when the test set has been used to choose anything: --select-on test
picks the hyperparameter by test error, and running the study again after looking at a test error
is choosing too. Both make the test error an optimistic estimate ("meta over-fitting").

example: tapegrad experiment protocol --param width --values 8,32,128 --train-size 10000"""

DEFAULTS = {"lr": [0.001, 0.01, 0.1, 1.0], "width": [8, 32, 128, 512]}


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=3, data=True, epochs_help="training epochs per candidate")
    add_data_options(p)
    g = p.add_argument_group("protocol")
    g.add_argument("--param", choices=["lr", "width"], default="lr",
                   help="the hyperparameter to choose (default: lr)")
    g.add_argument("--values", type=float_list, default=None, metavar="LIST",
                   help="candidate values, comma-separated (default: lr 0.001,0.01,0.1,1; width 8,32,128,512)")
    g.add_argument("--select-on", choices=["val", "test"], default="val",
                   help="where to choose: 'val' (the protocol) or 'test' (what not to do; shows the warning)")
    g.add_argument("--val-fraction", type=positive_float, default=0.2, metavar="F",
                   help="share of the training set held out for validation (default: 0.2)")
    g.add_argument("--lr", type=positive_float, default=0.1, help="learning rate when choosing the width (default: 0.1)")
    g.add_argument("--width", type=positive_int, default=128, help="hidden units when choosing lr (default: 128)")
    g.add_argument("--batch-size", type=positive_int, default=100, help="mini-batch size (default: 100)")
    g.add_argument("--new-study", action="store_true", help="reset the test-set ledger of this --out folder")
    return p


class TestSet:
    """The test set behind a counter: each evaluation is recorded with its purpose."""

    def __init__(self, x, y):
        self._x, self._y = x, y
        self.evaluations = []   # purposes, in order

    def evaluate(self, model, purpose):
        self.evaluations.append(purpose)
        return _train.evaluate(model, self._x, self._y)[1]

    @property
    def used_to_choose(self):
        return any(p.startswith("choose") for p in self.evaluations)


class Ledger:
    """Test-set evaluations across the runs of a study (one JSON file in the --out folder)."""

    def __init__(self, path, key, reset=False):
        self.path, self.key = path, key
        self.entries = {}
        if not reset and os.path.exists(path):
            try:
                with open(path) as f:
                    self.entries = json.load(f)
                if not isinstance(self.entries, dict):
                    raise ValueError("not a JSON object")
            except (OSError, ValueError) as exc:
                raise ExperimentError(f"{path}: unreadable test-set ledger ({exc}); delete it or pass "
                                      "--new-study") from None

    @property
    def runs(self):
        return self.entries.get(self.key, [])

    def total(self):
        return sum(r["test_evaluations"] for r in self.runs)

    def record(self, run):
        self.entries.setdefault(self.key, []).append(run)
        try:
            with open(self.path, "w") as f:
                json.dump(self.entries, f, indent=1)
        except OSError as exc:
            raise ExperimentError(f"cannot write {self.path}: {exc.strerror or exc}") from None


def _value(param, v):
    return int(v) if param == "width" else float(v)


def run(args, out):
    if not 0 < args.val_fraction < 1:
        raise ExperimentError(f"--val-fraction {args.val_fraction}: expected a number between 0 and 1")
    values = list(dict.fromkeys(_value(args.param, v) for v in (args.values or DEFAULTS[args.param])))
    if args.param == "width" and any(v < 1 for v in values):
        raise ExperimentError("--values: widths must be positive integers")
    if args.param == "lr" and any(v <= 0 for v in values):
        raise ExperimentError("--values: learning rates must be positive")
    data = _data.load_from_args(args, say, flatten=True)
    n_val = int(round(len(data.y_train) * args.val_fraction))
    if n_val < 1 or n_val >= len(data.y_train):
        raise ExperimentError(f"--val-fraction {args.val_fraction} leaves no training or no validation data "
                              f"out of {len(data.y_train)} images")
    fit_idx, val_idx = random_split(range(len(data.y_train)), [len(data.y_train) - n_val, n_val],
                                    generator=torch.Generator().manual_seed(args.seed))
    fit_idx, val_idx = torch.tensor(list(fit_idx)), torch.tensor(list(val_idx))
    x_fit, y_fit = data.x_train[fit_idx], data.y_train[fit_idx]
    x_val, y_val = data.x_train[val_idx], data.y_train[val_idx]
    test = TestSet(data.x_test, data.y_test)
    ledger = Ledger(out.path("_ledger.json"), f"{data.source.label} test set ({len(data.y_test)} images, "
                    f"{data.source.where})", reset=args.new_study)
    chooser = "the validation split" if args.select_on == "val" else "the TEST set"
    say(f"split: {len(y_fit)} training / {len(y_val)} validation images (carved from the training set), "
        f"{len(data.y_test)} test images; choosing {args.param} among {values} on {chooser}")

    label = {"lr": "lr", "width": "width"}[args.param]
    columns = [("value", label, "g"), ("train_loss", "train loss", ".4f"), ("val_error", "val error", fmt_pct)]
    if args.select_on == "test":
        columns.append(("test_error", "test error", fmt_pct))
    table = Table(columns)
    models, start = {}, time.perf_counter()
    for v in values:
        torch.manual_seed(args.seed)
        model = _train.mlp(v if args.param == "width" else args.width)
        lr = v if args.param == "lr" else args.lr
        tb = out.tensorboard(f"{args.param}={v}")
        scalars = []
        train_loss, _ = _train.fit(model, x_fit, y_fit, epochs=args.epochs, lr=lr, batch_size=args.batch_size,
                                   seed=args.seed, progress=out.progress, desc=f"{args.param}={v}",
                                   on_epoch=lambda e, loss, err, s: scalars.append((e, loss, err)))
        val_error = _train.evaluate(model, x_val, y_val)[1]
        row = dict(param=args.param, value=v, train_loss=train_loss, val_error=val_error, test_error=None)
        if args.select_on == "test":
            row["test_error"] = test.evaluate(model, f"choose {args.param}")
        if tb is not None:
            with tb:
                for e, loss, err in scalars:
                    tb.add_scalar("train/loss", loss, e)
                    tb.add_scalar("train/error", err, e)
                tb.add_scalar("val/error", val_error, args.epochs)
        models[v] = copy.deepcopy(model.state_dict())
        table.add(row)

    key = "val_error" if args.select_on == "val" else "test_error"
    best = min(table.rows, key=lambda r: (r[key] if r[key] == r[key] else float("inf")))
    for r in table.rows:
        r["selected"] = r is best
    if args.select_on == "val":
        model = _train.mlp(best["value"] if args.param == "width" else args.width)
        model.load_state_dict(models[best["value"]])
        best["test_error"] = test.evaluate(model, "final report")
    rows = table.rows

    n = len(test.evaluations)
    runs_before = len(ledger.runs)
    ledger.record(dict(time=time.strftime("%Y-%m-%d %H:%M:%S"), param=args.param, values=values,
                       select_on=args.select_on, chosen=best["value"], test_error=best["test_error"],
                       test_evaluations=n, purposes=test.evaluations))
    total = ledger.total()
    say(f"chosen: {args.param} = {best['value']:g} (lowest {'validation' if args.select_on == 'val' else 'TEST'} "
        f"error); its test error: {fmt_pct(best['test_error'])}  ({time.perf_counter() - start:.1f} s)")
    say(f"test-set evaluations: {n} in this run, {total} in this study ({runs_before + 1} run(s), ledger "
        f"{ledger.path})")
    if test.used_to_choose:
        warn(f"the test set was evaluated {n} times and used to choose {args.param}: the reported test error "
             f"({fmt_pct(best['test_error'])}) is optimistic, the test set is now part of training "
             "(\"meta over-fitting\"). Choose on a validation split (--select-on val) and evaluate the test set "
             "once, at the end.")
    elif runs_before:
        warn(f"this study has evaluated the same test set {total} times over {runs_before + 1} runs: picking among "
             "the runs by their test error is choosing on the test set (\"meta over-fitting\"). Compare runs by "
             "validation error, or start a new study (--new-study) with the choice made.")

    table.write_csv(out.path(".csv"), keys=["param", "value", "train_loss", "val_error", "test_error", "selected"])
    return [out.path(".csv"), plot(out, rows, args, best)]


def plot(out, rows, args, best):
    fig = out.figure(figsize=(6.5, 4))
    if fig is None:
        return None
    ax = fig.subplots()
    values = [r["value"] for r in rows]
    ax.plot(values, [100 * r["val_error"] for r in rows], "o-", label="validation error")
    if args.select_on == "test":
        ax.plot(values, [100 * r["test_error"] for r in rows], "s--", color="C3", label="test error (used to choose!)")
    else:
        ax.plot([best["value"]], [100 * best["test_error"]], "*", ms=14, color="C3",
                label="test error of the chosen model (evaluated once)")
    ax.axvline(best["value"], color="0.6", ls=":")
    ax.set_xscale("log")
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.minorticks_off()
    ax.set(xlabel=args.param, ylabel="error (%)",
           title=f"choosing {args.param} on the {'validation split' if args.select_on == 'val' else 'TEST set'}")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return out.save_figure(fig)
