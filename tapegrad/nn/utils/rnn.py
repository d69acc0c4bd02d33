"""tapegrad.nn.utils.rnn: PackedSequence and the padding/packing helpers of torch.nn.utils.rnn.

A PackedSequence holds its steps time-major: rows `off_t : off_t + batch_sizes[t]` of `data` are step t
of the sequences still running, longest first. Packing and padding are one row gather or scatter each
(`_ops.rnn.pack_rows` / `pad_rows`), so gradients flow through them as in PyTorch.
"""
from collections import namedtuple

import numpy as np

from ..._ops.rnn import pack_rows, pad_rows
from ..._tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

PackedSequence_ = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _long(values):
    return Tensor._make(np.asarray(values, dtype=np.int64))


def _ints(t):
    """A 1-d index tensor (or list) as a NumPy int64 array."""
    if t is None:
        return None
    if isinstance(t, Tensor):
        from ..._backend import to_numpy_array

        return to_numpy_array(t._data).astype(np.int64, copy=False).reshape(-1)
    if hasattr(t, "detach") and hasattr(t, "cpu"):  # a torch tensor
        return np.asarray(t.detach().cpu().numpy(), dtype=np.int64).reshape(-1)
    return np.asarray(t, dtype=np.int64).reshape(-1)


class PackedSequence(PackedSequence_):
    """Holds the data and list of batch_sizes of a packed sequence (built by pack_padded_sequence /
    pack_sequence; recurrent layers accept it as input)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = _long(_ints(batch_sizes))
        elif batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn. "
                             "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data, device=None):
        if data is self.data:
            return self

        def move(t):
            return None if t is None or device is None else t.to(device)

        si = self.sorted_indices if device is None else move(self.sorted_indices)
        ui = self.unsorted_indices if device is None else move(self.unsorted_indices)
        return type(self)(data, self.batch_sizes, si, ui)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self._with_data(data, data.device if data.device != self.data.device else None)

    def cuda(self, *args, **kwargs):
        data = self.data.cuda(*args, **kwargs)
        return self._with_data(data, data.device)

    def cpu(self, *args, **kwargs):
        data = self.data.cpu()
        return self._with_data(data, data.device)

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    def half(self):
        return self._with_data(self.data.half())

    def long(self):
        return self._with_data(self.data.long())

    def int(self):
        return self._with_data(self.data.int())

    def short(self):
        return self._with_data(self.data.short())

    def char(self):
        return self._with_data(self.data.char())

    def byte(self):
        return self._with_data(self.data.byte())

    @property
    def is_cuda(self):
        return self.data.is_cuda


def invert_permutation(permutation):
    """The inverse of a permutation (sorted_indices <-> unsorted_indices); None stays None."""
    if permutation is None:
        return None
    p = _ints(permutation)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return _long(inv)


def _packed_rows(lengths, n_steps, batch, perm, batch_first):
    """Row numbers, in packed order, of the padded input viewed as (n_steps * batch, ...) (or
    (batch * n_steps, ...) when batch_first); perm[j] is the padded column of the j-th longest sequence."""
    t = np.arange(n_steps)[:, None]
    cols = perm[None, :] if perm is not None else np.arange(batch)[None, :]
    grid = cols * n_steps + t if batch_first else t * batch + cols
    return grid[t < lengths[None, :]]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of variable-length sequences (lengths sorted decreasingly unless
    enforce_sorted=False, which sorts them and records sorted_indices)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pack_padded_sequence(): argument 'input' must be Tensor, not {type(input).__name__}")
    if isinstance(lengths, Tensor) and lengths.is_cuda:
        raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D cuda:0 Long tensor")
    lens = _ints(lengths)
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: expected a padded input with at least 2 dimensions "
                           f"(time and batch), got input of shape {list(input.shape)}")
    n_steps, batch = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    if lens.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={batch}) (pack_padded_sequence: input of shape {list(input.shape)}, "
                           f"batch_first={batch_first})")
    where = (f" (pack_padded_sequence: lengths {lens.tolist()}, input of shape {list(input.shape)}, "
             f"batch_first={batch_first})")
    perm = sorted_indices = None
    if not enforce_sorted:
        perm = np.argsort(-lens, kind="stable")
        lens = lens[perm]
        sorted_indices = _long(perm)
    if batch and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0" + where)
    if enforce_sorted and np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability." + where)
    if batch and lens[0] > n_steps:
        raise RuntimeError(f"a sequence length {int(lens[0])} exceeds the padded input's {n_steps} steps" + where)
    max_len = int(lens[0]) if batch else 0
    batch_sizes = (np.arange(max_len)[:, None] < lens[None, :]).sum(1)
    rows = _packed_rows(lens, n_steps, batch, perm, batch_first)
    flat = input.reshape((n_steps * batch,) + tuple(input.shape[2:]))
    return PackedSequence(pack_rows(flat, rows), _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded batch, lengths), in the original batch order."""
    data, batch_sizes, sorted_indices, unsorted_indices = sequence
    bs = _ints(batch_sizes)
    max_len = bs.size
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
        max_len = total_length
    batch = int(bs[0]) if bs.size else 0
    lens = (np.arange(batch)[None, :] < bs[:, None]).sum(0)  # sorted order
    perm = _ints(sorted_indices)
    if perm is None and unsorted_indices is not None:
        perm = _ints(invert_permutation(unsorted_indices))
    rows = _packed_rows(lens, max_len, batch, perm, batch_first)
    feat = tuple(data.shape[1:])
    padded = pad_rows(data, rows, max_len * batch, padding_value)
    padded = padded.reshape(((batch, max_len) if batch_first else (max_len, batch)) + feat)
    if perm is not None:
        out_lens = np.empty_like(lens)
        out_lens[perm] = lens
        lens = out_lens
    return padded, _long(lens)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length sequences (L_i, *) into a padded (T, B, *) tensor (or (B, T, *))."""
    from ..._ops.movement import cat

    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    elif not hasattr(sequences, "__iter__"):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence(): expected a sequence of Tensors, but element {i} is "
                            f"{type(s).__name__}")
        if s.dim() == 0:
            raise RuntimeError(f"pad_sequence: sequence {i} is a 0-d tensor; each sequence needs a time dimension")
    trailing = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"pad_sequence: sequences must have the same trailing dimensions, but sequence 0 "
                               f"has shape {list(sequences[0].shape)} and sequence {i} has shape {list(s.shape)}")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    batch, max_len = len(sequences), int(lens.max())
    t = np.arange(max_len)[:, None]
    b = np.arange(batch)[None, :]
    valid = t < lens[None, :] if padding_side == "right" else t >= (max_len - lens)[None, :]
    grid = b * max_len + t if batch_first else t * batch + b
    rows = grid.T[valid.T]  # sequence by sequence, in time order: the order of cat
    data = cat([s.to(sequences[0].dtype) for s in sequences], 0) if len(sequences) > 1 else sequences[0]
    padded = pad_rows(data, rows, max_len * batch, padding_value)
    return padded.reshape(((batch, max_len) if batch_first else (max_len, batch)) + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch (the input is left as it is)."""
    lens = _ints(lengths)
    if batch_first:
        return [padded_sequences[i, :int(n)] for i, n in enumerate(lens)]
    return [padded_sequences[:int(n), i] for i, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length tensors (L_i, *), longest first unless enforce_sorted=False."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of variable-length tensors a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
