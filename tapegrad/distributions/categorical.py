import tapegrad as torch

from . import constraints
from ._probs_or_logits import ProbsOrLogits
from .distribution import Distribution

__all__ = ["Categorical"]


def _normalise(name, value):
    """probs rescaled to sum to 1 and logits shifted to log-probabilities, over the last dimension."""
    if value.dim() < 1:
        raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
    if name == "probs":
        return value / value.sum(-1, keepdim=True)
    return value - value.logsumexp(dim=-1, keepdim=True)


class Categorical(ProbsOrLogits, Distribution):
    """Categorical(probs=None, logits=None): an index in [0, K) drawn with the (unnormalised) weights along
    the last dimension of `probs` (or softmax(logits)); the other dimensions batch."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._store_probs_or_logits(probs, logits, _normalise)
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndimension() > 1 else torch.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_probs_or_logits(Categorical, batch_shape, _instance, (self._num_events,))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    def _full_of_nan(self):
        return torch.full(self._extended_shape(), torch.nan, dtype=self.probs.dtype)

    @property
    def mean(self):
        return self._full_of_nan()

    @property
    def mode(self):
        return self.probs.argmax(dim=-1)

    @property
    def variance(self):
        return self._full_of_nan()

    def sample(self, sample_shape=torch.Size()):
        if not isinstance(sample_shape, torch.Size):
            sample_shape = torch.Size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        with torch.no_grad():
            samples_2d = torch.multinomial(probs_2d, sample_shape.numel(), True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = torch.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        # clamped so that a zero probability (logit -inf) adds 0 * finfo.min = 0, not 0 * -inf = nan
        logits = torch.clamp(self.logits, min=torch.finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = torch.arange(self._num_events, dtype=torch.long).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand((-1,) + self._batch_shape) if expand else values
