"""ResNet generator and critic of WGAN-GP's CIFAR-10 experiment (Gulrajani et al.
2017, "Improved Training of Wasserstein GANs", appendix F; the layout of the
authors' ``gan_cifar_resnet.py``).

With ``width = DIM = 128`` and ``z_dim = 128``, as in the paper, for 32 px:

* G: ``z (N, 128) -> Linear -> (N, 128, 4, 4) -> 3 x ResBlockUp -> (N, 128, 32,
  32) -> BatchNorm, ReLU, conv 3x3 -> (N, 3, 32, 32) -> Tanh``;
* critic: ``x (N, 3, 32, 32) -> FirstResBlockDown -> (N, 128, 16, 16) ->
  ResBlockDown -> (N, 128, 8, 8) -> 2 x ResBlock -> ReLU -> mean over (H, W) ->
  (N, 128) -> Linear -> (N,)`` scores, no sigmoid (a Wasserstein critic).

Every block has ``width`` channels. Other sizes keep that plan: 28 px (MNIST) starts
G at 7x7 with two up blocks, and the critic stops at 7x7; 64 px starts at 4x4 with
four up blocks, and the critic halves three times down to 8x8 before its two plain
blocks. Blocks and initialisation: :mod:`gancourse.nn.resblocks`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from gancourse.config import ConfigError, ModelConfig
from gancourse.nn.norm import check_norm
from gancourse.nn.resblocks import (
    FirstResBlockDown,
    ResBlock,
    ResBlockDown,
    ResBlockUp,
    glorot_init_,
)

__all__ = ["ResNetConfig", "ResNetGenerator", "ResNetDiscriminator"]


@dataclass(frozen=True)
class ResNetConfig(ModelConfig):
    """``model.arch=resnet``; defaults are the paper's CIFAR-10 sizes.

    Attributes:
        img_channels: image channels ``C``.
        img_size: image side: 28, 32 or 64.
        g_width: channels of every G block (``DIM_G = 128``).
        d_width: channels of every critic block (``DIM_D = 128``).
        d_norm: the critic's normalisation after its first block: ``"none"`` (the
            paper), ``"layer"`` or ``"batch"``.
    """

    arch: str = "resnet"
    z_dim: int = 128
    img_channels: int = 3
    img_size: int = 32
    g_width: int = 128
    d_width: int = 128
    d_norm: str = "none"


# image side -> (side of G's first feature map, G's up blocks, critic halvings)
_GEOMETRY = {28: (7, 2, 2), 32: (4, 3, 2), 64: (4, 4, 3)}


def _geometry(img_size: int) -> tuple[int, int, int]:
    if img_size not in _GEOMETRY:
        raise ConfigError(
            f"the ResNet supports img_size in {sorted(_GEOMETRY)}, got {img_size}; "
            "set model.img_size to one of them"
        )
    return _GEOMETRY[img_size]


class ResNetGenerator(nn.Module):
    """``z (N, z_dim) -> x (N, C, S, S)`` in ``[-1, 1]``, ``S = img_size``.

    ``width`` is the channel count of every block (the paper's ``DIM_G = 128``).
    """

    def __init__(
        self,
        z_dim: int = 128,
        img_channels: int = 3,
        img_size: int = 32,
        width: int = 128,
    ):
        super().__init__()
        self.z_dim = z_dim
        self.width = width
        self.s0, n_up, _ = _geometry(img_size)
        # (N, z_dim) -> (N, width * s0 * s0), reshaped to (N, width, s0, s0)
        self.project = glorot_init_(nn.Linear(z_dim, width * self.s0 * self.s0))
        # each (N, width, s, s) -> (N, width, 2s, 2s)
        self.blocks = nn.Sequential(*[ResBlockUp(width, width) for _ in range(n_up)])
        self.to_image = nn.Sequential(
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            # (N, width, S, S) -> (N, C, S, S)
            glorot_init_(nn.Conv2d(width, img_channels, kernel_size=3, padding=1)),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        h = self.project(z).view(z.shape[0], self.width, self.s0, self.s0)
        return self.to_image(self.blocks(h))


class ResNetDiscriminator(nn.Module):
    """The critic ``x (N, C, S, S) -> scores (N,)`` (real numbers, no sigmoid).

    ``norm`` (``"none"``, ``"layer"`` or ``"batch"``, see :mod:`gancourse.nn.norm`)
    normalises the blocks after the first; the paper uses ``"none"``, so that each
    sample's score, and the gradient penalty on it, depends on that sample alone.
    """

    def __init__(
        self,
        img_channels: int = 3,
        img_size: int = 32,
        width: int = 128,
        norm: str = "none",
    ):
        super().__init__()
        check_norm(norm)
        _, _, n_down = _geometry(img_size)
        # (N, C, S, S) -> (N, width, S/2, S/2), then each down block halves again
        blocks: list[nn.Module] = [FirstResBlockDown(img_channels, width)]
        blocks += [ResBlockDown(width, width, norm=norm) for _ in range(n_down - 1)]
        blocks += [ResBlock(width, width, norm=norm) for _ in range(2)]
        self.blocks = nn.Sequential(*blocks)
        self.relu = nn.ReLU()
        self.score = glorot_init_(nn.Linear(width, 1))

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu(self.blocks(x)).mean(dim=(2, 3))  # (N, width, s, s) -> (N, width)
        return self.score(h).flatten()  # (N, 1) -> (N,)
