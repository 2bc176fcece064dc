"""Conditional GAN (Mirza & Osindero 2014), with a concatenation or a projection
discriminator (Miyato & Koyama 2018).

G and D both see the class ``y``: D judges *pairs* ``(x, y)``, so a real image
with the wrong label is as fake as a bad image, and G must produce images that
match the label it was given. The losses are those of the unconditional GAN with
``D(x, y)`` in place of ``D(x)`` (Mirza & Osindero, eq. 2): non-saturating by
default, or the hinge loss the projection paper trains with
(``method.loss=hinge``).

How ``y`` enters D is this method's ``method.d_cond``: ``"concat"`` (label maps
stacked on the image, the input-concatenation of Mirza & Osindero) or
``"projection"`` (``psi(phi(x)) + <embed(y), phi(x)>``). It is a method setting
because it decides what D computes from ``(x, y)``, the subject of both papers;
how G reads ``y`` does not change the objective and is an architecture setting
(``model.g_cond``). Networks: ``model.arch=cdcgan`` or ``cresnet``; ``K`` comes
from the data.

Fakes: G gets ``z ~ N(0, I)`` and a label drawn uniformly from the ``K`` classes,
independently of the real batch's labels (AC-GAN's ``c ~ p_c``; uniform is
``p_c`` for the balanced MNIST, Fashion-MNIST and CIFAR-10), in D's phase and,
freshly drawn, in G's.

Sample grids: row ``i`` of the inputs has label ``i % K``, so a grid drawn with
``nrow = K`` (``show_grid(x, nrow=K)``) shows **one class per column**.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.base import Batch, DataSpec, GANMethod, Phase, Stats, StepContext
from gancourse.losses import d_hinge, d_minimax, g_hinge, g_nonsaturating

__all__ = ["CGAN", "CGANConfig", "LOSSES"]

#: ``method.loss`` -> (D's loss, G's loss), both on logits.
LOSSES = {
    "nonsaturating": (d_minimax, g_nonsaturating),
    "hinge": (d_hinge, g_hinge),
}


@dataclass(frozen=True)
class CGANConfig(MethodConfig):
    """``method.name=cgan``.

    Attributes:
        d_cond: how the label enters D: ``"concat"`` or ``"projection"``.
        loss: ``"nonsaturating"`` (BCE on logits) or ``"hinge"``.
        n_d_steps: D updates per G update (the projection paper: 5 with hinge).
    """

    name: str = "cgan"
    d_cond: str = "concat"
    loss: str = "nonsaturating"
    n_d_steps: int = 1

    def __post_init__(self):
        if self.d_cond not in ("concat", "projection"):
            raise ConfigError(
                f"unknown method.d_cond {self.d_cond!r}; choose concat or projection "
                "(AC-GAN's classifier head is method.name=acgan)"
            )
        if self.loss not in LOSSES:
            raise ConfigError(
                f"unknown method.loss {self.loss!r}; choose one of {', '.join(LOSSES)}"
            )
        if self.n_d_steps < 1:
            raise ConfigError(f"method.n_d_steps must be >= 1, got {self.n_d_steps}")


class CGAN(GANMethod):
    """Class-conditional GAN: ``G(z, y)``, ``D(x, y)`` (config: ``CGANConfig``)."""

    Config = CGANConfig
    needs = ("x", "y")

    @property
    def d_cond(self) -> str:
        """The discriminator head the arch builds (``"acgan"`` for AC-GAN)."""
        return self.cfg.d_cond

    @property
    def n_classes(self) -> int:
        return self.spec.n_classes

    def build(self, model_cfg, spec: DataSpec) -> nn.ModuleDict:
        from gancourse.models import build_discriminator, build_generator

        if not spec.n_classes:
            raise ConfigError(
                f"method {self.cfg.name} needs class labels, and this data has no "
                "classes; use labelled data (mnist, fashion-mnist, cifar10, folder)"
            )
        self.spec = spec
        shape, k = spec.sample_shape, spec.n_classes
        self.nets = nn.ModuleDict(
            {
                "G": build_generator(model_cfg, shape, n_classes=k),
                "D": build_discriminator(model_cfg, shape, k, d_cond=self.d_cond),
            }
        )
        self.check_networks()
        return self.nets

    def phases(self) -> tuple[Phase, ...]:
        return (Phase("D", repeat=self.cfg.n_d_steps), Phase("G", batch="none"))

    def fakes(self, ctx: StepContext) -> tuple[Tensor, Tensor]:
        """``(x_fake (n, C, H, W), y_fake (n,))`` with ``y_fake`` uniform in
        ``[0, K)`` and ``z ~ N(0, I)``, both keyed noise."""
        z = ctx.randn(self.G.z_dim)
        y_fake = ctx.randint(self.n_classes)
        return self.G(z, y_fake), y_fake

    def d_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_real, y_real = batch["x"], batch["y"]
        x_fake, y_fake = self.fakes(ctx)  # G is frozen in D's phase
        logits_real, logits_fake = self.D(x_real, y_real), self.D(x_fake, y_fake)
        loss = LOSSES[self.cfg.loss][0](logits_real, logits_fake)
        return loss, {
            "logits_real": logits_real.detach().mean(),
            "logits_fake": logits_fake.detach().mean(),
        }

    def g_loss(self, batch: Batch, ctx: StepContext) -> tuple[Tensor, Stats]:
        x_fake, y_fake = self.fakes(ctx)
        return LOSSES[self.cfg.loss][1](self.D(x_fake, y_fake)), {}

    def sample_inputs(
        self,
        n: int,
        generator: torch.Generator | None = None,
        examples: Batch | None = None,
    ) -> Batch:
        """``{"z": (n, z_dim), "y": (n,)}`` with ``y[i] = i % K``: one class per
        column of a grid with ``nrow = K``."""
        z = torch.randn(n, self.G.z_dim, generator=generator)
        return {"z": z, "y": torch.arange(n) % self.n_classes}

    def grid_nrow(self) -> int:
        return self.n_classes  # one class per column

    def generate(self, inputs: Batch, nets: nn.ModuleDict | None = None) -> Tensor:
        nets = self.nets if nets is None else nets
        return nets["G"](inputs["z"], inputs["y"])
