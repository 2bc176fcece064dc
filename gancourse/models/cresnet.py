"""Class-conditional ResNets: the networks of Miyato & Koyama (2018, CIFAR-10).

The blocks and sizes of ``gancourse.models.resnet`` (Gulrajani et al. 2017),
conditioned on a label ``y in [0, K)`` as in the projection paper's code
(``gen_models/resnet_32.py``, ``dis_models/snresnet_32.py``):

* G, ``model.g_cond``: ``"cbn"`` (the paper): ``z -> Linear -> (N, width, s0,
  s0) -> CondResBlockUp x n_up -> BatchNorm, ReLU, conv 3x3, Tanh``, the two
  BatchNorms of every up block conditional on ``one_hot(y)``
  (:class:`~gancourse.nn.resblocks.CondResBlockUp`); ``"concat"``: the plain
  ResNet generator reading ``cat([z, one_hot(y)])``.
* D, chosen by the method (``d_cond``): ``FirstResBlockDown``, ``ResBlockDown``
  x (halvings - 1), 2 x ``ResBlock``, ReLU, then **sum** over ``(H, W)`` (the
  authors' code; the WGAN-GP critic takes the mean) -> ``phi (N, width)`` and the
  head: ``"projection"`` ``psi(phi) + <embed(y), phi>``; ``"concat"`` label maps
  stacked on the image's channels and ``psi(phi)``; ``"acgan"`` ``psi(phi)`` and
  class logits ``Linear(width, K)``.
* ``model.d_sn``: spectral normalisation on every layer of D
  (:func:`~gancourse.nn.spectral.spectral_norm_`), as in the paper's D.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gancourse.config import ConfigError
from gancourse.models.cdcgan import G_CONDS, check_d_cond
from gancourse.models.resnet import ResNetConfig, ResNetGenerator, _geometry
from gancourse.nn.cond import ProjectionHead, label_maps
from gancourse.nn.norm import check_norm
from gancourse.nn.resblocks import (
    CondResBlockUp,
    FirstResBlockDown,
    ResBlock,
    ResBlockDown,
    glorot_init_,
)
from gancourse.nn.spectral import spectral_norm_

__all__ = ["CResNetConfig", "CondResNetGenerator", "CondResNetDiscriminator"]


@dataclass(frozen=True)
class CResNetConfig(ResNetConfig):
    """``model.arch=cresnet``: the ResNet sizes plus the label input of G and
    spectral normalisation of D.

    Attributes:
        g_cond: ``"cbn"`` (conditional BatchNorm, Miyato & Koyama) or
            ``"concat"`` (``z`` with ``one_hot(y)`` appended).
        d_sn: spectral normalisation on every layer of D (their D has it).
    """

    arch: str = "cresnet"
    g_cond: str = "cbn"
    d_sn: bool = False

    def __post_init__(self):
        super().__post_init__()
        if self.g_cond not in G_CONDS:
            raise ConfigError(
                f"unknown model.g_cond {self.g_cond!r}; choose one of "
                f"{', '.join(G_CONDS)}"
            )


class CondResNetGenerator(nn.Module):
    """``G(z (N, z_dim), y (N,)) -> x (N, C, S, S)`` in ``[-1, 1]``.

    ``cond="cbn"``: 32 px, ``width=256`` is the paper's CIFAR-10 generator
    (``z (N, 128) -> (N, 256, 4, 4) -> 3 up blocks -> (N, 256, 32, 32) -> (N, 3,
    32, 32)``). ``cond="concat"``: the unconditional ResNet generator on
    ``cat([z, one_hot(y)])``.
    """

    def __init__(
        self,
        z_dim: int,
        n_classes: int,
        img_channels: int = 3,
        img_size: int = 32,
        width: int = 128,
        cond: str = "cbn",
    ):
        super().__init__()
        if cond not in G_CONDS:
            raise ValueError(f"unknown g_cond {cond!r}; choose one of {G_CONDS}")
        self.z_dim, self.n_classes, self.cond, self.width = (
            z_dim,
            n_classes,
            cond,
            width,
        )
        if cond == "concat":
            self.net = ResNetGenerator(z_dim + n_classes, img_channels, img_size, width)
            return
        self.s0, n_up, _ = _geometry(img_size)
        # (N, z_dim) -> (N, width * s0 * s0), reshaped to (N, width, s0, s0)
        self.project = glorot_init_(nn.Linear(z_dim, width * self.s0 * self.s0))
        # each (N, width, s, s) -> (N, width, 2s, 2s)
        self.blocks = nn.ModuleList(
            CondResBlockUp(width, width, n_classes) for _ in range(n_up)
        )
        self.to_image = nn.Sequential(
            nn.BatchNorm2d(width),  # unconditional, as in the authors' code
            nn.ReLU(),
            glorot_init_(nn.Conv2d(width, img_channels, kernel_size=3, padding=1)),
            nn.Tanh(),
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        c = F.one_hot(y, self.n_classes).to(z.dtype)  # (N, K)
        if self.cond == "concat":
            return self.net(torch.cat([z, c], 1))
        h = self.project(z).view(z.shape[0], self.width, self.s0, self.s0)
        for block in self.blocks:
            h = block(h, c)
        return self.to_image(h)


class CondResNetDiscriminator(nn.Module):
    """The ResNet discriminator with a conditional head (``cond``).

    ``"concat"`` and ``"projection"``: ``D(x (N, C, S, S), y (N,)) -> logits
    (N,)``; ``"acgan"``: ``D(x) -> (logits (N,), class_logits (N, K))``. Features
    ``phi = sum_{h,w} relu(blocks(x)) (N, width)``.
    """

    def __init__(
        self,
        n_classes: int,
        img_channels: int = 3,
        img_size: int = 32,
        width: int = 128,
        norm: str = "none",
        cond: str = "projection",
        sn: bool = False,
    ):
        super().__init__()
        check_norm(norm)
        self.n_classes, self.cond = n_classes, check_d_cond(cond)
        _, _, n_down = _geometry(img_size)
        in_ch = img_channels + (n_classes if cond == "concat" else 0)
        # (N, C, S, S) -> (N, width, S/2, S/2), then each down block halves again
        blocks: list[nn.Module] = [FirstResBlockDown(in_ch, width)]
        blocks += [ResBlockDown(width, width, norm=norm) for _ in range(n_down - 1)]
        blocks += [ResBlock(width, width, norm=norm) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        if cond == "projection":
            self.head = ProjectionHead(width, n_classes)
        else:
            self.head = glorot_init_(nn.Linear(width, 1))
        if cond == "acgan":
            self.classifier = glorot_init_(nn.Linear(width, n_classes))
        if sn:
            spectral_norm_(self)

    def features(self, x: Tensor) -> Tensor:
        """``phi(x)``: ``(N, C', S, S) -> (N, width)``, ReLU then sum over (H, W)."""
        return torch.relu(self.blocks(x)).sum(dim=(2, 3))

    def forward(self, x: Tensor, y: Tensor | None = None):
        if self.cond == "acgan":
            phi = self.features(x)
            return self.head(phi)[:, 0], self.classifier(phi)
        if y is None:
            raise ValueError(f"this discriminator (d_cond={self.cond}) needs labels y")
        if self.cond == "concat":
            x = label_maps(x, y, self.n_classes)
            return self.head(self.features(x))[:, 0]
        return self.head(self.features(x), y)
