"""DCGAN generator and discriminator (Radford et al. 2016), sized by config.

The paper's guidelines (section 3), all encoded here:

1. no pooling: strided convolutions in D, fractionally strided (transposed) ones in G;
2. BatchNorm in both, except G's output layer and D's input layer;
3. no fully connected hidden layers;
4. ReLU in G with Tanh at the output; LeakyReLU(0.2) in D;
5. weights from ``N(0, 0.02)`` (section 4), see :func:`dcgan_init_`.

Sizes: the paper's 64 px network starts G at 4x4 with ``8 * width`` channels and
doubles the side four times. For 32 px we double three times from 4x4 and for
28 px (MNIST) twice from 7x7; channels halve at every doubling, so
``width`` is always the channel count just before the output layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from gancourse.config import ConfigError, ModelConfig
from gancourse.nn.blocks import down_block, up_block


@dataclass(frozen=True)
class DCGANConfig(ModelConfig):
    """``model.arch=dcgan``.

    Attributes:
        img_channels: image channels ``C`` (1 for MNIST, 3 for colour).
        img_size: image side ``H = W``: 28, 32 or 64.
        g_width: channels of G's last hidden layer (doubling towards the input).
        d_width: channels of D's first layer (doubling towards the output).
        d_norm: D's hidden normalisation: ``"batch"`` (DCGAN), ``"layer"`` or
            ``"none"``. A WGAN-GP critic must not use ``"batch"``: batch statistics
            break the per-sample gradient penalty (Gulrajani et al. 2017, section
            4). See :mod:`gancourse.nn.norm`.
    """

    arch: str = "dcgan"
    z_dim: int = 100
    img_channels: int = 1
    img_size: int = 28
    g_width: int = 64
    d_width: int = 64
    d_norm: str = "batch"


# image side -> (side of the first feature map, number of doublings)
_GEOMETRY = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def _geometry(img_size: int) -> tuple[int, int]:
    if img_size not in _GEOMETRY:
        raise ConfigError(
            f"DCGAN supports img_size in {sorted(_GEOMETRY)}, got {img_size}; "
            "set model.img_size to one of them"
        )
    return _GEOMETRY[img_size]


def dcgan_init_(module: nn.Module) -> None:
    """In place: conv weights ~ N(0, 0.02); BatchNorm weight ~ N(1, 0.02), bias 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """``z (N, z_dim) -> x (N, C, S, S)`` in ``[-1, 1]``, ``S = img_size``.

    For ``img_size=28, width=64``: ``z -> (N, 128, 7, 7) -> (N, 64, 14, 14) ->
    (N, C, 28, 28)``. For 64 px: ``(N, 512, 4, 4) -> ... -> (N, 64, 32, 32) ->
    (N, C, 64, 64)``, the paper's network.
    """

    def __init__(
        self,
        z_dim: int = 100,
        img_channels: int = 1,
        img_size: int = 28,
        width: int = 64,
    ):
        super().__init__()
        self.z_dim = z_dim
        s0, n_up = _geometry(img_size)
        ch = width * 2 ** (n_up - 1)
        # (N, z_dim, 1, 1) -> (N, ch, s0, s0): a transposed conv with kernel s0 is the
        # paper's "project and reshape" without a fully connected layer.
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(
                z_dim, ch, kernel_size=s0, stride=1, padding=0, bias=False
            ),
            nn.BatchNorm2d(ch),
            nn.ReLU(inplace=True),
        ]
        for _ in range(n_up - 1):
            layers.append(up_block(ch, ch // 2))  # (N, ch, s, s) -> (N, ch/2, 2s, 2s)
            ch //= 2
        # (N, width, S/2, S/2) -> (N, C, S, S); no BatchNorm on the output layer.
        layers += [
            nn.ConvTranspose2d(ch, img_channels, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        ]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class DCGANDiscriminator(nn.Module):
    """``x (N, C, S, S) -> logits (N,)``; the mirror image of the generator.

    For 28 px, ``width=64``: ``(N, 1, 28, 28) -> (N, 64, 14, 14) -> (N, 128, 7, 7)
    -> (N,)``. The last layer is a convolution with kernel ``s0`` and no sigmoid.

    ``norm`` (``"batch"``, ``"layer"`` or ``"none"``, see
    :mod:`gancourse.nn.norm`) normalises the hidden layers: ``"batch"`` is the
    DCGAN paper's choice; a WGAN-GP critic uses ``"layer"`` or ``"none"``.
    """

    def __init__(
        self,
        img_channels: int = 1,
        img_size: int = 28,
        width: int = 64,
        norm: str = "batch",
    ):
        super().__init__()
        s0, n_down = _geometry(img_size)
        ch = width
        # no normalisation on the input layer (guideline 2)
        layers: list[nn.Module] = [down_block(img_channels, ch, norm="none")]
        for _ in range(n_down - 1):
            # (N, ch, s, s) -> (N, 2ch, s/2, s/2)
            layers.append(down_block(ch, ch * 2, norm=norm))
            ch *= 2
        layers.append(nn.Conv2d(ch, 1, kernel_size=s0, stride=1, padding=0))
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).flatten()  # (N, 1, 1, 1) -> (N,)
