"""The check every error-parity test makes: the same exception type as PyTorch, and PyTorch's message
(its first line) within tapegrad's, which may put the operator's name in front of it."""
import pytest


def assert_raises_like_torch(case, torch, tg, label):
    """`case(m)` must raise for m = torch and m = tapegrad alike; returns tapegrad's exception."""
    with pytest.raises(Exception) as want:
        case(torch)
    with pytest.raises(Exception) as got:
        case(tg)
    assert type(got.value) is type(want.value), f"{label}: {type(got.value).__name__}: {got.value}"
    assert str(want.value).split("\n")[0] in str(got.value), f"{label}: {got.value!r} vs torch's {want.value!r}"
    return want.value, got.value
