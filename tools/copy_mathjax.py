"""Copy MathJax 3 from the npm package into ``book/_static/mathjax/`` for offline math.

The book sets ``mathjax_path: mathjax/tex-chtml-full.js`` (relative to ``_static``), so
every page loads MathJax, its fonts and its extensions from the site itself and never
from a CDN. ``book/_static/mathjax/`` is generated (gitignored); its source is the
``mathjax`` devDependency pinned in ``package.json`` / ``package-lock.json``.

Usage (from the repository root)::

    npm ci                        # installs node_modules/mathjax
    python tools/copy_mathjax.py  # node_modules/mathjax/es5 -> book/_static/mathjax
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "mathjax" / "es5"
TARGET = ROOT / "book" / "_static" / "mathjax"
ENTRY = "tex-chtml-full.js"  # must match mathjax_path in _config.yml


def main() -> int:
    if not (SOURCE / ENTRY).is_file():
        print(
            f"error: {SOURCE / ENTRY} not found; run `npm ci` (or `npm install`) in "
            f"{ROOT} first to install the pinned mathjax package.",
            file=sys.stderr,
        )
        return 1
    version = json.loads((SOURCE.parent / "package.json").read_text())["version"]
    if not version.startswith("3."):
        print(f"error: expected MathJax 3.x, found {version}", file=sys.stderr)
        return 1
    stamp = TARGET / ".version"
    fresh = stamp.is_file() and stamp.read_text().strip() == version
    if fresh and (TARGET / ENTRY).is_file():
        print(f"MathJax {version} already in {TARGET.relative_to(ROOT)}")
        return 0
    if TARGET.exists():
        shutil.rmtree(TARGET)
    shutil.copytree(SOURCE, TARGET)
    stamp.write_text(version + "\n")
    print(f"copied MathJax {version} -> {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
