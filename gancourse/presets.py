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
# The ring again, with settings under which the vanilla GAN collapses. After Metz et
# al. 2017's ring experiment as set up in copies of the authors' notebook
# (poolio/unrolled_gan): z of dimension 256, G with two 128-unit hidden layers, D
# with one, batch 512, Adam with beta1 = 0.5, lr 1e-4 for D and 1e-4 or 1e-3 for G
# (the copies differ), a G that minimises the saturating loss. Departures: our MLPs
# (G 256 -> 128 -> 256 -> 2, D 2 -> 128 -> 64 -> 1, LeakyReLU), batch 128, lr 1e-3
# for both, the non-saturating G loss, and D trained 5 steps per G step: a
# discriminator too strong for G. See tools/ring_comparison.py --collapse and the
# record ring-collapse for what it does over 5 seeds.
PRESETS["vanilla-ring8-collapse"] = Config(
    name="vanilla-ring8-collapse",
    data=DataConfig(name="ring8", batch_size=128),
    model=model_config("mlp", z_dim=256, g_width=128, d_width=64),
    method=method_config("vanilla", g_loss="nonsaturating", n_d_steps=5),
    train=TrainConfig(
        steps=2000,
        lr_g=1e-3,
        lr_d=1e-3,
        betas=(0.5, 0.999),
        sample_every=250,
        n_samples=2500,  # the sample size the mode-coverage metric is defined for
    ),
)
# The same networks, data, batch, steps and learning rate trained with WGAN-GP:
# lambda = 10, 5 critic steps (so the critic is just as far ahead of G), Adam
# betas (0.5, 0.9) as in wgangp-ring8.
PRESETS["wgangp-ring8-collapse"] = replace(
    PRESETS["vanilla-ring8-collapse"],
    name="wgangp-ring8-collapse",
    method=PRESETS["wgangp-mnist"].method,
    train=replace(PRESETS["vanilla-ring8-collapse"].train, betas=(0.5, 0.9)),
)
PRESETS["wgangp-fashion"] = replace(
    PRESETS["wgangp-mnist"],
    name="wgangp-fashion",
    data=replace(PRESETS["wgangp-mnist"].data, name="fashion-mnist"),
)


# -- chapter 3: class-conditional GANs ------------------------------------------------
# Each says which G (model.g_cond) and which label input of D (method.d_cond, or
# AC-GAN's classifier head) it uses. The Fashion-MNIST / MNIST ones train with the
# DCGAN settings (Adam(2e-4, (0.5, 0.999)), batch 64, one D step, logits + BCE), so
# that they differ from dcgan-mnist only in how the label enters. Grids of 100: ten
# samples per class, one class per column with nrow=10.
_CH3_TRAIN = TrainConfig(
    steps=5000, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999), n_samples=100
)
# cGAN (Mirza & Osindero 2014): one_hot(y) appended to z in G; label maps stacked on
# the image channels at D's input (their MLP D concatenates y to its input).
PRESETS["cgan-mnist"] = Config(
    name="cgan-mnist",
    data=DataConfig(name="mnist", batch_size=64),
    model=model_config("cdcgan", z_dim=100, img_size=28, g_cond="concat"),
    method=method_config("cgan", d_cond="concat", loss="nonsaturating"),
    train=_CH3_TRAIN,
)
PRESETS["cgan-fashion"] = replace(
    PRESETS["cgan-mnist"],
    name="cgan-fashion",
    data=DataConfig(name="fashion-mnist", batch_size=64),
)
# The projection paper's pairing at DCGAN size (Miyato & Koyama 2018): conditional
# BatchNorm on one_hot(y) in G, projection <embed(y), phi(x)> in D; DCGAN training
# (their hinge loss, n_dis = 5 and spectral norm are in projgan-cifar10).
PRESETS["projgan-fashion"] = replace(
    PRESETS["cgan-fashion"],
    name="projgan-fashion",
    model=model_config("cdcgan", z_dim=100, img_size=28, g_cond="cbn"),
    method=method_config("cgan", d_cond="projection", loss="nonsaturating"),
)
# AC-GAN (Odena et al. 2017): G reads [z, one_hot(y)]; D has a source head and an
# auxiliary classifier on the same features; class weight 1 as in the paper.
PRESETS["acgan-fashion"] = replace(
    PRESETS["cgan-fashion"],
    name="acgan-fashion",
    method=method_config("acgan", class_weight=1.0),
)
# AC-GAN on CIFAR-10, a GPU run. From the paper's appendix as far as we could check
# it (we could not re-read it offline when writing this; these values are from memory
# and unverified): G's input is z (100) with the one-hot class (10) appended, its
# feature maps have 384 -> 192 -> 96 channels (here g_width=96 in the DCGAN layout:
# 4x4x384 -> 8x8x192 -> 16x16x96 -> 32x32x3), Adam(2e-4, (0.5, 0.999)), batch 100,
# 50,000 steps. Departures: the DCGAN discriminator (4x4 stride-2 convolutions with
# BatchNorm) instead of the paper's six 3x3 convolutions with dropout, and the
# non-saturating G loss (see gancourse.gans.acgan).
PRESETS["acgan-cifar10"] = Config(
    name="acgan-cifar10",
    data=DataConfig(name="cifar10", batch_size=100),
    model=model_config(
        "cdcgan",
        z_dim=100,
        img_channels=3,
        img_size=32,
        g_width=96,
        d_width=64,
        g_cond="concat",
    ),
    method=method_config("acgan", class_weight=1.0, n_d_steps=1),
    train=TrainConfig(
        steps=50_000,
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        n_samples=100,
        sample_every=2000,
        log_every=100,
        ckpt_every=2000,
    ),
)
# cGAN with a projection discriminator on CIFAR-10 (Miyato & Koyama 2018), a GPU run.
# Settings checked against the authors' configs/sn_cifar10.yml (pfnet-research/
# sngan_projection): ResNet G with 256 channels and conditional BatchNorm, z 128;
# ResNet D with 128 channels, spectral norm, sum pooling and projection; hinge loss,
# n_dis = 5, Adam(2e-4, (0, 0.9)) decayed linearly to 0 from step 0, batch 64,
# 50,000 generator steps. (Their code draws 128 fakes for G's step; we keep one
# batch size.)
PRESETS["projgan-cifar10"] = Config(
    name="projgan-cifar10",
    data=DataConfig(name="cifar10", batch_size=64),
    model=model_config(
        "cresnet",
        z_dim=128,
        img_channels=3,
        img_size=32,
        g_width=256,
        d_width=128,
        d_norm="none",
        g_cond="cbn",
        d_sn=True,
    ),
    method=method_config("cgan", d_cond="projection", loss="hinge", n_d_steps=5),
    train=TrainConfig(
        steps=50_000,
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.0, 0.9),
        lr_decay="linear",
        n_samples=100,
        sample_every=2000,
        log_every=100,
        ckpt_every=2000,
    ),
)


# -- chapter 4: Pix2Pix (Isola et al. 2017) -------------------------------------------
# U-Net G (model.arch=unet), conditional PatchGAN D, lambda_l1 = 100 (eq. 4), D's
# loss halved, Adam(2e-4, (0.5, 0.999)) (section 3.3), dropout on at sampling time
# (section 3.1). The rate is constant for the first half of the steps and then
# decayed linearly to 0: the schedule of the authors' PyTorch code (n_epochs 100 +
# n_epochs_decay 100, decayed per epoch to lr/101), not of the paper, which states
# no schedule.
#
# The CPU-sized version: Fashion-MNIST footwear from its edge maps, 32 px, 1 -> 1
# channels. Five downsamplings reach a 1x1 bottleneck as eight do at 256 px; widths
# 32 instead of 64. D has n_layers=1, a 16x16 receptive field: half the image side
# (the 34x34 field of n_layers=2 would see all of a 32 px image, an ImageGAN; the
# paper's 70x70 is 27% of its 256 px side). Batch 64 instead of the paper's 1-4:
# 3,000 steps are about 11 epochs of the 18,000 training pairs. About 0.9 s a step
# on one CPU thread (0.3 s for the .fast() copy, widths 16).
PRESETS["pix2pix-edges2footwear"] = Config(
    name="pix2pix-edges2footwear",
    data=DataConfig(name="edges2footwear", batch_size=64),
    model=model_config(
        "unet",
        img_channels=1,
        img_size=32,
        g_width=32,
        d_width=32,
        n_down=5,
        n_layers=1,
        norm="batch",
        dropout=0.5,
    ),
    method=method_config("pix2pix", lambda_l1=100.0, gan_weight=1.0),
    train=TrainConfig(
        steps=3000,
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        lr_decay="linear",
        lr_decay_start=1500,
        n_samples=32,
    ),
)
# The paper's facades run (appendix 6.2), a GPU run: labels -> photo (BtoA in the
# archive's A|B layout), 400 training pairs, batch 1, 200 epochs = 80,000 steps (the
# code's schedule: constant for 100 epochs, then decayed to 0), jitter (resize to 286,
# random 256 crop) and mirroring; unet_256 (n_down 8, 64 channels) and the 70x70
# PatchGAN (n_layers 3), BatchNorm.
PRESETS["pix2pix-facades"] = Config(
    name="pix2pix-facades",
    data=DataConfig(
        name="facades",
        batch_size=1,
        image_size=256,
        load_size=286,
        flip=True,
        direction="BtoA",
    ),
    model=model_config(
        "unet",
        img_channels=3,
        img_size=256,
        g_width=64,
        d_width=64,
        n_down=8,
        n_layers=3,
        norm="batch",
        dropout=0.5,
    ),
    method=method_config("pix2pix", lambda_l1=100.0, gan_weight=1.0),
    train=TrainConfig(
        steps=80_000,
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        lr_decay="linear",
        lr_decay_start=40_000,
        sample_every=2000,
        log_every=100,
        ckpt_every=2000,
        n_samples=8,
    ),
)
# Edges -> shoes (appendix 6.2), a GPU run: 49,825 training pairs, batch 4, 15
# epochs (186,844 steps), edges (A) -> photo (B). The appendix lists jitter and
# mirroring for facades and maps but not for this dataset, so there are none here
# (from our reading of the paper, not re-checked offline). It states no rate
# schedule for 15 epochs: we keep the half constant, half decayed one.
_EDGES2SHOES_STEPS = -(-15 * 49_825 // 4)
PRESETS["pix2pix-edges2shoes"] = replace(
    PRESETS["pix2pix-facades"],
    name="pix2pix-edges2shoes",
    data=DataConfig(name="edges2shoes", batch_size=4, image_size=256, direction="AtoB"),
    train=replace(
        PRESETS["pix2pix-facades"].train,
        steps=_EDGES2SHOES_STEPS,
        lr_decay_start=_EDGES2SHOES_STEPS // 2,
        sample_every=5000,
        ckpt_every=5000,
    ),
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
