"""What Bernoulli and Categorical share: parameterised by `probs` or by `logits` (exactly one given), the
other computed from it on first use."""
from .utils import lazy_property, logits_to_probs, probs_to_logits


class ProbsOrLogits:
    _is_binary = False  # Bernoulli: sigmoid/logit; Categorical: softmax/log over the last dimension

    def _store_probs_or_logits(self, probs, logits, prepare):
        """Stores `prepare(name, value)` under the name of the one parameter given."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        self._param_name = "probs" if probs is not None else "logits"
        setattr(self, self._param_name, prepare(self._param_name, probs if probs is not None else logits))

    def _expand_probs_or_logits(self, cls, batch_shape, _instance, trailing_shape):
        new = self._expand_params(cls, batch_shape, _instance, {"probs": trailing_shape, "logits": trailing_shape})
        new._param_name = self._param_name
        return new

    @property
    def _param(self):
        return self.__dict__[self._param_name]

    @property
    def param_shape(self):
        return self._param.size()

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=self._is_binary)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=self._is_binary)
