"""Generator weights shipped with the package, trained with ``gancourse train``.

Each shipped model is two files in this folder: ``<name>.pt`` (a ``"pretrained"``
checkpoint: config, sample shape and G's weights in float16) and ``<name>.json``
(how it was made: command, steps, data, hardware, wall time). They are written by
``gancourse export`` from a training run; see ``tools/train_pretrained.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gancourse.checkpoint import CheckpointError, load_checkpoint, upgrade_checkpoint
from gancourse.config import Config
from gancourse.sampling import Sampler

HERE = Path(__file__).resolve().parent

__all__ = [
    "load_pretrained",
    "load_sampler",
    "sampler_from_checkpoint",
    "available",
    "pretrained_info",
    "generator_from_checkpoint",
]


def available() -> list[str]:
    """Names of the shipped generators."""
    return sorted(p.stem for p in HERE.glob("*.pt"))


def pretrained_info(name: str) -> dict[str, Any]:
    """The record of how ``name`` was trained (from ``<name>.json``)."""
    path = HERE / f"{name}.json"
    if not path.is_file():
        raise CheckpointError(_unknown(name))
    return json.loads(path.read_text())


def generator_state(ckpt: dict[str, Any], ema: bool = True) -> tuple[str, dict]:
    """``("G_ema", weights)`` when the checkpoint has an EMA generator and ``ema``,
    else ``("G", weights)``."""
    states = exported_states(ckpt, ema)
    return states["G"]


def exported_states(
    ckpt: dict[str, Any], ema: bool = True
) -> dict[str, tuple[str, dict]]:
    """Each exported network's weights, the EMA copy where the checkpoint has one
    and ``ema``: ``{"G": ("G_ema", state)}`` or ``{"G": ("G", state)}``."""
    from gancourse.gans import build_method

    ckpt = upgrade_checkpoint(ckpt)
    method = build_method(Config.from_dict(ckpt["config"]).method)
    averages = ckpt.get("ema") or {}
    out = {}
    for name in method.exported:
        if ema and name in averages:
            out[name] = (f"{name}_ema", averages[name])
        else:
            out[name] = (name, ckpt["nets"][name])
    return out


def sampler_from_checkpoint(
    ckpt: dict[str, Any], device: str | torch.device = "cpu", ema: bool = True
) -> Sampler:
    """The method of a ``"train"`` or ``"pretrained"`` checkpoint with its
    exported networks (EMA copies when present and ``ema``), in eval mode."""
    from gancourse.gans import DataSpec, build_method

    ckpt = upgrade_checkpoint(ckpt)
    cfg = Config.from_dict(ckpt["config"])
    method = build_method(cfg.method)
    spec = ckpt.get("spec")
    if spec is not None:
        spec = DataSpec(
            keys=tuple(spec["keys"]),
            shapes={k: tuple(v) for k, v in spec["shapes"].items()},
            n_classes=spec.get("n_classes"),
            n=spec.get("n", 0),
        )
    else:  # format 1: unconditional images or points
        spec = DataSpec(keys=("x",), shapes={"x": tuple(ckpt["sample_shape"])})
    method.build(cfg.model, spec)
    if ckpt.get("kind") == "pretrained":
        states = {name: (name, state) for name, state in ckpt["nets"].items()}
    else:
        states = exported_states(ckpt, ema)
    nets = nn.ModuleDict()
    for name, (_, state) in states.items():
        net = method.nets[name]
        net.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        )
        nets[name] = net
    method.nets = nets.to(device).eval()
    return Sampler(method, method.nets)


def generator_from_checkpoint(
    ckpt: dict[str, Any], device: str | torch.device = "cpu", ema: bool = True
) -> nn.Module:
    """G in eval mode, from a ``"train"`` or ``"pretrained"`` checkpoint dict."""
    return sampler_from_checkpoint(ckpt, device, ema).nets["G"]


def load_sampler(name: str, device: str | torch.device = "cpu") -> Sampler:
    """A shipped model as a :class:`~gancourse.sampling.Sampler` (any method)."""
    path = HERE / f"{name}.pt"
    if not path.is_file():
        raise CheckpointError(_unknown(name))
    return sampler_from_checkpoint(load_checkpoint(path, kind="pretrained"), device)


def load_pretrained(
    name: str, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """A shipped generator in eval mode and the record of how it was trained.

    >>> G, info = load_pretrained("dcgan-mnist")
    >>> x = G(torch.randn(16, G.z_dim))   # (16, 1, 28, 28) in [-1, 1]
    """
    path = HERE / f"{name}.pt"
    if not path.is_file():
        raise CheckpointError(_unknown(name))
    ckpt = load_checkpoint(path, kind="pretrained")
    return generator_from_checkpoint(ckpt, device), dict(ckpt["info"])


def _unknown(name: str) -> str:
    names = ", ".join(available()) or "none (reinstall the package)"
    return f"no shipped generator called {name!r}; available: {names}"
