"""Architectures, one family per module; sizes come from the family's config.

:data:`ARCHS` maps ``model.arch`` to an :class:`Arch`: the family's config
dataclass and the functions that build its G and D for a data sample shape
``(C, H, W)`` or ``(2,)``. ``build_generator(model_cfg, sample_shape)`` and
``build_discriminator(...)`` look the family up there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from gancourse.config import ModelConfig
from gancourse.models.dcgan import DCGANConfig, DCGANDiscriminator, DCGANGenerator
from gancourse.models.mlp import MLPConfig, MLPDiscriminator, MLPGenerator
from gancourse.models.resnet import ResNetConfig, ResNetDiscriminator, ResNetGenerator


@dataclass(frozen=True)
class Arch:
    """A family of networks: its config dataclass and its G / D builders.

    ``generator(cfg, sample_shape)`` and ``discriminator(cfg, sample_shape)``
    return modules; ``sample_shape`` is one data sample's shape.
    """

    Config: type[ModelConfig]
    generator: Callable[[ModelConfig, tuple[int, ...]], nn.Module]
    discriminator: Callable[[ModelConfig, tuple[int, ...]], nn.Module]


def check_image_shape(m: ModelConfig, shape: tuple[int, ...]) -> None:
    """ValueError unless ``shape`` is ``(m.img_channels, m.img_size, m.img_size)``."""
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(
            f"model.arch={m.arch} needs square images (C, H, H); the data has samples "
            f"of shape {tuple(shape)}. Use model.arch=mlp for 2-D points."
        )
    if shape[1] != m.img_size:
        raise ValueError(
            f"model.img_size={m.img_size} but the data's images are "
            f"{shape[1]}x{shape[2]}; set model.img_size={shape[1]}, or resize the "
            f"data with data.image_size={m.img_size}"
        )
    if shape[0] != m.img_channels:
        raise ValueError(
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


ARCHS: dict[str, Arch] = {
    "mlp": Arch(MLPConfig, _mlp_g, _mlp_d),
    "dcgan": Arch(DCGANConfig, _dcgan_g, _dcgan_d),
    "resnet": Arch(ResNetConfig, _resnet_g, _resnet_d),
}


def _lookup(arch: str) -> Arch:
    if arch not in ARCHS:
        raise ValueError(
            f"unknown model.arch {arch!r}; choose one of {', '.join(ARCHS)}"
        )
    return ARCHS[arch]


def build_generator(m: ModelConfig, sample_shape: tuple[int, ...]) -> nn.Module:
    """The generator ``G: (N, z_dim) -> (N, *sample_shape)`` named by ``m.arch``."""
    return _lookup(m.arch).generator(m, tuple(sample_shape))


def build_discriminator(m: ModelConfig, sample_shape: tuple[int, ...]) -> nn.Module:
    """The discriminator ``D: (N, *sample_shape) -> logits (N,)`` of ``m.arch``."""
    return _lookup(m.arch).discriminator(m, tuple(sample_shape))


__all__ = [
    "ARCHS",
    "Arch",
    "MLPConfig",
    "DCGANConfig",
    "ResNetConfig",
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "ResNetGenerator",
    "ResNetDiscriminator",
    "build_generator",
    "build_discriminator",
    "check_image_shape",
]
