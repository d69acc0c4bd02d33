"""torchvision.transforms for tapegrad: Compose, ToTensor, Normalize, Lambda, RandomCrop,
RandomHorizontalFlip, RandomVerticalFlip, CenterCrop, Pad, Resize, ConvertImageDtype.

Images are NumPy arrays (H, W) or (H, W, C) (what tapegrad's datasets return in place of PIL
images) or tensors (..., C, H, W), as in torchvision. Random choices come from tapegrad's default
generator, so `tapegrad.manual_seed` makes augmentation reproducible.
"""
import numbers

import numpy as np

from .. import _dtype
from .._ops.random import _rng
from .._tensor import Tensor

__all__ = ["Compose", "ToTensor", "PILToTensor", "Normalize", "Lambda", "RandomCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "CenterCrop", "Pad", "Resize", "ConvertImageDtype", "functional"]


def _is_tensor(img):
    return isinstance(img, Tensor)


def _hw(img):
    if _is_tensor(img):
        return img.shape[-2], img.shape[-1]
    return img.shape[0], img.shape[1]


def _check_image(img, op):
    if not (_is_tensor(img) or isinstance(img, np.ndarray)):
        raise TypeError(f"{op}: img should be a NumPy array (H, W[, C]) or a Tensor (..., C, H, W). Got {type(img)}")


def _pair(size, name):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{name} should be an int or a sequence of 1 or 2 ints, got {size}")
    return int(size[0]), int(size[1])


class Compose:
    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


class ToTensor:
    """An image array (H, W[, C]) to a float32 tensor (C, H, W), uint8 scaled to [0, 1]."""

    def __call__(self, pic):
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return Tensor._make(chw.astype(np.float32) / np.float32(255))
        return Tensor._make(chw)

    def __repr__(self):
        return "ToTensor()"


class PILToTensor:
    """An image array (H, W[, C]) to a uint8 tensor (C, H, W), unscaled."""

    def __call__(self, pic):
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        return Tensor._make(np.ascontiguousarray(arr.transpose(2, 0, 1)))

    def __repr__(self):
        return "PILToTensor()"


class ConvertImageDtype:
    def __init__(self, dtype):
        self.dtype = _dtype.to_dtype(dtype)

    def __call__(self, image):
        arr = image._data
        if arr.dtype.kind in "ui" and self.dtype.is_floating_point:
            return Tensor._make((arr.astype(self.dtype.np) / np.iinfo(arr.dtype).max).astype(self.dtype.np))
        return image.to(self.dtype)


class Normalize:
    """(x - mean) / std per channel of a float tensor (..., C, H, W)."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor):
        if not _is_tensor(tensor):
            raise TypeError(f"Input tensor should be a torch tensor. Got {type(tensor)}.")
        if not tensor.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
        if tensor.dim() < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                             f"{tuple(tensor.shape)}")
        dt = tensor._data.dtype
        mean = np.asarray(self.mean, dtype=dt).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=dt).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by "
                             "zero.")
        if self.inplace:
            tensor._data -= mean
            tensor._data /= std
            return tensor
        return (tensor - Tensor._make(mean)) / Tensor._make(std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


def _crop(img, top, left, h, w):
    if _is_tensor(img):
        return img[..., top:top + h, left:left + w]
    return img[top:top + h, left:left + w]


def _pad(img, padding, fill=0, padding_mode="constant"):
    if isinstance(padding, numbers.Number):
        left = right = top = bottom = int(padding)
    elif len(padding) == 2:
        left = right = int(padding[0])
        top = bottom = int(padding[1])
    else:
        left, top, right, bottom = (int(p) for p in padding)
    mode = {"constant": "constant", "edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode]
    kw = {"constant_values": fill} if mode == "constant" else {}
    if _is_tensor(img):
        pad = [(0, 0)] * (img.dim() - 2) + [(top, bottom), (left, right)]
        return Tensor._make(np.pad(img._data, pad, mode=mode, **kw))
    pad = [(top, bottom), (left, right)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, pad, mode=mode, **kw)


class Pad:
    def __init__(self, padding, fill=0, padding_mode="constant"):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img):
        _check_image(img, "Pad")
        return _pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"Pad(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class CenterCrop:
    def __init__(self, size):
        self.size = _pair(size, "size")

    def __call__(self, img):
        _check_image(img, "CenterCrop")
        h, w = _hw(img)
        th, tw = self.size
        if th > h or tw > w:  # torchvision pads with zeros first
            img = _pad(img, [max((tw - w) // 2, 0), max((th - h) // 2, 0), max((tw - w + 1) // 2, 0),
                             max((th - h + 1) // 2, 0)])
            h, w = _hw(img)
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return _crop(img, top, left, th, tw)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class RandomCrop:
    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _pair(size, "size")
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def __call__(self, img):
        _check_image(img, "RandomCrop")
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        h, w = _hw(img)
        th, tw = self.size
        if self.pad_if_needed and (h < th or w < tw):
            img = _pad(img, [max(tw - w, 0), max(th - h, 0)], self.fill, self.padding_mode)
            h, w = _hw(img)
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        rng = _rng(None)
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        return _crop(img, top, left, th, tw)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class _RandomFlip:
    axis_from_end = 1

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        _check_image(img, type(self).__name__)
        if _rng(None).random() < self.p:
            if _is_tensor(img):
                return img.flip(-self.axis_from_end)
            return np.ascontiguousarray(np.flip(img, 1 if self.axis_from_end == 1 else 0))
        return img

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    axis_from_end = 1


class RandomVerticalFlip(_RandomFlip):
    axis_from_end = 2


def _resize_plane_bilinear(arr, oh, ow, axes):
    """Bilinear resampling along two axes with half-pixel centres (align_corners=False)."""
    h, w = arr.shape[axes[0]], arr.shape[axes[1]]

    def coords(n_out, n_in):
        x = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        x = np.clip(x, 0, n_in - 1)
        lo = np.floor(x).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (x - lo)

    y0, y1, fy = coords(oh, h)
    x0, x1, fx = coords(ow, w)
    a = arr.astype(np.float64)
    top = np.take(a, y0, axis=axes[0]) * _bshape(1 - fy, a.ndim, axes[0]) + \
        np.take(a, y1, axis=axes[0]) * _bshape(fy, a.ndim, axes[0])
    out = np.take(top, x0, axis=axes[1]) * _bshape(1 - fx, a.ndim, axes[1]) + \
        np.take(top, x1, axis=axes[1]) * _bshape(fx, a.ndim, axes[1])
    if arr.dtype == np.uint8:
        return np.clip(np.round(out), 0, 255).astype(np.uint8)
    return out.astype(arr.dtype)


def _bshape(v, ndim, axis):
    shape = [1] * ndim
    shape[axis] = -1
    return v.reshape(shape)


class Resize:
    """Resize to `size` ((h, w), or an int matching the smaller edge); bilinear or nearest, without
    antialiasing."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        self.size, self.interpolation, self.max_size = size, str(interpolation).split(".")[-1].lower(), max_size

    def _target(self, h, w):
        if isinstance(self.size, numbers.Number) or len(self.size) == 1:
            s = int(self.size if isinstance(self.size, numbers.Number) else self.size[0])
            if h <= w:
                oh, ow = s, int(s * w / h)
            else:
                oh, ow = int(s * h / w), s
            if self.max_size is not None and max(oh, ow) > self.max_size:
                scale = self.max_size / max(oh, ow)
                oh, ow = int(oh * scale), int(ow * scale)
            return oh, ow
        return int(self.size[0]), int(self.size[1])

    def __call__(self, img):
        _check_image(img, "Resize")
        h, w = _hw(img)
        oh, ow = self._target(h, w)
        arr = img._data if _is_tensor(img) else img
        axes = (arr.ndim - 2, arr.ndim - 1) if _is_tensor(img) else (0, 1)
        if self.interpolation == "nearest":
            rows = np.minimum((np.arange(oh) * (h / oh)).astype(np.int64), h - 1)
            cols = np.minimum((np.arange(ow) * (w / ow)).astype(np.int64), w - 1)
            out = np.take(np.take(arr, rows, axis=axes[0]), cols, axis=axes[1])
        elif self.interpolation == "bilinear":
            out = _resize_plane_bilinear(arr, oh, ow, axes)
        else:
            raise NotImplementedError(f"tapegrad does not implement torchvision.transforms.Resize with "
                                      f"interpolation={self.interpolation}")
        return Tensor._make(np.ascontiguousarray(out)) if _is_tensor(img) else np.ascontiguousarray(out)

    def __repr__(self):
        return f"Resize(size={self.size}, interpolation={self.interpolation})"


class _Functional:
    """transforms.functional: the stateless forms used by user code."""

    @staticmethod
    def to_tensor(pic):
        return ToTensor()(pic)

    @staticmethod
    def normalize(tensor, mean, std, inplace=False):
        return Normalize(mean, std, inplace)(tensor)

    @staticmethod
    def pad(img, padding, fill=0, padding_mode="constant"):
        return _pad(img, padding, fill, padding_mode)

    @staticmethod
    def crop(img, top, left, height, width):
        return _crop(img, top, left, height, width)

    @staticmethod
    def center_crop(img, output_size):
        return CenterCrop(output_size)(img)

    @staticmethod
    def hflip(img):
        return img.flip(-1) if _is_tensor(img) else np.ascontiguousarray(img[:, ::-1])

    @staticmethod
    def vflip(img):
        return img.flip(-2) if _is_tensor(img) else np.ascontiguousarray(img[::-1])

    @staticmethod
    def resize(img, size, interpolation="bilinear", max_size=None, antialias=True):
        return Resize(size, interpolation, max_size)(img)


functional = _Functional()
