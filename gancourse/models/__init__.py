"""Architectures, one family per module; sizes come from the family's config.

:data:`ARCHS` maps ``model.arch`` to an :class:`Arch`: the family's config
dataclass and the functions that build its G and D for a data sample shape
``(C, H, W)`` or ``(2,)``. ``build_generator(model_cfg, sample_shape)`` and
``build_discriminator(...)`` look the family up there.

Class-conditional families (``cdcgan``, ``cresnet``) are marked
``conditional=True``: their builders also take the number of classes ``K`` (from
the data), and D's builder the way the label enters D (``d_cond``), which the
method chooses (:mod:`gancourse.gans.cgan`).
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
from gancourse.models.resnet import ResNetConfig, ResNetDiscriminator, ResNetGenerator


@dataclass(frozen=True)
class Arch:
    """A family of networks: its config dataclass and its G / D builders.

    ``generator(cfg, sample_shape)`` and ``discriminator(cfg, sample_shape)``
    return modules; ``sample_shape`` is one data sample's shape. A
    ``conditional`` family's builders are ``generator(cfg, sample_shape,
    n_classes)`` and ``discriminator(cfg, sample_shape, n_classes, d_cond)``.
    """

    Config: type[ModelConfig]
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module]
    conditional: bool = False


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


ARCHS: dict[str, Arch] = {
    "mlp": Arch(MLPConfig, _mlp_g, _mlp_d),
    "dcgan": Arch(DCGANConfig, _dcgan_g, _dcgan_d),
    "resnet": Arch(ResNetConfig, _resnet_g, _resnet_d),
    "cdcgan": Arch(CDCGANConfig, _cdcgan_g, _cdcgan_d, conditional=True),
    "cresnet": Arch(CResNetConfig, _cresnet_g, _cresnet_d, conditional=True),
}
CONDITIONAL_ARCHS = tuple(name for name, a in ARCHS.items() if a.conditional)


def _lookup(arch: str, n_classes: int | None = None) -> Arch:
    if arch not in ARCHS:
        raise ConfigError(
            f"unknown model.arch {arch!r}; choose one of {', '.join(ARCHS)}"
        )
    a = ARCHS[arch]
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
    m: ModelConfig, sample_shape: tuple[int, ...], n_classes: int | None = None
) -> nn.Module:
    """The generator named by ``m.arch``: ``G: (N, z_dim) -> (N, *sample_shape)``,
    or ``G(z, y)`` for ``n_classes`` classes when the family is conditional."""
    a = _lookup(m.arch, n_classes)
    if a.conditional:
        return a.generator(m, tuple(sample_shape), n_classes)
    return a.generator(m, tuple(sample_shape))


def build_discriminator(
    m: ModelConfig,
    sample_shape: tuple[int, ...],
    n_classes: int | None = None,
    d_cond: str | None = None,
) -> nn.Module:
    """The discriminator of ``m.arch``: ``D: (N, *sample_shape) -> logits (N,)``;
    for a conditional family, the one whose label input is ``d_cond``."""
    a = _lookup(m.arch, n_classes)
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
    "build_generator",
    "build_discriminator",
    "check_image_shape",
]
