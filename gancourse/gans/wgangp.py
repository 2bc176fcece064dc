"""WGAN-GP (Gulrajani et al. 2017): WGAN with a gradient penalty instead of
weight clipping.

The critic minimises (eq. 3)

    ``E[D(x_fake)] - E[D(x_real)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]``

with ``x_hat`` drawn uniformly on segments between real and fake samples
(:func:`~gancourse.losses.gradient_penalty`), ``lambda = 10``, ``n_critic = 5``
and Adam(``lr = 1e-4``, ``betas = (0, 0.9)``) (Algorithm 1). The critic has no
BatchNorm (``model.d_norm = "layer"`` or ``"none"``): the penalty is per sample.
"""

from __future__ import annotations

from torch import Tensor, nn

from gancourse.gans.base import Stats
from gancourse.gans.wgan import WGAN
from gancourse.losses import GP_SIDES, d_wasserstein, gradient_penalty

__all__ = ["WGANGP"]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


class WGANGP(WGAN):
    """Args: ``n_d_steps`` (5), ``gp_lambda`` (10), ``gp_side`` (``"two-sided"``).

    Logged: ``d_loss`` (with the penalty), ``wasserstein`` (without it) and ``gp``.
    """

    def __init__(
        self, n_d_steps: int = 5, gp_lambda: float = 10.0, gp_side: str = "two-sided"
    ):
        super().__init__(n_d_steps=n_d_steps, clip_c=None)  # no clipping
        if gp_lambda < 0:
            raise ValueError(f"method.gp_lambda must be >= 0, got {gp_lambda}")
        if gp_side not in GP_SIDES:
            raise ValueError(
                f"unknown method.gp_side {gp_side!r}; "
                f"choose one of {', '.join(GP_SIDES)}"
            )
        self.gp_lambda = gp_lambda
        self.gp_side = gp_side

    def check_models(self, G: nn.Module, D: nn.Module) -> None:
        batch_norms = [name for name, m in D.named_modules() if isinstance(m, _BN)]
        if batch_norms:
            raise ValueError(
                f"the WGAN-GP critic has BatchNorm ({batch_norms[0]}), which mixes "
                "samples and breaks the per-sample gradient penalty; set "
                "model.d_norm=layer or model.d_norm=none"
            )

    def d_loss(
        self, G: nn.Module, D: nn.Module, x_real: Tensor, z: Tensor
    ) -> tuple[Tensor, Stats]:
        x_fake, scores_real, scores_fake = self.critic_scores(G, D, x_real, z)
        w_loss = d_wasserstein(scores_real, scores_fake)
        gp = gradient_penalty(D, x_real, x_fake, side=self.gp_side)
        loss = w_loss + self.gp_lambda * gp
        return loss, {
            "d_loss": loss.item(),
            "wasserstein": -w_loss.item(),
            "gp": gp.item(),
        }
