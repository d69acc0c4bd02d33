"""tapegrad.distributed, DistributedDataParallel and DistributedSampler.

The single-process tests need neither MPI nor mpi4py. The others launch `mpirun -n 2` on the scripts in
tests/distributed_scripts/ and skip, with the reason, when Open MPI or mpi4py is missing.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.distributed as dist
from tapegrad.utils.data.distributed import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPTS = os.path.join(HERE, "distributed_scripts")
MPIRUN = shutil.which("mpirun") and os.path.realpath(shutil.which("mpirun"))  # /bin/mpirun confuses Open MPI
HAVE_MPI4PY = importlib.util.find_spec("mpi4py") is not None
needs_mpi = pytest.mark.skipif(
    not (MPIRUN and HAVE_MPI4PY),
    reason="needs MPI: apt-get install openmpi-bin libopenmpi-dev && pip install mpi4py "
           f"(mpirun {'found' if MPIRUN else 'missing'}, mpi4py {'found' if HAVE_MPI4PY else 'missing'})")


def mpirun(n, *args, env=None, timeout=90):
    """Run `mpirun -n n ARGS` (Python scripts get this interpreter); returns (returncode, stdout, stderr, seconds)."""
    version = subprocess.run([MPIRUN, "--version"], capture_output=True, text=True).stdout
    cmd = [MPIRUN, "-n", str(n)]
    if "Open MPI" in version or "OpenRTE" in version:
        cmd += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd += ["--allow-run-as-root"]  # CI runs as root
    full_env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                    OMPI_MCA_btl_vader_single_copy_mechanism="none",  # containers often forbid ptrace (CMA)
                    PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env or {}))
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        full_env.pop(var, None)
    start = time.perf_counter()
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT)
    return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start


def script(name):
    return os.path.join(SCRIPTS, name)


# ---- with MPI: mpirun -n 2 --------------------------------------------------------------------------------
@needs_mpi
def test_collectives_against_numpy_and_mismatch_errors():
    rc, out, err, _ = mpirun(2, sys.executable, script("collectives.py"))
    assert rc == 0 and "COLLECTIVES OK" in out, out + err
    assert "rank 0 has float32 [3, 2]; rank 1 has float32 [3, 3]" in out


@needs_mpi
def test_ddp_equals_single_process_training(tmp_path):
    """MLP and convnet: 2 processes x batch B give, step for step, the parameters of 1 process x batch 2B;
    also no_sync accumulation, unused parameters, several buckets, the sampler's shares, and a checkpoint
    written by rank 0 from which every rank resumes."""
    rc, out, err, _ = mpirun(2, sys.executable, script("ddp_equivalence.py"), str(tmp_path))
    assert rc == 0 and "DDP OK" in out, out + err
    lines = [line for line in out.splitlines() if line.endswith((" ok", "FAIL"))]
    assert len(lines) == 8 and all(line.endswith(" ok") for line in lines), out
    assert os.listdir(tmp_path) == ["ckpt.pt"]


def _one_traceback(text, message):
    return text.count("Traceback (most recent call last)") == 1 and text.count(message) == 1


@needs_mpi
def test_a_failing_rank_ends_the_job_promptly():
    """Rank 1 raises while rank 0 waits in all_reduce: the job ends non-zero in seconds, not at the timeout,
    with the traceback printed once."""
    rc, out, err, seconds = mpirun(2, sys.executable, script("fail.py"), timeout=60)
    assert rc != 0 and "UNREACHABLE" not in out
    assert _one_traceback(out + err, "ValueError: rank one broke on purpose"), out + err
    assert "rank 1 of 2 failed" in err
    assert seconds < 30


@needs_mpi
def test_uncaught_mismatch_is_printed_once():
    rc, out, err, seconds = mpirun(2, sys.executable, script("fail.py"), "mismatch", timeout=60)
    assert rc != 0 and "UNREACHABLE" not in out
    assert _one_traceback(out + err, "rank 0 has float32 [4]; rank 1 has float32 [5]"), out + err
    assert seconds < 30


@needs_mpi
def test_sys_exit_on_one_rank_ends_the_job():
    rc, out, err, seconds = mpirun(2, sys.executable, script("fail.py"), "exit", timeout=60)
    assert rc != 0 and "UNREACHABLE" not in out, out + err
    assert "rank 1 of 2 called sys.exit(3)" in err and seconds < 30


@needs_mpi
def test_tapegrad_run_runs_a_torch_ddp_program_on_mpi():
    """A program written for torchrun (gloo, env://, DDP, DistributedSampler) runs unchanged under
    `mpirun -n 2 tapegrad run`, on MPI, with one note."""
    rc, out, err, _ = mpirun(2, sys.executable, "-m", "tapegrad", "run", script("torch_program.py"))
    assert rc == 0, out + err
    assert "parameters identical on all ranks: True" in out
    assert float(out.split("accuracy ")[1].split(",")[0]) > 0.8
    assert err.count("backend 'gloo' is not part of tapegrad; running on MPI") == 1, err


@needs_mpi
def test_tapegrad_run_failure_ends_the_job():
    rc, out, err, seconds = mpirun(2, sys.executable, "-m", "tapegrad", "run", script("torch_program.py"),
                                   env={"FAIL_RANK": "1"}, timeout=60)
    assert rc != 0 and "trained:" not in out
    assert _one_traceback(out + err, "RuntimeError: rank 1 failed after training"), out + err
    assert seconds < 30


@needs_mpi
def test_experiment_convnet_workers(tmp_path):
    """`tapegrad experiment convnet --workers 2`: both runs see the same examples in every step, so the test
    errors agree and the final models differ by float32 rounding only."""
    from tapegrad.datasets import write_idx

    rng = np.random.default_rng(0)
    templates = rng.random((10, 28, 28)) < 0.15
    folder = tmp_path / "data" / "MNIST" / "raw"
    folder.mkdir(parents=True)
    for prefix, n in (("train", 400), ("t10k", 200)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(str(folder / f"{prefix}-images-idx3-ubyte.gz"),
                  (templates[labels] * 200 + rng.integers(0, 56, (n, 28, 28))).astype(np.uint8))
        write_idx(str(folder / f"{prefix}-labels-idx1-ubyte.gz"), labels)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    proc = subprocess.run([sys.executable, "-m", "tapegrad", "experiment", "convnet", "--workers", "2", "--epochs", "2",
                           "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    import csv

    with open(tmp_path / "out" / "convnet.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2"] and all(r["workers"] == "2" for r in rows)
    assert all(r["test_error_1"] == r["test_error_n"] for r in rows)
    diff = float(proc.stdout.split("differ by at most ")[1].split()[0])
    assert diff < 1e-4, proc.stdout


# ---- without MPI ----------------------------------------------------------------------------------------
def test_import_does_not_load_mpi():
    code = ("import sys, tapegrad as torch; import tapegrad.distributed, tapegrad.nn.parallel; "
            "torch.nn.parallel.DistributedDataParallel; torch.utils.data.DistributedSampler; "
            "print('mpi4py' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip() == "False", out.stderr


def test_uninitialized_group_errors_like_pytorch():
    msg = "Default process group has not been initialized"
    for fn in (dist.get_rank, dist.get_world_size, dist.barrier, lambda: dist.all_reduce(tg.ones(2))):
        with pytest.raises(ValueError, match=msg):
            fn()
    with pytest.raises(ValueError, match=msg):
        DistributedSampler(range(4))
    from tapegrad.nn.parallel import DistributedDataParallel

    with pytest.raises(ValueError, match=msg):
        DistributedDataParallel(tg.nn.Linear(2, 2))
    assert not dist.is_initialized()


def test_init_outside_mpirun_says_how_to_launch(monkeypatch):
    for var in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WORLD_SIZE", "4")
    with pytest.raises(RuntimeError, match=r"mpirun -n 4"):
        dist.init_process_group("nccl", init_method="env://")
    with pytest.raises(ValueError, match="Invalid backend: 'carrier-pigeon'"):
        dist.init_process_group("carrier-pigeon")
    assert not dist.is_initialized()


def test_reduce_op_names():
    assert dist.ReduceOp.SUM == dist.ReduceOp.SUM != dist.ReduceOp.MAX
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (12, 4, False), (5, 8, False),
                                                  (11, 2, True), (1, 3, False)])
def test_distributed_sampler_partitions(n, replicas, drop_last):
    shares = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last, seed=3))
              for r in range(replicas)]
    flat = [i for s in shares for i in s]
    size = len(DistributedSampler(range(n), num_replicas=replicas, rank=0, drop_last=drop_last))
    assert all(len(s) == size for s in shares)
    if drop_last:
        assert len(set(flat)) == len(flat) == n // replicas * replicas  # disjoint; the uneven tail dropped
    else:
        assert set(flat) == set(range(n)) and len(flat) == -(-n // replicas) * replicas  # complete, padded
        if n % replicas == 0:
            assert len(set(flat)) == n  # disjoint when nothing needs padding
    again = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, drop_last=drop_last, seed=3))
             for r in range(replicas)]
    assert again == shares  # reproducible: the same permutation in every process


def test_distributed_sampler_epochs_and_seed():
    s = DistributedSampler(range(100), num_replicas=2, rank=1, seed=0)
    e0 = list(s)
    s.set_epoch(1)
    e1 = list(s)
    assert e0 != e1 and sorted(e0) != sorted(range(100))
    assert list(DistributedSampler(range(100), num_replicas=2, rank=1, seed=1)) != e0
    assert list(DistributedSampler(range(7), num_replicas=2, rank=0, shuffle=False)) == [0, 2, 4, 6]
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)


def test_distributed_sampler_layout_matches_pytorch():
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for n in (1, 7, 10, 12, 13):
        for replicas in (1, 2, 3, 5):
            for drop_last in (False, True):
                for rank in range(replicas):
                    kw = dict(num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
                    ours, theirs = DistributedSampler(range(n), **kw), TorchSampler(range(n), **kw)
                    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_post_accumulate_grad_hook_matches_pytorch():
    torch = pytest.importorskip("torch")

    def run(lib):
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        b = lib.tensor([0.5, 0.5, 0.5], requires_grad=True)
        calls = []
        w.register_post_accumulate_grad_hook(lambda p: calls.append(("w", p.grad.tolist())))
        h = b.register_post_accumulate_grad_hook(lambda p: calls.append(("b", p.grad.tolist())))
        ((w * w).sum() + (w * b).sum() + w.sum() * 2).backward()  # w reaches the leaf along 4 edges
        (w * b).sum().backward()
        h.remove()
        (w * b).sum().backward()
        lib.autograd.grad((w * b).sum(), [w])  # no accumulation, no hook
        return sorted(calls[:2]) + calls[2:]

    assert run(tg) == run(torch)
    x = tg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="non-leaf"):
        x.register_post_accumulate_grad_hook(lambda p: None)


def test_queue_callback_runs_once_after_backward():
    from tapegrad.autograd.engine import queue_callback

    w = tg.ones(3, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda p: queue_callback(lambda: seen.append(p.grad.tolist())))
    (w * 2).sum().backward()
    assert seen == [[2.0, 2.0, 2.0]]
    with pytest.raises(RuntimeError, match="only be installed during backward"):
        queue_callback(lambda: None)
