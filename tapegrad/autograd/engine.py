"""The backward engine: topological order, accumulation, hooks, retain_graph, create_graph."""
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
    from .._tensor import Tensor

    if g.__class__ is not Tensor:
        g = Tensor._make(g) if not isinstance(g, Tensor) else g
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
        g = g.to(dt)
    return g


def _call_backward(node, grads, create_graph):
    from .._tensor import Tensor

    prev = grad_mode.GRAD[0]
    grad_mode.GRAD[0] = create_graph
    try:
        out = node.backward(node, *grads)
    finally:
        grad_mode.GRAD[0] = prev
    if out.__class__ is not tuple:
        out = (out,)
    n = len(node._next)
    if len(out) != n:
        if len(out) > n and all(o is None for o in out[n:]):
            out = out[:n]
        else:
            raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(out)})")
    if _ANOMALY[0]:
        for i, g in enumerate(out):
            if g is not None and _has_nan(g._data if isinstance(g, Tensor) else g):
                trace = getattr(node, "_trace", "")
                import warnings

                warnings.warn("Error detected in " + node.name() + ". Traceback of forward call that caused "
                              "the error:\n" + trace, RuntimeWarning, stacklevel=2)
                raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
    return out


def run_backward(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` from `roots` (tensors). With `inputs` given, return
    their gradients instead of accumulating into leaves (autograd.grad)."""
    from .._tensor import Tensor, _zeros_like_data

    buffers = {}  # id(node) -> list of grads per output
    leaf_grads = {}  # id(leaf) -> [leaf, grad]  (for autograd.grad)
    captured = {} if inputs is not None else None
    want_nonleaf = {}
    if inputs is not None:
        for t in inputs:
            if t.grad_fn is not None:
                want_nonleaf[(id(t.grad_fn), t._output_nr)] = t
    assigned_roots = set()  # buffers already handed to a leaf's .grad in this pass
    keep_alive = []

    def accumulate_leaf(leaf, g):
        hooks = leaf._hooks
        if hooks:
            for h in list(hooks.values()):
                r = h(g)
                if r is not None:
                    g = r
        if captured is not None:
            prev = captured.get(id(leaf))
            captured[id(leaf)] = (leaf, g if prev is None else prev[1] + g)
            return
        if not create_graph:
            root = g._data
            while getattr(root, "base", None) is not None:
                root = root.base
            if id(root) in assigned_roots or not g._data.flags.writeable:
                g = Tensor._make(g._data.copy())
            else:
                assigned_roots.add(id(root))
                keep_alive.append(root)
            g = g.detach() if g.grad_fn is not None else g
        old = leaf.grad
        if old is None:
            leaf.grad = g
        elif create_graph or old.grad_fn is not None or old.shape != g.shape:
            leaf.grad = old + g
        else:
            old._data += g._data
            old._version_ctr.v += 1

    def send(edge, g):
        node, target = edge
        if node is None:
            accumulate_leaf(target, g)
            return
        buf = buffers.get(id(node))
        if buf is None:
            buf = buffers[id(node)] = [None] * node._n_out
        prev = buf[target]
        buf[target] = g if prev is None else prev + g

    root_nodes = []
    for t, g in zip(roots, root_grads):
        if t.grad_fn is None:
            if not t.requires_grad:
                raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
            if inputs is not None:
                captured[id(t)] = (t, g)
            else:
                accumulate_leaf(t, g)
            continue
        send((t.grad_fn, t._output_nr), g)
        root_nodes.append(t.grad_fn)

    for node in _topological(root_nodes):
        buf = buffers.pop(id(node), None)
        if buf is None:
            continue
        if node.__dict__.get("_saved", 0) is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved tensors after "
                "they have already been freed). Saved intermediate values of the graph are freed when you "
                "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
                "through the graph a second time or if you need to access saved tensors after calling "
                "backward.")
        hooks = node.__dict__.get("_hooks")
        if hooks:
            for (nr, _), h in list(hooks.items()):
                if buf[nr] is not None:
                    r = h(buf[nr])
                    if r is not None:
                        buf[nr] = r
        retained = node.__dict__.get("_retained")
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
        for i, g in enumerate(buf):
            if g is None and node.__dict__.get("_materialize", True):
                buf[i] = _zeros_like_data(node, i)
        grads = _call_backward(node, buf, create_graph)
        if not retain_graph:
            node._release()
        nxt, meta = node._next, node._meta
        for i, g in enumerate(grads):
            edge = nxt[i]
            if edge is None or g is None:
                continue
            send(edge, _fit(g, meta[i], node, i))
    return captured
