"""The backward engine: topological order, accumulation, hooks, retain_graph, create_graph."""
import numpy as np

from . import grad_mode
from .function import _ANOMALY, _has_nan


def _topological(roots):
    """Nodes reachable from `roots`, every consumer before its producers."""
    order, seen = [], set()
    for root in roots:
        if root is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root._next))]
        while stack:
            node, it = stack[-1]
            for e in it:
                if e is not None:
                    child = e[0]
                    if child is not None and id(child) not in seen:
                        seen.add(id(child))
                        stack.append((child, iter(child._next)))
                        break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def _fit(g, meta, node, i):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    if not isinstance(g, Tensor):
        g = Tensor._make(g)
    shape, dt = meta
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


class _LeafSink:
    """Accumulates gradients into leaves' .grad (or collects them, for autograd.grad)."""

    __slots__ = ("captured", "create_graph", "owned", "order", "roots", "expect", "pending")

    def __init__(self, captured, create_graph):
        self.captured, self.create_graph = captured, create_graph
        self.owned = set()
        self.order, self.roots, self.expect, self.pending = (), (), None, None

    def add(self, leaf, g):
        hooks = leaf._hooks
        if hooks:
            for h in list(hooks.values()):
                r = h(g)
                if r is not None:
                    g = r
        captured = self.captured
        if captured is not None:
            prev = captured.get(id(leaf))
            captured[id(leaf)] = (leaf, g if prev is None else prev[1] + g)
            return
        old = leaf._grad  # the slot itself: shapes and dtypes were checked by _fit
        if not self.create_graph:
            arr = g._data
            root = arr.base
            if root is None:
                root = arr
            else:
                while root.base is not None:
                    root = root.base
            # a buffer handed to one leaf must not be shared with another, nor be a read-only broadcast;
            # (were `root` freed and its id reused during this backward, the cost is one needless copy)
            flags = arr.flags
            if id(root) in self.owned or not (flags.writeable and flags.c_contiguous):
                g = Tensor._make(arr.copy())
                root = g._data
            elif g.grad_fn is not None or g._rg:
                g = Tensor._make(arr)
            self.owned.add(id(root))
            if old is None:
                leaf._grad = g
            elif old.grad_fn is None and old._data.shape == g._data.shape and old._data.flags.writeable:
                old._data += g._data
                old._version_ctr.v += 1
            else:
                leaf._grad = old + g
        else:
            leaf._grad = g if old is None else old + g
        post = leaf.__dict__.get("_post_acc_hooks")
        if post:
            self._post_accumulate(leaf)

    def _post_accumulate(self, leaf):
        """Tensor.register_post_accumulate_grad_hook: run once per backward, when the leaf's .grad holds
        every contribution (counted over the graph's edges; leftovers run at the end of backward)."""
        if self.expect is None:
            self.expect, self.pending = _leaf_edge_counts(self.order, self.roots), {}
        k = id(leaf)
        left = self.expect.get(k, 1) - 1
        self.expect[k] = left
        if left > 0:
            self.pending[k] = leaf
            return
        self.pending.pop(k, None)
        for h in list(leaf.__dict__["_post_acc_hooks"].values()):
            h(leaf)

    def finish(self):
        pending = self.pending
        while pending:  # leaves some of whose edges carried no gradient
            _, leaf = pending.popitem()
            for h in list(leaf.__dict__["_post_acc_hooks"].values()):
                h(leaf)


def _leaf_edge_counts(order, roots):
    counts = {}
    for node in order:
        for e in node._next:
            if e is not None and e[0] is None:
                k = id(e[1])
                counts[k] = counts.get(k, 0) + 1
    for t in roots:
        if t.grad_fn is None:
            counts[id(t)] = counts.get(id(t), 0) + 1
    return counts


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
    want_nonleaf = {}
    if inputs is not None:
        for t in inputs:
            if t.grad_fn is not None:
                want_nonleaf[(id(t.grad_fn), t._output_nr)] = t
    sink = _LeafSink(captured, create_graph)
    sink.roots = roots
    buffers = {}  # id(node) -> list of gradients, one per output

    root_nodes, root_leaves = [], []
    for t, g in zip(roots, root_grads):
        fn = t.grad_fn
        if fn is None:
            if not t._rg:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            if captured is not None:
                captured[id(t)] = (t, g)
            else:
                root_leaves.append((t, g))
            continue
        buf = buffers.get(id(fn))
        if buf is None:
            buf = buffers[id(fn)] = [None] * fn._n_out
        nr = t._output_nr
        buf[nr] = g if buf[nr] is None else buf[nr] + g
        root_nodes.append(fn)

    prev_mode = grad_mode.GRAD[0]
    anomaly = _ANOMALY[0]
    sink_add = sink.add
    grad_mode.GRAD[0] = create_graph  # backward formulas record a graph only for create_graph
    callbacks = []  # queue_callback's, run when this backward has finished
    _CALLBACKS.append(callbacks)
    try:
        sink.order = order = _topological(root_nodes)
        for t, g in root_leaves:
            sink_add(t, g)
        for node in order:
            buf = buffers.pop(id(node), None)
            if buf is None:
                continue
            nd = node.__dict__
            saved = nd.get("_saved", 0)
            if saved is None:
                raise RuntimeError(_FREED)
            if "_hooks" in nd or "_retained" in nd or want_nonleaf:
                _node_hooks(node, nd, buf, create_graph, want_nonleaf, captured)
            if len(buf) > 1:
                for i, g in enumerate(buf):
                    if g is None and nd.get("_materialize", True):
                        shape, dt = node._out_meta[i]
                        buf[i] = Tensor._make(np.zeros(shape, dtype=dt))
            out = node.backward(node, *buf)
            if out.__class__ is not tuple:
                out = (out,)
            nxt, meta = node._next, node._meta
            if len(out) != len(nxt):
                if len(out) > len(nxt) and all(o is None for o in out[len(nxt):]):
                    out = out[:len(nxt)]
                else:
                    raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                       f"(expected {len(nxt)}, got {len(out)})")
            if anomaly:
                _check_nan(node, out)
            if not retain_graph and saved != 0:
                nd["_saved"] = None
            for i, g in enumerate(out):
                edge = nxt[i]
                if edge is None or g is None:
                    continue
                m = meta[i]
                if g.__class__ is not Tensor or g._data.shape != m[0] or g._data.dtype != m[1]:
                    g = _fit(g, m, node, i)
                child = edge[0]
                if child is None:
                    sink_add(edge[1], g)
                    continue
                cb = buffers.get(id(child))
                if cb is None:
                    cb = buffers[id(child)] = [None] * child._n_out
                nr = edge[1]
                cb[nr] = g if cb[nr] is None else cb[nr] + g
        if sink.pending:
            sink.finish()
        for callback in callbacks:  # callbacks may queue more callbacks
            callback()
    finally:
        grad_mode.GRAD[0] = prev_mode
        _CALLBACKS.pop()
    return captured


def _node_hooks(node, nd, buf, create_graph, want_nonleaf, captured):
    """Tensor hooks, retain_grad and autograd.grad's non-leaf inputs, for a node's outputs."""
    hooks = nd.get("_hooks")
    if hooks:
        for (nr, _), h in list(hooks.items()):
            if buf[nr] is not None:
                r = h(buf[nr])
                if r is not None:
                    buf[nr] = r
    retained = nd.get("_retained")
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
