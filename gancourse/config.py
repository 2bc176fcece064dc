"""Configs: frozen dataclasses, named presets, ``.fast()`` copies, dotted overrides.

A :class:`Config` is everything that determines a run: data, model sizes, the
method (what D and G minimise) and the training schedule. It is frozen, so a
run's config cannot drift after the Trainer starts; every checkpoint stores
``cfg.to_dict()`` and can rebuild the exact config with :meth:`Config.from_dict`.

Presets are named, e.g. ``PRESETS["dcgan-mnist"]``. ``cfg.fast()`` returns the
tiny copy that tests and ``GANCOURSE_FAST=1`` use. Unknown keys are errors that
list the valid keys, so a typo in ``--set train.stpes=10`` never passes silently.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = [
    "Config",
    "DataConfig",
    "ModelConfig",
    "MethodConfig",
    "TrainConfig",
    "ConfigError",
    "PRESETS",
    "get_preset",
    "fast_mode",
]


class ConfigError(ValueError):
    """A config key or value that does not exist or does not fit."""


@dataclass(frozen=True)
class DataConfig:
    """Which data to train on.

    Attributes:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"ring8"`` (see
            :func:`gancourse.data.load_dataset`).
        split: ``"train"`` or ``"test"``.
        batch_size: real samples per D step (and fake samples per G step).
        limit: use only the first ``limit`` examples (``None``: all of them).
    """

    name: str = "mnist"
    split: str = "train"
    batch_size: int = 64
    limit: int | None = None


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and sizes of G and D.

    Attributes:
        arch: ``"mlp"``, ``"dcgan"`` or ``"resnet"`` (see :mod:`gancourse.models`).
        z_dim: dimension of the latent code ``z ~ N(0, I)``.
        img_channels: image channels ``C`` (1 for MNIST); ignored for 2-D toy data.
        img_size: image side ``H = W``; DCGAN supports 28, 32 and 64.
        g_width: MLP hidden width / DCGAN base channel count of G.
        d_width: the same for D.
        d_norm: normalisation of D's hidden layers: ``"batch"`` (DCGAN),
            ``"layer"`` or ``"none"``. A WGAN-GP critic must not use ``"batch"``:
            batch statistics break the per-sample gradient penalty (Gulrajani et
            al. 2017, section 4). See :mod:`gancourse.nn.norm`.
    """

    arch: str = "dcgan"
    z_dim: int = 100
    img_channels: int = 1
    img_size: int = 28
    g_width: int = 64
    d_width: int = 64
    d_norm: str = "batch"


@dataclass(frozen=True)
class MethodConfig:
    """The training objective (see :mod:`gancourse.gans`).

    Attributes:
        name: ``"vanilla"`` (Goodfellow et al. 2014), ``"wgan"`` (weight clipping,
            Arjovsky et al. 2017) or ``"wgan-gp"`` (gradient penalty, Gulrajani
            et al. 2017).
        g_loss: vanilla only: ``"nonsaturating"`` (what everyone trains with) or
            ``"minimax"`` (the saturating loss of eq. 1, for demonstrations).
        n_d_steps: discriminator (critic) updates per generator update; the WGAN
            papers' ``n_critic = 5``.
        clip_c: wgan only: every critic weight is clipped to ``[-c, c]`` after
            each critic step (Algorithm 1, ``c = 0.01``).
        gp_lambda: wgan-gp only: the penalty weight ``lambda`` (Algorithm 1, 10).
        gp_side: wgan-gp only: ``"two-sided"`` ``(||grad|| - 1)^2`` as in the
            paper, or ``"one-sided"`` ``max(0, ||grad|| - 1)^2`` (its appendix).
    """

    name: str = "vanilla"
    g_loss: str = "nonsaturating"
    n_d_steps: int = 1
    clip_c: float = 0.01
    gp_lambda: float = 10.0
    gp_side: str = "two-sided"


@dataclass(frozen=True)
class TrainConfig:
    """The schedule, optimisers and bookkeeping of :class:`gancourse.train.Trainer`.

    Attributes:
        steps: generator updates to run (each preceded by ``n_d_steps`` D updates).
        optimizer: ``"adam"`` or ``"rmsprop"`` (see :data:`gancourse.train.OPTIMIZERS`).
        lr_g, lr_d: learning rates of G and D.
        betas: Adam's ``(beta1, beta2)``; DCGAN uses ``(0.5, 0.999)`` because the
            default ``beta1 = 0.9`` oscillates (Radford et al. 2016, section 4).
        seed: seeds parameters, data order and noise.
        sample_every: save a fixed-noise sample grid every this many steps.
        log_every: append a JSON line of losses every this many steps.
        ckpt_every: write ``last.pt`` every this many steps (and at the end).
        n_samples: size of the fixed-noise grid.
        ema_decay: if > 0, keep an exponential moving average of G's weights.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device string.
        amp: bfloat16 autocast on CUDA (ignored elsewhere).
        lr_decay: ``"none"`` or ``"linear"``: both learning rates fall linearly
            to 0 at ``steps`` (the WGAN-GP CIFAR-10 ResNet schedule).
        eval_every: if > 0, log the domain FID
            (:class:`~gancourse.metrics.domain.DomainFID`, MNIST and Fashion-MNIST)
            every this many steps and at the
            end; its time is not counted in the run's wall time.
        eval_n: generated samples per domain-FID evaluation.
        max_time_s: if > 0, stop (and save) once the run has trained this many
            seconds in all, even before ``steps``: for comparisons at equal wall
            time. Evaluation time does not count.
    """

    steps: int = 5000
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    seed: int = 0
    sample_every: int = 500
    log_every: int = 25
    ckpt_every: int = 1000
    n_samples: int = 64
    ema_decay: float = 0.0
    device: str = "auto"
    amp: bool = False
    lr_decay: str = "none"
    eval_every: int = 0
    eval_n: int = 1000
    max_time_s: float = 0.0


@dataclass(frozen=True)
class Config:
    """A whole run: ``data``, ``model``, ``method``, ``train`` and a preset ``name``."""

    name: str = "custom"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    # -- conversions -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-serialisable: tuples become lists)."""
        return _jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        _check_keys(d, cls, "config")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            sub_cls = _SECTIONS.get(f.name)
            if sub_cls is None:
                kwargs[f.name] = d[f.name]
            else:
                sub = d[f.name]
                _check_keys(sub, sub_cls, f.name)
                kwargs[f.name] = sub_cls(
                    **{k: _coerce(sub_cls, k, v) for k, v in sub.items()}
                )
        return cls(**kwargs)

    # -- variants ----------------------------------------------------------------
    def override(self, assignments: list[str] | dict[str, Any]) -> Config:
        """Return a copy with dotted keys set, e.g. ``["train.steps=200"]``.

        Values given as strings are parsed to the field's type
        (``"train.betas=0.5,0.999"``, ``"data.limit=none"``).
        """
        if isinstance(assignments, dict):
            items = list(assignments.items())
        else:
            items = []
            for a in assignments:
                if "=" not in a:
                    raise ConfigError(
                        f"override {a!r} must look like section.key=value, "
                        "e.g. train.steps=200"
                    )
                k, v = a.split("=", 1)
                items.append((k.strip(), v.strip()))
        cfg = self
        for key, value in items:
            cfg = _set_dotted(cfg, key, value)
        return cfg

    def fast(self) -> Config:
        """A tiny copy of this preset that trains in seconds on a CPU.

        Same architecture family and method, smaller widths and data, few steps:
        what tests and ``GANCOURSE_FAST=1`` runs use. It shows the code works, not
        what the model can do.
        """
        cap = 64 if self.model.arch == "mlp" else 16
        small_width = min(self.model.g_width, cap)
        return replace(
            self,
            name=self.name if self.name.endswith("-fast") else f"{self.name}-fast",
            data=replace(self.data, limit=min(self.data.limit or 2048, 2048)),
            model=replace(
                self.model,
                g_width=small_width,
                d_width=min(self.model.d_width, cap),
            ),
            train=replace(
                self.train,
                steps=min(self.train.steps, 200),
                sample_every=50,
                log_every=10,
                ckpt_every=100,
                n_samples=min(self.train.n_samples, 64),
            ),
        )


_SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "method": MethodConfig,
    "train": TrainConfig,
}


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _check_keys(d: Any, cls: type, where: str) -> None:
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(d).__name__}")
    valid = [f.name for f in fields(cls)]
    unknown = sorted(set(d) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown {where} key(s) {', '.join(unknown)}; "
            f"valid keys: {', '.join(valid)}"
        )


def _field_type(cls: type, key: str) -> str:
    for f in fields(cls):
        if f.name == key:
            return str(f.type)
    raise KeyError(key)


def _coerce(cls: type, key: str, value: Any) -> Any:
    """Parse ``value`` (possibly a CLI string) to the type of ``cls.key``."""
    t = _field_type(cls, key)
    if t.startswith("tuple"):
        if isinstance(value, str):
            value = [float(v) for v in value.strip("()[] ").split(",")]
        return tuple(float(v) for v in value)
    if not isinstance(value, str):
        if "float" in t and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    s = value.strip()
    if "None" in t and s.lower() in ("none", "null", ""):
        return None
    try:
        if t.startswith("bool"):
            if s.lower() in ("1", "true", "yes", "on"):
                return True
            if s.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(s)
        if t.startswith("int"):
            return int(s)
        if t.startswith("float"):
            return float(s)
    except ValueError:
        raise ConfigError(f"{key}={value!r} is not a valid {t}") from None
    return s


def _set_dotted(cfg: Config, key: str, value: Any) -> Config:
    parts = key.split(".")
    if len(parts) == 1 and parts[0] == "name":
        return replace(cfg, name=str(value))
    if len(parts) != 2 or parts[0] not in _SECTIONS:
        raise ConfigError(
            f"unknown config key {key!r}; use section.key with section one of "
            f"{', '.join(_SECTIONS)} (e.g. train.steps)"
        )
    section, name = parts
    sub_cls = _SECTIONS[section]
    _check_keys({name: None}, sub_cls, section)
    sub = getattr(cfg, section)
    return replace(
        cfg, **{section: replace(sub, **{name: _coerce(sub_cls, name, value)})}
    )


# -- presets -------------------------------------------------------------------
# The MLP GAN of the seed snippets, corrected: logits out of D, Tanh out of G,
# non-saturating G loss, Adam(2e-4, betas=(0.5, 0.999)).
PRESETS: dict[str, Config] = {
    "vanilla-mnist": Config(
        name="vanilla-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=ModelConfig(arch="mlp", z_dim=64, g_width=256, d_width=256),
        method=MethodConfig(name="vanilla", g_loss="nonsaturating", n_d_steps=1),
        train=TrainConfig(steps=10000, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
    ),
    # DCGAN (Radford et al. 2016): all-convolutional, BatchNorm, Adam(2e-4, 0.5).
    "dcgan-mnist": Config(
        name="dcgan-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=ModelConfig(arch="dcgan", z_dim=100, img_size=28, g_width=64, d_width=64),
        method=MethodConfig(name="vanilla", g_loss="nonsaturating", n_d_steps=1),
        train=TrainConfig(steps=5000, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
    ),
    # The 2-D ring of 8 Gaussians (Metz et al. 2017): mode collapse made visible.
    "vanilla-ring8": Config(
        name="vanilla-ring8",
        data=DataConfig(name="ring8", batch_size=256),
        model=ModelConfig(
            arch="mlp", z_dim=2, img_channels=0, img_size=0, g_width=128, d_width=128
        ),
        method=MethodConfig(name="vanilla", g_loss="nonsaturating", n_d_steps=1),
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
        model=ModelConfig(arch="dcgan", z_dim=100, img_size=28, g_width=64, d_width=64),
        method=MethodConfig(name="wgan", n_d_steps=5, clip_c=0.01),
        train=TrainConfig(steps=3000, optimizer="rmsprop", lr_g=5e-5, lr_d=5e-5),
    ),
    # WGAN-GP (Gulrajani et al. 2017, Algorithm 1): lambda = 10, 5 critic steps,
    # Adam(1e-4, betas=(0, 0.9)), a critic with layer norm instead of BatchNorm.
    "wgangp-mnist": Config(
        name="wgangp-mnist",
        data=DataConfig(name="mnist", batch_size=64),
        model=ModelConfig(
            arch="dcgan", z_dim=100, img_size=28, g_width=64, d_width=64, d_norm="layer"
        ),
        method=MethodConfig(name="wgan-gp", n_d_steps=5, gp_lambda=10.0),
        train=TrainConfig(steps=3000, lr_g=1e-4, lr_d=1e-4, betas=(0.0, 0.9)),
    ),
    # The paper's CIFAR-10 ResNet (Gulrajani et al. 2017, appendix F): 128 channels
    # in G and the critic, no normalisation in the critic, Adam(2e-4, (0, 0.9))
    # decayed linearly to 0 over 100,000 generator steps, batch 64. A GPU run.
    # (The authors' code also doubles the batch for G's step; we keep one batch size.)
    "wgangp-cifar10": Config(
        name="wgangp-cifar10",
        data=DataConfig(name="cifar10", batch_size=64),
        model=ModelConfig(
            arch="resnet",
            z_dim=128,
            img_channels=3,
            img_size=32,
            g_width=128,
            d_width=128,
            d_norm="none",
        ),
        method=MethodConfig(name="wgan-gp", n_d_steps=5, gp_lambda=10.0),
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
# authors' toy script also lowers lambda to 0.1; we keep the paper's 10.)
PRESETS["wgangp-ring8"] = replace(
    PRESETS["vanilla-ring8"],
    name="wgangp-ring8",
    model=replace(PRESETS["vanilla-ring8"].model, d_norm="none"),
    method=PRESETS["wgangp-mnist"].method,
    train=replace(PRESETS["vanilla-ring8"].train, betas=(0.5, 0.9)),
)
PRESETS["wgangp-fashion"] = replace(
    PRESETS["wgangp-mnist"],
    name="wgangp-fashion",
    data=replace(PRESETS["wgangp-mnist"].data, name="fashion-mnist"),
)


def fast_mode() -> bool:
    """True when the environment asks for tiny runs (``GANCOURSE_FAST=1``)."""
    return os.environ.get("GANCOURSE_FAST", "").strip().lower() in ("1", "true", "yes")


def get_preset(name: str, fast: bool | None = None) -> Config:
    """The preset called ``name``; its ``.fast()`` copy when ``fast`` (default:
    :func:`fast_mode`). Unknown names raise :class:`ConfigError` listing presets."""
    if name not in PRESETS:
        raise ConfigError(
            f"unknown preset {name!r}; available presets: {', '.join(sorted(PRESETS))}"
        )
    cfg = PRESETS[name]
    if fast is None:
        fast = fast_mode()
    return cfg.fast() if fast else cfg
