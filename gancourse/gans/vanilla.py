"""The original GAN (Goodfellow et al. 2014): D is a classifier, G fools it.

D minimises ``-E[log D(x)] - E[log(1 - D(G(z)))]`` (eq. 1 with the sign flipped);
G minimises either the saturating ``E[log(1 - D(G(z)))]`` of eq. 1 or, by
default, the non-saturating ``-E[log D(G(z))]`` of section 3. All on logits.
One step is Algorithm 1: ``k = n_d_steps`` updates of D, each on a fresh real
batch and fresh ``z``, then one update of G on *fresh* ``z``. (A common variant,
the PyTorch DCGAN example's, reuses the fakes D has just seen for G's step.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, GANMethod, Phase, Stats, StepContext
from gancourse.losses import G_LOSSES, d_minimax


@dataclass(frozen=True)
class VanillaConfig(MethodConfig):
    """``method.name=vanilla``.

    Attributes:
        g_loss: ``"nonsaturating"`` (what everyone trains with) or ``"minimax"``
            (the saturating loss of eq. 1, for demonstrations).
        n_d_steps: D updates per G update (the paper's ``k``; it used 1).
    """

    name: str = "vanilla"
    g_loss: str = "nonsaturating"
    n_d_steps: int = 1

    def __post_init__(self):
        if self.g_loss not in G_LOSSES:
            raise ConfigError(
                f"unknown method.g_loss {self.g_loss!r}; choose one of "
                f"{', '.join(G_LOSSES)}"
            )
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")


class VanillaGAN(GANMethod):
    """The vanilla GAN objective on logits (config: :class:`VanillaConfig`)."""

    Config = VanillaConfig

    def phases(self) -> tuple[Phase, ...]:
        return (Phase("D", repeat=self.cfg.n_d_steps), Phase("G", batch="none"))

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_real = batch["x"]
        x_fake = self.G(ctx.randn(self.G.z_dim))  # G is frozen in D's phase
        logits_real, logits_fake = self.D(x_real), self.D(x_fake)
        loss = d_minimax(logits_real, logits_fake)
        return loss, {
            "D(x_real)": torch.sigmoid(logits_real.detach()).mean(),
            "D(x_fake)": torch.sigmoid(logits_fake.detach()).mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        logits_fake = self.D(self.G(ctx.randn(self.G.z_dim)))
        return G_LOSSES[self.cfg.g_loss](logits_fake), {}
