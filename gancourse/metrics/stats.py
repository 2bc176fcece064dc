"""Streaming feature statistics, saved as ``.npz`` reference files.

FID needs only the mean and covariance of the features, so :class:`RunningStats`
accumulates ``Σx`` and ``Σxxᵀ`` in float64 batch by batch: 50,000 samples never
sit in memory, and float64 keeps the one-pass formula
``cov = (Σxxᵀ − n μμᵀ) / (n − 1)`` accurate for Inception's non-negative
features (float32 loses digits to cancellation there).
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gancourse.metrics.extractor import MetricInputError

__all__ = ["RunningStats", "FeatureStats", "load_stats", "save_stats"]

STATS_FORMAT = "gancourse-feature-stats-v1"
KEY_FIELDS = ("dataset", "split", "resize", "extractor")


@dataclass(frozen=True)
class FeatureStats:
    """Mean ``mu (D,)``, covariance ``sigma (D, D)``, sample count and provenance.

    ``meta`` holds at least the key fields ``dataset``, ``split``, ``resize`` and
    ``extractor``; two statistics are comparable only when ``resize`` and
    ``extractor`` agree.
    """

    mu: np.ndarray
    sigma: np.ndarray
    n: int
    meta: dict[str, Any] = field(default_factory=dict)

    def check_comparable(self, other: FeatureStats) -> None:
        """Raise if ``other`` was computed with another extractor or resize."""
        if self.mu.shape != other.mu.shape:
            raise MetricInputError(
                f"feature sizes differ ({self.mu.shape[0]} vs {other.mu.shape[0]}): "
                "both sides must use the same extractor"
            )
        for key in ("extractor", "resize"):
            a, b = self.meta.get(key), other.meta.get(key)
            if a is not None and b is not None and a != b:
                raise MetricInputError(
                    f"statistics were computed with different {key}s ({a!r} vs "
                    f"{b!r}); recompute one side with the other's {key}"
                )


class RunningStats:
    """Accumulate the mean and covariance of ``(N, D)`` feature batches."""

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.dim = dim
        self._sum: np.ndarray | None = None
        self._outer: np.ndarray | None = None

    def update(self, feats: torch.Tensor | np.ndarray) -> None:
        """Add a batch of features ``(N, D)``."""
        x = (
            feats.detach().cpu().double().numpy()
            if torch.is_tensor(feats)
            else (np.asarray(feats, dtype=np.float64))
        )
        if x.ndim != 2:
            raise MetricInputError(f"features must be (N, D), got shape {x.shape}")
        if not np.isfinite(x).all():
            raise MetricInputError("features contain NaN or infinite values")
        if self.dim is None:
            self.dim = x.shape[1]
        if x.shape[1] != self.dim:
            raise MetricInputError(
                f"feature size changed from {self.dim} to {x.shape[1]} between batches"
            )
        if self._sum is None:
            self._sum = np.zeros(self.dim)
            self._outer = np.zeros((self.dim, self.dim))
        self._sum += x.sum(axis=0)
        self._outer += x.T @ x
        self.n += x.shape[0]

    def finalize(self, **meta: Any) -> FeatureStats:
        """Mean and unbiased covariance (``n − 1``) of everything added so far."""
        if self.n < 2:
            raise MetricInputError(
                f"need at least 2 samples to estimate a covariance, got {self.n}"
            )
        if self.n < self.dim:
            warnings.warn(
                f"only {self.n} samples for {self.dim}-d features: the covariance is "
                "rank-deficient and FID is biased upwards (it falls as N grows); "
                "compare numbers only at equal N",
                stacklevel=2,
            )
        mu = self._sum / self.n
        sigma = (self._outer - self.n * np.outer(mu, mu)) / (self.n - 1)
        return FeatureStats(mu=mu, sigma=(sigma + sigma.T) / 2, n=self.n, meta=meta)


def stats_from_features(feats, **meta: Any) -> FeatureStats:
    """:class:`FeatureStats` of an in-memory ``(N, D)`` feature array."""
    rs = RunningStats()
    rs.update(feats)
    return rs.finalize(**meta)


def save_stats(stats: FeatureStats, path: str | os.PathLike) -> Path:
    """Write ``stats`` to an ``.npz`` file (atomically: a temp file, then rename)."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.npz")
    meta = {"format": STATS_FORMAT, "n": stats.n, **stats.meta}
    try:
        np.savez(tmp, mu=stats.mu, sigma=stats.sigma, meta=json.dumps(meta))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_stats(path: str | os.PathLike) -> FeatureStats:
    """Read statistics written by :func:`save_stats` (or pytorch-fid's ``mu``/``sigma``
    ``.npz`` files, which carry no provenance)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no statistics file at {path}; create one with `gancourse stats`"
        )
    try:
        with np.load(path, allow_pickle=False) as f:
            mu, sigma = f["mu"], f["sigma"]
            meta = json.loads(str(f["meta"])) if "meta" in f.files else {}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise MetricInputError(
            f"{path} is not a statistics file with 'mu' and 'sigma' arrays ({err})"
        ) from err
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise MetricInputError(
            f"{path}: mu {mu.shape} and sigma {sigma.shape} do not fit together"
        )
    meta.pop("format", None)
    n = int(meta.pop("n", 0))
    return FeatureStats(
        mu=mu.astype(np.float64), sigma=sigma.astype(np.float64), n=n, meta=meta
    )


def stats_key(dataset: str, split: str, resize: str, extractor: str) -> str:
    """File stem that keys reference statistics, e.g.
    ``mnist-train-tf-bilinear-inception``."""
    return f"{dataset}-{split}-{resize}-{extractor}"
