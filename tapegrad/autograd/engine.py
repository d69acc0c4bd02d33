"""The backward engine: order of execution, accumulation, hooks, retain_graph, create_graph.

Every recorded node carries a sequence number (`_seq`, from `Function._record`). A node's consumers
were all recorded after it, so running pending nodes highest sequence number first (a heap) is a
topological order, and discovering the graph as we go needs no separate traversal. Each node runs
once, with the sum of the gradients its consumers sent it.

Leaves are accumulated as PyTorch's AccumulateGrad does: all contributions to a leaf are summed first,
its tensor hooks see that sum once, and `.grad` takes the result without a copy when nothing else holds
the array (the reference count says so), else a copy. Leaves with hooks are delivered as soon as every
edge into them has reported (post-accumulate-grad hooks fire during backward, which DDP relies on);
the others at the end of the pass.
"""
import sys
from heapq import heappop as _heappop, heappush as _heappush

import numpy as np

from . import grad_mode
from .function import _ANOMALY, _has_nan

_refcount = sys.getrefcount


def _fit(g, edge, node):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    if not isinstance(g, Tensor):
        g = Tensor._make(g)
    shape, dt = edge[2], edge[3]
    i = next(k for k, e in enumerate(node._next) if e is edge)
    d = g._data
    if d.shape != shape:
        from .._ops.reduce import sum_to_shape

        try:
            g = sum_to_shape(g, shape)
        except (ValueError, RuntimeError):
            raise RuntimeError(
                f"Function {node.name()} returned an invalid gradient at index {i} - got "
                f"{list(d.shape)} but expected shape compatible with {list(shape)}") from None
    if d.dtype != dt:
        g = g.to(_dtype_of(dt))
    return g


def _dtype_of(np_dtype):
    from .._dtype import from_numpy_dtype

    return from_numpy_dtype(np_dtype)


def _check_nan(node, out):
    for i, g in enumerate(out):
        if g is not None and _has_nan(g._data if isinstance(g, Tensor) else g):
            import warnings

            warnings.warn("Error detected in " + node.name() + ". Traceback of forward call that caused "
                          "the error:\n" + node.__dict__.get("_trace", ""), RuntimeWarning, stacklevel=3)
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")


def _leaf_edge_counts(roots):
    """id(leaf) -> number of edges into it from the graph reachable from `roots` (root leaves count once)."""
    counts, seen, stack = {}, set(), []
    for t in roots:
        fn = t.grad_fn
        if fn is None:
            counts[id(t)] = counts.get(id(t), 0) + 1
        elif fn not in seen:
            seen.add(fn)
            stack.append(fn)
    while stack:
        for e in stack.pop()._next:
            if e is None:
                continue
            child = e[0]
            if child is None:
                k = id(e[1])
                counts[k] = counts.get(k, 0) + 1
            elif child not in seen:
                seen.add(child)
                stack.append(child)
    return counts


class _LeafSink:
    """Collects the gradients reaching leaves, and delivers each leaf's sum into its .grad
    (or, for autograd.grad, into `captured`)."""

    __slots__ = ("captured", "create_graph", "roots", "waiting", "expect", "owned")

    def __init__(self, captured, create_graph, roots):
        self.captured, self.create_graph, self.roots = captured, create_graph, roots
        self.waiting = {}   # id(leaf) -> [leaf, gradient summed so far]
        self.expect = None  # id(leaf) -> edges not yet reported, for leaves with hooks (computed on demand)
        self.owned = set()  # ids of arrays handed to a leaf in this pass

    def add(self, leaf, g):
        """A gradient for `leaf` (the engine inlines this for gradients coming out of nodes)."""
        k = id(leaf)
        entry = self.waiting.get(k)
        if entry is None:
            self.waiting[k] = [leaf, g]
        else:
            entry[1] = entry[1] + g
        if leaf._hooks or leaf._post_acc_hooks:
            self.reported(leaf)

    def reported(self, leaf):
        """One edge into a leaf with hooks has reported: deliver the leaf once all of its edges have."""
        if self.expect is None:
            self.expect = _leaf_edge_counts(self.roots)
        k = id(leaf)
        left = self.expect.get(k, 1) - 1
        self.expect[k] = left
        if left <= 0:
            self.deliver(*self.waiting.pop(k))

    def finish(self):
        """Deliver what is left: leaves without hooks, and hooked leaves some of whose edges carried
        no gradient."""
        waiting = self.waiting
        while waiting:
            _, entry = waiting.popitem()
            self.deliver(*entry)
            del entry

    def deliver(self, leaf, g):
        hooks = leaf._hooks
        if hooks:
            for h in list(hooks.values()):
                r = h(g)
                if r is not None:
                    g = r
        captured = self.captured
        if captured is not None:
            captured[id(leaf)] = (leaf, g)
            return
        if self.create_graph:
            old = leaf._grad
            leaf._grad = g if old is None else old + g
        else:
            self._accumulate(leaf, g)
        post = leaf._post_acc_hooks
        if post:
            for h in list(post.values()):
                h(leaf)

    def _accumulate(self, leaf, g):
        old = leaf._grad  # the slot itself: shapes and dtypes were checked by _fit
        arr = g._data
        if old is None:
            leaf._grad = Tensor._make(arr if self._stealable(g, arr) else arr.copy())
        elif old.grad_fn is None and old._data.shape == arr.shape and old._data.flags.writeable:
            old._data += arr
            old._version_ctr.v += 1
        else:
            leaf._grad = old + g

    def _stealable(self, g, arr):
        """Whether `arr` may become a leaf's .grad as it is: a writeable contiguous array that nothing
        but `g` holds (PyTorch steals a gradient whose use count is 1; anything else is copied, so
        .grad never aliases a user's tensor, another leaf's .grad or a pending gradient)."""
        # references to g: finish()'s entry list and deliver's argument, this call's argument, getrefcount's
        # argument (deliver's hooks may have replaced g by their own result: then one fewer)
        if arr.__class__ is not np.ndarray or arr.base is not None or _refcount(arr) != 4:
            return False
        if _refcount(g) > 5 or id(arr) in self.owned:
            return False
        flags = arr.flags
        if not (flags.writeable and flags.c_contiguous):
            return False
        self.owned.add(id(arr))
        return True


_CALLBACKS = []  # one list per running backward (innermost last)


def queue_callback(callback):
    """Run `callback()` when the current backward pass has finished (PyTorch's
    Variable._execution_engine.queue_callback); only valid during backward, e.g. from a hook."""
    if not _CALLBACKS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _CALLBACKS[-1].append(callback)


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
          "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
          "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
          "or if you need to access saved tensors after calling backward.")


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` from `roots` (tensors). With `inputs` given, return
    their gradients instead of accumulating into leaves (autograd.grad)."""
    captured = {} if inputs is not None else None
    want_nonleaf = None
    if inputs is not None:
        want_nonleaf = {(id(t.grad_fn), t._output_nr): t for t in inputs if t.grad_fn is not None} or None
    sink = _LeafSink(captured, create_graph, roots)
    leaves = sink.waiting  # id(leaf) -> [leaf, gradient summed so far]
    pending = {}  # sequence number -> (node, its gradients so far, one per output)
    heap = []     # minus the sequence numbers in `pending`: the latest recorded node pops first

    root_leaves = []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            if not t._rg:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            root_leaves.append((t, g))
            continue
        entry = pending.get(fn._seq)
        if entry is None:
            entry = pending[fn._seq] = (fn, [None] * fn._n_out)
            _heappush(heap, -fn._seq)
        buf, nr = entry[1], t._output_nr
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    prev_mode = grad_mode.GRAD[0]
    anomaly = _ANOMALY[0]
    grad_mode.GRAD[0] = create_graph  # backward formulas record a graph only for create_graph
    callbacks = []  # queue_callback's, run when this backward has finished
    _CALLBACKS.append(callbacks)
    try:
        for t, g in root_leaves:
            sink.add(t, g)
        while heap:
            node, buf = pending.pop(-_heappop(heap))
            saved = node._saved
            if saved is None:
                raise RuntimeError(_FREED)
            if node._hooks is not None or node._retained is not None or want_nonleaf:
                _node_hooks(node, buf, create_graph, want_nonleaf, captured)
            if len(buf) == 1:
                out = node.backward(node, buf[0])
            else:
                if node._materialize:
                    for i, g in enumerate(buf):
                        if g is None:
                            shape, dt = node._out_meta[i]
                            buf[i] = Tensor._make(np.zeros(shape, dtype=dt))
                out = node.backward(node, *buf)
            nxt = node._next
            if out.__class__ is not tuple:
                out = (out,)
            if len(out) != len(nxt):
                out = _trim(node, out, nxt)
            if anomaly:
                _check_nan(node, out)
            if saved and not retain_graph:
                node._saved = None
            for g, edge in zip(out, nxt):
                if edge is None or g is None:
                    continue
                if g.__class__ is not Tensor or g._data.shape != edge[2] or g._data.dtype != edge[3]:
                    g = _fit(g, edge, node)
                child = edge[0]
                if child is None:  # a leaf: summed here, delivered by the sink
                    leaf = edge[1]
                    entry = leaves.get(id(leaf))
                    if entry is None:
                        leaves[id(leaf)] = [leaf, g]
                    else:
                        entry[1] = entry[1] + g
                    if leaf._hooks or leaf._post_acc_hooks:
                        sink.reported(leaf)
                    continue
                s = child._seq
                entry = pending.get(s)
                if entry is None:
                    if child._n_out == 1:
                        pending[s] = (child, [g])
                        _heappush(heap, -s)
                        continue
                    pending[s] = entry = (child, [None] * child._n_out)
                    _heappush(heap, -s)
                b, nr = entry[1], edge[1]
                b[nr] = g if b[nr] is None else b[nr] + g
            buf = out = g = None  # nothing of this node's may linger: the sink's reference counts depend on it
        sink.finish()
        for callback in callbacks:  # callbacks may queue more callbacks
            callback()
    finally:
        grad_mode.GRAD[0] = prev_mode
        _CALLBACKS.pop()
    return captured


def _trim(node, out, nxt):
    """Extra trailing Nones from a backward are fine (PyTorch allows them); other counts are errors."""
    if len(out) > len(nxt) and all(o is None for o in out[len(nxt):]):
        return out[:len(nxt)]
    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                       f"(expected {len(nxt)}, got {len(out)})")


def _node_hooks(node, buf, create_graph, want_nonleaf, captured):
    """Tensor hooks, retain_grad and autograd.grad's non-leaf inputs, for a node's outputs."""
    hooks = node._hooks
    if hooks:
        for (nr, _), h in list(hooks.items()):
            if buf[nr] is not None:
                r = h(buf[nr])
                if r is not None:
                    buf[nr] = r
    retained = node._retained
    if retained:
        for nr, ref in retained.items():
            t = ref()
            if t is not None and buf[nr] is not None:
                g = buf[nr] if create_graph else buf[nr].detach()
                t.grad = g if t.grad is None else t.grad + g
    if want_nonleaf:
        for nr in range(node._n_out):
            t = want_nonleaf.get((id(node), nr))
            if t is not None and buf[nr] is not None:
                captured[id(t)] = (t, buf[nr])


Tensor = None  # bound by tapegrad._tensor once the class exists
