"""Chapter 1 exercises: the vanilla GAN losses, the optimal discriminator, DCGAN,
and one GAN training step assembled from networks and optimisers.

Each exercise is a reference answer (from the package where one exists) plus a check
function that raises :class:`~gancourse.homework._checker.Failure` at the first
problem. ``EXERCISES`` at the bottom registers them under their ids.

The training step is checked by :class:`~gancourse.homework._steps.StepCheck`
(tiny seeded networks, SGD, junk in every ``.grad``, parameters compared after
the step, known wrong steps replayed to name the mistake); this module holds
only the networks, the reference step and the catalogue of wrong steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gancourse import losses
from gancourse.homework._checker import (
    Case,
    Exercise,
    Failure,
    Mistake,
    call_learner,
    check_scalar_loss,
    diagnose,
    expect_close,
    expect_dtype,
    expect_finite,
    expect_shape,
    expect_tensor,
)
from gancourse.homework._steps import STEP_ERRORS, StepCheck, init_networks
from gancourse.homework.predictions import Prediction
from gancourse.nn import blocks

__all__ = [
    "EXERCISES",
    "PREDICTIONS",
    "RETIRED",
    "optimal_d",
    "optimal_logit",
    "train_step",
]


def _flat(x: Tensor) -> Tensor:
    return x.reshape(-1)


def _bce(logits: Tensor, label: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def _logit_cases(n_args: int) -> list[Case]:
    """Logits of several shapes, then extreme ones where naive formulas overflow."""
    gen = torch.Generator().manual_seed(1)

    def randn(*shape: int) -> Tensor:
        return 2.0 * torch.randn(*shape, generator=gen)

    # no logit exactly 0: hand-written stable forms (relu, abs) have a kink there
    big = torch.tensor([30.0, -30.0, 100.0, -100.0, 200.0, -200.0, 3.0, 0.5])
    moderate = [
        Case("logits of shape (N,)", (randn(8), randn(8))),
        Case(
            "logits of shape (N, 1)",
            (randn(6, 1), randn(6, 1)),
            hint="a discriminator often returns (N, 1); reduce with .mean() over "
            "all elements and build labels with torch.ones_like(logits).",
        ),
        Case(
            "real and fake batches of different sizes (7 and 3)",
            (randn(7), randn(3)),
            hint="the real and the fake batch may differ in size: average each "
            "term separately, then add.",
        ),
    ]
    extreme = Case("large logits such as ±30, ±100, ±200", (big, -big), extreme=True)
    cases = moderate + [extreme]
    if n_args == 1:
        cases = [
            Case(c.name, c.args[:1], c.hint, c.extreme)
            for c in cases
            if "different sizes" not in c.name
        ]
    return cases


_UNSTABLE = (
    "log(sigmoid(l)) underflows to log(0) = -inf for large |l| (and nn.BCELoss clamps "
    "it at -100); feed the raw logits to F.binary_cross_entropy_with_logits, "
    "F.softplus or F.logsigmoid, which are exact there."
)
_SIGMOID_TWICE = (
    "you applied a sigmoid before a with-logits loss: logits go straight into "
    "F.binary_cross_entropy_with_logits / F.softplus, which apply the sigmoid "
    "themselves."
)

# ---------------------------------------------------------------------------
# ch01.d_loss
# ---------------------------------------------------------------------------
_D_MISTAKES = (
    Mistake(
        lambda r, f: F.softplus(_flat(r)).mean() + F.softplus(-_flat(f)).mean(),
        "the labels are swapped (real scored as fake and fake as real)",
        "D wants D(x_real) -> 1 and D(x_fake) -> 0: label 1 for logits_real, label 0 "
        "for logits_fake.",
    ),
    Mistake(
        lambda r, f: -losses.d_minimax(r, f),
        "the sign is flipped: this is D's objective to maximise, "
        "log D(x) + log(1 - D(G(z)))",
        "the loss to minimise is its negative, "
        "mean softplus(-logits_real) + mean softplus(logits_fake).",
    ),
    Mistake(
        lambda r, f: _bce(torch.sigmoid(r), 1.0) + _bce(torch.sigmoid(f), 0.0),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda r, f: F.softplus(-_flat(r)).mean(),
        "only the real term is there",
        "add the fake term: mean softplus(logits_fake), i.e. BCE with label 0.",
    ),
    Mistake(
        lambda r, f: F.softplus(_flat(f)).mean(),
        "only the fake term is there",
        "add the real term: mean softplus(-logits_real), i.e. BCE with label 1.",
    ),
    Mistake(
        lambda r, f: F.softplus(-_flat(r)).sum() + F.softplus(_flat(f)).sum(),
        "this is a sum over the batch, not a mean",
        "use .mean() so the loss (and the learning rate) does not scale with the "
        "batch size.",
    ),
    Mistake(
        lambda r, f: 0.5 * losses.d_minimax(r, f),
        "this is half the expected value",
        "here D's loss is the sum of the two means (real term + fake term), "
        "no factor 1/2.",
    ),
    Mistake(
        lambda r, f: torch.cat([F.softplus(-_flat(r)), F.softplus(_flat(f))]).mean(),
        "this averages real and fake terms together over N + M samples",
        "take the mean of each term separately, then add the two means.",
    ),
)


def check_d_loss(fn: Callable[..., Any]) -> None:
    """``fn(logits_real, logits_fake)`` must equal :func:`losses.d_minimax`."""
    check_scalar_loss(
        fn,
        losses.d_minimax,
        _logit_cases(2),
        ("logits_real", "logits_fake"),
        _D_MISTAKES,
        wrong_hint="D's loss is mean softplus(-logits_real) + mean softplus("
        "logits_fake): BCE with label 1 on real plus BCE with label 0 on fake.",
        unstable_hint=_UNSTABLE,
    )


# ---------------------------------------------------------------------------
# ch01.g_loss_nonsaturating
# ---------------------------------------------------------------------------
_G_MISTAKES = (
    Mistake(
        lambda f: -F.softplus(_flat(f)).mean(),
        "this is the saturating minimax loss mean log(1 - D(G(z)))",
        "the non-saturating loss changes G's goal rather than the sign: minimise "
        "-log D(G(z)) = mean softplus(-logits_fake), BCE with the *real* label 1.",
    ),
    Mistake(
        lambda f: F.softplus(_flat(f)).mean(),
        "this uses the fake label 0 for G's samples (D's loss on fakes)",
        "G wants D to call its samples real: BCE of logits_fake against label 1 "
        "(torch.ones_like).",
    ),
    Mistake(
        lambda f: -F.softplus(-_flat(f)).mean(),
        "the sign is flipped: this is mean log D(G(z)), which G wants to maximise",
        "return its negative, mean softplus(-logits_fake).",
    ),
    Mistake(
        lambda f: _bce(torch.sigmoid(f), 1.0),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda f: F.softplus(-_flat(f)).sum(),
        "this is a sum over the batch, not a mean",
        "use .mean() so the loss does not scale with the batch size.",
    ),
)


def check_g_loss_nonsaturating(fn: Callable[..., Any]) -> None:
    """``fn(logits_fake)`` must equal :func:`gancourse.losses.g_nonsaturating`."""
    check_scalar_loss(
        fn,
        losses.g_nonsaturating,
        _logit_cases(1),
        ("logits_fake",),
        _G_MISTAKES,
        wrong_hint="the non-saturating loss is mean softplus(-logits_fake) = "
        "-mean log D(G(z)), BCE of logits_fake against label 1.",
        unstable_hint=_UNSTABLE,
    )


# ---------------------------------------------------------------------------
# ch01.optimal_d
# ---------------------------------------------------------------------------
def optimal_d(p_data: Tensor, p_g: Tensor) -> Tensor:
    """The optimal discriminator for a fixed G (Goodfellow et al. 2014, Prop. 1).

    ``D*(x) = p_data(x) / (p_data(x) + p_g(x))``, the probability that ``x`` is real
    when real and generated samples are equally likely a priori.

    Args:
        p_data: densities of the data at some points, any shape, ``> 0``.
        p_g: densities of the generator at the same points, same shape, ``> 0``.

    Returns:
        Tensor of the same shape, values in ``(0, 1)``; ``1/2`` wherever
        ``p_g = p_data``.
    """
    return p_data / (p_data + p_g)


_OPT_MISTAKES = (
    Mistake(
        lambda p, q: q / (p + q),
        "this is 1 - D*(x), the probability that x is *fake*",
        "D outputs the probability that x is real, so p_data goes on top.",
    ),
    Mistake(
        lambda p, q: p / q,
        "this is the density ratio p_data / p_g, not a probability (it exceeds 1)",
        "divide by the total density p_data + p_g.",
    ),
    Mistake(
        lambda p, q: torch.full_like(p, 0.5),
        "this is 1/2 everywhere, D* only at the end of training when p_g = p_data",
        "D*(x) depends on both densities at x: p_data(x) / (p_data(x) + p_g(x)).",
    ),
    Mistake(
        lambda p, q: p / (p + q).sum(),
        "this divides by the sum over all points",
        "D* is pointwise: divide each p_data(x) by p_data(x) + p_g(x) at the same x.",
    ),
    Mistake(
        lambda p, q: torch.log(p / (p + q)),
        "this is log D*(x)",
        "return the probability itself, p_data / (p_data + p_g).",
    ),
)


def _density_cases() -> list[tuple[str, Tensor, Tensor]]:
    gen = torch.Generator().manual_seed(2)
    wide = torch.logspace(-6, 4, 11)
    return [
        (
            "1-D densities",
            torch.rand(10, generator=gen) + 0.05,
            torch.rand(10, generator=gen) + 0.05,
        ),
        (
            "2-D densities of shape (4, 5)",
            torch.rand(4, 5, generator=gen) + 0.05,
            torch.rand(4, 5, generator=gen) + 0.05,
        ),
        ("densities from 1e-6 to 1e4", wide, wide.flip(0)),
        ("equal densities", wide, wide.clone()),
    ]


def check_optimal_d(fn: Callable[..., Any]) -> None:
    """``fn(p_data, p_g)`` must be ``p_data / (p_data + p_g)`` elementwise."""
    for name, p, q in _density_cases():
        p_in, q_in = p.clone(), q.clone()
        try:
            out = call_learner(fn, p_in, q_in)
        except Failure as exc:
            raise Failure(f"on {name}, {exc.message}", exc.hint) from None
        if not (torch.equal(p_in, p) and torch.equal(q_in, q)):
            raise Failure(
                "your function modified its inputs in place",
                "compute a new tensor (p_data / (...)) instead of p_data /= ... .",
            )
        what = f"D* for {name}"
        out = expect_tensor(out)
        expect_shape(
            out,
            tuple(p.shape),
            what,
            "D* is elementwise: one probability per point, no .mean() or .sum().",
        )
        expect_dtype(out, p.dtype, what)
        expect_finite(out, what, "divide by p_data + p_g, which is never zero here.")
        want = optimal_d(p, q)
        if not torch.allclose(out, want, rtol=1e-4, atol=1e-6):
            mistake = diagnose(out, (p, q), _OPT_MISTAKES)
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            expect_close(
                out,
                want,
                what,
                "D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise "
                "(Goodfellow et al. 2014, Proposition 1).",
                atol=1e-6,
            )


# ---------------------------------------------------------------------------
# ch01.optimal_logit (replaces ch01.optimal_d, which copied the formula above it)
# ---------------------------------------------------------------------------
def optimal_logit(x: Tensor, mu_data: float, mu_g: float, sigma: float) -> Tensor:
    """The logit of the optimal discriminator between two 1-D Gaussians.

    With ``p_data = N(mu_data, sigma^2)`` and ``p_g = N(mu_g, sigma^2)``,
    ``D*(x) = p_data / (p_data + p_g)`` (Goodfellow et al. 2014, Prop. 1), so its
    logit is ``log D* - log(1 - D*) = log p_data(x) - log p_g(x)``. The normalising
    constants cancel, leaving

        ``((x - mu_g)^2 - (x - mu_data)^2) / (2 sigma^2)``,

    a *linear* function of ``x``: between two Gaussians of equal variance the
    optimal discriminator is a logistic regression.

    Args:
        x: points, any shape.
        mu_data, mu_g: the two means (Python floats).
        sigma: their common standard deviation, ``> 0``.

    Returns:
        Tensor of the shape of ``x``, finite wherever ``x`` is (no densities are
        formed, so ``|x| = 100`` is as easy as ``x = 0``).
    """
    return ((x - mu_g) ** 2 - (x - mu_data) ** 2) / (2 * sigma**2)


def _gauss(x: Tensor, mu: float, sigma: float) -> Tensor:
    return torch.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (
        sigma * (2 * torch.pi) ** 0.5
    )


_LOGIT_MISTAKES = (
    Mistake(
        lambda x, md, mg, s: ((x - md) ** 2 - (x - mg) ** 2) / (2 * s**2),
        "the sign is flipped: this is log p_g(x) - log p_data(x), the logit of "
        "'x is fake'",
        "D's logit is positive where the data is more likely: log p_data - log p_g.",
    ),
    Mistake(
        lambda x, md, mg, s: ((x - mg) ** 2 - (x - md) ** 2) / 2,
        "this matches only when sigma = 1: the variance is missing",
        "each Gaussian's log density is -(x - mu)^2 / (2 sigma^2) + const.",
    ),
    Mistake(
        lambda x, md, mg, s: ((x - mg) ** 2 - (x - md) ** 2) / s**2,
        "this is twice the logit: the 1/2 of the Gaussian exponent is missing",
        "log N(x; mu, sigma^2) = -(x - mu)^2 / (2 sigma^2) + const.",
    ),
    Mistake(
        lambda x, md, mg, s: ((x - mg) ** 2 - (x - md) ** 2) / (2 * s),
        "this divides by 2 sigma, not 2 sigma^2",
        "the exponent of a Gaussian is -(x - mu)^2 / (2 sigma^2): sigma squared.",
    ),
    Mistake(
        lambda x, md, mg, s: _gauss(x, md, s) / (_gauss(x, md, s) + _gauss(x, mg, s)),
        "this is D*(x) itself, a probability; the task asks for its logit",
        "the logit is log D* - log(1 - D*) = log p_data(x) - log p_g(x).",
    ),
    Mistake(
        lambda x, md, mg, s: torch.log(
            _gauss(x, md, s) / (_gauss(x, md, s) + _gauss(x, mg, s))
        ),
        "this is log D*(x), not the logit log D* - log(1 - D*)",
        "subtract log(1 - D*): the logit of D* is log p_data(x) - log p_g(x).",
    ),
)


def _logit_point_cases() -> list[tuple[str, Tensor, float, float, float]]:
    gen = torch.Generator().manual_seed(11)
    return [
        (
            "x of shape (10,), mu_data=0, mu_g=2, sigma=1",
            torch.randn(10, generator=gen),
            0.0,
            2.0,
            1.0,
        ),
        (
            "x of shape (3, 4), mu_data=1.5, mu_g=-0.5, sigma=0.7",
            2 * torch.randn(3, 4, generator=gen),
            1.5,
            -0.5,
            0.7,
        ),
        (
            "x of shape (6,), mu_data=-1, mu_g=3, sigma=2.5",
            4 * torch.randn(6, generator=gen),
            -1.0,
            3.0,
            2.5,
        ),
        (
            "x far in the tails (|x| up to 100), mu_data=0, mu_g=1, sigma=1",
            torch.tensor([-100.0, -40.0, -10.0, 0.5, 10.0, 40.0, 100.0]),
            0.0,
            1.0,
            1.0,
        ),
    ]


def check_optimal_logit(fn: Callable[..., Any]) -> None:
    """``fn(x, mu_data, mu_g, sigma)`` must be ``log p_data(x) - log p_g(x)``."""
    for name, x, md, mg, s in _logit_point_cases():
        x_in = x.clone()
        try:
            out = call_learner(fn, x_in, md, mg, s)
        except Failure as exc:
            raise Failure(f"on {name}, {exc.message}", exc.hint) from None
        if not torch.equal(x_in, x):
            raise Failure(
                "your function modified x in place",
                "compute a new tensor instead of x -= ... or x.pow_(...).",
            )
        what = f"the logit for {name}"
        out = expect_tensor(out)
        expect_shape(
            out, tuple(x.shape), what, "one logit per point: no .mean() or .sum()."
        )
        want = optimal_logit(x, md, mg, s)
        if not bool(torch.isfinite(out).all()):
            raise Failure(
                f"{what} contains NaN or Inf",
                "the densities underflow to 0 far in the tails, so their ratio or "
                "log is 0/0 or log 0: work with log densities, where the "
                "normalising constants cancel and only (x - mu)^2 terms remain.",
            )
        if not torch.allclose(out.to(want.dtype), want, rtol=1e-4, atol=1e-4):
            mistake = diagnose(out, (x, md, mg, s), _LOGIT_MISTAKES)
            if mistake is not None:
                raise Failure(f"on {name}, {mistake.message}", mistake.hint)
            expect_close(
                out,
                want,
                what,
                "logit D*(x) = log p_data(x) - log p_g(x); write out the two "
                "Gaussian log densities and simplify.",
                atol=1e-4,
            )


# ---------------------------------------------------------------------------
# ch01.dcgan_up_block
# ---------------------------------------------------------------------------
_SHAPES = ((8, 4, 5, 5), (3, 6, 4, 4), (4, 2, 3, 7))  # (in_ch, out_ch, H, W)
_SIZE_HINT = (
    "a ConvTranspose2d gives out = (H - 1) * stride - 2 * padding + kernel: "
    "kernel 4, stride 2, padding 1 gives exactly 2H (so do kernel 2, stride 2, "
    "padding 0, or nn.Upsample(scale_factor=2) + a 3x3 conv with padding 1)."
)


def _size_hint(h: int, got: int) -> str:
    if got == 2 * h + 2:
        return "with kernel 4 and stride 2 you need padding=1 (padding 0 gives 2H + 2)."
    if got in (h, h + 1, h + 3):
        return "use stride=2 to double the size; " + _SIZE_HINT
    return _SIZE_HINT


def _find(block: nn.Module, kinds: tuple[type, ...]) -> list[nn.Module]:
    return [m for m in block.modules() if isinstance(m, kinds)]


def check_dcgan_up_block(fn: Callable[..., Any]) -> None:
    """``fn(in_ch, out_ch)`` must build ``(N, in_ch, H, W) -> (N, out_ch, 2H, 2W)``
    with BatchNorm2d(out_ch) followed by a ReLU."""
    for in_ch, out_ch, h, w in _SHAPES:
        call = f"dcgan_up_block({in_ch}, {out_ch})"
        block = call_learner(fn, in_ch, out_ch, what=call)
        if not isinstance(block, nn.Module):
            kind = block.__name__ if isinstance(block, type) else type(block).__name__
            raise Failure(
                f"{call} returned {kind}, expected an nn.Module instance",
                "return the layers wrapped in a module, e.g. nn.Sequential(conv, "
                "nn.BatchNorm2d(out_ch), nn.ReLU()).",
            )
        block.train()
        x = torch.randn(4, in_ch, h, w, requires_grad=True)
        out = call_learner(
            block, x, what=f"{call}'s forward on a {tuple(x.shape)} input"
        )
        out = expect_tensor(out, f"{call}'s forward")
        want = (4, out_ch, 2 * h, 2 * w)
        if tuple(out.shape) != want:
            if out.dim() == 4 and out.shape[1] != out_ch:
                raise Failure(
                    f"{call} outputs {out.shape[1]} channels, expected out_ch={out_ch}",
                    "the convolution maps in_ch to out_ch channels.",
                )
            got_h = out.shape[2] if out.dim() == 4 else -1
            raise Failure(
                f"{call} maps {tuple(x.shape)} to {tuple(out.shape)}, expected {want}",
                _size_hint(h, got_h),
            )
        expect_dtype(out, x.dtype, f"{call}'s output")
        expect_finite(out, f"{call}'s output")

        norms = _find(block, (nn.BatchNorm2d,))
        if not any(m.num_features == out_ch for m in norms):
            others = _find(
                block,
                (nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm, nn.BatchNorm1d),
            )
            if others:
                raise Failure(
                    f"{call} uses {type(others[0]).__name__}, not BatchNorm2d",
                    "DCGAN normalises with nn.BatchNorm2d(out_ch) after the "
                    "convolution.",
                )
            if norms:
                raise Failure(
                    f"{call}'s BatchNorm2d normalises {norms[0].num_features} "
                    f"channels, expected out_ch={out_ch}",
                    "put the BatchNorm2d(out_ch) after the convolution, on its output.",
                )
            raise Failure(
                f"{call} has no nn.BatchNorm2d",
                "DCGAN puts nn.BatchNorm2d(out_ch) between the convolution and the "
                "ReLU: it stabilises training (Radford et al. 2016).",
            )

        if bool((out < 0).any()):
            if _find(block, (nn.LeakyReLU,)):
                msg, hint = (
                    "the output has negative values: the block uses LeakyReLU",
                    "DCGAN's generator uses ReLU; LeakyReLU(0.2) is for the "
                    "discriminator.",
                )
            elif _find(block, (nn.Tanh,)):
                msg, hint = (
                    "the output has negative values: the block uses Tanh",
                    "Tanh belongs only on G's last layer (images in [-1, 1]); "
                    "hidden up-blocks end with ReLU.",
                )
            else:
                msg, hint = (
                    "the output has negative values, so it does not end with a ReLU",
                    "order the layers convolution -> BatchNorm2d -> ReLU.",
                )
            raise Failure(msg, hint)
        zeros = (out.detach() == 0).float().mean(dim=(0, 2, 3))
        if bool((zeros < 0.05).any()):
            raise Failure(
                "the output is never exactly 0, so it does not end with a ReLU "
                "applied right after BatchNorm2d",
                "order the layers convolution -> BatchNorm2d -> ReLU (not Sigmoid "
                "or Softplus).",
            )

        (gx,) = torch.autograd.grad(out.sum(), [x], allow_unused=True)
        if gx is None or not bool(gx.abs().sum() > 0):
            raise Failure(
                f"{call}'s output does not depend on its input",
                "pass the input through the convolution; do not detach it.",
            )

        block.eval()
        with torch.no_grad():
            out_eval = call_learner(
                block, x.detach(), what=f"{call}'s forward in eval mode"
            )
        expect_shape(expect_tensor(out_eval), want, f"{call}'s output in eval mode")


# ---------------------------------------------------------------------------
# ch01.train_step
# ---------------------------------------------------------------------------
_Z_DIM, _X_DIM = 3, 4
_LR_D, _LR_G = 0.5, 0.5  # plain SGD: each update is proportional to its gradient


class _TinyG(nn.Module):
    """``G(z (N, 3)) -> samples (N, 4)`` in (-1, 1)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(_Z_DIM, 6), nn.Tanh(), nn.Linear(6, _X_DIM), nn.Tanh()
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class _TinyD(nn.Module):
    """``D(x (N, 4)) -> logits (N, 1)``, or ``(N,)`` with ``squeeze=True``.

    No BatchNorm: samples do not interact, so a learner may score real and fake
    samples in one call or two.
    """

    def __init__(self, squeeze: bool) -> None:
        super().__init__()
        self.squeeze = squeeze
        self.net = nn.Sequential(
            nn.Linear(_X_DIM, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1)
        )

    def forward(self, x: Tensor) -> Tensor:
        logits = self.net(x)  # (N, 4) -> (N, 1)
        return logits[:, 0] if self.squeeze else logits


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    z: Tensor,
) -> tuple[Tensor, Tensor]:
    """One update of D, then one of G, of the original GAN (Goodfellow et al.
    2014, Algorithm 1, with the non-saturating generator loss of section 3).

    ``G(z)`` makes the fakes; ``D(x)`` returns logits ``(N,)`` or ``(N, 1)``. D's
    step sees the fakes detached (it must not reach G); G's step scores the same
    fakes with the *updated* D. Returns ``(d_loss, g_loss)``, detached.
    """
    # D's step: real as real (label 1), fake as fake (label 0)
    opt_d.zero_grad()
    x_fake = G(z)
    d_loss = losses.d_minimax(D(x_real), D(x_fake.detach()))
    d_loss.backward()
    opt_d.step()

    # G's step: the same fakes, scored again by the updated D, labelled real
    opt_g.zero_grad()
    g_loss = losses.g_nonsaturating(D(x_fake))
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def _d_step_loss(
    lr: Tensor, lf: Tensor, swap: bool, sigmoid: bool, scale: float, concat: bool
) -> Tensor:
    lr, lf = _flat(lr), _flat(lf)
    if sigmoid:
        lr, lf = torch.sigmoid(lr), torch.sigmoid(lf)
    real, fake = (
        (F.softplus(lr), F.softplus(-lf))
        if swap
        else (
            F.softplus(-lr),
            F.softplus(lf),
        )
    )
    if concat:
        return torch.cat([real, fake]).mean()
    return scale * (real.mean() + fake.mean())


def _g_step_loss(lf: Tensor, kind: str, sigmoid: bool) -> Tensor:
    lf = torch.sigmoid(_flat(lf)) if sigmoid else _flat(lf)
    if kind == "saturating":  # minimise mean log(1 - D(G(z)))
        return -F.softplus(lf).mean()
    if kind == "fake label":
        return F.softplus(lf).mean()
    return F.softplus(-lf).mean()


def _wrong_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    z: Tensor,
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
    swap_d_labels: bool = False,
    g_loss_kind: str = "non-saturating",
    sigmoid_d: bool = False,
    sigmoid_g: bool = False,
    d_scale: float = 1.0,
    d_concat: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`train_step` with known mistakes switched on by the flags (with no
    flag it is the reference step)."""
    if zero_g_first:
        opt_g.zero_grad()
    x_fake = G(z)

    def d_phase() -> Tensor:
        if zero_d:
            opt_d.zero_grad()
        lf = D(x_fake.detach() if detach_for_d else x_fake)
        d_loss = _d_step_loss(
            D(x_real), lf, swap_d_labels, sigmoid_d, d_scale, d_concat
        )
        d_loss.backward(retain_graph=not detach_for_d)
        if step_d:
            opt_d.step()
        return d_loss

    def g_phase() -> Tensor:
        if zero_g and not zero_g_first:
            opt_g.zero_grad()
        lf = D(x_fake.detach() if g_on_detached else x_fake)
        g_loss = _g_step_loss(lf, g_loss_kind, sigmoid_g)
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
    "D's step: opt_d.zero_grad(), x_fake = G(z), d_loss on D(x_real) (label 1) and "
    "D(x_fake.detach()) (label 0), d_loss.backward(), opt_d.step(); then G's step: "
    "opt_g.zero_grad(), g_loss = BCE of D(x_fake) against label 1 with the updated "
    "D, g_loss.backward(), opt_g.step()."
)
_SIGMOID_STEP = (
    "a sigmoid was applied to D's logits before a with-logits loss, so the loss "
    "sees sigmoid(sigmoid(l))"
)

# Each wrong step is replayed on fresh networks; the first whose parameters (and
# whether G got a gradient) match the learner's names the mistake.
_STEP_MISTAKES = (
    Mistake(
        functools.partial(_wrong_step, zero_d=False),
        "D's update includes gradients left over from before the step: "
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
        "G's update also contains the gradient of D's loss: the fakes were not "
        "detached in D's step, and G's gradients were cleared before it, not after",
        "detach the fakes for D's loss, D(x_fake.detach()), or call "
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
        "G did not change and D was updated twice: G's step calls opt_d.step() "
        "instead of opt_g.step()",
        "G's step updates G only: opt_g.step() after g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, step_d=False),
        "D did not change: opt_d.step() is missing, or the gradients were cleared "
        "between d_loss.backward() and opt_d.step()",
        "the order is opt_d.zero_grad(), d_loss.backward(), opt_d.step().",
    ),
    Mistake(
        functools.partial(_wrong_step, step_d_again=True),
        "D was updated again during G's step (opt_d.step() after g_loss.backward())",
        "g_loss.backward() also fills D's .grad, but in G's step only opt_g.step() "
        "may follow: D is updated once, in its own step.",
    ),
    Mistake(
        functools.partial(_wrong_step, g_first=True),
        "G's update used a stale D, as it was before D's update (G updated first, "
        "or G's loss computed before opt_d.step())",
        "update D first, then compute G's loss with a new call D(x_fake), so that "
        "G learns from the updated discriminator.",
    ),
    Mistake(
        functools.partial(_wrong_step, swap_d_labels=True),
        "D's labels are swapped (real scored as fake and fake as real)",
        "D's loss is BCE(D(x_real), 1) + BCE(D(x_fake.detach()), 0).",
    ),
    Mistake(
        functools.partial(_wrong_step, g_loss_kind="saturating"),
        "G minimises the saturating loss mean log(1 - D(G(z))) of the minimax game",
        "use the non-saturating loss, BCE of D(x_fake) against the *real* label 1 "
        "(mean softplus(-logits)): log(1 - D) has almost no gradient exactly when "
        "D rejects the fakes, early in training.",
    ),
    Mistake(
        functools.partial(_wrong_step, g_loss_kind="fake label"),
        "G's loss labels its samples as fake (label 0, D's target)",
        "G wants D to call its samples real: BCE of D(x_fake) against label 1.",
    ),
    Mistake(
        functools.partial(_wrong_step, sigmoid_d=True, sigmoid_g=True),
        _SIGMOID_STEP,
        _SIGMOID_TWICE,
    ),
    Mistake(
        functools.partial(_wrong_step, sigmoid_d=True), _SIGMOID_STEP, _SIGMOID_TWICE
    ),
    Mistake(
        functools.partial(_wrong_step, sigmoid_g=True), _SIGMOID_STEP, _SIGMOID_TWICE
    ),
    Mistake(
        functools.partial(_wrong_step, d_scale=0.5),
        "D's update is half the expected one: its loss was halved",
        "here D's loss is the sum of the two means (real term + fake term), no "
        "factor 1/2.",
    ),
    Mistake(
        functools.partial(_wrong_step, d_concat=True),
        "D's loss averages real and fake terms together over N + M samples",
        "take the mean of each term separately, then add the two means.",
    ),
)


@dataclass(frozen=True)
class _StepCase:
    name: str
    seed: int
    n_real: int
    n_fake: int
    squeeze: bool


_STEP_CASES = (
    _StepCase(
        "batches of 5 real and 3 fake samples, D(x) of shape (N, 1)", 60, 5, 3, False
    ),
    _StepCase(
        "batches of 4 real and 4 fake samples, D(x) of shape (N,)", 61, 4, 4, True
    ),
)


def _step_setup(case: _StepCase) -> tuple[Any, ...]:
    """Fresh G, D, SGD optimisers with junk in every .grad, and the inputs: the
    same values on every call."""
    gen = torch.Generator().manual_seed(case.seed)
    G, D = _TinyG(), _TinyD(case.squeeze)
    init_networks(gen, G, D)
    x_real = torch.rand(case.n_real, _X_DIM, generator=gen) * 2 - 1
    z = torch.randn(case.n_fake, _Z_DIM, generator=gen)
    opt_g = torch.optim.SGD(G.parameters(), lr=_LR_G)
    opt_d = torch.optim.SGD(D.parameters(), lr=_LR_D)
    return G, D, opt_g, opt_d, x_real, z


check_train_step = StepCheck(
    reference=train_step,
    setup=_step_setup,
    cases=_STEP_CASES,
    mistakes=_STEP_MISTAKES,
    errors=STEP_ERRORS,
    step_hint=_STEP_HINT,
    d_what="the GAN discriminator's loss",
    d_hint="D's loss is mean BCE(D(x_real), 1) + mean BCE(D(x_fake.detach()), 0), "
    "and nothing else may step D.",
    g_what="the non-saturating generator loss",
    g_hint="G's loss is mean BCE(D(x_fake), 1) = mean softplus(-logits), D called "
    "after its update.",
)


# ---------------------------------------------------------------------------
EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch01.d_loss",
            signature="d_loss(logits_real, logits_fake) -> scalar tensor",
            reference=losses.d_minimax,
            check_fn=check_d_loss,
            solution=(losses._flat, losses.d_minimax),
        ),
        Exercise(
            id="ch01.g_loss_nonsaturating",
            signature="g_loss_nonsaturating(logits_fake) -> scalar tensor",
            reference=losses.g_nonsaturating,
            check_fn=check_g_loss_nonsaturating,
            solution=(losses._flat, losses.g_nonsaturating),
        ),
        Exercise(
            id="ch01.optimal_logit",
            signature="optimal_logit(x, mu_data, mu_g, sigma) -> tensor of the "
            "shape of x",
            reference=optimal_logit,
            check_fn=check_optimal_logit,
        ),
        Exercise(
            id="ch01.dcgan_up_block",
            signature="dcgan_up_block(in_ch, out_ch) -> nn.Module",
            reference=blocks.up_block,
            check_fn=check_dcgan_up_block,
        ),
        Exercise(
            id="ch01.train_step",
            signature="train_step(G, D, opt_g, opt_d, x_real, z) -> (d_loss, "
            "g_loss), G(z) -> samples, D(x) -> logits (N,) or (N, 1)",
            reference=train_step,
            check_fn=check_train_step,
            solution=(
                losses._flat,
                losses.d_minimax,
                losses.g_nonsaturating,
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
            id="ch01.optimal_d",
            signature="optimal_d(p_data, p_g) -> tensor of the same shape",
            reference=optimal_d,
            check_fn=check_optimal_d,
            retired="it copied the formula printed just above it; "
            "ch01.optimal_logit asks you to derive D* for two Gaussians instead",
        ),
    )
}


# Predict-then-run questions (see gancourse.homework.predictions): the run after
# the question answers it, so no choice is marked as right here.
PREDICTIONS = {
    p.id: p
    for p in (
        Prediction(
            id="ch01.bce_confident_gradient",
            question="D gives a fake sample the logit 40, a confident mistake; with "
            "nn.Sigmoid() followed by nn.BCELoss(), what gradient reaches that logit?",
            choices={
                "a": "about 1, the same as the softplus loss gives",
                "b": "NaN or infinity",
                "c": "exactly 0",
            },
        ),
    )
}
