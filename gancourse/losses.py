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

Wasserstein losses take *critic scores* instead: the same raw outputs, read as
real numbers, never as probabilities. The penalties (:func:`gradient_penalty`)
take the critic itself, since they differentiate it with respect to its input.

References: Goodfellow et al. (2014), "Generative Adversarial Nets", eq. (1) and
section 3 (the non-saturating generator loss); Arjovsky, Chintala and Bottou
(2017), "Wasserstein GAN", eq. (3) and Algorithm 1; Gulrajani et al. (2017),
"Improved Training of Wasserstein GANs", eq. (3) and Algorithm 1; Lim & Ye (2017),
"Geometric GAN", and Miyato et al. (2018), "Spectral Normalization for GANs", eq.
(16)-(17) (the hinge loss); Odena, Olah and Shlens (2017), "Conditional Image
Synthesis with Auxiliary Classifier GANs", eq. (2)-(3) (AC-GAN).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "d_minimax",
    "g_minimax",
    "g_nonsaturating",
    "d_wasserstein",
    "g_wasserstein",
    "gradient_penalty",
    "d_hinge",
    "g_hinge",
    "class_loss",
    "d_acgan",
    "g_acgan",
    "GP_SIDES",
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


def d_wasserstein(scores_real: Tensor, scores_fake: Tensor) -> Tensor:
    """The critic's loss of WGAN (Arjovsky et al. 2017, eq. 3 and Algorithm 1).

    The Kantorovich-Rubinstein duality writes the earth mover's distance as
    ``W(P_r, P_g) = sup_{||f||_L <= 1} E_{P_r}[f(x)] - E_{P_g}[f(x)]``. The
    critic ``f`` maximises that difference, so it *minimises*

        ``d_loss = E[scores_fake] - E[scores_real]``,

    and ``-d_loss`` is the critic's estimate of ``W`` (up to the Lipschitz
    constant that clipping or the penalty enforces). No sigmoid and no log: the
    scores are real numbers, not probabilities.

    Args:
        scores_real: ``(N,)`` or ``(N, 1)`` critic outputs on real data.
        scores_fake: ``(M,)`` or ``(M, 1)`` critic outputs on generated data.

    Returns:
        Scalar tensor, any sign; 0 when both means agree.
    """
    return _flat(scores_fake).mean() - _flat(scores_real).mean()


def g_wasserstein(scores_fake: Tensor) -> Tensor:
    """The generator's WGAN loss: ``-E[scores_fake]`` (Arjovsky et al. 2017,
    Algorithm 1, line 10).

    Only the fake term of :func:`d_wasserstein` depends on G, so G minimises
    ``-E_z[f(G(z))]``: it moves its samples to where the critic scores high.

    Args:
        scores_fake: ``(N,)`` or ``(N, 1)`` critic outputs on generated data.

    Returns:
        Scalar tensor, any sign.
    """
    return -_flat(scores_fake).mean()


GP_SIDES = ("two-sided", "one-sided")


def gradient_penalty(
    critic: Callable[..., Tensor],
    x_real: Tensor,
    x_fake: Tensor,
    *critic_args: Any,
    side: str = "two-sided",
    eps: Tensor | None = None,
) -> Tensor:
    """WGAN-GP's penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]``, without ``lambda``
    (Gulrajani et al. 2017, eq. 3 and Algorithm 1, lines 4-8).

    The interpolates are ``x_hat = eps * x_real + (1 - eps) * x_fake`` with **one**
    ``eps ~ U[0, 1]`` per sample, so each ``x_hat`` lies on the segment between a
    real and a fake sample, where the optimal critic has gradient norm 1
    (the paper's Proposition 1). A coefficient per pixel would put ``x_hat`` off
    that segment. The norm is over *all* non-batch dimensions of one sample,
    ``(C, H, W)`` for images: a per-channel norm is a different constraint.

    The gradient is taken with ``create_graph=True`` so that the penalty is itself
    differentiable with respect to the critic's parameters; without it the
    penalty is a constant to the optimiser and does nothing.

    Args:
        critic: ``D(x, *critic_args) -> scores (N,)`` or ``(N, 1)``.
        x_real: ``(N, ...)`` real samples, any number of channels.
        x_fake: ``(N, ...)`` generated samples of the same shape (detach them from
            G: the critic step does not update G).
        *critic_args: extra inputs passed through to ``critic`` unchanged, e.g.
            class labels ``y (N,)`` for a conditional critic.
        side: ``"two-sided"`` (the paper) or ``"one-sided"``
            ``E[max(0, ||grad|| - 1)^2]`` (the paper's appendix; penalises only
            norms above 1, as the Lipschitz constraint itself does).
        eps: optional ``(N,)`` interpolation coefficients (default: uniform).

    Returns:
        Scalar tensor ``>= 0``; multiply by ``lambda`` (10 in the paper) and add it
        to :func:`d_wasserstein`.
    """
    if x_real.shape != x_fake.shape:
        raise ValueError(
            f"x_real {tuple(x_real.shape)} and x_fake {tuple(x_fake.shape)} must "
            "have the same shape: the penalty pairs each real sample with a fake"
        )
    if side not in GP_SIDES:
        raise ValueError(f"unknown side {side!r}; choose one of {', '.join(GP_SIDES)}")
    n = x_real.shape[0]
    if eps is None:
        eps = torch.rand(n, device=x_real.device, dtype=x_real.dtype)
    # (N,) -> (N, 1, ..., 1): one coefficient per sample, broadcast over (C, H, W)
    eps = eps.reshape(n, *([1] * (x_real.dim() - 1)))
    x_hat = (eps * x_real.detach() + (1 - eps) * x_fake.detach()).requires_grad_(True)
    scores = critic(x_hat, *critic_args)
    (grad,) = torch.autograd.grad(
        outputs=scores.sum(),  # samples are independent: d sum / d x_i = d D_i / d x_i
        inputs=x_hat,
        create_graph=True,
    )
    grad_norm = grad.reshape(n, -1).norm(2, dim=1)  # (N, C, H, W) -> (N,)
    excess = grad_norm - 1
    if side == "one-sided":
        excess = excess.clamp(min=0)
    return (excess**2).mean()


def d_hinge(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """The discriminator's hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16;
    the loss of the projection discriminator, Miyato & Koyama 2018).

        ``d_loss = E[max(0, 1 - logits_real)] + E[max(0, 1 + logits_fake)]``

    A real sample scored above 1, or a fake below -1, costs nothing: D stops
    pushing samples it already separates by the margin.

    Args:
        logits_real: ``(N,)`` or ``(N, 1)`` outputs of D on real data.
        logits_fake: ``(M,)`` or ``(M, 1)`` outputs of D on generated data.

    Returns:
        Scalar tensor ``>= 0``; 2 when D outputs 0 everywhere.
    """
    return F.relu(1 - _flat(logits_real)).mean() + F.relu(1 + _flat(logits_fake)).mean()


def g_hinge(logits_fake: Tensor) -> Tensor:
    """The generator's loss that goes with :func:`d_hinge`: ``-E[logits_fake]``
    (Miyato et al. 2018, eq. 17; Lim & Ye 2017). No margin on G's side.

    Args:
        logits_fake: ``(N,)`` or ``(N, 1)`` outputs of D on generated data.

    Returns:
        Scalar tensor, any sign.
    """
    return -_flat(logits_fake).mean()


def class_loss(class_logits: Tensor, y: Tensor) -> Tensor:
    """Cross-entropy of class logits ``(N, K)`` against labels ``y (N,)``, the
    mean over the ``N`` samples: ``-E[log P(C = y | x)]``, AC-GAN's ``-L_C`` on
    one batch (Odena et al. 2017, eq. 3)."""
    if class_logits.dim() != 2 or class_logits.shape[0] != y.shape[0]:
        raise ValueError(
            f"expected class logits (N, K) and labels (N,), got "
            f"{tuple(class_logits.shape)} and {tuple(y.shape)}"
        )
    return F.cross_entropy(class_logits, y)


def d_acgan(
    logits_real: Tensor,
    logits_fake: Tensor,
    class_logits_real: Tensor,
    class_logits_fake: Tensor,
    y_real: Tensor,
    y_fake: Tensor,
    class_weight: float = 1.0,
) -> Tensor:
    """AC-GAN's discriminator loss (Odena et al. 2017, eq. 2-3): D maximises
    ``L_S + L_C``, so it minimises

        ``BCE(real as real) + BCE(fake as fake)
        + class_weight * (CE(class_logits_real, y_real) + CE(class_logits_fake,
        y_fake))``

    where ``L_S = E[log P(S=real | x_real)] + E[log P(S=fake | x_fake)]`` is the
    source term and ``L_C = E[log P(C=c | x_real)] + E[log P(C=c | x_fake)]`` the
    class term, both on real *and* generated images. Each of the four terms is a
    mean over its own batch (the real and fake batches may differ in size), and
    nothing is halved. (A common snippet halves the source term and averages one
    cross-entropy over the concatenated real and fake batch: a different
    weighting whenever the batch sizes differ, and half the weight on ``L_S``.)

    Args:
        logits_real, logits_fake: source logits ``(N,)`` and ``(M,)``.
        class_logits_real, class_logits_fake: class logits ``(N, K)``, ``(M, K)``.
        y_real, y_fake: labels ``(N,)`` of the data, ``(M,)`` given to G.
        class_weight: multiplies ``-L_C`` (1 in the paper).

    Returns:
        Scalar tensor ``>= 0``.
    """
    source = d_minimax(logits_real, logits_fake)
    classes = class_loss(class_logits_real, y_real) + class_loss(
        class_logits_fake, y_fake
    )
    return source + class_weight * classes


def g_acgan(
    logits_fake: Tensor,
    class_logits_fake: Tensor,
    y_fake: Tensor,
    class_weight: float = 1.0,
) -> Tensor:
    """AC-GAN's generator loss: ``BCE(fake as real) + class_weight *
    CE(class_logits_fake, y_fake)``.

    In the paper G maximises ``L_C - L_S``, i.e. minimises ``log P(S=fake |
    x_fake) - log P(C=c | x_fake)``: the saturating source term of the minimax
    game. We use the non-saturating ``-log P(S=real | x_fake)``
    (:func:`g_nonsaturating`, Goodfellow et al. 2014, section 3) for the reason
    it exists: the saturating term has almost no gradient while D rejects the
    fakes. The class term is the paper's.

    Args:
        logits_fake: source logits ``(M,)`` of D on generated images.
        class_logits_fake: class logits ``(M, K)`` of D on them.
        y_fake: the labels ``(M,)`` G was asked for.
        class_weight: multiplies the class term (1 in the paper).

    Returns:
        Scalar tensor ``>= 0``.
    """
    return g_nonsaturating(logits_fake) + class_weight * class_loss(
        class_logits_fake, y_fake
    )


# Registries: plain dicts, filled explicitly (greppable).
D_LOSSES = {"minimax": d_minimax, "nonsaturating": d_minimax}
G_LOSSES = {"minimax": g_minimax, "nonsaturating": g_nonsaturating}
