"""The 2-D playground: hand-made features against a learned representation."""
import math

import tapegrad as torch
from tapegrad import nn

from ._common import ExperimentError, Table, make_parser, positive_float, positive_int, say, write_csv

NAME = "playground"
SUMMARY = "2-D toy problems: logistic regression on polynomial features against a small MLP"

DESCRIPTION = """\
The classic 2-D toy problems (circles, XOR, two Gaussian blobs, two spirals), each learned by
  linear  logistic regression on the raw coordinates (x1, x2): a straight decision boundary;
  polyD   logistic regression on hand-made polynomial features x1^i x2^j, 1 <= i+j <= D;
  mlp     a small MLP (2-H-H-1, ReLU) that learns its own features.
All are trained on the full batch with Adam and the logistic loss (BCEWithLogitsLoss); accuracies are
measured on fresh test samples. The figure draws each decision boundary over the test points.

example: tapegrad experiment playground --problems xor,spirals --degree 5 --epochs 2000"""

PROBLEMS = ("circles", "xor", "blobs", "spirals")


def problem_list(text):
    import argparse

    names = [p.strip() for p in text.split(",") if p.strip()]
    bad = [p for p in names if p not in PROBLEMS]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown problem(s) {', '.join(bad) or text!r} (choose from "
                                         f"{', '.join(PROBLEMS)})")
    return names


def parser():
    p = make_parser(NAME, DESCRIPTION, epochs=1000, epochs_help="full-batch training steps of each model")
    g = p.add_argument_group("playground")
    g.add_argument("--problems", type=problem_list, default=list(PROBLEMS), metavar="LIST",
                   help=f"comma-separated, from {','.join(PROBLEMS)} (default: all)")
    g.add_argument("--samples", type=positive_int, default=300, metavar="N",
                   help="training points per problem, and as many test points (default: 300)")
    g.add_argument("--noise", type=float, default=0.1, help="noise added to the points (default: 0.1)")
    g.add_argument("--degree", type=positive_int, default=3, help="degree of the polynomial features (default: 3)")
    g.add_argument("--hidden", type=positive_int, default=32, help="hidden units per MLP layer (default: 32)")
    g.add_argument("--lr", type=positive_float, default=0.01, help="Adam learning rate (default: 0.01)")
    return p


# ---------------------------------------------------------------- data
def make_problem(name, n, noise, g):
    """(points (n, 2), labels (n,) float 0/1) of a toy problem, drawn with generator g."""
    label = (torch.rand(n, generator=g) < 0.5).float()
    if name == "circles":
        angle = torch.rand(n, generator=g) * 2 * math.pi
        radius = 1.0 - 0.5 * label                        # class 1: the inner circle
        x = torch.stack([radius * torch.cos(angle), radius * torch.sin(angle)], 1)
    elif name == "xor":
        x = torch.rand(n, 2, generator=g) * 2 - 1
        x = x + 0.1 * x.sign()                              # a small margin around the axes
        label = (x[:, 0] * x[:, 1] > 0).float()
    elif name == "blobs":
        centre = torch.stack([label, label], 1) - 0.5          # (-0.5, -0.5) and (0.5, 0.5): they overlap
        x = centre + 0.4 * torch.randn(n, 2, generator=g)
    elif name == "spirals":
        t = 0.15 + 0.85 * torch.rand(n, generator=g)
        angle = 3 * math.pi * t + math.pi * label
        x = torch.stack([t * torch.cos(angle), t * torch.sin(angle)], 1) * 1.2
    else:
        raise ExperimentError(f"unknown problem {name!r}")
    return x + noise * torch.randn(n, 2, generator=g), label


# ---------------------------------------------------------------- models
class PolynomialFeatures(nn.Module):
    """x1^i x2^j for 1 <= i+j <= degree, standardised with statistics of the training points."""

    def __init__(self, degree, x_train):
        super().__init__()
        self.powers = [(i, d - i) for d in range(1, degree + 1) for i in range(d, -1, -1)]
        f = self.raw(x_train)
        self.register_buffer("mean", f.mean(0))
        self.register_buffer("std", f.std(0) + 1e-6)

    def raw(self, x):
        return torch.stack([x[:, 0] ** i * x[:, 1] ** j for i, j in self.powers], 1)

    def forward(self, x):
        return (self.raw(x) - self.mean) / self.std


def make_model(kind, args, x_train):
    if kind == "linear":
        return nn.Linear(2, 1)
    if kind == "poly":
        features = PolynomialFeatures(args.degree, x_train)
        return nn.Sequential(features, nn.Linear(len(features.powers), 1))
    h = args.hidden
    return nn.Sequential(nn.Linear(2, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, 1))


def train(model, x, y, steps, lr, tb=None):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    criterion = nn.BCEWithLogitsLoss()
    for step in range(steps):
        loss = criterion(model(x).squeeze(1), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if tb is not None and (step % 20 == 0 or step == steps - 1):
            tb.add_scalar("train/loss", loss.item(), step)
    return loss.item()


@torch.no_grad()
def accuracy(model, x, y):
    return ((model(x).squeeze(1) > 0).float() == y).float().mean().item()


def run(args, out):
    if args.noise < 0:
        raise ExperimentError(f"--noise {args.noise}: expected a non-negative number")
    kinds = ["linear", "poly", "mlp"]
    names = {"linear": "linear", "poly": f"poly{args.degree}", "mlp": f"mlp {args.hidden}x{args.hidden}"}
    say(f"{args.samples} training and {args.samples} test points per problem, noise {args.noise}; "
        f"Adam lr {args.lr}, {args.epochs} full-batch steps; seed {args.seed}")
    say(f"models: {names['linear']} = logistic regression on (x1, x2); {names['poly']} = logistic regression on the "
        f"{(args.degree + 1) * (args.degree + 2) // 2 - 1} monomials of degree 1..{args.degree}; {names['mlp']} = "
        "MLP 2-{0}-{0}-1 (ReLU)".format(args.hidden))
    table = Table([("problem", "problem", str)] + [(k, names[k], lambda v: f"{100 * v:.1f}%") for k in kinds])
    rows, panels = [], []
    bar = out.progress(total=len(args.problems) * len(kinds), desc="models", unit="model")
    try:
        for p_index, problem in enumerate(args.problems):
            g = torch.Generator().manual_seed(args.seed * 1000 + p_index)
            x, y = make_problem(problem, args.samples, args.noise, g)
            xt, yt = make_problem(problem, args.samples, args.noise, g)
            accs = {"problem": problem}
            for kind in kinds:
                torch.manual_seed(args.seed)
                model = make_model(kind, args, x)
                tb = out.tensorboard(f"{problem}/{kind}")
                try:
                    loss = train(model, x, y, args.epochs, args.lr, tb)
                finally:
                    if tb is not None:
                        tb.close()
                train_acc, test_acc = accuracy(model, x, y), accuracy(model, xt, yt)
                accs[kind] = test_acc
                rows.append(dict(problem=problem, model=names[kind], train_loss=loss, train_accuracy=train_acc,
                                 test_accuracy=test_acc))
                panels.append((problem, names[kind], model, xt, yt, test_acc))
                bar.update(1)
            table.add(accs)
    finally:
        bar.close()
    say("test accuracy; the MLP finds features the linear model lacks; the polynomial features help only "
        "where the right monomials were guessed (x1 x2 for XOR, x1^2 + x2^2 for circles).")
    write_csv(out.path(".csv"), rows, ["problem", "model", "train_loss", "train_accuracy", "test_accuracy"])
    return [out.path(".csv"), plot(out, panels, args.problems, [names[k] for k in kinds])]


def plot(out, panels, problems, models):
    fig = out.figure(figsize=(3.1 * len(models), 3.0 * len(problems)))
    if fig is None:
        return None
    axes = fig.subplots(len(problems), len(models), squeeze=False)
    lim = 1.6
    grid = torch.linspace(-lim, lim, 160)
    gx, gy = torch.meshgrid(grid, grid, indexing="xy")
    points = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
    for problem, model_name, model, xt, yt, acc in panels:
        ax = axes[problems.index(problem)][models.index(model_name)]
        with torch.no_grad():
            prob = torch.sigmoid(model(points)).reshape(gx.shape)
        ax.contourf(gx.numpy(), gy.numpy(), prob.numpy(), levels=[0, 0.1, 0.3, 0.5, 0.7, 0.9, 1], cmap="RdBu_r",
                    alpha=0.6, vmin=0, vmax=1)
        ax.contour(gx.numpy(), gy.numpy(), prob.numpy(), levels=[0.5], colors="k", linewidths=1)
        pts, lab = xt.numpy(), yt.numpy()
        ax.scatter(pts[lab == 0, 0], pts[lab == 0, 1], s=6, c="C0", edgecolors="none")
        ax.scatter(pts[lab == 1, 0], pts[lab == 1, 1], s=6, c="C3", edgecolors="none")
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xticks=[], yticks=[])
        ax.set_aspect("equal")
        ax.set_title(f"{problem}, {model_name}: {100 * acc:.1f}%", fontsize=9)
    return out.save_figure(fig)
