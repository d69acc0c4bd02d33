"""Intra-op threads (torch.get_num_threads / set_num_threads) and the BLAS behind NumPy.

One thread count, as in PyTorch: set_num_threads(n) sets it; by default it is the number of cores
this process may run on (os.sched_getaffinity), or fewer where OMP_NUM_THREADS, MKL_NUM_THREADS or
OPENBLAS_NUM_THREADS asks for fewer. The count
drives tapegrad's own pool of threads (parallel_for), which splits convolution and pooling over the
batch and, above a size where a thread hand-off pays, matrix products by rows or over their batch.
NumPy releases the GIL in its loops and BLAS calls, so the chunks really run side by side.

The BLAS bundled with NumPy (OpenBLAS) has a pool of its own, and its workers spin for a while
after each multi-threaded call: next to tapegrad's threads the two pools fight for the cores.
tapegrad therefore keeps one pool busy at a time:

- until the first operation tapegrad splits itself (a convolution or pooling with enough work,
  and a count > 1), the BLAS keeps its threads (set_num_threads(n) gives it n), so programs made
  of matrix products (MLPs, transformers) use OpenBLAS's threads, which hand work over in a few
  microseconds where Python threads need tens;
- from that operation on ("engaged"), the BLAS runs single-threaded for the rest of the process,
  and tapegrad splits convolution, pooling and large products over its own threads. This is a
  process-wide side effect on plain NumPy code too: its products then use one core, with the
  values NumPy gives under OPENBLAS_NUM_THREADS=1. tapegrad's own results do not depend on its
  thread count: every split computes each output element with the same operations in the same
  order as the serial path (tests/test_threads.py).

Where the BLAS cannot be reached (no bundled OpenBLAS and no threadpoolctl) tapegrad never
engages and never splits. If the BLAS's thread count is raised again after engaging (threadpoolctl,
openblas_set_num_threads), tapegrad sees it and stops splitting rather than fight.
"""
import ctypes
import itertools
import os
import threading

_threads = [None]       # the count given to set_num_threads; None: the default
_ENGAGED = [False]      # the BLAS was set to one thread for tapegrad's own pool
_OPENBLAS = []          # [(set_fn, get_fn)] or [None], resolved once
_POOL = [None, 0, 0]    # executor, its number of workers, the pid that made it (fork: a new one)
_POOL_LOCK = threading.Lock()
_DEFAULT = []           # the default count, read once (as PyTorch reads its environment once)
_LOCAL = threading.local()   # .worker: this thread is one of the pool's (no nested splitting)


def _openblas():
    """(set, get) for the OpenBLAS that NumPy's wheels bundle, called through ctypes, or None."""
    if not _OPENBLAS:
        from . import _blas

        found = _blas.lib()
        if found is not None:
            cdll, prefix, suffix = found
            setter = getattr(cdll, f"{prefix}_set_num_threads{suffix}")
            getter = getattr(cdll, f"{prefix}_get_num_threads{suffix}", None)
            if getter is None:
                found = None
            else:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                found = (setter, getter)
        _OPENBLAS.append(found)
    return _OPENBLAS[0]


def _set_blas_threads(n):
    """Give NumPy's BLAS n threads. True when it could be reached."""
    ob = _openblas()
    if ob is not None:
        ob[0](n)
        return True
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return False
    threadpool_limits(n, user_api="blas")
    return True


def blas_threads():
    """The BLAS's thread count now, or None where it cannot be read cheaply."""
    ob = _openblas()
    return ob[1]() if ob is not None else None


def usable_cores():
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _default_threads():
    """PyTorch's default: the usable cores, or fewer where OMP_NUM_THREADS (or the BLAS's own
    variable: MKL_NUM_THREADS for PyTorch, OPENBLAS_NUM_THREADS for tapegrad) asks for fewer."""
    if not _DEFAULT:
        n = usable_cores()
        for var in _THREAD_VARS:
            v = os.environ.get(var, "").strip()
            if v.isdigit() and int(v) > 0:
                n = min(n, int(v))
        _DEFAULT.append(n)
    return _DEFAULT[0]


def get_num_threads():
    """The intra-op thread count (torch.get_num_threads)."""
    n = _threads[0]
    return _default_threads() if n is None else n


def set_num_threads(n):
    """torch.set_num_threads: the number of threads tapegrad's operators use. The BLAS gets n threads
    until tapegrad engages its own pool, and one thread from then on (see the module docstring)."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    n = int(n)
    if n < 1:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {n}")
    _threads[0] = n
    _set_blas_threads(1 if _ENGAGED[0] else n)


def _engage():
    if not _ENGAGED[0]:
        if not _set_blas_threads(1):
            return False
        _ENGAGED[0] = True
    return True


def intraop_threads(engage=False):
    """How many threads tapegrad may split an operation over now: the thread count, once engaged
    and while the BLAS is single-threaded, else 1. engage=True (convolution, pooling) engages."""
    n = _threads[0]
    if n is None:
        n = _default_threads()
    if n < 2 or getattr(_LOCAL, "worker", False):
        return 1
    if not _ENGAGED[0] and not (engage and _engage()):
        return 1
    ob = _openblas()
    if ob is not None and ob[1]() != 1:     # someone gave the BLAS threads again: let it do the work
        return 1
    return n


def _mark_worker():
    _LOCAL.worker = True


def _executor(workers):
    """The pool, with at least `workers` threads (ThreadPoolExecutor starts them as work arrives);
    a new one in a forked child, whose copy of the parent's pool has no threads."""
    with _POOL_LOCK:
        ex = _POOL[0]
        if ex is None or _POOL[1] < workers or _POOL[2] != os.getpid():
            from concurrent.futures import ThreadPoolExecutor

            if ex is not None and _POOL[2] == os.getpid():
                ex.shutdown(wait=False)
            workers = max(workers, _POOL[1] if _POOL[2] == os.getpid() else 0)
            ex = ThreadPoolExecutor(workers, thread_name_prefix="tapegrad-intraop", initializer=_mark_worker)
            _POOL[:] = [ex, workers, os.getpid()]
        return ex


def _after_fork_in_child():
    """A forked child (DataLoader workers) has none of the parent's pool threads, and a lock held by
    one of them at the fork would never be released: start afresh."""
    global _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    _POOL[:] = [None, 0, 0]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def parallel_for(fn, bounds):
    """fn(bounds[i], bounds[i + 1]) for each chunk i, on the calling thread and the pool's threads;
    returns when all are done (re-raising the first error).

    Chunks are claimed, not assigned: the calling thread takes the next unclaimed chunk until none is
    left, and a pool thread that has not started by then is cancelled. On a machine where another
    process holds a core, a late worker thus costs nothing (the caller does its chunk) instead of
    stalling the step until the scheduler runs it. Which thread computes a chunk never changes its
    numbers."""
    t = len(bounds) - 1
    if t < 2:
        if t == 1:
            fn(bounds[0], bounds[1])
        return
    claim = itertools.count().__next__  # one C call: atomic under the GIL

    def run():
        i = claim()
        while i < t:
            fn(bounds[i], bounds[i + 1])
            i = claim()

    ex = _executor(t - 1)
    futures = [ex.submit(run) for _ in range(t - 1)]
    try:
        run()
    finally:
        for f in futures:
            if not f.cancel():
                f.result()
