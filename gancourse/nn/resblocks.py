"""Pre-activation residual blocks of the WGAN-GP ResNets (Gulrajani et al. 2017).

The CIFAR-10 experiment of "Improved Training of Wasserstein GANs" (appendix F,
and the authors' ``gan_cifar_resnet.py``) builds G and the critic from residual
blocks ``x -> shortcut(x) + residual(x)`` with two 3x3 convolutions, each preceded
by a normalisation and a ReLU (the pre-activation order of He et al. 2016):

* :class:`ResBlockUp` (generator): nearest-neighbour upsampling x2 before the first
  convolution; shortcut: upsample then 1x1 convolution.
* :class:`ResBlockDown` (critic): 2x2 mean pooling after the second convolution;
  shortcut: 1x1 convolution then mean pooling.
* :class:`ResBlock` (critic): no resampling; identity shortcut when the channel
  count stays the same, else a 1x1 convolution.
* :class:`FirstResBlockDown` (critic input, the code's ``OptimizedResBlockDisc1``):
  no normalisation or ReLU before the first convolution, since its input is the
  image itself; shortcut: mean pooling then 1x1 convolution.

Every convolution has a bias, as in the authors' code (the biases in front of a
BatchNorm are redundant, but keeping them keeps the parameter count of the paper's
networks). Weights are initialised as in that code (its ``tflib``): the
convolutions of the residual path uniform with variance ``4 / (fan_in + fan_out)``
(Glorot with a ReLU gain of ``sqrt(2)``), the 1x1 shortcuts with the plain Glorot
variance ``2 / (fan_in + fan_out)``, all biases zero; see :func:`glorot_init_`.

``norm`` is one of :data:`gancourse.nn.norm.NORMS`. The paper's critic uses
``"none"``: batch statistics would make the score of one sample depend on the
others and break the per-sample gradient penalty (section 4).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from gancourse.nn.cond import ConditionalBatchNorm2d
from gancourse.nn.norm import check_norm, norm_layer

__all__ = [
    "Residual",
    "ResBlockUp",
    "ResBlockDown",
    "ResBlock",
    "FirstResBlockDown",
    "CondResBlockUp",
    "glorot_init_",
]

RELU_GAIN = math.sqrt(2.0)


def glorot_init_(layer: nn.Conv2d | nn.Linear, gain: float = 1.0) -> nn.Module:
    """In place: weight ``U(-a, a)`` with variance ``gain**2 * 2 / (fan_in +
    fan_out)``, bias 0 (Glorot & Bengio 2010; ``gain=sqrt(2)`` for a ReLU path).

    ``fan_in = in_channels * k * k`` and ``fan_out = out_channels * k * k`` for a
    ``k x k`` convolution, as in ``tflib.ops.conv2d`` of the WGAN-GP code.
    """
    nn.init.xavier_uniform_(layer.weight, gain=gain)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def _conv3x3(in_ch: int, out_ch: int) -> nn.Conv2d:
    # (N, in_ch, H, W) -> (N, out_ch, H, W): padding 1 keeps the size
    conv = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1)
    return glorot_init_(conv, gain=RELU_GAIN)


def _conv1x1(in_ch: int, out_ch: int) -> nn.Conv2d:
    return glorot_init_(nn.Conv2d(in_ch, out_ch, kernel_size=1))


def _norm_relu(norm: str, channels: int) -> list[nn.Module]:
    # Not in place: the first ReLU of a block may see the block's input, which the
    # shortcut still needs.
    layers = [] if norm == "none" else [norm_layer(norm, channels)]
    return [*layers, nn.ReLU()]


class Residual(nn.Module):
    """A residual block ``x -> shortcut(x) + residual(x)`` (He et al. 2016);
    subclasses fill both paths."""

    shortcut: nn.Module
    residual: nn.Module

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.residual(x)


class ResBlockUp(Residual):
    """Generator block: ``(N, in_ch, H, W) -> (N, out_ch, 2H, 2W)``.

    Residual: norm, ReLU, nearest upsample x2, conv 3x3, norm, ReLU, conv 3x3.
    Shortcut: nearest upsample x2, conv 1x1. ``norm="batch"`` in the paper.
    """

    def __init__(self, in_ch: int, out_ch: int, norm: str = "batch"):
        super().__init__()
        check_norm(norm)
        self.residual = nn.Sequential(
            *_norm_relu(norm, in_ch),
            nn.Upsample(scale_factor=2, mode="nearest"),  # (N, C, H, W) -> 2H, 2W
            _conv3x3(in_ch, out_ch),
            *_norm_relu(norm, out_ch),
            _conv3x3(out_ch, out_ch),
        )
        self.shortcut = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"),
            _conv1x1(in_ch, out_ch),  # (N, in_ch, 2H, 2W) -> (N, out_ch, 2H, 2W)
        )


class ResBlockDown(Residual):
    """Critic block: ``(N, in_ch, H, W) -> (N, out_ch, H/2, W/2)`` (``H`` even).

    Residual: norm, ReLU, conv 3x3 (``in_ch -> in_ch``), norm, ReLU, conv 3x3
    (``in_ch -> out_ch``), mean pool 2x2. Shortcut: conv 1x1, mean pool 2x2.
    """

    def __init__(self, in_ch: int, out_ch: int, norm: str = "none"):
        super().__init__()
        check_norm(norm)
        self.residual = nn.Sequential(
            *_norm_relu(norm, in_ch),
            _conv3x3(in_ch, in_ch),
            *_norm_relu(norm, in_ch),
            _conv3x3(in_ch, out_ch),
            nn.AvgPool2d(2),  # (N, out_ch, H, W) -> (N, out_ch, H/2, W/2)
        )
        self.shortcut = nn.Sequential(_conv1x1(in_ch, out_ch), nn.AvgPool2d(2))


class ResBlock(Residual):
    """Critic block without resampling: ``(N, in_ch, H, W) -> (N, out_ch, H, W)``.

    Residual: norm, ReLU, conv 3x3, norm, ReLU, conv 3x3. Shortcut: the identity
    when ``in_ch == out_ch`` (no parameters), else a conv 1x1.
    """

    def __init__(self, in_ch: int, out_ch: int, norm: str = "none"):
        super().__init__()
        check_norm(norm)
        self.residual = nn.Sequential(
            *_norm_relu(norm, in_ch),
            _conv3x3(in_ch, out_ch),
            *_norm_relu(norm, out_ch),
            _conv3x3(out_ch, out_ch),
        )
        self.shortcut = nn.Identity() if in_ch == out_ch else _conv1x1(in_ch, out_ch)


class FirstResBlockDown(Residual):
    """The critic's first block: ``(N, C, H, W) -> (N, out_ch, H/2, W/2)``.

    Residual: conv 3x3, ReLU, conv 3x3, mean pool 2x2 (no activation on the raw
    image). Shortcut: mean pool 2x2, then conv 1x1. No normalisation in either
    path, as in the authors' ``OptimizedResBlockDisc1``.
    """

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.residual = nn.Sequential(
            _conv3x3(in_ch, out_ch),
            nn.ReLU(inplace=True),  # acts on the conv's output, not on the image
            _conv3x3(out_ch, out_ch),
            nn.AvgPool2d(2),  # (N, out_ch, H, W) -> (N, out_ch, H/2, W/2)
        )
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), _conv1x1(in_ch, out_ch))


class CondResBlockUp(nn.Module):
    """:class:`ResBlockUp` with conditional BatchNorm: ``x (N, in_ch, H, W)`` and a
    conditioning vector ``c (N, cond_dim)`` -> ``(N, out_ch, 2H, 2W)``.

    The generator block of Miyato & Koyama (2018) (their code's ``Block`` with
    ``n_classes > 0``): both BatchNorms of the residual path become
    ``ConditionalBatchNorm2d`` (:mod:`gancourse.nn.cond`) on ``c``; convolutions,
    shortcut and initialisation are those of :class:`ResBlockUp`.
    """

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int):
        super().__init__()
        self.bn1 = ConditionalBatchNorm2d(in_ch, cond_dim)
        self.conv1 = _conv3x3(in_ch, out_ch)
        self.bn2 = ConditionalBatchNorm2d(out_ch, cond_dim)
        self.conv2 = _conv3x3(out_ch, out_ch)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.shortcut = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), _conv1x1(in_ch, out_ch)
        )

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        h = self.conv1(self.up(torch.relu(self.bn1(x, c))))  # (N, out_ch, 2H, 2W)
        h = self.conv2(torch.relu(self.bn2(h, c)))
        return self.shortcut(x) + h
