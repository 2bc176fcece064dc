"""A user's image folders as map-style datasets whose items are pure functions of a key.

Three layouts:

- :class:`ImageFolderDataset`: ``root/<class>/*.png`` (torchvision's ImageFolder),
  or a flat ``root/*.png`` read as one class ``"all"``; yields ``x``, ``y``.
- :class:`PairedFolderDataset`: Pix2Pix's ``root/<split>/*.jpg``, each file the A
  and B images side by side (Isola et al. 2017); yields ``x_src``, ``x``.
- :class:`UnpairedFolderDataset`: CycleGAN's ``root/<split>A``, ``root/<split>B``
  (Zhu et al. 2017); yields ``a``, ``b``.

All three follow the protocol of :class:`FolderDataset`: ``ds[(index, seed)]`` is
the same dict of tensors whenever and wherever it is read, so a streaming loader
resumes exactly and shards by keys. :func:`class_balanced_weights` turns a
dataset's ``targets`` into sampling weights.
"""

from __future__ import annotations

import hashlib
import operator
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from gancourse.data.datasets import DataNotFoundError

IMG_EXTENSIONS = (
    ".bmp",
    ".jpeg",
    ".jpg",
    ".pgm",
    ".png",
    ".ppm",
    ".tif",
    ".tiff",
    ".webp",
)
"""File endings read as images (case-insensitive), torchvision's list."""

FLAT_CLASS = "all"
"""Class name of a flat folder (images directly under ``root``, no sub-folders)."""

DIRECTIONS = ("AtoB", "BtoA")

_MODES = {1: "L", 3: "RGB"}
_EXTS = ", ".join(IMG_EXTENSIONS)


class DataFolderError(DataNotFoundError):
    """A user's image folder is missing, laid out wrongly, or holds a bad image.

    A :class:`DataNotFoundError`, so the command line reports it in one line.
    """


# ---------------------------------------------------------------- files


def _is_image(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(IMG_EXTENSIONS)


def _visible_dirs(folder: Path) -> list[str]:
    return sorted(
        e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith(".")
    )


def _images_under(folder: Path) -> list[Path]:
    """All images below ``folder``, recursively, sorted; hidden names skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / f for f in sorted(filenames) if _is_image(f)]
    return found


def _images_in(folder: Path) -> list[Path]:
    """Images directly in ``folder`` (not below), sorted."""
    return sorted(folder / e.name for e in os.scandir(folder) if _is_image(e.name))


def _check_root(root: str | Path, what: str) -> Path:
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataFolderError(
            f"{what} folder not found: {root}; check the path (it must be a folder)."
        )
    return root


def _require_images(paths: list[Path], folder: Path, hint: str) -> list[Path]:
    if not paths:
        raise DataFolderError(
            f"no images in {folder} (accepted extensions: {_EXTS}); {hint}."
        )
    return paths


def _file_list_digest(paths: list[Path], root: Path) -> str:
    """First 16 hex digits of the SHA-256 of the sorted relative file names: a
    checkpoint can tell whether the folder it trained on has changed."""
    names = "\n".join(p.relative_to(root).as_posix() for p in paths)
    return hashlib.sha256(names.encode()).hexdigest()[:16]


_PIL_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


def _unreadable(path: Path, err: Exception) -> DataFolderError:
    return DataFolderError(
        f"cannot read image {path} ({err}); delete or replace the file."
    )


def _open(path: Path, mode: str) -> Image.Image:
    """The image at ``path`` fully decoded and converted to ``mode``."""
    try:
        with Image.open(path) as img:
            return img.convert(mode)
    except _PIL_ERRORS as err:
        raise _unreadable(path, err) from None


def _size(path: Path) -> tuple[int, int]:
    """``(width, height)`` of the image at ``path`` from its header."""
    try:
        with Image.open(path) as img:
            return img.size
    except _PIL_ERRORS as err:
        raise _unreadable(path, err) from None


# ---------------------------------------------------------------- transforms


def _resize_shorter(img: Image.Image, size: int) -> Image.Image:
    """Shorter side to ``size``, aspect kept (torchvision's ``Resize(size)``)."""
    w, h = img.size
    if w <= h:
        new = (size, int(size * h / w))
    else:
        new = (int(size * w / h), size)
    return img if new == (w, h) else img.resize(new, Image.BILINEAR)


def _resize_square(img: Image.Image, size: int) -> Image.Image:
    """Both sides to ``size`` (aspect not kept), as Pix2Pix's ``resize_and_crop``."""
    if img.size == (size, size):
        return img
    return img.resize((size, size), Image.BILINEAR)


def _draw_view(g: torch.Generator | None, w: int, h: int, size: int):
    """``(top, left, flip)`` of a ``size`` crop of a ``w x h`` image: centre and no
    flip without a generator, else uniform offsets then a fair coin, drawn in
    that order."""
    if g is None:
        # torchvision's CenterCrop offsets
        return int(round((h - size) / 2.0)), int(round((w - size) / 2.0)), False
    top = int(torch.randint(h - size + 1, (1,), generator=g))
    left = int(torch.randint(w - size + 1, (1,), generator=g))
    flip = bool(torch.rand(1, generator=g) < 0.5)
    return top, left, flip


def _view(img: Image.Image, top: int, left: int, flip: bool, size: int):
    img = img.crop((left, top, left + size, top + size))
    return img.transpose(Image.FLIP_LEFT_RIGHT) if flip else img


def _to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL ``L`` or ``RGB`` image -> float32 ``(C, H, W)`` in ``[-1, 1]``."""
    arr = np.asarray(img, dtype=np.uint8)  # (H, W) or (H, W, C)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    x = torch.from_numpy(arr.copy()).permute(2, 0, 1)  # (H, W, C) -> (C, H, W)
    return x.float().div_(127.5).sub_(1.0)


# ---------------------------------------------------------------- base


class FolderDataset(Dataset):
    """The protocol every folder dataset follows (the base of the three here).

    Keys: ``ds[key]`` with ``key`` an int index, or a tuple ``(index, seed)``. The
    int ``seed`` seeds a private ``torch.Generator`` that makes every random choice
    of that item (crop offsets, flips, the unpaired partner); the global RNGs are
    never read or advanced, so an item is a pure function of its key. An int key
    means no randomness: centre crop, no flip, unpaired partner ``index % len(B)``.

    Items: a dict with the names in ``keys``; images float32
    ``(channels, image_size, image_size)`` in ``[-1, 1]`` (``x / 127.5 - 1`` of the
    uint8 pixels after resizing, as ``ToTensor`` + ``Normalize(0.5, 0.5)``), labels
    int64 0-d tensors.

    One image: open, ``convert("L")`` (``channels=1``) or ``convert("RGB")``
    (``channels=3``), resize (bilinear, antialiased as PIL does), crop
    ``image_size`` (uniform offset with a seed, centre without), flip horizontally
    (with a seed and ``flip=True``, probability 1/2), scale to ``[-1, 1]``. With a
    seed each image draws its crop ``top``, then ``left``, then its flip, always
    (even with ``flip=False`` or no crop jitter), so a seed gives the same crop
    whether flipping is on or off.

    Files: the extensions in ``IMG_EXTENSIONS`` (any case), found recursively in
    sorted order; names starting with ``.`` (``.ipynb_checkpoints``, macOS
    ``._x.jpg``) are skipped. An image is read when its item is: a corrupt file
    raises :class:`DataFolderError` naming it then.

    Attributes:
        keys: names of an item's entries, e.g. ``("x", "y")``.
        shapes: key -> shape of that entry, ``()`` for labels.
        n_classes: number of classes, or None (no labels).
        class_names: class names in label order, or None.
        targets: each item's class (``list[int]``, for class-balanced sampling),
            or None.
    """

    keys: tuple[str, ...] = ()
    kind = ""
    n_classes: int | None = None
    class_names: list[str] | None = None
    targets: list[int] | None = None

    def __init__(
        self,
        root: str | Path,
        image_size: int,
        load_size: int | None,
        flip: bool,
        channels: int,
        split: str | None,
    ) -> None:
        if channels not in _MODES:
            raise ValueError(
                f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}."
            )
        load_size = image_size if load_size is None else load_size
        if int(image_size) < 1:
            raise ValueError(f"image_size must be a positive int, got {image_size!r}.")
        if image_size > load_size:
            raise ValueError(
                f"image_size {image_size} > load_size {load_size}: the crop must fit "
                "in the resized image; set load_size >= image_size (or leave it None)."
            )
        self.root = Path(root).expanduser()
        self.image_size, self.load_size = int(image_size), int(load_size)
        self.flip, self.channels, self.split = bool(flip), int(channels), split
        self.mode = _MODES[channels]
        shape = (self.channels, self.image_size, self.image_size)
        self.shapes = {k: shape for k in self.keys}

    def _key(self, key: Any) -> tuple[int, torch.Generator | None]:
        """``key`` -> ``(index in range, generator or None)``."""
        if isinstance(key, tuple | list):
            if len(key) != 2:
                raise TypeError(
                    f"a key is an int index or a tuple (index, seed), got {key!r}."
                )
            index, seed = key
            g = torch.Generator().manual_seed(operator.index(seed))
        else:
            index, g = key, None
        index, n = operator.index(index), len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for {n} items.")
        return index % n, g

    def _load(self, path: Path, g: torch.Generator | None) -> torch.Tensor:
        """File -> float32 ``(C, image_size, image_size)`` in ``[-1, 1]``: shorter
        side to ``load_size``, then crop and flip."""
        img = _resize_shorter(_open(path, self.mode), self.load_size)
        top, left, flip = _draw_view(g, *img.size, self.image_size)
        return _to_tensor(_view(img, top, left, flip and self.flip, self.image_size))

    def describe(self) -> dict[str, Any]:
        """What this dataset reads and how, JSON-serialisable, for a checkpoint's
        data record: ``kind``, ``root`` (absolute), ``split``, ``n``,
        ``image_size``, ``load_size``, ``flip``, ``channels``, ``keys``,
        ``n_classes``, ``class_names``, ``file_list_sha256`` (of the sorted
        relative file names: tells whether the folder changed) and per-kind
        fields."""
        return {
            "kind": self.kind,
            "root": str(self.root.resolve()),
            "split": self.split,
            "n": len(self),
            "image_size": self.image_size,
            "load_size": self.load_size,
            "flip": self.flip,
            "channels": self.channels,
            "keys": list(self.keys),
            "n_classes": self.n_classes,
            "class_names": self.class_names,
        }

    def __repr__(self) -> str:
        d = self.describe()
        args = ", ".join(f"{k}={d[k]!r}" for k in ("root", "split", "n", "image_size"))
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------- datasets


class ImageFolderDataset(FolderDataset):
    """Images in class sub-folders (torchvision's ImageFolder layout), or a flat folder.

    ``root/<class>/**/*.png``: classes are the sub-folder names in sorted order,
    ``y`` is the class's position in ``class_names``. A flat folder (images
    directly in ``root`` and no sub-folders) is one class ``"all"``
    (``n_classes == 1``, every ``y == 0``), so a folder of photos trains an
    unconditional GAN as it is. A folder holding both loose images and class
    sub-folders is an error, as is a class folder without images.

    Each image: shorter side resized to ``load_size`` (aspect kept, bilinear,
    antialiased), then a square ``image_size`` crop (uniform offset with a seed,
    centre without), then a horizontal flip (with a seed and ``flip=True``).

    Items: ``{"x": float32 (C, image_size, image_size) in [-1, 1], "y": int64 ()}``.

    Args:
        root: the folder holding the class folders (or the images).
        image_size: side ``H = W`` of the returned images.
        load_size: shorter side after resizing, before the crop; default
            ``image_size`` (no crop jitter: the crop takes the whole short side).
        flip: random horizontal flip for seeded keys.
        channels: 1 (``convert("L")``) or 3 (``convert("RGB")``).
        split: if given, read ``root/<split>`` instead of ``root``.

    Raises:
        DataFolderError: folder missing, no images, mixed layout, empty class folder;
            a corrupt image when its item is read.
        ValueError: ``channels`` not 1 or 3, ``image_size > load_size``.
    """

    keys = ("x", "y")
    kind = "image-folder"

    def __init__(
        self,
        root: str | Path,
        image_size: int,
        load_size: int | None = None,
        flip: bool = False,
        channels: int = 3,
        split: str | None = None,
    ) -> None:
        super().__init__(root, image_size, load_size, flip, channels, split)
        folder = _check_root(self.root, "image")
        if split is not None:
            folder = _check_root(folder / split, f"split {split!r}")
        self.folder = folder
        classes, loose = _visible_dirs(folder), _images_in(folder)
        if classes and loose:
            raise DataFolderError(
                f"{folder} holds both images ({loose[0].name}, ...) and class "
                f"folders ({', '.join(classes[:3])}); move the images into a class "
                "folder, or remove the sub-folders."
            )
        hint = f"put them in {folder}/<class>/ or directly in {folder}"
        self.layout = "classes" if classes else "flat"
        if not classes:
            self.class_names = [FLAT_CLASS]
            self.samples = [(p, 0) for p in _require_images(loose, folder, hint)]
        else:
            per_class = [_images_under(folder / name) for name in classes]
            _require_images([p for paths in per_class for p in paths], folder, hint)
            for name, paths in zip(classes, per_class):
                if not paths:
                    raise DataFolderError(
                        f"class folder {folder / name} has no images (accepted "
                        f"extensions: {_EXTS}); add images or remove the folder."
                    )
            self.class_names = classes
            self.samples = [(p, y) for y, paths in enumerate(per_class) for p in paths]
        self.n_classes = len(self.class_names)
        self.targets = [y for _, y in self.samples]
        self.shapes["y"] = ()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, g = self._key(key)
        path, y = self.samples[index]
        return {"x": self._load(path, g), "y": torch.tensor(y, dtype=torch.int64)}

    def describe(self) -> dict[str, Any]:
        paths = [p for p, _ in self.samples]
        return {
            **super().describe(),
            "layout": self.layout,
            "file_list_sha256": _file_list_digest(paths, self.folder),
        }


class PairedFolderDataset(FolderDataset):
    """Aligned pairs stored side by side, the layout of the Pix2Pix datasets.

    ``root/<split>/**/*.jpg`` (facades, edges2shoes, maps, ...): each file is
    ``A | B``, the A image in the left half and B in the right, so its width is
    twice its height (e.g. 512x256). Isola et al. 2017, "Image-to-Image Translation
    with Conditional Adversarial Networks".

    Both halves get the same view, as junyanz/pytorch-CycleGAN-and-pix2pix's aligned
    dataset does: each half resized to ``load_size x load_size`` (bilinear,
    antialiased; junyanz uses bicubic), one ``image_size`` crop offset for both,
    and both flipped or neither.

    Items: ``{"x_src": float32 (C, S, S), "x": float32 (C, S, S)}`` in ``[-1, 1]``
    with ``S = image_size``; ``direction="AtoB"`` makes ``x_src = A`` (the input)
    and ``x = B`` (the target), ``"BtoA"`` the reverse.

    Args:
        root: the dataset folder (holding ``train/``, ``val/``, ``test/``).
        split: sub-folder to read.
        direction: ``"AtoB"`` or ``"BtoA"``.
        image_size, load_size, flip, channels: as :class:`ImageFolderDataset`
            (Pix2Pix trains at ``image_size=256, load_size=286, flip=True``).

    Raises:
        DataFolderError: folder or split missing, no images; an image that is not
            two squares side by side (checked for the first file here, for each
            file when read), or corrupt.
        ValueError: bad ``direction``, ``channels``, ``image_size > load_size``.
    """

    keys = ("x_src", "x")
    kind = "paired-folder"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        direction: str = "AtoB",
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = False,
        channels: int = 3,
    ) -> None:
        if direction not in DIRECTIONS:
            raise ValueError(
                f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}."
            )
        super().__init__(root, image_size, load_size, flip, channels, split)
        self.direction = direction
        root = _check_root(self.root, "paired data")
        self.folder = root / split
        if not self.folder.is_dir():
            found = ", ".join(_visible_dirs(root)) or "none"
            raise DataFolderError(
                f"no split folder {self.folder}; expected {root}/{split}/*.jpg with "
                f"A|B side by side (sub-folders found: {found})."
            )
        hint = "each file should hold A|B side by side"
        self.paths = _require_images(_images_under(self.folder), self.folder, hint)
        # the header of one file catches a folder of unpaired images now
        self._check_pair(self.paths[0], _size(self.paths[0]))

    @staticmethod
    def _check_pair(path: Path, size: tuple[int, int]) -> None:
        w, h = size
        if w != 2 * h:
            raise DataFolderError(
                f"paired image {path} is {w}x{h}; expected A|B side by side, width "
                f"= 2 x height (e.g. 512x256)."
            )

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, g = self._key(key)
        path = self.paths[index]
        ab = _open(path, self.mode)
        self._check_pair(path, ab.size)
        w, h = ab.size
        a = _resize_square(ab.crop((0, 0, w // 2, h)), self.load_size)
        b = _resize_square(ab.crop((w // 2, 0, w, h)), self.load_size)
        top, left, flip = _draw_view(g, self.load_size, self.load_size, self.image_size)
        a, b = (
            _to_tensor(_view(img, top, left, flip and self.flip, self.image_size))
            for img in (a, b)
        )
        src, tgt = (a, b) if self.direction == "AtoB" else (b, a)
        return {"x_src": src, "x": tgt}

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "direction": self.direction,
            "file_list_sha256": _file_list_digest(self.paths, self.folder),
        }


class UnpairedFolderDataset(FolderDataset):
    """Two unaligned image sets in the CycleGAN layout ``root/<split>A``, ``<split>B``.

    Zhu et al. 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks". ``len(ds) = max(len(A), len(B))``; item ``i`` pairs
    ``a = A[i % len(A)]`` with ``b = B[j]``: ``j`` uniform from the key's seed
    (junyanz's default, so pairs change every epoch) or ``j = i % len(B)`` for an
    int key. ``a`` and ``b`` get independent views, each as in
    :class:`ImageFolderDataset` (shorter side to ``load_size``, crop, flip).

    Items: ``{"a": float32 (C, S, S), "b": float32 (C, S, S)}`` in ``[-1, 1]``,
    ``S = image_size``.

    Args:
        root: the dataset folder (holding ``trainA/``, ``trainB/``, ``testA/``, ...).
        split: prefix of the two folders read, ``<split>A`` and ``<split>B``.
        image_size, load_size, flip, channels: as :class:`ImageFolderDataset`
            (CycleGAN trains at ``image_size=256, load_size=286, flip=True``).

    Raises:
        DataFolderError: folder or split folders missing, no images in one of them;
            a corrupt image when its item is read.
        ValueError: ``channels`` not 1 or 3, ``image_size > load_size``.
    """

    keys = ("a", "b")
    kind = "unpaired-folder"

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = False,
        channels: int = 3,
    ) -> None:
        super().__init__(root, image_size, load_size, flip, channels, split)
        root = _check_root(self.root, "unpaired data")
        self.folders = (root / f"{split}A", root / f"{split}B")
        for folder in self.folders:
            if not folder.is_dir():
                found = ", ".join(_visible_dirs(root)) or "none"
                raise DataFolderError(
                    f"no folder {folder}; expected {root}/{split}A/*.jpg and "
                    f"{root}/{split}B/*.jpg (sub-folders found: {found})."
                )
        hint = "put one domain's images in each of <split>A and <split>B"
        self.paths_a, self.paths_b = (
            _require_images(_images_under(f), f, hint) for f in self.folders
        )

    def __len__(self) -> int:
        return max(len(self.paths_a), len(self.paths_b))

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        index, g = self._key(key)
        n_b = len(self.paths_b)
        j = index % n_b if g is None else int(torch.randint(n_b, (1,), generator=g))
        a = self._load(self.paths_a[index % len(self.paths_a)], g)
        return {"a": a, "b": self._load(self.paths_b[j], g)}

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "n_a": len(self.paths_a),
            "n_b": len(self.paths_b),
            "file_list_sha256": [
                _file_list_digest(p, f)
                for p, f in zip((self.paths_a, self.paths_b), self.folders)
            ],
        }


def class_balanced_weights(targets) -> torch.Tensor:
    """Per-item sampling weights that make every class equally likely.

    ``w_i = 1 / count(targets[i])``, normalised to sum 1 (so each of the ``K``
    classes present gets total weight ``1 / K``), for
    ``torch.utils.data.WeightedRandomSampler`` or ``torch.multinomial``.

    Args:
        targets: ``N`` non-negative int class labels (list or tensor), e.g. a
            dataset's ``targets``.

    Returns:
        float64 ``(N,)``.
    """
    if targets is None:
        raise ValueError("this dataset has no classes (targets is None).")
    labels = [int(t) for t in torch.as_tensor(targets).reshape(-1)]
    if not labels:
        raise ValueError("class_balanced_weights: targets is empty.")
    counts = Counter(labels)
    w = torch.tensor([1.0 / counts[t] for t in labels], dtype=torch.float64)
    return w / w.sum()


__all__ = [
    "DIRECTIONS",
    "DataFolderError",
    "FLAT_CLASS",
    "FolderDataset",
    "IMG_EXTENSIONS",
    "ImageFolderDataset",
    "PairedFolderDataset",
    "UnpairedFolderDataset",
    "class_balanced_weights",
]
