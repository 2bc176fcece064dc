"""Inception Score, KID and improved precision / recall, from features or class
probabilities. Pure array code: no network is run here.

- Inception Score (Salimans et al. 2016, sec. 4):
  ``IS = exp(E_x KL(p(y|x) ‖ p(y)))`` with ``p(y)`` the mean of ``p(y|x)`` over
  the split. Computed on 10 splits after a seeded shuffle, reporting the mean and
  the (population) standard deviation of the per-split scores, as the authors'
  code did.
- KID (Bińkowski et al. 2018, sec. 3 and appendix): the unbiased estimator of the
  squared MMD with the cubic polynomial kernel ``k(x, y) = (xᵀy / d + 1)³``,
  averaged over random subsets.
- Precision and recall (Kynkäänniemi et al. 2019, eq. 1-3): each set's manifold is
  the union of balls around its samples reaching their k-th nearest neighbour;
  precision is the share of generated samples inside the real manifold, recall
  the share of real samples inside the generated one.
"""

from __future__ import annotations

import numpy as np
import torch

from gancourse.metrics.extractor import MetricInputError

__all__ = [
    "inception_score",
    "probs_from_logits",
    "polynomial_kernel",
    "mmd2_unbiased",
    "kid",
    "precision_recall",
]


def _features(x, name: str) -> np.ndarray:
    x = x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)
    x = x.astype(np.float64)
    if x.ndim != 2:
        raise MetricInputError(f"{name} must be (N, D), got shape {x.shape}")
    if x.shape[0] < 2:
        raise MetricInputError(f"{name} needs at least 2 samples, got {x.shape[0]}")
    if not np.isfinite(x).all():
        raise MetricInputError(f"{name} contain NaN or infinite values")
    return x


def probs_from_logits(logits) -> np.ndarray:
    """Softmax in float64: ``(N, K)`` logits -> ``(N, K)`` probabilities."""
    z = _features(logits, "logits")
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def inception_score(
    probs, splits: int = 10, seed: int | None = 0
) -> tuple[float, float]:
    """Inception Score of class probabilities ``probs (N, K)``, rows summing to 1.

    Args:
        probs: ``p(y|x)`` per sample (apply a softmax to logits first, per sample,
            never to averaged logits).
        splits: number of disjoint splits; split ``i`` holds rows
            ``[i N / splits, (i + 1) N / splits)``.
        seed: seed of the shuffle before splitting; ``None`` keeps the order.

    Returns:
        ``(mean, std)`` over the splits.
    """
    p = _features(probs, "probabilities")
    if (p < 0).any() or np.abs(p.sum(axis=1) - 1).max() > 1e-3:
        raise MetricInputError(
            "rows of probs must be probabilities (non-negative, summing to 1); "
            "for logits use probs_from_logits first"
        )
    n = p.shape[0]
    if not 1 <= splits <= n:
        raise MetricInputError(f"splits must be in [1, N={n}], got {splits}")
    if seed is not None:
        p = p[np.random.default_rng(seed).permutation(n)]
    scores = []
    for i in range(splits):
        part = p[i * n // splits : (i + 1) * n // splits]
        p_y = part.mean(axis=0, keepdims=True)  # marginal p(y) of this split
        # KL(p(y|x) || p(y)) per row; 0 log 0 = 0, and p_y > 0 wherever part > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(p_y)), 0.0)
        scores.append(np.exp(terms.sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))


def polynomial_kernel(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """KID's kernel ``k(x, y) = (xᵀy / d + 1)³``: ``(m, d), (n, d) -> (m, n)``."""
    return (X @ Y.T / X.shape[1] + 1.0) ** 3


def mmd2_unbiased(X: np.ndarray, Y: np.ndarray) -> float:
    """Unbiased squared MMD (Gretton et al. 2012, eq. 3) with the cubic kernel.

    The diagonal terms ``k(x_i, x_i)`` are left out of the within-set means, which
    is what makes the estimator unbiased (and able to go slightly negative).
    """
    m, n = X.shape[0], Y.shape[0]
    K_xx, K_yy, K_xy = (
        polynomial_kernel(X, X),
        polynomial_kernel(Y, Y),
        polynomial_kernel(X, Y),
    )
    within_x = (K_xx.sum() - np.trace(K_xx)) / (m * (m - 1))
    within_y = (K_yy.sum() - np.trace(K_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2 * K_xy.mean())


def kid(
    feats_real,
    feats_fake,
    subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """Kernel Inception Distance: mean and std of the unbiased MMD² over subsets.

    Each subset draws ``min(subset_size, N_real, N_fake)`` samples without
    replacement from each side.
    """
    X = _features(feats_real, "real features")
    Y = _features(feats_fake, "fake features")
    if X.shape[1] != Y.shape[1]:
        raise MetricInputError(
            f"feature sizes differ: real {X.shape[1]}, fake {Y.shape[1]}"
        )
    size = min(subset_size, X.shape[0], Y.shape[0])
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(
            X[rng.choice(X.shape[0], size, replace=False)],
            Y[rng.choice(Y.shape[0], size, replace=False)],
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))


def _kth_neighbour_radius(X: torch.Tensor, k: int, batch: int) -> torch.Tensor:
    """Distance of each row of ``X`` to its k-th nearest other row: ``(N,)``."""
    radii = []
    for start in range(0, X.shape[0], batch):
        d = torch.cdist(X[start : start + batch], X)
        radii.append(d.kthvalue(k + 1, dim=1).values)  # +1: the row itself is at 0
    return torch.cat(radii)


def _inside_manifold(
    queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor, batch: int
) -> torch.Tensor:
    """For each query, whether it lies in a ball ``B(support_i, radii_i)``."""
    inside = []
    for start in range(0, queries.shape[0], batch):
        d = torch.cdist(queries[start : start + batch], support)
        inside.append((d <= radii[None, :]).any(dim=1))
    return torch.cat(inside)


def precision_recall(
    feats_real, feats_fake, k: int = 3, batch: int = 2048
) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019), ``k = 3`` as there.

    Returns:
        ``(precision, recall)``, each in ``[0, 1]``.
    """
    X = torch.from_numpy(_features(feats_real, "real features"))
    Y = torch.from_numpy(_features(feats_fake, "fake features"))
    if X.shape[1] != Y.shape[1]:
        raise MetricInputError(
            f"feature sizes differ: real {X.shape[1]}, fake {Y.shape[1]}"
        )
    if min(X.shape[0], Y.shape[0]) <= k:
        raise MetricInputError(f"need more than k={k} samples on each side")
    r_real = _kth_neighbour_radius(X, k, batch)
    r_fake = _kth_neighbour_radius(Y, k, batch)
    precision = _inside_manifold(Y, X, r_real, batch).double().mean().item()
    recall = _inside_manifold(X, Y, r_fake, batch).double().mean().item()
    return precision, recall
