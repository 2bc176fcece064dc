"""Shapes of every preset's networks and the DCGAN sizes."""

import pytest
import torch
from torch import nn

from gancourse.config import PRESETS
from gancourse.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    build_discriminator,
    build_generator,
)
from gancourse.nn import down_block, up_block


def _shape(cfg):
    return (2,) if cfg.data.name == "ring8" else (cfg.model.img_channels, 28, 28)


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("fast", [False, True])
def test_every_preset_builds_and_has_the_right_shapes(name, fast):
    cfg = PRESETS[name].fast() if fast else PRESETS[name]
    shape = _shape(cfg)
    G = build_generator(cfg.model, shape)
    D = build_discriminator(cfg.model, shape)
    x = G(torch.randn(5, cfg.model.z_dim))
    assert x.shape == (5, *shape)
    if len(shape) == 3:  # images come out of a Tanh
        assert x.min() >= -1 and x.max() <= 1
    assert D(x).shape == (5,)
    # logits, not probabilities: no Sigmoid module anywhere in D
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


@pytest.mark.parametrize("size,channels", [(28, 1), (32, 3), (64, 3)])
def test_dcgan_sizes(size, channels):
    G = DCGANGenerator(z_dim=16, img_channels=channels, img_size=size, width=8)
    D = DCGANDiscriminator(img_channels=channels, img_size=size, width=8)
    x = G(torch.randn(3, 16))
    assert x.shape == (3, channels, size, size)
    assert D(x).shape == (3,)


def test_dcgan_64_matches_the_paper_channels():
    # Radford et al. 2016, fig. 1:
    # 4x4x1024 -> 8x8x512 -> 16x16x256 -> 32x32x128 -> 64x64x3
    G = DCGANGenerator(z_dim=100, img_channels=3, img_size=64, width=128)
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == [1024, 512, 256, 128, 3]
    # no BatchNorm right before the output Tanh (guideline 2)
    assert isinstance(G.net[-1], nn.Tanh) and isinstance(G.net[-2], nn.ConvTranspose2d)


def test_dcgan_rejects_unsupported_size():
    with pytest.raises(ValueError, match="img_size"):
        DCGANGenerator(img_size=48)


def test_blocks_change_size_as_documented():
    x = torch.randn(2, 8, 7, 7)
    assert up_block(8, 4)(x).shape == (2, 4, 14, 14)
    assert down_block(8, 4)(torch.randn(2, 8, 14, 14)).shape == (2, 4, 7, 7)


def test_dcgan_init_std():
    G = DCGANGenerator(z_dim=100, img_size=28, width=64)
    w = G.net[0].weight
    assert w.std().item() == pytest.approx(0.02, rel=0.05)
