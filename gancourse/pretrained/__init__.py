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

from gancourse.checkpoint import CheckpointError, load_checkpoint
from gancourse.config import Config
from gancourse.models import build_generator

HERE = Path(__file__).resolve().parent

__all__ = [
    "load_pretrained",
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
    key = "G_ema" if ema and ckpt.get("G_ema") is not None else "G"
    return key, ckpt[key]


def generator_from_checkpoint(
    ckpt: dict[str, Any], device: str | torch.device = "cpu", ema: bool = True
) -> nn.Module:
    """G in eval mode, from a ``"train"`` or ``"pretrained"`` checkpoint dict."""
    cfg = Config.from_dict(ckpt["config"])
    G = build_generator(cfg.model, tuple(ckpt["sample_shape"]))
    _, state = generator_state(ckpt, ema)
    G.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    )
    return G.to(device).eval()


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
