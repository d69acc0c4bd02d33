"""The Tensor: an array, its autograd metadata and a version counter.

Operators are not defined here: each lives once in `tapegrad/_ops/` and is
attached to Tensor there with `@tensor_method`. This file holds what is not
an operator: metadata, conversion to Python and NumPy, repr, backward, and
the in-place protocol every `op_` goes through.
"""
import numpy as np

from . import _backend, _dtype
from .autograd import grad_mode

__all__ = ["Tensor", "Size", "is_tensor", "tensor_method"]


class Size(tuple):
    """torch.Size: a tuple of ints."""

    def __new__(cls, sizes=()):
        import operator

        out = []
        for i, s in enumerate(sizes):
            try:
                out.append(operator.index(s))
            except TypeError:
                raise TypeError(f"torch.Size() takes an iterable of 'int' (item {i} is '{type(s).__name__}')") \
                    from None
        return tuple.__new__(cls, out)

    def __repr__(self):
        return "torch.Size([" + ", ".join(str(s) for s in self) + "])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return _size(r) if isinstance(i, slice) else r

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(f"can only concatenate tuple (not {type(other).__name__}) to torch.Size")
        return Size(tuple(self) + other)

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(other + tuple(self))

    def __mul__(self, n):
        return _size(tuple(self) * n)

    __rmul__ = __mul__

    def __reduce__(self):
        return (Size, (tuple(self),))


_ONES = {}  # dtype -> 0-d ones, copied for loss.backward()'s seed


def _size(shape):
    """A Size from a tuple already known to hold ints (no validation: the hot path of .shape)."""
    return tuple.__new__(Size, shape)


class _Version:
    """A version counter, shared by a tensor and its views."""

    __slots__ = ("v",)

    def __init__(self):
        self.v = 0


class _Handle:
    _next_id = 0

    def __init__(self, store, key):
        self.store, self.key = store, key

    def remove(self):
        self.store.pop(self.key, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def tensor_method(*names):
    """Attach an operator function to Tensor under its own name or the names given."""

    def deco(fn):
        for n in names or (fn.__name__,):
            setattr(Tensor, n, fn)
        return fn

    if len(names) == 1 and callable(names[0]):
        fn, names = names[0], ()
        return deco(fn)
    return deco


def is_tensor(obj):
    return isinstance(obj, Tensor)


# Attributes of tapegrad's own that live in a tensor's __dict__ once set (their class defaults stand for the
# common value, so creating a tensor writes four slots only); not user state to copy or save.
_INTERNAL_ATTRS = frozenset({"_grad", "_output_nr", "_base", "_view_fn", "_hooks", "_post_acc_hooks"})


def _user_attrs(t):
    """The attributes a user set on tensor `t` (PyTorch keeps them through deepcopy and save)."""
    d = t.__dict__
    return {k: v for k, v in d.items() if k not in _INTERNAL_ATTRS} if d else {}


class Tensor:
    __slots__ = ("_data", "_rg", "grad_fn", "_vc", "__weakref__", "__dict__")

    __array_priority__ = 1000
    _grad = None            # .grad of a leaf
    _output_nr = 0          # which output of grad_fn this tensor is
    _base = _view_fn = None  # for a view: the tensor it views, and how to redo the view on a new base
    _hooks = None           # {key: hook} from register_hook on a leaf
    _post_acc_hooks = None  # {key: hook}, set per leaf by register_post_accumulate_grad_hook
    __array_ufunc__ = None  # NumPy operands defer to Tensor's reflected operators (np.float32(2) * t is a Tensor)

    # ---- construction ------------------------------------------------
    @classmethod
    def _make(cls, arr, requires_grad=False, grad_fn=None, version=None):
        t = object.__new__(cls)
        if arr.__class__ is not np.ndarray and not hasattr(arr, "__cuda_array_interface__"):
            arr = np.asarray(arr)
        t._data = arr
        t._rg = requires_grad
        t.grad_fn = grad_fn
        t._vc = version  # None until asked for: most tensors are never written in place nor saved
        return t

    @property
    def _version_ctr(self):
        """The version counter shared with views, made on first use."""
        c = self._vc
        if c is None:
            c = self._vc = _Version()
        return c

    @_version_ctr.setter
    def _version_ctr(self, counter):
        self._vc = counter

    def __init__(self, *args, dtype=None, device=None):
        # the legacy constructor: torch.Tensor(2, 3) or torch.Tensor([1, 2])
        from ._ops.creation import tensor as _tensor_fn

        if len(args) == 1 and not isinstance(args[0], int):
            src = _tensor_fn(args[0], dtype=dtype or _dtype.get_default_dtype())
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            src = Tensor._make(np.empty(tuple(int(s) for s in shape), dtype=(dtype or _dtype.float32).np))
        self._data = src._data
        self._rg = False
        self._grad = self.grad_fn = self._base = self._view_fn = self._hooks = None
        self._output_nr = 0
        self._version_ctr = _Version()

    # ---- metadata ----------------------------------------------------
    @property
    def shape(self):
        return _size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return _size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return _dtype._BY_NP[self._data.dtype]

    @property
    def device(self):
        return _backend.device_of(self._data)

    @property
    def is_cuda(self):
        return self._data.__class__ is not np.ndarray

    is_cpu = property(lambda self: self._data.__class__ is np.ndarray)
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "torch.strided"

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def storage_offset(self):
        base = self._data
        while base.base is not None and isinstance(base.base, np.ndarray):
            base = base.base
        if base is self._data:
            return 0
        return (self._data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // self.itemsize

    def data_ptr(self):
        if self._data.__class__ is np.ndarray:
            return self._data.__array_interface__["data"][0]
        return self._data.data.ptr

    def untyped_storage(self):
        raise NotImplementedError("tapegrad does not implement torch.Tensor.untyped_storage")

    def is_floating_point(self):
        return self._data.dtype.kind == "f" or self._data.dtype.name == "bfloat16"

    def is_complex(self):
        return self._data.dtype.kind == "c"

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        return -1 if self.is_cpu else self._data.device.id

    @property
    def _version(self):
        return self._version_ctr.v

    # ---- autograd metadata -------------------------------------------
    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        self._set_requires_grad(value, "only Tensors of floating point and complex dtype can require gradients")

    def requires_grad_(self, requires_grad=True):
        # PyTorch words this error three ways: here, in the setter above, and in the factories (_factory_rg)
        return self._set_requires_grad(requires_grad, "only Tensors of floating point dtype can require gradients")

    def _set_requires_grad(self, requires_grad, int_msg):
        requires_grad = bool(requires_grad)
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and not (self.is_floating_point() or self.is_complex()):
            raise RuntimeError(int_msg)
        self._rg = requires_grad
        return self

    def _factory_rg(self):
        """requires_grad=True given to a factory (tensor, zeros, rand, ...)."""
        return self._set_requires_grad(True, "Only Tensors of floating point and complex dtype can require "
                                             "gradients")

    @property
    def grad(self):
        g = self._grad
        if g is None and self.grad_fn is not None and not self.retains_grad:
            import warnings

            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
                                   f"tensor of size '{list(self._data.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                name = value._data.dtype.name
                name = {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(name, name)
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{name}' "
                    f"to a tensor with grad_dtype '{_type_name(self._data.dtype)}'. The gradient must match the "
                    "tensor's grad_dtype (defaults to the tensor's dtype).")
        self._grad = value

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        return Tensor._make(self._data)  # shares memory, not the version counter (PyTorch's .data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def retains_grad(self):
        fn = self.grad_fn
        return fn is not None and self._output_nr in (fn.__dict__.get("_retained") or {})

    @property
    def output_nr(self):
        return self._output_nr

    def retain_grad(self):
        if self.grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        import weakref

        self.grad_fn._watched = True  # the engine looks at a node's hooks only when this is set
        ret = self.grad_fn.__dict__.setdefault("_retained", {})
        ret[self._output_nr] = weakref.ref(self)

    def register_hook(self, hook):
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        _Handle._next_id += 1
        key = _Handle._next_id
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = {}
            self._hooks[key] = hook
            return _Handle(self._hooks, key)
        self.grad_fn._watched = True
        hooks = self.grad_fn.__dict__.setdefault("_hooks", {})
        hooks[(self._output_nr, key)] = hook
        return _Handle(hooks, (self._output_nr, key))

    def register_post_accumulate_grad_hook(self, hook):
        """`hook(tensor)` runs once per backward, after this leaf's .grad has been accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        _Handle._next_id += 1
        hooks = self.__dict__.setdefault("_post_acc_hooks", {})  # the instance's, not the class default
        hooks[_Handle._next_id] = hook
        return _Handle(hooks, _Handle._next_id)

    def detach(self):
        t = Tensor._make(self._data, False, None, self._version_ctr)
        return t

    def detach_(self):
        if self._base is not None and self._base._rg:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._rg = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        d = self._data
        if gradient is None and inputs is None and d.__class__ is np.ndarray and d.ndim == 0 and \
                self.grad_fn is not None and d.dtype.kind == "f":
            # the common case, loss.backward(), without the general argument handling
            one = _ONES.get(d.dtype)
            if one is None:
                one = _ONES[d.dtype] = np.ones((), d.dtype)
            seed = Tensor._make(one.copy())  # np.ones is Python-level: four times the cost of a copy
            _engine.run_backward((self,), (seed,), bool(retain_graph or create_graph), create_graph)
            return
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- conversion to Python / NumPy ---------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return _backend.to_numpy_array(self._data).reshape(()).item()

    def tolist(self):
        return _backend.to_numpy_array(self._data).tolist()

    def numpy(self, force=False):
        if self._rg and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        if self._data.__class__ is not np.ndarray:
            if not force:
                raise TypeError(
                    "can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                    "to host memory first.")
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = _backend.to_numpy_array(self._data)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def _scalar_check(self, what):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous"
                if self._data.size > 1 else "Boolean value of Tensor with no values is ambiguous")
        return bool(self.item())

    def __float__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self.item())

    def __int__(self):
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __repr__(self, *, tensor_contents=None):
        from ._formatting import tensor_repr

        return tensor_repr(self)

    def __reduce_ex__(self, proto):
        # pickling (DataLoader workers, deepcopy) keeps data, dtype and requires_grad
        return (_rebuild, (_backend.to_numpy_array(self._data), self._rg, type(self)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a module, "
                               "this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self)) if type(self) is not Tensor else object.__new__(Tensor)
        Tensor._copy_into(new, self._data.copy(), self._rg)
        if self.grad is not None:
            new.grad = self.grad.__deepcopy__(memo)
        user = _user_attrs(self)
        if user:
            import copy

            for k, v in user.items():
                setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new

    @staticmethod
    def _copy_into(new, arr, rg):
        new._data, new._rg = arr, rg
        new._grad = new.grad_fn = new._base = new._view_fn = new._hooks = None
        new._output_nr = 0
        new._version_ctr = _Version()

    # ---- the in-place protocol ----------------------------------------
    def _check_inplace(self):
        """Raise PyTorch's errors for in-place writes autograd cannot allow."""
        if grad_mode.GRAD[0] and self._rg and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if grad_mode.GRAD[0] and base is not None and base._rg and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place operation.")
        if base is not None and self._rg and grad_mode.GRAD[0] and "_inplace_error" in self.__dict__:
            from ._ops.movement import _inplace_error

            raise _inplace_error(self)  # an output of split or unbind

    def _inplace(self, result, op_name="in-place operation"):
        """Write `result` (computed out of place) into self and make self its value in the graph."""
        self._check_inplace()
        if not isinstance(result, Tensor):
            result = Tensor._make(np.asarray(result))
        rd, sd = result._data, self._data
        if rd.shape != sd.shape:
            try:
                shape = np.broadcast_shapes(rd.shape, sd.shape)
            except ValueError:
                shape = None
            if shape != sd.shape:
                raise RuntimeError(
                    f"{op_name}: output with shape {list(sd.shape)} doesn't match the broadcast shape "
                    f"{list(shape) if shape is not None else list(rd.shape)}")
        if rd.dtype != sd.dtype and not _dtype.can_cast(_dtype._BY_NP[rd.dtype], _dtype._BY_NP[sd.dtype]):
            raise RuntimeError(f"{op_name}: result type {_type_name(rd.dtype)} can't be cast to the desired "
                               f"output type {_type_name(sd.dtype)}")
        if not sd.flags.writeable:
            raise RuntimeError(f"{op_name}: unsupported operation: more than one element of the written-to tensor "
                               "refers to a single memory location (a read-only view, e.g. made by expand). "
                               "Please clone() the tensor before performing the operation.")
        fn = result.grad_fn
        if fn is not None and fn.__dict__.get("_saved"):
            _keep_original_self(fn, sd)
        _backend.array_module(sd).copyto(sd, rd, casting="unsafe")
        self._version_ctr.v += 1
        if grad_mode.GRAD[0] and (result._rg or self._rg):
            if self._base is None:
                if result.grad_fn is None:  # the new value does not depend on anything differentiable
                    self.grad_fn, self._rg = None, result._rg
                else:
                    self.grad_fn, self._output_nr, self._rg = result.grad_fn, result._output_nr, True
                if self.__dict__.get("_views"):
                    from ._ops.movement import _refresh_views

                    _refresh_views(self)
            else:
                from ._ops.movement import _rebase_view

                _rebase_view(self, result)
        return self


from .autograd import engine as _engine, function as _function  # noqa: E402

_function.Tensor = _engine.Tensor = Tensor
_function._make = _engine._make = Tensor._make
_function._Version = _engine._Version = _Version


_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
    "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf "
    "Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
    "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


def _keep_original_self(fn, arr):
    """An in-place op's node saved the tensor it is about to overwrite: give it a copy of the
    original value (with the same history), as PyTorch's in-place autograd does. Only the first entry
    holding that array is self's (forwards save their first input first); a second one is `other`
    aliasing self (y.mul_(y)), which the write does modify: backward then raises, as in PyTorch."""
    saved = fn._saved
    for i, (t, a, counter, version, out_nr) in enumerate(saved):
        if a is arr and out_nr < 0:
            snap = Tensor._make(arr.copy(), t._rg if t is not None else False,
                                t.grad_fn if t is not None else None)
            if t is not None:
                snap._output_nr = t._output_nr
            saved[i] = (snap if t is not None else None, snap._data, None, 0, -1)
            return


def _rebuild(arr, rg, cls=None):
    t = Tensor._make(arr)
    if cls is not None and cls is not Tensor:
        t2 = object.__new__(cls)
        Tensor._copy_into(t2, arr, rg)
        return t2
    t._rg = rg
    return t


def _type_name(np_dtype):
    return {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
            "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}.get(np_dtype.name, np_dtype.name)


def _wrap_dim(dim, ndim, op="dim"):
    """Normalise a possibly negative dim, with PyTorch's IndexError."""
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
