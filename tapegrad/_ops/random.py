"""Random numbers from tapegrad's own Generator (NumPy's PCG64 underneath).

tapegrad cannot reproduce PyTorch's random stream, so parity tests copy weights, never seeds;
within tapegrad, a seed reproduces everything."""
import pickle

import numpy as np

from .. import _backend, _dtype
from .._tensor import Tensor, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function, _named
from .creation import _size, _size_kw

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state",
           "default_generator", "rand", "randn", "randint", "randperm", "normal", "multinomial", "bernoulli",
           "poisson", "rand_like", "randn_like", "randint_like"]


class Generator:
    """torch.Generator: a seedable source of random numbers."""

    def __init__(self, device="cpu"):
        self.device = _backend.device(device)
        self._seed = 67280421310721  # PyTorch's default seed
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        if isinstance(seed, (bool, float, str, bytes, Tensor)) or not hasattr(type(seed), "__index__"):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -2 ** 63 <= seed < 2 ** 64:
            raise ValueError("Overflow when unpacking long long")
        if seed < 0:
            seed &= 0xFFFFFFFFFFFFFFFF
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        blob = pickle.dumps((self._seed, self._rng.bit_generator.state))
        return Tensor._make(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state.dtype is not _dtype.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        try:
            seed, state = pickle.loads(_backend.to_numpy_array(new_state._data).tobytes())
            np.random.Generator(np.random.PCG64()).bit_generator.state = state
        except Exception:  # noqa: BLE001 - any blob that is not a state this Generator wrote
            raise RuntimeError(f"Expected a state from tapegrad's Generator.get_state() but found the input RNG "
                               f"state size to be {new_state.numel()}") from None
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = state
        return self

    def __getstate__(self):
        return {"seed": self._seed, "state": self._rng.bit_generator.state, "device": str(self.device)}

    def __setstate__(self, d):
        self.device = _backend.device(d["device"])
        self._seed = d["seed"]
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = d["state"]


default_generator = Generator()


def _rng(generator, op="random"):
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{op}() received an invalid combination of arguments - got "
                        f"(generator={type(generator).__name__}), but expected a torch.Generator")
    return generator._rng


def manual_seed(seed):
    default_generator.manual_seed(int(seed))
    return default_generator


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def _float_dtype(dtype, op):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()
    if not dt.is_floating_point:
        from .._tensor import _type_name

        raise NotImplementedError(f'"{op}" not implemented for \'{_type_name(dt.np)}\'')
    return dt


def _shape(size, op):
    return _size(size, op)


def _make(arr, device, requires_grad):
    d = _backend.to_device(device)
    if d is not None and d.type == "cuda":
        arr = _backend.cupy().asarray(arr)
    t = Tensor._make(arr)
    if requires_grad:
        t._factory_rg()
    return t


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kw):
    size = _size_kw(size, kw, "rand")
    dt = _float_dtype(dtype, "check_uniform_bounds")
    arr = _rng(generator, "rand").random(_shape(size, "rand"),
                                         dtype=np.float64 if dt.np != np.float32 else np.float32)
    return _make(arr.astype(dt.np, copy=False), device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kw):
    size = _size_kw(size, kw, "randn")
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _rng(generator, "randn").standard_normal(_shape(size, "randn"),
                                          dtype=np.float32 if dt.np == np.float32 else np.float64)
    return _make(arr.astype(dt.np, copy=False), device, requires_grad)


# the C types random_'s bounds check names
_C_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char", "int16": "short int", "int32": "int",
            "int64": "long int"}


def _check_from_to(lo, hi, dt, op="random_"):
    """PyTorch's random_from_to checks: from < to, and both within the integer dtype."""
    if lo >= hi:
        raise RuntimeError(f"{op} expects 'from' to be less than 'to', but got from={lo} >= to={hi}")
    if dt.is_floating_point or dt.is_complex:
        return
    lim = (0, 1) if dt is _dtype.bool else (int(np.iinfo(dt.np).min), int(np.iinfo(dt.np).max))
    if not lim[0] <= lo <= lim[1]:
        raise RuntimeError(f"from is out of bounds for {_C_NAMES[dt.name]}")
    if not lim[0] <= hi - 1 <= lim[1]:
        raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[dt.name]}")


def _int_arg(v, name, pos, op):
    if isinstance(v, Tensor) and not (v.dtype.is_floating_point or v.dtype.is_complex) and v.numel() == 1:
        v = int(v.item())
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
        raise TypeError(f"{op}(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}")
    v = int(v)
    if not -2 ** 63 <= v < 2 ** 63:
        raise ValueError("Overflow when unpacking long long")
    return v


def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            **kw):
    """torch.randint(high, size) or torch.randint(low, high, size); low, high and size by keyword too."""
    names = ("low", "high", "size")
    given = dict(kw)
    unknown = [k for k in given if k not in names]
    if unknown:
        raise TypeError(f"randint() got an unexpected keyword argument '{unknown[0]}'")
    if len(args) + len(given) == 2 and "low" not in given:
        vals = dict(zip(("high", "size"), args))
    else:
        vals = dict(zip(names, args))
    for k, v in given.items():
        if k in vals:
            raise TypeError(f"randint() got multiple values for argument '{k}'")
        vals[k] = v
    if "high" not in vals or "size" not in vals:
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"randint() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of: (int high, tuple of ints size, ...) or (int low, int high, tuple of ints size, ...)")
    size = vals["size"]
    two = "low" in vals
    if two and any(isinstance(vals[k], float) for k in ("low", "high")):
        got = ", ".join(type(vals[k]).__name__ for k in names)
        raise TypeError(f"randint() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of: (int low, int high, tuple of ints size, ...)")
    high = _int_arg(vals["high"], "high", 2 if two else 1, "randint")
    low = _int_arg(vals.get("low", 0), "low", 1, "randint")
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"randint(): argument 'size' (position {3 if two else 2}) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = _shape((tuple(size),), "randint")
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    _check_from_to(low, high, dt)
    if requires_grad and not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    arr = _rng(generator, "randint").integers(low, high, size=shape, dtype=np.int64)
    return _make(arr.astype(dt.np), device, requires_grad)


_PERM_MAX = {"float16": (2049, "2049", "Half"), "float32": (2 ** 24 + 1, "2^24+1", "Float"),
             "float64": (2 ** 53 + 1, "2^53+1", "Double")}


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    n = _int_arg(n, "n", 1, "randperm")
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dt is _dtype.bool:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if dt.name in _PERM_MAX:
        lim, text, name = _PERM_MAX[dt.name]
        if n > lim:
            raise RuntimeError(f"n cannot be greater than {text} for {name} type.")
    elif n:
        _dtype.checked_scalar(n - 1, dt)
    if requires_grad and not (dt.is_floating_point or dt.is_complex):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    return _make(_rng(generator, "randperm").permutation(n).astype(dt.np), device, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device,
                   requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """torch.normal: tensor means and/or stds broadcast; with floats, `size` gives the shape."""
    rng = _rng(generator, "normal")
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            got = ", ".join(type(a).__name__ for a in (mean, std, size))
            raise TypeError(f"normal() received an invalid combination of arguments - got ({got}), but expected "
                            f"one of: (Tensor mean, Tensor std, ...) or (float mean, float std, tuple of ints size, ...)")
        if isinstance(std, Tensor):
            if (std._data < 0).any():
                raise RuntimeError("normal expects all elements of std >= 0.0")
        elif std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        ref = mean if isinstance(mean, Tensor) else std
        if not ref.is_floating_point():
            raise NotImplementedError(f'"normal_kernel_cpu" not implemented for \'{_type_name(ref._data.dtype)}\'')
        shape = _broadcast(mean, std)
        node = _NORMAL[isinstance(mean, Tensor), isinstance(std, Tensor)]
        return node.apply(mean, std, rng.standard_normal(shape).astype(ref._data.dtype))
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if size is None:
        raise TypeError(f"normal() received an invalid combination of arguments - got ({type(mean).__name__}, "
                        f"{type(std).__name__}), but expected one of: (float mean, float std, tuple of ints size, ...)")
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    arr = rng.standard_normal(tuple(size)) * std + mean
    return _make(arr.astype(dt.np), device, requires_grad)


class _Normal(Function):
    """torch.normal with tensor mean or std. PyTorch defines its gradient as zero in both (the sample is
    not reparameterised), yet the result requires grad when an input does."""

    @staticmethod
    def forward(ctx, mean, std, eps):
        return (eps * std + mean).astype(eps.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        zero = g * 0
        return zero, zero, None


# PyTorch numbers the backward of each overload: normal(Tensor, float), (float, Tensor), (Tensor, Tensor)
_NORMAL = {}
for _key, _n in (((True, False), 1), ((False, True), 2), ((True, True), 3)):
    _NORMAL[_key] = type(f"Normal{_n}", (_Normal,), {"__module__": __name__})
    _NORMAL[_key]._backward_name = f"NormalBackward{_n}"


def _broadcast(a, b):
    sa, sb = tuple(getattr(a, "shape", ())), tuple(getattr(b, "shape", ()))
    try:
        return np.broadcast_shapes(sa, sb)
    except ValueError:
        from .elementwise import _broadcast_error

        raise _broadcast_error("normal", None, np.empty(sa), np.empty(sb)) from None


def _type_name(np_dtype):
    from .._tensor import _type_name as name

    return name(np_dtype)


_IMPROVE = ("  (Could this error message be improved?  If so, please report an enhancement request to "
            "PyTorch.)")


class _Bernoulli(Function):
    """A sample of bernoulli(input): PyTorch defines its gradient as zero, yet the result requires grad."""

    _backward_name = "BernoulliBackward0"

    @staticmethod
    def forward(ctx, x, sample):
        return sample

    @staticmethod
    def backward(ctx, g):
        return g * 0, None


def bernoulli(input, p=None, *, generator=None, out=None):
    rng = _rng(generator, "bernoulli")
    if p is None:
        if not (input.is_floating_point() or input.is_complex()):
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                      f"'{_type_name(input._data.dtype)}'")
        probs = _backend.to_numpy_array(input._data)
        if ((probs < 0) | (probs > 1)).any():  # NaN passes, as in PyTorch
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false." + _IMPROVE)
        arr = (rng.random(probs.shape) < probs).astype(probs.dtype)
        if input.requires_grad and grad_mode.is_grad_enabled():
            return _Bernoulli.apply(input, arr)
        return Tensor._make(arr)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    arr = (rng.random(input._data.shape) < p).astype(input._data.dtype)
    return Tensor._make(arr)


def poisson(input, generator=None):
    if not input.is_floating_point():
        raise NotImplementedError(f'"poisson_cpu" not implemented for \'{_type_name(input._data.dtype)}\'')
    rates = _backend.to_numpy_array(input._data)
    if not (rates >= 0).all():  # NaN fails too
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Tensor._make(_rng(generator, "poisson").poisson(rates).astype(rates.dtype))


@tensor_method
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """torch.multinomial over the last dimension of a 1-D or 2-D tensor of non-negative weights."""
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_type_name(input._data.dtype)}")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    p = np.asarray(_backend.to_numpy_array(input._data), dtype=np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {p.ndim}")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = p.reshape(-1, p.shape[-1])
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rng = _rng(generator, "multinomial")
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for r, w in enumerate(rows):
        total = w.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            cdf = np.cumsum(w / total)
            cdf[-1] = 1.0
            out[r] = np.searchsorted(cdf, rng.random(num_samples), side="right")
        else:
            # Gumbel top-k: sampling without replacement in proportion to the weights; as in PyTorch,
            # zero-weight categories come only once the others are exhausted
            keys = np.log(rng.random(n_cat)) / np.where(w > 0, w, 1e-300)
            keys[w == 0] = -np.inf
            out[r] = np.argsort(-keys, kind="stable")[:num_samples]
    return Tensor._make(out.reshape(p.shape[:-1] + (num_samples,)))


# ---------------------------------------------------------------- in-place random fills
class _RandomFill(Function):
    """The node of an in-place random fill of a tensor in a graph: the new values do not depend on the
    old ones, so the gradient through them is zero (PyTorch's NormalBackward0, UniformBackward0, ...)."""

    @staticmethod
    def forward(ctx, x, values):
        return values.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(g.shape), None


def _fill(self, arr, node):
    """Write the random values `arr` into self; in a graph, through a node named `node` whose gradient is
    zero, as in PyTorch (so y = x * 2; y.normal_() sends x nothing)."""
    self._check_inplace()
    if grad_mode.GRAD[0] and self._rg:
        return self._inplace(_named(_RandomFill.apply(self, np.asarray(arr)), node), node)
    with grad_mode.no_grad():
        self._data[...] = arr
    self._version_ctr.v += 1
    return self


def _need_float(self, kernel):
    if not self.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(self._data.dtype)}\'')


@tensor_method
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _need_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _fill(self, _rng(generator).standard_normal(self._data.shape) * std + mean, "NormalBackward0")


@tensor_method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    _need_float(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _fill(self, _rng(generator).random(self._data.shape) * (b - a) + a, "UniformBackward0")


@tensor_method
def bernoulli_(self, p=0.5, *, generator=None):
    if not isinstance(p, Tensor) and not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(self, _rng(generator).random(self._data.shape) < probs,
                 "BernoulliBackward1" if isinstance(p, Tensor) else "BernoulliBackward2")


@tensor_method
def exponential_(self, lambd=1.0, *, generator=None):
    if not self.is_floating_point():
        raise RuntimeError(f"Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_type_name(self._data.dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape), "ExponentialBackward0")


@tensor_method
def random_(self, from_=0, to=None, *, generator=None):
    node = "RandomBackward0" if to is not None else "RandomBackward1" if from_ != 0 else "RandomBackward2"
    if to is None:
        if from_ == 0:  # random_(): [0, 2**mantissa] for floats, the whole non-negative range for integers
            if self.is_floating_point():
                to = 2 ** (np.finfo(self._data.dtype).nmant + 1) + 1
            else:
                to = 2 if self._data.dtype == np.bool_ else int(np.iinfo(self._data.dtype).max) + 1
        else:
            from_, to = 0, from_
    _check_from_to(int(from_), int(to), self.dtype)
    return _fill(self, _rng(generator).integers(from_, to, self._data.shape), node)


@tensor_method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _fill(self, median + sigma * np.tan(np.pi * (_rng(generator).random(self._data.shape) - 0.5)),
                 "CauchyBackward0")


@tensor_method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _fill(self, np.exp(_rng(generator).standard_normal(self._data.shape) * std + mean), "LogNormalBackward0")


@tensor_method
def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    return _fill(self, _rng(generator).geometric(p, self._data.shape), "GeometricBackward0")
