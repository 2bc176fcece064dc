"""WGAN (Arjovsky, Chintala and Bottou 2017): a critic estimates the earth
mover's distance, and weight clipping keeps it (roughly) Lipschitz.

Algorithm 1 of the paper, against the vanilla GAN, changes four things:

1. the critic outputs a real score, with no sigmoid;
2. the losses have no log: the critic minimises ``E[f(G(z))] - E[f(x)]`` and G
   minimises ``-E[f(G(z))]`` (:func:`~gancourse.losses.d_wasserstein`,
   :func:`~gancourse.losses.g_wasserstein`);
3. after every critic step each critic weight is clipped to ``[-c, c]``,
   ``c = 0.01``, so that ``f`` stays in a family of K-Lipschitz functions;
4. RMSProp (``lr = 5e-5``) instead of a momentum method, which the paper found
   unstable with this loss; ``n_critic = 5`` critic steps per G step.

The optimiser and learning rates live in the preset (``wgan-mnist``), not here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gancourse.gans.base import GANMethod, Stats
from gancourse.losses import d_wasserstein, g_wasserstein

__all__ = ["WGAN", "clip_weights_"]


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to ``[-c, c]`` in place (Algorithm 1,
    line 7: ``w <- clip(w, -c, c)``)."""
    for p in module.parameters():
        p.clamp_(-c, c)


class WGAN(GANMethod):
    """The Wasserstein objective with weight clipping.

    Args:
        n_d_steps: critic updates per generator update (``n_critic = 5``).
        clip_c: the clipping range ``c`` (0.01 in the paper); ``None`` disables
            clipping, for subclasses that constrain the critic another way.

    Logged: ``d_loss``, ``g_loss`` and ``wasserstein`` = ``E[f(x)] - E[f(G(z))]``,
    the critic's estimate of ``W`` (to a constant factor), the curve the paper
    shows tracking sample quality in its experiments.
    """

    def __init__(self, n_d_steps: int = 5, clip_c: float | None = 0.01):
        if n_d_steps < 1:
            raise ValueError(f"method.n_d_steps must be >= 1, got {n_d_steps}")
        if clip_c is not None and clip_c <= 0:
            raise ValueError(f"method.clip_c must be > 0, got {clip_c}")
        self.n_d_steps = n_d_steps
        self.clip_c = clip_c

    def critic_scores(
        self, G: nn.Module, D: nn.Module, x_real: Tensor, z: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(x_fake, scores_real, scores_fake)`` with no graph into G."""
        with torch.no_grad():
            x_fake = G(z)
        return x_fake, D(x_real), D(x_fake)

    def d_loss(
        self, G: nn.Module, D: nn.Module, x_real: Tensor, z: Tensor
    ) -> tuple[Tensor, Stats]:
        _, scores_real, scores_fake = self.critic_scores(G, D, x_real, z)
        loss = d_wasserstein(scores_real, scores_fake)
        return loss, {"d_loss": loss.item(), "wasserstein": -loss.item()}

    def g_loss(self, G: nn.Module, D: nn.Module, z: Tensor) -> tuple[Tensor, Stats]:
        loss = g_wasserstein(D(G(z)))
        return loss, {"g_loss": loss.item()}

    def after_d_step(self, D: nn.Module) -> None:
        if self.clip_c is not None:
            clip_weights_(D, self.clip_c)
