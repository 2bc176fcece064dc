"""The course's repository URL, read from ``_config.yml`` (its single source of truth).

``_config.yml`` holds ``repository: url / branch / path_to_book``; everything else that
needs the URL (Colab links, the notebooks' setup cell, tests) derives it from there.

Usage::

    python tools/repo_url.py                 # prints https://github.com/<owner>/<repo>
    python tools/repo_url.py --colab notebooks/exercises/01_vanilla_gan.ipynb
    python tools/repo_url.py --pip           # prints git+https://github.com/<owner>/<repo>

Only the standard library is needed: the ``repository:`` block is parsed by hand so
the script runs before PyYAML is installed.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLAB = "https://colab.research.google.com"


def read_repository(config_path: str | Path | None = None) -> dict[str, str]:
    """Return the ``repository`` block of ``_config.yml`` as ``{"url", "branch", ...}``.

    Args:
        config_path: path to ``_config.yml``; default: the one at the repository root.

    Raises:
        KeyError: if the file has no ``repository: url:`` entry.
    """
    path = Path(config_path) if config_path else ROOT / "_config.yml"
    block: dict[str, str] = {}
    inside = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if re.match(r"^repository:\s*(#.*)?$", line):
            inside = True
            continue
        if inside:
            if line and not line[0].isspace() and not line.startswith("#"):
                break  # next top-level key
            m = re.match(r"^\s+(\w+):\s*([^#\s]+)", line)
            if m:
                block[m.group(1)] = m.group(2).strip("\"'")
    if "url" not in block:
        raise KeyError(f"{path} has no 'repository: url:' entry")
    block.setdefault("branch", "main")
    return block


def repository_url(config_path: str | Path | None = None) -> str:
    """``https://github.com/<owner>/<repo>`` without a trailing slash or ``.git``."""
    url = read_repository(config_path)["url"].rstrip("/")
    return url[: -len(".git")] if url.endswith(".git") else url


def colab_url(notebook: str, config_path: str | Path | None = None) -> str:
    """Colab URL that opens ``notebook`` (a path relative to the repository root)."""
    repo = read_repository(config_path)
    slug = repository_url(config_path).split("github.com/", 1)[-1]
    return f"{COLAB}/github/{slug}/blob/{repo['branch']}/{notebook.lstrip('/')}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--colab", metavar="NOTEBOOK", help="print the Colab URL")
    parser.add_argument("--pip", action="store_true", help="print a pip git+ URL")
    args = parser.parse_args(argv)
    if args.colab:
        print(colab_url(args.colab))
    elif args.pip:
        print(f"git+{repository_url()}")
    else:
        print(repository_url())


if __name__ == "__main__":
    main()
