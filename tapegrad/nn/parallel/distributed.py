"""DistributedDataParallel: data-parallel training over tapegrad.distributed (MPI).

At construction, every rank checks that it holds the same model (names, shapes, dtypes) and takes
rank 0's parameters and buffers. Gradients are averaged during backward in buckets: parameters, in
reverse registration order (about the order in which backward produces their gradients), are packed
into flat buffers of up to `bucket_cap_mb` (the first one 1 MB, so that communication starts early). A
post-accumulate-grad hook on each parameter marks it ready; when all of a bucket's parameters are
ready, the bucket is copied into its buffer and a non-blocking MPI all-reduce starts, overlapping the
rest of backward (later hooks also drive MPI's progress). A callback queued on the backward engine
waits for every bucket when backward ends and writes the averages into `.grad`. Buckets start in the
same order on every rank, as MPI requires.

A parameter with no gradient on some rank (unused in its forward) contributes zeros there; one with no
gradient on any rank keeps `.grad` None. Inside `no_sync()`, backward only accumulates local gradients;
the first backward after it averages the accumulated sums.
"""
import functools
import time
import weakref
import zlib
from contextlib import contextmanager

import numpy as np

from ... import distributed as dist
from ..._tensor import Tensor
from ...autograd import engine, grad_mode
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_FIRST_BUCKET_BYTES = 1024 * 1024
_BROADCAST_BYTES = 250 * 1024 * 1024


class _Bucket:
    __slots__ = ("params", "offsets", "numel", "flat", "pending", "ready", "request", "index")

    def __init__(self, index, params, dtype):
        self.index, self.params = index, params
        self.offsets, n = [], 0
        for p in params:
            self.offsets.append(n)
            n += p._data.size
        self.numel = n
        # the gradients, then one slot per parameter: 1 where this rank has a gradient for it
        self.flat = np.zeros(n + len(params), dtype)
        self.pending, self.ready, self.request = len(params), [False] * len(params), None


class DistributedDataParallel(Module):
    """torch.nn.parallel.DistributedDataParallel over MPI; the wrapped model is `.module`."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=True, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        pg = dist._group(process_group)
        if pg._comm is None:
            raise ValueError("DistributedDataParallel: this rank is not a member of process_group")
        self.module = module
        self.process_group = pg
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._comm = pg._comm
        self.comm_seconds = 0.0  # time spent in communication calls and waits (benchmarks read it)
        self.wait_seconds = 0.0  # of which waiting at the end of backward for all-reduces to finish
        self.overlapped_buckets = 0  # buckets sent while backward was still running (the others at its end)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        self._check_same_model(module)
        if init_sync:
            self._broadcast([p for _, p in module.named_parameters()] + [b for _, b in module.named_buffers()])
        first = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._buckets = _assign_buckets([p for _, p in reversed(named)], first, self.bucket_bytes_cap)
        self._where = {}
        self._handles = []
        for b in self._buckets:
            for i, p in enumerate(b.params):
                self._where[id(p)] = (b, i)
                self._handles.append(p.register_post_accumulate_grad_hook(functools.partial(_hook, weakref.ref(self))))
        self._sync_backward = False
        self._in_backward = False
        self._next_bucket = 0
        self._inflight = []

    # ---- construction: the same model everywhere, rank 0's values ----------------------------------------
    def _check_same_model(self, module):
        mine = [(kind, n, tuple(t.shape), str(t.dtype)) for kind, items in
                (("parameter", module.named_parameters()), ("buffer", module.named_buffers())) for n, t in items]
        everyone = self._comm.comm.allgather(zlib.crc32(repr(mine).encode()))
        if len(set(everyone)) == 1:
            return
        allm = self._comm.comm.allgather(mine)
        ranks = self.process_group._ranks
        for r, other in enumerate(allm[1:], 1):
            if other == allm[0]:
                continue
            for a, b in zip(allm[0], other):
                if a != b:
                    raise RuntimeError(
                        f"DistributedDataParallel: the model differs between ranks: rank {ranks[0]} has {a[0]} "
                        f"{a[1]!r} {a[3]} {list(a[2])}, rank {ranks[r]} has {b[0]} {b[1]!r} {b[3]} {list(b[2])}")
            raise RuntimeError(f"DistributedDataParallel: the model differs between ranks: rank {ranks[0]} has "
                               f"{len(allm[0])} parameters and buffers, rank {ranks[r]} has {len(other)}")

    def _broadcast(self, tensors):
        """Rank 0's values of `tensors` on every rank, a few flat messages per dtype."""
        start = time.perf_counter()
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype.str, []).append(t)
        for group in by_dtype.values():
            chunk, size = [], 0
            for t in group + [None]:
                if t is None or (chunk and size + t._data.nbytes > _BROADCAST_BYTES):
                    self._broadcast_flat(chunk)
                    chunk, size = [], 0
                if t is not None:
                    chunk.append(t)
                    size += t._data.nbytes
        self.comm_seconds += time.perf_counter() - start

    def _broadcast_flat(self, chunk):
        if not chunk:
            return
        flat = np.concatenate([np.asarray(t._data).reshape(-1) for t in chunk])
        self._comm.bcast(flat, 0)
        off = 0
        for t in chunk:
            n = t._data.size
            t._data[...] = flat[off:off + n].reshape(t._data.shape)
            t._version_ctr.v += 1
            off += n

    # ---- forward --------------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._in_backward:  # the last backward raised before it finished
            self._reset()
        sync = grad_mode.GRAD[0] and self.require_backward_grad_sync
        self._sync_backward = sync
        self.require_forward_param_sync = sync
        if sync and self.broadcast_buffers:
            buffers = [b for _, b in self.module.named_buffers()]
            if buffers:
                self._broadcast(buffers)
        return self.module(*inputs, **kwargs)

    @contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside only accumulate local gradients; the first one after
        averages the accumulated sums over the ranks."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ---- backward: buckets ------------------------------------------------------------------------------
    def _grad_ready(self, param):
        if not self._sync_backward:
            return
        if not self._in_backward:
            self._in_backward = True
            engine.queue_callback(self._finish_backward)
        bucket, i = self._where[id(param)]
        if bucket.ready[i]:
            return
        bucket.ready[i] = True
        bucket.pending -= 1
        start = time.perf_counter()
        if bucket.pending == 0:
            buckets = self._buckets
            while self._next_bucket < len(buckets) and buckets[self._next_bucket].pending == 0:
                self._launch(buckets[self._next_bucket])
                self._next_bucket += 1
                self.overlapped_buckets += 1
        elif self._inflight:
            self._inflight[0].request.Test()  # let MPI progress the buckets already sent
        self.comm_seconds += time.perf_counter() - start

    def _launch(self, bucket):
        flat, off = bucket.flat, bucket.offsets
        n = bucket.numel
        for i, p in enumerate(bucket.params):
            g = p.grad
            size = p._data.size
            if g is None:
                flat[off[i]:off[i] + size] = 0
                flat[n + i] = 0
            else:
                flat[off[i]:off[i] + size] = g._data.reshape(-1)
                flat[n + i] = 1
        bucket.request = self._comm.iallreduce(flat)
        self._inflight.append(bucket)

    def _finish_backward(self):
        start = time.perf_counter()
        try:
            while self._next_bucket < len(self._buckets):  # buckets with parameters unused on this rank
                self._launch(self._buckets[self._next_bucket])
                self._next_bucket += 1
            wait = time.perf_counter()
            from ...distributed import _mpi

            _mpi.load().Request.Waitall([b.request for b in self._inflight])
            self.wait_seconds += time.perf_counter() - wait
            world = self._comm.size
            for b in self._inflight:
                flat, n = b.flat, b.numel
                flat[:n] /= world
                for i, p in enumerate(b.params):
                    if flat[n + i] == 0:  # no rank has a gradient for it
                        continue
                    view = flat[b.offsets[i]:b.offsets[i] + p._data.size].reshape(p._data.shape)
                    g = p.grad
                    if self.gradient_as_bucket_view:
                        p.grad = Tensor._make(view)
                    elif g is not None and g._data.__class__ is np.ndarray and g._data.flags.writeable:
                        g._data[...] = view
                        g._version_ctr.v += 1
                    else:
                        p.grad = Tensor._make(view.copy())
        finally:
            self._reset()
            self.comm_seconds += time.perf_counter() - start

    def _reset(self):
        for b in self._buckets:
            b.request, b.pending, b.ready = None, len(b.params), [False] * len(b.params)
        self._inflight, self._next_bucket, self._in_backward = [], 0, False

    def __del__(self):
        for h in self.__dict__.get("_handles", ()):
            h.remove()

    def register_comm_hook(self, state, hook):
        raise NotImplementedError("tapegrad does not implement DistributedDataParallel.register_comm_hook")

    def join(self, *args, **kwargs):
        raise NotImplementedError("tapegrad does not implement DistributedDataParallel.join (uneven inputs): give "
                                  "every rank the same number of batches, e.g. DistributedSampler(drop_last=...)")


def _hook(ref, param):
    ddp = ref()  # a DistributedDataParallel that is gone no longer reduces its old module's gradients
    if ddp is not None:
        ddp._grad_ready(param)


def _assign_buckets(params, first_cap, cap):
    """Consecutive parameters of one dtype, up to `first_cap` bytes for the first bucket, `cap` after."""
    buckets, current, size, dtype = [], [], 0, None
    for p in params:
        nbytes = p._data.nbytes
        limit = first_cap if not buckets else cap
        if current and (p._data.dtype != dtype or size + nbytes > limit):
            buckets.append(_Bucket(len(buckets), current, dtype))
            current, size = [], 0
        current.append(p)
        dtype = p._data.dtype
        size += nbytes
    if current:
        buckets.append(_Bucket(len(buckets), current, dtype))
    return buckets
