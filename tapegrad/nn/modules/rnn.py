"""Recurrent layers (RNN, LSTM, GRU) and their cells, with PyTorch's parameters, layout and options.

Each layer-direction is one fused operator (tapegrad/_ops/rnn.py) over the sequence packed time-major,
so a padded batch, a PackedSequence and an unbatched sequence all take the same path; stacked layers
are joined by concatenation of the directions and dropout.
"""
import math
import numbers
import warnings

from ..._ops.creation import empty
from ..._ops.layers import dropout as _dropout
from ..._ops.movement import cat, stack
from ..._ops.rnn import gru_cell, gru_layer, lstm_cell, lstm_layer, rnn_layer, rnn_relu_cell, rnn_tanh_cell
from ..._tensor import Tensor
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Parameters and the shared forward of RNN, LSTM and GRU.

    Parameters per layer k and direction (suffix "" or "_reverse"): weight_ih_l{k} (gates * hidden, input),
    weight_hh_l{k} (gates * hidden, hidden or proj_size), bias_ih_l{k}, bias_hh_l{k}, and weight_hr_l{k}
    (proj_size, hidden) for an LSTM with projections; all ~ U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        gate_size = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}.get(mode)
        if gate_size is None:
            raise ValueError("Unrecognized RNN mode: " + mode)
        gate_size *= hidden_size
        factory = {"device": device, "dtype": dtype}
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [(gate_size, layer_input_size), (gate_size, real_hidden_size)]
                names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    shapes += [(gate_size,), (gate_size,)]
                    names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    shapes += [(proj_size, hidden_size)]
                    names += ["weight_hr_l{}{}"]
                suffix = "_reverse" if direction == 1 else ""
                names = [n.format(layer, suffix) for n in names]
                for name, shape in zip(names, shapes):
                    setattr(self, name, Parameter(empty(shape, **factory)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    # ---- parameters ----------------------------------------------------
    @property
    def _flat_weights(self):
        return [getattr(self, n) if hasattr(self, n) else None for n in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, w) for w in weights] for weights in self._all_weights]

    def flatten_parameters(self):
        """A no-op, as in PyTorch off cuDNN: parameters are used where they are."""

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    # ---- checks ----------------------------------------------------------
    def _where(self, input, batch_sizes):
        if batch_sizes is not None:
            return f" ({self._get_name()}, packed input of shape {list(input.shape)} and batch size {batch_sizes[0]})"
        return f" ({self._get_name()}, input of shape {list(input.shape)}, batch_first={self.batch_first})"

    def check_input(self, input, batch_sizes):
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype != w.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({w.dtype}). Convert "
                             f"input: input.to({w.dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}"
                               + self._where(input, batch_sizes))
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.size(-1)}" + self._where(input, batch_sizes))
        if input.size(0 if batch_sizes is not None or not self.batch_first else 1) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN" + self._where(input, batch_sizes))

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}", where=""):
        if not isinstance(hx, Tensor):
            raise TypeError(f"{self._get_name()}: expected the initial hidden state to be a Tensor, got "
                            f"{type(hx).__name__}")
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.size())) + where)
        w = getattr(self, self._flat_weights_names[0])
        if hx.dtype != w.dtype:
            raise RuntimeError(f"{self._get_name()}: expected the initial state to have dtype {w.dtype}, like the "
                               f"input and the weights, but got {hx.dtype}")

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes),
                               where=self._where(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    # ---- forward -----------------------------------------------------------
    def _prepare(self, input, hx, n_states):
        """Validate and lay out the input: (packed input, batch_sizes, hx list, how to restore the output)."""
        name = self._get_name()
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            bs = tuple(int(b) for b in batch_sizes.tolist())
            if hx is not None:
                hx = self._as_states(hx, n_states)
                self.check_forward_args_all(data, hx, bs)
                hx = [self.permute_hidden(h, sorted_indices) for h in hx]
            else:
                self.check_input(data, bs)
            return data, bs, hx, ("packed", batch_sizes, sorted_indices, unsorted_indices)
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}.forward(): expected input to be a Tensor or a PackedSequence, got "
                            f"{type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D "
                             + ("tensor instead" if name == "RNN" else "instead"))
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if hx is not None:
            hx = self._as_states(hx, n_states)
            want = 3 if is_batched else 2
            if any(h.dim() != want for h in hx):
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                if n_states == 2:
                    raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                       f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors" + self._where(input, None))
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx[0].dim()}-D tensor"
                                   + self._where(input, None))
            if not is_batched:
                hx = [h.unsqueeze(1) for h in hx]
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is not None:
            self.check_forward_args_all(input, hx, None)
        else:
            self.check_input(input, None)
        x = input.transpose(0, 1) if self.batch_first else input
        T, B = x.shape[0], x.shape[1]
        x = x.reshape(T * B, x.shape[2])
        return x, (B,) * T, hx, ("padded", T, B, is_batched, batch_dim)

    def _as_states(self, hx, n_states):
        if n_states == 1:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{self._get_name()}: expected hx to be a Tensor, got {type(hx).__name__}")
            return [hx]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{self._get_name()}: expected hx to be a tuple (h_0, c_0) of two Tensors, got "
                            f"{type(hx).__name__}")
        return list(hx)

    def check_forward_args_all(self, input, hx, batch_sizes):
        self.check_forward_args(input, hx[0], batch_sizes)

    def _run(self, input, hx):
        lstm = self.mode == "LSTM"
        x, bs, hx, layout = self._prepare(input, hx, 2 if lstm else 1)
        D = 2 if self.bidirectional else 1
        flat = self._flat_weights
        per = len(flat) // (self.num_layers * D)
        who = "nn." + self._get_name()
        relu = self.mode == "RNN_RELU"
        proj = self.proj_size > 0
        states = [[] for _ in range(2 if lstm else 1)]
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                w = flat[k * per:(k + 1) * per]
                b_ih, b_hh = (w[2], w[3]) if self.bias else (None, None)
                h0 = hx[0][k] if hx is not None else None
                if lstm:
                    c0 = hx[1][k] if hx is not None else None
                    res = lstm_layer(layer_in, h0, c0, w[0], w[1], b_ih, b_hh, w[-1] if proj else None, bs, d == 1,
                                     who)
                elif self.mode == "GRU":
                    res = gru_layer(layer_in, h0, w[0], w[1], b_ih, b_hh, bs, d == 1, who)
                else:
                    res = rnn_layer(layer_in, h0, w[0], w[1], b_ih, b_hh, bs, d == 1, relu, who)
                outs.append(res[0])
                for s, r in zip(states, res[1:]):
                    s.append(r)
            layer_in = outs[0] if D == 1 else cat(outs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_in = _dropout(layer_in, self.dropout, True)
        finals = [stack(s, 0) for s in states]
        if layout[0] == "packed":
            _, batch_sizes, sorted_indices, unsorted_indices = layout
            output = PackedSequence(layer_in, batch_sizes, sorted_indices, unsorted_indices)
            finals = [self.permute_hidden(h, unsorted_indices) for h in finals]
        else:
            _, T, B, is_batched, batch_dim = layout
            output = layer_in.reshape(T, B, layer_in.shape[1])
            if self.batch_first:
                output = output.transpose(0, 1)
            if not is_batched:
                output = output.squeeze(batch_dim)
                finals = [h.squeeze(1) for h in finals]
        return output, (tuple(finals) if lstm else finals[0])

    def forward(self, input, hx=None):
        return self._run(input, hx)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked and optionally
    bidirectional. Returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """LSTM with gates i, f, g, o; proj_size > 0 projects h_t to proj_size with weight_hr.
    Returns (output, (h_n, c_n))."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        where = self._where(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}", where)
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}", where)

    def check_forward_args_all(self, input, hx, batch_sizes):
        self.check_forward_args(input, hx, batch_sizes)

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        if isinstance(hx, (tuple, list)):
            return tuple(_apply_permutation(h, permutation) for h in hx)
        return _apply_permutation(hx, permutation)


class GRU(RNNBase):
    """GRU with gates r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    Returns (output, h_n)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# ---------------------------------------------------------------- cells
class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **factory))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, hx, n_states):
        name = self._get_name()
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}.forward(): expected input to be a Tensor, got {type(input).__name__}")
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if hx is not None:
            hs = list(hx) if n_states == 2 else [hx]
            for idx, h in enumerate(hs):
                if h.dim() not in (1, 2):
                    what = f"hx[{idx}]" if n_states == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {h.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if hx is None:
            hs = [None] * n_states
        elif not is_batched:
            hs = [h.unsqueeze(0) for h in hs]
        where = f" ({name}, input of shape {list(input.shape)})"
        w = self.weight_ih
        if input.dtype != w.dtype:
            raise RuntimeError(f"{name}: input dtype ({input.dtype}) does not match weight dtype ({w.dtype})")
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}"
                               + where)
        for idx, h in enumerate(hs):
            if h is None:
                continue
            if input.size(0) != h.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{idx} batch size "
                                   f"{h.size(0)}" + where)
            if h.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{idx} has inconsistent hidden_size: got {h.size(1)}, expected "
                                   f"{self.hidden_size}" + where)
            if h.dtype != w.dtype:
                raise RuntimeError(f"{name}: expected hidden{idx} to have dtype {w.dtype}, like the input and the "
                                   f"weights, but got {h.dtype}")
        return input, hs, is_batched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu), one step."""

    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        input, (h,), is_batched = self._prepare(input, hx, 1)
        fn = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        ret = fn(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, hs, is_batched = self._prepare(input, hx, 2)
        h, c = lstm_cell(input, hs, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (h,), is_batched = self._prepare(input, hx, 1)
        ret = gru_cell(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return ret if is_batched else ret.squeeze(0)
