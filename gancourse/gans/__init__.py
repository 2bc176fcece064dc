"""GAN methods: the training math of each method, one module each.

:data:`METHODS` (a plain dict) maps ``method.name`` to the method class; each
class's ``Config`` is its parameter dataclass. ``build_method(method_cfg)``
instantiates the one a config names. To add a GAN, copy
:mod:`gancourse.gans.template`.
"""

from __future__ import annotations

from gancourse.config import ConfigError, MethodConfig
from gancourse.gans.acgan import ACGAN, ACGANConfig
from gancourse.gans.base import DataSpec, GANMethod, Phase, StepContext
from gancourse.gans.cgan import CGAN, CGANConfig
from gancourse.gans.pix2pix import Pix2Pix, Pix2PixConfig
from gancourse.gans.vanilla import VanillaConfig, VanillaGAN
from gancourse.gans.wgan import WGAN, WGANConfig
from gancourse.gans.wgangp import WGANGP, WGANGPConfig

METHODS: dict[str, type[GANMethod]] = {
    "vanilla": VanillaGAN,
    "wgan": WGAN,
    "wgan-gp": WGANGP,
    "cgan": CGAN,
    "acgan": ACGAN,
    "pix2pix": Pix2Pix,
}


def build_method(m: MethodConfig) -> GANMethod:
    """The :class:`GANMethod` named by ``m.name``, with parameters ``m``."""
    if m.name not in METHODS:
        raise ConfigError(
            f"unknown method.name {m.name!r}; choose one of {', '.join(METHODS)}"
        )
    cls = METHODS[m.name]
    if not isinstance(m, cls.Config):
        raise ConfigError(
            f"method.name={m.name} needs a {cls.Config.__name__}, got "
            f"{type(m).__name__}"
        )
    return cls(m)


__all__ = [
    "DataSpec",
    "GANMethod",
    "Phase",
    "StepContext",
    "VanillaGAN",
    "VanillaConfig",
    "WGAN",
    "WGANConfig",
    "WGANGP",
    "WGANGPConfig",
    "CGAN",
    "CGANConfig",
    "ACGAN",
    "ACGANConfig",
    "Pix2Pix",
    "Pix2PixConfig",
    "METHODS",
    "build_method",
]
