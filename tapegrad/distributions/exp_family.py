"""torch.distributions.ExponentialFamily: densities p(x) = h(x) exp(<theta, t(x)> - F(theta)); entropy and KL
follow from the log normalizer F by automatic differentiation."""
import tapegrad as torch

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def _log_normalizer_and_gradients(self):
        """F(theta) at detached natural parameters, and dF/dtheta (the mean of t(x)) with its graph kept."""
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*params)
        gradients = torch.autograd.grad(log_normalizer.sum(), params, create_graph=True)
        return params, log_normalizer, gradients

    def entropy(self):
        """H = F(theta) - <theta, dF/dtheta> - E[log h(x)] (Bregman divergence form)."""
        params, log_normalizer, gradients = self._log_normalizer_and_gradients()
        result = log_normalizer - self._mean_carrier_measure
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(self._batch_shape + (-1,)).sum(-1)
        return result
