"""Regression tests for incompatibilities found by running real-style PyTorch programs (examples/) under
tapegrad. Each test names the program idiom that exposed the bug."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _both(fn):
    return fn(torch), fn(tg)


# ---- "What is torch.nn really?": nll as -input[range(n), target].mean()
def test_range_as_an_index_is_a_sequence_of_indices():
    def f(m):
        x = m.arange(12.).reshape(3, 4).requires_grad_()
        t = m.tensor([3, 0, 1])
        loss = -x[range(t.shape[0]), t].mean()
        loss.backward()
        return loss.item(), x.grad.tolist(), x[range(2)].tolist(), x[range(0)].shape, x[:, range(1, 3)].tolist()

    assert _both(f)[0] == _both(f)[1]


def test_grad_fn_of_basic_indexing_is_named_by_its_last_step():
    exprs = ["x[0]", "x[:, 0]", "x[0:2]", "x[0, 1:3]", "x[1:3, 0]", "x[None]", "x[0, None]", "x[:]", "x[...]",
             "x[..., 1]", "x[0, 0, 0]", "x[:, :, ::2]", "x[[0, 1]]", "x[range(2), 0]"]
    for e in exprs:
        t = eval(e, {"x": torch.randn(3, 4, 5, requires_grad=True)})
        g = eval(e, {"x": tg.randn(3, 4, 5, requires_grad=True)})
        assert g.grad_fn.name() == t.grad_fn.name(), e


def test_slice_bounds_may_be_tensors():
    # char_lm: src[i:i + block] with i drawn by torch.randint (a 0-d tensor from iterating an index tensor)
    def f(m):
        src = m.arange(10)
        return [src[i:i + 3].tolist() for i in m.tensor([0, 4, 7])]

    assert _both(f)[0] == _both(f)[1]


def test_cross_entropy_grad_fn_is_nll_loss_backward():
    # tutorials print the loss: tensor(2.3930, grad_fn=<NllLossBackward0>)
    x = np.random.RandomState(0).randn(4, 3).astype(np.float32)
    t, g = _both(lambda m: m.nn.functional.cross_entropy(m.tensor(x, requires_grad=True), m.tensor([0, 2, 1, 1])))
    assert repr(g) == repr(t)


def test_tapegrad_run_gives_the_program_an_absolute_file_as_python_does(tmp_path):
    # a traceback then names the program's file as `python prog.py` would, and chdir keeps __file__ valid
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (tmp_path / "prog.py").write_text("import argparse, os\nos.chdir('/')\nprint(os.path.isfile(__file__), "
                                      "os.path.isabs(__file__), argparse.ArgumentParser().prog)\n")
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-m", "tapegrad.run", "prog.py"], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=60)
    assert out.stdout.split() == ["True", "True", "prog.py"], out.stderr
