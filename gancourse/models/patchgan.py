"""The PatchGAN discriminator (Isola et al. 2017, section 3.2.2 and appendix
6.1.2), and :func:`receptive_field`.

Instead of one logit per image, D outputs a **map of logits**, one per
overlapping patch of the input: a fully convolutional stack whose every output
sees only an ``R x R`` window of the image, its *receptive field*. The L1 term
already gets the low frequencies right; D only has to judge local structure
(texture, sharp edges), which a patch shows as well as the whole image, with
fewer parameters, and at any image size. The paper's default is the 70x70 patch:

    ``C64-C128-C256-C512``, then a convolution to 1 channel,

with 4x4 convolutions (stride 2 in the first three, 1 in the last two), no
BatchNorm on the first layer, LeakyReLU(0.2). At 256 px it outputs ``30 x 30``
logits. ``n_layers`` stride-2 layers (channels doubling up to ``8 * width``)
followed by a stride-1 ``8 * width`` layer and the output layer give receptive
fields of 16, 34, 70, 142 and 286 pixels for ``n_layers`` 1 to 5; 286 covers a
whole 256 px image (the paper's ImageGAN). ``n_layers=0`` is the PixelGAN: 1x1
convolutions, receptive field 1.

For Pix2Pix, D is **conditional**: it sees the input image and a real or a fake
output stacked on the channel axis, ``D(torch.cat([x_src, x], dim=1))``, so
``in_channels = C_src + C``. CycleGAN's D is the same network unconditioned
(``in_channels = C``), usually with ``norm="instance"``.

Outputs are logits (no sigmoid): the losses take logits (see
:mod:`gancourse.losses`). Biases only where no normalisation follows; weights
``N(0, 0.02)`` (appendix 6.2).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gancourse.config import ConfigError
from gancourse.models.dcgan import dcgan_init_
from gancourse.nn.norm import TRANSLATION_NORMS, check_norm, norm_layer

__all__ = ["PatchGANDiscriminator", "receptive_field", "patchgan_output_size"]


def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int]) -> int:
    """Side of the input window one output of a stack of convolutions sees.

    Walking from the input: a layer with kernel ``k`` widens the window by
    ``k - 1`` steps of its input grid, and one step of that grid is ``j`` input
    pixels, ``j`` being the product of the strides of the layers before it:
    ``r = 1 + sum_l (k_l - 1) * prod_{m < l} s_m``. Padding shifts the window but
    does not change its size.

    >>> receptive_field([4, 4, 4, 4, 4], [2, 2, 2, 1, 1])  # the 70x70 PatchGAN
    70
    """
    if len(kernel_sizes) != len(strides):
        raise ValueError("give one stride per kernel size")
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        r += (k - 1) * jump
        jump *= s
    return r


def patchgan_output_size(img_size: int, n_layers: int) -> int:
    """Side of the logit map for an ``img_size`` input: each stride-2 layer
    (kernel 4, padding 1) halves it (rounding down), each of the two stride-1
    ones takes one off (``30`` for 256 px and ``n_layers=3``)."""
    if n_layers == 0:
        return img_size
    s = img_size
    for _ in range(n_layers):
        s = (s + 2 - 4) // 2 + 1
    return s - 2


class PatchGANDiscriminator(nn.Module):
    """``x (N, in_channels, S, S) -> logits (N, 1, S', S')``, one logit per
    patch (Isola et al. 2017, appendix 6.1.2; ``S' = 30`` for ``S = 256``).

    Args:
        in_channels: input channels (Pix2Pix: ``C_src + C``, the pair stacked).
        width: channels of the first layer (``ndf``).
        n_layers: stride-2 layers; 0 for the PixelGAN (1x1 convolutions).
        norm: ``"batch"`` (Pix2Pix), ``"instance"`` (CycleGAN) or ``"none"``;
            never on the first layer.
        img_size: if given, the side the network will see: checked to leave at
            least one output (a 32 px image allows ``n_layers <= 3``).

    Attributes:
        kernel_sizes, strides: of the convolutions, input first.

    The property ``receptive_field`` is the side of the input patch each
    logit judges.
    """

    def __init__(
        self,
        in_channels: int,
        width: int = 64,
        n_layers: int = 3,
        norm: str = "batch",
        img_size: int | None = None,
    ):
        super().__init__()
        check_norm(norm, TRANSLATION_NORMS, "model.norm")
        if n_layers < 0:
            raise ValueError(f"n_layers must be >= 0, got {n_layers}")
        if img_size is not None and patchgan_output_size(img_size, n_layers) < 1:
            ok = max(k for k in range(n_layers) if patchgan_output_size(img_size, k))
            raise ConfigError(
                f"a PatchGAN with n_layers={n_layers} shrinks a {img_size} px image "
                f"to nothing; use model.n_layers <= {ok} at this size"
            )
        self.in_channels, self.n_layers = in_channels, n_layers

        def block(c_in, c_out, k, stride, pad, normed):
            layers = [nn.Conv2d(c_in, c_out, k, stride, pad, bias=not normed)]
            if normed:
                layers.append(norm_layer(norm, c_out))
            layers.append(nn.LeakyReLU(0.2))
            return layers

        normed = norm != "none"
        if n_layers == 0:  # PixelGAN: (N, C, S, S) -> (N, 1, S, S), 1x1 windows
            layers = block(in_channels, width, 1, 1, 0, False)
            layers += block(width, 2 * width, 1, 1, 0, normed)
            layers.append(nn.Conv2d(2 * width, 1, 1))
        else:
            # (N, C, S, S) -> (N, width, S/2, S/2); no norm on the first layer
            layers = block(in_channels, width, 4, 2, 1, False)
            c = width
            for n in range(1, n_layers):  # (N, c, s, s) -> (N, 2c, s/2, s/2)
                c_next = width * min(2**n, 8)
                layers += block(c, c_next, 4, 2, 1, normed)
                c = c_next
            # stride 1: (N, c, s, s) -> (N, 8w, s-1, s-1) -> logits (N, 1, s-2, s-2)
            c_next = width * min(2**n_layers, 8)
            layers += block(c, c_next, 4, 1, 1, normed)
            layers.append(nn.Conv2d(c_next, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        convs = [m for m in self.net if isinstance(m, nn.Conv2d)]
        self.kernel_sizes = tuple(m.kernel_size[0] for m in convs)
        self.strides = tuple(m.stride[0] for m in convs)
        dcgan_init_(self)

    @property
    def receptive_field(self) -> int:
        """Side of the input patch each output logit sees (70 by default)."""
        return receptive_field(self.kernel_sizes, self.strides)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"the PatchGAN expects (N, {self.in_channels}, H, W), got "
                f"{tuple(x.shape)}; a conditional D takes the pair stacked on "
                "channels: D(torch.cat([x_src, x], dim=1))"
            )
        return self.net(x)
