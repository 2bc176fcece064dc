"""Chapter 2 exercises: the WGAN critic loss, WGAN-GP's gradient penalty, weight
clipping, the exact Wasserstein-1 distance between 1-D samples, and one WGAN-GP
training step assembled from networks and optimisers.

Each exercise is a reference answer (from the package) plus a check function that
raises :class:`~gancourse.homework._checker.Failure` at the first problem.
``EXERCISES`` at the bottom registers them under their ids.

The gradient penalty draws its own random interpolation coefficients, so its
check cannot compare two random numbers. Instead the critic it hands to the
learner's function records what it is called on: from those inputs the check
reads off the coefficients the learner drew (and rejects a coefficient per
pixel, points off the segments, the real or fake points alone), then compares
with the reference computed at exactly those coefficients, value and gradient
with respect to the critic's parameters.

The training step gets its interpolation coefficients ``eps`` as an input, so
its check is deterministic: :class:`~gancourse.homework._steps.StepCheck` runs it
on tiny seeded networks with SGD and junk in every ``.grad``, compares the
parameters after the step with the reference's, and replays known wrong steps
(no ``create_graph``, a wrong λ, sign flips, ...) to name the mistake.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gancourse import losses
from gancourse.gans.wgan import clip_weights_
from gancourse.homework._checker import (
    Case,
    Exercise,
    Failure,
    Mistake,
    call_learner,
    check_scalar_loss,
    diagnose,
    diagnose_value,
    expect_close,
    expect_dtype,
    expect_finite,
    expect_shape,
    expect_tensor,
    leaf,
)
from gancourse.homework._steps import STEP_ERRORS, StepCheck, init_networks
from gancourse.homework.predictions import Prediction
from gancourse.metrics.distances import linear_critic_bound, wasserstein_1d

__all__ = ["EXERCISES", "PREDICTIONS", "RETIRED", "gradient_penalty", "train_step"]


def _call(
    fn: Callable[..., Any],
    args: Sequence[Any],
    name: str,
    case_hint: str = "",
    fragments: Sequence[tuple[str, str]] = (),
    what: str = "your function",
) -> Any:
    """``fn(*args)``; a learner exception becomes ``"on <name>, ..."`` with the
    most specific hint: a known error fragment, then the case's hint."""
    try:
        return call_learner(fn, *args, what=what)
    except _CriticInputError as exc:
        raise Failure(f"on {name}, {exc.message}", exc.hint) from None
    except Failure as exc:
        hint = next((h for frag, h in fragments if frag in exc.message), "")
        raise Failure(
            f"on {name}, {exc.message}", hint or case_hint or exc.hint
        ) from None


# ---------------------------------------------------------------------------
# ch02.critic_loss
# ---------------------------------------------------------------------------
def _flat(x: Tensor) -> Tensor:
    return x.reshape(-1)


def _score_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(20)

    def randn(*shape: int) -> Tensor:
        # every case mixes negative and positive scores: a critic's scores are
        # real numbers, and a log left in the formula shows up as NaN
        return 2.0 * torch.randn(*shape, generator=gen)

    return [
        Case("scores of shape (N,)", (randn(8) + 1.0, randn(8) - 1.0)),
        Case(
            "scores of shape (N, 1)",
            (randn(6, 1), randn(6, 1)),
            hint="a critic often returns (N, 1): .mean() with no dim argument "
            "averages over all elements.",
        ),
        Case(
            "real and fake batches of different sizes (7 and 3)",
            (randn(7), randn(3)),
            hint="the real and the fake batch may differ in size: average each "
            "term separately, then subtract, scores_fake.mean() - "
            "scores_real.mean().",
        ),
    ]


_NO_LOG = (
    "a critic's scores are real numbers, not probabilities: WGAN removes both the "
    "sigmoid and the log, d_loss = scores_fake.mean() - scores_real.mean()."
)

_CRITIC_MISTAKES = (
    Mistake(
        lambda r, f: _flat(r).mean() - _flat(f).mean(),
        "the sign is flipped: this is E[D(x_real)] - E[D(x_fake)], the estimate "
        "of W that the critic maximises",
        "the loss to minimise is its negative, scores_fake.mean() - "
        "scores_real.mean().",
    ),
    Mistake(
        losses.d_minimax,
        "this is the vanilla GAN's BCE loss (a sigmoid and a log are left in)",
        _NO_LOG,
    ),
    Mistake(
        lambda r, f: torch.sigmoid(_flat(f)).mean() - torch.sigmoid(_flat(r)).mean(),
        "a sigmoid is left in: the critic's scores are squashed into (0, 1)",
        _NO_LOG,
    ),
    Mistake(
        lambda r, f: F.logsigmoid(_flat(f)).mean() - F.logsigmoid(_flat(r)).mean(),
        "a log(sigmoid(.)) is left in",
        _NO_LOG,
    ),
    Mistake(
        lambda r, f: _flat(f).sum() - _flat(r).sum(),
        "this is a sum over the batch, not a mean",
        "use .mean() for each term: E[.] is an average, and a sum scales the loss "
        "(and the step size) with the batch size.",
    ),
    Mistake(
        lambda r, f: _flat(f).mean(),
        "only the fake term is there",
        "subtract the real term: scores_fake.mean() - scores_real.mean().",
    ),
    Mistake(
        lambda r, f: -_flat(r).mean(),
        "only the real term is there",
        "add the fake term: scores_fake.mean() - scores_real.mean().",
    ),
    Mistake(
        lambda r, f: -_flat(f).mean(),
        "this is the generator's loss -E[D(G(z))]; the critic's loss has both terms",
        "the critic minimises scores_fake.mean() - scores_real.mean().",
    ),
    Mistake(
        lambda r, f: _flat(r).mean(),
        "only the real term is there, and with the wrong sign",
        "the critic minimises scores_fake.mean() - scores_real.mean().",
    ),
    Mistake(
        lambda r, f: torch.cat([_flat(f), -_flat(r)]).mean(),
        "this averages real and fake terms together over N + M samples",
        "take the mean of each term separately, then subtract.",
    ),
)


def _expect_no_log(fn: Callable[..., Any]) -> None:
    """NaN on scores that include negative values: a log was left in."""
    r, f = _score_cases()[0].args
    try:
        out = call_learner(fn, leaf(r), leaf(f))
    except Failure:
        return  # the full check reports it, naming the case
    if (
        isinstance(out, Tensor)
        and out.is_floating_point()
        and bool(torch.isnan(out.detach()).any())
    ):
        raise Failure(
            "the loss is NaN on scores that include negative values: a log is left "
            "in (removing the sigmoid but keeping the log)",
            "log of a negative score is NaN; " + _NO_LOG,
        )


def check_critic_loss(fn: Callable[..., Any]) -> None:
    """``fn(scores_real, scores_fake)`` must equal :func:`losses.d_wasserstein`."""
    _expect_no_log(fn)
    check_scalar_loss(
        fn,
        losses.d_wasserstein,
        _score_cases(),
        ("scores_real", "scores_fake"),
        _CRITIC_MISTAKES,
        wrong_hint="the critic minimises E[D(x_fake)] - E[D(x_real)] = "
        "scores_fake.mean() - scores_real.mean() (Arjovsky et al. 2017, "
        "Algorithm 1), on the raw scores.",
    )


# ---------------------------------------------------------------------------
# ch02.linear_critic (replaces ch02.critic_loss, which copied the formula above it)
# ---------------------------------------------------------------------------
def _norm(v: Tensor) -> Tensor:
    return torch.linalg.vector_norm(v)


_LINEAR_MISTAKES = (
    Mistake(
        lambda r, f: (r.mean(0) - f.mean(0)).sum(),
        "this is w^T (mu_real - mu_fake) for w = (1, ..., 1): a fixed direction, "
        "and ||w|| = sqrt(D), so the critic is not 1-Lipschitz",
        "choose the best w with ||w||_2 <= 1: by Cauchy-Schwarz it points along "
        "mu_real - mu_fake.",
    ),
    Mistake(
        lambda r, f: (r.mean(0) - f.mean(0)).abs().sum(),
        "this is the L1 norm of the mean difference: it is the answer for "
        "critics with max_k |w_k| <= 1, which can be steeper than 1",
        "the 1-Lipschitz condition in the Euclidean norm is ||w||_2 <= 1; the "
        "best value is the Euclidean norm of mu_real - mu_fake.",
    ),
    Mistake(
        lambda r, f: ((r.mean(0) - f.mean(0)) ** 2).sum(),
        "this is the squared norm of the mean difference",
        "the critic's value w^T (mu_real - mu_fake) is linear in the means; at the "
        "best unit w it is the norm itself, not its square.",
    ),
    Mistake(
        lambda r, f: _norm(r.mean(1) - f.mean(1)),
        "this averages over the features (dim 1), not over the samples",
        "E[f(x)] averages over samples: mean over dim 0 gives one mean vector "
        "(D,) per set.",
    ),
    Mistake(
        lambda r, f: (_norm(r.mean(0)) - _norm(f.mean(0))).abs(),
        "this is the difference of the norms of the means, not the norm of their "
        "difference",
        "the objective is w^T mu_real - w^T mu_fake = w^T (mu_real - mu_fake): "
        "subtract the means first.",
    ),
    Mistake(
        lambda r, f: torch.linalg.vector_norm(r - f, dim=1).mean(),
        "this pairs x_real[i] with x_fake[i] and averages the distances: that is "
        "the cost of one transport plan, an upper bound on W1, not a critic's "
        "value",
        "a critic compares the two sets only through E[f(x_real)] - E[f(x_fake)]; "
        "for a linear f that depends only on the two means.",
    ),
)


def _linear_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(21)

    def randn(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    return [
        Case(
            "(N, D) = (40, 3) and (40, 3), shifted means",
            (
                randn(40, 3) + torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64),
                randn(40, 3),
            ),
        ),
        Case(
            "(N, D) = (30, 5) and (12, 5), different sizes",
            (randn(30, 5) * 2 + 1, randn(12, 5) - 0.5),
            hint="the two sets may differ in size: average each over its own "
            "samples (dim 0).",
        ),
        Case(
            "1-D samples as (N, 1) = (25, 1) and (25, 1)",
            (randn(25, 1) + 3.0, randn(25, 1) * 0.5),
        ),
        Case(
            "float32 samples (64, 2) and (64, 2)",
            ((randn(64, 2) + 1).float(), randn(64, 2).float()),
        ),
    ]


def check_linear_critic(fn: Callable[..., Any]) -> None:
    """``fn(x_real, x_fake)`` must be ``||mean(x_real) - mean(x_fake)||_2``."""
    for case in _linear_cases():
        r, f = case.args
        r_in, f_in = r.clone(), f.clone()
        out = _call(fn, (r_in, f_in), case.name, case.hint)
        if not (torch.equal(r_in, r) and torch.equal(f_in, f)):
            raise Failure(
                "your function modified its inputs in place",
                "compute new tensors (x_real.mean(0) - ...) instead of x_real -= ... .",
            )
        what = f"the bound on {case.name}"
        out = expect_tensor(out)
        expect_shape(out, (), what)
        expect_finite(out, what)
        want = linear_critic_bound(r, f)
        if not torch.allclose(out.to(want.dtype), want, rtol=1e-4, atol=1e-5):
            mistake = diagnose(out.to(want.dtype), (r, f), _LINEAR_MISTAKES)
            if mistake is not None:
                raise Failure(f"on {case.name}, {mistake.message}", mistake.hint)
            expect_close(
                out.to(want.dtype),
                want,
                what,
                "maximise w^T (mu_real - mu_fake) over ||w||_2 <= 1 "
                "(Cauchy-Schwarz): the answer is ||mu_real - mu_fake||_2.",
            )


# ---------------------------------------------------------------------------
# ch02.gradient_penalty
# ---------------------------------------------------------------------------
def gradient_penalty(
    critic: Callable[..., Tensor], x_real: Tensor, x_fake: Tensor
) -> Tensor:
    """WGAN-GP's penalty ``E[(||∇D(x̂)||₂ - 1)²]``, without λ (Gulrajani et al.
    2017, eq. 3), at ``x̂ = eps x_real + (1 - eps) x_fake``, one ``eps ~ U[0, 1]``
    per sample. ``x_real``, ``x_fake``: ``(N, C, H, W)`` images or ``(N, D)``."""
    return losses.gradient_penalty(critic, x_real, x_fake)


class _CriticInputError(Failure):
    """The learner called the critic on something that is not a batch of x̂."""


class _Recorder(nn.Module):
    """Wraps a critic and keeps a copy of every batch the learner feeds it.

    It is an ``nn.Module`` holding the critic as a submodule, so learner code that
    reads ``next(critic.parameters()).device`` works.
    """

    def __init__(self, critic: nn.Module, shape: Sequence[int]) -> None:
        super().__init__()
        self.critic = critic
        self.shape = tuple(shape)
        self.inputs: list[Tensor] = []

    def forward(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            raise _CriticInputError(
                f"the critic was called on a {type(x).__name__}, expected a tensor "
                f"x_hat of shape {self.shape}",
                "call the critic on the batch of interpolates, critic(x_hat).",
            )
        if tuple(x.shape) != self.shape:
            raise _CriticInputError(*_shape_message(tuple(x.shape), self.shape))
        self.inputs.append(x.detach().clone())
        return self.critic(x)


_ANY_DIMS = (
    "shape eps for any input: torch.rand(N, *[1] * (x_real.dim() - 1)) "
    "broadcasts over (C, H, W) images and (D,) vectors alike."
)


def _shape_message(got: tuple[int, ...], want: tuple[int, ...]) -> tuple[str, str]:
    what = f"the critic received a batch of shape {got}, expected {want} like x_real"
    if len(want) == 2 and len(got) == 4 and got[2:] == want:
        return (
            f"{what}: eps of shape (N, 1, 1, 1) only fits 4-D images, on (N, D) "
            "vectors it broadcasts to (N, 1, N, D)",
            _ANY_DIMS,
        )
    if len(got) == len(want) >= 3 and got[1] != want[1]:
        return (
            f"{what}: {got[1]} channels instead of {want[1]}, is the number of "
            "channels hard-coded?",
            "take every size from x_real (x_real.shape, x_real.dim()); " + _ANY_DIMS,
        )
    if got[:1] != want[:1] and len(got) == len(want):
        return (
            f"{what}: {got[0]} samples instead of {want[0]}",
            "interpolate each real sample with the fake one at the same index: one "
            "x_hat per pair, x_hat = eps * x_real + (1 - eps) * x_fake.",
        )
    return (
        what,
        "x_hat = eps * x_real + (1 - eps) * x_fake has x_real's shape when eps has "
        "shape (N, 1, ..., 1); " + _ANY_DIMS,
    )


class _Linear(nn.Module):
    """``D(x) = <w, x> + b``: its gradient is ``w`` at every point, so its penalty
    is ``(||w|| - 1)²`` whatever the interpolation coefficients are."""

    def __init__(self, w: Tensor, flat_scores: bool) -> None:
        super().__init__()
        self.w = nn.Parameter(w)
        self.b = nn.Parameter(torch.tensor(0.3))
        self.flat_scores = flat_scores

    def forward(self, x: Tensor) -> Tensor:
        s = (x * self.w).flatten(1).sum(1) + self.b  # (N, ...) -> (N,)
        return s if self.flat_scores else s[:, None]


class _ConvCritic(nn.Module):
    """Conv -> tanh -> Linear: a gradient norm that changes along each segment."""

    def __init__(self, c: int, h: int, w: int, flat_scores: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, 4, 3, padding=1)
        self.fc = nn.Linear(4 * h * w, 1)
        self.flat_scores = flat_scores

    def forward(self, x: Tensor) -> Tensor:
        s = self.fc(torch.tanh(self.conv(x)).flatten(1))  # (N, C, H, W) -> (N, 1)
        return s[:, 0] if self.flat_scores else s


class _MLPCritic(nn.Module):
    """A toy critic on ``(N, D)`` vectors, like those of the 2-D experiments."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)[:, 0]  # (N, D) -> (N,)


@dataclass(frozen=True)
class _GPCase:
    name: str
    critic: nn.Module
    x_real: Tensor
    x_fake: Tensor
    hint: str = ""  # when the learner's code raises on this case
    value_hint: str = ""  # when the value is wrong for no known reason


def _init(module: nn.Module, gen: torch.Generator, scale: float) -> nn.Module:
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(scale * torch.randn(p.shape, generator=gen))
    return module


def _pair(gen: torch.Generator, *shape: int) -> tuple[Tensor, Tensor]:
    """Real and fake batches that differ by at least 0.5 in every entry, so the
    coefficient of an interpolate can be read off from every entry."""
    x_real = torch.randn(*shape, generator=gen)
    sign = torch.randint(0, 2, shape, generator=gen) * 2.0 - 1.0
    gap = 0.5 + torch.rand(*shape, generator=gen)
    return x_real, x_real + sign * gap


def _gp_cases() -> list[_GPCase]:
    gen = torch.Generator().manual_seed(22)
    w = (
        torch.randn(3, 2, 2, generator=gen)
        * torch.tensor([1.0, 0.3, 0.1])[:, None, None]
    )
    w = 0.6 * w / w.norm()  # ||w|| = 0.6, the channels' norms unequal
    return [
        _GPCase(
            "1-channel images (6, 1, 5, 5) and a convolutional critic",
            _init(_ConvCritic(1, 5, 5, flat_scores=False), gen, 0.25),
            *_pair(gen, 6, 1, 5, 5),
            hint="the images have 1 channel here (like MNIST): take every size from "
            "x_real (x_real.shape[0], x_real.dim()), do not hard-code 3 channels "
            "or an image size.",
        ),
        _GPCase(
            "3-channel images (5, 3, 4, 4) and a critic returning scores of shape (N,)",
            _init(_ConvCritic(3, 4, 4, flat_scores=True), gen, 0.24),
            *_pair(gen, 5, 3, 4, 4),
        ),
        _GPCase(
            "a linear critic D(x) = <w, x> + b with ||w|| = 0.6 on (4, 3, 2, 2) images",
            _Linear(w, flat_scores=False),
            *_pair(gen, 4, 3, 2, 2),
            value_hint="the gradient of <w, x> + b is w everywhere, so the penalty "
            "is (||w|| - 1)² = 0.16 here whatever eps is.",
        ),
        _GPCase(
            "2-D inputs (8, 2) and a toy MLP critic",
            _init(_MLPCritic(2), gen, 0.6),
            *_pair(gen, 8, 2),
            hint="x_real is (N, D) here, not an image: " + _ANY_DIMS,
        ),
    ]


_GP_ERRORS = (
    (
        "does not require grad",
        "x_hat must require grad before the critic sees it: x_hat = (eps * x_real "
        "+ (1 - eps) * x_fake).requires_grad_(True); differentiate w.r.t. x_hat.",
    ),
    (
        "not have been used in the graph",
        "differentiate the scores w.r.t. the very tensor you passed to the critic "
        "(x_hat), not a copy made before or after.",
    ),
    (
        "only for scalar outputs",
        "torch.autograd.grad needs a scalar output or grad_outputs: differentiate "
        "scores.sum(), or pass grad_outputs=torch.ones_like(scores).",
    ),
    (
        "grad_output",
        "build grad_outputs with torch.ones_like(scores): a critic may return (N,) "
        "or (N, 1) scores.",
    ),
)

_SHAPE_WORDS = ("shape", "size", "dimension", "indices", "channels")

_GP_HINT = (
    "GP = mean over samples of (||∇D(x_hat)||₂ - 1)², x_hat = eps * x_real + "
    "(1 - eps) * x_fake with one eps ~ U[0, 1] per sample, the norm over all of a "
    "sample's dimensions (Gulrajani et al. 2017, eq. 3)."
)
_PER_SAMPLE_NORM = (
    "flatten each sample's gradient over all its dimensions first: "
    "grad.reshape(N, -1).norm(2, dim=1), one norm per sample."
)
_ON_SEGMENT = (
    "x_hat = eps * x_real + (1 - eps) * x_fake with eps of shape (N, 1, ..., 1): "
    "one coefficient per sample puts x_hat on the segment between x_real[i] and "
    "x_fake[i] (Gulrajani et al. 2017, Algorithm 1, lines 6-7)."
)


def _norms(g: Tensor) -> Tensor:
    return g.flatten(1).norm(dim=1)  # (N, ...) -> (N,)


def _image_only(fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Any]:
    return lambda g: fn(g) if g.dim() == 4 else None


def _penalty(g: Tensor) -> Tensor:
    return ((_norms(g) - 1) ** 2).mean()


# Each mistake is a function of the per-sample gradients g = ∇D(x_hat), taken at
# the very points the learner's function fed to the critic.
_GP_MISTAKES = (
    Mistake(
        lambda g: (_norms(g) - 1).mean(),
        "the square is missing: this is E[||∇D(x_hat)|| - 1]",
        "square the distance to 1: ((grad_norm - 1) ** 2).mean().",
    ),
    Mistake(
        lambda g: (_norms(g) - 1).abs().mean(),
        "this uses abs, |‖∇D(x_hat)‖ - 1|, instead of the square",
        "the penalty is the square, ((grad_norm - 1) ** 2).mean().",
    ),
    Mistake(
        lambda g: 10 * _penalty(g),
        "this is 10 times the penalty: λ = 10 is already multiplied in",
        "return the penalty without λ; the critic's loss adds gp_lambda * penalty.",
    ),
    Mistake(
        lambda g: ((_norms(g) - 1) ** 2).sum(),
        "this is a sum over the batch, not a mean",
        "use .mean() over the samples: the penalty is an expectation.",
    ),
    Mistake(
        _image_only(lambda g: ((g.flatten(2).norm(dim=2) - 1) ** 2).mean()),
        "the norm is taken per channel (over H and W of each channel), not per sample",
        _PER_SAMPLE_NORM,
    ),
    Mistake(
        _image_only(lambda g: ((g.norm(2, dim=1) - 1) ** 2).mean()),
        "the norm is over dim 1 only (across the channels at each pixel), not over "
        "each whole sample",
        _PER_SAMPLE_NORM,
    ),
    Mistake(
        lambda g: ((_norms(g) ** 2 - 1) ** 2).mean(),
        "this uses the squared norm ||∇D||² in place of the norm ||∇D||",
        "take the square root: grad.reshape(N, -1).norm(2, dim=1), or "
        "(grad ** 2).sum(1).sqrt() on the flattened gradient.",
    ),
    Mistake(
        lambda g: (_norms(g) ** 2).mean(),
        "the target norm 1 is missing: this is E[||∇D(x_hat)||²]",
        "penalise the distance of the norm to 1: ((grad_norm - 1) ** 2).mean().",
    ),
    Mistake(
        lambda g: ((_norms(g) - 1).clamp(min=0) ** 2).mean(),
        "this is the one-sided penalty max(0, ||∇D|| - 1)²",
        "the exercise asks for the paper's two-sided penalty (eq. 3), "
        "(grad_norm - 1) ** 2, which also pushes norms below 1 up.",
    ),
    Mistake(
        lambda g: ((_norms(g) / g.shape[0] - 1) ** 2).mean(),
        "the gradient was taken of scores.mean(), which divides each sample's "
        "gradient by N",
        "differentiate scores.sum() (or pass grad_outputs=torch.ones_like(scores)): "
        "sample i's gradient is then ∂D(x_hat_i)/∂x_hat_i.",
    ),
)

_TOL = 1e-4  # on interpolation coefficients read off in float32


def _coefficients(case: _GPCase, x_hat: Tensor) -> Tensor:
    """The coefficient of each entry of x_hat: x_hat = e x_real + (1 - e) x_fake."""
    return ((x_hat - case.x_fake) / (case.x_real - case.x_fake)).flatten(1)


def _check_interpolates(case: _GPCase, inputs: Sequence[Tensor]) -> Tensor:
    """The learner's critic inputs must be interpolates with one coefficient per
    sample in [0, 1]; returns those ``(N,)`` coefficients (of the first call)."""
    if not inputs:
        raise Failure(
            "your function never called the critic",
            "evaluate scores = critic(x_hat) and differentiate them w.r.t. x_hat.",
        )
    images = case.x_real.dim() == 4
    first = None
    for x_hat in inputs:
        e = _coefficients(case, x_hat)  # (N, entries)
        spread = e.max(dim=1).values - e.min(dim=1).values
        inside = bool(((e > -_TOL) & (e < 1 + _TOL)).all())
        if bool((spread < _TOL).all()) and not inside:
            bad = float(e[(e <= -_TOL) | (e >= 1 + _TOL)][0])
            raise Failure(
                "the interpolation coefficients lie outside [0, 1] (e.g. "
                f"{bad:.3f}), so x_hat is beyond the segment between x_real and "
                "x_fake",
                "draw eps uniformly on [0, 1] with torch.rand, not torch.randn.",
            )
        if not inside:
            raise Failure(
                "the critic's input is not on the segments between x_real[i] and "
                "x_fake[i]",
                _ON_SEGMENT,
            )
        if bool((spread > _TOL).any()):
            per_channel = images and bool(
                (
                    e.view(case.x_real.shape).flatten(2).std(dim=2, unbiased=False)
                    < _TOL
                ).all()
            )
            where = (
                "per channel" if per_channel else "per pixel" if images else "per entry"
            )
            raise Failure(
                f"the interpolation coefficient is drawn {where}, not once per "
                "sample, so x_hat lies off the segment between x_real[i] and "
                "x_fake[i]",
                _ON_SEGMENT,
            )
        coef = e.mean(dim=1)
        if bool(((coef - 1).abs() < _TOL).all()):
            raise Failure(
                "the penalty is taken at the real samples only, not at "
                "interpolates between real and fake",
                _ON_SEGMENT,
            )
        if bool((coef.abs() < _TOL).all()):
            raise Failure(
                "the penalty is taken at the fake samples only, not at "
                "interpolates between real and fake",
                _ON_SEGMENT,
            )
        if coef.numel() > 1 and float(coef.max() - coef.min()) < _TOL:
            raise Failure(
                "all samples share one interpolation coefficient "
                f"({float(coef[0]):.3f}), but each sample needs its own random eps",
                "draw N coefficients, torch.rand(N, *[1] * (x_real.dim() - 1)), "
                "not one for the whole batch.",
            )
        if first is None:
            first = coef
    return first


def _gradients_at(critic: nn.Module, x_hat: Tensor) -> Tensor:
    x = x_hat.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(critic(x).sum(), x)
    return g


def check_gradient_penalty(fn: Callable[..., Any]) -> None:
    """``fn(critic, x_real, x_fake)`` must equal the reference at the learner's own
    interpolation coefficients, with the same gradient for the critic."""
    for case in _gp_cases():
        critic = _Recorder(case.critic, case.x_real.shape)
        x_real, x_fake = case.x_real.clone(), case.x_fake.clone()
        # the case's hint (about channels / dimensions) only for errors of shape
        shape_hints = tuple((w, case.hint) for w in _SHAPE_WORDS if case.hint)
        out = _call(
            fn, (critic, x_real, x_fake), case.name, fragments=_GP_ERRORS + shape_hints
        )
        if not (torch.equal(x_real, case.x_real) and torch.equal(x_fake, case.x_fake)):
            raise Failure(
                "your function modified x_real or x_fake in place",
                "build x_hat as a new tensor, eps * x_real + (1 - eps) * x_fake.",
            )
        what = f"the penalty for {case.name}"
        out = expect_tensor(out)
        expect_shape(out, (), what)
        expect_finite(out, what, "look for a division by a zero norm or a sqrt of 0.")
        expect_dtype(out, case.x_real.dtype, what)
        try:
            coef = _check_interpolates(case, critic.inputs)
        except Failure as exc:
            raise Failure(f"on {case.name}, {exc.message}", exc.hint) from None

        params = dict(case.critic.named_parameters())
        if any(p.grad is not None for p in params.values()):
            raise Failure(
                "your function left gradients in the critic's parameters (.grad): "
                "backward() accumulates ∂D(x_hat)/∂θ into them",
                "use torch.autograd.grad(scores.sum(), x_hat, create_graph=True), "
                "which returns the gradient without touching .grad.",
            )
        want = losses.gradient_penalty(case.critic, case.x_real, case.x_fake, eps=coef)
        if not torch.allclose(out.detach(), want.detach(), rtol=1e-4, atol=1e-6):
            g = _gradients_at(case.critic, critic.inputs[0])
            mistake = diagnose(out, (g,), _GP_MISTAKES)
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            expect_close(out, want, what, case.value_hint or _GP_HINT, atol=1e-6)

        if not out.requires_grad:
            raise Failure(
                "the penalty has no gradient for the critic's parameters: "
                "torch.autograd.grad was called without create_graph=True",
                "pass create_graph=True so that backward() of the penalty reaches "
                "the critic's weights; without it the penalty is a constant to the "
                "optimiser and does nothing.",
            )
        names = list(params)
        got = torch.autograd.grad(out, list(params.values()), allow_unused=True)
        ref = torch.autograd.grad(want, list(params.values()), allow_unused=True)
        if all(g is None for g in got):
            raise Failure(
                "no gradient of the penalty reaches the critic's parameters",
                "pass create_graph=True to torch.autograd.grad and do not detach the "
                "gradient (no .detach(), .data or .item()).",
            )
        for name, g, g_ref in zip(names, got, ref):
            p = params[name]
            g = torch.zeros_like(p) if g is None else g
            g_ref = torch.zeros_like(p) if g_ref is None else g_ref
            expect_close(
                g,
                g_ref,
                f"on {case.name}, the gradient of the penalty w.r.t. the critic's "
                f"{name}",
                "the value is right but autograd sees a different function: is the "
                "gradient or x_hat detached somewhere, or computed with .data?",
                atol=1e-6,
            )


# ---------------------------------------------------------------------------
# ch02.clip_weights_
# ---------------------------------------------------------------------------
class _ClipNet(nn.Module):
    """Conv, BatchNorm, Linear and LayerNorm layers, nested, and a bare parameter."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3)
        self.norm = nn.BatchNorm2d(3)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(12, 4),
            nn.LayerNorm(4),
            nn.LeakyReLU(0.2),
            nn.Linear(4, 1),
        )
        self.gain = nn.Parameter(torch.ones(1))

    def forward(self, x: Tensor) -> Tensor:
        return self.gain * self.head(self.norm(self.conv(x)))  # (N, 2, 4, 4) -> (N, 1)


def _clip_net(seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    net = _ClipNet()
    with torch.no_grad():
        for name, p in net.named_parameters():
            values = torch.rand(p.shape, generator=gen) * 2 - 1  # U[-1, 1]
            if name in ("norm.weight", "head.2.weight", "gain"):
                values = 1 + 0.5 * values  # scales near 1, as after init
            p.copy_(values)
            p.grad = 2 * torch.randn(p.shape, generator=gen)
        net.norm.running_mean.copy_(torch.randn(3, generator=gen))
        net.norm.running_var.copy_(1 + torch.rand(3, generator=gen))
        net.norm.num_batches_tracked.fill_(7)
    return net


def _owners(module: nn.Module) -> dict[str, str]:
    """Parameter name -> the type of the module that owns it."""
    return {
        f"{mname}.{pname}" if mname else pname: type(m).__name__
        for mname, m in module.named_modules()
        for pname, _ in m.named_parameters(recurse=False)
    }


_IN_PLACE = (
    "clamp each parameter in place: p.data.clamp_(-c, c), or p.clamp_(-c, c) inside "
    "`with torch.no_grad():`; `p = p.clamp(-c, c)` only rebinds the name p."
)
_CLIP_ERRORS = (
    (
        "leaf Variable that requires grad",
        "in-place changes to parameters need autograd off: wrap the loop in `with "
        "torch.no_grad():`, or clamp p.data.",
    ),
    (
        "'NoneType' object has no attribute",
        "p.grad is None before any backward(); clip the parameters themselves, "
        "p.data.clamp_(-c, c).",
    ),
)


def _first(names: Sequence[str], owners: dict[str, str]) -> str:
    more = f" and {len(names) - 1} more" if len(names) > 1 else ""
    return f"{names[0]} ({owners[names[0]]}){more}"


def _unclipped_message(
    unclipped: list[str], owners: dict[str, str], ok: set[str]
) -> tuple[str, str] | None:
    """Name the pattern behind a set of parameters left untouched, if any."""
    layers = ("Linear", "Conv2d")
    if any(owners[n] in layers and n.endswith("weight") for n in unclipped):
        return None
    biases = [n for n in unclipped if n.endswith("bias")]
    if biases and all(n in ok for n in owners if n.endswith("weight")):
        return (
            f"the biases are not clipped (e.g. {_first(biases, owners)})",
            "Algorithm 1 clips every parameter w of the critic: loop over "
            "module.parameters(), which yields weights and biases alike.",
        )
    others = [n for n in unclipped if owners[n] not in layers]
    others.sort(key=lambda n: "Norm" not in owners[n])  # name a norm layer first
    if others:
        return (
            f"some parameters outside the Linear / Conv layers are not clipped: "
            f"{_first(others, owners)}",
            "Algorithm 1 clips every parameter of the critic, normalisation layers "
            "and all: loop over module.parameters() rather than over chosen layers.",
        )
    return None


def check_clip_weights_(fn: Callable[..., Any]) -> None:
    """``fn(module, c)`` must clamp every parameter of ``module`` to ``[-c, c]`` in
    place, keeping the Parameter objects, and leave buffers and gradients alone."""
    for seed, c in ((3, 0.05), (4, 0.5)):
        net = _clip_net(seed)
        owners = _owners(net)
        params = dict(net.named_parameters())
        before = {n: p.detach().clone() for n, p in params.items()}
        grads = {n: p.grad.clone() for n, p in params.items()}
        buffers = {n: b.clone() for n, b in net.named_buffers()}
        name = f"a small critic with c = {c}"
        out = _call(
            fn, (net, c), name, fragments=_CLIP_ERRORS, what=f"clip_weights_(D, {c})"
        )

        now = dict(net.named_parameters())
        replaced = [n for n in params if now.get(n) is not params[n]]
        if replaced:
            raise Failure(
                f"the Parameter objects were replaced (e.g. {replaced[0]}): an "
                "optimiser built before the call keeps updating the old ones",
                "change each parameter's values in place, p.data.clamp_(-c, c), "
                "never module.weight = nn.Parameter(...).",
            )
        want = {n: before[n].clamp(-c, c) for n in params}
        wrong = [n for n, p in params.items() if not torch.equal(p.detach(), want[n])]
        if wrong:
            _explain_clip(net, out, c, params, before, grads, wrong, owners)

        changed = [
            n
            for n, b in net.named_buffers()
            if n not in buffers or not torch.equal(b, buffers[n])
        ]
        if changed:
            raise Failure(
                f"the buffer {changed[0]} changed: BatchNorm's running statistics "
                "are not weights and must not be clipped",
                "loop over module.parameters() (not state_dict() or buffers()).",
            )
        touched = [n for n, p in params.items() if not _same_grad(p, grads[n])]
        if touched:
            raise Failure(
                f"the gradient (.grad) of {touched[0]} changed: clipping is on the "
                "weights only",
                "leave p.grad alone; clip the parameter values, p.data.clamp_(-c, c).",
            )
        for n, p in params.items():
            if not p.requires_grad:
                raise Failure(
                    f"{n} no longer requires grad after clipping",
                    "clip the values only; do not call requires_grad_(False).",
                )


def _explain_clip(
    net: nn.Module,
    out: Any,
    c: float,
    params: dict[str, Tensor],
    before: dict[str, Tensor],
    grads: dict[str, Tensor],
    wrong: list[str],
    owners: dict[str, str],
) -> None:
    """Raise the most specific Failure for parameters that do not equal clamp."""
    values = {n: p.detach() for n, p in params.items()}
    unchanged = [n for n in wrong if torch.equal(values[n], before[n])]
    if all(torch.equal(values[n], before[n]) for n in params):
        if any(not _same_grad(p, grads[n]) for n, p in params.items()):
            raise Failure(
                "the gradients were clipped instead of the weights: the parameters "
                "are unchanged",
                "weight clipping bounds the parameter values, w <- clip(w, -c, c) "
                "(Arjovsky et al. 2017, Algorithm 1, line 7); " + _IN_PLACE,
            )
        if isinstance(out, nn.Module) and out is not net:
            raise Failure(
                "your function returned a new module and left the critic's own "
                "parameters unchanged",
                "clip the critic that was passed in, in place, and return None; "
                "the optimiser holds that module's parameters.",
            )
        raise Failure(
            "nothing was clipped: the parameters still exceed ±c after the call",
            _IN_PLACE,
        )
    if all(torch.equal(values[n], before[n].clamp(0, c)) for n in params):
        raise Failure(
            "the parameters are clipped to [0, c], so every negative weight became 0",
            "clip to the symmetric range: p.clamp_(-c, c).",
        )
    if c != 0.01 and all(
        torch.equal(values[n], before[n].clamp(-0.01, 0.01)) for n in params
    ):
        raise Failure(
            f"the parameters are clipped to ±0.01, not to ±c with c = {c}",
            "use the argument c rather than a hard-coded 0.01.",
        )
    ok = {n for n in params if n not in wrong}
    if len(unchanged) == len(wrong):
        named = _unclipped_message(unchanged, owners, ok)
        if named is not None:
            raise Failure(*named)
    n = wrong[0]
    biggest = float(values[n].abs().max())
    if biggest > c * (1 + 1e-6):
        raise Failure(
            f"{n} ({owners[n]}) is not clipped: its largest |value| is "
            f"{biggest:.4g} > c = {c}",
            "loop over module.parameters(), which reaches the parameters of nested "
            "submodules too, and clamp every one to [-c, c].",
        )
    raise Failure(
        f"{n} ({owners[n]}) has values changed that were already within [-c, c]",
        "clipping leaves values inside [-c, c] alone: p.clamp_(-c, c), no rescaling.",
    )


def _same_grad(p: Tensor, grad: Tensor) -> bool:
    return p.grad is not None and torch.equal(p.grad, grad)


# ---------------------------------------------------------------------------
# ch02.wasserstein_1d
# ---------------------------------------------------------------------------
def _w1_cases() -> list[Case]:
    rng = np.random.default_rng(21)
    a = rng.normal(size=50)
    return [
        Case(
            "two unsorted samples of 8 values",
            (rng.normal(size=8), rng.normal(0.8, 2.0, size=8)),
        ),
        Case(
            "a sample and a shuffled copy shifted by 1.5 (W1 = 1.5)",
            (a, rng.permutation(a + 1.5)),
            hint="moving every point by 1.5 costs exactly 1.5: W1 of a shift by t "
            "is |t|, however the samples are ordered.",
        ),
        Case(
            "samples with ties",
            (np.array([0.0, 2.0, 0.0, 1.0, 1.0]), np.array([2.0, -1.0, 2.0, 0.0, 2.0])),
        ),
        Case(
            "one value each (N = 1)",
            (np.array([0.25]), np.array([-2.0])),
            hint="with one sample each, W1 = |a[0] - b[0]|.",
        ),
        Case(
            "1000 values each",
            (rng.gamma(2.0, 1.0, size=1000), rng.normal(1.0, 1.5, size=1000)),
        ),
    ]


def _sorted_pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.sort(a), np.sort(b)


_W1_MISTAKES = (
    Mistake(
        lambda a, b: np.mean(np.abs(a - b)),
        "the samples are not sorted: this pairs a[i] with b[i] in the given order",
        "the optimal plan in 1-D matches the i-th smallest a with the i-th smallest "
        "b: np.sort both samples first.",
    ),
    Mistake(
        lambda a, b: np.mean(np.abs(np.sort(a) - b)),
        "only a is sorted",
        "sort both samples: np.sort(a) and np.sort(b).",
    ),
    Mistake(
        lambda a, b: np.mean(np.abs(a - np.sort(b))),
        "only b is sorted",
        "sort both samples: np.sort(a) and np.sort(b).",
    ),
    Mistake(
        lambda a, b: np.mean(np.abs(np.sort(a) - np.sort(b)[::-1])),
        "the samples are sorted in opposite orders",
        "sort both ascending: the smallest a goes to the smallest b.",
    ),
    Mistake(
        lambda a, b: np.mean(np.subtract(*_sorted_pair(a, b)) ** 2),
        "this uses squared differences, W2² (the squared 2-Wasserstein distance)",
        "W1 moves mass at cost |x - y|: np.abs, not ** 2.",
    ),
    Mistake(
        lambda a, b: math.sqrt(np.mean(np.subtract(*_sorted_pair(a, b)) ** 2)),
        "this is W2, the root mean squared difference",
        "W1 averages |a_(i) - b_(i)|, with no squares and no root.",
    ),
    Mistake(
        lambda a, b: np.sum(np.abs(np.subtract(*_sorted_pair(a, b)))),
        "this is a sum over the samples, not a mean",
        "each sample carries mass 1/N: use np.mean, not np.sum.",
    ),
    Mistake(
        lambda a, b: np.max(np.abs(np.subtract(*_sorted_pair(a, b)))),
        "this is the largest difference (W∞), not the mean one",
        "W1 averages |a_(i) - b_(i)| over i: np.mean, not np.max.",
    ),
    Mistake(
        lambda a, b: np.mean(np.subtract(*_sorted_pair(a, b))),
        "the absolute value is missing: this is mean(a) - mean(b)",
        "take |a_(i) - b_(i)| before averaging: np.mean(np.abs(...)).",
    ),
    Mistake(
        lambda a, b: abs(np.mean(a) - np.mean(b)),
        "this is |mean(a) - mean(b)|, the distance between the means (the abs is "
        "outside the mean)",
        "take |a_(i) - b_(i)| before averaging: np.mean(np.abs(...)).",
    ),
)

_W1_ERRORS = (
    (
        "not numpy.ndarray",
        "a and b are NumPy arrays: use np.sort, or convert first with "
        "torch.from_numpy(a).",
    ),
)

_W1_HINT = (
    "sort both samples and average the absolute differences: "
    "W1 = mean |sorted(a) - sorted(b)| (Arjovsky et al. 2017, eq. 1, in 1-D)."
)


def _number(out: Any, what: str) -> float:
    """One real number: a float, a NumPy scalar or 0-d array, or a 0-d tensor."""
    if out is None:
        raise Failure(f"{what} is None, expected a float", "did you forget `return`?")
    if isinstance(out, Tensor):
        out = out.detach().cpu().numpy()
    arr = (
        np.asarray(out)
        if isinstance(out, (int, float, np.generic, np.ndarray))
        else None
    )
    if arr is None or arr.dtype.kind not in "fiu":
        raise Failure(
            f"{what} is a {type(out).__name__}, expected a float",
            "return a number: a float, a NumPy scalar or a 0-d tensor.",
        )
    if arr.ndim != 0:
        raise Failure(
            f"{what} is an array of shape {arr.shape}, expected a single number",
            "average the |differences| into one number (np.mean / .mean()).",
        )
    return float(arr)


def _w1_close(got: float, want: float) -> bool:
    # float32 implementations agree with the float64 reference to ~1e-7
    return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-6)


def _w1_same(got: float, output: Any) -> bool:
    try:
        return _w1_close(got, float(output))
    except (TypeError, ValueError, RuntimeError):  # output is not one number
        return False


def check_wasserstein_1d(fn: Callable[..., Any]) -> None:
    """``fn(a, b)`` on 1-D float64 arrays must equal :func:`wasserstein_1d`."""
    for case in _w1_cases():
        a, b = (np.array(x, copy=True) for x in case.args)
        out = _call(fn, (a, b), case.name, case.hint, _W1_ERRORS)
        if not (np.array_equal(a, case.args[0]) and np.array_equal(b, case.args[1])):
            raise Failure(
                "your function modified its inputs in place (a.sort() sorts the "
                "caller's array)",
                "sort copies: np.sort(a), or torch.sort(torch.from_numpy(a)).values.",
            )
        what = f"on {case.name}, W1"
        got = _number(out, what)
        if not math.isfinite(got):
            raise Failure(f"{what} is {got}", case.hint or _W1_HINT)
        want = wasserstein_1d(*case.args)
        if not _w1_close(got, want):
            mistake = diagnose_value(got, case.args, _W1_MISTAKES, _w1_same)
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            raise Failure(
                f"{what} is wrong (got {got:.6g}, expected {want:.6g})",
                case.hint or _W1_HINT,
            )


# ---------------------------------------------------------------------------
# ch02.train_step
# ---------------------------------------------------------------------------
GP_LAMBDA = 10.0  # Gulrajani et al. 2017, Algorithm 1
_Z_DIM = 3
_LR_D, _LR_G = 0.1, 0.5  # plain SGD: each update is proportional to its gradient


class _TinyG(nn.Module):
    """``G(z (N, 3)) -> samples (N, *shape)`` in (-1, 1), 4 numbers each."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.shape = shape
        self.net = nn.Sequential(
            nn.Linear(_Z_DIM, 6), nn.Tanh(), nn.Linear(6, 4), nn.Tanh()
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, *self.shape)  # (N, 4) -> (N, *shape)


class _TinyCritic(nn.Module):
    """``D(x (N, *shape)) -> scores (N, 1)``, or ``(N,)`` with ``squeeze=True``.

    Tanh inside, so its input gradient depends on where it is taken and the
    penalty's own gradient w.r.t. the parameters is never zero. No BatchNorm
    (WGAN-GP forbids it: the penalty is per sample).
    """

    def __init__(self, squeeze: bool) -> None:
        super().__init__()
        self.squeeze = squeeze
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        scores = self.net(x)  # (N, *shape) -> (N, 1)
        return scores[:, 0] if self.squeeze else scores


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    z: Tensor,
    eps: Tensor,
) -> tuple[Tensor, Tensor]:
    """One WGAN-GP update of the critic D, then one of G (Gulrajani et al. 2017,
    Algorithm 1 with ``n_critic = 1``).

    The critic minimises ``mean D(x_fake) - mean D(x_real) + 10 * mean((||grad
    D(x_hat)||_2 - 1)^2)`` at ``x_hat = eps * x_real + (1 - eps) * x_fake``, the
    fakes detached; ``eps`` is given, ``(N, 1)`` or ``(N, 1, 1, 1)``. Then G
    minimises ``-mean D(G(z))`` with the updated critic. Returns ``(d_loss,
    g_loss)``, detached.
    """
    # the critic's step: Wasserstein estimate plus the penalty on the fakes, detached
    opt_d.zero_grad()
    x_fake = G(z)
    gp = losses.gradient_penalty(D, x_real, x_fake.detach(), eps=eps.reshape(-1))
    d_loss = losses.d_wasserstein(D(x_real), D(x_fake.detach())) + GP_LAMBDA * gp
    d_loss.backward()
    opt_d.step()

    # G's step: the same fakes, scored again by the updated critic
    opt_g.zero_grad()
    g_loss = losses.g_wasserstein(D(x_fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def _wrong_penalty(
    D: nn.Module,
    x_real: Tensor,
    x_fake: Tensor,
    eps: Tensor,
    create_graph: bool,
    swap_eps: bool,
    by_backward: bool,
    reduce: str,
) -> Tensor:
    if swap_eps:
        eps = 1 - eps
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    scores = D(x_hat)
    if by_backward:  # also adds d(sum scores)/d(params) to D's .grad
        scores.sum().backward(create_graph=create_graph)
        grad = x_hat.grad
    else:
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=create_graph)
    norms = grad.reshape(len(grad), -1).norm(2, dim=1)
    if reduce == "batch norm":
        return (grad.norm(2) - 1) ** 2
    per_sample = (norms - 1) ** 2
    return per_sample.sum() if reduce == "sum" else per_sample.mean()


def _wrong_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    z: Tensor,
    eps: Tensor,
    *,
    zero_d: bool = True,
    zero_g: bool = True,
    zero_g_first: bool = False,
    detach_for_d: bool = True,
    g_on_detached: bool = False,
    g_first: bool = False,
    step_d: bool = True,
    step_g: bool = True,
    g_steps_d: bool = False,
    step_d_again: bool = False,
    create_graph: bool = True,
    lam: float = GP_LAMBDA,
    w_sign: float = 1.0,
    gp_sign: float = 1.0,
    d_sign: float = 1.0,
    g_sign: float = 1.0,
    swap_eps: bool = False,
    gp_by_backward: bool = False,
    gp_reduce: str = "mean",
) -> tuple[Tensor, Tensor]:
    """:func:`train_step` with known mistakes switched on by the flags (with no
    flag it is the reference step)."""
    if zero_g_first:
        opt_g.zero_grad()
    x_fake = G(z)

    def d_phase() -> Tensor:
        if zero_d:
            opt_d.zero_grad()
        fakes = x_fake.detach() if detach_for_d else x_fake
        gp = _wrong_penalty(
            D,
            x_real,
            fakes.detach(),
            eps,
            create_graph,
            swap_eps,
            gp_by_backward,
            gp_reduce,
        )
        w = losses.d_wasserstein(D(x_real), D(fakes))
        d_loss = d_sign * (w_sign * w + gp_sign * lam * gp)
        d_loss.backward(retain_graph=not detach_for_d)
        if step_d:
            opt_d.step()
        return d_loss

    def g_phase() -> Tensor:
        if zero_g and not zero_g_first:
            opt_g.zero_grad()
        scores = D(x_fake.detach() if g_on_detached else x_fake)
        g_loss = g_sign * losses.g_wasserstein(scores)
        g_loss.backward()
        if step_g:
            (opt_d if g_steps_d else opt_g).step()
        if step_d_again:
            opt_d.step()
        return g_loss

    if g_first:
        g_loss = g_phase()
        d_loss = d_phase()
    else:
        d_loss = d_phase()
        g_loss = g_phase()
    return d_loss.detach(), g_loss.detach()


_STEP_HINT = (
    "the critic's step: opt_d.zero_grad(), x_fake = G(z), d_loss = "
    "D(x_fake.detach()).mean() - D(x_real).mean() + 10 * penalty at x_hat = eps * "
    "x_real + (1 - eps) * x_fake.detach(), d_loss.backward(), opt_d.step(); then "
    "G's step: opt_g.zero_grad(), g_loss = -D(x_fake).mean() with the updated "
    "critic, g_loss.backward(), opt_g.step()."
)


def _lambda_mistake(lam: float) -> Mistake:
    return Mistake(
        functools.partial(_wrong_step, lam=lam),
        f"the penalty's weight λ is {lam:g}, not 10",
        "WGAN-GP uses λ = 10 (Gulrajani et al. 2017, Algorithm 1): d_loss = "
        "D(x_fake).mean() - D(x_real).mean() + 10 * penalty.",
    )


# Each wrong step is replayed on fresh networks; the first whose parameters (and
# whether G got a gradient) match the learner's names the mistake.
_STEP_MISTAKES = (
    Mistake(
        functools.partial(_wrong_step, create_graph=False),
        "the gradient penalty had no effect on the critic's update: the gradient "
        "at x_hat was taken without create_graph=True (or the penalty is missing "
        "from d_loss), so to the optimiser the penalty is a constant",
        "torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True): the "
        "penalty must itself be differentiable w.r.t. D's parameters; then add "
        "10 * penalty to d_loss.",
    ),
    *(_lambda_mistake(lam) for lam in (1.0, 0.1, 100.0)),
    Mistake(
        functools.partial(_wrong_step, w_sign=-1.0),
        "the Wasserstein term of the critic's loss has the wrong sign: the critic "
        "minimised mean D(x_real) - mean D(x_fake)",
        "the critic maximises mean D(x_real) - mean D(x_fake), so it minimises "
        "D(x_fake).mean() - D(x_real).mean() + 10 * penalty.",
    ),
    Mistake(
        functools.partial(_wrong_step, d_sign=-1.0),
        "the critic's whole loss has the wrong sign: it maximised the penalty and "
        "scored fakes above real samples",
        "minimise d_loss = D(x_fake).mean() - D(x_real).mean() + 10 * penalty.",
    ),
    Mistake(
        functools.partial(_wrong_step, gp_sign=-1.0),
        "the penalty was subtracted from the critic's loss (wrong sign), which "
        "pushes the gradient norm away from 1",
        "add it: d_loss = D(x_fake).mean() - D(x_real).mean() + 10 * penalty.",
    ),
    Mistake(
        functools.partial(_wrong_step, g_sign=-1.0),
        "G's loss has the wrong sign: G minimised mean D(G(z)), moving its samples "
        "to where the critic scores low",
        "G maximises the critic's score on its samples: g_loss = -D(x_fake).mean().",
    ),
    Mistake(
        functools.partial(_wrong_step, gp_by_backward=True),
        "the critic's update includes the gradient of sum D(x_hat) w.r.t. its "
        "parameters: .backward() on the scores at x_hat also filled D's .grad",
        "get the gradient at x_hat with torch.autograd.grad(D(x_hat).sum(), x_hat, "
        "create_graph=True), which fills no .grad (or .backward(inputs=[x_hat], "
        "create_graph=True)).",
    ),
    Mistake(
        functools.partial(_wrong_step, swap_eps=True),
        "the interpolates are (1 - eps) * x_real + eps * x_fake, eps on the wrong side",
        "x_hat = eps * x_real + (1 - eps) * x_fake, with the eps you are given.",
    ),
    Mistake(
        functools.partial(_wrong_step, gp_reduce="sum"),
        "the penalty is summed over the batch instead of averaged",
        "penalty = ((norms - 1) ** 2).mean(), one norm per sample.",
    ),
    Mistake(
        functools.partial(_wrong_step, gp_reduce="batch norm"),
        "the penalty uses one gradient norm for the whole batch",
        "one norm per sample: grad.reshape(N, -1).norm(2, dim=1), then "
        "((norms - 1) ** 2).mean().",
    ),
    Mistake(
        functools.partial(_wrong_step, zero_d=False),
        "the critic's update includes gradients left over from before the step: "
        "opt_d.zero_grad() is missing",
        "backward() adds to .grad; call opt_d.zero_grad() before d_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, zero_g=False),
        "G's update includes gradients left over from before the step: "
        "opt_g.zero_grad() is missing",
        "backward() adds to .grad; call opt_g.zero_grad() before g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, detach_for_d=False, zero_g_first=True),
        "G's update also contains the gradient of the critic's loss: the fakes "
        "were not detached in the critic's step, and G's gradients were cleared "
        "before it, not after",
        "detach the fakes for the critic's loss, D(x_fake.detach()), or call "
        "opt_g.zero_grad() right before g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, g_on_detached=True),
        "G did not change: it had no gradient when opt_g.step() ran (its loss was "
        "computed on detached fakes, or opt_g.zero_grad() came after "
        "g_loss.backward())",
        "in G's step call D on x_fake itself, not x_fake.detach() (nor on fakes "
        "made under torch.no_grad()), and keep the order opt_g.zero_grad(), "
        "g_loss.backward(), opt_g.step().",
    ),
    Mistake(
        functools.partial(_wrong_step, step_g=False),
        "G did not change although it got gradients: opt_g.step() is missing",
        "finish G's step with opt_g.step() after g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, g_steps_d=True),
        "G did not change and the critic was updated twice: G's step calls "
        "opt_d.step() instead of opt_g.step()",
        "G's step updates G only: opt_g.step() after g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, step_d=False),
        "the critic did not change: opt_d.step() is missing, or the gradients were "
        "cleared between d_loss.backward() and opt_d.step()",
        "the order is opt_d.zero_grad(), d_loss.backward(), opt_d.step().",
    ),
    Mistake(
        functools.partial(_wrong_step, step_d_again=True),
        "the critic was updated again during G's step (opt_d.step() after "
        "g_loss.backward())",
        "g_loss.backward() also fills D's .grad, but in G's step only opt_g.step() "
        "may follow: the critic is updated once, in its own step.",
    ),
    Mistake(
        functools.partial(_wrong_step, g_first=True),
        "G's update used the critic as it was before the critic's update (G "
        "updated first, or G's loss computed before opt_d.step())",
        "update the critic first, then compute G's loss with a new call D(x_fake).",
    ),
)


@dataclass(frozen=True)
class _StepCase:
    name: str
    seed: int
    n: int
    shape: tuple[int, ...]
    squeeze: bool


_STEP_CASES = (
    _StepCase("4 samples of shape (4,), D(x) of shape (N, 1)", 70, 4, (4,), False),
    _StepCase(
        "5 images of shape (1, 2, 2), D(x) of shape (N,)", 71, 5, (1, 2, 2), True
    ),
)


def _step_setup(case: _StepCase) -> tuple[Any, ...]:
    """Fresh G, critic, SGD optimisers with junk in every .grad, and the inputs:
    the same values on every call. ``eps`` has shape ``(N, 1, ..., 1)``."""
    gen = torch.Generator().manual_seed(case.seed)
    G, D = _TinyG(case.shape), _TinyCritic(case.squeeze)
    init_networks(gen, G, D)
    x_real = torch.rand(case.n, *case.shape, generator=gen) * 2 - 1
    z = torch.randn(case.n, _Z_DIM, generator=gen)
    # away from 0, 1/2 and 1, where a swapped or missing eps would go unnoticed
    eps = 0.1 + 0.3 * torch.rand(case.n, *[1] * len(case.shape), generator=gen)
    eps[1::2] += 0.5
    opt_g = torch.optim.SGD(G.parameters(), lr=_LR_G)
    opt_d = torch.optim.SGD(D.parameters(), lr=_LR_D)
    return G, D, opt_g, opt_d, x_real, z, eps


check_train_step = StepCheck(
    reference=train_step,
    setup=_step_setup,
    cases=_STEP_CASES,
    mistakes=_STEP_MISTAKES,
    errors=STEP_ERRORS,
    step_hint=_STEP_HINT,
    d_what="WGAN-GP's critic loss",
    d_hint="the critic's loss is D(x_fake.detach()).mean() - D(x_real).mean() + "
    "10 * mean((||grad D(x_hat)||_2 - 1) ** 2), and nothing else may step D.",
    g_what="-mean D(G(z))",
    g_hint="G's loss is -D(x_fake).mean(), D called after its update.",
)


# ---------------------------------------------------------------------------
EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch02.linear_critic",
            signature="linear_critic(x_real, x_fake) -> scalar tensor, x_real (N, D) "
            "and x_fake (M, D)",
            reference=linear_critic_bound,
            check_fn=check_linear_critic,
        ),
        Exercise(
            id="ch02.gradient_penalty",
            signature="gradient_penalty(critic, x_real, x_fake) -> scalar tensor, "
            "x_real and x_fake of shape (N, C, H, W) or (N, D)",
            reference=gradient_penalty,
            check_fn=check_gradient_penalty,
            solution=(losses.gradient_penalty, gradient_penalty),
        ),
        Exercise(
            id="ch02.clip_weights_",
            signature="clip_weights_(module, c) -> None, clipping in place",
            reference=clip_weights_,
            check_fn=check_clip_weights_,
        ),
        Exercise(
            id="ch02.wasserstein_1d",
            signature="wasserstein_1d(a, b) -> float, a and b 1-D float64 NumPy "
            "arrays of the same length (return a float, a NumPy scalar or a 0-d "
            "tensor)",
            reference=wasserstein_1d,
            check_fn=check_wasserstein_1d,
        ),
        Exercise(
            id="ch02.train_step",
            signature="train_step(G, D, opt_g, opt_d, x_real, z, eps) -> (d_loss, "
            "g_loss), G(z) -> samples, D(x) -> scores (N,) or (N, 1), eps of shape "
            "(N, 1) or (N, 1, 1, 1)",
            reference=train_step,
            check_fn=check_train_step,
            solution=(
                losses.d_wasserstein,
                losses.gradient_penalty,
                losses.g_wasserstein,
                train_step,
            ),
        ),
    )
}

# Retired exercises: still checked for old notebooks, no longer listed, counted or
# graded. ``check`` says what replaced them.
RETIRED = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch02.critic_loss",
            signature="critic_loss(scores_real, scores_fake) -> scalar tensor",
            reference=losses.d_wasserstein,
            check_fn=check_critic_loss,
            solution=(losses._flat, losses.d_wasserstein),
            retired="it copied the formula printed just above it; the critic's "
            "loss is now written inside ch02.train_step, and ch02.linear_critic "
            "asks what a restricted critic can measure",
        ),
    )
}


# Predict-then-run questions (see gancourse.homework.predictions): the run after
# the question answers it, so no choice is marked as right here.
PREDICTIONS = {
    p.id: p
    for p in (
        Prediction(
            id="ch02.clipping_gradients",
            question="Three 8-layer critics are trained with their weights clipped "
            "to c = 0.1, 0.01 and 0.001; how do the gradient norms of their layers "
            "compare?",
            choices={
                "a": "smaller for smaller c, by orders of magnitude",
                "b": "about the same for every c",
                "c": "larger for smaller c",
            },
        ),
    )
}
