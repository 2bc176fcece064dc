"""Named datasets as whole tensors: the registry behind ``data.name=<name>``.

``TENSOR_DATASETS`` maps a dataset name to a function
``fn(split, root, download) -> {key: tensor}`` that returns the whole split:
images uint8 ``(N, C, H, W)`` (the Trainer normalises them to ``[-1, 1]`` per
batch), 2-D points float32 ``(N, 2)``, labels int64 ``(N,)``. The keys are what
the dataset yields (``x``, ``y``; paired data ``x_src``, ``x``, ``y``). A new small
dataset is one function and one line here; the Trainer then takes
``data.name=<name>`` with no other change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torchvision import datasets as tvd

from gancourse.data.datasets import (
    DATASETS,
    canonical_name,
    check_split,
    load_dataset,
)
from gancourse.data.paired import edges2footwear_tensors
from gancourse.data.photo_pairs import photo_sr4_tensors

TensorsFn = Callable[[str, "str | Path | None", bool], dict[str, Tensor]]


def torchvision_tensors(
    name: str, split: str, root: str | Path | None = None, download: bool = True
) -> dict[str, Tensor]:
    """MNIST, Fashion-MNIST or CIFAR-10 as ``{"x": uint8 (N, C, H, W), "y": int64
    (N,)}``, from torchvision's uint8 arrays (no per-item loop)."""
    ds = load_dataset(name, split, root=root, download=download)
    if isinstance(ds, tvd.MNIST):
        x = ds.data.unsqueeze(1)  # (N, 28, 28) -> (N, 1, 28, 28)
    else:  # CIFAR10 keeps (N, H, W, 3)
        x = torch.from_numpy(np.ascontiguousarray(ds.data)).permute(0, 3, 1, 2)
    y = torch.as_tensor(ds.targets, dtype=torch.int64)
    return {"x": x.contiguous(), "y": y}


def ring8_tensors(
    split: str, root: str | Path | None = None, download: bool = True
) -> dict[str, Tensor]:
    """The 8-Gaussian ring: ``{"x": float32 (N, 2), "y": int64 (N,)}``."""
    ds = load_dataset("ring8", split)
    return {"x": ds.data.clone(), "y": ds.targets.clone()}


TENSOR_DATASETS: dict[str, TensorsFn] = {
    "mnist": functools.partial(torchvision_tensors, "mnist"),
    "fashion-mnist": functools.partial(torchvision_tensors, "fashion-mnist"),
    "cifar10": functools.partial(torchvision_tensors, "cifar10"),
    "ring8": ring8_tensors,
    "edges2footwear": edges2footwear_tensors,
    "photo-sr4": photo_sr4_tensors,
}
"""Name -> ``fn(split, root, download)`` returning the split's tensors."""


def named_tensors(
    name: str,
    split: str = "train",
    root: str | Path | None = None,
    download: bool = True,
) -> tuple[dict[str, Tensor], int | None]:
    """The tensors of a named dataset's split and its number of classes.

    Raises:
        ValueError: unknown name or split, or a dataset read from a folder
            instead (the Pix2Pix archives: see :func:`gancourse.data.load_paired`).
        DataNotFoundError: files missing and not obtainable.
    """
    name = canonical_name(name)
    if name not in TENSOR_DATASETS:
        raise ValueError(
            f"{name} is read from its folder, not held as tensors; tensor datasets: "
            f"{', '.join(TENSOR_DATASETS)}"
        )
    check_split(name, split)
    return TENSOR_DATASETS[name](split, root, download), DATASETS[name]["n_classes"]


__all__ = ["TENSOR_DATASETS", "named_tensors", "ring8_tensors", "torchvision_tensors"]
