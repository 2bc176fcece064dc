"""2-D toy data: the ring of 8 Gaussians used to show mode collapse.

Metz et al. 2017, "Unrolled Generative Adversarial Networks", Sec. 3.1: a mixture of
8 Gaussians with standard deviation 0.02 whose means lie evenly on a circle of
radius 2. A generator that covers every mode puts points near all 8 means; a
collapsed one visits only one or a few of them.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

# split -> (number of points, seed); different seeds keep train and test independent
RING8_SPLITS = {"train": (50_000, 0), "test": (10_000, 1)}


def ring8_centers(n_modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Mixture means ``(n_modes, 2)`` float32; mode ``k`` at angle ``2 pi k / K``."""
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    return (radius * torch.stack([angles.cos(), angles.sin()], dim=1)).float()


class Ring8(Dataset):
    """A fixed, seeded sample from the ring of 8 Gaussians (Metz et al. 2017).

    ``ds[i]`` is ``(x, y)``: ``x`` float32 ``(2,)`` (values roughly in ``[-2.1, 2.1]``),
    ``y`` the int index ``0..n_modes-1`` of the mixture component that drew it.
    The whole sample is also available as ``ds.data`` ``(N, 2)`` float32 and
    ``ds.targets`` ``(N,)`` int64. Components are drawn uniformly at random.

    Args:
        n: number of points ``N``.
        seed: seed of a private ``torch.Generator``; same seed, same points.
        n_modes: number of Gaussians on the circle.
        radius: radius of the circle the means lie on.
        std: standard deviation of each Gaussian (isotropic).
    """

    def __init__(
        self,
        n: int = 50_000,
        seed: int = 0,
        n_modes: int = 8,
        radius: float = 2.0,
        std: float = 0.02,
    ) -> None:
        self.n_modes, self.radius, self.std, self.seed = n_modes, radius, std, seed
        self.centers = ring8_centers(n_modes, radius)  # (n_modes, 2)
        g = torch.Generator().manual_seed(seed)
        self.targets = torch.randint(n_modes, (n,), generator=g)  # (N,) int64
        noise = torch.randn(n, 2, generator=g)  # (N, 2)
        self.data = self.centers[self.targets] + std * noise  # (N, 2) float32

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.data[index], int(self.targets[index])

    def __repr__(self) -> str:
        return (
            f"Ring8(n={len(self)}, seed={self.seed}, n_modes={self.n_modes}, "
            f"radius={self.radius}, std={self.std})"
        )


def modes_covered(
    points: torch.Tensor,
    centers: torch.Tensor,
    radius: float = 0.3,
    min_count: int = 5,
) -> int:
    """How many mixture modes a set of samples covers.

    A mode counts as covered when at least ``min_count`` of ``points (N, 2)`` lie
    within ``radius`` of its centre (``centers (K, 2)``; each mode's std is 0.02,
    so 0.3 is 15 standard deviations but well under the distance 1.53 between
    neighbouring means). Samples far from every centre count for none.
    """
    d = torch.cdist(points.float(), centers.float())  # (N, K)
    near = d.min(dim=1)
    hits = torch.bincount(near.indices[near.values < radius], minlength=len(centers))
    return int((hits >= min_count).sum())


def fraction_near_modes(
    points: torch.Tensor, centers: torch.Tensor, radius: float = 0.3
) -> float:
    """Share of ``points (N, 2)`` within ``radius`` of some centre: the sample
    quality counterpart of :func:`modes_covered`."""
    d = torch.cdist(points.float(), centers.float()).min(dim=1).values
    return float((d < radius).float().mean())
