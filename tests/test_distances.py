"""Tests for gancourse.metrics.distances against SciPy and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
import torch

from gancourse.metrics import js_divergence, wasserstein_1d
from gancourse.metrics.distances import js_divergence as js_from_module


# ---------------------------------------------------------------------------
# wasserstein_1d
# ---------------------------------------------------------------------------
def test_w1_by_hand():
    # sorted: a = [0, 1, 3], b = [1, 2, 7]: (1 + 1 + 4) / 3 = 2
    assert wasserstein_1d([3.0, 0.0, 1.0], [7.0, 1.0, 2.0]) == pytest.approx(2.0)
    # crossing order: sorted a = [-1, 2], b = [0, 0]: (1 + 2) / 2 = 1.5
    assert wasserstein_1d(np.array([2.0, -1.0]), np.zeros(2)) == pytest.approx(1.5)


@pytest.mark.parametrize("n, seed", [(1, 0), (7, 1), (100, 2), (1000, 3)])
def test_w1_matches_scipy(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = rng.gamma(2.0, 1.5, size=n) - 1.0
    got = wasserstein_1d(a, b)
    assert isinstance(got, float)
    assert got == pytest.approx(scipy.stats.wasserstein_distance(a, b), rel=1e-12)


@pytest.mark.parametrize("t", [0.0, 1.5, -4.25, 1e3])
def test_w1_of_a_shift_is_its_size(t):
    a = np.random.default_rng(4).normal(size=50)
    shifted = np.random.default_rng(5).permutation(a + t)  # order must not matter
    assert wasserstein_1d(a, shifted) == pytest.approx(abs(t), abs=1e-9)


def test_w1_is_a_metric_on_examples():
    rng = np.random.default_rng(6)
    a, b, c = rng.normal(size=(3, 20))
    assert wasserstein_1d(a, a) == 0.0
    assert wasserstein_1d(a, b) == pytest.approx(wasserstein_1d(b, a))
    assert wasserstein_1d(a, c) <= wasserstein_1d(a, b) + wasserstein_1d(b, c) + 1e-12


def test_w1_accepts_tensors_and_mixed_inputs():
    a = torch.tensor([0.5, -2.0, 3.0], requires_grad=True)
    b = np.array([1.0, 1.0, 1.0])
    # sorted a = [-2, 0.5, 3]: (3 + 0.5 + 2) / 3
    want = 5.5 / 3
    assert wasserstein_1d(a, b) == pytest.approx(want, rel=1e-7)
    assert wasserstein_1d(a.detach().double(), torch.ones(3)) == pytest.approx(want)
    assert wasserstein_1d(torch.arange(4), torch.arange(4) + 2) == pytest.approx(2.0)


def test_w1_leaves_inputs_unsorted():
    a = np.array([3.0, 1.0, 2.0])
    b = torch.tensor([9.0, 7.0, 8.0])
    wasserstein_1d(a, b)
    assert a.tolist() == [3.0, 1.0, 2.0]
    assert b.tolist() == [9.0, 7.0, 8.0]


@pytest.mark.parametrize(
    "a, b, words",
    [
        (np.zeros(3), np.zeros(4), ["same number of samples", "3 and 4"]),
        (np.zeros((3, 1)), np.zeros(3), ["1-D", "(3, 1)"]),
        (np.zeros(3), torch.zeros(2, 2), ["1-D", "(2, 2)"]),
        (np.array([0.0, np.nan]), np.zeros(2), ["NaN"]),
        (np.zeros(2), np.array([np.inf, 0.0]), ["infinite"]),
        (np.zeros(0), np.zeros(0), ["empty"]),
        (np.zeros(2), ["x", "y"], ["numbers"]),
    ],
)
def test_w1_rejects_bad_inputs(a, b, words):
    with pytest.raises(ValueError) as info:
        wasserstein_1d(a, b)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------------------
# js_divergence
# ---------------------------------------------------------------------------
def test_js_by_hand():
    # p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4)
    # JS = 1/2 [log(4/3)] + 1/2 [1/2 log(2/3) + 1/2 log(2)]
    want = 0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2)
    assert js_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("k, seed", [(2, 0), (5, 1), (50, 2)])
def test_js_matches_scipy_natural_log(k, seed):
    rng = np.random.default_rng(seed)
    p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
    want = scipy.spatial.distance.jensenshannon(p, q) ** 2  # base e by default
    assert js_divergence(p, q) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(
    "p, q",
    [
        ([1.0, 0.0], [0.0, 1.0]),
        ([0.2, 0.8, 0.0, 0.0], [0.0, 0.0, 0.5, 0.5]),
        ([3.0, 0.0, 5.0], [0.0, 7.0, 0.0]),  # unnormalised weights
    ],
)
def test_js_of_disjoint_supports_is_log_2(p, q):
    assert js_divergence(p, q) == pytest.approx(math.log(2), rel=1e-12)


def test_js_normalises_weights_and_handles_zeros():
    p = np.array([2.0, 6.0, 0.0, 2.0])
    q = np.array([0.1, 0.2, 0.3, 0.4])
    want = scipy.spatial.distance.jensenshannon(p / 10, q) ** 2
    assert js_divergence(p, q) == pytest.approx(want, rel=1e-9)
    assert js_divergence(p, 5 * p) == 0.0
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p))


def test_js_of_histograms_of_samples():
    # the paper's point in numbers: JS saturates once supports separate, W1 grows
    rng = np.random.default_rng(7)
    edges = np.linspace(-5, 25, 61)
    x = rng.uniform(-1, 1, size=500)
    js, w1 = [], []
    for shift in (3.0, 10.0, 20.0):
        y = x + shift
        js.append(js_divergence(np.histogram(x, edges)[0], np.histogram(y, edges)[0]))
        w1.append(wasserstein_1d(x, y))
    assert js == pytest.approx([math.log(2)] * 3)
    assert w1 == pytest.approx([3.0, 10.0, 20.0])


def test_js_accepts_tensors():
    p = torch.tensor([1.0, 3.0])
    q = torch.tensor([3.0, 1.0], dtype=torch.float64)
    want = scipy.spatial.distance.jensenshannon([0.25, 0.75], [0.75, 0.25]) ** 2
    assert js_from_module(p, q) == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize(
    "p, q, words",
    [
        ([0.5, 0.5], [1.0, 0.0, 0.0], ["same bins", "2 and 3"]),
        ([[0.5, 0.5]], [[0.5, 0.5]], ["1-D"]),
        ([0.5, -0.5, 1.0], [1.0, 1.0, 1.0], ["negative"]),
        ([0.0, 0.0], [1.0, 1.0], ["sums to 0"]),
        ([np.nan, 1.0], [1.0, 1.0], ["NaN"]),
        ([1.0, 1.0], [np.inf, 1.0], ["infinite"]),
    ],
)
def test_js_rejects_bad_inputs(p, q, words):
    with pytest.raises(ValueError) as info:
        js_divergence(p, q)
    for word in words:
        assert word in str(info.value), (word, str(info.value))
