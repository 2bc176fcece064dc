"""The original GAN (Goodfellow et al. 2014): D is a classifier, G fools it.

D minimises ``-E[log D(x)] - E[log(1 - D(G(z)))]`` (eq. 1 with the sign flipped);
G minimises either the saturating ``E[log(1 - D(G(z)))]`` of eq. 1 or, by
default, the non-saturating ``-E[log D(G(z))]`` of section 3. All on logits.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gancourse.gans.base import GANMethod, Stats
from gancourse.losses import G_LOSSES, d_minimax


class VanillaGAN(GANMethod):
    """The vanilla GAN objective on logits.

    Args:
        g_loss: ``"nonsaturating"`` or ``"minimax"`` (saturating), see
            :data:`gancourse.losses.G_LOSSES`.
        n_d_steps: D updates per G update (the paper's ``k``, Algorithm 1; it
            used 1).
    """

    def __init__(self, g_loss: str = "nonsaturating", n_d_steps: int = 1):
        if g_loss not in G_LOSSES:
            raise ValueError(
                f"unknown method.g_loss {g_loss!r}; choose one of {', '.join(G_LOSSES)}"
            )
        if n_d_steps < 1:
            raise ValueError(f"method.n_d_steps must be >= 1, got {n_d_steps}")
        self.g_loss_fn = G_LOSSES[g_loss]
        self.n_d_steps = n_d_steps

    def d_loss(
        self, G: nn.Module, D: nn.Module, x_real: Tensor, z: Tensor
    ) -> tuple[Tensor, Stats]:
        with torch.no_grad():  # D's step must not build (or pay for) a graph into G
            x_fake = G(z)
        logits_real = D(x_real)
        logits_fake = D(x_fake)
        loss = d_minimax(logits_real, logits_fake)
        return loss, {
            "d_loss": loss.item(),
            "D(x_real)": torch.sigmoid(logits_real).mean().item(),
            "D(x_fake)": torch.sigmoid(logits_fake).mean().item(),
        }

    def g_loss(self, G: nn.Module, D: nn.Module, z: Tensor) -> tuple[Tensor, Stats]:
        logits_fake = D(G(z))
        loss = self.g_loss_fn(logits_fake)
        return loss, {"g_loss": loss.item()}
