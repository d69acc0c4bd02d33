"""Function: one operator, forward and backward side by side; its instance is the tape node.

Two flavours share one `apply`:
- tapegrad's own operators (`_raw = True`): `forward(ctx, *arrays)` works on
  backend arrays; `backward(ctx, *grads)` works on Tensors, so gradients of
  gradients come for free.
- `tapegrad.autograd.Function`, PyTorch's public API (`_raw = False`):
  `forward(ctx, *tensors)` receives Tensors and runs with grad disabled.

When no input needs a gradient (or grad mode is off), `apply` records
nothing: the context is thrown away and the output has no grad_fn.
"""
import itertools
import re
import traceback

import numpy as np

from . import grad_mode

_ANOMALY = [False]
_FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward.")


class FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        if "_backward_name" not in ns:  # a node PyTorch names otherwise sets its own
            cls._backward_name = name + ("Backward0" if ns.get("_raw", getattr(cls, "_raw", True)) else "Backward")


class Function(metaclass=FunctionMeta):
    """Base class of operators and of user-defined autograd functions."""

    _raw = True
    _unary = False       # True: only the first argument may be a Tensor (the rest are options)
    # Defaults, overridden per node when set:
    _saved = ()          # saved entries; None once freed by backward
    _hooks = None        # {(output_nr, key): hook} from Tensor.register_hook on a non-leaf
    _retained = None     # {output_nr: weakref} from retain_grad
    _materialize = True  # set_materialize_grads
    _pre_hooks = None    # {key: hook} from register_prehook: hook(grad_outputs)
    _post_hooks = None   # {key: hook} from register_hook: hook(grad_inputs, grad_outputs)
    _watched = False     # True once any of the hooks above or _retained is set (one check for the engine)
    _n_out = 1           # number of outputs
    # Instance attributes (set only for recorded nodes):
    # _seq: sequence number (order of recording)
    # _next: per input, None | (node, output_nr, shape, dtype) | (None, leaf_tensor, shape, dtype)
    # _saved: saved entries, None once freed; _n_out; _hooks; _retained; _nondiff

    def __init__(self, *args, **kwargs):
        pass

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's split style: a Function that defines this gets `forward(*args)` without a context,
        then `setup_context(ctx, inputs, output)` to save what backward needs."""
        raise NotImplementedError("setup_context is not implemented.")

    # ---- context API -------------------------------------------------
    def save_for_backward(self, *items):
        self._to_save = items

    def _checked_saved(self):
        """The saved entries, after PyTorch's checks: not freed by a backward, not modified in place since."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        for tensor, arr, counter, version, out_nr in saved:
            if counter is not None and counter.v != version:
                self._raise_modified(arr, counter.v, version, out_nr, tensor)
        return saved

    @property
    def saved_tensors(self):
        out = []
        for tensor, arr, counter, version, out_nr in self._checked_saved():
            if tensor is not None:
                out.append(tensor)
            elif out_nr >= 0:
                t = Tensor._make(arr, True, self, counter)
                t._output_nr = out_nr
                out.append(t)
            elif arr is None or not hasattr(arr, "shape"):
                out.append(arr)  # None or a Python scalar the forward kept
            else:
                out.append(Tensor._make(arr))
        return tuple(out)

    saved_variables = saved_tensors

    @property
    def saved_arrays(self):
        """The saved values as backend arrays (version-checked): for raw fast paths in backward."""
        return [entry[1] for entry in self._checked_saved()]

    @property
    def saved_arrays2(self):
        """saved_arrays for a forward that saved exactly two values, unrolled (binary operators)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        (ta, a, ca, va, na), (tb, b, cb, vb, nb) = saved
        if ca is not None and ca.v != va:
            self._raise_modified(a, ca.v, va, na, ta)
        if cb is not None and cb.v != vb:
            self._raise_modified(b, cb.v, vb, nb, tb)
        return a, b

    def _raise_modified(self, arr, now, expected, out_nr, tensor=None):
        """PyTorch's message: the modified value, the node that produced it, both versions."""
        from .._tensor import _type_name

        # a saved output is named by the node that saved it; a saved input by its current producer
        producer = self if out_nr >= 0 else (tensor.grad_fn if tensor is not None else None)
        nr = out_nr if out_nr >= 0 else (tensor._output_nr if tensor is not None else 0)
        where = ""
        if producer is not None:
            where = f", which is output {nr} of {re.sub(r'Backward[0-9]*$', '', producer.name())},"
        hint = ("Hint: the backtrace further above may show the operation that failed to compute its gradient. "
                "The variable in question was changed in there or anywhere later. Good luck!" if _ANOMALY[0] else
                "Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
                "torch.autograd.set_detect_anomaly(True, check_nan=False).")
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [torch.{_type_name(arr.dtype)}Tensor {list(arr.shape)}]{where} is at version {now}; "
            f"expected version {expected} instead. {hint}")

    def mark_non_differentiable(self, *tensors):
        self._nondiff_ids = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = tensors

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    # ---- node API ----------------------------------------------------
    def name(self):
        # the class's name, or the one an overload set on this node (_named: PyTorch numbers overloads)
        return self.__dict__.get("_name") or self._backward_name

    def __repr__(self):
        return f"<{self.name()} object at {hex(id(self))}>"

    @property
    def next_functions(self):
        edges = []
        for e in self.__dict__.get("_next", ()):
            if e is None:
                edges.append((None, 0))
            elif e[0] is None:
                edges.append((AccumulateGrad(e[1]), 0))
            else:
                edges.append(e[:2])
        return tuple(edges)

    @property
    def metadata(self):
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self._metadata = {}
        return md

    def register_hook(self, fn):
        """`fn(grad_inputs, grad_outputs)` runs after this node's backward; a tuple it returns replaces
        grad_inputs (the gradients sent on to the node's inputs)."""
        return self._add_node_hook("_post_hooks", fn)

    def register_prehook(self, fn):
        """`fn(grad_outputs)` runs before this node's backward; a tuple it returns replaces grad_outputs."""
        return self._add_node_hook("_pre_hooks", fn)

    def _add_node_hook(self, kind, fn):
        from .._tensor import _Handle

        _Handle._next_id += 1
        hooks = self.__dict__.get(kind)
        if hooks is None:
            hooks = self.__dict__[kind] = {}
        hooks[_Handle._next_id] = fn
        self._watched = True  # the engine looks at a node's hooks only when this is set
        return _Handle(hooks, _Handle._next_id)

    def _release(self):
        if "_saved" in self.__dict__:
            self._saved = None

    # ---- recording ---------------------------------------------------
    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = _new(cls)
        if not cls._raw:
            return ctx._apply_tensors(args, kwargs)
        if len(args) == 2:  # the binary operators, the commonest case, without the loops below
            a, b = args
            if isinstance(a, Tensor) and isinstance(b, Tensor):
                raw = (a._data, b._data)
                if _GRAD[0] and (a._rg or b._rg):
                    ctx.needs_input_grad = (a._rg, b._rg)
                    return ctx._record2(a, b, raw, cls.forward(ctx, *raw, **kwargs))
                ctx.needs_input_grad = (False, False)
                out = cls.forward(ctx, *raw, **kwargs)
                return _make(out) if out.__class__ is _ndarray else _wrap_all(out)
        if cls._unary or len(args) == 1 and isinstance(args[0], Tensor):  # one Tensor (then options): no loops
            a = args[0]
            raw = (a._data,) + args[1:]
            if _GRAD[0] and a._rg:
                ctx.needs_input_grad = _FIRST_ONLY[len(args)]
                return ctx._record1(a, raw, cls.forward(ctx, *raw, **kwargs))
            ctx.needs_input_grad = _NONE_OF[len(args)]
            out = cls.forward(ctx, *raw, **kwargs)
            return _make(out) if out.__class__ is _ndarray else _wrap_all(out)
        raw, needs, record = [], [], False
        if _GRAD[0]:
            for a in args:
                if isinstance(a, Tensor):
                    raw.append(a._data)
                    if a._rg:
                        record = True
                        needs.append(True)
                        continue
                else:
                    raw.append(a)
                needs.append(False)
        else:
            for a in args:
                raw.append(a._data if isinstance(a, Tensor) else a)
                needs.append(False)
        # known before forward, so a forward can save only what backward will use
        ctx.needs_input_grad = tuple(needs)
        out = cls.forward(ctx, *raw, **kwargs)
        if record:
            return ctx._record(args, raw, out)
        return _make(out) if out.__class__ is _ndarray else _wrap_all(out)

    def _apply_tensors(self, args, kwargs):
        """torch.autograd.Function's apply: forward on Tensors, run without recording."""
        grad_on = _GRAD[0]
        needs = tuple(isinstance(a, Tensor) and a._rg and grad_on for a in args)
        self.needs_input_grad = needs
        cls = type(self)
        with grad_mode.no_grad():
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(self, args, out)
            else:
                out = cls.forward(self, *args, **kwargs)
        if True not in needs:
            return _wrap_all(out)
        return self._record(args, None, out)

    def _record(self, args, raw, out):
        if self._unary:  # one edge: the options after the Tensor are not inputs of the graph
            args = args[:1]
            nxt = [_edge(args[0])]
        elif len(args) == 2:
            na, nb = self.needs_input_grad
            nxt = [_edge(args[0]) if na else None, _edge(args[1]) if nb else None]
        else:
            nxt = [_edge(a) if need else None for a, need in zip(args, self.needs_input_grad)]
        d = self.__dict__
        d["_seq"] = _next_seq()  # consumers are recorded after their producers: the engine's order
        d["_next"] = nxt
        if out.__class__ is not tuple:
            arr = out if out.__class__ is _ndarray else out._data if isinstance(out, Tensor) else out
            differentiable = "_nondiff_ids" not in d or id(out) not in d["_nondiff_ids"]
            if arr.__class__ is _ndarray and arr.dtype.kind in _FLOAT_KINDS and differentiable:
                result = _new(Tensor)  # Tensor._make(arr, True, self), inlined: this runs for every recorded op
                result._data, result._rg, result.grad_fn, result._vc = arr, True, self, None
            elif differentiable and _is_float(arr):
                result = _make(arr, True, self)  # NumPy scalars become 0-d arrays; CuPy arrays stay
            else:
                result = _make(arr)
            outs = results = None
        else:
            outs = out
            d["_n_out"] = len(outs)
            d["_out_meta"] = [None if o is None else _out_meta(o) for o in outs]
            nondiff = d.get("_nondiff_ids", ())
            results = []
            for i, o in enumerate(outs):
                if o is None:
                    results.append(None)
                    continue
                arr = o._data if isinstance(o, Tensor) else o
                differentiable = id(o) not in nondiff and _is_float(arr)
                t = _make(arr, differentiable, self if differentiable else None)
                t._output_nr = i
                results.append(t)
            result = tuple(results)
        to_save = d.pop("_to_save", None)
        if to_save is not None:
            if outs is None:
                outs, results = (out,), (result,)
            saved = []
            for item in to_save:
                # the common case first: the forward saved one of its tensor inputs
                for a, r in zip(args, raw or args):
                    if item is r and a.__class__ is Tensor:
                        c = a._vc
                        if c is None:
                            c = a._vc = _Version()
                        saved.append((a, r, c, c.v, -1))
                        break
                else:
                    saved.append(self._saved_entry(item, args, raw, outs, results))
            d["_saved"] = saved
        if _ANOMALY[0]:
            d["_trace"] = "".join(traceback.format_stack()[:-3])
        return result

    def _record1(self, a, raw, out):
        """_record for an operator on one Tensor (then options) giving one floating-point array (sum,
        exp, relu...), unrolled: it runs for most recorded nodes of a model."""
        d = self.__dict__
        if out.__class__ is not _ndarray or out.dtype.kind not in _FLOAT_KINDS or "_nondiff_ids" in d:
            return self._record((a,) + raw[1:], raw, out)
        x = raw[0]
        fn = a.grad_fn
        d["_seq"] = _next_seq()  # consumers are recorded after their producers: the engine's order
        d["_next"] = [(fn, a._output_nr, x.shape, x.dtype) if fn is not None else (None, a, x.shape, x.dtype)]
        result = _new(Tensor)  # Tensor._make(out, True, self), inlined
        result._data, result._rg, result.grad_fn, result._vc = out, True, self, None
        to_save = d.pop("_to_save", None)
        if to_save is not None:
            d["_saved"] = self._saved_inputs(to_save, a, None, x, _NOTHING, out, result)
        if _ANOMALY[0]:
            d["_trace"] = "".join(traceback.format_stack()[:-3])
        return result

    def _record2(self, a, b, raw, out):
        """_record for an operator on two Tensors giving one floating-point array (add, mul, matmul...),
        unrolled."""
        d = self.__dict__
        if out.__class__ is not _ndarray or out.dtype.kind not in _FLOAT_KINDS or self._unary or "_nondiff_ids" in d:
            return self._record((a, b), raw, out)
        ra, rb = raw
        na, nb = self.needs_input_grad
        if na:
            fn = a.grad_fn
            ea = (fn, a._output_nr, ra.shape, ra.dtype) if fn is not None else (None, a, ra.shape, ra.dtype)
        else:
            ea = None
        if nb:
            fn = b.grad_fn
            eb = (fn, b._output_nr, rb.shape, rb.dtype) if fn is not None else (None, b, rb.shape, rb.dtype)
        else:
            eb = None
        d["_seq"] = _next_seq()
        d["_next"] = [ea, eb]
        result = _new(Tensor)
        result._data, result._rg, result.grad_fn, result._vc = out, True, self, None
        to_save = d.pop("_to_save", None)
        if to_save is not None:
            d["_saved"] = self._saved_inputs(to_save, a, b, ra, rb, out, result)
        if _ANOMALY[0]:
            d["_trace"] = "".join(traceback.format_stack()[:-3])
        return result

    def _saved_inputs(self, to_save, a, b, ra, rb, out, result):
        """The saved entries of _record1/_record2's node: an input's (the common case) made here, with its
        version counter; the output's and other values' by _saved_entry."""
        saved = []
        for item in to_save:
            t = a if item is ra else b if item is rb else None
            if t is None:
                args, raw = ((a,), (ra,)) if b is None else ((a, b), (ra, rb))
                saved.append(self._saved_entry(item, args, raw, (out,), (result,)))
                continue
            c = t._vc
            if c is None:
                c = t._vc = _Version()
            saved.append((t, item, c, c.v, -1))
        return saved

    @staticmethod
    def _saved_entry(item, args, raw, outs, results):
        if item is None:
            return (None, None, None, 0, -1)
        for i, o in enumerate(outs):
            if item is o:
                t = results[i]
                return (None, t._data, t._version_ctr, 0, i)
        for i, a in enumerate(args):
            if item is a or (raw is not None and item is raw[i]):
                if isinstance(a, Tensor):
                    return (a, a._data, a._version_ctr, a._version_ctr.v, -1)
        if isinstance(item, Tensor):
            return (item, item._data, item._version_ctr, item._version_ctr.v, -1)
        return (None, item, None, 0, -1)


def once_differentiable(backward):
    """Decorator for a custom Function's backward that is not itself differentiable (PyTorch's): it runs
    without recording; under create_graph its results carry a node that raises if differentiated."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with grad_mode.no_grad():
            outputs = backward(ctx, *grads)
        if not (_GRAD[0] and any(isinstance(g, Tensor) and g._rg for g in grads)):
            return outputs
        single = not isinstance(outputs, tuple)
        wrapped = tuple(_DelayedError.apply(o.detach().requires_grad_()) if isinstance(o, Tensor) and
                        o.is_floating_point() else o for o in ((outputs,) if single else outputs))
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Function):
    """The node once_differentiable puts on its results: differentiating through it is an error."""

    _backward_name = "torch::autograd::Error"

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


class AccumulateGrad:
    """Stands for a leaf in `next_functions`, as PyTorch's node of that name."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


_FLOAT_KINDS = frozenset("fc")
_next_seq = itertools.count().__next__


def _out_meta(o):
    arr = getattr(o, "_data", o)
    return arr.shape, arr.dtype


def _is_float(arr):
    return arr.dtype.kind in _FLOAT_KINDS or arr.dtype.name == "bfloat16"


def _edge(a):
    """The edge to input `a`: (producer node, its output number) or (None, the leaf), followed by the
    shape and dtype a gradient for this input must have."""
    fn, x = a.grad_fn, a._data
    return (fn, a._output_nr, x.shape, x.dtype) if fn is not None else (None, a, x.shape, x.dtype)


_FIRST_ONLY = [(True,) + (False,) * k for k in range(-1, 16)]  # needs_input_grad of a recorded unary op, by arity
_FIRST_ONLY[0] = ()
_NONE_OF = [(False,) * k for k in range(16)]


def _named(t, name):
    """Give the node that made `t` PyTorch's name for the overload that was called (PyTorch names an
    operator's overloads apart: `a - b` is SubBackward0, `2 - a` RsubBackward1); returns `t`."""
    fn = t.grad_fn
    if fn is not None:
        fn._name = name
    return t


def _wrap_all(out):
    """An unrecorded forward's result (an array, a tuple of them, or Tensors) as Tensors."""
    if out.__class__ is tuple:
        return tuple(_wrap(o) for o in out)
    return _wrap(out)


def _wrap(o):
    if o.__class__ is _ndarray:
        return Tensor._make(o)
    if o is None or isinstance(o, Tensor):
        return o
    return Tensor._make(o)


_ndarray = np.ndarray
_new = object.__new__
_NOTHING = object()  # matches no saved value
_GRAD = grad_mode.GRAD
Tensor = _make = _Version = None  # bound by tapegrad._tensor once the class exists (the modules import each other)


class _AnomalyMode:
    def __init__(self, mode=True, check_nan=True):
        self.mode = mode

    def __enter__(self):
        self._prev = _ANOMALY[0]
        _ANOMALY[0] = self.mode

    def __exit__(self, *exc):
        _ANOMALY[0] = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with self.__class__(self.mode):
                return fn(*a, **k)

        return wrapper


class detect_anomaly(_AnomalyMode):
    """Record forward stacks; a NaN produced in backward names its forward operator."""


class set_detect_anomaly(_AnomalyMode):
    def __init__(self, mode, check_nan=True):
        super().__init__(mode)
        self._prev = _ANOMALY[0]
        _ANOMALY[0] = mode

    def __enter__(self):
        pass


def is_anomaly_enabled():
    return _ANOMALY[0]


def _has_nan(arr):
    return arr.dtype.kind in "fc" and bool(np.isnan(arr).any()) if arr.__class__ is np.ndarray else bool(
        arr.dtype.kind in "fc" and arr.__array_namespace__().isnan(arr).any())
