"""Shape and reduction operators raise PyTorch's exception types, with PyTorch's message (tapegrad may
put the operator's name in front of it)."""
import pytest

import tapegrad as tg
from torch_errors import assert_raises_like_torch

torch = pytest.importorskip("torch")

CASES = {
 "sum_bad_dim": lambda m: m.ones(2, 3).sum(2),
 "sum_dup_dim": lambda m: m.ones(2, 3).sum((0, 0)),
 "mean_int": lambda m: m.ones(2, 3, dtype=m.int64).mean(),
 "var_int": lambda m: m.ones(2, 3, dtype=m.int64).var(),
 "max_empty": lambda m: m.ones(0, 3).max(),
 "max_empty_dim": lambda m: m.ones(0, 3).max(0),
 "amax_empty": lambda m: m.ones(0, 3).amax(0),
 "argmax_empty": lambda m: m.ones(0, 3).argmax(),
 "softmax_int": lambda m: m.ones(2, 3, dtype=m.int64).softmax(1),
 "softmax_bad_dim": lambda m: m.ones(2, 3).softmax(2),
 "cumsum_bad_dim": lambda m: m.ones(2, 3).cumsum(3),
 "median_empty_dim": lambda m: m.ones(0, 3).median(0),
 "view_bad": lambda m: m.ones(2, 3).view(4, 2),
 "view_two_neg": lambda m: m.ones(2, 3).view(-1, -1),
 "reshape_bad": lambda m: m.ones(2, 3).reshape(5, -1),
 "view_noncontig": lambda m: m.ones(2, 3).t().view(6),
 "permute_len": lambda m: m.ones(2, 3).permute(0),
 "permute_dup": lambda m: m.ones(2, 3).permute(0, 0),
 "transpose_range": lambda m: m.ones(2, 3).transpose(0, 2),
 "t_3d": lambda m: m.ones(2, 3, 4).t(),
 "mT_1d": lambda m: m.ones(3).mT,
 "expand_bad": lambda m: m.ones(2, 3).expand(4, 3),
 "expand_fewer": lambda m: m.ones(2, 3).expand(3),
 "cat_empty_list": lambda m: m.cat([]),
 "cat_dims": lambda m: m.cat([m.ones(2, 3), m.ones(2, 3, 1)]),
 "cat_sizes": lambda m: m.cat([m.ones(2, 3), m.ones(3, 2)]),
 "cat_0d": lambda m: m.cat([m.ones(()), m.ones(())]),
 "cat_tensor": lambda m: m.cat(m.ones(2, 3)),
 "stack_sizes": lambda m: m.stack([m.ones(2, 3), m.ones(3, 2)]),
 "split_sizes": lambda m: m.ones(5).split([2, 2]),
 "chunk_zero": lambda m: m.ones(5).chunk(0),
 "narrow_long": lambda m: m.ones(5).narrow(0, 3, 3),
 "narrow_start": lambda m: m.ones(5).narrow(0, 6, 0),
 "narrow_neg_len": lambda m: m.ones(5).narrow(0, 1, -1),
 "select_range": lambda m: m.ones(2, 3).select(1, 3),
 "unbind_0d": lambda m: m.ones(()).unbind(),
 "diagonal_same": lambda m: m.ones(2, 3).diagonal(0, 1, 1),
 "flip_dup": lambda m: m.ones(2, 3).flip(0, 0),
 "fliplr_1d": lambda m: m.ones(3).fliplr(),
 "roll_mismatch": lambda m: m.ones(2, 3).roll((1, 2), (0,)),
 "rot90_same": lambda m: m.ones(2, 3).rot90(1, (0, 0)),
 "repeat_fewer": lambda m: m.ones(2, 3).repeat(2),
 "squeeze_range": lambda m: m.ones(2, 3).squeeze(2),
 "unsqueeze_range": lambda m: m.ones(2, 3).unsqueeze(3),
 "flatten_order": lambda m: m.ones(2, 3, 4).flatten(2, 1),
 "unflatten_bad": lambda m: m.ones(2, 6).unflatten(1, (4, 2)),
 "movedim_dup": lambda m: m.ones(2, 3).movedim((0, 0), (1, 0)),
 "tensor_split_zero": lambda m: m.ones(5).tensor_split(0),
 "broadcast_bad": lambda m: m.broadcast_tensors(m.ones(2, 3), m.ones(4)),
 "norm_int": lambda m: m.ones(3, dtype=m.int64).norm(),
 "logsumexp_dim": lambda m: m.ones(2, 3).logsumexp(2),
 "prod_dim": lambda m: m.ones(2, 3).prod(2),
 "mode_dim": lambda m: m.ones(2, 3).mode(2),
 "split_0d": lambda m: m.ones(()).split(1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_error_matches_torch(name):
    assert_raises_like_torch(CASES[name], torch, tg, name)
