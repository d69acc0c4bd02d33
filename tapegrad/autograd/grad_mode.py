"""Grad modes: no_grad, enable_grad, set_grad_enabled, inference_mode.

The flag is one module-level list read on every operator call; a list
element is the cheapest mutable global to read from other modules.
"""
import functools

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
           "is_grad_enabled", "is_inference_mode_enabled"]

GRAD = [True]
_INFERENCE = [False]


def is_grad_enabled():
    return GRAD[0]


def is_inference_mode_enabled():
    return _INFERENCE[0]


class _Mode:
    """Context manager and decorator that sets the grad flag to `self.mode`."""

    mode = True

    def __enter__(self):
        self._prev = GRAD[0]
        GRAD[0] = self.mode

    def __exit__(self, *exc):
        GRAD[0] = self._prev
        return False

    def __call__(self, fn):
        if isinstance(fn, type) or not callable(fn):
            raise TypeError(f"{type(self).__name__}() can decorate functions, got {fn!r}")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_Mode):
    mode = False


class enable_grad(_Mode):
    mode = True


class set_grad_enabled(_Mode):
    def __init__(self, mode):
        self.mode = bool(mode)
        self._prev = GRAD[0]
        GRAD[0] = self.mode  # like PyTorch, it also works as a plain function call

    def __enter__(self):
        pass

    def __call__(self, fn):
        GRAD[0] = self._prev
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


class inference_mode(_Mode):
    def __init__(self, mode=True):
        if callable(mode) and not isinstance(mode, bool):  # used as a bare decorator
            self.mode, self._fn = False, mode
        else:
            self.mode, self._fn = not mode, None

    def __enter__(self):
        self._prev, self._prev_inf = GRAD[0], _INFERENCE[0]
        GRAD[0] = self.mode
        _INFERENCE[0] = not self.mode

    def __exit__(self, *exc):
        GRAD[0], _INFERENCE[0] = self._prev, self._prev_inf
        return False

    def __call__(self, *args, **kwargs):
        if self._fn is not None:
            with inference_mode():
                return self._fn(*args, **kwargs)
        fn, mode = args[0], not self.mode

        @functools.wraps(fn)
        def wrapper(*a, **k):
            with inference_mode(mode):
                return fn(*a, **k)

        return wrapper
