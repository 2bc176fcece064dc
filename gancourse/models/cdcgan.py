"""Class-conditional DCGAN networks: ``G(z, y)`` and three discriminators.

The networks of ``gancourse.models.dcgan`` (same geometry, widths and
``N(0, 0.02)`` initialisation) with a label ``y in [0, K)``:

* G, ``model.g_cond``: ``"concat"`` reads ``cat([z, one_hot(y)])`` (Mirza &
  Osindero 2014); ``"cbn"`` reads ``z`` alone and every hidden BatchNorm
  becomes a :class:`~gancourse.nn.cond.ConditionalBatchNorm2d` on ``one_hot(y)``.
* D, chosen by the *method* (``d_cond``): ``"concat"``: ``D(x, y)`` reads the
  image with ``K`` label maps stacked on its channels; ``"projection"``:
  ``D(x, y) = psi(phi(x)) + <embed(y), phi(x)>`` (Miyato & Koyama 2018);
  ``"acgan"``: ``D(x) -> (logits (N,), class_logits (N, K))``, a source head and
  an auxiliary classifier on the same features (Odena et al. 2017).

``phi(x)`` is the flattened last feature map of the DCGAN body: ``(N, 2 * width *
7 * 7)`` at 28 px, ``(N, 4 * width * 4 * 4)`` at 32 px. Its length is measured by
running the body once (:func:`feature_size`), so it is right for every image size;
the seed's AC-GAN discriminator wrote it as ``256 * (img_size // 8) ** 2``, which
its own convolutions do not produce at 28 px (they give 4 x 4 maps, not 3 x 3).
The source head ``psi`` is a linear map of ``phi``: exactly the DCGAN
discriminator's last convolution, whose kernel covers the whole last map.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gancourse.config import ConfigError
from gancourse.models.dcgan import DCGANConfig, _geometry, dcgan_init_
from gancourse.nn.blocks import down_block
from gancourse.nn.cond import ConditionalBatchNorm2d, ProjectionHead, label_maps

__all__ = [
    "CDCGANConfig",
    "CondDCGANGenerator",
    "CondDCGANDiscriminator",
    "G_CONDS",
    "D_CONDS",
    "feature_size",
]

#: The ways the label enters G (``model.g_cond``).
G_CONDS = ("concat", "cbn")
#: The ways the label enters D, chosen by the method (``cgan``'s ``method.d_cond``,
#: or ``"acgan"`` for AC-GAN's auxiliary classifier).
D_CONDS = ("concat", "projection", "acgan")


@dataclass(frozen=True)
class CDCGANConfig(DCGANConfig):
    """``model.arch=cdcgan``: the DCGAN sizes plus how G reads the label.

    Attributes:
        g_cond: ``"concat"`` (``z`` with ``one_hot(y)`` appended) or ``"cbn"``
            (conditional BatchNorm on ``one_hot(y)`` in every hidden layer).
    """

    arch: str = "cdcgan"
    g_cond: str = "concat"

    def __post_init__(self):
        super().__post_init__()
        if self.g_cond not in G_CONDS:
            raise ConfigError(
                f"unknown model.g_cond {self.g_cond!r}; choose one of "
                f"{', '.join(G_CONDS)}"
            )


def check_d_cond(d_cond: str) -> str:
    """``d_cond`` if it is one of :data:`D_CONDS`, else a ``ValueError``."""
    if d_cond not in D_CONDS:
        raise ValueError(f"unknown d_cond {d_cond!r}; choose one of {D_CONDS}")
    return d_cond


class CondDCGANGenerator(nn.Module):
    """``G(z (N, z_dim), y (N,)) -> x (N, C, S, S)`` in ``[-1, 1]``.

    The DCGAN generator's layers (28 px, ``width=64``: ``(N, 128, 7, 7) -> (N, 64,
    14, 14) -> (N, C, 28, 28)``); the label enters as ``cond`` says (see the module
    docstring). The output layer has no normalisation, conditional or not.
    """

    def __init__(
        self,
        z_dim: int,
        n_classes: int,
        img_channels: int = 1,
        img_size: int = 28,
        width: int = 64,
        cond: str = "concat",
    ):
        super().__init__()
        if cond not in G_CONDS:
            raise ValueError(f"unknown g_cond {cond!r}; choose one of {G_CONDS}")
        self.z_dim, self.n_classes, self.cond = z_dim, n_classes, cond
        s0, n_up = _geometry(img_size)
        ch = width * 2 ** (n_up - 1)
        in_dim = z_dim + n_classes if cond == "concat" else z_dim
        # (N, in_dim, 1, 1) -> (N, ch, s0, s0), then each up layer doubles the side
        convs = [nn.ConvTranspose2d(in_dim, ch, s0, 1, 0, bias=False)]
        chans = [ch]
        for _ in range(n_up - 1):
            convs.append(nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False))
            ch //= 2
            chans.append(ch)
        self.convs = nn.ModuleList(convs)
        self.norms = nn.ModuleList(
            ConditionalBatchNorm2d(c, n_classes) if cond == "cbn" else nn.BatchNorm2d(c)
            for c in chans
        )
        # (N, width, S/2, S/2) -> (N, C, S, S)
        self.to_image = nn.ConvTranspose2d(ch, img_channels, 4, 2, 1)
        dcgan_init_(self)  # CBN's linear maps too: gain 1 + N(0, 0.02) per class

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        c = F.one_hot(y, self.n_classes).to(z.dtype)  # (N, K)
        h = torch.cat([z, c], 1) if self.cond == "concat" else z
        h = h.view(h.shape[0], -1, 1, 1)
        for conv, norm in zip(self.convs, self.norms):
            h = conv(h)
            h = norm(h, c) if self.cond == "cbn" else norm(h)
            h = torch.relu(h)
        return torch.tanh(self.to_image(h))


@torch.no_grad()
def feature_size(body: nn.Module, in_shape: tuple[int, ...]) -> int:
    """Length of ``body``'s flattened output for one input of shape ``in_shape``
    ``(C, H, W)``, measured with a forward pass in eval mode (BatchNorm's running
    statistics are not touched)."""
    mode = body.training
    body.eval()
    try:
        return body(torch.zeros(1, *in_shape)).numel()
    finally:
        body.train(mode)


class CondDCGANDiscriminator(nn.Module):
    """The DCGAN discriminator body with a conditional head (``cond``).

    ``"concat"`` and ``"projection"``: ``D(x (N, C, S, S), y (N,)) -> logits
    (N,)``; ``"acgan"``: ``D(x) -> (logits (N,), class_logits (N, K))``.
    For 28 px, ``width=64``: ``(N, C [+ K], 28, 28) -> (N, 64, 14, 14) -> (N, 128,
    7, 7) -> phi (N, 6272)`` then the head(s).
    """

    def __init__(
        self,
        n_classes: int,
        img_channels: int = 1,
        img_size: int = 28,
        width: int = 64,
        norm: str = "batch",
        cond: str = "concat",
    ):
        super().__init__()
        self.n_classes, self.cond = n_classes, check_d_cond(cond)
        _, n_down = _geometry(img_size)
        in_ch = img_channels + (n_classes if cond == "concat" else 0)
        ch = width
        layers: list[nn.Module] = [down_block(in_ch, ch, norm="none")]
        for _ in range(n_down - 1):
            layers.append(down_block(ch, ch * 2, norm=norm))  # halves the side
            ch *= 2
        layers.append(nn.Flatten())  # (N, ch, s0, s0) -> (N, ch * s0 * s0)
        self.body = nn.Sequential(*layers)
        n_features = feature_size(self.body, (in_ch, img_size, img_size))
        if cond == "projection":
            self.head = ProjectionHead(n_features, n_classes)
        else:
            self.head = nn.Linear(n_features, 1)
        if cond == "acgan":
            self.classifier = nn.Linear(n_features, n_classes)
        dcgan_init_(self)

    def forward(self, x: Tensor, y: Tensor | None = None):
        if self.cond == "acgan":
            phi = self.body(x)
            return self.head(phi)[:, 0], self.classifier(phi)
        if y is None:
            raise ValueError(f"this discriminator (d_cond={self.cond}) needs labels y")
        if self.cond == "concat":
            return self.head(self.body(label_maps(x, y, self.n_classes)))[:, 0]
        return self.head(self.body(x), y)
