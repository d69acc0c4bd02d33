"""Capacity: least-squares polynomial fits of growing degree to noisy samples of a smooth function."""
import argparse
import math

import tapegrad as torch

from ._common import ExperimentError, Table, make_parser, positive_int, say

NAME = "capacity"
SUMMARY = "polynomial fits of degree 0..9 by least squares: train and test MSE, under- and over-fitting"

DESCRIPTION = """\
The lectures' polynomial-fitting study. Noisy samples y = sin(pi x) + noise, x uniform in [-1, 1];
for each degree D, the polynomial of degree D minimising the training MSE is found by least squares
(torch.linalg.lstsq on the Vandermonde matrix [1, x, ..., x^D]). Training MSE can only fall as D
grows; the test MSE, on fresh samples of the same distribution, falls while the model under-fits,
then rises again as the polynomial starts fitting the noise (over-fitting).
MSEs are medians over --repeats independent training sets; the figure draws the fits to the first.

example: tapegrad experiment capacity --degrees 0-12 --train-size 20"""


def degree_list(text):
    degrees = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                lo, hi = part.split("-", 1)
                degrees += list(range(int(lo), int(hi) + 1))
            elif part.strip():
                degrees.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected degrees like 0-9 or 0,1,3,9, got {text!r}") from None
    if not degrees or min(degrees) < 0 or max(degrees) > 30:
        raise argparse.ArgumentTypeError(f"expected degrees between 0 and 30, got {text!r}")
    return sorted(set(degrees))


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=None)
    g = p.add_argument_group("study")
    g.add_argument("--degrees", type=degree_list, default=list(range(10)), metavar="LIST",
                   help="polynomial degrees, e.g. 0-9 or 0,1,3,9 (default: 0-9)")
    g.add_argument("--train-size", type=positive_int, default=15, metavar="N", help="training points (default: 15)")
    g.add_argument("--test-size", type=positive_int, default=1000, metavar="N", help="test points (default: 1000)")
    g.add_argument("--noise", type=float, default=0.2, help="standard deviation of the noise (default: 0.2)")
    g.add_argument("--repeats", type=positive_int, default=25, metavar="R",
                   help="independent training sets; MSEs are their medians (default: 25)")
    return p


def target(x):
    return torch.sin(math.pi * x)


def sample(n, noise, generator):
    x = torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1
    return x, target(x) + noise * torch.randn(n, generator=generator, dtype=torch.float64)


def features(x, degree):
    """The Vandermonde matrix [1, x, x^2, ..., x^degree] (torch.linalg.vander needs degree >= 1)."""
    return x.unsqueeze(1) ** torch.arange(degree + 1)


def fit(x, y, degree):
    """Coefficients (increasing powers) of the least-squares polynomial of the given degree."""
    X = features(x, degree)
    return torch.linalg.lstsq(X, y.unsqueeze(1)).solution.squeeze(1)


def predict(coefficients, x):
    return features(x, len(coefficients) - 1) @ coefficients


def mse(coefficients, x, y):
    return ((predict(coefficients, x) - y) ** 2).mean().item()


def run(args, out):
    if args.noise < 0:
        raise ExperimentError(f"--noise {args.noise}: expected a non-negative number")
    g = torch.Generator().manual_seed(args.seed)
    degrees = args.degrees
    say(f"data: y = sin(pi x) + N(0, {args.noise}^2), x ~ U[-1, 1]; {args.train_size} training points, "
        f"{args.test_size} test points; medians over {args.repeats} training set(s); seed {args.seed}")
    if args.train_size <= max(degrees):
        say(f"note: degrees >= {args.train_size - 1} interpolate the {args.train_size} training points "
            "(training MSE 0)")
    train_mse = {d: [] for d in degrees}
    test_mse = {d: [] for d in degrees}
    first = None
    for r in out.progress(range(args.repeats), desc="training sets", unit="set"):
        x, y = sample(args.train_size, args.noise, g)
        xt, yt = sample(args.test_size, args.noise, g)
        fits = {}
        for d in degrees:
            fits[d] = c = fit(x, y, d)
            train_mse[d].append(mse(c, x, y))
            test_mse[d].append(mse(c, xt, yt))
        if first is None:
            first = (x, y, xt, yt, fits)

    def median(v):
        return torch.tensor(v, dtype=torch.float64).median().item()

    rows = [dict(degree=d, train_mse=median(train_mse[d]), test_mse=median(test_mse[d])) for d in degrees]
    best = min(rows, key=lambda r: r["test_mse"])
    for r in rows:
        r["best"] = "<- best" if r is best else ""
        r["noise_mse"] = args.noise ** 2
    table = Table([("degree", "degree", "d"), ("train_mse", "train MSE", ".3e"), ("test_mse", "test MSE", ".3e"),
                   ("best", "", str)])
    for r in rows:
        table.add(r)
    say(f"lowest test MSE at degree {best['degree']} ({best['test_mse']:.3g}; the noise alone gives "
        f"{args.noise ** 2:.3g}).")
    low = [r["degree"] for r in rows if r["degree"] < best["degree"]]
    high = [r for r in rows if r["degree"] > best["degree"]]
    if low:
        say(f"under-fitting at degree <= {max(low)}: train and test MSE both above the best.")
    if high and high[-1]["test_mse"] > best["test_mse"]:
        say(f"over-fitting at degree >= {high[0]['degree']}: train MSE keeps falling "
            f"({best['train_mse']:.3g} -> {high[-1]['train_mse']:.3g}) while test MSE rises "
            f"({best['test_mse']:.3g} -> {high[-1]['test_mse']:.3g}).")
    tb = out.tensorboard()
    if tb is not None:
        with tb:
            for r in rows:
                tb.add_scalars("mse", {"train": r["train_mse"], "test": r["test_mse"]}, r["degree"])
    table.write_csv(out.path(".csv"), keys=["degree", "train_mse", "test_mse", "noise_mse"])
    return [out.path(".csv"), plot(out, rows, first, args.noise)]


def plot(out, rows, first, noise):
    x, y, xt, yt, fits = first
    degrees = [r["degree"] for r in rows]
    cols = min(5, len(degrees))
    nrows = math.ceil(len(degrees) / cols)
    fig = out.figure(figsize=(2.6 * cols, 2.3 * nrows + 3.4))
    if fig is None:
        return None
    grid = fig.add_gridspec(nrows + 1, cols, height_ratios=[1] * nrows + [1.5], hspace=0.45)
    grid_x = torch.linspace(-1, 1, 300, dtype=torch.float64)
    lo, hi = y.min().item() - 0.5, y.max().item() + 0.5
    for i, d in enumerate(degrees):
        ax = fig.add_subplot(grid[i // cols, i % cols])
        ax.plot(xt.numpy(), yt.numpy(), ".", color="0.8", ms=2)
        ax.plot(grid_x.numpy(), target(grid_x).numpy(), "--", color="0.4", lw=1)
        ax.plot(grid_x.numpy(), predict(fits[d], grid_x).numpy(), color="C3", lw=1.6)
        ax.plot(x.numpy(), y.numpy(), "o", color="C0", ms=3.5)
        ax.set_ylim(lo, hi)
        ax.set_title(f"degree {d}", fontsize=9)
        ax.tick_params(labelsize=7)
    ax = fig.add_subplot(grid[nrows, :])
    ax.semilogy(degrees, [r["train_mse"] for r in rows], "o-", label="train MSE")
    ax.semilogy(degrees, [r["test_mse"] for r in rows], "s-", label="test MSE")
    ax.axhline(noise ** 2, color="0.5", ls=":", label="noise variance")
    ax.set(xlabel="degree", ylabel="MSE (median over training sets)", xticks=degrees)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.suptitle("capacity: least-squares polynomial fits (blue: training points, grey: test points, "
                 "dashed: sin(pi x))", fontsize=10)
    return out.save_figure(fig)
