"""Measured figures that the book prints, each written by the script named inside.

``inception-figures.json`` comes from ``tools/inception_figures.py`` (FIDs with
TF-Inception on real data), ``bench-fid.json`` from
``python -m gancourse bench fid --record``. Each record carries its command, data,
hardware, wall time and date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

__all__ = ["load_record", "available_records"]


def available_records() -> list[str]:
    """Names of the shipped records."""
    return sorted(p.stem for p in HERE.glob("*.json"))


def load_record(name: str) -> dict[str, Any]:
    """The record ``name`` (e.g. ``"bench-fid"``) as a dict."""
    path = HERE / f"{name}.json"
    if not path.is_file():
        names = ", ".join(available_records()) or "none"
        raise FileNotFoundError(f"no record called {name!r}; available: {names}")
    return json.loads(path.read_text())
