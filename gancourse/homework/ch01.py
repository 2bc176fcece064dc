"""Chapter 1 exercises: the vanilla GAN losses, the optimal discriminator, DCGAN.

Each exercise is a reference answer (from the package where one exists) plus a check
function that raises :class:`~gancourse.homework._checker.Failure` at the first
problem. ``EXERCISES`` at the bottom registers them under their ids.
"""

from __future__ import annotations

from collections.abc import Callable
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
from gancourse.homework.predictions import Prediction
from gancourse.nn import blocks

__all__ = ["EXERCISES", "PREDICTIONS", "optimal_d"]


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
            id="ch01.optimal_d",
            signature="optimal_d(p_data, p_g) -> tensor of the same shape",
            reference=optimal_d,
            check_fn=check_optimal_d,
        ),
        Exercise(
            id="ch01.dcgan_up_block",
            signature="dcgan_up_block(in_ch, out_ch) -> nn.Module",
            reference=blocks.up_block,
            check_fn=check_dcgan_up_block,
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
