"""Named presets: ``PRESETS["dcgan-mnist"]``, ``get_preset(name, fast=None)``.

Each preset is a complete :class:`~gancourse.config.Config`; its comment cites the
paper (or code) whose settings it follows and says where it departs from them.
"""

from __future__ import annotations

from dataclasses import replace

from gancourse.config import (
    Config,
    ConfigError,
    DataConfig,
    TrainConfig,
    fast_mode,
    method_config,
    model_config,
)

__all__ = ["PRESETS", "get_preset"]

# The MLP GAN of the seed snippets, corrected: logits out of D, Tanh out of G,
# non-saturating G loss, Adam(2e-4, betas=(0.5, 0.999)).
PRESETS: dict[str, Config] = {
    "vanilla-mnist": Config(
        name="vanilla-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=model_config("mlp", z_dim=64, g_width=256, d_width=256),
        method=method_config("vanilla", g_loss="nonsaturating", n_d_steps=1),
        train=TrainConfig(steps=10000, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
    ),
    # DCGAN (Radford et al. 2016): all-convolutional, BatchNorm, Adam(2e-4, 0.5).
    "dcgan-mnist": Config(
        name="dcgan-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=model_config("dcgan", z_dim=100, img_size=28, g_width=64, d_width=64),
        method=method_config("vanilla", g_loss="nonsaturating", n_d_steps=1),
        train=TrainConfig(steps=5000, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
    ),
    # The 2-D ring of 8 Gaussians (Metz et al. 2017): mode collapse made visible.
    "vanilla-ring8": Config(
        name="vanilla-ring8",
        data=DataConfig(name="ring8", batch_size=256),
        model=model_config("mlp", z_dim=2, g_width=128, d_width=128),
        method=method_config("vanilla", g_loss="nonsaturating", n_d_steps=1),
        train=TrainConfig(
            steps=3000,
            lr_g=1e-3,
            lr_d=1e-3,
            betas=(0.5, 0.999),
            sample_every=500,
            n_samples=512,
        ),
    ),
    # WGAN (Arjovsky et al. 2017, Algorithm 1): the DCGAN networks (with BatchNorm,
    # as in the paper's experiments), critic scores instead of logits, weights
    # clipped to [-0.01, 0.01], RMSProp(5e-5), 5 critic steps per G step.
    "wgan-mnist": Config(
        name="wgan-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=model_config("dcgan", z_dim=100, img_size=28, g_width=64, d_width=64),
        method=method_config("wgan", n_d_steps=5, clip_c=0.01),
        train=TrainConfig(steps=3000, optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5),
    ),
    # WGAN-GP (Gulrajani et al. 2017, Algorithm 1): lambda = 10, 5 critic steps,
    # Adam(1e-4, betas=(0, 0.9)), a critic with layer norm instead of BatchNorm.
    "wgangp-mnist": Config(
        name="wgangp-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=model_config(
            "dcgan", z_dim=100, img_size=28, g_width=64, d_width=64, d_norm="layer"
        ),
        method=method_config("wgan-gp", n_d_steps=5, gp_lambda=10.0),
        train=TrainConfig(steps=3000, lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9)),
    ),
    # The paper's CIFAR-10 ResNet (Gulrajani et al. 2017, appendix F): 128 channels
    # in G and the critic, no normalisation in the critic, Adam(2e-4, (0, 0.9))
    # decayed linearly to 0 over 100,000 generator steps, batch 64. A GPU run.
    # (The authors' code also doubles the batch for G's step; we keep one batch size.)
    "wgangp-cifar10": Config(
        name="wgangp-cifar10",
        data=DataConfig(name="cifar10", batch_size=64),
        model=model_config(
            "resnet",
            z_dim=128,
            img_channels=3,
            img_size=32,
            g_width=128,
            d_width=128,
            d_norm="none",
        ),
        method=method_config("wgan-gp", n_d_steps=5, gp_lambda=10.0),
        train=TrainConfig(
            steps=100_000,
            lr_g=2e-4,
            lr_d=2e-4,
            betas=(0.0, 0.9),
            lr_decay="linear",
            sample_every=2000,
            log_every=100,
            ckpt_every=2000,
            ema_decay=0.0,
        ),
    ),
}

# Variants that differ from a preset above in one section only.
# The ring again, with WGAN-GP: the same MLPs, batch, learning rate and beta1 as
# vanilla-ring8, with beta2 = 0.9. (With the image settings, lr 1e-4 and beta1 = 0,
# 3,000 steps were far too few in our trials: G's mass drifted as one blob. The
# authors' toy script also lowers lambda to 0.1; we keep the paper's 10.) The MLP
# critic has no normalisation layers.
PRESETS["wgangp-ring8"] = replace(
    PRESETS["vanilla-ring8"],
    name="wgangp-ring8",
    method=PRESETS["wgangp-mnist"].method,
    train=replace(PRESETS["vanilla-ring8"].train, betas=(0.5, 0.9)),
)
PRESETS["wgangp-fashion"] = replace(
    PRESETS["wgangp-mnist"],
    name="wgangp-fashion",
    data=replace(PRESETS["wgangp-mnist"].data, name="fashion-mnist"),
)


def get_preset(name: str, fast: bool | None = None) -> Config:
    """The preset called ``name``; its ``.fast()`` copy when ``fast`` (default:
    :func:`~gancourse.config.fast_mode`). Unknown names raise
    :class:`~gancourse.config.ConfigError` listing the presets."""
    if name not in PRESETS:
        raise ConfigError(
            f"unknown preset {name!r}; available presets: {', '.join(sorted(PRESETS))}"
        )
    cfg = PRESETS[name]
    if fast is None:
        fast = fast_mode()
    return cfg.fast() if fast else cfg
