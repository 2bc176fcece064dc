"""Checkpoint files: written atomically, read with clear errors.

A checkpoint is a dict saved with :func:`torch.save`. It always holds
``format="gancourse"``, a ``kind`` (``"train"`` for a resumable training state,
``"pretrained"`` for shipped generator weights), the resolved config, the command
and the package version that produced it.

Writes go to a temporary file in the same folder, are flushed to disk, and then
renamed over the target with :func:`os.replace`, which is atomic on POSIX and
Windows: a process killed mid-save leaves the previous checkpoint intact.
Reads use ``weights_only=True`` (no arbitrary pickles).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

FORMAT = "gancourse"
FORMAT_VERSION = 2
"""2: named networks (``nets``, ``ema``, ``opt`` per group), the method's own
config section, ``data_state``, ``fixed_inputs``. Files of version 1 (``G``,
``D``, ``G_ema``, ``opt_g``, ``opt_d``, ``fixed_z``, a flat method config) are
read through :func:`upgrade_checkpoint`."""

__all__ = [
    "CheckpointError",
    "save_atomic",
    "load_checkpoint",
    "upgrade_checkpoint",
    "FORMAT",
]


class CheckpointError(RuntimeError):
    """A checkpoint that is missing, unreadable or of the wrong kind."""


def save_atomic(obj: dict[str, Any], path: str | os.PathLike) -> Path:
    """Save ``obj`` to ``path`` so that readers see the old file or the new one.

    Never a half-written file, even if the process is killed during the save.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():  # the save failed before the rename: drop the partial file
            tmp.unlink()
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:  # pragma: no cover - not supported on every platform
        pass
    return path


def load_checkpoint(
    path: str | os.PathLike,
    kind: str | None = None,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load a gancourse checkpoint; check its ``kind`` (``"train"``, ``"pretrained"``).

    Raises:
        CheckpointError: missing file, truncated or corrupt file, a file that is
            not a gancourse checkpoint, or a checkpoint of another kind.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path}; train one with `gancourse train --preset NAME "
            "--out DIR` (it writes DIR/last.pt)"
        )
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except (
        RuntimeError,
        EOFError,
        pickle.UnpicklingError,
        zipfile.BadZipFile,
        ValueError,
        OSError,
        # garbage bytes fail inside the unpickler with whatever opcode they hit
        LookupError,
    ) as e:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt: "
            f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]}). "
            "Checkpoints are written atomically, so an older copy is intact if one "
            "was saved."
        ) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a PyTorch file but not a gancourse checkpoint (no "
            "format='gancourse' entry); was it written by `gancourse train`?"
        )
    if kind is not None and ckpt.get("kind") != kind:
        raise CheckpointError(
            f"{path} is a {ckpt.get('kind')!r} checkpoint, but a {kind!r} one is needed"
            + (
                "; resume needs the last.pt of a training run"
                if kind == "train"
                else ""
            )
        )
    return ckpt


# keys of the version-1 flat configs that the per-method / per-arch dataclasses
# dropped: their values were ignored by the methods and archs that did not use them
_V1_METHOD_KEYS = ("g_loss", "n_d_steps", "clip_c", "gp_lambda", "gp_side")
_V1_MODEL_KEYS = ("img_channels", "img_size", "g_width", "d_width", "d_norm")


def _upgrade_config_v1(cfg: dict[str, Any]) -> dict[str, Any]:
    from dataclasses import fields

    from gancourse.gans import METHODS
    from gancourse.models import ARCHS

    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.items()}
    method = cfg.get("method", {})
    keep = {f.name for f in fields(METHODS[method.get("name", "vanilla")].Config)}
    cfg["method"] = {
        k: v for k, v in method.items() if k in keep or k not in _V1_METHOD_KEYS
    }
    model = cfg.get("model", {})
    keep = {f.name for f in fields(ARCHS[model.get("arch", "dcgan")].Config)}
    cfg["model"] = {
        k: v for k, v in model.items() if k in keep or k not in _V1_MODEL_KEYS
    }
    return cfg


def upgrade_checkpoint(ckpt: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint dict in the current format (a copy if it was older).

    Version 1 (the two-network core) becomes version 2: ``G``/``D`` ->
    ``nets``, ``G_ema`` -> ``ema``, ``opt_g``/``opt_d`` -> ``opt``, ``epoch`` /
    ``cursor`` -> ``data_state``, ``fixed_z`` -> ``fixed_inputs``, and the flat
    method / model config loses the keys its method / arch does not have.
    """
    version = ckpt.get("format_version", 1)
    if version >= 2:
        return ckpt
    new = dict(ckpt)
    new["format_version"] = 2
    new["config"] = _upgrade_config_v1(ckpt["config"])
    if ckpt.get("kind") == "pretrained":
        new["nets"] = {"G": new.pop("G")}
        return new
    new["nets"] = {"G": new.pop("G"), "D": new.pop("D")}
    ema = new.pop("G_ema", None)
    new["ema"] = {"G": ema} if ema is not None else {}
    new["opt"] = {"G": new.pop("opt_g"), "D": new.pop("opt_d")}
    new["data_state"] = {"epoch": new.pop("epoch"), "cursor": new.pop("cursor")}
    new["fixed_inputs"] = {"z": new.pop("fixed_z")}
    history = new.pop("history", [])
    new["evals"] = [r for r in history if "fid" in r]
    return new
