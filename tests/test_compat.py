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


# ---- pytorch/examples super_resolution: nn.PixelShuffle after a conv
@pytest.mark.parametrize("shape, r", [((2, 18, 4, 5), 3), ((8, 3, 3), 2), ((2, 1, 4, 0, 2), 1), ((2, 3, 4, 6, 4), 2)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, r):
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    if x.shape[-3] % (r * r) == 0:
        t, g = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
        yt, yg = torch.nn.PixelShuffle(r)(t), tg.nn.PixelShuffle(r)(g)
        np.testing.assert_array_equal(yg.detach().numpy(), yt.detach().numpy())
        assert yg.grad_fn.name() == yt.grad_fn.name() == "PixelShuffleBackward0"
        w = np.random.RandomState(1).randn(*yt.shape).astype(np.float32)
        (yt * torch.tensor(w)).sum().backward()
        (yg * tg.tensor(w)).sum().backward()
        np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    if x.shape[-1] % r == 0 and x.shape[-2] % r == 0:
        zt, zg = torch.nn.functional.pixel_unshuffle(torch.tensor(x), r), tg.nn.functional.pixel_unshuffle(
            tg.tensor(x), r)
        np.testing.assert_array_equal(zg.numpy(), zt.numpy())
    assert repr(tg.nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(tg.nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


@pytest.mark.parametrize("call", [
    lambda m: m.nn.functional.pixel_shuffle(m.ones(4, 4), 2),
    lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 5, 2, 2), 2),
    lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 4, 2, 2), 0),
    lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 4, 2, 2), 2.0),
    lambda m: m.nn.functional.pixel_unshuffle(m.ones(1, 1, 5, 4), 2),
    lambda m: m.nn.functional.pixel_unshuffle(m.ones(1, 1, 4, 5), 2),
    lambda m: m.nn.functional.pixel_unshuffle(m.ones(1, 1, 4, 4), 0),
])
def test_pixel_shuffle_errors_match_torch(call):
    with pytest.raises(Exception) as et:
        call(torch)
    with pytest.raises(type(et.value)) as eg:
        call(tg)
    assert str(eg.value) == str(et.value)


def test_a_torch_nn_name_tapegrad_lacks_says_so():
    # before: AttributeError: module 'tapegrad.nn' has no attribute ..., which reads like a tapegrad bug
    for mod, name in ((tg.nn, "torch.nn"), (tg.nn.functional, "torch.nn.functional")):
        with pytest.raises(NotImplementedError, match=f"tapegrad does not implement {name}.NoSuchLayer"):
            getattr(mod, "NoSuchLayer")
        assert not hasattr(mod, "NoSuchLayer")


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_tapegrad_run_dataloader_workers_started_by_spawn_get_tapegrad(tmp_path, method):
    # a spawned worker re-imports the program; its `import torch` used to get the real torch, whose tensors
    # tapegrad's collate then rejected ("found <class 'torch.Tensor'>")
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    (tmp_path / "prog.py").write_text(
        "import torch\nfrom torch.utils.data import DataLoader, Dataset\n"
        "class DS(Dataset):\n    def __len__(self): return 4\n"
        "    def __getitem__(self, i): return torch.full((2,), float(i)), i\n"
        "if __name__ == '__main__':\n"
        f"    for x, y in DataLoader(DS(), batch_size=2, num_workers=1, multiprocessing_context={method!r}):\n"
        "        print(type(x).__module__.split('.')[0], x.sum().item(), y.tolist())\n")
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-m", "tapegrad.run", "prog.py"], cwd=tmp_path, capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.stdout.splitlines() == ["tapegrad 2.0 [0, 1]", "tapegrad 10.0 [2, 3]"], out.stderr
