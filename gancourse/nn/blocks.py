"""Convolutional up / down blocks of DCGAN (Radford et al. 2016, section 3).

The guidelines this encodes: strided (transposed) convolutions instead of pooling,
BatchNorm in both networks (but not on G's output nor D's input layer), ReLU in G,
LeakyReLU(0.2) in D.
"""

from __future__ import annotations

from torch import nn


def up_block(in_ch: int, out_ch: int) -> nn.Sequential:
    """Doubles the spatial size: ``(N, in_ch, H, W) -> (N, out_ch, 2H, 2W)``.

    ``ConvTranspose2d(kernel 4, stride 2, padding 1)`` gives
    ``(H - 1) * 2 - 2 * 1 + 4 = 2H``; then BatchNorm and ReLU (DCGAN generator).
    The convolution has no bias: BatchNorm's shift makes it redundant.
    """
    return nn.Sequential(
        nn.ConvTranspose2d(
            in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=False
        ),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


def down_block(in_ch: int, out_ch: int, norm: bool = True) -> nn.Sequential:
    """Halves the spatial size: ``(N, in_ch, H, W) -> (N, out_ch, H/2, W/2)``.

    ``Conv2d(kernel 4, stride 2, padding 1)``, optional BatchNorm, LeakyReLU(0.2)
    (DCGAN discriminator). ``norm=False`` for the first layer, as in the paper.
    """
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=not norm)
    ]
    if norm:
        layers.append(nn.BatchNorm2d(out_ch))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)
