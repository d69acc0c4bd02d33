"""Checkpoints: `save` and `load` in PyTorch's file format, and safetensors files.

`save(obj, f)` writes PyTorch's zip format: `archive/data.pkl` (pickle protocol 2) refers to tensor
storages through persistent ids ('storage', torch.<Type>Storage, key, location, numel), and the raw
little-endian bytes of each storage are the record `archive/data/<key>`. Tensors are rebuilt through
`torch._utils._rebuild_tensor_v2` and parameters through `torch._utils._rebuild_parameter`, dtypes are
`torch.float32` and friends: so `torch.load` reads tapegrad's files (with its default
weights_only=True), and tapegrad reads PyTorch's without torch installed. Tensors that view one
buffer share one storage, in the file and again after loading.

`load(f)` is safe by default (PyTorch's `weights_only=True`): the unpickler constructs only an
allow-list of globals (tensors, parameters, storages, dtypes, devices, torch.Size, OrderedDict,
Counter, set, frozenset, bytearray, complex, slice, and what `add_safe_globals` registers), every one
of them mapped to a tapegrad implementation; any other global raises pickle.UnpicklingError naming it,
before anything from it is called. `weights_only=False` unpickles arbitrary objects and is only for
files from a trusted source: it can run any code the file asks for.

Writes to a path are atomic: the checkpoint goes to a temporary file in the same directory, is
flushed and fsync'ed, and replaces the target with os.replace; a failure midway leaves the old file.

safetensors (optional extra `pip install safetensors`): `save_file`, `load_file`, `save_model`,
`load_model`, interchangeable with `safetensors.torch`; `load` also recognises a safetensors file.
"""
import _compat_pickle
import collections
import contextlib
import io
import os
import pickle
import struct
import sys
import tempfile
import zipfile

import numpy as np

from . import _backend, _dtype
from ._tensor import _INTERNAL_ATTRS, Size, Tensor, _user_attrs

__all__ = ["save", "load", "add_safe_globals", "get_safe_globals", "clear_safe_globals", "safe_globals",
           "save_file", "load_file", "save_model", "load_model", "DEFAULT_PROTOCOL", "LoadEndianness",
           "get_default_load_endianness", "set_default_load_endianness"]

DEFAULT_PROTOCOL = 2
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C  # the legacy (pre-zip) format
PROTOCOL_VERSION = 1001
_STORAGE_ALIGNMENT = 64

# torch's legacy storage classes (the storage_type of a persistent id) and their element types
_STORAGE_DTYPES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
}
_STORAGE_OF = {v: k for k, v in _STORAGE_DTYPES.items()}

# torch dtype names tapegrad knows; others (uint16, float8_*, complex128, ...) are refused by name
_TORCH_DTYPE_NAMES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64", "float16": "float16",
    "half": "float16", "bfloat16": "bfloat16", "int64": "int64", "long": "int64", "int32": "int32",
    "int": "int32", "int16": "int16", "short": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool",
    "complex64": "complex64", "cfloat": "complex64",
}


def _np_dtype(name):
    """The NumPy dtype of a torch element type name; bfloat16 needs ml_dtypes."""
    if name == "bfloat16":
        return _dtype._check_available(_dtype.bfloat16).np
    return np.dtype(name)


class LoadEndianness:
    NATIVE = 1
    LITTLE = 2
    BIG = 3


_load_endianness = [None]


def get_default_load_endianness():
    return _load_endianness[0]


def set_default_load_endianness(endianness):
    _load_endianness[0] = endianness


# ====================================================================== what a load may construct
class _StorageType:
    """What `torch.FloatStorage` & co. unpickle to: a marker naming an element type, never callable."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"torch.{self.name}"


class _TypeMarker:
    """What `torch.Tensor` / `torch.nn.parameter.Parameter` unpickle to (the new_type of a subclass
    rebuild). A marker, not the class, so that a pickle cannot instantiate it with NEWOBJ."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_TENSOR_TYPE = _TypeMarker("torch.Tensor")
_PARAMETER_TYPE = _TypeMarker("torch.nn.parameter.Parameter")


class _Storage:
    """A storage read from a checkpoint: a 1-D NumPy array (`array`) of the storage's element type,
    and the device its tensors are rebuilt on. Tensors over one storage are views of one array.

    `map_location` callables receive these as `storage` and may return `storage`, `storage.cpu()` or
    `storage.cuda(i)`."""

    __slots__ = ("array", "dtype", "device", "_nbytes")

    def __init__(self, array, dtype, device="cpu"):
        self.array, self.dtype, self.device = array, dtype, str(device)
        self._nbytes = array.nbytes

    def nbytes(self):
        return self._nbytes

    def size(self):
        return self.array.size

    __len__ = size

    def to(self, device):
        return _Storage(self.array, self.dtype, _backend.device(device))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        if device is None:
            return self.to("cuda")
        return self.to(device if not isinstance(device, int) else f"cuda:{device}")

    def __repr__(self):
        return f"<tapegrad storage of {self.array.size} {self.dtype} on {self.device}>"


def _check_index_list(values, what):
    if not isinstance(values, (tuple, list, Size)):
        raise pickle.UnpicklingError(f"tensor {what} must be a tuple of ints, got {type(values).__name__}")
    out = []
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool):
            raise pickle.UnpicklingError(f"tensor {what} must be a tuple of ints, got {values!r}")
        out.append(v)
    return tuple(out)


def _tensor_from_storage(storage, storage_offset, size, stride, dtype_name=None):
    """A tapegrad tensor viewing `storage` like torch's as_strided, after checking it stays inside."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    size = _check_index_list(size, "size")
    stride = _check_index_list(stride, "stride")
    if not isinstance(storage_offset, int) or storage_offset < 0:
        raise RuntimeError(f"tensor storage offset must be a non-negative int, got {storage_offset!r}")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: size {list(size)}, stride {list(stride)}")
    if any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"tensor sizes and strides must be non-negative: size {list(size)}, stride {list(stride)}")
    arr = storage.array
    if dtype_name is not None and dtype_name != storage.dtype:  # _rebuild_tensor_v3 over an untyped storage
        if storage.dtype != "uint8":
            raise RuntimeError(f"cannot view a {storage.dtype} storage as {dtype_name}")
        if dtype_name not in _TORCH_DTYPE_NAMES.values():
            raise RuntimeError(f"tapegrad does not support tensors of dtype torch.{dtype_name}")
        dt = _np_dtype(dtype_name)
        usable = arr.size - arr.size % dt.itemsize
        arr = arr[:usable].view(dt)
    elif storage.dtype not in _STORAGE_OF or storage.dtype == "complex128":
        raise RuntimeError(f"tapegrad does not support tensors of dtype torch.{storage.dtype}")
    numel = 1
    for s in size:
        numel *= s
    item = arr.itemsize
    if numel == 0:
        data = np.empty(size, dtype=arr.dtype)
    else:
        needed = storage_offset + sum((n - 1) * st for n, st in zip(size, stride)) + 1
        if needed > arr.size:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {storage_offset}, and "
                f"itemsize {item} requiring a storage size of {needed * item} are out of bounds for storage of "
                f"size {arr.size * item}")
        data = np.ndarray(size, dtype=arr.dtype, buffer=arr, offset=storage_offset * item,
                          strides=tuple(st * item for st in stride))
    if storage.device.startswith("cuda"):
        cp = _backend.cupy()
        if cp is None:
            raise RuntimeError(_CUDA_MESSAGE)
        d = _backend.device(storage.device)
        with cp.cuda.Device(d.index or 0):
            data = cp.asarray(data)
    return Tensor._make(data)


_CUDA_MESSAGE = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you "
                 "are running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') "
                 "to map your storages to the CPU.")


def _set_requires_grad(t, requires_grad):
    if requires_grad:
        if not isinstance(requires_grad, bool):
            raise pickle.UnpicklingError(f"requires_grad must be a bool, got {requires_grad!r}")
        t.requires_grad_(True)
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor_from_storage(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _set_requires_grad(_tensor_from_storage(storage, storage_offset, size, stride), requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    if not isinstance(dtype, _dtype.dtype):
        raise pickle.UnpicklingError(f"expected a dtype, got {type(dtype).__name__}")
    t = _tensor_from_storage(storage, storage_offset, size, stride, dtype_name=dtype.name)
    return _set_requires_grad(t, requires_grad)


def _set_obj_state(obj, state):
    if isinstance(state, tuple):
        if len(state) != 2:
            raise RuntimeError(f"Invalid serialized state: {state}")
        dict_state, slots_state = state
    else:
        dict_state, slots_state = state, None
    for part in (dict_state, slots_state):
        if part:
            if not isinstance(part, dict):
                raise pickle.UnpicklingError(f"Invalid serialized state: {state!r}")
            for k, v in part.items():
                if not isinstance(k, str) or k in Tensor.__slots__ or k in _INTERNAL_ATTRS:
                    raise pickle.UnpicklingError(f"cannot set attribute {k!r} on a tensor from a checkpoint")
                obj.__dict__[k] = v
    return obj


def _as_parameter(data, requires_grad):
    from .nn.parameter import Parameter

    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError(f"expected a tensor to rebuild a Parameter from, got {type(data).__name__}")
    return Parameter(data, requires_grad=bool(requires_grad) and (data.is_floating_point() or data.is_complex()))


def _rebuild_parameter(data, requires_grad, backward_hooks):
    return _as_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_obj_state(_as_parameter(data, requires_grad), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILDERS:
        raise pickle.UnpicklingError(f"_rebuild_from_type_v2: unsupported rebuild function {func!r}")
    if not isinstance(args, tuple):
        raise pickle.UnpicklingError("_rebuild_from_type_v2: arguments must be a tuple")
    ret = func(*args)
    if new_type is _PARAMETER_TYPE and not _is_parameter(ret):
        ret = _as_parameter(ret, ret.requires_grad)
    elif new_type is not _TENSOR_TYPE and new_type is not _PARAMETER_TYPE:
        if not (isinstance(new_type, type) and isinstance(ret, new_type)):
            raise pickle.UnpicklingError(f"tapegrad cannot rebuild a tensor of type {new_type!r}")
    return _set_obj_state(ret, state) if state else ret


def _is_parameter(t):
    from .nn.parameter import Parameter

    return isinstance(t, Parameter)


def _get_layout(name):
    return name


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """`_codecs.encode`, which protocol-2 pickles use for bytes; only the text codecs pickle uses."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8", "ascii"):
        raise pickle.UnpicklingError(f"_codecs.encode with encoding {encoding!r} is not allowed in a weights-only load")
    return obj.encode(encoding, errors)


_REBUILDERS = {_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
               _rebuild_parameter_with_state}


def _safe_globals_table():
    from ._backend import device as _device

    table = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "builtins.set": set, "builtins.frozenset": frozenset, "builtins.bytearray": bytearray,
        "builtins.complex": complex, "builtins.slice": slice, "builtins.bytes": bytes,
        "_codecs.encode": _codecs_encode,
        "torch.Size": Size,
        "torch.device": _device,
        "torch.Tensor": _TENSOR_TYPE,
        "torch.nn.parameter.Parameter": _PARAMETER_TYPE,
        "torch.serialization._get_layout": _get_layout,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.UntypedStorage": _StorageType("UntypedStorage", "uint8"),
        "torch.storage.TypedStorage": _StorageType("TypedStorage", "uint8"),
    }
    for name, dt in _STORAGE_DTYPES.items():
        table[f"torch.{name}"] = _StorageType(name, dt)
    for name, dt in _TORCH_DTYPE_NAMES.items():
        table[f"torch.{name}"] = _dtype._BY_NAME[dt]
    return table


_SAFE = {}
_USER_SAFE = {}


def _safe_table():
    if not _SAFE:
        _SAFE.update(_safe_globals_table())
    return _SAFE


def _global_name(obj):
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', getattr(obj, '__name__', obj))}"


def add_safe_globals(safe_globals):
    """Allow these classes/functions in weights-only loads: objects, or (object, "module.name") pairs."""
    for g in safe_globals:
        if isinstance(g, tuple):
            obj, name = g
            _USER_SAFE[name] = obj
        else:
            _USER_SAFE[_global_name(g)] = g


def get_safe_globals():
    return list(_USER_SAFE.values())


def clear_safe_globals():
    _USER_SAFE.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: `add_safe_globals` for the duration of a `with` block."""
    saved = dict(_USER_SAFE)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _USER_SAFE.clear()
        _USER_SAFE.update(saved)


def _fix_name(module, name):
    """Python 2 names that protocol-2 pickles carry (__builtin__.set) mapped to Python 3's."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


_UNSAFE_HINT = ("In PyTorch 2.6 and tapegrad, `weights_only` defaults to True. Re-running `load` with "
                "`weights_only=False` will likely succeed, but it can result in arbitrary code execution: do it only "
                "if you got the file from a trusted source.")


class _RefusedGlobal(pickle.UnpicklingError):
    """A weights-only load met a global outside the allow-list (or one tapegrad has no equivalent for)."""


def _unsupported(module, name):
    full = f"{module}.{name}"
    if full in _torch_known_unsupported or (module == "torch" and name in _UNSUPPORTED_TORCH_DTYPES):
        return _RefusedGlobal(f"tapegrad cannot load this checkpoint: it uses {full}, which tapegrad does not "
                              "support")
    return None


def _refuse_global(module, name):
    full = f"{module}.{name}"
    err = _unsupported(module, name)
    if err is not None:
        return err
    return _RefusedGlobal(
        "Weights only load failed. This file can still be loaded, to do so you have two options, do those steps "
        f"only if you trust the source of the checkpoint.\n\t(1) {_UNSAFE_HINT}\n\t(2) Alternatively, to load "
        "with `weights_only=True` allowlist what the file needs.\n\tWeightsUnpickler error: Unsupported global: "
        f"GLOBAL {full} was not an allowed global by default. Please use "
        f"`tapegrad.serialization.add_safe_globals([{name}])` or the "
        f"`tapegrad.serialization.safe_globals([{name}])` context manager to allowlist this global if "
        "you trust this class/function.")


_UNSUPPORTED_TORCH_DTYPES = {"complex128", "cdouble", "complex32", "chalf", "uint16", "uint32", "uint64",
                              "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "qint8", "quint8",
                              "qint32", "bits8", "bits16"}
_torch_known_unsupported = {
    "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage", "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
}


class _WeightsOnlyUnpickler:
    """A restricted unpickler (PyTorch's weights-only unpickler, re-done): it interprets the pickle opcodes
    itself, so that nothing but allow-listed globals is ever looked up or called, only allow-listed
    classes are instantiated, and BUILD/APPEND/SETITEM touch only containers, tensors and user-allowed
    types (a pickle cannot, say, set attributes on a dtype or a function)."""

    def __init__(self, file, persistent_load=None, encoding="ASCII", errors="strict"):
        self._read, self._readline = file.read, file.readline
        self._pload = persistent_load
        self._encoding, self._errors = encoding, errors

    def find_class(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise pickle.UnpicklingError("STACK_GLOBAL requires str module and name")
        module, name = _fix_name(module, name)
        full = f"{module}.{name}"
        obj = _safe_table().get(full)
        if obj is None:
            obj = _USER_SAFE.get(full)
        if obj is None:
            raise _refuse_global(module, name)
        return obj

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("unexpected persistent id in this part of the checkpoint")
        return self._pload(pid)

    def load(self):
        try:
            return self._load()
        except (IndexError, KeyError, struct.error, ValueError, UnicodeDecodeError, OverflowError) as e:
            if isinstance(e, pickle.UnpicklingError):
                raise
            raise pickle.UnpicklingError(f"malformed pickle in checkpoint ({type(e).__name__}: {e})") from None

    def _decode(self, value):
        if self._encoding == "bytes":
            return value
        return value.decode(self._encoding, self._errors)

    def _callable_ok(self, func):
        return any(func is v for v in _safe_callables()) or any(func is v for v in _USER_SAFE.values())

    def _load(self):
        read, readline = self._read, self._readline
        unpack = struct.unpack
        stack, metastack, memo = [], [], {}

        def pop_mark():
            nonlocal stack
            items = stack
            stack = metastack.pop()
            return items

        def exact(n):
            data = read(n)
            if len(data) != n:
                raise pickle.UnpicklingError("pickle data was truncated")
            return data

        while True:
            key = read(1)
            if not key:
                raise pickle.UnpicklingError("pickle data was truncated")
            op = key[0]
            if op == 0x71:  # BINPUT
                memo[exact(1)[0]] = stack[-1]
            elif op == 0x68:  # BINGET
                stack.append(memo[exact(1)[0]])
            elif op == 0x58:  # BINUNICODE
                (n,) = unpack("<I", exact(4))
                stack.append(str(exact(n), "utf-8", "surrogatepass"))
            elif op == 0x28:  # MARK
                metastack.append(stack)
                stack = []
            elif op == 0x4B:  # BININT1
                stack.append(exact(1)[0])
            elif op == 0x74:  # TUPLE
                items = pop_mark()
                stack.append(tuple(items))
            elif op == 0x85:  # TUPLE1
                stack[-1] = (stack[-1],)
            elif op == 0x86:  # TUPLE2
                stack[-2:] = [(stack[-2], stack[-1])]
            elif op == 0x87:  # TUPLE3
                stack[-3:] = [(stack[-3], stack[-2], stack[-1])]
            elif op == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif op == 0x52:  # REDUCE
                args = stack.pop()
                func = stack[-1]
                if not self._callable_ok(func):
                    raise pickle.UnpicklingError(f"weights-only load: {func!r} may not be called (REDUCE)")
                if not isinstance(args, tuple):
                    raise pickle.UnpicklingError("REDUCE arguments must be a tuple")
                stack[-1] = func(*args)
            elif op == 0x51:  # BINPERSID
                stack.append(self.persistent_load(stack.pop()))
            elif op == 0x50:  # PERSID
                stack.append(self.persistent_load(readline()[:-1].decode("ascii")))
            elif op == 0x63:  # GLOBAL
                module = readline()[:-1].decode("utf-8")
                name = readline()[:-1].decode("utf-8")
                stack.append(self.find_class(module, name))
            elif op == 0x93:  # STACK_GLOBAL
                name = stack.pop()
                module = stack.pop()
                stack.append(self.find_class(module, name))
            elif op in (0x75, 0x73):  # SETITEMS, SETITEM
                items = pop_mark() if op == 0x75 else [stack.pop(-2), stack.pop()]
                target = stack[-1]
                if not (type(target) in (dict, collections.OrderedDict, collections.Counter)
                        or _user_type(target)):
                    raise pickle.UnpicklingError(f"weights-only load: cannot set items on {type(target).__name__}")
                for i in range(0, len(items), 2):
                    target[items[i]] = items[i + 1]
            elif op in (0x65, 0x61):  # APPENDS, APPEND
                items = pop_mark() if op == 0x65 else [stack.pop()]
                target = stack[-1]
                if type(target) is list:
                    target.extend(items)
                elif _user_type(target):
                    ext = getattr(target, "extend", None)
                    if ext is not None:
                        ext(items)
                    else:
                        for it in items:
                            target.append(it)
                else:
                    raise pickle.UnpicklingError(f"weights-only load: cannot append to {type(target).__name__}")
            elif op == 0x62:  # BUILD
                state = stack.pop()
                self._build(stack[-1], state)
            elif op == 0x7D:  # EMPTY_DICT
                stack.append({})
            elif op == 0x5D:  # EMPTY_LIST
                stack.append([])
            elif op == 0x8F:  # EMPTY_SET
                stack.append(set())
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                if type(stack[-1]) is not set:
                    raise pickle.UnpicklingError(f"weights-only load: cannot add items to {type(stack[-1]).__name__}")
                stack[-1].update(items)
            elif op == 0x91:  # FROZENSET
                items = pop_mark()
                stack.append(frozenset(items))
            elif op == 0x6C:  # LIST
                items = pop_mark()
                stack.append(list(items))
            elif op == 0x64:  # DICT
                items = pop_mark()
                stack.append({items[i]: items[i + 1] for i in range(0, len(items), 2)})
            elif op in (0x81, 0x92):  # NEWOBJ, NEWOBJ_EX
                kwargs = stack.pop() if op == 0x92 else {}
                args = stack.pop()
                cls = stack.pop()
                if not (isinstance(cls, type) and (cls in _SAFE_CLASSES or any(cls is v for v in _USER_SAFE.values()))):
                    raise pickle.UnpicklingError(f"weights-only load: {cls!r} may not be instantiated (NEWOBJ)")
                stack.append(cls.__new__(cls, *args, **kwargs))
            elif op == 0x4A:  # BININT
                stack.append(unpack("<i", exact(4))[0])
            elif op == 0x4D:  # BININT2
                stack.append(unpack("<H", exact(2))[0])
            elif op == 0x8A:  # LONG1
                n = exact(1)[0]
                stack.append(int.from_bytes(exact(n), "little", signed=True))
            elif op == 0x8B:  # LONG4
                (n,) = unpack("<i", exact(4))
                if n < 0:
                    raise pickle.UnpicklingError("LONG pickle has negative byte count")
                stack.append(int.from_bytes(exact(n), "little", signed=True))
            elif op == 0x47:  # BINFLOAT
                stack.append(unpack(">d", exact(8))[0])
            elif op == 0x88:  # NEWTRUE
                stack.append(True)
            elif op == 0x89:  # NEWFALSE
                stack.append(False)
            elif op == 0x4E:  # NONE
                stack.append(None)
            elif op == 0x8C:  # SHORT_BINUNICODE
                stack.append(str(exact(exact(1)[0]), "utf-8", "surrogatepass"))
            elif op == 0x8D:  # BINUNICODE8
                (n,) = unpack("<Q", exact(8))
                stack.append(str(exact(n), "utf-8", "surrogatepass"))
            elif op == 0x56:  # UNICODE
                stack.append(str(readline()[:-1], "raw-unicode-escape"))
            elif op == 0x43:  # SHORT_BINBYTES
                stack.append(exact(exact(1)[0]))
            elif op == 0x42:  # BINBYTES
                stack.append(exact(unpack("<I", exact(4))[0]))
            elif op == 0x8E:  # BINBYTES8
                stack.append(exact(unpack("<Q", exact(8))[0]))
            elif op == 0x96:  # BYTEARRAY8
                stack.append(bytearray(exact(unpack("<Q", exact(8))[0])))
            elif op == 0x55:  # SHORT_BINSTRING
                stack.append(self._decode(exact(exact(1)[0])))
            elif op == 0x54:  # BINSTRING
                (n,) = unpack("<i", exact(4))
                if n < 0:
                    raise pickle.UnpicklingError("BINSTRING pickle has negative byte count")
                stack.append(self._decode(exact(n)))
            elif op == 0x53:  # STRING
                data = readline()[:-1]
                if len(data) >= 2 and data[0] == data[-1] and data[0] in b"\"'":
                    data = data[1:-1]
                else:
                    raise pickle.UnpicklingError("the STRING opcode argument must be quoted")
                import codecs

                stack.append(self._decode(codecs.escape_decode(data)[0]))
            elif op == 0x49:  # INT
                data = readline()
                if data == b"00\n":
                    stack.append(False)
                elif data == b"01\n":
                    stack.append(True)
                else:
                    stack.append(int(data, 0))
            elif op == 0x4C:  # LONG
                val = readline()[:-1]
                if val and val[-1] == ord("L"):
                    val = val[:-1]
                stack.append(int(val, 0))
            elif op == 0x46:  # FLOAT
                stack.append(float(readline()[:-1].decode("ascii")))
            elif op == 0x67:  # GET
                stack.append(memo[int(readline()[:-1])])
            elif op == 0x6A:  # LONG_BINGET
                stack.append(memo[unpack("<I", exact(4))[0]])
            elif op == 0x70:  # PUT
                i = int(readline()[:-1])
                if i < 0:
                    raise pickle.UnpicklingError("negative PUT argument")
                memo[i] = stack[-1]
            elif op == 0x72:  # LONG_BINPUT
                memo[unpack("<I", exact(4))[0]] = stack[-1]
            elif op == 0x94:  # MEMOIZE
                memo[len(memo)] = stack[-1]
            elif op == 0x30:  # POP
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                stack.append(stack[-1])
            elif op == 0x80:  # PROTO
                if exact(1)[0] > pickle.HIGHEST_PROTOCOL:
                    raise pickle.UnpicklingError("unsupported pickle protocol")
            elif op == 0x95:  # FRAME: frames only group the opcodes that follow
                exact(8)
            elif op == 0x2E:  # STOP
                return stack.pop()
            else:
                names = {0x69: "INST", 0x6F: "OBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x97: "NEXT_BUFFER",
                         0x98: "READONLY_BUFFER"}
                raise pickle.UnpicklingError(
                    f"weights-only load: unsupported pickle opcode {names.get(op, hex(op))} in checkpoint")

    def _build(self, inst, state):
        if type(inst) in (collections.OrderedDict, collections.Counter):
            dict_state = state[0] if isinstance(state, tuple) and len(state) == 2 else state
            if dict_state:
                if not isinstance(dict_state, dict):
                    raise pickle.UnpicklingError("weights-only load: invalid state for BUILD")
                inst.__dict__.update(dict_state)
        elif isinstance(inst, Tensor):
            _set_obj_state(inst, state)
        elif _user_type(inst):
            setstate = getattr(inst, "__setstate__", None)
            if setstate is not None and not (isinstance(state, dict) and getattr(type(inst), "__setstate__", None)
                                             is object.__dict__.get("__setstate__")):
                setstate(state)
            else:
                dict_state, slot_state = state if isinstance(state, tuple) and len(state) == 2 else (state, None)
                if dict_state:
                    inst.__dict__.update(dict_state)
                for k, v in (slot_state or {}).items():
                    setattr(inst, k, v)
        else:
            raise pickle.UnpicklingError(f"weights-only load: cannot set the state of a {type(inst).__name__} "
                                         "(BUILD)")


def _user_type(obj):
    t = type(obj)
    return any(t is v for v in _USER_SAFE.values())


_SAFE_CLASSES = (collections.OrderedDict, collections.Counter, set, frozenset, bytearray, complex)
_CALLABLES = []


def _safe_callables():
    if not _CALLABLES:
        _CALLABLES.extend(v for v in _safe_table().values() if callable(v) and not isinstance(v, _TypeMarker))
    return _CALLABLES


class _FullUnpickler(pickle.Unpickler):
    """weights_only=False: any global; torch.* names map to tapegrad's where tapegrad has them."""

    def __init__(self, file, persistent_load=None, **kwargs):
        super().__init__(file, **kwargs)
        self._pload = persistent_load

    def find_class(self, module, name):
        module, name = _fix_name(module, name)
        full = f"{module}.{name}"
        obj = _safe_table().get(full)
        if obj is not None:
            if obj is _TENSOR_TYPE:
                return Tensor
            if obj is _PARAMETER_TYPE:
                from .nn.parameter import Parameter

                return Parameter
            return obj
        err = _unsupported(module, name)
        if err is not None:
            raise err
        if module == "torch" or module.startswith("torch."):
            import importlib

            try:
                mod = importlib.import_module("tapegrad" + module[5:])
                target = mod
                for part in name.split("."):
                    target = getattr(target, part)
                return target
            except (ImportError, AttributeError, NotImplementedError):
                pass
        return super().find_class(module, name)

    def persistent_load(self, pid):
        if self._pload is None:
            raise pickle.UnpicklingError("unexpected persistent id in this part of the checkpoint")
        return self._pload(pid)


# ====================================================================== save
class _Global:
    """A global written into the pickle by name (`torch._utils _rebuild_tensor_v2`): torch need not be
    importable to write a file that refers to it."""

    __slots__ = ("module", "name")
    _cache = {}

    def __new__(cls, module, name):
        key = (module, name)
        g = cls._cache.get(key)
        if g is None:
            g = object.__new__(cls)
            g.module, g.name = module, name
            cls._cache[key] = g
        return g

    def __call__(self, *args):  # pickle asks reduce functions to be callable; this one only names a global
        raise TypeError(f"{self.module}.{self.name} is a name written into a checkpoint, not a function")


class _StorageRef:
    __slots__ = ("key", "type_name", "numel", "location", "root", "dtype")

    def __init__(self, key, type_name, numel, location, root, dtype):
        self.key, self.type_name, self.numel, self.location = key, type_name, numel, location
        self.root, self.dtype = root, dtype


class _TorchPickler(pickle._Pickler):
    """Pickles tapegrad objects as PyTorch pickles them (tensors, parameters, dtypes, devices, Size);
    tensor data goes to storages, collected in `self.storages`."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = []  # _StorageRef, in key order
        self._by_root = {}  # id(root array) -> _StorageRef

    def persistent_id(self, obj):
        if obj.__class__ is _StorageRef:
            return ("storage", _Global("torch", obj.type_name), obj.key, obj.location, obj.numel)
        return None

    def reducer_override(self, obj):
        cls = obj.__class__
        if cls is _Global or cls is _dtype.dtype:
            return "global"  # written by save_global below
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        if cls is _backend.device:
            return (_Global("torch", "device"), (str(obj),))
        if cls is Size:
            return (_Global("torch", "Size"), (tuple(int(s) for s in obj),))
        return NotImplemented

    def save_global(self, obj, name=None):
        if obj.__class__ is _Global:
            module, name = obj.module, obj.name
        elif obj.__class__ is _dtype.dtype:
            module, name = "torch", obj.name
        else:
            return super().save_global(obj, name)
        self.write(pickle.GLOBAL + f"{module}\n{name}\n".encode("utf-8"))
        self.memoize(obj)

    def _reduce_tensor(self, t):
        from .nn.parameter import Parameter

        hooks = collections.OrderedDict()
        state = _user_attrs(t) or None
        if isinstance(t, Parameter):
            data = Tensor._make(t._data)
            if state:
                return (_Global("torch._utils", "_rebuild_parameter_with_state"), (data, t.requires_grad, hooks,
                                                                                   state))
            return (_Global("torch._utils", "_rebuild_parameter"), (data, t.requires_grad, hooks))
        ref, offset, stride = self._storage_for(t)
        args = (ref, offset, tuple(int(s) for s in t._data.shape), stride, bool(t.requires_grad), hooks)
        rebuild = _Global("torch._utils", "_rebuild_tensor_v2")
        if state:
            return (_Global("torch._tensor", "_rebuild_from_type_v2"), (rebuild, _Global("torch", "Tensor"), args,
                                                                        state))
        return (rebuild, args)

    def _storage_for(self, t):
        a = t._data
        location = "cpu"
        if a.__class__ is not np.ndarray and not isinstance(a, np.ndarray):
            location = f"cuda:{a.device.id}"
            a = _backend.to_numpy_array(a)
        dt = _dtype._BY_NP.get(a.dtype)
        if dt is None or dt.name not in _STORAGE_OF:
            raise RuntimeError(f"tapegrad.save: cannot save a tensor of dtype {a.dtype}")
        item = a.itemsize
        ref = None
        if a.size:
            root = a
            while isinstance(root.base, np.ndarray):
                root = root.base
            ok = root.flags.c_contiguous and root.nbytes % item == 0
            if ok:
                start = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
                ok = start >= 0 and start % item == 0 and all(s >= 0 and s % item == 0 for s in a.strides)
                if ok:
                    end = start + sum((n - 1) * s for n, s in zip(a.shape, a.strides)) + item
                    ok = end <= root.nbytes
            if ok:
                ref = self._by_root.get(id(root))
                if ref is None:
                    ref = self._new_storage(root, a.dtype, dt, location)
                elif ref.dtype != a.dtype or ref.location != location:
                    ok, ref = False, None
            if ref is not None:
                return ref, start // item, tuple(s // item for s in a.strides)
        # a copy of its own: views of buffers a storage cannot describe (negative strides, ...), empty tensors
        c = np.ascontiguousarray(a)
        if c is a and id(a) in self._by_root and self._by_root[id(a)].dtype == a.dtype:
            ref = self._by_root[id(a)]
        else:
            ref = self._new_storage(c, a.dtype, dt, location)
        stride, acc = [], 1
        for n in reversed(a.shape):
            stride.append(acc)
            acc *= max(n, 1)
        return ref, 0, tuple(reversed(stride))

    def _new_storage(self, root, np_dtype, dt, location):
        ref = _StorageRef(str(len(self.storages)), _STORAGE_OF[dt.name], root.nbytes // np_dtype.itemsize, location,
                          root, np_dtype)
        self.storages.append(ref)
        self._by_root[id(root)] = ref
        return ref


def _zip_record(zf, name, data, align=True):
    """Write one stored (uncompressed) record, its data aligned to 64 bytes in the file like PyTorch's."""
    mv = memoryview(data).cast("B") if not isinstance(data, (bytes, bytearray)) else data
    n = len(mv)
    zi = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_STORED
    zi.file_size = n
    zi.external_attr = 0o644 << 16
    zip64 = n * 1.05 > zipfile.ZIP64_LIMIT
    if align:
        try:
            offset = zf.fp.tell()
        except (AttributeError, OSError, ValueError):
            offset = None
        if offset is not None:
            header = offset + 30 + len(name.encode("utf-8")) + (20 if zip64 else 0)
            pad = -header % _STORAGE_ALIGNMENT
            if 0 < pad < 4:
                pad += _STORAGE_ALIGNMENT
            if pad:
                zi.extra = b"FB" + struct.pack("<H", pad - 4) + b"Z" * (pad - 4)
    with zf.open(zi, "w", force_zip64=zip64) as out:
        out.write(mv)


def _write_zip(obj, fileobj, protocol):
    buf = io.BytesIO()
    pickler = _TorchPickler(buf, protocol)
    pickler.dump(obj)
    prefix = "archive/"
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _zip_record(zf, prefix + "data.pkl", buf.getvalue())
        _zip_record(zf, prefix + ".format_version", b"1")
        _zip_record(zf, prefix + ".storage_alignment", str(_STORAGE_ALIGNMENT).encode())
        _zip_record(zf, prefix + "byteorder", sys.byteorder.encode())
        for ref in pickler.storages:
            root = ref.root
            flat = root.reshape(-1).view(np.uint8) if root.size else np.empty(0, np.uint8)
            _zip_record(zf, f"{prefix}data/{ref.key}", flat)
        _zip_record(zf, prefix + "version", b"3\n")
        serial = str(int.from_bytes(os.urandom(16), "little")).zfill(40)[:40]
        _zip_record(zf, prefix + ".data/serialization_id", serial.encode())


def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def _default_file_mode():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _atomic_write(path, write):
    """Call write(fileobj) on a temporary file beside `path`, fsync it, then os.replace it onto `path`."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = _default_file_mode()
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save `obj` (tensors, state dicts, nested containers) to a path or a binary file object.

    The file is PyTorch's zip checkpoint: `torch.load` reads it. A path is written atomically.
    """
    if not _use_new_zipfile_serialization:
        raise NotImplementedError("tapegrad.save writes only PyTorch's zip format; "
                                  "_use_new_zipfile_serialization=False (the legacy format) is not implemented")
    if pickle_protocol < 2:
        raise ValueError(f"tapegrad.save needs pickle_protocol >= 2, got {pickle_protocol}")

    def write(fh):
        _write_zip(obj, fh, pickle_protocol)

    if _is_path(f):
        _atomic_write(f, write)
        return
    if not hasattr(f, "write"):
        raise AttributeError(f"tapegrad.save: expected a path or a file object with write(), got {type(f).__name__}")
    seekable = getattr(f, "seekable", None)
    if seekable is not None and seekable():
        write(f)
    else:  # a stream: build the archive in memory, then write it out
        buf = io.BytesIO()
        write(buf)
        f.write(buf.getvalue())
    if hasattr(f, "flush"):
        f.flush()


# ====================================================================== load
def _location_mapper(map_location):
    """(storage on the CPU, saved location such as 'cuda:0') -> the storage placed where it belongs."""
    if map_location is None:
        return lambda storage, location: storage.to(location)
    if isinstance(map_location, dict):
        return lambda storage, location: storage.to(map_location.get(location, location))
    if isinstance(map_location, (str, _backend.device)):
        target = str(_backend.device(map_location) if isinstance(map_location, str) else map_location)
        return lambda storage, location: storage.to(target)
    if callable(map_location):
        def called(storage, location):
            result = map_location(storage, location)
            if result is None:
                return storage.to(location)
            if not isinstance(result, _Storage):
                raise TypeError("map_location callable must return the storage it was given (or storage.cpu(), "
                                f"storage.cuda(...)) or None, got {type(result).__name__}")
            return result
        return called
    raise ValueError(f"map_location should be a str, a device, a dict or a callable, got {type(map_location).__name__}")


def _check_device(storage):
    if storage.device.startswith("cuda"):
        if _backend.cupy() is None:
            raise RuntimeError(_CUDA_MESSAGE)
    elif storage.device != "cpu":
        raise RuntimeError(f"tapegrad cannot place tensors on device '{storage.device}'; load with "
                           "map_location='cpu'")
    return storage


def _check_pid(pid):
    if not isinstance(pid, tuple) or len(pid) < 5:
        raise pickle.UnpicklingError(f"malformed storage reference in checkpoint: {pid!r}")
    typename = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
    if typename != "storage":
        raise pickle.UnpicklingError(f"unknown persistent id type in checkpoint: {typename!r}")
    storage_type, key, location, numel = pid[1], pid[2], pid[3], pid[4]
    if isinstance(location, bytes):
        location = location.decode("ascii")
    if not isinstance(storage_type, _StorageType):
        raise pickle.UnpicklingError(f"malformed storage type in checkpoint: {storage_type!r}")
    if not isinstance(key, (str, int)) or not isinstance(location, str):
        raise pickle.UnpicklingError(f"malformed storage reference in checkpoint: {pid!r}")
    if not isinstance(numel, int) or numel < 0:
        raise pickle.UnpicklingError(f"malformed storage size in checkpoint: {numel!r}")
    return storage_type, key, location, numel


def _storage_np_dtype(storage_type):
    if storage_type.dtype == "complex128":
        return np.dtype(np.complex128)
    return _np_dtype(storage_type.dtype)


def _load_zip(zf, map_location, weights_only, mmap_array, swap_bytes, pickle_load_args):
    names = zf.namelist()
    pkl = [n for n in names if n == "data.pkl" or n.endswith("/data.pkl")]
    if not pkl:
        raise RuntimeError("checkpoint archive has no data.pkl record: not a PyTorch/tapegrad checkpoint")
    pkl_name = min(pkl, key=len)
    prefix = pkl_name[:-len("data.pkl")]
    if swap_bytes is None:
        order = zf.read(prefix + "byteorder").decode() if prefix + "byteorder" in names else "little"
        swap_bytes = order != sys.byteorder
    relocate = _location_mapper(map_location)
    loaded = {}

    def read_record(key, dtype, numel):
        name = f"{prefix}data/{key}"
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise RuntimeError(f"checkpoint is missing the storage record {name!r}") from None
        nbytes = numel * dtype.itemsize
        if info.file_size < nbytes:
            raise RuntimeError(f"storage record {name!r} holds {info.file_size} bytes, the checkpoint says "
                               f"{nbytes}: the file is truncated or corrupt")
        if mmap_array is not None and info.compress_type == zipfile.ZIP_STORED:
            start = _record_data_offset(zf, info)
            raw = mmap_array[start:start + nbytes]
        else:
            raw = np.empty(nbytes, dtype=np.uint8)
            with zf.open(info) as fh:
                view = memoryview(raw)
                got = 0
                while got < nbytes:
                    chunk = fh.read(min(nbytes - got, 1 << 26))
                    if not chunk:
                        raise RuntimeError(f"storage record {name!r} ended early")
                    view[got:got + len(chunk)] = chunk
                    got += len(chunk)
        arr = raw.view(dtype)
        if swap_bytes and dtype.itemsize > 1:
            arr = arr.byteswap()
        return arr

    def persistent_load(pid):
        storage_type, key, location, numel = _check_pid(pid)
        if key in loaded:
            return loaded[key]
        dtype = _storage_np_dtype(storage_type)
        storage = _Storage(read_record(key, dtype, numel), storage_type.dtype, "cpu")
        storage = _check_device(relocate(storage, location))
        loaded[key] = storage
        return storage

    data = zf.read(pkl_name)
    return _unpickle(io.BytesIO(data), weights_only, persistent_load, pickle_load_args)


def _record_data_offset(zf, info):
    zf.fp.seek(info.header_offset)
    header = zf.fp.read(30)
    if header[:4] != b"PK\x03\x04":
        raise RuntimeError("corrupt zip archive: bad local header")
    n, m = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + n + m


def _unpickle(fh, weights_only, persistent_load, pickle_load_args):
    if weights_only:
        extra = set(pickle_load_args) - {"encoding", "errors"}
        if extra:
            raise ValueError(f"weights-only load accepts only the pickle arguments encoding and errors, got "
                             f"{sorted(extra)}")
        return _WeightsOnlyUnpickler(fh, persistent_load, **pickle_load_args).load()
    return _FullUnpickler(fh, persistent_load, **pickle_load_args).load()


def _load_legacy(fh, map_location, weights_only, pickle_load_args):
    """PyTorch's pre-1.6 format: magic, protocol and system-info pickles, the object pickle, the storage
    keys, then each storage as an int64 element count and raw bytes."""
    def small():
        return _unpickle(fh, True, None, {})

    try:
        magic = small()
    except _RefusedGlobal:
        raise
    except Exception as e:
        raise pickle.UnpicklingError("tapegrad.load: not a checkpoint (expected a zip archive written by "
                                     "torch.save/tapegrad.save, PyTorch's legacy format, or a safetensors file): "
                                     f"{type(e).__name__}: {e}") from None
    if magic != MAGIC_NUMBER:
        raise RuntimeError("Invalid magic number; corrupt file?")
    version = small()
    if version != PROTOCOL_VERSION:
        raise RuntimeError(f"Invalid protocol version: {version}")
    sys_info = small()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    relocate = _location_mapper(map_location)
    roots, views = {}, {}

    def persistent_load(pid):
        if isinstance(pid, tuple) and pid and pid[0] in ("module", b"module"):
            if weights_only:
                raise pickle.UnpicklingError("a weights-only load cannot restore a pickled module")
            return pid[1]
        if not isinstance(pid, tuple) or len(pid) != 6:
            raise pickle.UnpicklingError(f"malformed storage reference in checkpoint: {pid!r}")
        storage_type, root_key, location, numel = _check_pid(pid[:5])
        view_metadata = pid[5]
        if root_key not in roots:
            dtype = _storage_np_dtype(storage_type)
            storage = _Storage(np.zeros(numel, dtype=dtype), storage_type.dtype, "cpu")
            storage = _check_device(relocate(storage, location))
            if storage.device != "cpu":
                raise NotImplementedError("tapegrad.load: the legacy checkpoint format loads onto the CPU only; "
                                          "pass map_location='cpu'")
            roots[root_key] = storage
        storage = roots[root_key]
        if view_metadata is None:
            return storage
        view_key, offset, size = view_metadata
        if view_key not in views:
            if not (isinstance(offset, int) and isinstance(size, int) and 0 <= offset
                    and offset + size <= storage.array.size):
                raise pickle.UnpicklingError(f"storage view out of bounds in checkpoint: {view_metadata!r}")
            views[view_key] = _Storage(storage.array[offset:offset + size], storage.dtype, storage.device)
        return views[view_key]

    result = _unpickle(fh, weights_only, persistent_load, pickle_load_args)
    keys = small()
    for key in keys:
        if key not in roots:
            raise RuntimeError(f"legacy checkpoint: storage key {key!r} was never referenced")
        arr = roots[key].array
        (n,) = struct.unpack("<q" if little else ">q", _read_exact(fh, 8))
        if n != arr.size:
            raise RuntimeError(f"legacy checkpoint: storage {key!r} holds {n} elements, expected {arr.size}")
        raw = _read_exact(fh, arr.nbytes)
        data = np.frombuffer(raw, dtype=arr.dtype.newbyteorder("<" if little else ">"))
        arr[...] = data
    return result


def _read_exact(fh, n):
    data = fh.read(n)
    if len(data) != n:
        raise RuntimeError("checkpoint ended early: the file is truncated")
    return data


def _looks_like_safetensors(head):
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n < (1 << 32) and head[8:9] == b"{"


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load an object saved with `save` or `torch.save` (zip or legacy format), or a safetensors file.

    weights_only (default True): construct only tensors, parameters, primitive containers and the other
    allow-listed types; anything else raises pickle.UnpicklingError naming the global. weights_only=False
    unpickles arbitrary objects and can run arbitrary code: use it only for files you trust.
    map_location: None, 'cpu', a device, a dict {saved location: new location}, or a callable
    (storage, location) -> storage. mmap=True maps the file's storages instead of reading them.
    """
    if weights_only is None:
        weights_only = pickle_module is None or os.environ.get("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "0") in ("1", "y")
        if os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "0") in ("1", "y", "true", "True"):
            weights_only = False
    if weights_only and pickle_module is not None and pickle_module is not pickle:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    with contextlib.ExitStack() as stack:
        if _is_path(f):
            fh = stack.enter_context(open(f, "rb"))
        else:
            if not hasattr(f, "read"):
                raise AttributeError(f"tapegrad.load: expected a path or a binary file object, got {type(f).__name__}")
            fh = f
            if not (getattr(fh, "seekable", None) and fh.seekable()):
                fh = io.BytesIO(fh.read())
        start = fh.tell()
        head = fh.read(16)
        fh.seek(start)
        if head[:4] == b"PK\x03\x04":
            if start:
                fh = io.BytesIO(fh.read())
            zf = stack.enter_context(zipfile.ZipFile(fh))
            mmap_array = None
            if mmap:
                if not _is_path(f):
                    raise ValueError("f must be a file path in order to use the mmap argument")
                mmap_array = np.memmap(f, dtype=np.uint8, mode="c")
            swap = None
            end = _load_endianness[0]
            if end == LoadEndianness.NATIVE:
                swap = False
            elif end in (LoadEndianness.LITTLE, LoadEndianness.BIG):
                swap = (end == LoadEndianness.BIG) != (sys.byteorder == "big")
            return _load_zip(zf, map_location, weights_only, mmap_array, swap, pickle_load_args)
        if _looks_like_safetensors(head):
            if _is_path(f):
                return load_file(f, device=_safetensors_device(map_location))
            return _safetensors_load_bytes(fh.read(), _safetensors_device(map_location))
        if _is_tar(fh):
            raise NotImplementedError("tapegrad.load: this looks like PyTorch's oldest (tar) checkpoint format, "
                                      "which tapegrad does not read; re-save it with a recent torch.save")
        return _load_legacy(fh, map_location, weights_only, pickle_load_args)  # PyTorch's pre-1.6 format


def _is_tar(fh):
    start = fh.tell()
    try:
        fh.seek(start + 257)
        return fh.read(5) == b"ustar"
    finally:
        fh.seek(start)


# ====================================================================== safetensors
def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("safetensors support needs the optional package `safetensors`: "
                          "pip install safetensors  (or pip install tapegrad[safetensors])") from None
    return st


def _safetensors_device(map_location):
    if map_location is None or callable(map_location) and not isinstance(map_location, (str, _backend.device)):
        return "cpu"
    if isinstance(map_location, dict):
        return str(map_location.get("cpu", "cpu"))
    return str(map_location)


def _to_tensors(arrays, device):
    out = {}
    for k, a in arrays.items():
        if a.dtype not in _dtype._BY_NP:
            raise TypeError(f"safetensors: tensor {k!r} has dtype {a.dtype}, which tapegrad does not support")
        if not a.flags.writeable or not a.flags.c_contiguous:
            a = np.array(a, copy=True, order="C")
        t = Tensor._make(a)
        if device is not None and str(device) != "cpu":
            t = t.to(device)
        out[k] = t
    return out


def _to_arrays(tensors):
    if not isinstance(tensors, dict):
        raise TypeError(f"safetensors: expected a dict of name -> tensor, got {type(tensors).__name__}")
    arrays = {}
    for k, t in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"safetensors: keys must be strings, got {k!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"safetensors: value for {k!r} must be a tensor, got {type(t).__name__}")
        arrays[k] = np.ascontiguousarray(_backend.to_numpy_array(t._data))
    return arrays


def save_file(tensors, filename, metadata=None):
    """Save a dict of name -> tensor as a .safetensors file (atomically); `metadata` is a dict of str."""
    st = _safetensors_numpy()
    blob = st.save(_to_arrays(tensors), metadata=metadata)
    _atomic_write(filename, lambda fh: fh.write(blob))


def load_file(filename, device="cpu"):
    """Load a .safetensors file into a dict of name -> tensor."""
    st = _safetensors_numpy()
    try:
        arrays = st.load_file(filename)
    except KeyError as e:
        raise TypeError(f"safetensors: {os.fspath(filename)!r} holds tensors of dtype {e.args[0]}, which tapegrad "
                        "cannot load") from None
    return _to_tensors(arrays, device)


def _safetensors_load_bytes(data, device="cpu"):
    st = _safetensors_numpy()
    try:
        arrays = st.load(data)
    except KeyError as e:
        raise TypeError(f"safetensors: the data holds tensors of dtype {e.args[0]}, which tapegrad cannot load") \
            from None
    return _to_tensors(arrays, device)


def save_model(model, filename, metadata=None):
    """Save `model.state_dict()` as a .safetensors file."""
    sd = model.state_dict()
    save_file({k: v for k, v in sd.items()}, filename, metadata=metadata)


def load_model(model, filename, strict=True, device="cpu"):
    """Load a .safetensors file into `model` with load_state_dict; returns (missing, unexpected) keys."""
    result = model.load_state_dict(load_file(filename, device=device), strict=strict)
    missing = list(getattr(result, "missing_keys", []) or [])
    unexpected = list(getattr(result, "unexpected_keys", []) or [])
    return missing, unexpected
