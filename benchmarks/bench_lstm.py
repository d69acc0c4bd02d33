"""One training step of a small word-level language model: Embedding(1000, 256) -> LSTM(256, 256,
num_layers=2) -> Linear(256, 1000) -> CrossEntropyLoss, SGD, on sequences of 35 steps at batch 20
(PyTorch's word_language_model shape), tapegrad against PyTorch in the same process with the same
number of threads. Both models start from the same state_dict and must give the same first losses.
Prints the median time per step of each and the ratio tapegrad/torch; `--loss sum` times the LSTM
alone (loss = output.sum()).

    python benchmarks/bench_lstm.py [--steps 20] [--repeats 5] [--threads 2] [--loss ce|sum]
"""
import argparse
import os
import statistics
import time

SEQ, BATCH, HIDDEN, LAYERS, VOCAB = 35, 20, 256, 2, 1000


def make_step(m, X, Y, loss_kind, lr=0.1):
    """A training step written once for both frameworks (`m` is tapegrad or torch)."""
    nn = m.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, HIDDEN)
            self.rnn = nn.LSTM(HIDDEN, HIDDEN, LAYERS)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            out, _ = self.rnn(self.emb(x))
            return out, self.head(out).view(-1, VOCAB)

    model = LM()
    loss_fn = nn.CrossEntropyLoss()
    opt = m.optim.SGD(model.parameters(), lr=lr)
    xs = [m.from_numpy(x) for x in X]
    ys = [m.from_numpy(y) for y in Y]
    state = {"i": 0}

    def step():
        i = state["i"] = (state["i"] + 1) % len(xs)
        opt.zero_grad()
        out, logits = model(xs[i])
        loss = out.sum() if loss_kind == "sum" else loss_fn(logits, ys[i])
        loss.backward()
        opt.step()
        return loss

    return model, step


def timed(step, steps, repeats):
    for _ in range(3):  # warm up
        step()
    per_step = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        per_step.append((time.perf_counter() - t0) / steps)
    return statistics.median(per_step)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--loss", choices=["ce", "sum"], default="ce")
    args = p.parse_args()
    # NumPy's BLAS reads its thread count when it loads: set it before the first import of numpy
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import numpy as np
    import tapegrad
    import torch

    torch.set_num_threads(args.threads)
    tapegrad.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    X = [rng.integers(0, VOCAB, (SEQ, BATCH)).astype(np.int64) for _ in range(8)]
    Y = [rng.integers(0, VOCAB, SEQ * BATCH).astype(np.int64) for _ in range(8)]

    tmodel, tstep = make_step(torch, X, Y, args.loss)
    gmodel, gstep = make_step(tapegrad, X, Y, args.loss)
    gmodel.load_state_dict(tmodel.state_dict())
    # the same losses for the first steps: both run the same computation
    for _ in range(3):
        lt, lg = tstep().item(), gstep().item()
        assert abs(lt - lg) <= 1e-4 * max(1.0, abs(lt)), (lt, lg)

    results = {}
    for _ in range(2):  # interleave the two frameworks, so drift in machine load hits both
        for name, step in (("torch", tstep), ("tapegrad", gstep)):
            results.setdefault(name, []).append(timed(step, args.steps, args.repeats))
    t_torch = min(results["torch"])
    t_tg = min(results["tapegrad"])
    print(f"LSTM LM step: Embedding({VOCAB}, {HIDDEN}) -> LSTM({HIDDEN}, {HIDDEN}, num_layers={LAYERS}) -> "
          f"{'Linear + CrossEntropyLoss' if args.loss == 'ce' else 'output.sum()'}, seq {SEQ}, batch {BATCH}, "
          f"SGD, {args.threads} threads")
    print(f"torch     {t_torch * 1e3:8.2f} ms/step")
    print(f"tapegrad  {t_tg * 1e3:8.2f} ms/step")
    print(f"tapegrad/torch {t_tg / t_torch:.2f}")


if __name__ == "__main__":
    main()
