"""Chapter 3's conditional metrics: samples per class, per-class scores, CAS."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from gancourse.metrics.conditional import (
    class_conditional_samples,
    classification_accuracy_score,
    per_class_scores,
)
from gancourse.metrics.extractor import MetricInputError


class _EchoSampler:
    """A stand-in conditional sampler: the image is filled with y / 10 and z[0]."""

    z_dim = 3

    def __call__(self, z, y):
        x = torch.zeros(len(y), 1, 28, 28)
        x[:, 0, 0, 0] = y.float() / 10
        x[:, 0, 0, 1] = z[:, 0]
        return x


def test_class_conditional_samples_are_class_major_and_seeded():
    x, y = class_conditional_samples(_EchoSampler(), 4, 3, seed=5, batch=5)
    assert y.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.equal(x[:, 0, 0, 0], y.float() / 10)  # each sample got its label
    z = torch.randn(12, 3, generator=torch.Generator().manual_seed(5))
    assert torch.equal(x[:, 0, 0, 1], z[:, 0])  # codes from the seed, batch-free
    x2, _ = class_conditional_samples(_EchoSampler(), 4, 3, seed=6)
    assert not torch.equal(x, x2)


def _fid_by_hand(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def test_per_class_scores_against_hand_fid_and_collapse():
    rng = np.random.default_rng(0)
    n, d = 60, 4
    real = np.concatenate([rng.normal(3 * k, 1, (n, d)) for k in range(2)])
    y = np.repeat([0, 1], n)
    fake = np.concatenate([rng.normal(3 * k, 1, (n, d)) for k in range(2)])
    # class 1 collapses: every sample of class 1 is (nearly) the same point
    fake[y == 1] = 3.0 + 0.01 * rng.normal(size=(n, d))
    rows = per_class_scores(real, y, fake, y, n)
    assert [r["class"] for r in rows] == [0, 1]
    for k in range(2):
        want = _fid_by_hand(real[y == k], fake[y == k])
        assert rows[k]["fid"] == pytest.approx(want, rel=1e-6, abs=1e-6)
    assert rows[0]["recall"] > 0.8  # a healthy class covers the real one
    assert rows[1]["recall"] < 0.2  # a collapsed class does not
    assert rows[1]["precision"] > 0.9  # ... although its samples are realistic


def test_per_class_scores_want_equal_n():
    real = np.zeros((10, 2))
    with pytest.raises(MetricInputError, match="equal N"):
        per_class_scores(real, np.zeros(10), real[:5], np.zeros(5), 8)


def _squares(n_per_class, seed):
    """Images of class k: a bright 6x6 square at one of 10 places, plus noise."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(10).repeat_interleave(n_per_class)
    x = -torch.ones(len(y), 1, 28, 28) + 0.3 * torch.rand(
        len(y), 1, 28, 28, generator=gen
    )
    for i, k in enumerate(y.tolist()):
        r, c = divmod(k, 5)
        x[i, 0, 4 + 12 * r : 10 + 12 * r, 1 + 5 * c : 7 + 5 * c] = 1.0
    return x, y


def test_cas_learns_informative_labels_and_not_shuffled_ones():
    x, y = _squares(30, 0)
    x_test, y_test = _squares(20, 1)
    good = classification_accuracy_score(x, y, x_test, y_test, epochs=3)
    assert good["accuracy"] > 0.9 and good["n_train"] == 300
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(0))]
    bad = classification_accuracy_score(x, shuffled, x_test, y_test, epochs=3)
    assert bad["accuracy"] < 0.4  # labels that do not match the images teach little


def test_cas_refuses_wrong_shapes():
    with pytest.raises(MetricInputError, match="28, 28"):
        classification_accuracy_score(
            torch.zeros(4, 3, 32, 32),
            torch.zeros(4),
            torch.zeros(4, 1, 28, 28),
            torch.zeros(4, dtype=torch.long),
        )
