"""Distances between distributions that chapter 2 compares: EM (W1) and JS.

Arjovsky, Chintala and Bottou (2017), "Wasserstein GAN", section 2, define

- the Earth-Mover (Wasserstein-1) distance, their eq. (1),
  ``W(P_r, P_g) = inf_{γ ∈ Π(P_r, P_g)} E_{(x, y) ~ γ} ||x - y||``, the cheapest
  cost of moving the mass of one distribution onto the other;
- the Jensen-Shannon divergence ``JS(P_r, P_g) = ½ KL(P_r ‖ P_m) + ½ KL(P_g ‖ P_m)``
  with ``P_m = (P_r + P_g) / 2``, in the normalisation (Lin 1991) under which the
  paper's Example 1 gives ``JS = log 2`` for distributions with disjoint supports.

The paper's point, which these two functions let a reader see in numbers: when
the supports do not overlap, JS is stuck at ``log 2`` however far apart they are,
while W1 grows with the distance, so it still tells the generator where to go.

Both functions are exact, take NumPy arrays or tensors, work in float64 and
return Python floats.
"""

from __future__ import annotations

import math

import numpy as np
import torch

__all__ = ["wasserstein_1d", "js_divergence", "linear_critic_bound"]


def _vector(x, name: str) -> np.ndarray:
    """``x`` as a 1-D, finite float64 array, or a ValueError that says why not."""
    if torch.is_tensor(x):
        x = x.detach().cpu().double().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a 1-D array of numbers, got {type(x).__name__}"
        ) from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D, got shape {arr.shape}; flatten it first "
            "(x.ravel() / x.reshape(-1)) if it holds one number per sample"
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.isfinite(arr).all():
        kind = "NaN" if np.isnan(arr).any() else "infinite values"
        raise ValueError(f"{name} contains {kind}")
    return arr


def _check_samples(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Validation only: both 1-D, finite and of the same size."""
    a, b = _vector(a, "a"), _vector(b, "b")
    if a.size != b.size:
        raise ValueError(
            f"a and b must have the same number of samples, got {a.size} and "
            f"{b.size}; for unequal sizes use scipy.stats.wasserstein_distance"
        )
    return a, b


def wasserstein_1d(a, b) -> float:
    """Exact W1 between two 1-D empirical distributions with ``N`` samples each.

    For ``N`` equally weighted points per side, an optimal plan in eq. (1) of
    Arjovsky et al. (2017) is a one-to-one matching, and on the real line the
    monotone one is optimal: the i-th smallest ``a`` goes to the i-th smallest
    ``b``. Hence ``W1 = (1/N) Σ_i |a_(i) - b_(i)|``.

    Args:
        a, b: ``(N,)`` samples (NumPy arrays, tensors or lists), same ``N``.

    Returns:
        ``W1 >= 0``, a float; it equals ``|t|`` when ``b`` is ``a`` shifted by ``t``.

    Raises:
        ValueError: inputs not 1-D, of different sizes, empty, NaN or infinite.
    """
    a, b = _check_samples(a, b)
    return float(np.mean(np.abs(np.sort(a) - np.sort(b))))


def js_divergence(p, q) -> float:
    """Jensen-Shannon divergence between two discrete distributions, natural log.

    ``JS(P, Q) = ½ Σ_k p_k log(p_k / m_k) + ½ Σ_k q_k log(q_k / m_k)``, with
    ``m = (p + q) / 2`` (Arjovsky et al. 2017, section 2) and ``0 log 0 = 0``.

    Args:
        p, q: ``(K,)`` non-negative weights over the same ``K`` bins, e.g. two
            histograms with the same bin edges; each is divided by its sum.

    Returns:
        A float in ``[0, log 2]``: 0 iff ``p`` and ``q`` are proportional,
        ``log 2 ≈ 0.693`` iff they have disjoint supports. Equals
        ``scipy.spatial.distance.jensenshannon(p, q) ** 2``.

    Raises:
        ValueError: not 1-D, different lengths, negative, NaN or infinite
            weights, or a vector that sums to 0.
    """
    p, q = _vector(p, "p"), _vector(q, "q")
    if p.size != q.size:
        raise ValueError(
            f"p and q must give weights for the same bins, got {p.size} and {q.size}"
        )
    for name, w in (("p", p), ("q", q)):
        if (w < 0).any():
            raise ValueError(f"{name} has negative weights; probabilities are >= 0")
        if w.sum() <= 0:
            raise ValueError(f"{name} sums to 0, so it is not a distribution")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl_to_m(w: np.ndarray) -> float:
        nz = w > 0  # 0 log 0 = 0; where w > 0, m >= w / 2 > 0
        return float(np.sum(w[nz] * np.log(w[nz] / m[nz])))

    js = 0.5 * kl_to_m(p) + 0.5 * kl_to_m(q)
    # round-off can leave it a hair outside [0, log 2]
    return min(max(js, 0.0), math.log(2))


def linear_critic_bound(x_real: torch.Tensor, x_fake: torch.Tensor) -> torch.Tensor:
    """The best linear 1-Lipschitz critic: ``||mean(x_real) - mean(x_fake)||_2``.

    The Kantorovich-Rubinstein duality (Arjovsky et al. 2017, eq. 2) writes W1 as a
    supremum of ``E[f(x_real)] - E[f(x_fake)]`` over all 1-Lipschitz ``f``. Restrict
    ``f`` to the affine functions ``f(x) = w^T x + b`` with ``||w||_2 <= 1`` (exactly
    the 1-Lipschitz affine ones): the objective is ``w^T (mu_real - mu_fake)``,
    largest for ``w`` along ``mu_real - mu_fake`` (Cauchy-Schwarz), which gives the
    norm of the difference of the means. A supremum over a smaller family is a
    lower bound on W1, as is any trained critic's estimate.

    Args:
        x_real: ``(N, D)`` samples.
        x_fake: ``(M, D)`` samples (``M`` may differ from ``N``).

    Returns:
        Scalar tensor ``>= 0``.
    """
    return torch.linalg.vector_norm(x_real.mean(dim=0) - x_fake.mean(dim=0))
