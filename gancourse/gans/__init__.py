"""GAN methods: the training math of each method, one module each.

``build_method(method_cfg)`` looks the method up in :data:`METHODS` (a plain dict).
"""

from __future__ import annotations

from gancourse.config import MethodConfig
from gancourse.gans.base import GANMethod
from gancourse.gans.vanilla import VanillaGAN


def _vanilla(m: MethodConfig) -> GANMethod:
    return VanillaGAN(g_loss=m.g_loss, n_d_steps=m.n_d_steps)


METHODS = {"vanilla": _vanilla}


def build_method(m: MethodConfig) -> GANMethod:
    """The :class:`GANMethod` named by ``m.name``."""
    if m.name not in METHODS:
        raise ValueError(
            f"unknown method.name {m.name!r}; choose one of {', '.join(METHODS)}"
        )
    return METHODS[m.name](m)


__all__ = ["GANMethod", "VanillaGAN", "METHODS", "build_method"]
