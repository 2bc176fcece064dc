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

from dataclasses import dataclass

from torch import Tensor, nn

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, Phase, Stats, StepContext
from gancourse.gans.wgan import WGAN
from gancourse.losses import GP_SIDES, d_wasserstein, gradient_penalty

__all__ = ["WGANGP", "WGANGPConfig"]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm)


@dataclass(frozen=True)
class WGANGPConfig(MethodConfig):
    """``method.name=wgan-gp``.

    Attributes:
        n_d_steps: critic updates per generator update (5).
        gp_lambda: the penalty weight ``lambda`` (Algorithm 1: 10).
        gp_side: ``"two-sided"`` ``(||grad|| - 1)^2`` as in the paper, or
            ``"one-sided"`` ``max(0, ||grad|| - 1)^2`` (its appendix).
    """

    name: str = "wgan-gp"
    n_d_steps: int = 5
    gp_lambda: float = 10.0
    gp_side: str = "two-sided"

    def __post_init__(self):
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")
        if self.gp_lambda < 0:
            raise ConfigError(f"method.gp_lambda must be >= 0, got {self.gp_lambda}")
        if self.gp_side not in GP_SIDES:
            raise ConfigError(
                f"unknown method.gp_side {self.gp_side!r}; "
                f"choose one of {', '.join(GP_SIDES)}"
            )


class WGANGP(WGAN):
    """The critic loss with the penalty (config: :class:`WGANGPConfig`).

    Logged: ``d_loss`` (with the penalty), ``wasserstein`` (without it) and ``gp``.
    """

    Config = WGANGPConfig
    double_backward = ("D",)  # the penalty differentiates D's input gradient

    def phases(self) -> tuple[Phase, ...]:
        return (Phase("D", repeat=self.cfg.n_d_steps), Phase("G", batch="none"))

    def check_networks(self) -> None:
        batch_norms = [n for n, m in self.D.named_modules() if isinstance(m, _BN)]
        if batch_norms:
            raise ConfigError(
                f"the WGAN-GP critic has BatchNorm ({batch_norms[0]}), which mixes "
                "samples and breaks the per-sample gradient penalty; set "
                "model.d_norm=layer or model.d_norm=none"
            )

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_real, x_fake, scores_real, scores_fake = self.critic_scores(batch, ctx)
        w_loss = d_wasserstein(scores_real, scores_fake)
        gp = gradient_penalty(
            self.D, x_real, x_fake, side=self.cfg.gp_side, eps=ctx.rand()
        )
        loss = w_loss + self.cfg.gp_lambda * gp
        return loss, {"wasserstein": -w_loss.detach(), "gp": gp.detach()}

    def after_update(self, phase: Phase, step: int) -> None:
        pass  # no clipping: the penalty keeps the critic near 1-Lipschitz
