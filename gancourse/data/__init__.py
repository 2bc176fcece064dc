"""Datasets by name, where their files live, and how to get them offline.

Example::

    from gancourse.data import load_dataset, to_tensors
    ds = load_dataset("mnist")          # x: float32 (1, 28, 28) in [-1, 1], y: int
    X, Y = to_tensors(ds)               # (N, 1, 28, 28) float32, (N,) int64

Names: ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"`` (download only) and ``"ring8"``
(see :data:`DATASETS`). Files
live under :func:`data_root` (``$GANCOURSE_DATA`` or ``~/.cache/gancourse``);
``gancourse data prepare [--offline]`` fills it (:func:`prepare`).

A user's own image folders (class folders, Pix2Pix pairs, CycleGAN domains) are
:class:`ImageFolderDataset`, :class:`PairedFolderDataset` and
:class:`UnpairedFolderDataset`; :class:`FolderDataset` states their protocol.
"""

from gancourse.data.datasets import (
    DATASETS,
    DataNotFoundError,
    data_root,
    dataset_source,
    files_present,
    image_transform,
    load_dataset,
    to_tensors,
)
from gancourse.data.folders import (
    DataFolderError,
    FolderDataset,
    ImageFolderDataset,
    PairedFolderDataset,
    UnpairedFolderDataset,
    class_balanced_weights,
)

# Imported eagerly on purpose: the function ``prepare`` shadows the submodule of the
# same name, and a later ``import gancourse.data.prepare`` must not undo that.
from gancourse.data.prepare import prepare, prepare_main
from gancourse.data.toy import (
    ModeCoverage,
    Ring8,
    fraction_near_modes,
    mode_coverage,
    modes_covered,
)

__all__ = [
    "DATASETS",
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
