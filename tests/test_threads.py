"""torch.set_num_threads / get_num_threads reach NumPy's BLAS."""
import tapegrad


def test_set_and_get_num_threads_round_trip():
    before = tapegrad.get_num_threads()
    try:
        tapegrad.set_num_threads(1)
        assert tapegrad.get_num_threads() == 1
        tapegrad.set_num_threads(2)
        assert tapegrad.get_num_threads() == 2
    finally:
        tapegrad.set_num_threads(before)


def test_set_num_threads_rejects_nonpositive():
    import pytest

    with pytest.raises(RuntimeError):
        tapegrad.set_num_threads(0)
