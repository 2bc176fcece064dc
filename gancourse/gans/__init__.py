"""GAN methods: the training math of each method, one module each.

``build_method(method_cfg)`` looks the method up in :data:`METHODS` (a plain dict).
"""

from __future__ import annotations

from gancourse.config import MethodConfig
from gancourse.gans.base import GANMethod
from gancourse.gans.vanilla import VanillaGAN
from gancourse.gans.wgan import WGAN
from gancourse.gans.wgangp import WGANGP


def _vanilla(m: MethodConfig) -> GANMethod:
    return VanillaGAN(g_loss=m.g_loss, n_d_steps=m.n_d_steps)


def _wgan(m: MethodConfig) -> GANMethod:
    return WGAN(n_d_steps=m.n_d_steps, clip_c=m.clip_c)


def _wgan_gp(m: MethodConfig) -> GANMethod:
    return WGANGP(n_d_steps=m.n_d_steps, gp_lambda=m.gp_lambda, gp_side=m.gp_side)


METHODS = {"vanilla": _vanilla, "wgan": _wgan, "wgan-gp": _wgan_gp}


def build_method(m: MethodConfig) -> GANMethod:
    """The :class:`GANMethod` named by ``m.name``."""
    if m.name not in METHODS:
        raise ValueError(
            f"unknown method.name {m.name!r}; choose one of {', '.join(METHODS)}"
        )
    return METHODS[m.name](m)


__all__ = ["GANMethod", "VanillaGAN", "WGAN", "WGANGP", "METHODS", "build_method"]
