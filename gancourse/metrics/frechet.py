"""The Fréchet distance between two Gaussians, the heart of FID.

Heusel et al. (2017), eq. 6: for feature statistics ``(mu1, sigma1)`` of the real
images and ``(mu2, sigma2)`` of the generated ones,

    d² = ‖mu1 − mu2‖² + Tr(sigma1 + sigma2 − 2 (sigma1 sigma2)^{1/2}).

The trace of the matrix square root needs no general ``sqrtm``. With
``A = sigma1^{1/2}`` (symmetric PSD), ``sigma1 sigma2 = A (A sigma2 A) A^{-1}`` is
similar to the symmetric PSD matrix ``M = A sigma2 A``, so
``Tr (sigma1 sigma2)^{1/2} = Σ sqrt(eig(M))``. Two symmetric eigen-decompositions
(``eigh``) replace an iterative Schur-based ``sqrtm``; ``A`` depends on the
reference only, so :class:`FrechetReference` computes it once and every later
distance costs one matrix product pair and one ``eigh``. The identity holds for
singular covariances too (no inverse is formed), which matters when there are
fewer samples than feature dimensions. Everything runs in float64.
"""

from __future__ import annotations

import numpy as np

from gancourse.metrics.extractor import MetricInputError

__all__ = ["frechet_distance", "FrechetReference", "sqrt_psd", "trace_sqrt_product"]


def _as_stats(mu, sigma, which: str) -> tuple[np.ndarray, np.ndarray]:
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise MetricInputError(
            f"{which} statistics must be mu (D,) and sigma (D, D), "
            f"got {mu.shape} and {sigma.shape}"
        )
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise MetricInputError(f"{which} statistics contain NaN or infinite values")
    return mu, sigma


def sqrt_psd(sigma: np.ndarray) -> np.ndarray:
    """Symmetric square root of a covariance matrix, ``(D, D) -> (D, D)``.

    Tiny negative eigenvalues from rounding are clipped to zero.
    """
    sym = (sigma + sigma.T) / 2
    w, V = np.linalg.eigh(sym)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def trace_sqrt_product(sqrt_sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``Tr((sigma1 sigma2)^{1/2})`` given ``sqrt_sigma1 = sigma1^{1/2}``."""
    M = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    w = np.linalg.eigvalsh((M + M.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


class FrechetReference:
    """Reference statistics with their square root cached.

    Build one per reference set (e.g. the training images) and call
    :meth:`distance` for every generator snapshot you evaluate.
    """

    def __init__(self, mu, sigma):
        self.mu, self.sigma = _as_stats(mu, sigma, "reference")
        self.sqrt_sigma = sqrt_psd(self.sigma)
        self.trace_sigma = float(np.trace(self.sigma))

    def distance(self, mu, sigma) -> float:
        """Fréchet distance from the reference to ``N(mu, sigma)``."""
        mu, sigma = _as_stats(mu, sigma, "generated")
        if mu.shape != self.mu.shape:
            raise MetricInputError(
                f"feature sizes differ: reference has {self.mu.shape[0]}, "
                f"generated has {mu.shape[0]}; use the same extractor for both"
            )
        diff = self.mu - mu
        tr_covmean = trace_sqrt_product(self.sqrt_sigma, sigma)
        d2 = diff @ diff + self.trace_sigma + np.trace(sigma) - 2 * tr_covmean
        return float(max(d2, 0.0))  # rounding can leave -1e-12 for equal inputs


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """FID formula (Heusel et al. 2017, eq. 6) on two sets of statistics.

    Args:
        mu1, mu2: feature means, shape ``(D,)``.
        sigma1, sigma2: feature covariances, shape ``(D, D)``.

    Returns:
        The squared Fréchet distance as a Python float (what papers call FID).
    """
    return FrechetReference(mu1, sigma1).distance(mu2, sigma2)
