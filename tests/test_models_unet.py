"""The Pix2Pix networks: the U-Net generator and the PatchGAN discriminator
(Isola et al. 2017, appendix 6.1), checked against the paper's layer lists, the
parameter counts the authors' code prints, and receptive fields computed by hand
and measured through gradients."""

import pytest
import torch
from torch import nn

from gancourse.config import ConfigError, model_config
from gancourse.models import (
    PatchGANDiscriminator,
    UNetGenerator,
    build_discriminator,
    build_generator,
    receptive_field,
)
from gancourse.models.patchgan import patchgan_output_size

NORM_TYPES = (nn.BatchNorm2d, nn.InstanceNorm2d)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def convs(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]


# -- U-Net: the paper's unet_256 ------------------------------------------------------
# Appendix 6.1.1, with ngf = 64 and 3 -> 3 channels: encoder C64-C128-C256-C512-
# C512-C512-C512-C512, decoder CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128 (the
# numbers after the skips double them), then a convolution to 3 channels.
ENCODER = [(3, 64), (64, 128), (128, 256), (256, 512)] + [(512, 512)] * 4
DECODER = [(512, 512)] + [(1024, 512)] * 3 + [(1024, 256), (512, 128), (256, 64)]
DECODER += [(128, 3)]
# BatchNorm everywhere except the first and the innermost encoder layers and the
# output layer
BN_CHANNELS = [128, 256, 512, 512, 512, 512] + [512, 512, 512, 512, 256, 128, 64]


def unet_256_count(extra_biases: bool) -> int:
    weights = 16 * sum(a * b for a, b in ENCODER + DECODER)  # 4x4 kernels
    bn = 2 * sum(BN_CHANNELS)  # a scale and a shift per channel
    biases = 3  # the output convolution
    if extra_biases:  # ours: also the first and innermost encoder convolutions
        biases += 64 + 512
    return weights + bn + biases


def test_unet_256_parameter_count_matches_the_paper_layers_and_reference():
    # the authors' code prints "Total number of parameters : 54.414 M" for unet_256;
    # it has no bias on the first and innermost encoder convolutions, we do
    assert unet_256_count(extra_biases=False) == 54_413_955
    G = UNetGenerator(3, 3, img_size=256, width=64, n_down=8)
    assert n_params(G) == unet_256_count(extra_biases=True) == 54_413_955 + 576
    io = [(m.in_channels, m.out_channels) for m in convs(G)]
    assert io == ENCODER + DECODER


def test_unet_encoder_decoder_ablation_has_the_same_layers_without_skips():
    G = UNetGenerator(3, 3, img_size=256, width=64, n_down=8, skips=False)
    dec = [(512, 512)] * 4 + [(512, 256), (256, 128), (128, 64), (64, 3)]
    assert [(m.in_channels, m.out_channels) for m in convs(G)] == ENCODER + dec
    weights = 16 * sum(a * b for a, b in ENCODER + dec)
    assert n_params(G) == weights + 2 * sum(BN_CHANNELS) + 3 + 64 + 512


@pytest.mark.parametrize(
    "size, n_down, batch", [(32, 5, 4), (64, 6, 2), (256, 8, 1), (32, 3, 2)]
)
def test_unet_shapes_and_range(size, n_down, batch):
    torch.manual_seed(0)
    G = UNetGenerator(1, 3, img_size=size, width=8, n_down=n_down)
    x = torch.randn(batch, 1, size, size)
    y = G(x)
    assert y.shape == (batch, 3, size, size)
    assert y.abs().max() <= 1
    # the bottleneck is (size / 2**n_down) wide: 1x1 at the paper's depths
    h = x
    for down in G.down:
        h = down(h)
    assert h.shape[-1] == size // 2**n_down


def test_unet_rejects_sizes_not_divisible_by_2_to_the_n_down():
    with pytest.raises(ConfigError, match=r"divisible by 2\*\*8 = 256.*n_down <= 5"):
        UNetGenerator(1, 1, img_size=32, n_down=8)
    G = UNetGenerator(1, 1, img_size=32, width=4, n_down=5)
    with pytest.raises(ConfigError, match="divisible by 2\\*\\*5"):
        G(torch.zeros(1, 1, 48, 48))
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        G(torch.zeros(1, 3, 32, 32))


def dropout_layers(G):
    return [
        k for k, up in enumerate(G.up) if any(isinstance(m, nn.Dropout) for m in up)
    ]


@pytest.mark.parametrize(
    "n_down, expected", [(8, [0, 1, 2]), (6, [0, 1, 2]), (5, [0, 1, 2]), (2, [0])]
)
def test_dropout_sits_in_the_innermost_decoder_layers_at_every_depth(n_down, expected):
    G = UNetGenerator(1, 1, img_size=2**n_down, width=4, n_down=n_down)
    assert dropout_layers(G) == expected  # never the output layer (the last)
    for k in expected:
        drop = [m for m in G.up[k] if isinstance(m, nn.Dropout)]
        assert drop[0].p == 0.5
        assert isinstance(G.up[k][-2], nn.BatchNorm2d)  # Conv-BatchNorm-Dropout
    assert not dropout_layers(UNetGenerator(1, 1, 32, 4, 5, dropout=0.0))
    assert dropout_layers(UNetGenerator(1, 1, 32, 4, 5, n_dropout=1)) == [0]


def test_unet_norms_activations_and_biases_follow_the_paper():
    G = UNetGenerator(3, 3, img_size=64, width=8, n_down=6)
    # no norm in the first and innermost encoder layers and in the output layer
    has_norm = [any(isinstance(m, NORM_TYPES) for m in b) for b in G.down]
    assert has_norm == [False, True, True, True, True, False]
    has_norm = [any(isinstance(m, NORM_TYPES) for m in b) for b in G.up]
    assert has_norm == [True] * 5 + [False]
    # encoder: LeakyReLU(0.2) before each conv but the first; decoder: ReLU
    assert not isinstance(G.down[0][0], nn.LeakyReLU)
    for b in G.down[1:]:
        assert isinstance(b[0], nn.LeakyReLU) and b[0].negative_slope == 0.2
    assert all(type(b[0]) is nn.ReLU for b in G.up)
    assert isinstance(G.up[-1][-1], nn.Tanh)
    # a bias exactly where no normalisation follows
    for block in [*G.down, *G.up]:
        mods = list(block)
        for i, m in enumerate(mods):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                normed = i + 1 < len(mods) and isinstance(mods[i + 1], NORM_TYPES)
                assert (m.bias is None) == normed
    biased = [m for m in convs(G) if m.bias is not None]
    assert biased == [G.down[0][0], G.down[-1][1], G.up[-1][1]]


def test_unet_instance_norm_and_no_norm_variants():
    G = UNetGenerator(3, 3, 32, 4, 5, norm="instance")
    assert any(isinstance(m, nn.InstanceNorm2d) for m in G.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in G.modules())
    G = UNetGenerator(3, 3, 32, 4, 5, norm="none")
    assert not any(isinstance(m, NORM_TYPES) for m in G.modules())
    assert all(m.bias is not None for m in convs(G))


@torch.no_grad()
def test_unet_initialisation_is_n_0_002():
    G = UNetGenerator(3, 3, 128, 32, 7)
    w = torch.cat([m.weight.flatten() for m in convs(G)])
    assert abs(float(w.mean())) < 1e-3 and float(w.std()) == pytest.approx(
        0.02, rel=0.02
    )
    bn = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    scale = torch.cat([m.weight for m in bn])
    assert float(scale.mean()) == pytest.approx(1.0, abs=0.01)
    assert float(scale.std()) == pytest.approx(0.02, rel=0.15)
    assert all(not m.bias.any() for m in bn)
    assert all(not m.bias.any() for m in convs(G) if m.bias is not None)


def test_skips_carry_the_input_detail_the_encoder_decoder_loses():
    # with the same weights in the shared layers, the two variants differ only by
    # the concatenations: an input change reaching the output through the skips
    torch.manual_seed(0)
    unet = UNetGenerator(1, 1, 32, 8, 5).eval()
    torch.manual_seed(0)
    plain = UNetGenerator(1, 1, 32, 8, 5, skips=False).eval()
    assert n_params(plain) < n_params(unet)
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert not torch.allclose(unet(x), plain(x))
    # the U-Net's output pixel depends on the input nearby more strongly than on
    # the far side, through the full-resolution skip; the bottleneck alone mixes
    # everything
    x = torch.randn(1, 1, 32, 32, requires_grad=True)
    unet(x)[0, 0, 3, 3].backward()
    g = x.grad[0, 0].abs()
    assert g[:8, :8].sum() > 10 * g[24:, 24:].sum()


# -- PatchGAN ---------------------------------------------------------------------
def test_receptive_field_by_hand():
    assert receptive_field([1, 1, 1], [1, 1, 1]) == 1
    assert receptive_field([3, 3], [1, 1]) == 5  # two 3x3 convolutions
    assert receptive_field([2, 2], [2, 2]) == 4
    assert receptive_field([3, 3], [2, 1]) == 7  # 3, then 2 more steps of 2 px
    # the 70x70 PatchGAN: 4x4 kernels, strides 2, 2, 2, 1, 1 (the paper's figure)
    assert receptive_field([4] * 5, [2, 2, 2, 1, 1]) == 70
    with pytest.raises(ValueError):
        receptive_field([4, 4], [2])


# working backwards from one output: r -> (r - 1) * stride + kernel, per layer
FIELDS = {0: 1, 1: 16, 2: 34, 3: 70, 4: 142, 5: 286}


@pytest.mark.parametrize("n_layers", sorted(FIELDS))
def test_patchgan_receptive_field_property(n_layers):
    D = PatchGANDiscriminator(6, 8, n_layers, "none")
    assert D.receptive_field == FIELDS[n_layers]


def gradient_support(D, size, channels=2):
    """Rows and columns of the input that one central output logit depends on."""
    x = torch.randn(1, channels, size, size, dtype=torch.float64, requires_grad=True)
    out = D(x)
    i = out.shape[-1] // 2
    out[0, 0, i, i].backward()
    g = x.grad[0].abs().sum(0)
    rows = torch.nonzero(g.sum(1)).flatten()
    cols = torch.nonzero(g.sum(0)).flatten()
    return rows, cols


@pytest.mark.parametrize(
    "n_layers, size", [(0, 8), (1, 32), (2, 64), (3, 128), (4, 256), (5, 512)]
)
def test_patchgan_receptive_field_measured_by_gradients(n_layers, size):
    torch.manual_seed(0)
    D = PatchGANDiscriminator(2, 4, n_layers, "none").double()
    rows, cols = gradient_support(D, size)
    for idx in (rows, cols):
        assert idx.min() > 0 and idx.max() < size - 1  # not cut off by the border
        assert idx.max() - idx.min() + 1 == FIELDS[n_layers]
        assert len(idx) == FIELDS[n_layers]  # no gaps


def test_batchnorm_measures_the_field_in_eval_mode_only():
    torch.manual_seed(0)
    D = PatchGANDiscriminator(2, 4, 3, "batch").double().eval()
    rows, _ = gradient_support(D, 128)
    assert len(rows) == 70
    # in training mode the batch statistics are means over every position, so
    # every logit depends on the whole image; instance statistics too
    rows, _ = gradient_support(D.train(), 128)
    assert len(rows) == 128
    D = PatchGANDiscriminator(2, 4, 3, "instance").double()
    rows, _ = gradient_support(D, 128)
    assert len(rows) == 128


def test_patchgan_70_layers_output_and_parameter_count():
    D = PatchGANDiscriminator(6)  # Pix2Pix: 3 + 3 channels, ndf 64, n_layers 3
    io = [(m.in_channels, m.out_channels, m.stride[0]) for m in convs(D)]
    assert io == [(6, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1), (512, 1, 1)]
    # weights (4x4) + biases of the first and last convolutions + BatchNorm of the
    # three middle layers; the authors' code prints 2.769 M for this D
    weights = 16 * (6 * 64 + 64 * 128 + 128 * 256 + 256 * 512 + 512 * 1)
    count = weights + 64 + 1 + 2 * (128 + 256 + 512)
    assert n_params(D) == count == 2_768_705
    norms = [type(m) for m in D.net if isinstance(m, NORM_TYPES)]
    assert norms == [nn.BatchNorm2d] * 3  # none on the first layer
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())  # logits
    acts = [m for m in D.net if isinstance(m, nn.LeakyReLU)]
    assert len(acts) == 4 and all(a.negative_slope == 0.2 for a in acts)
    small = PatchGANDiscriminator(6, width=4)
    assert small(torch.randn(1, 6, 256, 256)).shape == (1, 1, 30, 30)


def test_patchgan_sizes_and_errors():
    assert patchgan_output_size(256, 3) == 30
    assert patchgan_output_size(32, 1) == 14
    assert PatchGANDiscriminator(2, 4, 1, "none")(torch.zeros(3, 2, 32, 32)).shape == (
        3,
        1,
        14,
        14,
    )
    assert PatchGANDiscriminator(2, 4, 0)(torch.zeros(1, 2, 9, 9)).shape == (
        1,
        1,
        9,
        9,
    )
    with pytest.raises(ConfigError, match="n_layers <= 3"):
        PatchGANDiscriminator(2, 4, 4, img_size=32)
    D = PatchGANDiscriminator(2, 4, 2)
    with pytest.raises(ValueError, match=r"torch.cat\(\[x_src, x\], dim=1\)"):
        D(torch.zeros(1, 1, 32, 32))
    for norm in ("instance", "none"):
        D = PatchGANDiscriminator(2, 4, 3, norm)
        assert any(isinstance(m, nn.InstanceNorm2d) for m in D.modules()) == (
            norm == "instance"
        )
        assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
        assert all(
            (m.bias is None) == (norm == "instance" and 0 < i < 4)
            for i, m in enumerate(convs(D))
        )


# -- the registry -----------------------------------------------------------------
def test_unet_arch_builds_from_config_and_refuses_mismatches():
    m = model_config(
        "unet", img_channels=3, img_size=32, g_width=8, d_width=8, n_down=5
    )
    G = build_generator(m, (3, 32, 32), src_shape=(1, 32, 32))
    assert G(torch.zeros(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    D = build_discriminator(m, (3, 32, 32), src_shape=(1, 32, 32))
    assert D.in_channels == 4 and D.receptive_field == 70
    D = build_discriminator(m, (3, 32, 32))  # unconditional (CycleGAN)
    assert D.in_channels == 3
    with pytest.raises(ConfigError, match="method.name=pix2pix"):
        build_generator(m, (3, 32, 32))
    with pytest.raises(ConfigError, match="model.arch=unet"):
        build_generator(
            model_config("dcgan", img_size=32), (1, 32, 32), src_shape=(1, 32, 32)
        )
    with pytest.raises(ConfigError, match="same size"):
        build_generator(m, (3, 32, 32), src_shape=(1, 64, 64))
    with pytest.raises(ConfigError, match="img_channels=3"):
        build_generator(m, (1, 32, 32), src_shape=(1, 32, 32))
    with pytest.raises(ConfigError, match="n_down <= 5"):
        build_generator(
            model_config("unet", img_channels=3, img_size=32, n_down=8),
            (3, 32, 32),
            src_shape=(3, 32, 32),
        )


def test_unet_config_keys_and_values():
    from gancourse.config import Config

    cfg = Config().override({"model.arch": "unet", "model.n_down": "5"})
    assert cfg.model.n_down == 5 and cfg.model.skips is True
    cfg = cfg.override(["model.skips=false", "model.norm=instance", "model.dropout=0"])
    assert (cfg.model.skips, cfg.model.norm, cfg.model.dropout) == (
        False,
        "instance",
        0.0,
    )
    with pytest.raises(ConfigError, match="valid keys: .*n_down.*n_layers"):
        cfg.override({"model.ngf": 32})
    for bad in ("model.norm=layer", "model.dropout=1", "model.n_layers=-1"):
        with pytest.raises(ConfigError):
            cfg.override([bad])
