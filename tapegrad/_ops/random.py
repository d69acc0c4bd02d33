"""Random numbers from tapegrad's own Generator (NumPy's PCG64 underneath).

tapegrad cannot reproduce PyTorch's random stream, so parity tests copy weights, never seeds;
within tapegrad, a seed reproduces everything."""
import pickle

import numpy as np

from .. import _backend, _dtype
from .._tensor import Tensor, tensor_method
from ..autograd import grad_mode
from ..autograd.function import Function

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
        seed = int(seed)
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
        seed, state = pickle.loads(np.asarray(new_state._data, dtype=np.uint8).tobytes())
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


def _rng(generator):
    return (generator if generator is not None else default_generator)._rng


def manual_seed(seed):
    default_generator.manual_seed(seed)
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
    from .creation import _size

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
         pin_memory=False):
    dt = _float_dtype(dtype, "check_uniform_bounds")
    arr = _rng(generator).random(_shape(size, "rand"), dtype=np.float64 if dt.np != np.float32 else np.float32)
    return _make(arr.astype(dt.np, copy=False), device, requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    dt = _float_dtype(dtype, "normal_kernel_cpu")
    arr = _rng(generator).standard_normal(_shape(size, "randn"),
                                          dtype=np.float32 if dt.np == np.float32 else np.float64)
    return _make(arr.astype(dt.np, copy=False), device, requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
            requires_grad=False):
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    arr = _rng(generator).integers(low, high, size=tuple(size), dtype=np.int64)
    return _make(arr.astype(dt.np), device, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    dt = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    return _make(_rng(generator).permutation(int(n)).astype(dt.np), device, requires_grad)


def rand_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, layout=None, device=None, requires_grad=False,
                 memory_format=None):
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """torch.normal: tensor means and/or stds broadcast; with floats, `size` gives the shape."""
    rng = _rng(generator)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
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
        raise TypeError("normal() missing required argument 'size' when mean and std are numbers")
    dt = _float_dtype(dtype, "normal")
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


def bernoulli(input, p=None, *, generator=None, out=None):
    probs = input._data if p is None else np.full(input._data.shape, p)
    if ((probs < 0) | (probs > 1)).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    arr = (_rng(generator).random(input._data.shape) < probs).astype(input._data.dtype)
    return Tensor._make(arr)


def poisson(input, generator=None):
    return Tensor._make(_rng(generator).poisson(input._data).astype(input._data.dtype))


@tensor_method
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """torch.multinomial over the last dimension of a 1-D or 2-D tensor of non-negative weights."""
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_type_name(input._data.dtype)}")
    p = np.asarray(input._data, dtype=np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {p.ndim}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = p.reshape(-1, p.shape[-1])
    n_cat = rows.shape[1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples")
    rng = _rng(generator)
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
def _fill(self, arr):
    self._check_inplace()
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
    return _fill(self, _rng(generator).standard_normal(self._data.shape) * std + mean)


@tensor_method
def uniform_(self, a=0.0, b=1.0, *, generator=None):
    _need_float(self, "check_uniform_bounds")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}")
    return _fill(self, _rng(generator).random(self._data.shape) * (b - a) + a)


@tensor_method
def bernoulli_(self, p=0.5, *, generator=None):
    probs = p._data if isinstance(p, Tensor) else p
    return _fill(self, _rng(generator).random(self._data.shape) < probs)


@tensor_method
def exponential_(self, lambd=1.0, *, generator=None):
    return _fill(self, _rng(generator).exponential(1.0 / lambd, self._data.shape))


@tensor_method
def random_(self, from_=0, to=None, *, generator=None):
    if to is None:
        to = 2 ** 24 if self.is_floating_point() else np.iinfo(self._data.dtype).max
        from_, to = 0, to if from_ == 0 else from_
    return _fill(self, _rng(generator).integers(from_, to, self._data.shape))


@tensor_method
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    return _fill(self, median + sigma * np.tan(np.pi * (_rng(generator).random(self._data.shape) - 0.5)))


@tensor_method
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    return _fill(self, np.exp(_rng(generator).standard_normal(self._data.shape) * std + mean))


@tensor_method
def geometric_(self, p, *, generator=None):
    return _fill(self, _rng(generator).geometric(p, self._data.shape))
