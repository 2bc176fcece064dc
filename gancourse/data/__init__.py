"""Datasets by name, where their files live, and how to get them offline.

Example::

    from gancourse.data import load_dataset, to_tensors
    ds = load_dataset("mnist")          # x: float32 (1, 28, 28) in [-1, 1], y: int
    X, Y = to_tensors(ds)               # (N, 1, 28, 28) float32, (N,) int64

Names: ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"`` (download only) and ``"ring8"``
(see :data:`DATASETS`). Files
live under :func:`data_root` (``$GANCOURSE_DATA`` or ``~/.cache/gancourse``);
``gancourse data prepare [--offline]`` fills it (:func:`prepare`).

Paired data (Pix2Pix, chapter 4): :func:`load_paired` with ``"edges2footwear"``
(offline, built from Fashion-MNIST), ``"photo-sr4"`` (offline, x4 super-resolution
crops of scikit-image's free photos), ``"facades"`` or ``"edges2shoes"`` (the
Pix2Pix archives, downloaded); items ``{"x_src": input, "x": target(, "y")}``::

    test = load_paired("edges2footwear", "test")   # PairedTensors, 3,000 pairs
    batch = test[:8]    # x_src, x: (8, 1, 32, 32) in [-1, 1]; y: (8,)

``TENSOR_DATASETS`` maps each name held as tensors to the function that
makes them: what ``data.name=<name>`` trains on.

A user's own image folders (class folders, Pix2Pix pairs, CycleGAN domains) are
:class:`ImageFolderDataset`, :class:`PairedFolderDataset` and
:class:`UnpairedFolderDataset`; :class:`FolderDataset` states their protocol.
"""

from gancourse.data.datasets import (
    DATASETS,
    PAIRED,
    DataNotFoundError,
    data_root,
    dataset_source,
    files_present,
    image_transform,
    load_dataset,
    to_tensors,
)
from gancourse.data.download import ArchiveError
from gancourse.data.folders import (
    DataFolderError,
    FolderDataset,
    ImageFolderDataset,
    PairedFolderDataset,
    UnpairedFolderDataset,
    class_balanced_weights,
)
from gancourse.data.paired import (
    EDGES2FOOTWEAR_CLASSES,
    PairedTensors,
    download_pix2pix,
    edge_map,
    load_paired,
)

# Imported eagerly on purpose: the function ``prepare`` shadows the submodule of the
# same name, and a later ``import gancourse.data.prepare`` must not undo that.
from gancourse.data.prepare import prepare, prepare_main
from gancourse.data.tensors import TENSOR_DATASETS, named_tensors
from gancourse.data.toy import (
    ModeCoverage,
    Ring8,
    fraction_near_modes,
    mode_coverage,
    modes_covered,
)

__all__ = [
    "ArchiveError",
    "DATASETS",
    "EDGES2FOOTWEAR_CLASSES",
    "PAIRED",
    "PairedTensors",
    "TENSOR_DATASETS",
    "download_pix2pix",
    "edge_map",
    "load_paired",
    "named_tensors",
    "DataFolderError",
    "DataNotFoundError",
    "FolderDataset",
    "ModeCoverage",
    "ImageFolderDataset",
    "PairedFolderDataset",
    "Ring8",
    "UnpairedFolderDataset",
    "class_balanced_weights",
    "data_root",
    "dataset_source",
    "files_present",
    "fraction_near_modes",
    "modes_covered",
    "image_transform",
    "mode_coverage",
    "load_dataset",
    "prepare",
    "prepare_main",
    "to_tensors",
]
