"""Paired data for image-to-image translation (chapter 4, Pix2Pix).

Items are dicts: ``x_src`` the input image, ``x`` the target, both float32
``(C, H, W)`` in ``[-1, 1]``, and for ``edges2footwear`` the class ``y``.
:func:`~gancourse.data.load_paired` gives them by name:

* ``"edges2footwear"`` (offline): Fashion-MNIST's sandals, sneakers and ankle
  boots (classes 5, 7, 9; Xiao et al. 2017, MIT licence) and their edge maps, a
  small stand-in for Pix2Pix's edges2shoes. Recipe (``EDGES2FOOTWEAR_RECIPE``):

  1. each 28x28 image is padded with 2 black pixels per side to 32x32 (the
     Fashion-MNIST background is black). Padding, not resizing: the target keeps
     the dataset's own pixels, outlines that touch the 28x28 frame stay closed,
     and ``x[..., 2:-2, 2:-2]`` is again the exact Fashion-MNIST image for a
     classifier trained on it (a judge);
  2. ``x_src`` = Canny edges (Canny 1986; ``skimage.feature.canny`` with
     ``sigma=1.0`` and its default thresholds 0.1 / 0.2 on the image scaled to
     ``[0, 1]``) drawn as black lines (``-1``) on white (``+1``), as the sketches
     of edges2shoes. Canny beat thresholded Sobel magnitudes here: one-pixel,
     mostly closed outlines instead of two-pixel bands that merge in small parts;
  3. ``x`` = the padded grey image, ``y`` = its Fashion-MNIST label (5, 7 or 9,
     so a Fashion-MNIST classifier judges it directly; ``n_classes`` is 10).

  Train comes from Fashion-MNIST's train split (18,000 pairs), test from its test
  split (3,000 pairs), in file order. Building takes about 12 s on one CPU core,
  so the arrays are cached as uint8 in ``<data root>/edges2footwear/<split>.npz``
  with a ``SOURCE.json``; a cache made by another recipe is rebuilt.

* ``"facades"``, ``"edges2shoes"`` (download): the Pix2Pix archives (Isola et al.
  2017) at ``http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/<name>.tar.gz``,
  unpacked to ``<data root>/<name>/<split>/*.jpg`` (A | B side by side) and read
  by :class:`~gancourse.data.PairedFolderDataset`. facades: A = photo,
  B = label map, the paper's task is labels -> photo (``direction="BtoA"``, as
  the reference ``scripts/train_pix2pix.sh``); edges2shoes: A = edges, B = photo
  (``"AtoB"``). :func:`~gancourse.data.download_pix2pix` fetches, checks and
  unpacks them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from gancourse.data.datasets import (
    DATASETS,
    PAIRED,
    PIX2PIX_ARCHIVES,
    SOURCE_FILE,
    DataNotFoundError,
    _prepare_hint,
    _short_reason,
    canonical_name,
    check_split,
    data_root,
    dataset_source,
    files_present,
    load_torchvision,
    write_source,
)

EDGES2FOOTWEAR_CLASSES = (5, 7, 9)
"""Fashion-MNIST classes kept: sandal, sneaker, ankle boot."""

EDGES2FOOTWEAR_RECIPE: dict[str, Any] = {
    "version": 1,
    "classes": list(EDGES2FOOTWEAR_CLASSES),
    "pad": 2,
    "edges": "skimage.feature.canny(x / 255, sigma=1.0, low_threshold=0.1, "
    "high_threshold=0.2)",
    "x_src": "255 - 255 * edges: black lines (0 -> -1) on white (255 -> +1)",
    "x": "the padded Fashion-MNIST image",
    "y": "the Fashion-MNIST label",
}
"""How ``edges2footwear`` is made; stored with the cache, which is rebuilt when
this changes."""

CANNY_SIGMA = 1.0
CANNY_THRESHOLDS = (0.1, 0.2)  # skimage's defaults for float images, made explicit
PAD = 2


# ---------------------------------------------------------------- edges2footwear


def _canny():
    try:
        from skimage.feature import canny
    except ImportError:
        raise DataNotFoundError(
            "building edges2footwear needs scikit-image (its Canny edge detector): "
            "run `pip install scikit-image`, then load the data again."
        ) from None
    return canny


def edge_map(images: np.ndarray, sigma: float = CANNY_SIGMA) -> np.ndarray:
    """Canny edges of grey images as black lines on white.

    Args:
        images: uint8 ``(N, H, W)``, pixels 0..255.
        sigma: standard deviation of the Gaussian smoothing before the gradient.

    Returns:
        uint8 ``(N, H, W)``: 0 on an edge, 255 elsewhere. Canny (1986) as
        ``skimage.feature.canny`` computes it on ``images / 255`` with hysteresis
        thresholds 0.1 and 0.2 on the gradient magnitude.
    """
    canny = _canny()
    low, high = CANNY_THRESHOLDS
    out = np.empty(images.shape, dtype=np.uint8)
    for i, img in enumerate(images):
        edges = canny(
            img.astype(np.float64) / 255.0,
            sigma=sigma,
            low_threshold=low,
            high_threshold=high,
        )
        out[i] = np.where(edges, 0, 255)
    return out


def build_edges2footwear(
    images: np.ndarray, labels: np.ndarray
) -> dict[str, np.ndarray]:
    """The pairs of :data:`EDGES2FOOTWEAR_CLASSES` among Fashion-MNIST images.

    Args:
        images: uint8 ``(N, 28, 28)``.
        labels: ``(N,)`` ints 0..9.

    Returns:
        ``{"x_src": uint8 (M, 1, 32, 32), "x": uint8 (M, 1, 32, 32), "y": int64
        (M,)}``: the kept images in their order, padded by 2 (black), and their
        edge maps (:func:`~gancourse.data.edge_map`, 0 = line, 255 = paper).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    keep = np.isin(labels, EDGES2FOOTWEAR_CLASSES)
    # (M, 28, 28) -> (M, 32, 32): 2 black pixels on each side
    x = np.pad(images[keep], ((0, 0), (PAD, PAD), (PAD, PAD)))
    x_src = edge_map(x)
    return {
        "x_src": x_src[:, None],  # (M, 32, 32) -> (M, 1, 32, 32)
        "x": x[:, None],
        "y": labels[keep].astype(np.int64),
    }


def _cache_path(root: Path, split: str) -> Path:
    return root / DATASETS["edges2footwear"]["folder"] / f"{split}.npz"


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None when absent, unreadable or of another recipe."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            if json.loads(str(f["recipe"])) != EDGES2FOOTWEAR_RECIPE:
                return None
            return {k: f[k] for k in ("x_src", "x", "y")}
    except (OSError, ValueError, KeyError):
        return None


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (a temporary file renamed), so that concurrent builders or
    an interrupted one never leave half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez_compressed(
                f, recipe=np.array(json.dumps(EDGES2FOOTWEAR_RECIPE)), **arrays
            )
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def edges2footwear_arrays(
    split: str = "train",
    root: str | Path | None = None,
    download: bool = True,
    rebuild: bool = False,
    log: Callable[[str], Any] | None = None,
) -> dict[str, np.ndarray]:
    """The ``edges2footwear`` arrays of ``split``, from the cache or built.

    Args:
        split: ``"train"`` (from Fashion-MNIST train) or ``"test"`` (from its test).
        root: data root (default :func:`~gancourse.data.data_root`).
        download: may torchvision download Fashion-MNIST if it is missing.
        rebuild: build even if a cache is there.
        log: called with a line when the split is built.

    Returns:
        ``{"x_src", "x": uint8 (N, 1, 32, 32), "y": int64 (N,)}`` (see
        ``build_edges2footwear``).

    Raises:
        DataNotFoundError: Fashion-MNIST missing (and not downloadable), or
            scikit-image not installed; the message says what to run.
    """
    name = "edges2footwear"
    check_split(name, split)
    root = Path(root).expanduser() if root is not None else data_root()
    path = _cache_path(root, split)
    cached = None if rebuild else _read_cache(path)
    if cached is not None:
        return cached
    _canny()  # fail before reading anything when scikit-image is missing
    start = time.perf_counter()
    try:
        fashion = load_torchvision("fashion-mnist", split, root, download)
    except DataNotFoundError as err:
        raise DataNotFoundError(
            f"edges2footwear is built from Fashion-MNIST: {err}"
        ) from None
    arrays = build_edges2footwear(fashion.data.numpy(), fashion.targets.numpy())
    _write_cache(path, arrays)
    seconds = time.perf_counter() - start
    _record_build(root, split, len(arrays["y"]), seconds)
    if log is not None:
        log(
            f"edges2footwear {split}: built {len(arrays['y'])} pairs in {seconds:.1f} s"
        )
    return arrays


def _record_build(root: Path, split: str, n: int, seconds: float) -> None:
    """Add ``split`` to ``<root>/edges2footwear/SOURCE.json``."""
    import skimage

    marker = root / DATASETS["edges2footwear"]["folder"] / SOURCE_FILE
    info: dict[str, Any] = {}
    if marker.is_file():
        try:
            info = json.loads(marker.read_text())
        except ValueError:
            info = {}
    if info.get("recipe") != EDGES2FOOTWEAR_RECIPE:
        info = {}
    fashion = dataset_source("fashion-mnist", root)
    info.update(
        {
            "source": "built",
            "description": DATASETS["edges2footwear"]["source"],
            "recipe": EDGES2FOOTWEAR_RECIPE,
            "from": {"dataset": "fashion-mnist", **fashion},
            "scikit-image": skimage.__version__,
            split: n,
            f"{split}_build_seconds": round(seconds, 2),
        }
    )
    write_source("edges2footwear", root, info)


def edges2footwear_tensors(
    split: str = "train", root: str | Path | None = None, download: bool = True
) -> dict[str, Tensor]:
    """``edges2footwear_arrays`` as tensors: uint8 images ``(N, 1, 32, 32)``
    (divide by 127.5 and subtract 1 for ``[-1, 1]``) and int64 labels ``(N,)``."""
    arrays = edges2footwear_arrays(split, root, download)
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}


# ---------------------------------------------------------------- in-memory pairs


class PairedTensors(Dataset):
    """A paired dataset held in memory (as uint8), items in ``[-1, 1]``.

    ``ds[i]`` (or ``ds[(i, seed)]``, the streaming loader's key; there is no
    random augmentation, so the seed changes nothing) is one item
    ``{"x_src": float32 (C, H, W), "x": float32 (C, H, W), "y": int64 ()}``;
    ``ds[a:b]`` or ``ds[index_tensor]`` is a batch of them, ``(n, C, H, W)`` and
    ``(n,)``: ``ds[:8]`` is ready for a grid.

    ``tensors`` holds the stored tensors (uint8 images, int64 labels); ``keys``,
    ``shapes``, ``n_classes`` and ``targets`` are as the folder datasets have
    them; ``name`` and ``split`` say where the data came from.
    """

    def __init__(
        self,
        tensors: dict[str, Tensor],
        n_classes: int | None = None,
        name: str = "tensors",
        split: str | None = None,
    ):
        lengths = {len(t) for t in tensors.values()}
        if len(lengths) != 1:
            raise ValueError(
                f"tensors of different lengths: {[len(t) for t in tensors.values()]}"
            )
        self.tensors, self.n_classes = dict(tensors), n_classes
        self.name, self.split = name, split
        self.keys = tuple(tensors)
        self.shapes = {k: tuple(t.shape[1:]) for k, t in tensors.items()}

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    @property
    def targets(self) -> list[int] | None:
        y = self.tensors.get("y")
        return None if y is None else y.tolist()

    def __getitem__(self, key: Any) -> dict[str, Tensor]:
        if isinstance(key, tuple):  # (index, seed): no randomness to seed
            key = key[0]
        return {k: _signed(t[key]) for k, t in self.tensors.items()}

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "paired-tensors",
            "name": self.name,
            "split": self.split,
            "n": len(self),
            "keys": list(self.keys),
        }

    def __repr__(self) -> str:
        return f"PairedTensors(name={self.name!r}, split={self.split!r}, n={len(self)})"


def _signed(t: Tensor) -> Tensor:
    """uint8 pixels -> float32 ``x / 127.5 - 1`` (ToTensor + Normalize(0.5, 0.5))."""
    return t.float().div_(127.5).sub_(1.0) if t.dtype == torch.uint8 else t


# ---------------------------------------------------------------- Pix2Pix archives


def _count_pairs(folder: Path) -> tuple[int, tuple[int, int] | None]:
    """Images in ``folder`` (recursively) and the size of the first one."""
    from PIL import Image

    from gancourse.data.folders import _images_under

    paths = _images_under(folder)
    if not paths:
        return 0, None
    with Image.open(paths[0]) as img:
        return len(paths), img.size


def download_pix2pix(
    name: str,
    root: str | Path | None = None,
    url: str | None = None,
    log: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Download, check and unpack a Pix2Pix archive into ``<root>/<name>``.

    Steps: stream ``url`` (default ``DATASETS[name]["url"]``) into a scratch folder
    under ``root`` and hash it (SHA-256); extract it safely
    (``gancourse.data.download.extract_tar``); check that it holds
    ``<name>/<split>/`` with images for every split of ``DATASETS[name]["sizes"]``
    and that the first image of each is two squares side by side; then replace
    ``<root>/<name>`` with it, delete the archive and write ``SOURCE.json`` (URL,
    SHA-256, image counts). Counts that differ from the reference release are
    reported, not refused. Old files stay untouched when any step fails.

    Returns:
        The source record (also in ``<root>/<name>/SOURCE.json``).

    Raises:
        DataNotFoundError: the download failed, the archive is damaged (an
            :class:`~gancourse.data.ArchiveError`), or it lacks a split or
            holds images that are not A | B pairs.
    """
    from gancourse.data.download import ArchiveError, download_file, extract_tar

    name = canonical_name(name)
    if name not in PIX2PIX_ARCHIVES:
        archives = ", ".join(PIX2PIX_ARCHIVES)
        raise ValueError(f"{name!r} is not a Pix2Pix archive; these are: {archives}")
    info = DATASETS[name]
    url = url or info["url"]
    root = Path(root).expanduser() if root is not None else data_root()
    root.mkdir(parents=True, exist_ok=True)
    retry = f"Run `{_prepare_hint(root, name)}` again"
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=root))
    try:
        archive = scratch / f"{name}.tar.gz"
        log(f"{name}: downloading {url}")
        try:
            sha256 = download_file(url, archive, log=log)
        except Exception as err:  # any failure means: not available here
            raise DataNotFoundError(
                f"{name} is not in {root} and downloading it failed "
                f"({_short_reason(err)}).\nConnect to the internet and try again, or "
                "set GANCOURSE_DATA to a folder that holds it."
            ) from None
        expected_sha = info.get("sha256")
        if expected_sha and sha256 != expected_sha:
            raise ArchiveError(
                f"{name}: the downloaded archive has SHA-256 {sha256}, expected "
                f"{expected_sha} (a damaged or changed file). {retry}."
            )
        size = archive.stat().st_size
        try:
            extract_tar(archive, scratch / "extracted")
        except ArchiveError as err:
            raise ArchiveError(f"{name}: the downloaded {err}. {retry}.") from None
        archive.unlink()
        unpacked = scratch / "extracted" / info["folder"]
        counts = {}
        for split in info["sizes"]:
            n, wh = _count_pairs(unpacked / split)
            if n == 0:
                raise ArchiveError(
                    f"{name}: the archive has no images in {info['folder']}/{split}/ "
                    f"(expected {info['folder']}/{{{','.join(info['sizes'])}}}/*.jpg). "
                    f"{retry}."
                )
            if wh[0] != 2 * wh[1]:
                raise ArchiveError(
                    f"{name}: images in {split}/ are {wh[0]}x{wh[1]}, not A | B side "
                    f"by side (width = 2 x height). {retry}."
                )
            counts[split] = n
        differ = {s: (counts[s], n) for s, n in info["sizes"].items() if counts[s] != n}
        if differ:
            log(
                f"{name}: note: image counts differ from the reference release "
                + ", ".join(f"{s} {a} (expected {b})" for s, (a, b) in differ.items())
            )
        target = root / info["folder"]
        shutil.rmtree(target, ignore_errors=True)
        shutil.move(str(unpacked), str(target))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    record = {
        "source": "download",
        "description": info["source"],
        "url": url,
        "sha256": sha256,
        "archive_bytes": size,
        "direction": info["direction"],
        **counts,
    }
    write_source(name, root, record)
    return record


def pix2pix_folder(
    name: str,
    split: str = "train",
    root: str | Path | None = None,
    download: bool = True,
    direction: str | None = None,
    image_size: int | None = None,
    load_size: int | None = None,
    flip: bool = False,
    channels: int = 3,
    log: Callable[[str], Any] = print,
):
    """A Pix2Pix archive's split as a
    :class:`~gancourse.data.PairedFolderDataset`, downloaded if missing
    and ``download``.

    ``direction`` defaults to the paper's task (``DATASETS[name]["direction"]``:
    facades ``BtoA`` labels -> photo, edges2shoes ``AtoB`` edges -> photo);
    ``image_size`` to 256.

    Raises:
        DataNotFoundError: missing and ``download=False`` (the message names the
            ``gancourse data prepare`` command), or the download failed.
    """
    from gancourse.data.folders import PairedFolderDataset

    name = canonical_name(name)
    check_split(name, split)
    root = Path(root).expanduser() if root is not None else data_root()
    if not files_present(name, root):
        if not download:
            raise DataNotFoundError(
                f"{name} is not in {root} (download=False) and has no offline copy.\n"
                f"Run `{_prepare_hint(root, name)}` (online), pass download=True, or "
                "set GANCOURSE_DATA to a folder that holds it."
            )
        download_pix2pix(name, root, log=log)
    return PairedFolderDataset(
        root / DATASETS[name]["folder"],
        split=split,
        direction=direction or DATASETS[name]["direction"],
        image_size=image_size or DATASETS[name]["shape"][-1],
        load_size=load_size,
        flip=flip,
        channels=channels,
    )


# ---------------------------------------------------------------- by name


def load_paired(
    name: str,
    split: str = "train",
    root: str | Path | None = None,
    download: bool = True,
    **folder_options: Any,
) -> Dataset:
    """A paired dataset by name: ``"edges2footwear"``, ``"photo-sr4"``,
    ``"facades"``, ``"edges2shoes"``.

    Args:
        name: dataset name; ``_`` and case are ignored.
        split: ``"train"`` or ``"test"`` (the archives: ``"train"``, ``"val"``,
            facades also ``"test"``).
        root: data root (default ``$GANCOURSE_DATA`` or ``~/.cache/gancourse``).
        download: fetch what is missing (Fashion-MNIST for edges2footwear; the
            archive, 30 MB for facades and 2 GB for edges2shoes).
        folder_options: for the archives, ``direction``, ``image_size``,
            ``load_size``, ``flip``, ``channels`` (and ``log``) of
            ``gancourse.data.paired.pix2pix_folder``.

    Returns:
        ``edges2footwear``: a :class:`PairedTensors` (``ds[i]``, ``ds[:n]``) with
        ``x_src`` (edges, black on white), ``x`` (the grey image), both float32
        ``(1, 32, 32)`` in ``[-1, 1]``, and ``y`` (5, 7 or 9); ``photo-sr4``: a
        :class:`PairedTensors` of ``x_src`` (bicubic x4 down and up), ``x`` (the
        crop), float32 ``(3, 64, 64)``, and ``y`` (the photo, see
        ``gancourse.data.photo_pairs``). The archives: a
        :class:`~gancourse.data.PairedFolderDataset` of ``x_src``, ``x``
        float32 ``(3, 256, 256)`` in ``[-1, 1]``.

    Raises:
        ValueError: unknown or unpaired name, unknown split.
        DataNotFoundError: files missing and not obtainable; says what to run.
    """
    from gancourse.data.tensors import TENSOR_DATASETS

    key = canonical_name(name)
    if key in PAIRED and key in TENSOR_DATASETS:  # edges2footwear, photo-sr4
        if folder_options:
            raise TypeError(
                f"{key} takes no {', '.join(folder_options)} (its images have one "
                "size; data.image_size resizes them for training)"
            )
        check_split(key, split)
        tensors = TENSOR_DATASETS[key](split, root, download)
        return PairedTensors(tensors, DATASETS[key]["n_classes"], key, split)
    if key in PIX2PIX_ARCHIVES:
        return pix2pix_folder(key, split, root, download, **folder_options)
    paired = ", ".join(n for n in DATASETS if "keys" in DATASETS[n])
    raise ValueError(
        f"{name!r} is not a paired dataset; paired: {paired} (or your own folder "
        "with gancourse.data.PairedFolderDataset)"
    )


__all__ = [
    "EDGES2FOOTWEAR_CLASSES",
    "EDGES2FOOTWEAR_RECIPE",
    "PairedTensors",
    "build_edges2footwear",
    "download_pix2pix",
    "edge_map",
    "edges2footwear_arrays",
    "edges2footwear_tensors",
    "load_paired",
    "pix2pix_folder",
]
