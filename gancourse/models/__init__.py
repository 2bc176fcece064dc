"""Architectures, one family per module; sizes come from the family's config.

:data:`ARCHS` maps ``model.arch`` to an :class:`Arch`: the family's config
dataclass and the functions that build its G and D for a data sample shape
``(C, H, W)`` or ``(2,)``. ``build_generator(model_cfg, sample_shape)`` and
``build_discriminator(...)`` look the family up there.

Class-conditional families (``cdcgan``, ``cresnet``) are marked
``conditional=True``: their builders also take the number of classes ``K`` (from
the data), and D's builder the way the label enters D (``d_cond``), which the
method chooses (:mod:`gancourse.gans.cgan`).

Image-to-image families (``unet``) are marked ``translation=True``: G translates
an input image ``x_src`` (whose shape comes from the data) instead of reading
``z``, and D judges ``x`` stacked with ``x_src`` (Pix2Pix), or ``x`` alone when
no ``src_shape`` is given (CycleGAN's unconditional D).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from gancourse.config import ConfigError, ModelConfig
from gancourse.models.cdcgan import (
    CDCGANConfig,
    CondDCGANDiscriminator,
    CondDCGANGenerator,
)
from gancourse.models.cresnet import (
    CondResNetDiscriminator,
    CondResNetGenerator,
    CResNetConfig,
)
from gancourse.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gancourse.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from gancourse.models.patchgan import PatchGANDiscriminator, receptive_field
from gancourse.models.resnet import ResNetConfig, ResNetDiscriminator, ResNetGenerator
from gancourse.models.unet import UNetConfig, UNetGenerator


@dataclass(frozen=True)
class Arch:
    """A family of networks: its config dataclass and its G / D builders.

    ``generator(cfg, sample_shape)`` and ``discriminator(cfg, sample_shape)``
    return modules; ``sample_shape`` is one data sample's shape. A
    ``conditional`` family's builders are ``generator(cfg, sample_shape,
    n_classes)`` and ``discriminator(cfg, sample_shape, n_classes, d_cond)``;
    a ``translation`` family's are ``generator(cfg, sample_shape, src_shape)``
    and ``discriminator(cfg, sample_shape, src_shape)``, ``src_shape`` being the
    input image's shape (``None`` for D: unconditional).
    """

    Config: type[ModelConfig]
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module]
    conditional: bool = False
    translation: bool = False


def check_image_shape(m: ModelConfig, shape: tuple[int, ...]) -> None:
    """ValueError unless ``shape`` is ``(m.img_channels, m.img_size, m.img_size)``."""
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ConfigError(
            f"model.arch={m.arch} needs square images (C, H, H); the data has samples "
            f"of shape {tuple(shape)}. Use model.arch=mlp for 2-D points."
        )
    if shape[1] != m.img_size:
        raise ConfigError(
            f"model.img_size={m.img_size} but the data's images are "
            f"{shape[1]}x{shape[2]}; set model.img_size={shape[1]}, or resize the "
            f"data with data.image_size={m.img_size}"
        )
    if shape[0] != m.img_channels:
        raise ConfigError(
            f"model.img_channels={m.img_channels} but the data's images have "
            f"{shape[0]} channel(s); set model.img_channels={shape[0]}"
        )


def _mlp_g(m: MLPConfig, shape: tuple[int, ...]) -> nn.Module:
    return MLPGenerator(m.z_dim, shape, m.g_width)


def _mlp_d(m: MLPConfig, shape: tuple[int, ...]) -> nn.Module:
    return MLPDiscriminator(shape, m.d_width)


def _dcgan_g(m: DCGANConfig, shape: tuple[int, ...]) -> nn.Module:
    check_image_shape(m, shape)
    return DCGANGenerator(m.z_dim, shape[0], shape[1], m.g_width)


def _dcgan_d(m: DCGANConfig, shape: tuple[int, ...]) -> nn.Module:
    check_image_shape(m, shape)
    return DCGANDiscriminator(shape[0], shape[1], m.d_width, norm=m.d_norm)


def _resnet_g(m: ResNetConfig, shape: tuple[int, ...]) -> nn.Module:
    check_image_shape(m, shape)
    return ResNetGenerator(m.z_dim, shape[0], shape[1], m.g_width)


def _resnet_d(m: ResNetConfig, shape: tuple[int, ...]) -> nn.Module:
    check_image_shape(m, shape)
    return ResNetDiscriminator(shape[0], shape[1], m.d_width, norm=m.d_norm)


def _cdcgan_g(m: CDCGANConfig, shape: tuple[int, ...], n_classes: int) -> nn.Module:
    check_image_shape(m, shape)
    return CondDCGANGenerator(
        m.z_dim, n_classes, shape[0], shape[1], m.g_width, cond=m.g_cond
    )


def _cdcgan_d(
    m: CDCGANConfig, shape: tuple[int, ...], n_classes: int, d_cond: str
) -> nn.Module:
    check_image_shape(m, shape)
    return CondDCGANDiscriminator(
        n_classes, shape[0], shape[1], m.d_width, norm=m.d_norm, cond=d_cond
    )


def _cresnet_g(m: CResNetConfig, shape: tuple[int, ...], n_classes: int) -> nn.Module:
    check_image_shape(m, shape)
    return CondResNetGenerator(
        m.z_dim, n_classes, shape[0], shape[1], m.g_width, cond=m.g_cond
    )


def _cresnet_d(
    m: CResNetConfig, shape: tuple[int, ...], n_classes: int, d_cond: str
) -> nn.Module:
    check_image_shape(m, shape)
    return CondResNetDiscriminator(
        n_classes, shape[0], shape[1], m.d_width, m.d_norm, cond=d_cond, sn=m.d_sn
    )


def _check_source(m: UNetConfig, shape, src_shape) -> None:
    if len(src_shape) != 3 or tuple(src_shape[1:]) != tuple(shape[1:]):
        raise ConfigError(
            f"model.arch={m.arch} translates an image into one of the same size; "
            f"the data's inputs x_src are {tuple(src_shape)} and targets x "
            f"{tuple(shape)}. Resize both to the same side (data.image_size)"
        )


def _unet_g(m: UNetConfig, shape: tuple[int, ...], src_shape) -> nn.Module:
    check_image_shape(m, shape)
    _check_source(m, shape, src_shape)
    return UNetGenerator(
        src_shape[0],
        shape[0],
        shape[1],
        m.g_width,
        m.n_down,
        norm=m.norm,
        dropout=m.dropout,
        n_dropout=m.n_dropout,
        skips=m.skips,
    )


def _patchgan_d(m: UNetConfig, shape: tuple[int, ...], src_shape=None) -> nn.Module:
    check_image_shape(m, shape)
    c = shape[0]
    if src_shape is not None:  # conditional: D sees (x_src, x) stacked
        _check_source(m, shape, src_shape)
        c += src_shape[0]
    return PatchGANDiscriminator(c, m.d_width, m.n_layers, m.norm, img_size=shape[1])


ARCHS: dict[str, Arch] = {
    "mlp": Arch(MLPConfig, _mlp_g, _mlp_d),
    "dcgan": Arch(DCGANConfig, _dcgan_g, _dcgan_d),
    "resnet": Arch(ResNetConfig, _resnet_g, _resnet_d),
    "cdcgan": Arch(CDCGANConfig, _cdcgan_g, _cdcgan_d, conditional=True),
    "cresnet": Arch(CResNetConfig, _cresnet_g, _cresnet_d, conditional=True),
    "unet": Arch(UNetConfig, _unet_g, _patchgan_d, translation=True),
}
CONDITIONAL_ARCHS = tuple(name for name, a in ARCHS.items() if a.conditional)
TRANSLATION_ARCHS = tuple(name for name, a in ARCHS.items() if a.translation)


def _lookup(
    arch: str,
    n_classes: int | None = None,
    src_shape: tuple[int, ...] | None = None,
    needs_src: bool = True,
) -> Arch:
    if arch not in ARCHS:
        raise ConfigError(
            f"unknown model.arch {arch!r}; choose one of {', '.join(ARCHS)}"
        )
    a = ARCHS[arch]
    if a.translation and src_shape is None and needs_src:
        raise ConfigError(
            f"model.arch={arch} translates images (G(x_src)); train it with an "
            "image-to-image method (method.name=pix2pix) on paired data"
        )
    if not a.translation and src_shape is not None:
        raise ConfigError(
            f"model.arch={arch} generates from noise; an image-to-image method "
            f"needs one of {', '.join(TRANSLATION_ARCHS)} (e.g. model.arch=unet)"
        )
    if a.translation:
        return a
    if a.conditional and n_classes is None:
        raise ConfigError(
            f"model.arch={arch} is class-conditional (G(z, y)); train it with a "
            "conditional method (method.name=cgan or acgan) on labelled data"
        )
    if not a.conditional and n_classes is not None:
        raise ConfigError(
            f"model.arch={arch} is unconditional; a conditional method needs one of "
            f"{', '.join(CONDITIONAL_ARCHS)} (e.g. model.arch=c{arch})"
        )
    return a


def build_generator(
    m: ModelConfig,
    sample_shape: tuple[int, ...],
    n_classes: int | None = None,
    src_shape: tuple[int, ...] | None = None,
) -> nn.Module:
    """The generator named by ``m.arch``: ``G: (N, z_dim) -> (N, *sample_shape)``,
    or ``G(z, y)`` for ``n_classes`` classes when the family is conditional, or
    ``G: x_src (N, *src_shape) -> (N, *sample_shape)`` for a translation family."""
    a = _lookup(m.arch, n_classes, src_shape)
    if a.translation:
        return a.generator(m, tuple(sample_shape), tuple(src_shape))
    if a.conditional:
        return a.generator(m, tuple(sample_shape), n_classes)
    return a.generator(m, tuple(sample_shape))


def build_discriminator(
    m: ModelConfig,
    sample_shape: tuple[int, ...],
    n_classes: int | None = None,
    d_cond: str | None = None,
    src_shape: tuple[int, ...] | None = None,
) -> nn.Module:
    """The discriminator of ``m.arch``: ``D: (N, *sample_shape) -> logits (N,)``;
    for a conditional family, the one whose label input is ``d_cond``; for a
    translation family, logits per patch ``(N, 1, H', W')`` of ``x`` stacked on
    an input of shape ``src_shape`` (``None``: ``x`` alone)."""
    a = _lookup(m.arch, n_classes, src_shape, needs_src=False)
    if a.translation:
        src = None if src_shape is None else tuple(src_shape)
        return a.discriminator(m, tuple(sample_shape), src)
    if a.conditional:
        return a.discriminator(m, tuple(sample_shape), n_classes, d_cond)
    return a.discriminator(m, tuple(sample_shape))


__all__ = [
    "ARCHS",
    "Arch",
    "MLPConfig",
    "DCGANConfig",
    "ResNetConfig",
    "CDCGANConfig",
    "CResNetConfig",
    "CONDITIONAL_ARCHS",
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "ResNetGenerator",
    "ResNetDiscriminator",
    "CondDCGANGenerator",
    "CondDCGANDiscriminator",
    "CondResNetGenerator",
    "CondResNetDiscriminator",
    "UNetConfig",
    "UNetGenerator",
    "PatchGANDiscriminator",
    "TRANSLATION_ARCHS",
    "receptive_field",
    "build_generator",
    "build_discriminator",
    "check_image_shape",
]
