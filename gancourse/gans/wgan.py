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

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, GANMethod, Phase, Stats, StepContext
from gancourse.losses import d_wasserstein, g_wasserstein

__all__ = ["WGAN", "WGANConfig", "clip_weights_"]


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """Clamp every parameter of ``module`` to ``[-c, c]`` in place (Algorithm 1,
    line 7: ``w <- clip(w, -c, c)``)."""
    for p in module.parameters():
        p.clamp_(-c, c)


@dataclass(frozen=True)
class WGANConfig(MethodConfig):
    """``method.name=wgan``.

    Attributes:
        n_d_steps: critic updates per generator update (``n_critic = 5``).
        clip_c: the clipping range ``c`` (0.01 in the paper).
    """

    name: str = "wgan"
    n_d_steps: int = 5
    clip_c: float = 0.01

    def __post_init__(self):
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")
        if self.clip_c <= 0:
            raise ConfigError(f"method.clip_c must be > 0, got {self.clip_c}")


class WGAN(GANMethod):
    """The Wasserstein objective with weight clipping (config: :class:`WGANConfig`).

    Logged: ``d_loss``, ``g_loss`` and ``wasserstein`` = ``E[f(x)] - E[f(G(z))]``,
    the critic's estimate of ``W`` (to a constant factor), the curve the paper
    shows tracking sample quality in its experiments.
    """

    Config = WGANConfig

    def phases(self) -> tuple[Phase, ...]:
        return (Phase("D", repeat=self.cfg.n_d_steps), Phase("G", batch="none"))

    def critic_scores(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, ...]:
        """``(x_real, x_fake, scores_real, scores_fake)``; G is frozen here."""
        x_real = batch["x"]
        x_fake = self.G(ctx.randn(self.G.z_dim))
        return x_real, x_fake, self.D(x_real), self.D(x_fake)

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        *_, scores_real, scores_fake = self.critic_scores(batch, ctx)
        loss = d_wasserstein(scores_real, scores_fake)
        return loss, {"wasserstein": -loss.detach()}

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        return g_wasserstein(self.D(self.G(ctx.randn(self.G.z_dim)))), {}

    def after_update(self, phase: Phase, step: int) -> None:
        if phase.group == "D":
            clip_weights_(self.D, self.cfg.clip_c)
