"""Shapes of every preset's networks, the DCGAN sizes, the WGAN-GP ResNet."""

import math

import pytest
import torch
from torch import nn

from gancourse.config import PRESETS, model_config
from gancourse.data import DATASETS
from gancourse.gans import DataSpec, build_method
from gancourse.models import (
    DCGANDiscriminator,
    DCGANGenerator,
    ResNetDiscriminator,
    ResNetGenerator,
    build_discriminator,
    build_generator,
)
from gancourse.nn import (
    FirstResBlockDown,
    ResBlock,
    ResBlockDown,
    ResBlockUp,
    down_block,
    up_block,
)

NORM_TYPES = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def _shape(cfg):
    return DATASETS[cfg.data.name]["shape"]  # one sample of the preset's data


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("fast", [False, True])
def test_every_preset_builds_and_has_the_right_shapes(name, fast):
    cfg = PRESETS[name].fast() if fast else PRESETS[name]
    if "x_src" in build_method(cfg.method).needs:
        return _check_translation_preset(cfg)
    shape = _shape(cfg)
    # built by the preset's method, as the Trainer does: a conditional method's
    # networks also need the number of classes
    n_classes = DATASETS[cfg.data.name]["n_classes"]
    method = build_method(cfg.method)
    spec = DataSpec(("x", "y"), {"x": shape, "y": ()}, n_classes=n_classes)
    method.build(cfg.model, spec)
    G, D = method.nets["G"], method.nets["D"]
    inputs = method.sample_inputs(5)
    x = method.generate(inputs)
    assert x.shape == (5, *shape)
    if len(shape) == 3:  # images come out of a Tanh
        assert x.min() >= -1 and x.max() <= 1
    if "y" not in method.needs:
        logits = D(x)
    elif method.d_cond == "acgan":  # AC-GAN: source logits and class logits
        logits, class_logits = D(x)
        assert class_logits.shape == (5, n_classes)
    else:
        logits = D(x, inputs["y"])
    assert logits.shape == (5,)
    # logits, not probabilities: no Sigmoid module anywhere in D
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())
    assert not any(isinstance(m, nn.Sigmoid) for m in G.modules())


def _check_translation_preset(cfg):
    """An image-to-image preset: G maps x_src to an image of the model's shape, D
    judges the pair, patch by patch. (Its data may need a download: the shapes
    come from the model config, x_src with as many channels as x.)"""
    m = cfg.model
    shape = (m.img_channels, m.img_size, m.img_size)
    method = build_method(cfg.method)
    method.build(cfg.model, DataSpec(("x_src", "x"), {"x_src": shape, "x": shape}))
    G, D = method.nets["G"], method.nets["D"]
    x_src = torch.rand(1, *shape) * 2 - 1
    with torch.no_grad():
        x = method.generate(method.sample_inputs(1, None, {"x_src": x_src}))
        assert x.shape == (1, *shape) and x.min() >= -1 and x.max() <= 1
        logits = D(torch.cat([x_src, x], dim=1))
    assert logits.shape[:2] == (1, 1) and logits.dim() == 4  # one logit per patch
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())
    assert not any(isinstance(m, nn.Sigmoid) for m in G.modules())


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


# ---------------------------------------------------------------- WGAN-GP ResNet


def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_resnet_parameter_counts_by_hand():
    # Gulrajani et al. 2017, CIFAR-10 ResNet: DIM = 128 everywhere, z of size 128,
    # every conv and linear layer with a bias, BatchNorm (scale, shift) in G only.
    dim = 128
    conv3 = 3 * 3 * dim * dim + dim  # 147,584: a 3x3 conv dim -> dim
    conv1 = dim * dim + dim  # 16,512: a 1x1 shortcut conv dim -> dim
    bn = 2 * dim  # 256
    linear_in = 128 * (4 * 4 * dim) + 4 * 4 * dim  # 264,192: z -> (dim, 4, 4)
    up = bn + conv3 + bn + conv3 + conv1  # 312,192 per up block
    to_rgb = bn + 3 * 3 * dim * 3 + 3  # 3,715: BN + 3x3 conv dim -> 3
    g = linear_in + 3 * up + to_rgb
    assert g == 1_204_483
    first = (3 * 3 * 3 * dim + dim) + conv3 + (3 * dim + dim)  # 151,680
    down = conv3 + conv3 + conv1  # 311,680
    plain = conv3 + conv3  # 295,168: identity shortcut, no parameters
    d = first + down + 2 * plain + (dim + 1)  # the final Linear(dim, 1)
    assert d == 1_053_825
    assert _n_params(ResNetGenerator(128, 3, 32, dim)) == g
    assert _n_params(ResNetDiscriminator(3, 32, dim)) == d
    # layer norm adds (scale, shift) in front of both convs of the 3 later blocks
    assert _n_params(ResNetDiscriminator(3, 32, dim, norm="layer")) == d + 6 * bn


@pytest.mark.parametrize(
    "size,channels,start,end", [(32, 3, 4, 8), (28, 1, 7, 7), (64, 3, 4, 8)]
)
def test_resnet_sizes_and_tanh_range(size, channels, start, end):
    G = ResNetGenerator(z_dim=16, img_channels=channels, img_size=size, width=8)
    D = ResNetDiscriminator(img_channels=channels, img_size=size, width=8)
    assert G.z_dim == 16
    z = torch.randn(3, 16) * 10  # large z: the Tanh must still bound the output
    x = G(z)
    assert x.shape == (3, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1 and isinstance(G.to_image[-1], nn.Tanh)
    assert G.project(z).shape == (3, 8 * start * start)  # G starts at start x start
    assert D.blocks(x).shape == (3, 8, end, end)  # the critic stops at end x end
    scores = D(x)
    assert scores.shape == (3,) and scores.dtype == torch.float32
    # ReLU, the mean over all positions, then Linear(width, 1)
    pooled = torch.relu(D.blocks(x)).flatten(2).sum(dim=2) / (end * end)
    assert torch.allclose(scores, D.score(pooled)[:, 0], atol=1e-6)
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_resnet_rejects_unsupported_size():
    for make in (
        lambda: ResNetGenerator(img_size=48),
        lambda: ResNetDiscriminator(img_size=48),
    ):
        with pytest.raises(ValueError) as err:
            make()
        msg = str(err.value)
        assert "48" in msg and "[28, 32, 64]" in msg and "img_size" in msg
    with pytest.raises(ValueError, match="layer"):
        ResNetDiscriminator(norm="instance")


def test_resnet_critic_scores_each_sample_alone():
    torch.manual_seed(0)
    D = ResNetDiscriminator(img_channels=3, img_size=32, width=16, norm="none")
    assert not any(isinstance(m, NORM_TYPES) for m in D.modules())
    x = torch.randn(4, 3, 32, 32)
    moved = x.clone()
    moved[2] = torch.randn(3, 32, 32) * 3
    before, after = D(x), D(moved)
    keep = [0, 1, 3]
    assert torch.allclose(before[keep], after[keep], atol=1e-6, rtol=0)
    assert (before[2] - after[2]).abs() > 1e-4  # the moved sample's score changed
    # ... whereas batch norm (train mode) lets the other samples leak in
    Db = ResNetDiscriminator(img_channels=3, img_size=32, width=16, norm="batch")
    assert (Db(x)[keep] - Db(moved)[keep]).abs().max() > 1e-4


def test_resnet_critic_supports_the_gradient_penalty():
    # the penalty differentiates ||grad_x D(x)||: a second backward pass must work
    D = ResNetDiscriminator(img_channels=3, img_size=32, width=8)
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    (grad,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    # per sample: the gradient of the batch sum equals that of the sample alone
    (alone,) = torch.autograd.grad(D(x[1:]).sum(), x)
    assert torch.allclose(grad[1], alone[1], atol=1e-6)
    ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean().backward()
    # every weight matrix gets a gradient (biases only shift where ReLUs switch)
    weights = [p for name, p in D.named_parameters() if name.endswith("weight")]
    assert weights and all(
        p.grad is not None and p.grad.abs().sum() > 0 for p in weights
    )


def _identity_1x1(conv: nn.Conv2d) -> None:
    with torch.no_grad():
        conv.weight.copy_(torch.eye(conv.in_channels)[:, :, None, None])
        conv.bias.zero_()


def test_resblock_shapes_and_shortcuts():
    x = torch.randn(2, 8, 6, 6)
    up = ResBlockUp(8, 4)
    assert up(x).shape == up.shortcut(x).shape == up.residual(x).shape
    assert up(x).shape == (2, 4, 12, 12)
    down = ResBlockDown(8, 4)
    assert down(x).shape == down.shortcut(x).shape == (2, 4, 3, 3)
    same = ResBlock(8, 8)
    assert isinstance(same.shortcut, nn.Identity) and same(x).shape == x.shape
    # x + residual(x), and the input is left alone (no in-place ReLU on it)
    x_before = x.clone()
    out = same(x)
    assert torch.equal(x, x_before)
    assert torch.allclose(out, x_before + same.residual(x_before.clone()), atol=1e-6)
    assert ResBlock(8, 4).shortcut(x).shape == (2, 4, 6, 6)  # a 1x1 conv
    first = FirstResBlockDown(3, 8)
    img = torch.randn(2, 3, 32, 32)
    assert first(img).shape == first.shortcut(img).shape == (2, 8, 16, 16)
    # shortcuts: nearest-neighbour upsampling and 2x2 mean pooling, by hand
    up8, down8 = ResBlockUp(8, 8), ResBlockDown(8, 8)
    _identity_1x1(up8.shortcut[1])
    _identity_1x1(down8.shortcut[0])
    nearest = x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    assert torch.allclose(up8.shortcut(x), nearest, atol=1e-6)
    mean = x[..., ::2, ::2] + x[..., 1::2, ::2] + x[..., ::2, 1::2] + x[..., 1::2, 1::2]
    assert torch.allclose(down8.shortcut(x), mean / 4, atol=1e-6)


def test_resblock_layouts_follow_the_paper():
    def kinds(seq):
        return [type(m).__name__ for m in seq]

    conv, relu = "Conv2d", "ReLU"
    assert kinds(ResBlockUp(8, 8).residual) == [
        *("BatchNorm2d", relu, "Upsample", conv),
        *("BatchNorm2d", relu, conv),
    ]
    assert kinds(ResBlockDown(8, 8).residual) == [relu, conv, relu, conv, "AvgPool2d"]
    assert kinds(ResBlock(8, 8, norm="layer").residual) == [
        *("GroupNorm", relu, conv, "GroupNorm", relu, conv)
    ]
    assert kinds(FirstResBlockDown(3, 8).residual) == [conv, relu, conv, "AvgPool2d"]
    assert kinds(FirstResBlockDown(3, 8).shortcut) == ["AvgPool2d", conv]
    assert all(m.kernel_size == (3, 3) for m in ResBlock(8, 8).residual[1::2])
    assert ResBlockUp(8, 8).residual[2].mode == "nearest"


def test_resnet_init_follows_the_authors_code():
    # tflib: uniform weights, variance 4 / (fan_in + fan_out) on the residual path,
    # 2 / (fan_in + fan_out) on 1x1 shortcuts, biases zero
    block = ResBlockDown(128, 128)
    w3 = block.residual[1].weight
    std3 = math.sqrt(4 / (128 * 9 + 128 * 9))
    assert w3.std().item() == pytest.approx(std3, rel=0.02)
    assert w3.abs().max().item() <= std3 * math.sqrt(3) + 1e-7
    w1 = block.shortcut[0].weight
    assert w1.std().item() == pytest.approx(math.sqrt(2 / 256), rel=0.02)
    assert all(m.bias.abs().max() == 0 for m in block.modules() if hasattr(m, "bias"))


def test_resnet_is_registered():
    m = model_config(
        "resnet",
        z_dim=16,
        img_channels=3,
        img_size=32,
        g_width=8,
        d_width=8,
        d_norm="layer",
    )
    G = build_generator(m, (3, 32, 32))
    D = build_discriminator(m, (3, 32, 32))
    assert isinstance(G, ResNetGenerator) and G.z_dim == 16
    assert isinstance(D, ResNetDiscriminator)
    assert any(isinstance(mod, nn.GroupNorm) for mod in D.modules())  # d_norm used
    assert D(G(torch.randn(2, 16))).shape == (2,)
    with pytest.raises(ValueError, match="square images"):
        build_generator(m, (2,))
