"""The MPI backend of tapegrad.distributed, over mpi4py: collectives on NumPy buffers, the check that
every rank called the same collective with the same shapes, and ending the whole job when a rank fails.

mpi4py is imported here only, when a process group is created, so `import tapegrad.distributed`
stays cheap and works without MPI installed.
"""
import os
import sys
import time
import traceback

import numpy as np

_MPI = None

# dtypes MPI reduces natively; others (float16, bfloat16, bool) are converted around the call
_NATIVE = {"float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "complex64", "complex128"}
_DTYPE_CODES = ["float32", "float64", "float16", "bfloat16", "int8", "int16", "int32", "int64", "uint8", "uint16",
                "uint32", "uint64", "bool", "complex64", "complex128"]
_OPS = ["all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
        "reduce_scatter_tensor", "reduce", "gather", "scatter", "barrier"]
_MAX_DIMS = 6
REDUCE_NAMES = ["sum", "avg", "product", "min", "max", "band", "bor", "bxor"]


def load():
    """mpi4py's MPI module (initialises MPI on first use), or a RuntimeError that says what to install."""
    global _MPI
    if _MPI is None:
        try:
            import mpi4py
        except ImportError:
            raise RuntimeError(
                "tapegrad.distributed runs on MPI and needs mpi4py: apt-get install openmpi-bin libopenmpi-dev "
                "(or your MPI), then pip install mpi4py (or pip install 'tapegrad[distributed]')") from None
        mpi4py.rc.thread_level = "serialized"
        from mpi4py import MPI

        _MPI = MPI
    return _MPI


def reduce_op(name):
    MPI = load()
    return {"sum": MPI.SUM, "avg": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX,
            "band": MPI.BAND, "bor": MPI.BOR, "bxor": MPI.BXOR}[name]


def _wire(arr, op=None):
    """(array MPI can send, how to put the result back): float16/bfloat16 travel as float32; bool as uint8
    (sum/max become logical or, product/min logical and, as in PyTorch)."""
    name = arr.dtype.name
    if name in _NATIVE:
        return arr, None
    if name == "bool":
        return arr.astype(np.uint8), np.bool_
    return arr.astype(np.float32), arr.dtype


class Comm:
    """One communicator (the world, or a new_group's) and the collectives tapegrad.distributed needs."""

    def __init__(self, comm, ranks):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.ranks = ranks  # global rank of each member
        self.check = os.environ.get("TAPEGRAD_DISTRIBUTED_CHECKS", "1") not in ("0", "off", "OFF")
        self._sig = np.zeros(4 + _MAX_DIMS, np.int64)
        self._sigs = np.empty((self.size, 4 + _MAX_DIMS), np.int64)

    # ---- the same collective, with the same shapes, on every rank --------------------------------------
    def agree(self, op, arr, extra=0, local_error=None, extra_name="op"):
        """Exchange a small fingerprint (collective, dtype, shape, `extra`) and raise the same error on every
        rank when they differ, naming the ranks and shapes; a one-rank `local_error` is raised on all ranks."""
        if not self.check or self.size == 1:
            if local_error:
                raise CollectiveMismatchError(f"{op}: rank {self.ranks[self.rank]}: {local_error}")
            return
        sig = self._sig
        sig[:] = 0
        sig[0] = _OPS.index(op)
        sig[1] = extra
        sig[2] = -1 if local_error else (_DTYPE_CODES.index(arr.dtype.name) if arr is not None else -2)
        if arr is not None:
            shape = arr.shape
            sig[3] = len(shape)
            sig[4:4 + min(len(shape), _MAX_DIMS)] = shape[:_MAX_DIMS]
            if len(shape) > _MAX_DIMS:
                sig[-1] = hash(shape[_MAX_DIMS - 1:]) & 0x7FFFFFFFFFFF
        sigs = self._sigs
        self.comm.Allgather(sig, sigs)
        if (sigs == sigs[0]).all() and sigs[0, 2] != -1:
            return
        errors = self.comm.allgather(local_error)
        ops_differ = len(set(sigs[:, 0].tolist())) > 1
        extras_differ = len(set(sigs[:, 1].tolist())) > 1
        parts = []
        for r, s in enumerate(sigs):
            if errors[r]:
                parts.append(f"rank {self.ranks[r]}: {errors[r]}")
                continue
            d = f"called {_OPS[s[0]]} with {_describe(s)}" if ops_differ else f"has {_describe(s)}"
            if extras_differ and not ops_differ:
                d += f" ({extra_name} {REDUCE_NAMES[s[1]] if extra_name == 'op' else int(s[1])})"
            parts.append(f"rank {self.ranks[r]} {d}")
        what = ("the ranks called different collectives" if ops_differ else
                "invalid arguments" if any(errors) else
                f"the ranks passed different {extra_name}s" if extras_differ else "tensors differ between ranks")
        raise CollectiveMismatchError(f"{op}: {what}: " + "; ".join(parts))

    # ---- collectives on NumPy arrays (C-contiguous; the caller copies when needed) ---------------------
    def allreduce(self, arr, op):
        wire, back = _wire(arr)
        self.comm.Allreduce(self._in_place(), wire, op=reduce_op(op) if back is not np.bool_ else _bool_op(op))
        return _back(arr, wire, back)

    def iallreduce(self, arr, op="sum"):
        return self.comm.Iallreduce(self._in_place(), arr, op=reduce_op(op))

    def bcast(self, arr, root):
        wire, back = _wire(arr)
        self.comm.Bcast(wire, root=root)
        return _back(arr, wire, back)

    def allgather(self, arr, out):
        wire, back = _wire(arr)
        recv = out if back is None else np.empty(out.shape, wire.dtype)
        self.comm.Allgather(wire, recv)
        if back is not None:
            out[...] = recv
        return out

    def reduce_scatter(self, send, out, op):
        wire, back = _wire(send)
        recv = out if back is None else np.empty(out.shape, wire.dtype)
        self.comm.Reduce_scatter_block(wire, recv, op=reduce_op(op) if back is not np.bool_ else _bool_op(op))
        if back is not None:
            out[...] = recv
        return out

    def reduce(self, arr, root, op):
        wire, back = _wire(arr)
        mop = reduce_op(op) if back is not np.bool_ else _bool_op(op)
        if self.rank == root:
            self.comm.Reduce(self._in_place(), wire, op=mop, root=root)
        else:
            self.comm.Reduce(wire, None, op=mop, root=root)
        return _back(arr, wire, back)

    def gather(self, arr, out, root):
        wire, back = _wire(arr)
        recv = None if out is None else (out if back is None else np.empty(out.shape, wire.dtype))
        self.comm.Gather(wire, recv, root=root)
        if out is not None and back is not None:
            out[...] = recv
        return out

    def scatter(self, send, out, root):
        wire, back = _wire(out)
        sendw = None if send is None else (send if back is None else send.astype(wire.dtype))
        self.comm.Scatter(sendw, wire, root=root)
        return _back(out, wire, back)

    def barrier(self):
        self.comm.Barrier()

    def _in_place(self):
        return load().IN_PLACE

    def free(self):
        try:
            self.comm.Free()
        except Exception:  # noqa: BLE001 - already finalised at exit
            pass


def _bool_op(op):
    MPI = load()
    return MPI.LAND if op in ("product", "min", "band") else MPI.LOR


def _back(arr, wire, back):
    if back is not None:
        arr[...] = wire if back is not np.bool_ else wire.astype(bool)
    return arr


def _describe(sig):
    code, ndim = int(sig[2]), int(sig[3])
    if code == -2:
        return "no tensor"
    dtype = _DTYPE_CODES[code]
    dims = [int(d) for d in sig[4:4 + min(ndim, _MAX_DIMS)]]
    if ndim > _MAX_DIMS:
        dims = dims[:_MAX_DIMS - 1] + ["..."]
    return f"{dtype} {list(dims)}".replace("'...'", "...")


class CollectiveMismatchError(RuntimeError):
    """Raised on every rank alike when the ranks' calls to a collective do not match."""

    all_ranks = True


# ---- one failing rank ends the job ------------------------------------------------------------------
_PREVIOUS_HOOK = [None]


_PREVIOUS_EXIT = [None]


def install_excepthook():
    """From init_process_group on: an uncaught exception, or sys.exit with a non-zero status, on any rank ends
    every rank of the job (otherwise the others would wait forever in their next collective)."""
    if _PREVIOUS_HOOK[0] is None:
        _PREVIOUS_HOOK[0] = sys.excepthook
        sys.excepthook = _excepthook
    if _PREVIOUS_EXIT[0] is None:
        _PREVIOUS_EXIT[0] = sys.exit
        sys.exit = _exit


def uninstall_excepthook():
    if _PREVIOUS_HOOK[0] is not None:
        sys.excepthook = _PREVIOUS_HOOK[0]
        _PREVIOUS_HOOK[0] = None
    if _PREVIOUS_EXIT[0] is not None:
        sys.exit = _PREVIOUS_EXIT[0]
        _PREVIOUS_EXIT[0] = None


def _exit(status=None):
    """sys.exit: a non-zero status makes this process end the job with MPI_Abort(status) when Python exits,
    instead of MPI_Finalize (which would wait for ranks that wait for this one)."""
    code = status if isinstance(status, int) or status is None else 1
    MPI = _MPI
    if code and MPI is not None and MPI.Is_initialized() and not MPI.Is_finalized() and MPI.COMM_WORLD.Get_size() > 1:
        import mpi4py.run

        sys.stderr.write(f"tapegrad.distributed: rank {MPI.COMM_WORLD.Get_rank()} of {MPI.COMM_WORLD.Get_size()} "
                         f"called sys.exit({status!r}); ending all ranks of the job\n")
        mpi4py.run.set_abort_status(code)
    (_PREVIOUS_EXIT[0] or _sys_exit)(status)


_sys_exit = sys.exit


def _excepthook(etype, value, tb):
    abort_job(value)
    (_PREVIOUS_HOOK[0] or sys.__excepthook__)(etype, value, tb)


def abort_job(exc, print_traceback=None, code=1):
    """After an uncaught `exc`: print its traceback and end every rank of the job with MPI_Abort, so that no
    other rank hangs in a collective waiting for this one. An error raised alike on every rank (a
    collective mismatch) is printed by rank 0 only. Returns, doing nothing, outside a job of 2+ ranks."""
    MPI = _MPI
    if MPI is None or not MPI.Is_initialized() or MPI.Is_finalized() or MPI.COMM_WORLD.Get_size() == 1:
        return
    rank, size = MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()
    if getattr(exc, "all_ranks", False) and rank != 0 and size > 1:
        time.sleep(5.0)  # rank 0 prints the same error and aborts the job, which ends this process
    else:
        if print_traceback is None:
            traceback.print_exception(type(exc), exc, exc.__traceback__)
        else:
            print_traceback()
    sys.stderr.write(f"tapegrad.distributed: rank {rank} of {size} failed ({type(exc).__name__}); "
                     "ending all ranks of the job\n")
    sys.stderr.flush()
    sys.stdout.flush()
    MPI.COMM_WORLD.Abort(code)
