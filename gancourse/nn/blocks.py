"""Convolutional up / down blocks of DCGAN (Radford et al. 2016, section 3).

The guidelines this encodes: strided (transposed) convolutions instead of pooling,
BatchNorm in both networks (but not on G's output nor D's input layer), ReLU in G,
LeakyReLU(0.2) in D.
"""

from __future__ import annotations

from torch import nn

from gancourse.nn.norm import check_norm, norm_layer


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


def down_block(in_ch: int, out_ch: int, norm: str = "batch") -> nn.Sequential:
    """Halves the spatial size: ``(N, in_ch, H, W) -> (N, out_ch, H/2, W/2)``.

    ``Conv2d(kernel 4, stride 2, padding 1)``, a normalisation, LeakyReLU(0.2)
    (DCGAN discriminator). ``norm`` is one of :data:`gancourse.nn.norm.NORMS`:
    ``"batch"`` as in DCGAN, ``"layer"`` or ``"none"`` for a WGAN-GP critic
    (batch statistics break the per-sample gradient penalty), and ``"none"`` for
    the first layer in every case, as in the DCGAN paper.
    """
    check_norm(norm)
    layers: list[nn.Module] = [
        # BatchNorm's shift makes a bias redundant; LayerNorm's and none do not.
        nn.Conv2d(
            in_ch, out_ch, kernel_size=4, stride=2, padding=1, bias=norm != "batch"
        )
    ]
    if norm != "none":
        layers.append(norm_layer(norm, out_ch))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)
