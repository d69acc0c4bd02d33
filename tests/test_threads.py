"""Intra-op threads: torch.set_num_threads / get_num_threads, and tapegrad's own pool.

tapegrad splits convolution, pooling and large matrix products over its threads once it has
engaged its pool (the BLAS then runs single-threaded, see tapegrad/_threads.py). A split must give
exactly the numbers of the serial path, so that a run's results do not depend on the thread count.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tapegrad
from tapegrad import _threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_set_and_get_num_threads_round_trip():
    before = tapegrad.get_num_threads()
    try:
        tapegrad.set_num_threads(1)
        assert tapegrad.get_num_threads() == 1
        tapegrad.set_num_threads(2)
        assert tapegrad.get_num_threads() == 2
        tapegrad.set_num_threads(np.int64(3))     # any integer, as in PyTorch
        assert tapegrad.get_num_threads() == 3
    finally:
        tapegrad.set_num_threads(before)


def test_set_num_threads_rejects_what_torch_rejects():
    for bad in (0, -1):
        with pytest.raises(RuntimeError, match="positive integer"):
            tapegrad.set_num_threads(bad)
    for bad in (2.0, "2", True, None):
        with pytest.raises(RuntimeError, match="expects an int"):
            tapegrad.set_num_threads(bad)


def _run(code, **env):
    full = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        full.pop(var, None)
    full.update(env)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=full, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_default_thread_count_like_torch():
    """The cores this process may use, fewer where OMP_NUM_THREADS (or the BLAS's variable) says so;
    never more than the cores, as torch.get_num_threads()."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    code = "import tapegrad; print(tapegrad.get_num_threads())"
    assert _run(code) == [str(cores)]
    assert _run(code, OMP_NUM_THREADS="1") == ["1"]
    assert _run(code, OPENBLAS_NUM_THREADS="1") == ["1"]
    assert _run(code, OMP_NUM_THREADS=str(cores + 3)) == [str(cores)]
    assert _run(code, OMP_NUM_THREADS="nonsense") == [str(cores)]
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    both = "import tapegrad, torch; print(tapegrad.get_num_threads(), torch.get_num_threads())"
    for env in ({}, {"OMP_NUM_THREADS": "1"}, {"OMP_NUM_THREADS": str(cores + 3)}):
        a, b = _run(both, **env)
        assert a == b, env


@pytest.mark.skipif(_threads._openblas() is None, reason="needs the OpenBLAS bundled with NumPy")
def test_engages_at_first_convolution_only():
    """set_num_threads gives the BLAS its threads; the first convolution big enough to split makes the
    BLAS single-threaded for good (tapegrad's pool does the splitting), without changing the count;
    matrix products alone never engage; set_num_threads(1) means one thread everywhere."""
    out = _run("""
        import tapegrad, numpy as np
        from tapegrad import _threads
        tapegrad.set_num_threads(2)
        print(_threads.blas_threads(), _threads._ENGAGED[0])
        a = tapegrad.randn(512, 512, requires_grad=True)
        (a @ a).sum().backward()                                   # a product alone: no
        tapegrad.nn.functional.conv2d(tapegrad.randn(2, 1, 8, 8), tapegrad.randn(4, 1, 3, 3))  # too small: no
        print(_threads.blas_threads(), _threads._ENGAGED[0])
        tapegrad.nn.functional.conv2d(tapegrad.randn(64, 1, 28, 28), tapegrad.randn(32, 1, 5, 5))
        print(_threads.blas_threads(), _threads._ENGAGED[0], tapegrad.get_num_threads(), _threads.intraop_threads())
        tapegrad.set_num_threads(3)
        print(_threads.blas_threads(), tapegrad.get_num_threads(), _threads.intraop_threads())
        tapegrad.set_num_threads(1)
        print(_threads.blas_threads(), tapegrad.get_num_threads(), _threads.intraop_threads())
        tapegrad.set_num_threads(2)
        _threads._openblas()[0](2)              # someone gives the BLAS threads back: tapegrad stops splitting
        print(_threads.intraop_threads(engage=True))
    """, OMP_NUM_THREADS="2")
    assert out == ["2", "False", "2", "False", "1", "True", "2", "2", "1", "3", "3", "1", "1", "1", "1"]


@pytest.fixture
def threads():
    """Set the thread count for the split paths (engaged, BLAS single-threaded); restore afterwards."""
    saved = (_threads._threads[0], _threads._ENGAGED[0], _threads.blas_threads())
    calls = []
    real = _threads.parallel_for

    def spy(fn, bounds):
        calls.append(len(bounds) - 1)
        real(fn, bounds)

    def use(n):
        tapegrad.set_num_threads(n)
        if n > 1:
            assert _threads.intraop_threads(engage=True) == n or _threads._openblas() is None
        calls.clear()
        return calls

    _threads.parallel_for, saved_pf = spy, real
    try:
        yield use
    finally:
        _threads.parallel_for = saved_pf
        _threads._threads[0], _threads._ENGAGED[0] = saved[0], saved[1]
        if saved[2] is not None:
            _threads._openblas()[0](saved[2])


def _same(threads, fn, *arrays, counts=(2, 3)):
    """fn's outputs and input gradients with 1 thread, then split over each count: exactly equal."""
    def once(n):
        calls = threads(n)
        ts = [tapegrad.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        outs = fn(*ts)
        outs = outs if isinstance(outs, tuple) else (outs,)
        rng = np.random.default_rng(1)
        loss = sum((o * tapegrad.tensor(rng.standard_normal(tuple(o.shape)).astype(o.detach().numpy().dtype))).sum()
                   for o in outs if o.is_floating_point())
        loss.backward()
        res = [o.detach().numpy().copy() for o in outs] + [t.grad.numpy().copy() for t in ts if t.grad is not None]
        return res, list(calls)

    serial, calls = once(1)
    assert not calls
    for n in counts:
        split, calls = once(n)
        if _threads._openblas() is not None:
            assert calls and max(calls) > 1, "the split path did not run"
        for a, b in zip(serial, split):
            assert a.dtype == b.dtype and a.shape == b.shape
            np.testing.assert_array_equal(a, b)


def _r(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_split_by_rows_is_exact(threads, dtype):
    _same(threads, lambda a, b: a @ b, _r(300, 256, dtype=dtype), _r(256, 200, dtype=dtype, seed=1))
    # transposed operands (BLAS flags), a ragged last chunk of rows
    _same(threads, lambda a, b: a.t() @ b.t(), _r(256, 437, dtype=dtype), _r(200, 256, dtype=dtype, seed=2))


def test_bmm_and_broadcast_matmul_split_over_batch_is_exact(threads):
    _same(threads, lambda a, b: tapegrad.bmm(a, b), _r(7, 128, 96), _r(7, 96, 128, seed=3))
    _same(threads, lambda a, b: a @ b, _r(5, 128, 128), _r(128, 112, seed=4))          # batch @ matrix
    _same(threads, lambda a, b: a @ b, _r(4, 1, 128, 128), _r(3, 128, 64, seed=5))     # broadcast batch


def test_linear_split_is_exact(threads):
    F = tapegrad.nn.functional
    _same(threads, lambda x, w, b: F.linear(x, w, b), _r(256, 512), _r(384, 512, seed=6), _r(384, seed=7))
    _same(threads, lambda x, w, b: F.linear(x, w, b), _r(48, 784), _r(512, 784, seed=8), _r(512, seed=9))  # few rows


@pytest.mark.parametrize("case", ["sample", "rows", "groups", "stride_pad"])
def test_conv_split_is_exact(threads, case):
    F = tapegrad.nn.functional
    if case == "sample":      # the convnet's first layer: a product per sample, weight gradient by blocks
        _same(threads, lambda x, w, b: F.conv2d(x, w, b), _r(37, 1, 28, 28), _r(32, 1, 5, 5, seed=1), _r(32, seed=2))
    elif case == "rows":      # its second layer: row chunks of one product
        _same(threads, lambda x, w, b: F.conv2d(x, w, b), _r(100, 32, 8, 8), _r(64, 32, 5, 5, seed=1),
              _r(64, seed=2))
    elif case == "groups":
        _same(threads, lambda x, w, b: F.conv2d(x, w, b, groups=2), _r(23, 8, 20, 20), _r(16, 4, 3, 3, seed=1),
              _r(16, seed=2))
    else:
        _same(threads, lambda x, w: F.conv2d(x, w, stride=2, padding=1), _r(200, 16, 14, 14),
              _r(32, 16, 3, 3, seed=1))


@pytest.mark.parametrize("kind", ["plain", "overlap", "padded"])
def test_max_pool_split_is_exact(threads, kind):
    F = tapegrad.nn.functional
    x = _r(24, 32, 24, 24)
    x[:, :, ::2] = np.round(x[:, :, ::2])     # ties: the first maximum wins in every chunk
    if kind == "plain":
        _same(threads, lambda x: F.max_pool2d(x, 3), x)
    elif kind == "overlap":
        _same(threads, lambda x: F.max_pool2d(x, 3, 2), x)
    else:
        _same(threads, lambda x: F.max_pool2d(x, 3, 2, 1), x)


def test_convnet_steps_same_with_any_thread_count(threads):
    """The lectures' convnet: a few SGD steps give bit-identical weights with 1, 2 and 3 threads."""
    nn = tapegrad.nn

    def train(n):
        threads(n)
        tapegrad.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 32, 5), nn.MaxPool2d(3), nn.ReLU(), nn.Conv2d(32, 64, 5),
                              nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(256, 200), nn.ReLU(),
                              nn.Linear(200, 10))
        opt = tapegrad.optim.SGD(model.parameters(), lr=0.1)
        rng = np.random.default_rng(0)
        for _ in range(3):
            x = tapegrad.tensor(rng.standard_normal((100, 1, 28, 28)).astype(np.float32))
            y = tapegrad.tensor(rng.integers(0, 10, 100))
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [p.detach().numpy().copy() for p in model.parameters()]

    serial = train(1)
    for n in (2, 3):
        for a, b in zip(serial, train(n)):
            np.testing.assert_array_equal(a, b)


def test_small_work_is_not_split(threads):
    threads(2)
    calls = threads(2)
    a = tapegrad.randn(64, 64, requires_grad=True)
    (a @ a).sum().backward()
    tapegrad.nn.functional.max_pool2d(tapegrad.randn(2, 3, 8, 8), 2)
    assert not calls


def test_split_errors_propagate(threads):
    threads(2)

    def boom(lo, hi):
        if lo:
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        _threads.parallel_for(boom, [0, 5, 10])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_forked_child():
    """DataLoader workers fork: the child makes its own pool (the parent's threads are not there)."""
    out = _run("""
        import multiprocessing as mp, numpy as np, tapegrad
        F = tapegrad.nn.functional
        tapegrad.set_num_threads(2)
        x = tapegrad.tensor(np.random.default_rng(0).standard_normal((64, 1, 28, 28)).astype(np.float32))
        w = tapegrad.tensor(np.random.default_rng(1).standard_normal((32, 1, 5, 5)).astype(np.float32))
        ref = F.max_pool2d(F.conv2d(x, w), 3).numpy()

        def child(q):
            q.put(bool(np.array_equal(F.max_pool2d(F.conv2d(x, w), 3).numpy(), ref)))

        q = mp.get_context("fork").Queue()
        p = mp.get_context("fork").Process(target=child, args=(q,))
        p.start()
        print(q.get(timeout=60))
        p.join(60)
        print(p.exitcode)
    """)
    assert out == ["True", "0"]
