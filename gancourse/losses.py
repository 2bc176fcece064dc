"""Adversarial losses as pure functions of discriminator logits.

Every function takes raw logits ``l = D(x)`` (before any sigmoid), shape ``(N,)`` or
``(N, 1)``, and returns a scalar tensor: the batch mean of the quantity to *minimise*.

Why logits: ``D(x) = sigmoid(l)`` and ``log sigmoid(l) = -softplus(-l)``,
``log(1 - sigmoid(l)) = -softplus(l)``. Computing ``log(sigmoid(l))`` in two steps
underflows to ``log(0) = -inf`` once ``|l|`` exceeds about 17 in float32 (88 for
``exp``), which is exactly what a seed snippet with ``nn.Sigmoid`` + ``nn.BCELoss``
does when D becomes confident. ``softplus`` is exact there.

Naming: ``d_<name>(logits_real, logits_fake)`` is what D minimises and ``g_<name>(
logits_fake)`` what G minimises.

References: Goodfellow et al. (2014), "Generative Adversarial Nets", eq. (1) and
section 3 (the non-saturating generator loss).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "d_minimax",
    "g_minimax",
    "g_nonsaturating",
    "D_LOSSES",
    "G_LOSSES",
]


def _flat(logits: Tensor) -> Tensor:
    """(N,) or (N, 1) logits -> (N,); any other shape is a clear error."""
    if logits.dim() == 2 and logits.shape[1] == 1:
        return logits[:, 0]
    if logits.dim() != 1:
        raise ValueError(
            f"expected logits of shape (N,) or (N, 1), got {tuple(logits.shape)}; "
            "a discriminator should output one logit per sample"
        )
    return logits


def d_minimax(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """The discriminator's loss of the original GAN (Goodfellow et al. 2014, eq. 1).

    D maximises ``E_x[log D(x)] + E_z[log(1 - D(G(z)))]``; we return its negative,

        ``d_loss = E[softplus(-logits_real)] + E[softplus(logits_fake)]``,

    which equals binary cross-entropy with label 1 for real and 0 for fake.

    Args:
        logits_real: ``(N,)`` or ``(N, 1)`` logits of D on real data.
        logits_fake: ``(M,)`` or ``(M, 1)`` logits of D on generated data.

    Returns:
        Scalar tensor, ``>= 0``; ``2 log 2 ~ 1.386`` when D outputs 1/2 everywhere.
    """
    return (
        F.softplus(-_flat(logits_real)).mean() + F.softplus(_flat(logits_fake)).mean()
    )


def g_minimax(logits_fake: Tensor) -> Tensor:
    """The generator's *saturating* loss, as written in the minimax game (eq. 1).

    G minimises ``E_z[log(1 - D(G(z)))] = -E[softplus(logits_fake)]``.

    Its gradient with respect to the logit is ``-sigmoid(l) = -D(G(z))``, which
    vanishes when D confidently rejects the fakes, i.e. early in training
    (Goodfellow et al. 2014, section 3). Kept for teaching; train with
    :func:`g_nonsaturating`.

    Args:
        logits_fake: ``(N,)`` or ``(N, 1)`` logits of D on generated data.

    Returns:
        Scalar tensor, ``<= 0``.
    """
    return -F.softplus(_flat(logits_fake)).mean()


def g_nonsaturating(logits_fake: Tensor) -> Tensor:
    """The generator's non-saturating loss (Goodfellow et al. 2014, section 3).

    G maximises ``E_z[log D(G(z))]`` instead, i.e. minimises
    ``-E[log sigmoid(l)] = E[softplus(-logits_fake)]``: BCE of the fakes against
    the *real* label. Same fixed point as :func:`g_minimax`, but its gradient
    ``sigmoid(l) - 1`` is largest exactly when D rejects the fakes.

    Args:
        logits_fake: ``(N,)`` or ``(N, 1)`` logits of D on generated data.

    Returns:
        Scalar tensor, ``>= 0``.
    """
    return F.softplus(-_flat(logits_fake)).mean()


# Registries: plain dicts, filled explicitly (greppable).
D_LOSSES = {"minimax": d_minimax, "nonsaturating": d_minimax}
G_LOSSES = {"minimax": g_minimax, "nonsaturating": g_nonsaturating}
