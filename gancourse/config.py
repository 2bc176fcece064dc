"""Configs: frozen dataclasses, named presets, ``.fast()`` copies, dotted overrides.

A :class:`Config` is everything that determines a run: data, model, the method
(what the networks minimise) and the training schedule. It is frozen, so a run's
config cannot drift after the Trainer starts; every checkpoint stores
``cfg.to_dict()`` and can rebuild the exact config with :meth:`Config.from_dict`.

Two sections are *polymorphic*: ``method`` is a dataclass of the chosen method's
own parameters (``method.name`` picks it, see :data:`gancourse.gans.METHODS`), and
``model`` a dataclass of the chosen architecture's (``model.arch``, see
:data:`gancourse.models.ARCHS`). So ``method.clip_c`` exists for ``wgan`` and is
an error for ``wgan-gp``, and the error lists the keys that do exist.

Presets are named, e.g. ``PRESETS["dcgan-mnist"]`` (:mod:`gancourse.presets`).
``cfg.fast()`` returns the tiny copy that tests and ``GANCOURSE_FAST=1`` use.
Values out of range (a batch size of 0, a negative learning rate) are
:class:`ConfigError` s when the config is made, not failures deep in PyTorch.
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
    "fast_mode",
    "method_config",
    "model_config",
]


class ConfigError(ValueError):
    """A config key or value that does not exist or does not fit."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class DataConfig:
    """Which data to train on, and how it reaches the networks.

    Attributes:
        name: ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"ring8"``, the
            paired ``"edges2footwear"``, ``"photo-sr4"``, ``"facades"``,
            ``"edges2shoes"``, or a
            folder of the user's images: ``"folder"`` (class = sub-folder),
            ``"paired"`` (Pix2Pix layout, A|B side by side) or ``"unpaired"``
            (CycleGAN layout); see :func:`gancourse.data.source.build_source`.
        root: the folder, for ``folder`` / ``paired`` / ``unpaired``.
        split: ``"train"`` or ``"test"`` (paired data also ``"val"``).
        batch_size: the *global* batch ``B``: with ``W`` processes each takes
            ``B / W`` samples, and gradient accumulation (``train.accum``) splits
            that further; the gradient is that of the mean over ``B`` (except
            through BatchNorm, whose statistics are those of each micro-batch).
        limit: use only the first ``limit`` examples (``None``: all of them).
        image_size: side of the images fed to the model (folder data is resized
            and cropped to it); ``None``: the dataset's own size.
        load_size: folder data: resize to this side before a random crop of
            ``image_size`` (Pix2Pix's jitter: 286 then 256); ``None``: no jitter.
        flip: folder data: random horizontal flips.
        direction: paired folders: ``"AtoB"`` (``x_src`` = left half) or
            ``"BtoA"``; ``None``: the task of the named dataset (facades
            ``BtoA``, labels -> photo; edges2shoes ``AtoB``), ``AtoB`` for
            ``data.name=paired``.
        balanced: draw each class equally often (a class-balanced sampler) instead
            of a permutation of the data per epoch.
        loader: ``"auto"`` (tensors in device memory for the named small
            datasets, a streaming ``DataLoader`` for folders), ``"memory"`` or
            ``"stream"``.
        workers: ``DataLoader`` worker processes of the streaming path.
    """

    name: str = "mnist"
    root: str | None = None
    split: str = "train"
    batch_size: int = 64
    limit: int | None = None
    image_size: int | None = None
    load_size: int | None = None
    flip: bool = False
    direction: str | None = None
    balanced: bool = False
    loader: str = "auto"
    workers: int = 2

    def __post_init__(self):
        _require(
            self.batch_size >= 1,
            f"data.batch_size must be >= 1, got {self.batch_size}",
        )
        _require(
            self.limit is None or self.limit >= 1,
            f"data.limit must be >= 1 or none, got {self.limit}",
        )
        _require(
            self.loader in ("auto", "memory", "stream"),
            f"data.loader must be auto, memory or stream, got {self.loader!r}",
        )
        _require(
            self.direction in (None, "AtoB", "BtoA"),
            f"data.direction must be AtoB, BtoA or none, got {self.direction!r}",
        )
        _require(self.workers >= 0, f"data.workers must be >= 0, got {self.workers}")
        for key in ("image_size", "load_size"):
            v = getattr(self, key)
            _require(v is None or v >= 1, f"data.{key} must be >= 1, got {v}")


@dataclass(frozen=True)
class ModelConfig:
    """Base of every architecture's config: ``arch`` picks the subclass.

    The subclasses (one per family, e.g. :class:`gancourse.models.dcgan.DCGANConfig`)
    add their own sizes; :data:`gancourse.models.ARCHS` maps ``arch`` to them.

    Attributes:
        arch: ``"mlp"``, ``"dcgan"``, ``"resnet"``, ... (see :mod:`gancourse.models`).
        z_dim: dimension of the latent code ``z ~ N(0, I)``.
    """

    arch: str = "dcgan"
    z_dim: int = 100

    def __post_init__(self):
        _require(self.z_dim >= 1, f"model.z_dim must be >= 1, got {self.z_dim}")


@dataclass(frozen=True)
class MethodConfig:
    """Base of every method's parameters: ``name`` picks the subclass.

    Each method module defines its own subclass (e.g.
    :class:`gancourse.gans.wgangp.WGANGPConfig`); :data:`gancourse.gans.METHODS`
    maps ``name`` to the method, whose ``Config`` attribute is that subclass.
    """

    name: str = "vanilla"


@dataclass(frozen=True)
class TrainConfig:
    """The schedule, optimisers and bookkeeping of :class:`gancourse.train.Trainer`.

    Attributes:
        steps: training steps; one step runs every phase of the method once
            (e.g. ``n_d_steps`` updates of D, then one of G).
        optimizer: ``"adam"`` or ``"rmsprop"`` (see :data:`gancourse.train.OPTIMIZERS`).
        lr_g, lr_d: learning rates of the method's optimiser groups ``G`` and
            ``D`` (unequal rates are TTUR, Heusel et al. 2017).
        betas: Adam's ``(beta1, beta2)``; DCGAN uses ``(0.5, 0.999)`` because the
            default ``beta1 = 0.9`` oscillates (Radford et al. 2016, section 4).
        seed: seeds parameters, data order and noise.
        sample_every: save a fixed-input sample grid every this many steps.
        log_every: log the mean of each logged number over the last
            ``log_every`` steps (and check them for NaN) every this many steps.
        ckpt_every: write ``last.pt`` every this many steps (and at the end).
        n_samples: size of the fixed-input grid.
        ema_decay: if > 0, keep an exponential moving average of the networks
            the method names (G), used for samples and export.
        ema_start: the average copies the weights until this step, then averages.
        device: ``"auto"`` (cuda, then mps, then cpu) or a torch device string.
        amp: bfloat16 autocast (on CUDA, and on the CPU).
        compile: ``torch.compile`` each network, except those the method
            differentiates twice (a gradient-penalty critic stays eager).
        channels_last: networks and image batches in channels-last memory format.
        accum: gradient accumulation: each process's share of the batch is run in
            this many micro-batches before each optimiser step.
        lr_decay: ``"none"`` or ``"linear"``: both learning rates fall linearly
            to 0 at ``steps``, starting at ``lr_decay_start`` (0: from the first
            step, the WGAN-GP CIFAR-10 schedule; CycleGAN and Pix2Pix keep the
            rate constant for half the steps, then decay).
        lr_decay_start: the step at which the linear decay begins.
        eval_every: if > 0, log the domain FID
            (:class:`~gancourse.metrics.domain.DomainFID`, MNIST and Fashion-MNIST)
            every this many steps and at the end; its time is not counted in the
            run's wall time.
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
    ema_start: int = 0
    device: str = "auto"
    amp: bool = False
    compile: bool = False
    channels_last: bool = False
    accum: int = 1
    lr_decay: str = "none"
    lr_decay_start: int = 0
    eval_every: int = 0
    eval_n: int = 1000
    max_time_s: float = 0.0

    def __post_init__(self):
        _require(self.steps >= 0, f"train.steps must be >= 0, got {self.steps}")
        for key in ("lr_g", "lr_d"):
            v = getattr(self, key)
            _require(v >= 0, f"train.{key} must be >= 0, got {v}")
        _require(
            len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas),
            f"train.betas must be two numbers in [0, 1), got {self.betas}",
        )
        for key in ("sample_every", "log_every", "ckpt_every", "n_samples", "accum"):
            v = getattr(self, key)
            _require(v >= 1, f"train.{key} must be >= 1, got {v}")
        _require(
            0 <= self.ema_decay < 1,
            f"train.ema_decay must be in [0, 1), got {self.ema_decay}",
        )
        _require(
            self.lr_decay in ("none", "linear"),
            f"train.lr_decay must be none or linear, got {self.lr_decay!r}",
        )
        _require(
            0 <= self.lr_decay_start <= max(self.steps - 1, 0),
            f"train.lr_decay_start must be in [0, train.steps), got "
            f"{self.lr_decay_start} with train.steps={self.steps}",
        )
        for key in ("ema_start", "eval_every", "eval_n", "max_time_s"):
            v = getattr(self, key)
            _require(v >= 0, f"train.{key} must be >= 0, got {v}")


@dataclass(frozen=True)
class Config:
    """A whole run: ``data``, ``model``, ``method``, ``train`` and a preset ``name``."""

    name: str = "custom"
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=lambda: model_config("dcgan"))
    method: MethodConfig = field(default_factory=lambda: method_config("vanilla"))
    train: TrainConfig = field(default_factory=TrainConfig)

    # -- conversions -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-serialisable: tuples become lists)."""
        return _jsonable(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Config:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        _check_keys(d, [f.name for f in fields(cls)], "config")
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in d:
                continue
            if f.name == "name":
                kwargs["name"] = d["name"]
                continue
            sub = d[f.name]
            if not isinstance(sub, dict):
                raise ConfigError(
                    f"{f.name} must be a mapping, got {type(sub).__name__}"
                )
            sub_cls = _section_class(f.name, sub)
            _check_keys(sub, [g.name for g in fields(sub_cls)], _where(f.name, sub_cls))
            kwargs[f.name] = sub_cls(
                **{k: _coerce(sub_cls, k, v) for k, v in sub.items()}
            )
        return cls(**kwargs)

    # -- variants ----------------------------------------------------------------
    def override(self, assignments: list[str] | dict[str, Any]) -> Config:
        """Return a copy with dotted keys set, e.g. ``["train.steps=200"]``.

        Values given as strings are parsed to the field's type
        (``"train.betas=0.5,0.999"``, ``"data.limit=none"``). Setting
        ``method.name`` or ``model.arch`` switches to that method's (arch's)
        dataclass, keeping the values of the keys both have.
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
        # switch the polymorphic sections first, so that their keys can follow
        items.sort(key=lambda kv: kv[0] not in ("method.name", "model.arch"))
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
        model = self.model
        cap = 64 if model.arch == "mlp" else 16
        widths = {
            f.name: min(getattr(model, f.name), cap)
            for f in fields(model)
            if f.name in ("g_width", "d_width")
        }
        return replace(
            self,
            name=self.name if self.name.endswith("-fast") else f"{self.name}-fast",
            data=replace(self.data, limit=min(self.data.limit or 2048, 2048)),
            model=replace(model, **widths),
            train=replace(
                self.train,
                steps=min(self.train.steps, 200),
                sample_every=50,
                log_every=10,
                ckpt_every=100,
                n_samples=min(self.train.n_samples, 64),
                lr_decay_start=min(self.train.lr_decay_start, 100),
            ),
        )


_SECTIONS = {
    "data": DataConfig,
    "model": ModelConfig,
    "method": MethodConfig,
    "train": TrainConfig,
}
# polymorphic sections: the key that picks the dataclass
_SELECTOR = {"model": "arch", "method": "name"}


def method_config(name: str, **params: Any) -> MethodConfig:
    """The parameter dataclass of method ``name`` with ``params`` set, e.g.
    ``method_config("wgan-gp", gp_lambda=10.0)``."""
    return _section_class("method", {"name": name})(name=name, **params)


def model_config(arch: str, **params: Any) -> ModelConfig:
    """The config dataclass of architecture ``arch``, e.g.
    ``model_config("dcgan", img_size=32)``."""
    return _section_class("model", {"arch": arch})(arch=arch, **params)


def _section_class(section: str, d: dict[str, Any]) -> type:
    """The dataclass of a section: fixed, or chosen by ``name`` / ``arch``."""
    if section not in _SELECTOR:
        return _SECTIONS[section]
    key = _SELECTOR[section]
    if section == "method":
        from gancourse.gans import METHODS as table
    else:
        from gancourse.models import ARCHS as table
    default = _SECTIONS[section].__dataclass_fields__[key].default
    choice = d.get(key, default)
    if choice not in table:
        raise ConfigError(
            f"unknown {section}.{key} {choice!r}; choose one of {', '.join(table)}"
        )
    return table[choice].Config


def _where(section: str, cls: type) -> str:
    key = _SELECTOR.get(section)
    if key is None:
        return section
    return f"{section} ({key}={cls.__dataclass_fields__[key].default})"


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _check_keys(d: Any, valid: list[str], where: str) -> None:
    if not isinstance(d, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(d).__name__}")
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
            try:
                value = [float(v) for v in value.strip("()[] ").split(",")]
            except ValueError:
                raise ConfigError(f"{key}={value!r} is not a valid {t}") from None
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
    sub = getattr(cfg, section)
    if _SELECTOR.get(section) == name:  # switch method / arch: keep shared keys
        new_cls = _section_class(section, {name: str(value)})
        if type(sub) is new_cls:
            return cfg
        keep = {
            f.name: getattr(sub, f.name)
            for f in fields(new_cls)
            if f.name != name and hasattr(sub, f.name)
        }
        return replace(cfg, **{section: new_cls(**{name: str(value)}, **keep)})
    sub_cls = type(sub)
    _check_keys(
        {name: None}, [f.name for f in fields(sub_cls)], _where(section, sub_cls)
    )
    return replace(
        cfg, **{section: replace(sub, **{name: _coerce(sub_cls, name, value)})}
    )


def fast_mode() -> bool:
    """True when the environment asks for tiny runs (``GANCOURSE_FAST=1``)."""
    return os.environ.get("GANCOURSE_FAST", "").strip().lower() in ("1", "true", "yes")


def __getattr__(name: str) -> Any:
    # The presets (gancourse.presets) need the method and model dataclasses, whose
    # modules import this one: load them on first use, so that importing
    # gancourse.models (or .gans) first works too.
    if name in ("PRESETS", "get_preset"):
        from gancourse import presets

        return getattr(presets, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
