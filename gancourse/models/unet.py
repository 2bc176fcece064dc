"""The U-Net generator of Pix2Pix (Isola et al. 2017, section 3.2.1 and appendix
6.1.1), and its config (``model.arch=unet``, whose discriminator is the PatchGAN
of :mod:`gancourse.models.patchgan`).

The generator translates an image into an image of the same size,
``G: x_src (N, C_in, S, S) -> x_fake (N, C_out, S, S)`` in ``[-1, 1]``. Its
encoder halves the side ``n_down`` times with 4x4 stride-2 convolutions; its
decoder doubles it back with 4x4 stride-2 transposed convolutions. A **skip
connection** concatenates encoder layer ``i`` to the input of the decoder layer
that mirrors it, so low-level detail (the edges of an edge map) reaches the output
without squeezing through the bottleneck (Isola et al., figure 3).

In the paper's notation (``Ck``: Conv-BatchNorm-ReLU with ``k`` filters, ``CDk``:
Conv-BatchNorm-Dropout-ReLU with dropout 0.5), the 256 px network (``n_down = 8``,
``width = ngf = 64``) is

* encoder ``C64-C128-C256-C512-C512-C512-C512-C512``: LeakyReLU(0.2), no BatchNorm
  on the first layer (nor, as in the authors' code, on the innermost one: its
  output is 1x1, and batch statistics of one position are those of one number
  per sample);
* decoder ``CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128`` (input channels
  doubled by the skips), ReLU, then a convolution to ``C_out`` channels and
  ``Tanh``.

Channels double from ``width`` up to ``8 * width`` and stay there. Other sizes
use other depths: ``n_down = 5`` at 32 px, 6 at 64 px, 7 at 128 px (the authors'
``unet_128``), 8 at 256 px (``unet_256``); the side must be divisible by
``2 ** n_down``. A smaller ``n_down`` leaves a bottleneck larger than 1x1.

Choices, and where they come from:

* **Dropout** (the only noise: Pix2Pix's G has no ``z``, section 3.1) follows the
  paper's text: the first ``n_dropout = 3`` decoder layers, counted from the
  innermost, at every depth (never the output layer, so at most ``n_down - 1``).
  The authors' code puts it one block further out (decoder blocks 2-4, the ``8 *
  width`` blocks between the innermost block and the ``4 * width`` one): that is
  ``n_down - 5`` dropout blocks, at most 3 (1 at ``n_down = 6``, 2 at 7, 3 at 8),
  and *no* dropout at ``n_down <= 5``: our
  32 px network would then have no noise at all, and the chapter's demonstration
  that dropout is the (weak) noise of Pix2Pix would have nothing to show.
* **Biases** only where no normalisation follows (BatchNorm's or InstanceNorm's
  mean subtraction removes a bias): the first and the innermost encoder
  convolutions and the output convolution. This is our rule, not the authors':
  their code sets ``bias=False`` on every convolution of a BatchNorm network
  except the output one, including the first and innermost encoder convolutions
  (576 parameters fewer for ``unet_256``: 54,413,955 there, 54,414,531 here).
* **Weights** ``N(0, 0.02)`` (appendix 6.2); BatchNorm scales ``N(1, 0.02)`` and
  biases 0 as in the authors' ``init_weights``.
* The innermost encoder layer without BatchNorm is from the authors' code, not
  the appendix.
* ``skips=False`` is the paper's encoder-decoder ablation (table 2, figure 4):
  the same layers without the concatenations.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gancourse.config import ConfigError, ModelConfig
from gancourse.models.dcgan import dcgan_init_
from gancourse.nn.norm import TRANSLATION_NORMS, check_norm, norm_layer

__all__ = ["UNetConfig", "UNetGenerator", "unet_channels"]


@dataclass(frozen=True)
class UNetConfig(ModelConfig):
    """``model.arch=unet``: the Pix2Pix U-Net G and the PatchGAN D.

    The input image's channels come from the data (``x_src``); ``img_channels``
    are those of the target ``x`` and of G's output.

    Attributes:
        z_dim: unused: Pix2Pix's generator has no ``z`` (its noise is dropout).
        img_channels: channels of the target images ``x`` (and of G's output).
        img_size: image side ``S`` (``x`` and ``x_src`` are ``S x S``).
        g_width: G's first encoder layer's channels (the authors' ``ngf``; 64).
        d_width: D's first layer's channels (the authors' ``ndf``; 64).
        n_down: G's downsamplings; ``S`` must be divisible by ``2 ** n_down``
            (8 at 256 px gives a 1x1 bottleneck; 5 at 32 px).
        n_layers: D's stride-2 layers: receptive field 16, 34, 70 (3, the paper's
            default), 142, 286 for 1..5; 0 is the 1x1 PixelGAN.
        norm: ``"batch"`` (the paper), ``"instance"`` or ``"none"``, in G and D.
        dropout: dropout probability in G's decoder (0.5; 0 switches it off).
        n_dropout: decoder layers with dropout, counted from the innermost (3).
        skips: U-Net skip connections (``False``: the encoder-decoder ablation).
    """

    arch: str = "unet"
    img_channels: int = 3
    img_size: int = 256
    g_width: int = 64
    d_width: int = 64
    n_down: int = 8
    n_layers: int = 3
    norm: str = "batch"
    dropout: float = 0.5
    n_dropout: int = 3
    skips: bool = True

    def __post_init__(self):
        super().__post_init__()
        for key in ("img_channels", "img_size", "g_width", "d_width", "n_down"):
            v = getattr(self, key)
            if v < 1:
                raise ConfigError(f"model.{key} must be >= 1, got {v}")
        if self.n_layers < 0:
            raise ConfigError(f"model.n_layers must be >= 0, got {self.n_layers}")
        if self.norm not in TRANSLATION_NORMS:
            raise ConfigError(
                f"unknown model.norm {self.norm!r}; choose one of "
                f"{', '.join(TRANSLATION_NORMS)}"
            )
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout}")
        if self.n_dropout < 0:
            raise ConfigError(f"model.n_dropout must be >= 0, got {self.n_dropout}")


def unet_channels(width: int, n_down: int) -> list[int]:
    """Channels of the ``n_down`` encoder outputs: ``width * min(2**i, 8)``, e.g.
    ``[64, 128, 256, 512, 512, 512, 512, 512]`` for ``unet_256``."""
    return [width * min(2**i, 8) for i in range(n_down)]


def _check_divisible(size: int, n_down: int, what: str) -> None:
    if n_down < 1 or size % 2**n_down:
        largest = (size & -size).bit_length() - 1  # the largest k with 2**k | size
        raise ConfigError(
            f"the U-Net halves the image n_down={n_down} times, so the {what} must "
            f"be divisible by 2**{n_down} = {2**n_down}; got {size}. Use "
            f"model.n_down <= {largest} (5 at 32 px, 6 at 64 px, 8 at 256 px)"
        )


class UNetGenerator(nn.Module):
    """``x_src (N, in_channels, S, S) -> x_fake (N, out_channels, S, S)`` in
    ``[-1, 1]``: the Pix2Pix U-Net (Isola et al. 2017, appendix 6.1.1).

    Args:
        in_channels: channels of the input image ``x_src``.
        out_channels: channels of the output image.
        img_size: ``S``; must be divisible by ``2 ** n_down``.
        width: channels of the first encoder layer (``ngf``).
        n_down: number of stride-2 encoder layers (= decoder layers).
        norm: ``"batch"``, ``"instance"`` or ``"none"``.
        dropout: dropout probability (0: none).
        n_dropout: decoder layers with dropout, counted from the innermost
            (capped at ``n_down - 1``: the output layer has none).
        skips: concatenate encoder features into the decoder (U-Net); ``False``
            gives the plain encoder-decoder.

    Attributes:
        down: the encoder layers, outermost first; ``down[i]`` maps
            ``(N, ., S / 2**i, .) -> (N, channels[i], S / 2**(i+1), .)``.
        up: the decoder layers, **innermost first**; ``up[k]`` produces the side
            ``S / 2**(n_down - 1 - k)``.
        channels: the encoder outputs' channels (``unet_channels(width, n_down)``).
        dropout_layers: indices ``k`` of the ``up`` layers with dropout.
    """

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        img_size: int = 256,
        width: int = 64,
        n_down: int = 8,
        norm: str = "batch",
        dropout: float = 0.5,
        n_dropout: int = 3,
        skips: bool = True,
    ):
        super().__init__()
        check_norm(norm, TRANSLATION_NORMS, "model.norm")
        _check_divisible(img_size, n_down, "image side")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.img_size, self.n_down, self.skips = img_size, n_down, skips
        ch = self.channels = unet_channels(width, n_down)
        n = n_down
        self.dropout_layers = tuple(range(min(n_dropout, n - 1))) if dropout > 0 else ()

        self.down = nn.ModuleList()
        for i in range(n):
            outermost, innermost = i == 0, i == n - 1
            normed = norm != "none" and not (outermost or innermost)
            layers: list[nn.Module] = [] if outermost else [nn.LeakyReLU(0.2)]
            # (N, c_in, s, s) -> (N, ch[i], s/2, s/2)
            c_in = in_channels if outermost else ch[i - 1]
            layers.append(nn.Conv2d(c_in, ch[i], 4, 2, 1, bias=not normed))
            if normed:
                layers.append(norm_layer(norm, ch[i]))
            self.down.append(nn.Sequential(*layers))

        self.up = nn.ModuleList()
        for k in range(n):
            i = n - 1 - k  # the encoder level this decoder layer mirrors
            outermost, innermost = i == 0, i == n - 1
            # the innermost layer reads the bottleneck alone; the others read the
            # layer below concatenated with the skip of the same side
            c_in = ch[i] if innermost or not skips else 2 * ch[i]
            c_out = out_channels if outermost else ch[i - 1]
            normed = norm != "none" and not outermost
            # (N, c_in, s, s) -> (N, c_out, 2s, 2s)
            layers = [
                nn.ReLU(),
                nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=not normed),
            ]
            if normed:
                layers.append(norm_layer(norm, c_out))
            if k in self.dropout_layers:
                layers.append(nn.Dropout(dropout))
            if outermost:
                layers.append(nn.Tanh())
            self.up.append(nn.Sequential(*layers))
        dcgan_init_(self)

    def forward(self, x_src: Tensor) -> Tensor:
        if x_src.dim() != 4 or x_src.shape[1] != self.in_channels:
            raise ValueError(
                f"the U-Net expects images (N, {self.in_channels}, H, W); got "
                f"{tuple(x_src.shape)}"
            )
        for side in x_src.shape[-2:]:
            _check_divisible(int(side), self.n_down, "input's height and width")
        features = []
        h = x_src
        for down in self.down:  # (N, C, S, S) -> ... -> (N, 8w, S/2**n, S/2**n)
            h = down(h)
            features.append(h)
        for k, up in enumerate(self.up):
            i = self.n_down - 1 - k
            if k > 0 and self.skips:
                # (N, ch[i], s, s) twice -> (N, 2 ch[i], s, s)
                h = torch.cat([features[i], h], dim=1)
            h = up(h)  # (N, ., s, s) -> (N, ch[i-1] or C_out, 2s, 2s)
        return h
