import math

import tapegrad as torch

from . import constraints
from .distribution import Distribution
from .utils import _standard_normal, lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    """Matrix-vector products, broadcast over the leading dimensions."""
    return torch.matmul(bmat, bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(bL, bx):
    """x^T (L L^T)^-1 x = |L^-1 x|^2 for lower-triangular L, broadcast over the leading dimensions."""
    n = bx.size(-1)
    batch_shape = torch.broadcast_shapes(bL.shape[:-2], bx.shape[:-1])
    L, x = bL.expand(batch_shape + (n, n)), bx.expand(batch_shape + (n,))
    return torch.linalg.solve_triangular(L, x.unsqueeze(-1), upper=False).squeeze(-1).pow(2).sum(-1)


def _half_log_det(scale_tril):
    """log det(L L^T) / 2 = sum(log diag L)."""
    return scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor L of P^-1 without inverting P: P = U U^T with U = J chol(J P J) J upper
    triangular (J reverses rows and columns), so P^-1 = U^-T U^-1 and L = U^-T, one triangular solve."""
    Lf = torch.linalg.cholesky(torch.flip(P, (-2, -1)))
    L_inv = torch.transpose(torch.flip(Lf, (-2, -1)), -2, -1)
    eye = torch.eye(P.shape[-1], dtype=P.dtype)
    return torch.linalg.solve_triangular(L_inv, eye, upper=False)


_MATRIX_ARGS = ("covariance_matrix", "precision_matrix", "scale_tril")


class MultivariateNormal(Distribution):
    """MultivariateNormal(loc, covariance_matrix=None, precision_matrix=None, scale_tril=None): the Gaussian
    over vectors, given by exactly one of its covariance, its precision (inverse covariance) or the lower
    Cholesky factor of its covariance. Everything is computed from that factor."""
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = {name: m for name, m in zip(_MATRIX_ARGS, (covariance_matrix, precision_matrix, scale_tril))
                 if m is not None}
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        (name, matrix), = given.items()
        if matrix.dim() < 2:
            label = "scale_tril matrix" if name == "scale_tril" else name
            raise ValueError(f"{label} must be at least two-dimensional, with optional leading batch dimensions")
        batch_shape = torch.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, matrix.expand(batch_shape + (-1, -1)))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        # unbroadcast: a batch of locs sharing one covariance factorises it once
        self._unbroadcasted_scale_tril = self._scale_tril_from(name, matrix)

    @staticmethod
    def _scale_tril_from(name, matrix):
        if name == "scale_tril":
            return matrix
        if name == "covariance_matrix":
            return torch.linalg.cholesky(matrix)
        return _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        event_shape = self._event_shape
        matrix_shape = event_shape + event_shape
        new = self._expand_params(MultivariateNormal, batch_shape, _instance,
                                  {"loc": event_shape, **{name: matrix_shape for name in _MATRIX_ARGS}})
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        return new

    def _expand_matrix(self, matrix):
        return matrix.expand(self._batch_shape + self._event_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        return self._expand_matrix(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._expand_matrix(torch.matmul(L, L.mT))

    @lazy_property
    def precision_matrix(self):
        return self._expand_matrix(torch.cholesky_inverse(self._unbroadcasted_scale_tril))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=torch.Size()):
        eps = _standard_normal(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - _half_log_det(self._unbroadcasted_scale_tril)

    def entropy(self):
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + _half_log_det(self._unbroadcasted_scale_tril)
        return H if len(self._batch_shape) == 0 else H.expand(self._batch_shape)
