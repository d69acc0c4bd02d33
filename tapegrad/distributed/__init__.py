"""tapegrad.distributed: PyTorch's torch.distributed (process groups and collectives), over MPI.

    import tapegrad.distributed as dist
    dist.init_process_group(backend="mpi")      # rank and world size from mpirun
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Launch with `mpirun -n 4 python train.py` or `mpirun -n 4 tapegrad run train.py`. A program asking for
"gloo" or "nccl" runs on MPI (with a note); `env://` variables (RANK, WORLD_SIZE) are accepted and must
agree with the launcher's. Every collective first checks, with one small message, that all ranks
called the same collective with the same dtypes and shapes, and otherwise raises the same error on
every rank, naming the ranks and shapes (TAPEGRAD_DISTRIBUTED_CHECKS=0 turns the check off). After
init_process_group, an uncaught exception on any rank prints its traceback once and ends every
rank (MPI_Abort) rather than leaving the others waiting in a collective.

The MPI backend (mpi4py) is in _mpi.py and is imported only by init_process_group.
"""
import os
import re
import sys

import numpy as np

__all__ = ["ReduceOp", "ProcessGroup", "Work", "group", "GroupMember", "is_available", "is_initialized",
           "is_mpi_available", "is_gloo_available", "is_nccl_available", "is_torchelastic_launched",
           "init_process_group", "destroy_process_group", "new_group", "get_backend", "get_rank", "get_world_size",
           "get_group_rank", "get_global_rank", "get_process_group_ranks", "barrier", "monitored_barrier",
           "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "reduce", "gather", "scatter", "send", "recv", "isend", "irecv",
           "all_gather_object", "broadcast_object_list", "gather_object", "CollectiveMismatchError"]


class ReduceOp:
    """torch.distributed.ReduceOp: SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<RedOpType.{self.name}: {_REDUCE.index(self.name.lower())}>"

    def __eq__(self, other):
        return isinstance(other, ReduceOp) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


_REDUCE = ["sum", "avg", "product", "min", "max", "band", "bor", "bxor"]
for _n in _REDUCE:
    setattr(ReduceOp, _n.upper(), ReduceOp(_n.upper()))
ReduceOp.RedOpType = ReduceOp


class ProcessGroup:
    """A set of ranks that communicate: the world (group.WORLD) or one made by new_group."""

    def __init__(self, comm, ranks):
        self._comm = comm  # tapegrad.distributed._mpi.Comm, None on ranks outside the group
        self._ranks = list(ranks)

    def rank(self):
        return self._comm.rank if self._comm is not None else -1

    def size(self):
        return len(self._ranks)

    def name(self):
        return "mpi"

    def __repr__(self):
        return f"<tapegrad.distributed.ProcessGroup mpi ranks={self._ranks}>"


class group:  # noqa: N801 - PyTorch's name
    WORLD = None


class GroupMember:
    WORLD = None
    NON_GROUP_MEMBER = ProcessGroup(None, [])


class Work:
    """What a collective with async_op=True returns: wait() until it has finished."""

    def __init__(self, request=None, finish=None):
        self._request, self._finish = request, finish

    def wait(self, timeout=None):
        if self._request is not None:
            self._request.Wait()
            self._request = None
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()
        return True

    def is_completed(self):
        if self._request is not None and self._request.Test():
            self._request = None
        return self._request is None

    def is_success(self):
        return self.is_completed()


def __getattr__(name):
    if name == "CollectiveMismatchError":
        from ._mpi import CollectiveMismatchError

        return CollectiveMismatchError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---- the launcher ----------------------------------------------------------------------------------------
_LAUNCHERS = (  # (rank, size, local rank, local size) as each MPI launcher sets them
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("PMIX_RANK", None, None, None),
)


def _launcher():
    """{"RANK": .., "WORLD_SIZE": .., ...} from the MPI launcher's environment, or None outside one."""
    env = os.environ
    for names in _LAUNCHERS:
        if names[0] in env:
            out = {}
            for key, var in zip(("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"), names):
                if var is not None and env.get(var, "").isdigit():
                    out[key] = env[var]
            return out
    return None


def _export_launcher_env():
    """Under mpirun, set torchrun's RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE where unset, so that a
    PyTorch program written for torchrun (it reads them) runs unchanged."""
    found = _launcher()
    if found:
        for key, value in found.items():
            os.environ.setdefault(key, value)


_export_launcher_env()

# ---- the default group -------------------------------------------------------------------------------------
_STATE = {"world": None, "groups": []}
_TORCH_BACKENDS = {"mpi", "gloo", "nccl", "ucc", "xccl", "hccl", "mccl", "undefined"}


def is_available():
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def is_gloo_available():
    return False


def is_nccl_available():
    return False


def is_torchelastic_launched():
    return False


def is_initialized():
    return _STATE["world"] is not None


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join the job's processes into the default group. Rank and world size come from the MPI launcher;
    `rank`, `world_size` and env:// variables, when given, must agree with them."""
    if _STATE["world"] is not None:
        raise ValueError("trying to initialize the default process group twice!")
    asked = "mpi" if backend is None else str(backend).lower()
    names = {n for n in re.split(r"[,:\s]+", asked) if n and n not in ("cpu", "cuda")} or {"mpi"}
    unknown = names - _TORCH_BACKENDS
    if unknown:
        raise ValueError(f"Invalid backend: '{backend}'")
    launched = _launcher()
    env_size = os.environ.get("WORLD_SIZE")
    want = world_size if world_size not in (None, -1) else (int(env_size) if env_size and env_size.isdigit() else 1)
    if launched is None and want > 1:
        raise RuntimeError(
            f"tapegrad.distributed runs on MPI: start the {want} processes with `mpirun -n {want} python "
            f"PROGRAM.py` (or `mpirun -n {want} tapegrad run PROGRAM.py`); a rendezvous through "
            f"{init_method or 'env://'} without an MPI launcher (torchrun) is not supported")
    from . import _mpi

    MPI = _mpi.load()
    world = MPI.COMM_WORLD
    r, n = world.Get_rank(), world.Get_size()
    for label, given in (("rank", rank), ("world_size", world_size),
                         ("RANK", os.environ.get("RANK")), ("WORLD_SIZE", env_size)):
        if given in (None, -1, ""):
            continue
        mine = r if label.lower() == "rank" else n
        if int(given) != mine:
            src = f"the environment variable {label}" if label.isupper() else f"{label}={given}"
            raise ValueError(f"init_process_group: {src} says {given}, but MPI started this process as rank {r} "
                             f"of {n}; launch with `mpirun -n N` and let tapegrad read the rank from MPI")
    comm = _mpi.Comm(world.Dup(), list(range(n)))
    pg = ProcessGroup(comm, range(n))
    _STATE["world"] = pg
    group.WORLD = GroupMember.WORLD = pg
    _mpi.install_excepthook()
    local = world.Split_type(MPI.COMM_TYPE_SHARED)
    for key, value in (("RANK", r), ("WORLD_SIZE", n), ("LOCAL_RANK", local.Get_rank()),
                       ("LOCAL_WORLD_SIZE", local.Get_size())):
        os.environ.setdefault(key, str(value))
    local.Free()
    if names != {"mpi"} and r == 0:
        sys.stderr.write(f"tapegrad.distributed: note: backend {backend!r} is not part of tapegrad; running on MPI "
                         f"({n} process{'es' if n != 1 else ''} from the MPI launcher)\n")
        sys.stderr.flush()


def destroy_process_group(group=None):
    from . import _mpi

    if group is not None and group is not _STATE["world"]:
        if group._comm is not None:
            group._comm.free()
            group._comm = None
        return
    for pg in _STATE["groups"] + ([_STATE["world"]] if _STATE["world"] is not None else []):
        if pg._comm is not None:
            pg._comm.free()
            pg._comm = None
    _STATE["world"], _STATE["groups"] = None, []
    globals()["group"].WORLD = GroupMember.WORLD = None
    _mpi.uninstall_excepthook()


def _world():
    pg = _STATE["world"]
    if pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return pg


def _group(g):
    world = _world()
    if g is None or g is world:
        return world
    if not isinstance(g, ProcessGroup):
        raise TypeError(f"group must be a ProcessGroup (from new_group), got {type(g).__name__}")
    return g


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None):
    """A group of some ranks; like PyTorch, every rank of the world must call it, members or not."""
    world = _world()
    n = world.size()
    ranks = list(range(n)) if ranks is None else sorted({int(r) for r in ranks})
    bad = [r for r in ranks if not 0 <= r < n]
    if bad:
        raise ValueError(f"new_group: ranks {bad} are not in the world of {n} processes")
    from . import _mpi

    MPI = _mpi.load()
    wcomm = world._comm.comm
    sub = wcomm.Create(wcomm.Get_group().Incl(ranks))
    if sub == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(_mpi.Comm(sub, ranks), ranks)
    _STATE["groups"].append(pg)
    return pg


def get_backend(group=None):
    _group(group)
    return "mpi"


def get_rank(group=None):
    return _group(group).rank()


def get_world_size(group=None):
    g = _group(group)
    return g.size() if g._comm is not None else -1


def get_process_group_ranks(group):
    return list(_group(group)._ranks)


def get_group_rank(group, global_rank):
    ranks = _group(group)._ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def get_global_rank(group, group_rank):
    return _group(group)._ranks[group_rank]


# ---- collectives ---------------------------------------------------------------------------------------
def _comm_of(g):
    return _group(g)._comm  # None on a rank outside `g`: the collective does nothing there, as in PyTorch


def _root(g, rank, group_rank, what):
    pg = _group(g)
    if group_rank is not None:
        return group_rank
    if rank is None:
        rank = 0
    if rank not in pg._ranks:
        raise ValueError(f"{what} rank {rank} is not part of the group (ranks {pg._ranks})")
    return pg._ranks.index(rank)


def _op_name(op):
    if isinstance(op, ReduceOp):
        return op.name.lower()
    name = str(getattr(op, "name", op)).lower()
    if name not in _REDUCE:
        raise ValueError(f"unknown reduce op {op!r} (use tapegrad.distributed.ReduceOp)")
    return name


def _data(t, what="tensor"):
    from .._tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor, got {type(t).__name__}")
    return t._data


def _host(t):
    """(C-contiguous NumPy array to communicate, function that writes it back into `t` when it is a copy)."""
    d = _data(t)
    if d.__class__ is np.ndarray and d.flags.c_contiguous and d.flags.writeable:
        return d, _bump(t)
    arr = np.ascontiguousarray(d.get() if d.__class__ is not np.ndarray else d)

    def back():
        if d.__class__ is np.ndarray:
            d[...] = arr
        else:
            import cupy

            d[...] = cupy.asarray(arr)
        t._version_ctr.v += 1

    return arr, back


def _bump(t):
    def back():
        t._version_ctr.v += 1

    return back


def _avg(arr, size):
    if arr.dtype.kind in "fc":
        arr /= size
    else:
        np.floor_divide(arr, size, out=arr)


def _done(async_op, request=None, finish=None):
    if async_op:
        return Work(request, finish)
    if finish is not None:
        finish()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce `tensor` over the ranks, in place, on every rank."""
    comm = _comm_of(group)
    if comm is None:
        return None
    name = _op_name(op)
    arr, back = _host(tensor)
    comm.agree("all_reduce", arr, _REDUCE.index(name))
    if async_op and arr.dtype.name in ("float32", "float64", "int32", "int64") and name in ("sum", "avg"):
        req = comm.iallreduce(arr, "sum")

        def finish():
            if name == "avg":
                _avg(arr, comm.size)
            back()

        return Work(req, finish)
    comm.allreduce(arr, name)
    if name == "avg":
        _avg(arr, comm.size)
    back()
    return _done(async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy rank `src`'s tensor into `tensor` on every rank."""
    comm = _comm_of(group)
    if comm is None:
        return None
    root = _root(group, src, group_src, "broadcast: src")
    arr, back = _host(tensor)
    comm.agree("broadcast", arr, root, extra_name="src")
    comm.bcast(arr, root)
    back()
    return _done(async_op)


def _list_error(tensor_list, arr, n, what):
    from .._tensor import Tensor

    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != n:
        got = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else type(tensor_list).__name__
        return f"{what} must be a list of {n} tensors (the group's size), got {got}"
    for i, t in enumerate(tensor_list):
        if not isinstance(t, Tensor) or t._data.shape != arr.shape or t._data.dtype != arr.dtype:
            desc = f"{t.dtype} {list(t.shape)}" if isinstance(t, Tensor) else type(t).__name__
            return (f"{what}[{i}] is {desc}, but the tensor is {arr.dtype} {list(arr.shape)}; every entry must "
                    "match it")
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """tensor_list[i] = rank i's `tensor`, on every rank."""
    comm = _comm_of(group)
    if comm is None:
        return None
    arr = np.ascontiguousarray(_host(tensor)[0])
    err = _list_error(tensor_list, arr, comm.size, "tensor_list")
    comm.agree("all_gather", arr, local_error=err)
    out = np.empty((comm.size,) + arr.shape, arr.dtype)
    comm.allgather(arr, out)
    for i, t in enumerate(tensor_list):
        t._data[...] = out[i]
        t._version_ctr.v += 1
    return _done(async_op)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Rank i's input_tensor into the i-th slice (along dim 0, or stacked) of output_tensor."""
    comm = _comm_of(group)
    if comm is None:
        return None
    arr = _host(input_tensor)[0]
    out, back = _host(output_tensor)
    n, shp = comm.size, arr.shape
    ok = out.dtype == arr.dtype and (out.shape == (n,) + shp or (
        len(shp) > 0 and out.shape == (n * shp[0],) + shp[1:]))
    err = None if ok else (f"output_tensor is {out.dtype} {list(out.shape)}; expected {arr.dtype} "
                           f"{[n * shp[0]] + list(shp[1:]) if shp else [n]} for inputs of {list(shp)}")
    comm.agree("all_gather_into_tensor", arr, local_error=err)
    comm.allgather(arr, out.reshape((n,) + shp))
    back()
    return _done(async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """output = the reduction over ranks of input_list[this rank]."""
    comm = _comm_of(group)
    if comm is None:
        return None
    name = _op_name(op)
    out, back = _host(output)
    err = _list_error(input_list, out, comm.size, "input_list")
    comm.agree("reduce_scatter", out, _REDUCE.index(name), local_error=err)
    send = np.stack([np.asarray(t._data) for t in input_list])
    comm.reduce_scatter(send, out, name)
    if name == "avg":
        _avg(out, comm.size)
    back()
    return _done(async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    comm = _comm_of(group)
    if comm is None:
        return None
    name = _op_name(op)
    out, back = _host(output)
    arr = np.ascontiguousarray(_host(input)[0])
    n, shp = comm.size, out.shape
    ok = arr.dtype == out.dtype and (arr.shape == (n,) + shp or (
        len(shp) > 0 and arr.shape == (n * shp[0],) + shp[1:]))
    err = None if ok else f"input is {arr.dtype} {list(arr.shape)}; expected {n} times the output {list(shp)}"
    comm.agree("reduce_scatter_tensor", out, _REDUCE.index(name), local_error=err)
    comm.reduce_scatter(arr.reshape((n,) + shp), out, name)
    if name == "avg":
        _avg(out, comm.size)
    back()
    return _done(async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """The reduction over ranks lands in `tensor` on rank `dst` (other ranks' tensors are left as they were)."""
    comm = _comm_of(group)
    if comm is None:
        return None
    name = _op_name(op)
    root = _root(group, dst, group_dst, "reduce: dst")
    arr, back = _host(tensor)
    comm.agree("reduce", arr, root, extra_name="dst")
    comm.reduce(arr if comm.rank == root else arr.copy(), root, name)
    if comm.rank == root:
        if name == "avg":
            _avg(arr, comm.size)
        back()
    return _done(async_op)


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    root = _root(group, dst, group_dst, "gather: dst")
    arr = np.ascontiguousarray(_host(tensor)[0])
    err = _list_error(gather_list, arr, comm.size, "gather_list") if comm.rank == root else (
        None if not gather_list else "gather_list must be given on the destination rank only")
    comm.agree("gather", arr, root, local_error=err, extra_name="dst")
    out = np.empty((comm.size,) + arr.shape, arr.dtype) if comm.rank == root else None
    comm.gather(arr, out, root)
    if out is not None:
        for i, t in enumerate(gather_list):
            t._data[...] = out[i]
            t._version_ctr.v += 1
    return _done(async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    root = _root(group, src, group_src, "scatter: src")
    arr, back = _host(tensor)
    err = _list_error(scatter_list, arr, comm.size, "scatter_list") if comm.rank == root else (
        None if not scatter_list else "scatter_list must be given on the source rank only")
    comm.agree("scatter", arr, root, local_error=err, extra_name="src")
    send = np.stack([np.asarray(t._data) for t in scatter_list]) if comm.rank == root else None
    comm.scatter(send, arr, root)
    back()
    return _done(async_op)


def barrier(group=None, async_op=False, device_ids=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    comm.agree("barrier", None)
    comm.barrier()
    return _done(async_op)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    return barrier(group)


# ---- point to point ------------------------------------------------------------------------------------
def _peer(g, rank, group_rank, what):
    return _root(g, rank, group_rank, what) if (rank is not None or group_rank is not None) else None


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    comm = _comm_of(group)
    comm.comm.Send(np.ascontiguousarray(_host(tensor)[0]), dest=_peer(group, dst, group_dst, "send: dst"), tag=tag)


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor` from `src` (any rank when None); returns the sender's rank."""
    from . import _mpi

    MPI = _mpi.load()
    comm = _comm_of(group)
    arr, back = _host(tensor)
    peer = _peer(group, src, group_src, "recv: src")
    status = MPI.Status()
    comm.comm.Recv(arr, source=MPI.ANY_SOURCE if peer is None else peer, tag=tag, status=status)
    back()
    return _group(group)._ranks[status.Get_source()]


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    comm = _comm_of(group)
    arr = np.ascontiguousarray(_host(tensor)[0])
    return Work(comm.comm.Isend(arr, dest=_peer(group, dst, group_dst, "isend: dst"), tag=tag))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    from . import _mpi

    MPI = _mpi.load()
    comm = _comm_of(group)
    arr, back = _host(tensor)
    peer = _peer(group, src, group_src, "irecv: src")
    return Work(comm.comm.Irecv(arr, source=MPI.ANY_SOURCE if peer is None else peer, tag=tag), back)


# ---- Python objects (pickled) --------------------------------------------------------------------------
def all_gather_object(object_list, obj, group=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    object_list[:] = comm.comm.allgather(obj)


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    root = _root(group, src, group_src, "broadcast_object_list: src")
    object_list[:] = comm.comm.bcast(list(object_list) if comm.rank == root else None, root=root)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    comm = _comm_of(group)
    if comm is None:
        return None
    root = _root(group, dst, group_dst, "gather_object: dst")
    got = comm.comm.gather(obj, root=root)
    if comm.rank == root:
        object_gather_list[:] = got
