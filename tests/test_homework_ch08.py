"""Tests for the chapter 8 homework (FID, Inception Score, KID).

The answers below are written by hand here, independently of the references in
``gancourse.homework.ch08``; the references themselves are compared with hand
computations and with SciPy, never with themselves or with ``gancourse.metrics``.
(``tests/test_homework.py`` already checks that every registered reference passes
its own check.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats
import torch
from _helpers import assert_fail as _assert_fail
from _helpers import assert_one_line_verdicts, assert_pass, run

from gancourse.homework import EXERCISES, ch08, check, show_solution

CH08 = {"ch08.frechet_distance", "ch08.inception_score", "ch08.kid"}


def assert_fail(exercise_id, fn, *words):
    """As :func:`_helpers.assert_fail`, and the status is "failed" (not "error")."""
    res = _assert_fail(exercise_id, fn, *words)
    assert res.status == "failed", res.line
    return res


def test_registry_has_chapter_8():
    assert CH08 <= set(EXERCISES)
    for eid in CH08:
        assert EXERCISES[eid].id == eid


def test_references_do_not_use_the_metrics_package():
    # the homework must not check the library against itself
    source = open(ch08.__file__, encoding="utf-8").read()
    assert "from gancourse.metrics" not in source
    assert "import gancourse.metrics" not in source
    assert "import scipy" not in source  # scipy is not a package dependency


# ---------------------------------------------------------------------------
# The references against hand computations and SciPy
# ---------------------------------------------------------------------------
def _random_gaussian(rng, n, d):
    x = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def test_frechet_reference_by_hand():
    # 1-D: (mu1 - mu2)^2 + (s1 - s2)^2 with standard deviations 2 and 1
    fid = ch08.frechet_distance(
        np.array([0.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])
    )
    assert fid == pytest.approx(9.0 + 1.0, abs=1e-12)
    # diagonal covariances commute: sum over dims of (sqrt a - sqrt b)^2
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 4.0, 1.0])
    mu1, mu2 = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0])
    fid = ch08.frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert fid == pytest.approx(13.0 + (1 + 0 + 4), abs=1e-12)
    # identical inputs
    mu, sigma = _random_gaussian(np.random.default_rng(0), 40, 6)
    assert abs(ch08.frechet_distance(mu, sigma, mu, sigma)) < 1e-10


def test_frechet_reference_matches_scipy_sqrtm():
    rng = np.random.default_rng(1)
    for n2 in (60, 4):  # full rank, then singular (4 samples in 7 dims)
        mu1, s1 = _random_gaussian(rng, 60, 7)
        mu2, s2 = _random_gaussian(rng, n2, 7)
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        want = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * covmean)
        assert ch08.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(want, 1e-7)


def test_inception_score_reference_by_hand():
    # rows (1, 0) and (1/2, 1/2): p(y) = (3/4, 1/4), KL = log(4/3) and
    # (1/2) log(4/3), mean (3/4) log(4/3), so IS = (4/3)^(3/4)
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    mean, std = ch08.inception_score(probs, splits=1)
    assert mean == pytest.approx((4 / 3) ** 0.75, rel=1e-12) and std == 0.0
    # confident and balanced over K classes in every split: IS = K
    onehot = np.tile(np.eye(4), (6, 1))  # 24 rows, splits of 8 rows
    assert ch08.inception_score(onehot, splits=3) == pytest.approx((4.0, 0.0))
    # the same prediction everywhere: IS = 1
    same = np.tile([[0.2, 0.3, 0.5]], (10, 1))
    assert ch08.inception_score(same, splits=2) == pytest.approx((1.0, 0.0))
    # splits differ: one split of one-hot rows (IS = 2), one of uniform rows (IS = 1)
    mixed = np.vstack([np.tile(np.eye(2), (2, 1)), np.full((4, 2), 0.5)])
    assert ch08.inception_score(mixed, splits=2) == pytest.approx((1.5, 0.5))


def test_inception_score_reference_matches_scipy_entropy():
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.full(6, 0.3), size=37)
    probs[probs < 0.05] = 0.0
    probs /= probs.sum(axis=1, keepdims=True)
    scores = []
    for i in range(4):
        part = probs[i * 37 // 4 : (i + 1) * 37 // 4]
        kl = scipy.stats.entropy(part, part.mean(axis=0), axis=1)
        scores.append(math.exp(kl.mean()))
    got = ch08.inception_score(probs, splits=4)
    assert got == pytest.approx((np.mean(scores), np.std(scores)), rel=1e-10)


def test_kid_reference_by_hand():
    # d = 1, k(x, y) = (x y + 1)^3; X = {1, 2}, Y = {0, 1}:
    # k(1, 2) = 27, k(0, 1) = 1, cross: k(1,0) + k(1,1) + k(2,0) + k(2,1) = 37
    # MMD^2 = 27 + 1 - 2 * 37 / 4 = 9.5
    X, Y = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    assert ch08.kid(X, Y) == pytest.approx(9.5, abs=1e-12)
    # d = 2 with m = 3, n = 2: x.y / 2 for X = {(0,0), (2,0), (0,2)}, Y = {(2,2), 0}
    X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    Y = np.array([[2.0, 2.0], [0.0, 0.0]])
    # within X, i != j: pairs (0,1), (0,2) give 1, pair (1,2) gives 1 -> 6 / 6 = 1
    # within Y: k((2,2), 0) = 1 twice -> 2 / 2 = 1
    # cross: x = 0 -> 1, 1; x = (2,0) -> (2+1)^3 = 27, 1; (0,2) -> 27, 1 -> 58 / 6
    assert ch08.kid(X, Y) == pytest.approx(1 + 1 - 2 * 58 / 6, abs=1e-12)


# ---------------------------------------------------------------------------
# ch08.frechet_distance
# ---------------------------------------------------------------------------
def fid_sqrtm(mu1, sigma1, mu2, sigma2):
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1 + sigma2 - 2 * covmean))


def fid_eigenvalues(mu1, sigma1, mu2, sigma2):
    # the eigenvalues of sigma1 sigma2 are real and >= 0 up to round-off
    eig = np.linalg.eigvals(sigma1 @ sigma2)
    tr_covmean = np.sqrt(np.clip(eig.real, 0, None)).sum()
    return float(
        np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    )


def fid_symmetric_sqrtm(mu1, sigma1, mu2, sigma2):
    root1 = scipy.linalg.sqrtm(sigma1).real
    inner = scipy.linalg.sqrtm(root1 @ sigma2 @ root1).real
    return np.linalg.norm(mu1 - mu2) ** 2 + np.trace(sigma1 + sigma2 - 2 * inner)


def fid_torch(mu1, sigma1, mu2, sigma2):
    m1, s1, m2, s2 = (torch.from_numpy(a) for a in (mu1, sigma1, mu2, sigma2))
    eig = torch.linalg.eigvals(s1 @ s2).real.clamp(min=0)
    return (m1 - m2).pow(2).sum() + s1.trace() + s2.trace() - 2 * eig.sqrt().sum()


@pytest.mark.parametrize(
    "fn", [fid_sqrtm, fid_eigenvalues, fid_symmetric_sqrtm, fid_torch]
)
def test_frechet_accepts_correct_answers(fn):
    assert_pass("ch08.frechet_distance", fn)


def _sq(mu1, mu2):
    return float((mu1 - mu2) @ (mu1 - mu2))


def _covmean(s1, s2):
    return scipy.linalg.sqrtm(s1 @ s2).real


def fid_inplace(mu1, sigma1, mu2, sigma2):
    sigma1 += sigma2  # the trace of the sum, computed in place
    return (
        _sq(mu1, mu2)
        + np.trace(sigma1)
        - 2 * np.trace(_covmean(sigma1 - sigma2, sigma2))
    )


FID_WRONG = {
    "no square root": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + np.trace(s1 + s2 - 2 * s1 @ s2),
        ["no square root"],
    ),
    "mean term not squared": (
        lambda m1, s1, m2, s2: (
            np.linalg.norm(m1 - m2) + np.trace(s1 + s2 - 2 * _covmean(s1, s2))
        ),
        ["not its square"],
    ),
    "elementwise sqrt of the product": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + np.trace(s1 + s2 - 2 * np.sqrt(s1 @ s2)),
        ["each entry", "sqrtm"],
    ),
    "elementwise sqrt of each covariance": (
        lambda m1, s1, m2, s2: (
            _sq(m1, m2) + np.trace(s1 + s2 - 2 * np.sqrt(s1) @ np.sqrt(s2))
        ),
        ["each entry"],
    ),
    "missing factor 2": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + np.trace(s1 + s2 - _covmean(s1, s2)),
        ["factor 2"],
    ),
    "square root of FID": (
        lambda m1, s1, m2, s2: math.sqrt(fid_sqrtm(m1, s1, m2, s2)),
        ["square root of the FID"],
    ),
    "product of the roots": (
        lambda m1, s1, m2, s2: (
            _sq(m1, m2)
            + np.trace(
                s1 + s2 - 2 * scipy.linalg.sqrtm(s1).real @ scipy.linalg.sqrtm(s2).real
            )
        ),
        ["σ1^{1/2} σ2^{1/2}", "commute"],
    ),
    "plus sign on the cross term": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + np.trace(s1 + s2 + 2 * _covmean(s1, s2)),
        ["wrong sign"],
    ),
    "no mean term": (
        lambda m1, s1, m2, s2: np.trace(s1 + s2 - 2 * _covmean(s1, s2)),
        ["mean term"],
    ),
    "sum of entries instead of trace": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + np.sum(s1 + s2 - 2 * _covmean(s1, s2)),
        ["all entries", "np.trace"],
    ),
    "complex result (sqrtm without .real)": (
        lambda m1, s1, m2, s2: (
            _sq(m1, m2)
            + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).astype(complex))
        ),
        ["complex", ".real"],
    ),
    "matrix instead of trace": (
        lambda m1, s1, m2, s2: _sq(m1, m2) + s1 + s2 - 2 * _covmean(s1, s2),
        ["shape", "single number"],
    ),
    "forgot return": (lambda m1, s1, m2, s2: None, ["None", "return"]),
    "in-place edit of sigma1": (fid_inplace, ["in place"]),
    "raises": (lambda m1, s1, m2, s2: m1 @ s1 @ s2 @ m2.T @ np.ones(3), ["raised"]),
}


@pytest.mark.parametrize("name", list(FID_WRONG))
def test_frechet_rejects_wrong_answers(name):
    fn, words = FID_WRONG[name]
    assert_fail("ch08.frechet_distance", fn, *words)


def test_frechet_nan_on_singular_covariance_names_the_cause():
    # e.g. np.sqrt of the slightly negative eigenvalues of a singular product
    def nan_if_singular(mu1, sigma1, mu2, sigma2):
        if np.linalg.matrix_rank(sigma2) < len(sigma2):
            return float("nan")
        return fid_sqrtm(mu1, sigma1, mu2, sigma2)

    assert_fail("ch08.frechet_distance", nan_if_singular, "singular", "nan", "clip")


def test_frechet_unclipped_eigenvalues_are_rejected_on_the_singular_case():
    # np.sqrt of raw eigenvalues: NaN where round-off makes a zero one negative
    def unclipped(mu1, sigma1, mu2, sigma2):
        tr = np.sqrt(np.linalg.eigvals(sigma1 @ sigma2).real).sum()
        return float(_sq(mu1, mu2) + np.trace(sigma1 + sigma2) - 2 * tr)

    assert_fail("ch08.frechet_distance", unclipped, "singular", "nan", "clip")


def test_frechet_sqrtm_without_real_part():
    # what SciPy returns here depends on its version: a complex sqrtm must be
    # rejected with the .real hint, a real one is simply a correct answer
    def no_real(mu1, sigma1, mu2, sigma2):
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
        return _sq(mu1, mu2) + np.trace(sigma1 + sigma2 - 2 * covmean)

    complex_somewhere = any(
        np.iscomplexobj(scipy.linalg.sqrtm(c.args[1] @ c.args[3]))
        for c in ch08._fid_cases()
    )
    if complex_somewhere:
        assert_fail("ch08.frechet_distance", no_real, "complex", ".real")
    else:
        assert_pass("ch08.frechet_distance", no_real)


def test_complex_error_inside_learner_code_gets_the_real_part_hint():
    def float_of_complex(mu1, sigma1, mu2, sigma2):
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).astype(complex)
        tr = np.trace(sigma1 + sigma2 - 2 * covmean).item()  # a Python complex
        return float(_sq(mu1, mu2) + tr)

    assert_fail("ch08.frechet_distance", float_of_complex, "TypeError", ".real")


# ---------------------------------------------------------------------------
# ch08.inception_score
# ---------------------------------------------------------------------------
def _parts(probs, splits):
    n = len(probs)
    return [probs[i * n // splits : (i + 1) * n // splits] for i in range(splits)]


def is_rel_entr(probs, splits=10):
    scores = [
        np.exp(scipy.special.rel_entr(p, p.mean(axis=0)).sum(axis=1).mean())
        for p in _parts(probs, splits)
    ]
    return float(np.mean(scores)), float(np.std(scores))


def is_entropy_form(probs, splits=10):
    # E_x KL(p(y|x) || p(y)) = H(p(y)) - E_x H(p(y|x))
    scores = []
    for p in _parts(probs, splits):
        h_marginal = -scipy.special.xlogy(p.mean(axis=0), p.mean(axis=0)).sum()
        h_cond = -scipy.special.xlogy(p, p).sum(axis=1).mean()
        scores.append(math.exp(h_marginal - h_cond))
    return np.mean(scores), np.std(scores)


def is_eps(probs, splits=10):
    eps = 1e-16
    n = probs.shape[0]
    scores = []
    for k in range(splits):
        part = probs[(k * n // splits) : ((k + 1) * n // splits), :]
        py = np.expand_dims(np.mean(part, 0), 0)
        kl = part * (np.log(part + eps) - np.log(py + eps))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return [np.mean(scores), np.std(scores)]


def is_torch(probs, splits=10):
    p_all = torch.from_numpy(probs)
    scores = []
    for p in torch.tensor_split(
        p_all, [i * len(probs) // splits for i in range(1, splits)]
    ):
        kl = torch.special.xlogy(p, p) - torch.special.xlogy(p, p.mean(0))
        scores.append(kl.sum(1).mean().exp())
    scores = torch.stack(scores)
    return scores.mean().item(), scores.std(unbiased=False).item()


@pytest.mark.parametrize("fn", [is_rel_entr, is_entropy_form, is_eps, is_torch])
def test_inception_score_accepts_correct_answers(fn):
    assert_pass("ch08.inception_score", fn)


def _kl_rows(p, q):
    return scipy.special.rel_entr(p, q).sum(axis=1)


def is_shuffled(probs, splits=10):
    return is_rel_entr(np.random.default_rng(0).permutation(probs), splits)


def is_naive_log(probs, splits=10):
    scores = [
        np.exp((p * np.log(p / p.mean(axis=0))).sum(axis=1).mean())
        for p in _parts(probs, splits)
    ]
    return float(np.mean(scores)), float(np.std(scores))


def _split_scores(probs, splits):
    return [np.exp(_kl_rows(p, p.mean(0)).mean()) for p in _parts(probs, splits)]


def _scores(fn):
    """An IS whose per-split score is ``fn(part)``."""

    def inception_score(probs, splits=10):
        scores = [fn(p) for p in _parts(probs, splits)]
        return float(np.mean(scores)), float(np.std(scores))

    return inception_score


IS_WRONG = {
    "KL reversed": (
        _scores(
            lambda p: np.exp(
                scipy.special.rel_entr(np.broadcast_to(p.mean(0), p.shape), p)
                .sum(1)
                .mean()
            )
        ),
        ["reversed"],
    ),
    "exp after the mean over splits": (
        lambda probs, splits=10: (
            math.exp(
                np.mean([_kl_rows(p, p.mean(0)).mean() for p in _parts(probs, splits)])
            ),
            0.0,
        ),
        ["after averaging"],
    ),
    "mean of per-sample exp(KL)": (
        _scores(lambda p: np.exp(_kl_rows(p, p.mean(0))).mean()),
        ["exp(kl) over the samples"],
    ),
    "marginal over the whole set": (
        lambda probs, splits=10: _scores(
            lambda p: np.exp(_kl_rows(p, probs.mean(0)).mean())
        )(probs, splits),
        ["all n rows"],
    ),
    "no exp": (_scores(lambda p: _kl_rows(p, p.mean(0)).mean()), ["exp is missing"]),
    "splits ignored": (
        lambda probs, splits=10: is_rel_entr(probs, 1),
        ["ignores"],
    ),
    "chunks of N // splits, remainder dropped": (
        lambda probs, splits=10: is_rel_entr(
            probs[: len(probs) // splits * splits], splits
        ),
        ["drop"],
    ),
    "np.array_split": (
        lambda probs, splits=10: (
            float(
                np.mean(
                    s := [
                        np.exp(_kl_rows(p, p.mean(0)).mean())
                        for p in np.array_split(probs, splits)
                    ]
                )
            ),
            float(np.std(s)),
        ),
        ["array_split"],
    ),
    "sample std": (
        lambda probs, splits=10: (
            float(np.mean(_split_scores(probs, splits))),
            float(np.std(_split_scores(probs, splits), ddof=1)),
        ),
        ["ddof=1"],
    ),
    "log base 2": (
        _scores(
            lambda p: np.exp(
                (scipy.special.rel_entr(p, p.mean(0)) / np.log(2)).sum(1).mean()
            )
        ),
        ["base 2"],
    ),
    "std of the log scores": (
        lambda probs, splits=10: (
            is_rel_entr(probs, splits)[0],
            float(
                np.std([_kl_rows(p, p.mean(0)).mean() for p in _parts(probs, splits)])
            ),
        ),
        ["std is taken over"],
    ),
    "mean and std swapped": (
        lambda probs, splits=10: is_rel_entr(probs, splits)[::-1],
        ["swapped"],
    ),
    "0 log 0 gives NaN": (is_naive_log, ["zeros", "0 log 0"]),
    "mean only": (
        lambda probs, splits=10: is_rel_entr(probs, splits)[0],
        ["one number"],
    ),
    "per-split scores": (
        lambda probs, splits=10: [
            float(np.exp(_kl_rows(p, p.mean(0)).mean())) for p in _parts(probs, splits)
        ],
        ["expected 2"],
    ),
    "no default for splits": (
        lambda probs, splits: is_rel_entr(probs, splits),
        ["default"],
    ),
    "shuffled rows": (is_shuffled, ["wrong"]),
    "in-place normalisation": (
        lambda probs, splits=10: is_rel_entr(
            np.divide(probs, probs.sum(1, keepdims=True), out=probs), splits
        ),
        ["in place"],
    ),
}


@pytest.mark.parametrize("name", list(IS_WRONG))
def test_inception_score_rejects_wrong_answers(name):
    fn, words = IS_WRONG[name]
    assert_fail("ch08.inception_score", fn, *words)


# ---------------------------------------------------------------------------
# ch08.kid
# ---------------------------------------------------------------------------
def kid_matrix(feats_real, feats_fake):
    X, Y = feats_real, feats_fake
    m, n, d = len(X), len(Y), X.shape[1]
    kxx = (X @ X.T / d + 1) ** 3
    kyy = (Y @ Y.T / d + 1) ** 3
    kxy = (X @ Y.T / d + 1) ** 3
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def kid_loops(feats_real, feats_fake):
    d = feats_real.shape[1]

    def k(x, y):
        return (np.dot(x, y) / d + 1) ** 3

    def within(A):
        vals = [k(a, b) for i, a in enumerate(A) for j, b in enumerate(A) if i != j]
        return sum(vals) / len(vals)

    cross = np.mean([k(x, y) for x in feats_real for y in feats_fake])
    return within(feats_real) + within(feats_fake) - 2 * cross


def kid_fill_diagonal(feats_real, feats_fake):
    d = feats_real.shape[1]
    kxx = (feats_real @ feats_real.T / d + 1) ** 3
    kyy = (feats_fake @ feats_fake.T / d + 1) ** 3
    np.fill_diagonal(kxx, np.nan)  # on the kernel matrices, not the inputs
    np.fill_diagonal(kyy, np.nan)
    kxy = (feats_real @ feats_fake.T / d + 1) ** 3
    return np.nanmean(kxx) + np.nanmean(kyy) - 2 * kxy.mean()


def kid_torch(feats_real, feats_fake):
    X, Y = torch.from_numpy(feats_real), torch.from_numpy(feats_fake)
    d = X.shape[1]
    kxx, kyy, kxy = ((A @ B.T / d + 1).pow(3) for A, B in ((X, X), (Y, Y), (X, Y)))
    m, n = len(X), len(Y)
    off = lambda K: K.sum() - K.diagonal().sum()  # noqa: E731
    return float(off(kxx) / (m * (m - 1)) + off(kyy) / (n * (n - 1)) - 2 * kxy.mean())


@pytest.mark.parametrize("fn", [kid_matrix, kid_loops, kid_fill_diagonal, kid_torch])
def test_kid_accepts_correct_answers(fn):
    assert_pass("ch08.kid", fn)


def _kid_with(degree=3, scale=True, diag="unbiased", cross=-2.0, same_size=False):
    def kid(X, Y):
        m, n, d = len(X), len(Y), X.shape[1]
        k = lambda A, B: (A @ B.T / (d if scale else 1) + 1) ** degree  # noqa: E731
        kxx, kyy, kxy = k(X, X), k(Y, Y), k(X, Y)
        if diag == "biased":
            return kxx.mean() + kyy.mean() + cross * kxy.mean()
        sx, sy = kxx.sum() - np.trace(kxx), kyy.sum() - np.trace(kyy)
        if diag == "zeroed":
            return sx / m**2 + sy / n**2 + cross * kxy.mean()
        if same_size:  # as in code written for m = n
            return (sx + sy) / (m * (m - 1)) + cross * kxy.sum() / (m * m)
        return sx / (m * (m - 1)) + sy / (n * (n - 1)) + cross * kxy.mean()

    return kid


def kid_scaled_in_place(feats_real, feats_fake):
    d = feats_real.shape[1]
    feats_real /= math.sqrt(d)  # folds the 1/d into the features, in place
    feats_fake /= math.sqrt(d)
    return kid_matrix(feats_real * math.sqrt(d), feats_fake * math.sqrt(d))


KID_WRONG = {
    "biased (diagonal included)": (_kid_with(diag="biased"), ["biased"]),
    "diagonal dropped, divided by m^2": (
        _kid_with(diag="zeroed"),
        ["still divided by m²"],
    ),
    "degree 2": (_kid_with(degree=2), ["degree 2", "cubic"]),
    "linear kernel": (_kid_with(degree=1), ["linear"]),
    "no 1/d": (_kid_with(scale=False), ["1/d"]),
    "plus on the cross term": (_kid_with(cross=2.0), ["wrong sign"]),
    "cross term without factor 2": (_kid_with(cross=-1.0), ["factor 2"]),
    "assumes m = n": (_kid_with(same_size=True), ["m = n"]),
    "square root": (lambda X, Y: math.sqrt(kid_matrix(X, Y)), ["square root"]),
    "clipped at 0": (lambda X, Y: max(0.0, kid_matrix(X, Y)), ["clipped", "negative"]),
    "abs": (lambda X, Y: abs(kid_matrix(X, Y)), ["abs", "negative"]),
    "in-place scaling": (kid_scaled_in_place, ["in place"]),
    "returns the three means": (
        lambda X, Y: np.array([kid_matrix(X, Y), 0.0, 0.0]),
        ["shape (3,)"],
    ),
    "string": (lambda X, Y: f"{kid_matrix(X, Y):.3f}", ["str", "float"]),
}


@pytest.mark.parametrize("name", list(KID_WRONG))
def test_kid_rejects_wrong_answers(name):
    fn, words = KID_WRONG[name]
    assert_fail("ch08.kid", fn, *words)


def test_kid_cases_include_a_negative_estimate():
    # computed with this file's own kid_matrix, not with the reference
    values = [kid_matrix(*case.args) for case in ch08._kid_cases()]
    assert min(values) < 0 < max(values)
    sizes = {(len(c.args[0]), len(c.args[1])) for c in ch08._kid_cases()}
    assert any(m != n for m, n in sizes)


def test_inception_cases_include_zeros_and_uneven_splits():
    cases = ch08._is_cases()
    assert any((c.args[0] == 0).any() for c in cases)
    assert any(len(c.args) == 2 and len(c.args[0]) % c.args[1] for c in cases)
    assert any(len(c.args) == 1 for c in cases)  # the default splits=10
    for c in cases:
        assert np.allclose(c.args[0].sum(axis=1), 1.0)


def test_frechet_cases_include_singular_and_identical_inputs():
    cases = ch08._fid_cases()
    ranks = [np.linalg.matrix_rank(s) for c in cases for s in (c.args[1], c.args[3])]
    dims = [len(s) for c in cases for s in (c.args[1], c.args[3])]
    assert any(r < d for r, d in zip(ranks, dims))
    assert any(
        np.array_equal(c.args[0], c.args[2]) and np.array_equal(c.args[1], c.args[3])
        for c in cases
    )


# ---------------------------------------------------------------------------
# What a learner sees
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "eid, right, wrong, words",
    [
        (
            "ch08.frechet_distance",
            fid_sqrtm,
            FID_WRONG["no square root"][0],
            ["no square root", "Hint:", "sqrtm"],
        ),
        (
            "ch08.inception_score",
            is_rel_entr,
            IS_WRONG["KL reversed"][0],
            ["reversed", "Hint:", "KL(p(y|x) || p(y))"],
        ),
        (
            "ch08.kid",
            kid_matrix,
            KID_WRONG["biased (diagonal included)"][0],
            ["biased", "Hint:", "m (m - 1)"],
        ),
    ],
)
def test_check_prints_one_line_verdicts(capsys, eid, right, wrong, words):
    assert_one_line_verdicts(capsys, eid, right, wrong, words)


@pytest.mark.parametrize("eid", sorted(CH08))
def test_not_implemented_yet(capsys, eid):
    def stub(*args):
        # YOUR CODE HERE
        raise NotImplementedError

    res = check(eid, stub)
    assert not res and res.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "eid, words",
    [
        ("ch08.frechet_distance", ["def frechet_distance", "eigvalsh", "np.trace"]),
        ("ch08.inception_score", ["def inception_score", "math.exp", "splits"]),
        ("ch08.kid", ["def kid", "** 3", "(m * (m - 1))"]),
    ],
)
def test_show_solution_prints_source(capsys, eid, words):
    assert show_solution(eid) is None
    out = capsys.readouterr().out
    for word in words:
        assert word in out


def test_check_does_not_change_global_rngs():
    np.random.seed(5)
    torch.manual_seed(5)
    expected = np.random.rand(3), torch.rand(3)
    np.random.seed(5)
    torch.manual_seed(5)
    for eid in CH08:
        run(eid, EXERCISES[eid].reference)
    assert np.array_equal(np.random.rand(3), expected[0])
    assert torch.equal(torch.rand(3), expected[1])


def _f32(fn):
    """``fn`` computed in single precision (the tasks do not ask for float64)."""

    def wrapped(*args):
        args = [np.asarray(a, dtype=np.float32) if np.ndim(a) else a for a in args]
        return fn(*args)

    return wrapped


def _fid_sqrtm(mu1, s1, mu2, s2):
    import scipy.linalg

    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


def _is_plain(probs, splits=10):
    n, scores = len(probs), []
    for i in range(splits):
        part = probs[i * n // splits : (i + 1) * n // splits]
        p_y = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(p_y + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


def _kid_plain(X, Y):
    d, m, n = X.shape[1], len(X), len(Y)
    kxx, kyy = (X @ X.T / d + 1) ** 3, (Y @ Y.T / d + 1) ** 3
    kxy = (X @ Y.T / d + 1) ** 3
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2 * kxy.mean()
    )


@pytest.mark.parametrize(
    "eid, fn",
    [
        ("ch08.frechet_distance", _fid_sqrtm),
        ("ch08.inception_score", _is_plain),
        ("ch08.kid", _kid_plain),
    ],
)
def test_correct_answers_in_float32_pass(eid, fn):
    # Issue 11: a correct answer computed in single precision was rejected (and
    # "diagnosed" with a mistake that coincides with the reference on that case).
    assert run(eid, fn), run(eid, fn).line
    res = run(eid, _f32(fn))
    assert res, res.line
