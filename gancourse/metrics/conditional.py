"""Metrics for class-conditional generators (chapter 3).

A conditional generator can fail in two ways that an unconditional FID mixes up:
its samples may not look like the class they were asked for, or they may look like
the class but all alike. So we measure, per class ``k``:

- **class accuracy**: how often a fixed classifier (the shipped LeNet judge) puts
  ``G(z, k)`` in class ``k`` (:func:`~gancourse.metrics.lenet.class_accuracy`);
- **per-class FID, precision and recall** between ``G(z, k)`` and the real
  images of class ``k`` in the judge's features (:func:`per_class_scores`):
  recall (Kynkäänniemi et al. 2019) drops when the samples of a class cover
  only part of that class, the failure Shu et al. (2017) predict for AC-GAN;
- **Classification Accuracy Score** (Ravuri & Vinyals 2019): train a classifier
  on generated images only, labelled with the classes they were generated for,
  and test it on real test images (:func:`classification_accuracy_score`). It
  rewards samples that are both right and varied enough to teach a classifier
  the whole class.

All comparisons are at equal numbers of samples per side, because FID and
recall depend on it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from gancourse.metrics.extractor import MetricInputError
from gancourse.metrics.frechet import frechet_distance
from gancourse.metrics.lenet import LeNet, LeNetExtractor, class_accuracy
from gancourse.metrics.scores import precision_recall

__all__ = [
    "class_conditional_samples",
    "classification_accuracy_score",
    "per_class_scores",
    "train_classifier",
]


@torch.no_grad()
def class_conditional_samples(
    sampler: Any, n_per_class: int, n_classes: int, seed: int = 0, batch: int = 500
) -> tuple[Tensor, Tensor]:
    """``n_per_class`` samples of each class from a conditional ``sampler``.

    Args:
        sampler: a :class:`~gancourse.sampling.Sampler` of a conditional method
            (called as ``sampler(z, y)``).
        n_per_class: samples per class.
        n_classes: ``K``.
        seed: seed of the latent codes ``z ~ N(0, I)``.
        batch: samples per forward pass.

    Returns:
        ``x (K * n_per_class, C, H, W)`` in ``[-1, 1]`` on the CPU and
        ``y (K * n_per_class,)``, class-major (all of class 0 first).
    """
    if n_per_class < 1 or n_classes < 1:
        raise ValueError("n_per_class and n_classes must be >= 1")
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    z = torch.randn(len(y), sampler.z_dim, generator=gen)
    xs = [
        sampler(z[i : i + batch], y[i : i + batch]).float().cpu()
        for i in range(0, len(y), batch)
    ]
    return torch.cat(xs), y


def _by_class(
    feats: np.ndarray, labels: np.ndarray, k: int, n: int, what: str
) -> np.ndarray:
    rows = np.flatnonzero(labels == k)
    if len(rows) < n:
        raise MetricInputError(
            f"{what} has {len(rows)} samples of class {k}, need {n} (equal N per side)"
        )
    return feats[rows[:n]]


def per_class_scores(
    feats_real: np.ndarray,
    y_real: np.ndarray,
    feats_fake: np.ndarray,
    y_fake: np.ndarray,
    n: int,
    k_nn: int = 3,
) -> list[dict[str, float]]:
    """FID, precision and recall per class, ``n`` samples of each side per class.

    Args:
        feats_real: ``(M, D)`` features of real images, labels ``y_real (M,)``.
        feats_fake: ``(N, D)`` features of generated images, with the classes they
            were generated for, ``y_fake (N,)``.
        n: samples per class on each side (the first ``n`` of each class).
        k_nn: the ``k`` of improved precision / recall (3, as in the paper).

    Returns:
        One dict per class ``{"class", "fid", "precision", "recall"}``.
    """
    y_real, y_fake = np.asarray(y_real), np.asarray(y_fake)
    rows = []
    for k in range(int(max(y_real.max(), y_fake.max())) + 1):
        r = _by_class(feats_real, y_real, k, n, "the real set")
        f = _by_class(feats_fake, y_fake, k, n, "the generated set")
        fid = frechet_distance(
            r.mean(0), np.cov(r, rowvar=False), f.mean(0), np.cov(f, rowvar=False)
        )
        precision, recall = precision_recall(r, f, k=k_nn)
        rows.append(
            {"class": k, "fid": float(fid), "precision": precision, "recall": recall}
        )
    return rows


def train_classifier(
    x: Tensor,
    y: Tensor,
    epochs: int = 5,
    seed: int = 0,
    batch_size: int = 128,
    lr: float = 1e-3,
    n_classes: int = 10,
) -> LeNet:
    """A fresh :class:`~gancourse.metrics.lenet.LeNet` trained on ``(x, y)``.

    Args:
        x: ``(N, 1, 28, 28)`` images in ``[-1, 1]``; ``y``: ``(N,)`` classes.
        epochs: passes over the data (Adam, learning rate ``lr``, cross-entropy).
        seed: seeds the initialisation and the batch order.

    Returns:
        The trained network in eval mode.
    """
    if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        raise MetricInputError(f"need (N, 1, 28, 28) images, got {tuple(x.shape)}")
    if len(x) != len(y):
        raise MetricInputError(f"got {len(x)} images but {len(y)} labels")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = LeNet(n_classes)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        net.train()
        for _ in range(epochs):
            perm = torch.randperm(len(x), generator=gen)
            for i in range(0, len(x), batch_size):
                idx = perm[i : i + batch_size]
                loss = F.cross_entropy(net(x[idx].float()), y[idx].long())
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return net.eval()


def classification_accuracy_score(
    x_train: Tensor,
    y_train: Tensor,
    x_test: Tensor,
    y_test: Tensor,
    epochs: int = 5,
    seed: int = 0,
) -> dict[str, Any]:
    """Classification Accuracy Score (Ravuri & Vinyals 2019, section 3).

    Train a classifier on ``(x_train, y_train)``, for CAS generated images and
    the classes they were generated for, and report its accuracy on real test
    images. Run it on real training images of the same size for the baseline.

    Returns:
        ``class_accuracy``'s dict (``accuracy``, ``per_class``, ...) on the test
        set, plus ``epochs`` and ``n_train``.
    """
    net = train_classifier(x_train, y_train, epochs=epochs, seed=seed)
    scores = class_accuracy(LeNetExtractor("cas-classifier", net), x_test, y_test)
    scores.update(epochs=epochs, n_train=len(x_train))
    return scores
