"""Run images through an extractor in batches and turn them into scores.

Sources of images (all yield ``(B, C, H, W)`` batches in ``[-1, 1]`` or uint8):

- a tensor ``(N, C, H, W)``;
- a dataset by name, ``"mnist"`` or ``"fashion-mnist:test"`` (:func:`dataset_images`);
- a folder of image files (:class:`FolderImages`);
- a generator, sampled with fixed seeds (:class:`GeneratorSamples`).

Everything reported states ``n``, the extractor and the resize mode.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from gancourse.metrics.extractor import FeatureExtractor, MetricInputError
from gancourse.metrics.frechet import FrechetReference
from gancourse.metrics.stats import FeatureStats, RunningStats

__all__ = [
    "EXTRACTORS",
    "get_extractor",
    "GeneratorSamples",
    "FolderImages",
    "dataset_images",
    "image_batches",
    "extract_features",
    "feature_stats",
    "fid_from_stats",
]

EXTRACTORS = ("inception", "lenet-mnist", "lenet-fashion")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def get_extractor(
    name: str = "inception",
    resize: str = "tf-bilinear",
    weights: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> FeatureExtractor:
    """An extractor by name: ``"inception"`` (TF-Inception, needs its weights),
    ``"lenet-mnist"`` or ``"lenet-fashion"`` (shipped domain classifiers)."""
    if name == "inception":
        from gancourse.metrics.inception_weights import load_inception

        return load_inception(weights, resize=resize, device=device)
    if name in ("lenet-mnist", "lenet-fashion"):
        from gancourse.metrics.lenet import load_lenet

        return load_lenet(name).to(device)
    raise MetricInputError(
        f"unknown extractor {name!r}; choose one of {', '.join(EXTRACTORS)}"
    )


@dataclass
class GeneratorSamples:
    """``n`` samples of ``G(z)``, ``z ~ N(0, I)`` drawn from a seeded generator.

    ``G`` may also be a :class:`~gancourse.sampling.Sampler`, whose method draws
    the inputs (codes, labels, ...) of all ``n`` samples at once.

    ``labels`` (optional, ``(n,)``) are passed as ``G(z, y)`` for conditional G.
    """

    G: nn.Module
    n: int
    seed: int = 0
    labels: torch.Tensor | None = None

    def batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        if hasattr(self.G, "draw_inputs"):  # a Sampler: the method draws the inputs
            yield from self._sampler_batches(batch_size)
            return
        device = next(self.G.parameters()).device
        gen = torch.Generator().manual_seed(self.seed)
        # all codes in one draw: torch fills small and large tensors with different
        # normal samplers, so drawing per batch would tie the samples to batch_size
        z_all = torch.randn(self.n, self.G.z_dim, generator=gen)
        for start in range(0, self.n, batch_size):
            b = min(batch_size, self.n - start)
            z = z_all[start : start + b].to(device)
            with torch.no_grad():
                if self.labels is None:
                    x = self.G(z)
                else:
                    x = self.G(z, self.labels[start : start + b].to(device))
            yield x.detach().float().clamp(-1, 1)

    def _sampler_batches(self, batch_size: int) -> Iterator[torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed)
        inputs = self.G.draw_inputs(self.n, gen)  # all at once, as above
        for start in range(0, self.n, batch_size):
            part = {k: v[start : start + batch_size] for k, v in inputs.items()}
            yield self.G(part).detach().float().clamp(-1, 1)


class FolderImages:
    """Image files in a folder (recursively), read as uint8 ``(C, H, W)``."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise MetricInputError(f"{self.folder} is not a folder of images")
        self.files = sorted(
            p for p in self.folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.files:
            raise MetricInputError(
                f"no image files ({', '.join(IMAGE_SUFFIXES)}) in {self.folder}"
            )

    def __len__(self) -> int:
        return len(self.files)

    def read(self, path: Path) -> torch.Tensor:
        from PIL import Image

        try:
            with Image.open(path) as im:  # np.array: writable, as torch wants
                arr = np.array(im.convert("L" if im.mode in ("L", "1") else "RGB"))
        except OSError as err:
            raise MetricInputError(f"cannot read image {path}: {err}") from err
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(arr))

    def batches(self, batch_size: int, n: int | None = None) -> Iterator[torch.Tensor]:
        files = self.files[:n]
        for start in range(0, len(files), batch_size):
            imgs = [self.read(p) for p in files[start : start + batch_size]]
            if len({tuple(t.shape) for t in imgs}) > 1:
                raise MetricInputError(
                    f"images in {self.folder} differ in size or channels; "
                    "resize them to one size first"
                )
            yield torch.stack(imgs)


def dataset_images(spec: str, n: int | None = None, seed: int = 0) -> torch.Tensor:
    """``"name[:split]"`` -> images ``(N, C, H, W)`` in ``[-1, 1]``.

    With ``n`` smaller than the split, a seeded random subset (not the first ``n``,
    which may be ordered by class). Paired datasets (``edges2footwear:test``,
    ``facades:test``) give their targets ``x``: the real images a translation's
    outputs are compared with.
    """
    from gancourse.data import PAIRED, load_dataset, load_paired, to_tensors
    from gancourse.data.datasets import canonical_name

    name, _, split = spec.partition(":")
    if canonical_name(name) in PAIRED:
        ds = load_paired(name, split or "train")
        idx = np.arange(len(ds))
        if n is not None and n < len(ds):
            idx = np.random.default_rng(seed).permutation(len(ds))[:n]
        return torch.stack([ds[int(i)]["x"] for i in idx])
    X, _ = to_tensors(load_dataset(name, split or "train"))
    if n is not None and n < X.shape[0]:
        idx = torch.from_numpy(np.random.default_rng(seed).permutation(X.shape[0])[:n])
        X = X[idx]
    return X


def image_batches(source: Any, batch_size: int, n: int | None = None):
    """Batches of a tensor, :class:`GeneratorSamples` or :class:`FolderImages`."""
    if torch.is_tensor(source):
        data = source[:n] if n is not None else source
        for start in range(0, data.shape[0], batch_size):
            yield data[start : start + batch_size]
    elif isinstance(source, GeneratorSamples):
        yield from source.batches(batch_size)
    elif isinstance(source, FolderImages):
        yield from source.batches(batch_size, n)
    else:
        raise MetricInputError(
            "images must be a tensor (N, C, H, W), GeneratorSamples or FolderImages, "
            f"got {type(source).__name__}"
        )


def _count(source: Any, n: int | None) -> int | None:
    if torch.is_tensor(source):
        return min(n, source.shape[0]) if n else source.shape[0]
    if isinstance(source, GeneratorSamples):
        return source.n
    if isinstance(source, FolderImages):
        return min(n, len(source)) if n else len(source)
    return n


def _progress(total: int | None, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="img", disable=not enabled, leave=False)


@torch.no_grad()
def extract_features(
    source: Any,
    extractor: FeatureExtractor,
    n: int | None = None,
    batch_size: int = 100,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """All features ``(N, D)`` (float64) and logits ``(N, K)`` (or ``None``)."""
    feats, logits = [], []
    with _progress(_count(source, n), extractor.name, progress) as bar:
        for batch in image_batches(source, batch_size, n):
            f, lg = extractor.extract(batch)
            feats.append(f.cpu().double().numpy())
            if lg is not None:
                logits.append(lg.cpu().double().numpy())
            bar.update(batch.shape[0])
    if not feats:
        raise MetricInputError("no images to evaluate")
    return np.concatenate(feats), np.concatenate(logits) if logits else None


@torch.no_grad()
def feature_stats(
    source: Any,
    extractor: FeatureExtractor,
    n: int | None = None,
    batch_size: int = 100,
    progress: bool = False,
    **meta: Any,
) -> FeatureStats:
    """Streaming mean and covariance of the features of ``source``.

    ``meta`` (e.g. ``dataset="mnist", split="train"``) is stored with the
    extractor's name and resize mode.
    """
    running = RunningStats(extractor.feature_dim)
    with _progress(_count(source, n), extractor.name, progress) as bar:
        for batch in image_batches(source, batch_size, n):
            f, _ = extractor.extract(batch)
            running.update(f)
            bar.update(batch.shape[0])
    return running.finalize(**extractor.describe(), **meta)


def fid_from_stats(real: FeatureStats, fake: FeatureStats) -> float:
    """FID between two comparable statistics (same extractor and resize)."""
    real.check_comparable(fake)
    return FrechetReference(real.mu, real.sigma).distance(fake.mu, fake.sigma)
