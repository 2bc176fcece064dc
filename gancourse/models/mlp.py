"""Fully connected G and D: the seed snippets' MNIST GAN, corrected.

Corrections to the seed code, each a lesson of chapter 1:

* D ends in a ``Linear(., 1)`` and returns **logits**; the loss applies the
  sigmoid inside ``softplus`` (:mod:`gancourse.losses`). The seed's ``Sigmoid``
  followed by ``BCELoss`` loses precision once D is confident.
* G ends in ``Tanh`` for images, so its outputs live in ``[-1, 1]`` like the data
  (``Normalize((0.5,), (0.5,))``); the seed normalised to ``[0, 1]`` elsewhere.
  For 2-D toy points G's output is linear (the ring has radius 2).

Architecture in the spirit of Goodfellow et al. (2014), with LeakyReLU(0.2)
hidden units as in most later MLP GANs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import Tensor, nn

from gancourse.config import ModelConfig


@dataclass(frozen=True)
class MLPConfig(ModelConfig):
    """``model.arch=mlp``: the sample shape comes from the data.

    Attributes:
        g_width: G's hidden width (layers ``z_dim -> w -> 2w -> out``).
        d_width: D's hidden width (layers ``in -> 2w -> w -> 1``).
    """

    arch: str = "mlp"
    z_dim: int = 64
    g_width: int = 256
    d_width: int = 256


class MLPGenerator(nn.Module):
    """``z (N, z_dim) -> x (N, *out_shape)``.

    Args:
        z_dim: latent dimension.
        out_shape: ``(C, H, W)`` for images (output in ``[-1, 1]`` via Tanh) or
            ``(D,)`` for points (linear output).
        width: hidden width; layers ``z_dim -> width -> 2 width -> prod(out_shape)``.
    """

    def __init__(self, z_dim: int, out_shape: tuple[int, ...], width: int = 256):
        super().__init__()
        self.z_dim = z_dim
        self.out_shape = tuple(out_shape)
        n_out = math.prod(self.out_shape)
        self.net = nn.Sequential(
            nn.Linear(z_dim, width),  # (N, z_dim) -> (N, width)
            nn.LeakyReLU(0.2),
            nn.Linear(width, 2 * width),  # (N, width) -> (N, 2 width)
            nn.LeakyReLU(0.2),
            nn.Linear(2 * width, n_out),  # (N, 2 width) -> (N, C*H*W)
        )
        self.out_act = nn.Tanh() if len(self.out_shape) == 3 else nn.Identity()

    def forward(self, z: Tensor) -> Tensor:
        x = self.out_act(self.net(z))
        return x.view(z.shape[0], *self.out_shape)


class MLPDiscriminator(nn.Module):
    """``x (N, *in_shape) -> logits (N,)`` (no sigmoid: see the module docstring).

    Args:
        in_shape: ``(C, H, W)`` or ``(D,)``.
        width: layers are ``prod(in_shape) -> 2 width -> width -> 1``.
    """

    def __init__(self, in_shape: tuple[int, ...], width: int = 256):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.net = nn.Sequential(
            nn.Flatten(),  # (N, C, H, W) -> (N, C*H*W)
            nn.Linear(math.prod(self.in_shape), 2 * width),
            nn.LeakyReLU(0.2),
            nn.Linear(2 * width, width),
            nn.LeakyReLU(0.2),
            nn.Linear(width, 1),  # (N, width) -> (N, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)[:, 0]


__all__ = ["MLPGenerator", "MLPDiscriminator"]
