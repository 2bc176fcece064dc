"""Sphinx extension: make the checkout's ``gancourse`` importable for autodoc.

The API reference (book/api.md) documents the package in this repository. In the
course's ``.venv`` it is installed editable (``pip install -e .``), but a build from any
other environment would import an older installed copy or nothing at all; putting the
repository root first on ``sys.path`` makes autodoc read the code being built.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict:
    root = str(Path(app.srcdir).resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
