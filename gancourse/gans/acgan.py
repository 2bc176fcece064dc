"""AC-GAN (Odena, Olah and Shlens 2017): D also classifies what it sees.

G gets a class ``c`` and noise ``z`` and makes ``x_fake = G(z, c)``; D sees only
the image and returns two things: a source logit (real or fake) and class logits
``(N, K)``. With ``L_S`` the log-likelihood of the correct source and ``L_C`` that
of the correct class, both over real *and* generated images (eq. 2-3):

* D maximises ``L_S + L_C``: it minimises BCE(real as real) + BCE(fake as fake)
  + CE on the real images' labels + CE on the fakes' labels, each a mean over its
  own batch (:func:`~gancourse.losses.d_acgan`);
* G maximises ``L_C - L_S`` in the paper. We train G with the non-saturating
  source term instead, BCE(fake as real), plus the class term
  (:func:`~gancourse.losses.g_acgan`): the paper's ``-L_S`` is the saturating
  minimax loss, whose gradient vanishes while D still rejects the fakes
  (Goodfellow et al. 2014, section 3).

``method.class_weight`` multiplies the class terms of both losses (1 in the
paper). Labels for the fakes are uniform over the classes, drawn afresh in each
phase; networks, inputs and sample grids are those of
:class:`~gancourse.gans.cgan.CGAN` (one class per column with ``nrow = K``), with
D built with the auxiliary-classifier head.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, Stats, StepContext
from gancourse.gans.cgan import CGAN
from gancourse.losses import d_acgan, g_acgan

__all__ = ["ACGAN", "ACGANConfig"]


@dataclass(frozen=True)
class ACGANConfig(MethodConfig):
    """``method.name=acgan``.

    Attributes:
        class_weight: weight of the class terms (``L_C``) in D's and G's losses.
        n_d_steps: D updates per G update (1 in the paper).
    """

    name: str = "acgan"
    class_weight: float = 1.0
    n_d_steps: int = 1

    def __post_init__(self):
        if self.class_weight < 0:
            raise ConfigError(
                f"method.class_weight must be >= 0, got {self.class_weight}"
            )
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")


class ACGAN(CGAN):
    """Auxiliary-classifier GAN: ``G(z, y)``, ``D(x) -> (logits, class_logits)``
    (config: ``ACGANConfig``)."""

    Config = ACGANConfig

    @property
    def d_cond(self) -> str:
        return "acgan"

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_real, y_real = batch["x"], batch["y"]
        x_fake, y_fake = self.fakes(ctx)  # G is frozen in D's phase
        logits_real, class_logits_real = self.D(x_real)
        logits_fake, class_logits_fake = self.D(x_fake)
        loss = d_acgan(
            logits_real,
            logits_fake,
            class_logits_real,
            class_logits_fake,
            y_real,
            y_fake,
            self.cfg.class_weight,
        )
        correct = class_logits_real.detach().argmax(1) == y_real
        return loss, {
            "logits_real": logits_real.detach().mean(),
            "logits_fake": logits_fake.detach().mean(),
            "class_acc_real": correct.float().mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_fake, y_fake = self.fakes(ctx)
        logits_fake, class_logits_fake = self.D(x_fake)
        loss = g_acgan(logits_fake, class_logits_fake, y_fake, self.cfg.class_weight)
        correct = class_logits_fake.detach().argmax(1) == y_fake
        return loss, {"class_acc_fake": correct.float().mean()}
