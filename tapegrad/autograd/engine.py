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
# The steal below counts references exactly as CPython 3.8-3.13 keeps them; later interpreters may skip
# increments for borrowed locals, so there every gradient is copied (correct, one copy per leaf slower).
_STEALS = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _fit(g, edge, node):
    """Reduce a broadcast gradient to its input's shape and cast it to the input's dtype."""
    if not isinstance(g, Tensor):
        g = Tensor._make(g)
    shape, dt = edge[2], edge[3]
    d = g._data
    if d.shape != shape:
        from .._ops.reduce import sum_to_shape

        try:
            g = sum_to_shape(g, shape)
        except (ValueError, RuntimeError):
            i = next(k for k, e in enumerate(node._next) if e is edge)
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


def _deliver(leaf, g, captured, create_graph):
    """A leaf's summed gradient: its hooks, then accumulation into .grad (PyTorch's AccumulateGrad)
    or capture for autograd.grad; then its post-accumulate-grad hooks."""
    hooks = leaf._hooks
    if hooks:
        for h in list(hooks.values()):
            r = h(g)
            if r is not None:
                g = r
    if captured is not None:
        captured[id(leaf)] = (leaf, g)
        return
    old = leaf._grad  # the slot itself: shapes and dtypes were checked on the way
    if create_graph:
        leaf._grad = g if old is None else old + g
    else:
        _accumulate(leaf, old, g, g._data.copy() if old is None else g._data)
    post = leaf._post_acc_hooks
    if post:
        for h in list(post.values()):
            if h(leaf) is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _accumulate(leaf, old, g, arr):
    """.grad += g without a graph; `arr` is g's array, or a copy of it that .grad may own."""
    if old is None:
        leaf._grad = Tensor._make(arr)
    else:
        _add_into(leaf, old, g)


def _add_into(leaf, old, g):
    """A later backward's gradient added to the existing .grad: in place, as PyTorch does (gradient
    accumulation over steps), bumping its version; out of place when .grad has a graph or another shape.
    A read-only .grad (one the user set to an expanded view) gets PyTorch's error."""
    od, arr = old._data, g._data
    if old.grad_fn is not None or od.shape != arr.shape:
        leaf._grad = old + g
        return
    try:
        od += arr
    except ValueError:
        if od.flags.writeable:
            raise
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the "
                           "operation.") from None
    c = old._vc
    if c is None:
        c = old._vc = _Version()
    c.v += 1


def _writeable_contiguous(arr):
    flags = arr.flags
    return flags.writeable and flags.c_contiguous


class _HookedLeaves:
    """Leaves with hooks are delivered as soon as every edge into them has reported (their counts come
    from one traversal of the graph, made only when such a leaf is met)."""

    __slots__ = ("expect",)

    def __init__(self, roots):
        self.expect = _leaf_edge_counts(roots)

    def complete(self, leaf):
        k = id(leaf)
        left = self.expect.get(k, 1) - 1
        self.expect[k] = left
        return left <= 0


_ndarray = np.ndarray
_make = None  # Tensor._make, bound by tapegrad._tensor


_CALLBACKS = []  # per running backward (innermost last): None, or the list of its queued callbacks


def queue_callback(callback):
    """Run `callback()` when the current backward pass has finished (PyTorch's
    Variable._execution_engine.queue_callback); only valid during backward, e.g. from a hook."""
    if not _CALLBACKS:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    if _CALLBACKS[-1] is None:
        _CALLBACKS[-1] = []
    _CALLBACKS[-1].append(callback)


_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they "
          "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
          "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
          "or if you need to access saved tensors after calling backward.")


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` from `roots` (tensors). With `inputs` given, return
    their gradients instead of accumulating into leaves (autograd.grad)."""
    captured = want_nonleaf = None
    if inputs is not None:
        captured = {}
        want_nonleaf = {(id(t.grad_fn), t._output_nr): t for t in inputs if t.grad_fn is not None} or None
    leaves = {}    # id(leaf) -> [leaf, the sum of its gradients so far]
    hooked = None  # _HookedLeaves, once a leaf with hooks is met
    fn = roots[0].grad_fn if roots else None
    if len(roots) == 1 and fn is not None and fn._n_out == 1:  # loss.backward()
        pending = {fn._seq: (fn, [root_grads[0]])}  # sequence number -> (node, its gradients so far, per output)
        heap = [-fn._seq]  # minus the sequence numbers in `pending`: the latest recorded node pops first
        roots_left = ()
    else:
        pending, heap, roots_left = {}, [], zip(roots, root_grads)
    for t, g in roots_left:
        fn = t.grad_fn
        if fn is None:
            if not t._rg:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            entry = leaves.get(id(t))
            if entry is None:
                leaves[id(t)] = [t, g]
            else:
                entry[1] = entry[1] + g
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
    _CALLBACKS.append(None)  # queue_callback's list, made when the first callback is queued
    try:
        while heap:
            node, buf = pending.pop(-_heappop(heap))
            saved = node._saved
            if saved is None:
                raise RuntimeError(_FREED)
            if node._watched or want_nonleaf:
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
            if node._post_hooks:
                out = _post_hooks(node, out, buf)
            if anomaly:
                _check_nan(node, out)
            if saved and not retain_graph:
                node._saved = None
            for g, edge in zip(out, nxt):
                if edge is None or g is None:
                    continue
                if g.__class__ is not Tensor or (gd := g._data).shape != edge[2] or (
                        gd.dtype is not edge[3] and gd.dtype != edge[3]):
                    g = _fit(g, edge, node)
                child = edge[0]
                if child is None:  # a leaf: summed here, delivered below (or once complete, if it has hooks)
                    leaf = edge[1]
                    entry = leaves.get(id(leaf))
                    if entry is None:
                        leaves[id(leaf)] = [leaf, g]
                    else:
                        entry[1] = entry[1] + g if create_graph else _make(entry[1]._data + g._data)
                    if leaf._hooks or leaf._post_acc_hooks:
                        if hooked is None:
                            hooked = _HookedLeaves(roots)
                        if hooked.complete(leaf):
                            _deliver(*leaves.pop(id(leaf)), captured, create_graph)
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
                b[nr] = g if b[nr] is None else b[nr] + g if create_graph else _make(b[nr]._data + g._data)
        buf = out = g = gd = entry = None  # no reference of the engine's may linger: the steal below counts them
        # the leaves left: those without hooks, and hooked ones some of whose edges carried no gradient
        plain = captured is None and not create_graph
        while leaves:
            leaf, g = leaves.popitem()[1]
            if plain and not (leaf._hooks or leaf._post_acc_hooks):
                arr, old = g._data, leaf._grad
                # .grad takes the array itself (PyTorch steals a gradient whose use count is 1) only when
                # nothing else can see it: references to g are `g` and getrefcount's argument; to the array,
                # g._data, `arr` and the argument. Else a copy: .grad never aliases a user's tensor, a view or
                # another leaf's .grad.
                if old is None:
                    if not (_STEALS and arr.__class__ is _ndarray and arr.base is None and _refcount(g) == 2 and
                            _refcount(arr) == 3 and _writeable_contiguous(arr)):
                        arr = arr.copy()
                    leaf._grad = _make(arr)
                else:
                    _add_into(leaf, old, g)
            else:
                _deliver(leaf, g, captured, create_graph)
        callbacks = _CALLBACKS[-1]
        if callbacks is not None:
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
    """Before a node runs, in PyTorch's order: its outputs' tensor hooks, retain_grad (which sees what
    they return), the node's pre-hooks, and autograd.grad's non-leaf inputs."""
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
    pre = node._pre_hooks
    if pre:
        for h in list(pre.values()):
            r = h(tuple(buf))
            if r is not None:
                buf[:] = _hook_result(r, len(buf), h)
    if want_nonleaf:
        for nr in range(node._n_out):
            t = want_nonleaf.get((id(node), nr))
            if t is not None and buf[nr] is not None:
                captured[id(t)] = (t, buf[nr])


def _post_hooks(node, grad_inputs, grad_outputs):
    """A node's hooks after its backward: each may replace the gradients it sends to its inputs."""
    for h in list(node._post_hooks.values()):
        r = h(tuple(grad_inputs), tuple(grad_outputs))
        if r is not None:
            grad_inputs = _hook_result(r, len(grad_inputs), h)
    return grad_inputs


def _hook_result(r, n, hook):
    """A node hook's replacement gradients, checked as PyTorch checks them."""
    if not isinstance(r, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}'")
    if len(r) != n:
        raise RuntimeError(f"hook '{getattr(hook, '__name__', 'hook')}' has returned an incorrect number of values "
                           f"(got {len(r)}, but expected {n})")
    return r


Tensor = _Version = None  # bound by tapegrad._tensor once the classes exist (and _make with them)
