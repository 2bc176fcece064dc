"""Chapter 8 exercises: the Fréchet Inception Distance, the Inception Score, KID.

The learner's functions take and return NumPy values (float64 arrays in, Python
floats out), like the metrics in :mod:`gancourse.metrics`. The reference answers
here are deliberately short, independent re-implementations of the formulas (the
checker never compares the library with itself). Each check runs the learner's
function on controlled inputs, compares with the reference and, on a mismatch,
tries a list of known mistakes so the message names the actual bug.
``EXERCISES`` at the bottom registers them under their ids.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from gancourse.homework._checker import (
    Case,
    Exercise,
    Failure,
    Mistake,
    call_learner,
    diagnose_value,
)
from gancourse.homework.predictions import Prediction

__all__ = ["EXERCISES", "PREDICTIONS", "frechet_distance", "inception_score", "kid"]

# The tasks do not ask for float64, so an answer computed in float32 must pass:
# float32 sqrtm on a singular 8-d covariance is off by ~2e-4 relative, float32
# sums of kernel values by ~1e-6, and a float32 FID of identical inputs is ~3e-6,
# not 0 (hence the absolute 1e-4). float64 answers agree to ~1e-8. Every known
# mistake differs from the reference by far more than this on the cases where
# it is diagnosed (_diagnose skips a mistake on a case where it coincides).
_RTOL, _ATOL = 1e-3, 1e-4


# ---------------------------------------------------------------------------
# Helpers shared by the three checks (NumPy in, numbers out)
# ---------------------------------------------------------------------------
def _call(fn: Callable[..., Any], case: Case, complex_hint: str = "") -> Any:
    """Call ``fn(*case.args)`` on copies; exceptions and in-place edits -> Failure."""
    args = tuple(np.array(a, copy=True) if _is_array(a) else a for a in case.args)
    try:
        with np.errstate(all="ignore"):
            out = call_learner(fn, *args)
    except Failure as exc:
        hint = case.hint or exc.hint
        if complex_hint and "complex" in exc.message:
            hint = complex_hint
        raise Failure(f"on {case.name}, {exc.message}", hint) from None
    for a, original in zip(args, case.args):
        if _is_array(a) and not np.array_equal(a, original):
            raise Failure(
                "your function modified its inputs in place",
                "compute new arrays (x = x - m) instead of editing the inputs "
                "(x -= m, np.fill_diagonal on an input, ...).",
            )
    return out


def _is_array(a: Any) -> bool:
    return isinstance(a, np.ndarray)


def _number(out: Any, what: str, complex_hint: str = "") -> float:
    """``out`` must be one real number (float, NumPy scalar, 0-d array or tensor)."""
    if out is None:
        raise Failure(
            f"{what} is None, expected a float", "did you forget the `return`?"
        )
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    try:
        arr = np.asarray(out)
    except Exception:
        arr = np.asarray(None)
    if np.iscomplexobj(arr):
        raise Failure(
            f"{what} is a complex number ({complex(arr.reshape(-1)[0]):.4g})",
            complex_hint or "the answer is real: return the real part.",
        )
    if arr.dtype.kind not in "fiu":
        raise Failure(f"{what} is a {type(out).__name__}, expected a float")
    if arr.ndim != 0:
        raise Failure(
            f"{what} is an array of shape {arr.shape}, expected a single number",
            "reduce to one number and return float(...).",
        )
    return float(arr)


def _close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=_RTOL, abs_tol=_ATOL)


def _same(got: Any, want: Any) -> bool:
    """``got`` matches a mistake's output; ``None`` in ``want`` matches anything."""
    if isinstance(want, tuple):
        return len(got) == len(want) and all(
            w is None or _same(g, w) for g, w in zip(got, want)
        )
    want = float(want)
    return math.isfinite(want) and math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-7)


def _diagnose(
    got: Any, args: Sequence[Any], mistakes: Sequence[Mistake], want: Any
) -> None:
    """Raise the first known mistake whose output on ``args`` equals ``got``.

    A mistake whose output on these ``args`` coincides with the reference ``want``
    is skipped: on this case it is not a mistake, so it must not be named (a
    float32 answer, off by rounding, would otherwise be "diagnosed" with it). Only
    finite outputs are compared: a NaN can come from many bugs, so it gets its own
    message rather than a guess.
    """
    wants = want if isinstance(want, tuple) else (want,)

    def differs(mistake: Mistake) -> bool:
        try:
            out = mistake.fn(*args)
        except Exception:
            return True
        outs = out if isinstance(out, tuple) else (out,)
        return len(outs) != len(wants) or not all(
            o is None or _same(float(w), o) for o, w in zip(outs, wants)
        )

    with np.errstate(all="ignore"):
        mistake = diagnose_value(got, args, [m for m in mistakes if differs(m)], _same)
    if mistake is not None:
        raise Failure(mistake.message, mistake.hint)


def _fmt(v: float) -> str:
    if math.isfinite(v) and (v == 0 or 1e-3 <= abs(v) < 1e5):
        return f"{v:.4f}"
    return f"{v:.4g}"


def _expect_finite(got: float, what: str, hint: str) -> None:
    if not math.isfinite(got):
        raise Failure(f"{what} is {got}", hint)


# ---------------------------------------------------------------------------
# ch08.frechet_distance
# ---------------------------------------------------------------------------
def frechet_distance(
    mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray
) -> float:
    """FID between two Gaussians (Heusel et al. 2017, eq. 6).

    ``||mu1 - mu2||² + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})``.

    Args:
        mu1, mu2: means, shape ``(D,)``, float64.
        sigma1, sigma2: covariances, shape ``(D, D)``, symmetric positive
            semi-definite (singular when there are fewer samples than dimensions).

    Returns:
        The squared Fréchet distance, a float ``>= 0`` (0 for identical inputs).
    """
    # Tr (s1 s2)^{1/2} = Tr (s1^{1/2} s2 s1^{1/2})^{1/2}: the matrix in brackets is
    # symmetric PSD, so the trace of its root is the sum of the roots of its
    # eigenvalues. Clipping at 0 drops the round-off of singular covariances.
    w, v = np.linalg.eigh(sigma1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eig = np.linalg.eigvalsh(root1 @ sigma2 @ root1)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def _psd_root(s: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _sqrtm_product(s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
    """The matrix (s1 s2)^{1/2} itself (for mistakes that use more than its trace)."""
    w, v = np.linalg.eig(s1 @ s2)
    return (v * np.sqrt(np.clip(w.real, 0, None))) @ np.linalg.inv(v)


def _tr_root(s1: np.ndarray, s2: np.ndarray) -> float:
    r1 = _psd_root(s1)
    return float(np.sqrt(np.clip(np.linalg.eigvalsh(r1 @ s2 @ r1), 0, None)).sum())


def _fid_parts(m1, s1, m2, s2) -> tuple[float, float]:
    """(squared mean distance, Tr(s1 + s2)), the two terms every variant shares."""
    d = m1 - m2
    return float(d @ d), float(np.trace(s1) + np.trace(s2))


_SQRTM_HINT = (
    "(σ1σ2)^{1/2} is the matrix S with S @ S = σ1 @ σ2: "
    "scipy.linalg.sqrtm(sigma1 @ sigma2).real, or the eigenvalue route."
)
_COMPLEX_HINT = (
    "scipy.linalg.sqrtm returns a complex matrix when round-off gives tiny "
    "imaginary parts; the exact root is real, so take its .real."
)
_FID_HINT = (
    "FID = ||μ1 - μ2||² + Tr(σ1 + σ2 - 2 (σ1σ2)^{1/2}) (Heusel et al. 2017, eq. 6)."
)

_FID_MISTAKES = (
    Mistake(
        lambda m1, s1, m2, s2: (
            _fid_parts(m1, s1, m2, s2)[0] + np.trace(s1 + s2 - 2 * s1 @ s2)
        ),
        "the trace term has no square root: you used Tr(σ1 + σ2 - 2 σ1σ2)",
        "the cross term is 2 Tr((σ1σ2)^{1/2}), the trace of a matrix square root: "
        + _SQRTM_HINT,
    ),
    Mistake(
        lambda m1, s1, m2, s2: (
            np.linalg.norm(m1 - m2)
            + _fid_parts(m1, s1, m2, s2)[1]
            - 2 * _tr_root(s1, s2)
        ),
        "the mean term is the distance ||μ1 - μ2||, not its square",
        "use the squared distance: diff @ diff or np.sum((mu1 - mu2) ** 2).",
    ),
    Mistake(
        lambda m1, s1, m2, s2: (
            _fid_parts(m1, s1, m2, s2)[0] + np.trace(s1 + s2 - 2 * np.sqrt(s1 @ s2))
        ),
        "np.sqrt(sigma1 @ sigma2) takes the square root of each entry, not the "
        "matrix square root",
        _SQRTM_HINT,
    ),
    Mistake(
        lambda m1, s1, m2, s2: (
            _fid_parts(m1, s1, m2, s2)[0]
            + np.trace(s1 + s2 - 2 * np.sqrt(s1) @ np.sqrt(s2))
        ),
        "np.sqrt(sigma) takes the square root of each entry, not the matrix "
        "square root",
        _SQRTM_HINT,
    ),
    Mistake(
        lambda m1, s1, m2, s2: sum(_fid_parts(m1, s1, m2, s2)) - _tr_root(s1, s2),
        "the cross term misses its factor 2: Tr(σ1 + σ2 - (σ1σ2)^{1/2})",
        "it is -2 Tr((σ1σ2)^{1/2}); with identical inputs FID must then be 0.",
    ),
    Mistake(
        lambda m1, s1, m2, s2: math.sqrt(frechet_distance(m1, s1, m2, s2)),
        "this is the square root of the FID (the Fréchet distance d, not d²)",
        "FID is the *squared* Fréchet distance (Heusel et al. 2017, eq. 6): no "
        "final square root.",
    ),
    Mistake(
        lambda m1, s1, m2, s2: (
            sum(_fid_parts(m1, s1, m2, s2))
            - 2 * np.trace(_psd_root(s1) @ _psd_root(s2))
        ),
        "this uses σ1^{1/2} σ2^{1/2} in place of (σ1σ2)^{1/2}",
        "the two agree only when σ1 and σ2 commute: take the square root of the "
        "product, scipy.linalg.sqrtm(sigma1 @ sigma2).real.",
    ),
    Mistake(
        lambda m1, s1, m2, s2: sum(_fid_parts(m1, s1, m2, s2)) + 2 * _tr_root(s1, s2),
        "the cross term has the wrong sign: + 2 Tr((σ1σ2)^{1/2})",
        "it is subtracted: Tr(σ1 + σ2 - 2 (σ1σ2)^{1/2}).",
    ),
    Mistake(
        lambda m1, s1, m2, s2: _fid_parts(m1, s1, m2, s2)[1] - 2 * _tr_root(s1, s2),
        "the mean term ||μ1 - μ2||² is missing",
        "add the squared distance between the means: diff @ diff.",
    ),
    Mistake(
        lambda m1, s1, m2, s2: _fid_parts(m1, s1, m2, s2)[0],
        "the covariance term Tr(σ1 + σ2 - 2 (σ1σ2)^{1/2}) is missing",
        _FID_HINT,
    ),
    Mistake(
        lambda m1, s1, m2, s2: (
            _fid_parts(m1, s1, m2, s2)[0]
            + np.sum(s1 + s2 - 2 * _sqrtm_product(s1, s2)).real
        ),
        "this sums all entries of σ1 + σ2 - 2 (σ1σ2)^{1/2} instead of taking its trace",
        "use np.trace (the sum of the diagonal).",
    ),
)


def _gaussian(rng: np.random.Generator, n: int, d: int, shift: float):
    mix = rng.normal(size=(d, d)) / math.sqrt(d)
    x = rng.normal(size=(n, d)) @ mix + shift * rng.normal(size=d)
    return x.mean(axis=0), np.cov(x, rowvar=False)


def _fid_cases() -> list[Case]:
    rng = np.random.default_rng(8)

    def positive(d: int) -> np.ndarray:
        b = rng.uniform(0.1, 1.0, size=(d, d + 2))
        return b @ b.T / (d + 2) + 0.1 * np.eye(d)

    m1, s1 = _gaussian(rng, 50, 8, 0.0)
    m2, s2 = _gaussian(rng, 50, 8, 1.0)
    # rank 4 in 8 dimensions; on this draw scipy.linalg.sqrtm(s1 @ s3) comes out
    # complex with ~1e-8 imaginary parts, as it does for most singular products
    m3, s3 = _gaussian(np.random.default_rng(0), 5, 8, 1.0)
    mu = rng.normal(size=6)
    sigma = positive(6)
    return [
        Case(
            "4-D Gaussians with positive covariances",
            (rng.normal(size=4), positive(4), rng.normal(size=4), positive(4)),
        ),
        Case("8-D Gaussians estimated from 50 samples each", (m1, s1, m2, s2)),
        Case(
            "a singular covariance (5 samples in 8 dimensions)",
            (m1, s1, m3, s3),
            hint="σ2 is singular: round-off makes its zero eigenvalues slightly "
            "negative; clip them at 0 before a square root, or take sqrtm(...).real.",
        ),
        Case(
            "identical inputs (the FID must be 0)",
            (mu, sigma, mu.copy(), sigma.copy()),
            hint="with μ1 = μ2 and σ1 = σ2: ||0||² + Tr(2σ - 2 (σσ)^{1/2}) = 0.",
        ),
        Case(
            "1-D Gaussians, mu of shape (1,) and sigma of shape (1, 1)",
            (np.array([0.0]), np.array([[4.0]]), np.array([3.0]), np.array([[1.0]])),
            hint="in 1-D FID = (μ1 - μ2)² + (σ1 - σ2)² = 9 + 1 here; do not assume "
            "D > 1.",
        ),
    ]


def check_frechet_distance(fn: Callable[..., Any]) -> None:
    """``fn(mu1, sigma1, mu2, sigma2)`` must equal :func:`frechet_distance`."""
    for case in _fid_cases():
        out = _call(fn, case, _COMPLEX_HINT)
        what = f"on {case.name}, the FID"
        got = _number(out, what, _COMPLEX_HINT)
        want = frechet_distance(*case.args)
        _expect_finite(
            got,
            what,
            case.hint or "np.sqrt of a negative number gives NaN: " + _SQRTM_HINT,
        )
        if not _close(got, want):
            _diagnose(got, case.args, _FID_MISTAKES, want)
            raise Failure(
                f"{what} is wrong (got {_fmt(got)}, expected {_fmt(want)})",
                case.hint or _FID_HINT,
            )


# ---------------------------------------------------------------------------
# ch08.inception_score
# ---------------------------------------------------------------------------
def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016): ``exp(E_x KL(p(y|x) || p(y)))``.

    Args:
        probs: ``(N, K)`` class probabilities ``p(y|x)``, rows summing to 1
            (entries may be exactly 0).
        splits: number of splits; split ``i`` is rows
            ``[i * N // splits, (i + 1) * N // splits)``, in the given order.

    Returns:
        ``(mean, std)`` of the per-split scores, ``std`` the population standard
        deviation (``np.std``). Between 1 and K.
    """
    n = probs.shape[0]
    scores = []
    for i in range(splits):
        part = probs[i * n // splits : (i + 1) * n // splits]
        p_y = part.mean(axis=0)  # the marginal p(y) of this split
        kl = 0.0
        for row in part:
            for p, q in zip(row, p_y):
                if p > 0:  # 0 log 0 = 0
                    kl += p * math.log(p / q)
        scores.append(math.exp(kl / len(part)))
    return float(np.mean(scores)), float(np.std(scores))


def _is_variant(
    probs: np.ndarray,
    splits: int = 10,
    *,
    reverse: bool = False,
    whole_marginal: bool = False,
    bounds: str = "floor",
    log: Callable[[np.ndarray], np.ndarray] = np.log,
    score: str = "exp-mean",
    ddof: int = 0,
) -> tuple[float | None, float | None]:
    """The Inception Score with one mistake switched on (for the diagnosis)."""
    n = probs.shape[0]
    if bounds == "floor":
        parts = [probs[i * n // splits : (i + 1) * n // splits] for i in range(splits)]
    elif bounds == "drop":  # chunks of N // splits rows, the remainder dropped
        size = n // splits
        parts = [probs[i * size : (i + 1) * size] for i in range(splits)]
    elif bounds == "array_split":
        parts = np.array_split(probs, splits)
    else:  # "none": one split
        parts = [probs]
    kls = []
    for part in parts:
        p_y = probs.mean(axis=0) if whole_marginal else part.mean(axis=0)
        p_y = np.broadcast_to(p_y, part.shape)
        a, b = (p_y, part) if reverse else (part, p_y)
        with np.errstate(all="ignore"):
            terms = np.where(a > 0, a * (log(a) - log(b)), 0.0)
        kls.append(terms.sum(axis=1))
    per_split = np.array([k.mean() for k in kls])
    scores = np.exp(per_split)
    if score == "exp-after-splits":  # the std is anyone's guess: not compared
        return float(np.exp(per_split.mean())), None
    if score == "std-of-log":
        return float(scores.mean()), float(np.std(per_split))
    if score == "swapped":
        return float(np.std(scores)), float(scores.mean())
    if score == "log":  # no exp
        scores = per_split
    elif score == "mean-exp":  # exp of each sample's KL, then the mean
        scores = np.array([np.exp(k).mean() for k in kls])
    return float(scores.mean()), float(np.std(scores, ddof=ddof))


_IS_MISTAKES = (
    Mistake(
        lambda p, s=10: _is_variant(p, s, reverse=True),
        "the KL divergence is reversed: this is KL(p(y) || p(y|x))",
        "IS uses KL(p(y|x) || p(y)) = Σ_y p(y|x) log(p(y|x) / p(y)): the conditional "
        "comes first and weights the sum.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, score="exp-after-splits"),
        "this takes the exp after averaging the KL over the splits",
        "each split has its own score exp(mean KL); report the mean and std of "
        "those scores, not exp of a mean over splits.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, score="mean-exp"),
        "this averages exp(KL) over the samples instead of taking exp of the mean KL",
        "per split, score = exp(mean over x of KL(p(y|x) || p(y))): the exp goes "
        "outside the mean.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, whole_marginal=True),
        "p(y) is the mean over all N rows, not over the rows of each split",
        "in each split, p(y) is the mean of that split's rows: part.mean(axis=0).",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, score="log"),
        "the exp is missing: this is the mean KL, the log of the score",
        "score of a split = exp(mean over x of KL(p(y|x) || p(y))).",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, bounds="none"),
        "this ignores `splits` and scores all N rows at once",
        "cut the rows into `splits` consecutive parts, score each part, then "
        "return the mean and std of the scores.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, bounds="drop"),
        "the splits drop the last N % splits rows (parts of N // splits rows)",
        "split i is rows [i * N // splits, (i + 1) * N // splits), which covers "
        "all N rows.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, bounds="array_split"),
        "the split boundaries differ: np.array_split puts the extra rows first",
        "split i is rows [i * N // splits, (i + 1) * N // splits), as in "
        "Salimans et al.'s code.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, log=np.log2),
        "this uses log base 2; the score uses the natural log",
        "use np.log with np.exp (they are inverses).",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, ddof=1),
        "the std uses ddof=1 (the sample std)",
        "the convention is the population std of the per-split scores, "
        "np.std(scores) (ddof=0), as in Salimans et al.'s code.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, score="std-of-log"),
        "the std is taken over the per-split mean KL, not over the scores",
        "the std is over the per-split scores exp(mean KL), like the mean.",
    ),
    Mistake(
        lambda p, s=10: _is_variant(p, s, score="swapped"),
        "mean and std are swapped",
        "return (mean, std), in that order.",
    ),
)


def _dirichlet(rng: np.random.Generator, n: int, k: int, alpha: float) -> np.ndarray:
    return rng.dirichlet(np.full(k, alpha), size=n)


def _is_cases() -> list[Case]:
    rng = np.random.default_rng(80)
    sparse = _dirichlet(rng, 30, 6, 0.5)
    sparse[sparse < 0.15] = 0.0  # exact zeros, as a confident classifier gives
    sparse[:, 5] = 0.0  # class 5 is never predicted: p(y=5) = 0 too
    sparse[::4] = np.eye(6)[rng.integers(0, 5, size=8)]  # one-hot rows
    sparse /= sparse.sum(axis=1, keepdims=True)
    return [
        Case("40 rows of 5 classes, 4 splits", (_dirichlet(rng, 40, 5, 0.7), 4)),
        Case(
            "N = 23 rows and 5 splits (N not divisible by splits)",
            (_dirichlet(rng, 23, 4, 0.7), 5),
            hint="split i is rows [i * N // splits, (i + 1) * N // splits).",
        ),
        Case(
            "probabilities with exact zeros, 3 splits",
            (sparse, 3),
            hint="0 log 0 counts as 0: use scipy.special.rel_entr, "
            "np.where(p > 0, ...), or a tiny eps inside the log.",
        ),
        Case(
            "60 rows called as inception_score(probs) (default splits=10)",
            (_dirichlet(rng, 60, 8, 0.4),),
            hint="give splits a default value: def inception_score(probs, splits=10).",
        ),
        Case("one split", (_dirichlet(rng, 12, 3, 1.0), 1)),
    ]


def _pair(out: Any, what: str) -> tuple[float, float]:
    """``out`` must be ``(mean, std)``: two real numbers."""
    if out is None:
        raise Failure(
            f"{what} is None, expected (mean, std)", "did you forget the `return`?"
        )
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    if np.ndim(out) == 0 and isinstance(out, (int, float, np.number, np.ndarray)):
        raise Failure(
            f"{what} is one number, expected a pair (mean, std)",
            "return both: mean and std of the per-split scores, "
            "`return float(np.mean(scores)), float(np.std(scores))`.",
        )
    try:
        items = list(out)
    except TypeError:
        raise Failure(
            f"{what} is a {type(out).__name__}, expected a pair (mean, std)"
        ) from None
    if len(items) != 2:
        raise Failure(
            f"{what} has {len(items)} values, expected 2 (mean, std)",
            "return the mean and std over splits, not the per-split scores.",
        )
    return _number(items[0], f"{what}'s mean"), _number(items[1], f"{what}'s std")


_IS_HINT = (
    "per split: p(y) = mean of the split's rows, score = exp(mean over rows of "
    "Σ_y p(y|x) log(p(y|x) / p(y))); return np.mean and np.std of the scores."
)


def check_inception_score(fn: Callable[..., Any]) -> None:
    """``fn(probs, splits)`` must equal :func:`inception_score`."""
    for case in _is_cases():
        out = _call(fn, case)
        what = f"on {case.name}, the result"
        got = _pair(out, what)
        want = inception_score(*case.args)
        for g, name in zip(got, ("mean", "std")):
            _expect_finite(
                g,
                f"on {case.name}, the {name}",
                case.hint or "look for log(0) or a division by zero.",
            )
        if not (_close(got[0], want[0]) and _close(got[1], want[1])):
            _diagnose(got, case.args, _IS_MISTAKES, want)
            name = "mean" if not _close(got[0], want[0]) else "std"
            i = 0 if name == "mean" else 1
            raise Failure(
                f"on {case.name}, the {name} is wrong (got {_fmt(got[i])}, expected "
                f"{_fmt(want[i])})",
                case.hint or _IS_HINT,
            )


# ---------------------------------------------------------------------------
# ch08.kid
# ---------------------------------------------------------------------------
def kid(feats_real: np.ndarray, feats_fake: np.ndarray) -> float:
    """Unbiased squared MMD with KID's cubic kernel (Bińkowski et al. 2018).

    ``k(x, y) = (x·y / d + 1)³``; with ``m`` real and ``n`` fake samples
    (Gretton et al. 2012, eq. 3)::

        MMD² = Σ_{i≠j} k(x_i, x_j) / (m (m-1)) + Σ_{i≠j} k(y_i, y_j) / (n (n-1))
               - 2 Σ_{i,j} k(x_i, y_j) / (m n)

    Args:
        feats_real: ``(m, d)`` features of real images, float64.
        feats_fake: ``(n, d)`` features of generated images.

    Returns:
        The estimate over all samples (one block), a float; it can be slightly
        negative when the two sets come from the same distribution.
    """
    X, Y = feats_real, feats_fake
    m, n, d = len(X), len(Y), X.shape[1]

    def k(a: np.ndarray, b: np.ndarray) -> float:
        return (a @ b / d + 1.0) ** 3

    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j)
    xy = sum(k(X[i], Y[j]) for i in range(m) for j in range(n))
    return float(xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n))


def _mmd_variant(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    degree: int = 3,
    scale: bool = True,
    diag: str = "unbiased",
    cross: float = -2.0,
    same_size: bool = False,
) -> float:
    """The unbiased MMD² with one mistake switched on (for the diagnosis)."""
    m, n, d = len(X), len(Y), X.shape[1]

    def gram(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return (a @ b.T / (d if scale else 1.0) + 1.0) ** degree

    kxx, kyy, kxy = gram(X, X), gram(Y, Y), gram(X, Y)
    off_x, off_y = kxx.sum() - np.trace(kxx), kyy.sum() - np.trace(kyy)
    if diag == "biased":
        within = kxx.sum() / m**2 + kyy.sum() / n**2
    elif diag == "zeroed-over-m2":
        within = off_x / m**2 + off_y / n**2
    elif same_size:  # n taken to be m, as in code written for equal sizes
        within = (off_x + off_y) / (m * (m - 1))
        return float(within + cross * kxy.sum() / (m * m))
    else:
        within = off_x / (m * (m - 1)) + off_y / (n * (n - 1))
    return float(within + cross * kxy.mean())


_KID_MISTAKES = (
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, diag="biased"),
        "this is the biased MMD²: the diagonal terms k(x_i, x_i) are included "
        "(means over m²)",
        "the unbiased estimate leaves out i = j: Σ_{i≠j} k(x_i, x_j) / (m (m - 1)), "
        "and the same for the fake features.",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, diag="zeroed-over-m2"),
        "the diagonals are left out but the sums are still divided by m² and n²",
        "there are m (m - 1) pairs with i ≠ j: divide by m (m - 1) and n (n - 1).",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, degree=2),
        "the kernel has degree 2; KID's kernel is cubic, (x·y / d + 1)³",
        "raise to the power 3.",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, degree=1),
        "the kernel is linear; KID's kernel is cubic, (x·y / d + 1)³",
        "raise x·y / d + 1 to the power 3.",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, scale=False),
        "the kernel misses the 1/d scaling: this is (x·y + 1)³",
        "divide the dot product by the feature dimension d = feats.shape[1].",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, cross=2.0),
        "the cross term has the wrong sign",
        "MMD² = mean k(x, x') + mean k(y, y') - 2 mean k(x, y).",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, cross=-1.0),
        "the cross term misses its factor 2",
        "MMD² = mean k(x, x') + mean k(y, y') - 2 mean k(x, y).",
    ),
    Mistake(
        lambda X, Y: _mmd_variant(X, Y, same_size=True),
        "this assumes as many fake as real samples (m = n)",
        "divide by m (m - 1) for the real term, n (n - 1) for the fake term and "
        "m n for the cross term.",
    ),
    Mistake(
        lambda X, Y: math.sqrt(_mmd_variant(X, Y)),
        "this is the MMD, the square root; KID is the squared MMD",
        "return MMD² itself, no square root.",
    ),
    Mistake(
        lambda X, Y: max(_mmd_variant(X, Y), 0.0),
        "the estimate is clipped at 0, but the unbiased MMD² can be negative",
        "return it as is: slightly below 0 means the two sets are as close as two "
        "samples of one distribution.",
    ),
    Mistake(
        lambda X, Y: abs(_mmd_variant(X, Y)),
        "the estimate is made positive (abs), but the unbiased MMD² can be negative",
        "return it as is: slightly below 0 means the two sets are as close as two "
        "samples of one distribution.",
    ),
)


def _kid_cases() -> list[Case]:
    rng = np.random.default_rng(88)
    same = rng.normal(size=(30, 6))
    return [
        Case(
            "20 real and 20 fake samples in d = 8",
            (rng.normal(size=(20, 8)), 1.2 * rng.normal(size=(20, 8)) + 0.3),
        ),
        Case(
            "30 real and 17 fake samples (m ≠ n) in d = 5",
            (rng.normal(size=(30, 5)), rng.normal(size=(17, 5)) - 0.4),
            hint="use m (m - 1), n (n - 1) and m n for the three terms.",
        ),
        Case(
            "25 + 25 non-negative features in d = 64, like Inception's",
            (rng.gamma(0.5, 0.6, size=(25, 64)), rng.gamma(0.5, 0.9, size=(25, 64))),
        ),
        Case(
            "two samples of one distribution (the estimate is negative here)",
            (same[:15], same[15:]),
            hint="the unbiased MMD² can be slightly negative; return it as is.",
        ),
    ]


_KID_HINT = (
    "KID = Σ_{i≠j} k(x_i, x_j) / (m (m-1)) + Σ_{i≠j} k(y_i, y_j) / (n (n-1)) "
    "- 2 Σ k(x_i, y_j) / (m n), with k(x, y) = (x·y / d + 1)³."
)


def check_kid(fn: Callable[..., Any]) -> None:
    """``fn(feats_real, feats_fake)`` must equal :func:`kid`."""
    for case in _kid_cases():
        out = _call(fn, case)
        what = f"on {case.name}, the KID"
        got = _number(out, what)
        want = kid(*case.args)
        _expect_finite(got, what, case.hint or "look for a division by zero or a sqrt.")
        if not _close(got, want):
            _diagnose(got, case.args, _KID_MISTAKES, want)
            raise Failure(
                f"{what} is wrong (got {_fmt(got)}, expected {_fmt(want)})",
                case.hint or _KID_HINT,
            )


# ---------------------------------------------------------------------------
EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch08.frechet_distance",
            signature="frechet_distance(mu1, sigma1, mu2, sigma2) -> float",
            reference=frechet_distance,
            check_fn=check_frechet_distance,
        ),
        Exercise(
            id="ch08.inception_score",
            signature="inception_score(probs, splits=10) -> (mean, std)",
            reference=inception_score,
            check_fn=check_inception_score,
        ),
        Exercise(
            id="ch08.kid",
            signature="kid(feats_real, feats_fake) -> float",
            reference=kid,
            check_fn=check_kid,
        ),
    )
}


# Predict-then-run questions (see gancourse.homework.predictions): the run after
# the question answers it, so no choice is marked as right here.
PREDICTIONS = {
    p.id: p
    for p in (
        Prediction(
            id="ch08.collapsed_inception_score",
            question="A 'generator' that repeats, for each digit, the one test image "
            "the judge finds most typical (ten images in all): how does its "
            "Inception Score compare with that of the real test images?",
            choices={
                "a": "much lower",
                "b": "about the same",
                "c": "about 1, the score of a useless generator",
            },
        ),
    )
}
