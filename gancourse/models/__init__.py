"""Architectures, one family per module; sizes come from a
:class:`~gancourse.config.ModelConfig`.

``build_generator(model_cfg, sample_shape)`` and ``build_discriminator(...)``
look the family up in :data:`GENERATORS` / :data:`DISCRIMINATORS` (plain dicts).
``sample_shape`` is one data sample's shape: ``(C, H, W)`` or ``(2,)``.
"""

from __future__ import annotations

from torch import nn

from gancourse.config import ModelConfig
from gancourse.models.dcgan import DCGANDiscriminator, DCGANGenerator
from gancourse.models.mlp import MLPDiscriminator, MLPGenerator
from gancourse.models.resnet import ResNetDiscriminator, ResNetGenerator


def _mlp_g(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    return MLPGenerator(m.z_dim, shape, m.g_width)


def _mlp_d(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    return MLPDiscriminator(shape, m.d_width)


def _dcgan_g(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    _check_image(m, shape)
    return DCGANGenerator(m.z_dim, shape[0], shape[1], m.g_width)


def _dcgan_d(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    _check_image(m, shape)
    return DCGANDiscriminator(shape[0], shape[1], m.d_width, norm=m.d_norm)


def _resnet_g(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    _check_image(m, shape)
    return ResNetGenerator(m.z_dim, shape[0], shape[1], m.g_width)


def _resnet_d(m: ModelConfig, shape: tuple[int, ...]) -> nn.Module:
    _check_image(m, shape)
    return ResNetDiscriminator(shape[0], shape[1], m.d_width, norm=m.d_norm)


def _check_image(m: ModelConfig, shape: tuple[int, ...]) -> None:
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(
            f"arch {m.arch!r} needs square images (C, H, H); the data has samples of "
            f"shape {tuple(shape)}. Use model.arch=mlp for 2-D points."
        )


GENERATORS = {"mlp": _mlp_g, "dcgan": _dcgan_g, "resnet": _resnet_g}
DISCRIMINATORS = {"mlp": _mlp_d, "dcgan": _dcgan_d, "resnet": _resnet_d}


def _lookup(table: dict, arch: str):
    if arch not in table:
        raise ValueError(
            f"unknown model.arch {arch!r}; choose one of {', '.join(table)}"
        )
    return table[arch]


def build_generator(m: ModelConfig, sample_shape: tuple[int, ...]) -> nn.Module:
    """The generator ``G: (N, z_dim) -> (N, *sample_shape)`` named by ``m.arch``."""
    return _lookup(GENERATORS, m.arch)(m, tuple(sample_shape))


def build_discriminator(m: ModelConfig, sample_shape: tuple[int, ...]) -> nn.Module:
    """The discriminator ``D: (N, *sample_shape) -> logits (N,)`` of ``m.arch``."""
    return _lookup(DISCRIMINATORS, m.arch)(m, tuple(sample_shape))


__all__ = [
    "MLPGenerator",
    "MLPDiscriminator",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "ResNetGenerator",
    "ResNetDiscriminator",
    "build_generator",
    "build_discriminator",
    "GENERATORS",
    "DISCRIMINATORS",
]
