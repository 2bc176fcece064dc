"""Batches for the Trainer: from device memory or streamed, sharded, resumable.

A *source* holds a dataset and says what it yields (a
:class:`~gancourse.gans.base.DataSpec`: keys, shapes, classes). Two kinds:

* :class:`TensorSource`: small data (MNIST, Fashion-MNIST, CIFAR-10, the ring)
  held on the device as uint8 and normalised to ``[-1, 1]`` on the fly
  (``x / 127.5 - 1``, the same numbers as ``ToTensor`` + ``Normalize(0.5, 0.5)``);
* :class:`StreamSource`: a map-style dataset (a folder of images, or anything
  too large for memory) read by a ``torch.utils.data.DataLoader`` with workers and
  pinned memory. Items are addressed by ``(index, seed)``, so random crops and
  flips are a function of the position in the data order.

:class:`BatchStream` turns a source into the batches one process trains on. The
order of samples is *global*: a permutation of the data per ``(seed, epoch)``
(or class-balanced draws), consumed ``B = data.batch_size`` at a time. Process
``r`` of ``W`` takes samples ``[r B/W, (r+1) B/W)`` of each global batch, and
gradient accumulation splits that share into ``train.accum`` micro-batches. The
state is ``(epoch, cursor)`` in global samples, so a resume continues with the
same next batches, with the same or (not bit for bit) another number of processes.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from gancourse.config import ConfigError
from gancourse.gans.base import Batch, DataSpec

__all__ = [
    "BatchOrder",
    "BatchStream",
    "StreamSource",
    "TensorDictDataset",
    "TensorSource",
    "build_source",
    "split_batch",
]

FOLDERS = ("folder", "paired", "unpaired")
"""``data.name`` values that read the user's own folder (``data.root``). Named
datasets: ``gancourse.data.tensors.TENSOR_DATASETS`` (held as tensors) and
the Pix2Pix archives (read from their folder under the data root)."""


def to_signed_unit(x: Tensor) -> Tensor:
    """uint8 pixels -> float32 in ``[-1, 1]``: ``x / 127.5 - 1``; floats unchanged."""
    if x.dtype == torch.uint8:
        return x.float().div_(127.5).sub_(1.0)
    return x


class BatchOrder:
    """The global order of samples: epoch by epoch, ``B`` samples at a time.

    Args:
        n: samples in the dataset.
        seed: with the epoch, seeds each epoch's permutation.
        weights: optional ``(n,)`` sampling weights (a class-balanced sampler):
            each epoch is then ``n`` draws with replacement instead of a
            permutation.
    """

    def __init__(self, n: int, seed: int, weights: Tensor | None = None):
        self.n, self.seed, self.weights = n, seed, weights
        self.epoch, self.cursor = 0, 0
        self._order: Tensor | None = None

    def order(self, epoch: int) -> Tensor:
        """The sample indices of ``epoch``, ``(n,)`` int64."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        if self.weights is not None:
            return torch.multinomial(
                self.weights, self.n, replacement=True, generator=g
            )
        return torch.randperm(self.n, generator=g)

    def take(self, B: int) -> tuple[Tensor, int, int]:
        """The next global batch: ``(indices (B,), epoch, position of the first)``.

        The ragged end of an epoch is dropped (every batch has ``B`` samples).
        """
        if self._order is None:
            self._order = self.order(self.epoch)
        if self.cursor + B > self.n:
            self.epoch, self.cursor = self.epoch + 1, 0
            self._order = self.order(self.epoch)
        start = self.cursor
        self.cursor += B
        return self._order[start : start + B], self.epoch, start

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._order = None


def item_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of one item's random augmentation: a function of where it sits in
    the global order, so it does not depend on processes or workers."""
    return ((seed * 1_000_003 + epoch) * 2**24 + position) % 2**62


def split_batch(n: int, rank: int, world: int, accum: int) -> list[slice]:
    """The micro-batches of process ``rank``: slices of a global batch of ``n``.

    >>> split_batch(8, rank=1, world=2, accum=2)
    [slice(4, 6, None), slice(6, 8, None)]
    """
    share = n // world
    m = share // accum
    return [
        slice(rank * share + k * m, rank * share + (k + 1) * m) for k in range(accum)
    ]


class TensorSource:
    """Small data on the device: ``tensors`` maps keys to ``(N, ...)`` tensors.

    Images may be uint8 (stored compactly, normalised per batch) or float in
    ``[-1, 1]``; labels are int64. ``info`` is the data record of checkpoints.
    """

    streaming = False

    def __init__(
        self,
        tensors: dict[str, Tensor],
        info: dict[str, Any],
        n_classes: int | None = None,
        device: torch.device | str = "cpu",
    ):
        n = {len(t) for t in tensors.values()}
        if len(n) != 1:
            lengths = {k: len(t) for k, t in tensors.items()}
            raise ValueError(f"tensors of different lengths: {lengths}")
        self.tensors = {k: t.to(device) for k, t in tensors.items()}
        self.info = info
        self.spec = DataSpec(
            keys=tuple(tensors),
            shapes={k: tuple(t.shape[1:]) for k, t in tensors.items()},
            n_classes=n_classes,
            n=n.pop(),
        )

    def __len__(self) -> int:
        return self.spec.n

    @property
    def targets(self) -> Tensor | None:
        return self.tensors.get("y")

    def fetch(self, idx: Tensor) -> Batch:
        """The samples at ``idx`` (a CPU int64 tensor), images in ``[-1, 1]``."""
        idx = idx.to(next(iter(self.tensors.values())).device)
        return {k: to_signed_unit(t[idx]) for k, t in self.tensors.items()}

    def examples(self, n: int) -> Batch:
        """The first ``n`` samples, for fixed inputs of sample grids."""
        return {k: to_signed_unit(t[:n]).cpu() for k, t in self.tensors.items()}


class TensorDictDataset(Dataset):
    """A map-style view of :class:`TensorSource` tensors: item ``i`` (or
    ``(i, seed)``) is ``{key: tensor[i]}``, images in ``[-1, 1]``. Lets the
    streaming path run on in-memory data (tests, benchmarks)."""

    def __init__(self, tensors: dict[str, Tensor]):
        self.tensors = {k: t.cpu() for k, t in tensors.items()}

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    def __getitem__(self, key: int | tuple[int, int]) -> Batch:
        i = key[0] if isinstance(key, tuple) else key
        return {k: to_signed_unit(t[i]) for k, t in self.tensors.items()}


class StreamSource:
    """A map-style dataset read through a ``DataLoader``.

    Args:
        dataset: items ``dataset[(index, seed)] -> {key: tensor}``; attributes
            ``keys``, ``shapes`` and ``n_classes`` (as the folder datasets of
            ``gancourse.data.folders`` have) or a first item to read them from.
        info: the data record of checkpoints.
        workers: ``DataLoader`` worker processes.
    """

    streaming = True

    def __init__(
        self,
        dataset: Dataset,
        info: dict[str, Any],
        workers: int = 2,
        n_classes: int | None = None,
    ):
        self.dataset, self.info, self.workers = dataset, info, workers
        first = dataset[0]
        self.spec = DataSpec(
            keys=tuple(first),
            shapes={k: tuple(v.shape) for k, v in first.items()},
            n_classes=getattr(dataset, "n_classes", None) or n_classes,
            n=len(dataset),
        )

    def __len__(self) -> int:
        return self.spec.n

    @property
    def targets(self) -> Tensor | None:
        t = getattr(self.dataset, "targets", None)
        return None if t is None else torch.as_tensor(t)

    def examples(self, n: int) -> Batch:
        items = [self.dataset[i] for i in range(min(n, len(self.dataset)))]
        return {k: torch.stack([it[k] for it in items]) for k in self.spec.keys}


class _ReplaySampler:
    """Yields the micro-batches' ``(index, seed)`` keys of one process, in the
    order :class:`BatchOrder` gives, from a given state: the DataLoader's
    ``batch_sampler``. It runs in the main process, so workers only read items."""

    def __init__(self, order: BatchOrder, B: int, slices: list[slice], seed: int):
        self.order, self.B, self.slices, self.seed = order, B, slices, seed

    def __iter__(self):
        while True:
            idx, epoch, start = self.order.take(self.B)
            for s in self.slices:
                yield [
                    (int(idx[j]), item_seed(self.seed, epoch, start + j))
                    for j in range(s.start, s.stop)
                ]


class BatchStream:
    """The micro-batches one process trains on, step after step.

    Args:
        source: a :class:`TensorSource` or :class:`StreamSource`.
        batch_size: the global batch ``B``.
        rank, world: this process and the number of processes.
        accum: micro-batches per optimiser step.
        seed: the run's seed (data order and augmentation).
        balanced: class-balanced sampling (needs labels).
        device: where batches go.
    """

    def __init__(
        self,
        source: TensorSource | StreamSource,
        batch_size: int,
        rank: int = 0,
        world: int = 1,
        accum: int = 1,
        seed: int = 0,
        balanced: bool = False,
        device: torch.device | str = "cpu",
    ):
        # ConfigError: settings the user chose, printed as one line by the command
        if batch_size % (world * accum):
            raise ConfigError(
                f"data.batch_size={batch_size} must be divisible by the number of "
                f"processes ({world}) times train.accum ({accum}); pick a multiple "
                f"of {world * accum}"
            )
        if len(source) < batch_size:
            raise ConfigError(
                f"only {len(source)} training samples but data.batch_size="
                f"{batch_size}; lower the batch size or raise data.limit"
            )
        weights = None
        if balanced:
            targets = source.targets
            if targets is None:
                raise ConfigError(
                    "data.balanced=true needs class labels, and this data has none"
                )
            counts = torch.bincount(targets.cpu().long()).double()
            weights = 1.0 / counts[targets.cpu().long()]
        self.source, self.B, self.seed = source, batch_size, seed
        self.device = torch.device(device)
        self.order = BatchOrder(len(source), seed, weights)
        self.slices = split_batch(batch_size, rank, world, accum)
        self._loader_iter = None

    def next(self) -> list[Batch]:
        """This process's micro-batches of the next global batch."""
        if not self.source.streaming:
            idx, _, _ = self.order.take(self.B)
            return [self.source.fetch(idx[s]) for s in self.slices]
        if self._loader_iter is None:
            self._loader_iter = iter(self._loader())
        out = []
        self.order.take(self.B)  # our own copy of the state, for checkpoints
        for _ in self.slices:
            batch = next(self._loader_iter)
            out.append(
                {k: v.to(self.device, non_blocking=True) for k, v in batch.items()}
            )
        return out

    def _loader(self) -> DataLoader:
        replay = BatchOrder(self.order.n, self.order.seed, self.order.weights)
        replay.load_state_dict(self.order.state_dict())
        workers = self.source.workers
        # The loader's own generator: making an iterator draws a base seed, which
        # must not come from (and shift) the global generator behind the noise.
        generator = torch.Generator().manual_seed(self.seed)
        return DataLoader(
            self.source.dataset,
            generator=generator,
            batch_sampler=_ReplaySampler(replay, self.B, self.slices, self.seed),
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            prefetch_factor=2 if workers > 0 else None,
        )

    def state_dict(self) -> dict[str, int]:
        return self.order.state_dict()

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.order.load_state_dict(state)
        self._loader_iter = None  # restart the loader from the restored position


# -- building a source from the config -------------------------------------------------
def _resize_uint8(x: Tensor, size: int) -> Tensor:
    """``(N, C, H, W)`` uint8 -> ``(N, C, size, size)`` uint8, bilinear, antialiased."""
    y = F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True)
    return y.round_().clamp_(0, 255).to(torch.uint8)


def _folder_dataset(d: Any, channels: int | None):
    from gancourse.data import folders

    if not d.root:
        raise ConfigError(
            f"data.name={d.name} reads your own images: set data.root=DIR "
            "(see book/training.md for the folder layouts)"
        )
    if d.image_size is None:
        raise ConfigError(f"data.name={d.name} needs data.image_size (e.g. 64)")
    common = {
        "image_size": d.image_size,
        "load_size": d.load_size or d.image_size,
        "flip": d.flip,
        "channels": channels or 3,
    }
    if d.name == "folder":
        return folders.ImageFolderDataset(d.root, split=None, **common)
    if d.name == "paired":
        return folders.PairedFolderDataset(
            d.root, split=d.split, direction=d.direction or "AtoB", **common
        )
    return folders.UnpairedFolderDataset(d.root, split=d.split, **common)


def build_source(
    cfg: Any,
    device: torch.device | str = "cpu",
    data: Tensor | dict[str, Tensor] | None = None,
    channels: int | None = None,
) -> TensorSource | StreamSource:
    """The source of ``cfg.data`` (a :class:`~gancourse.config.DataConfig`).

    Args:
        cfg: the data config.
        device: where a :class:`TensorSource` keeps its tensors.
        data: instead of ``cfg.data.name``: a tensor ``(N, ...)`` of samples (the
            key ``x``) or a dict of tensors, e.g. ``{"x": ..., "y": ...}``.
        channels: image channels for folder data (the model's ``img_channels``).
    """
    from gancourse.data.datasets import dataset_source

    d = cfg
    if data is not None:
        tensors = {"x": data} if isinstance(data, Tensor) else dict(data)
        if d.limit is not None:
            tensors = {k: v[: d.limit] for k, v in tensors.items()}
        n_classes = int(tensors["y"].max()) + 1 if "y" in tensors else None
        info = {"name": "tensor", "n": len(next(iter(tensors.values())))}
        if d.loader == "stream":
            return StreamSource(TensorDictDataset(tensors), info, d.workers, n_classes)
        return TensorSource(tensors, info, n_classes, device)
    from gancourse.data.datasets import canonical_name
    from gancourse.data.tensors import TENSOR_DATASETS, named_tensors

    if d.name in FOLDERS:
        return _stream_folder(_folder_dataset(d, channels), d, d.name)
    name = canonical_name(d.name)
    if name not in TENSOR_DATASETS:  # a named dataset read from its folder
        from gancourse.data.paired import pix2pix_folder

        ds = pix2pix_folder(
            name,
            d.split,
            direction=d.direction,
            image_size=d.image_size,
            load_size=d.load_size,
            flip=d.flip,
            channels=channels or 3,
        )
        return _stream_folder(ds, d, name)
    tensors, n_classes = named_tensors(name, d.split)
    if d.limit is not None:
        tensors = {k: v[: d.limit] for k, v in tensors.items()}
    if d.image_size is not None:
        for key, t in tensors.items():  # every image of an item (x, x_src, ...)
            if t.dim() == 4 and t.shape[-1] != d.image_size:
                tensors[key] = _resize_uint8(t, d.image_size)
    info = {
        "name": name,
        "split": d.split,
        "n": len(next(iter(tensors.values()))),
        "source": dataset_source(name),
    }
    if d.loader == "stream":
        return StreamSource(TensorDictDataset(tensors), info, d.workers, n_classes)
    return TensorSource(tensors, info, n_classes, device)


def _stream_folder(ds: Dataset, d: Any, name: str) -> StreamSource:
    """A folder dataset (the user's or a named one) as a streaming source."""
    if d.limit is not None:
        ds = _Limited(ds, d.limit)
    info = {"name": name, "split": d.split, "n": len(ds)}
    describe = getattr(ds, "describe", None)
    if describe is not None:
        info["source"] = describe()
    if d.loader == "memory":
        raise ConfigError(
            f"data.name={name} streams from disk; use data.loader=auto or stream"
        )
    return StreamSource(ds, info, d.workers)


class _Limited(Dataset):
    """The first ``limit`` items of a dataset, keeping its attributes."""

    def __init__(self, ds: Dataset, limit: int):
        self.ds, self.n = ds, min(limit, len(ds))
        self.n_classes = getattr(ds, "n_classes", None)
        targets = getattr(ds, "targets", None)
        self.targets = None if targets is None else list(targets)[: self.n]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key):
        return self.ds[key]

    def describe(self) -> dict[str, Any]:
        d = getattr(self.ds, "describe", dict)()
        return {**d, "limit": self.n}
