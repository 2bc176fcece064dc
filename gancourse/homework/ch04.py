"""Chapter 4 exercises: Pix2Pix (Isola et al. 2017). The receptive field of a
PatchGAN discriminator, the two Pix2Pix losses over patch logits, and one Pix2Pix
training step assembled from networks and optimisers.

Each exercise is a reference answer, written as a learner would write it, plus a
check function that raises :class:`~gancourse.homework._checker.Failure` at the
first problem. ``EXERCISES`` at the bottom registers them under their ids.

``receptive_field(kernel_sizes, strides) -> int`` returns a plain number: its check
runs the learner's function on every case first, then names a known mistake only
if the learner's answers equal that mistake's on *all* cases (and differ from the
reference on at least one).

The losses take PatchGAN logits of shape ``(N, 1, H', W')``, one per patch, and
are checked value and gradient by
:func:`~gancourse.homework._checker.check_scalar_loss`. ``pix2pix_g_loss`` also
takes the weight ``lambda_l1`` (default 100, the paper's λ); its cases bind a
different λ each (and one omits it, to check the default), and the target image
is data: it is passed without ``requires_grad``.

The training step is ``train_step(G, D, opt_g, opt_d, x_src, x_real,
lambda_l1=100.0) -> (d_loss, g_loss)``, in the order of chapters 1 to 3: the
networks, their optimisers, then the batch (the source images ``x_src`` and their
targets ``x_real``, ``(N, C, H, W)`` in ``[-1, 1]``) and λ. ``G(x_src)`` returns
the fakes; ``D`` judges a *pair*, ``D(torch.cat([x_src, x], dim=1))``, and returns
patch logits ``(N, 1, H', W')``. The check is
:class:`~gancourse.homework._steps.StepCheck` (tiny seeded networks, SGD, junk in
every ``.grad``, parameters compared after the step, known wrong steps replayed to
name the mistake); this module holds only the networks, the reference step and
the catalogue of wrong steps.
"""

from __future__ import annotations

import functools
import math
import numbers
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gancourse.homework._checker import (
    Case,
    Exercise,
    Failure,
    Mistake,
    call_learner,
    check_scalar_loss,
)
from gancourse.homework._steps import STEP_ERRORS, StepCheck, init_networks
from gancourse.homework.predictions import Prediction

__all__ = [
    "EXERCISES",
    "PREDICTIONS",
    "pix2pix_d_loss",
    "pix2pix_g_loss",
    "receptive_field",
    "train_step",
]


def _call(
    fn: Callable[..., Any],
    args: Sequence[Any],
    name: str,
    case_hint: str = "",
) -> Any:
    """``fn(*args)``; a learner exception becomes ``"on <name>, ..."``."""
    try:
        return call_learner(fn, *args)
    except Failure as exc:
        raise Failure(f"on {name}, {exc.message}", case_hint or exc.hint) from None


# ---------------------------------------------------------------------------
# ch04.receptive_field
# ---------------------------------------------------------------------------
def receptive_field(kernel_sizes: Sequence[int], strides: Sequence[int]) -> int:
    """The receptive field, in input pixels along one axis, of one output unit of
    a stack of convolutions (no dilation), first layer first.

    ``r = 1 + sum_l (k_l - 1) * s_1 * ... * s_{l-1}``: layer ``l`` widens the
    field by ``k_l - 1`` of its own input steps, and one step of its input is
    ``s_1 * ... * s_{l-1}`` input pixels (the product of the strides *before* it).
    Padding moves the field but does not change its size, and a stride larger
    than the next kernel leaves holes inside it (``r`` is the extent). The
    70 x 70 PatchGAN (Isola et al. 2017, section 3.2.2), with the kernels
    ``(4, 4, 4, 4, 4)`` and strides ``(2, 2, 2, 1, 1)`` of the authors' code, has
    ``r = 1 + 3 * (1 + 2 + 4 + 8 + 8) = 70``.
    """
    r = 1
    jump = 1  # input pixels between neighbouring inputs of the current layer
    for k, s in zip(kernel_sizes, strides):
        r += (k - 1) * jump
        jump *= s
    return r


@dataclass(frozen=True)
class _RFCase:
    name: str
    kernel_sizes: tuple[int, ...]
    strides: tuple[int, ...]
    as_list: bool = False

    @property
    def args(self) -> tuple[Any, Any]:
        """Fresh copies of the inputs, as lists or tuples."""
        kind = list if self.as_list else tuple
        return kind(self.kernel_sizes), kind(self.strides)


def _rf_cases() -> list[_RFCase]:
    rng = random.Random(40)
    cases = [
        _RFCase(
            "PatchGAN's 70 x 70 discriminator", (4,) * 5, (2, 2, 2, 1, 1), as_list=True
        ),
        _RFCase("the 16 x 16 PatchGAN", (4, 4, 4), (2, 1, 1), as_list=True),
        _RFCase(
            "the 286 x 286 ImageGAN", (4,) * 7, (2, 2, 2, 2, 2, 1, 1), as_list=True
        ),
        _RFCase("the 1 x 1 PixelGAN", (1, 1, 1), (1, 1, 1)),
        _RFCase("a single 3 x 3 convolution with stride 2", (3,), (2,)),
    ]
    for i in range(8):
        depth = rng.randint(2, 6)
        ks = tuple(rng.randint(1, 7) for _ in range(depth))
        ss = tuple(rng.randint(1, 3) for _ in range(depth))
        cases.append(
            _RFCase(f"kernels {ks} and strides {ss}", ks, ss, as_list=i % 2 == 0)
        )
    return cases


_RF_HINT = (
    "r = 1 + sum over layers l of (k_l - 1) * (s_1 * ... * s_{l-1}): start at r = 1 "
    "and jump = 1, then for each layer, first to last, r += (k - 1) * jump and then "
    "jump *= s (PatchGAN's 4x4 kernels with strides 2, 2, 2, 1, 1 give 70)."
)


def _rf_ignore_strides(ks: Sequence[int], ss: Sequence[int]) -> int:
    return 1 + sum(k - 1 for k in ks)


def _rf_own_stride(ks: Sequence[int], ss: Sequence[int]) -> int:
    return 1 + sum((k - 1) * math.prod(ss[: i + 1]) for i, k in enumerate(ks))


_RF_MISTAKES = (
    Mistake(
        _rf_ignore_strides,
        "the strides are ignored: 1 + sum of (k - 1) is the receptive field of "
        "stride-1 layers only",
        "after a stride-s layer, one step of the next layer's input is s pixels "
        "further apart: weight each layer's k - 1 by the product of the strides "
        "of the layers before it. " + _RF_HINT,
    ),
    Mistake(
        _rf_own_stride,
        "each layer's k - 1 is multiplied by the strides up to and including its own",
        "a layer's own stride spaces its *outputs*, not the inputs its kernel "
        "covers: use the product of the strides of the layers before it (1 for "
        "the first layer). " + _RF_HINT,
    ),
    Mistake(
        lambda ks, ss: receptive_field(list(ks)[::-1], list(ss)[::-1]),
        "the layers are taken last first",
        "kernel_sizes and strides list the first layer first; with the recursion "
        "r = (r - 1) * s + k (one output unit backwards, r starting at 1) go from "
        "the *last* layer to the first. " + _RF_HINT,
    ),
    Mistake(
        lambda ks, ss: receptive_field(ks, ss) - 1,
        "this is one less than the receptive field: the +1 is missing",
        "a stack of 1 x 1 convolutions sees one pixel, so start from r = 1: "
        "r = 1 + sum_l (k_l - 1) * (s_1 * ... * s_{l-1}).",
    ),
    Mistake(
        lambda ks, ss: float(receptive_field(ks, ss)),
        "the value is right but it is a float; a receptive field counts pixels",
        "return an int: np.prod([]) is 1.0 and / always gives a float, so keep "
        "integers throughout (math.prod, *, //) or return int(r).",
    ),
)


def _rf_number(out: Any, what: str) -> int | float:
    """The learner's answer as a Python int, or as a float when it is one."""
    if isinstance(out, Tensor) and out.numel() == 1 and out.dtype != torch.bool:
        return out.item()
    if isinstance(out, bool) or not isinstance(out, numbers.Real):
        kind = "None" if out is None else f"a {type(out).__name__}"
        raise Failure(
            f"{what} is {kind}, expected an int",
            "did you forget the `return` statement?"
            if out is None
            else "return one number, the width in input pixels: an int.",
        )
    if isinstance(out, numbers.Integral):
        return int(out)
    return float(out)


def _rf_same(got: int | float, want: Any) -> bool:
    """``got`` matches ``want`` in value, and is a float where ``want`` is one."""
    if isinstance(want, float) and not isinstance(got, float):
        return False
    return got == want


def check_receptive_field(fn: Callable[..., Any]) -> None:
    """``fn(kernel_sizes, strides)`` must equal :func:`receptive_field`, an int,
    on every case."""
    cases = _rf_cases()
    outs: list[int | float] = []
    for case in cases:
        ks, ss = case.args
        out = _call(fn, (ks, ss), case.name)
        if (tuple(ks), tuple(ss)) != (case.kernel_sizes, case.strides):
            raise Failure(
                "your function modified kernel_sizes or strides in place (for "
                "example with .reverse())",
                "leave the inputs unchanged: iterate over them, or over reversed("
                "...) copies.",
            )
        outs.append(_rf_number(out, f"the result for {case.name}"))
    wants = [receptive_field(*c.args) for c in cases]
    # right: the same value, as an int
    wrong = [
        i for i, (g, w) in enumerate(zip(outs, wants)) if isinstance(g, float) or g != w
    ]
    if not wrong:
        return
    for mistake in _RF_MISTAKES:
        if all(_rf_same(g, mistake.fn(*c.args)) for g, c in zip(outs, cases)):
            raise Failure(mistake.message, mistake.hint)
    i = wrong[0]
    if outs[i] == wants[i]:
        raise Failure(
            f"the receptive field of {cases[i].name} is right but a float "
            f"({outs[i]!r})",
            _RF_MISTAKES[-1].hint,
        )
    raise Failure(
        f"the receptive field of {cases[i].name} is wrong (got {outs[i]!r}, "
        f"expected {wants[i]})",
        _RF_HINT,
    )


# ---------------------------------------------------------------------------
# The Pix2Pix losses: shared pieces
# ---------------------------------------------------------------------------
_UNSTABLE = (
    "log(sigmoid(l)) underflows to log(0) = -inf for large |l| (and nn.BCELoss "
    "clamps it at -100): feed the raw patch logits to "
    "F.binary_cross_entropy_with_logits (or F.softplus), which is exact there."
)
_SIGMOID_TWICE = (
    "you applied a sigmoid before a with-logits loss: logits go straight into "
    "F.binary_cross_entropy_with_logits / F.softplus, which apply the sigmoid "
    "themselves."
)
_PATCH_MEAN = (
    "PatchGAN's D gives one logit per patch, (N, 1, H', W'): every patch is a "
    "sample, so take the mean over all of them (.mean() with no dim, or "
    "F.binary_cross_entropy_with_logits' default reduction), over the batch and "
    "the patch grid alike."
)


def _bce(logits: Tensor, label: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def _per_image_sum(x: Tensor) -> Tensor:
    """Sum over each image's patches, then the mean over the batch."""
    return x.flatten(1).sum(dim=1).mean()


def _first_patch(logits: Tensor) -> Tensor:
    return logits[:, 0, 0, 0]


def _patch_logits(gen: torch.Generator, *shape: int, shift: float = 0.0) -> Tensor:
    return 2.0 * torch.randn(*shape, generator=gen) + shift


_BIG = torch.tensor([30.0, -30.0, 100.0, -100.0, 200.0, -200.0, 3.0, 0.5]).view(
    2, 1, 2, 2
)


# ---------------------------------------------------------------------------
# ch04.pix2pix_d_loss
# ---------------------------------------------------------------------------
def pix2pix_d_loss(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """What Pix2Pix's discriminator minimises (Isola et al. 2017, eq. 1 and
    section 3.3): half of ``BCE(real pairs as real) + BCE(fake pairs as fake)``.

    ``logits_real = D(x_src, x_real)`` and ``logits_fake = D(x_src, x_fake)`` are
    PatchGAN logits of shape ``(N, 1, H', W')``, one per patch; each BCE is a mean
    over all of them. The paper divides D's objective by 2 "while optimizing D,
    which slows down the rate at which D learns relative to G"; chapter 1's
    ``d_loss`` has no ½. Returns a scalar ``>= 0``, ``log 2`` when D outputs 1/2
    everywhere.
    """
    loss_real = F.binary_cross_entropy_with_logits(
        logits_real, torch.ones_like(logits_real)
    )
    loss_fake = F.binary_cross_entropy_with_logits(
        logits_fake, torch.zeros_like(logits_fake)
    )
    return 0.5 * (loss_real + loss_fake)


def _d_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(41)
    return [
        # first: N > 1 and a non-square grid, where every mistake differs from
        # the reference and from each other
        Case(
            "patch logits of shape (3, 1, 4, 5)",
            (
                _patch_logits(gen, 3, 1, 4, 5, shift=0.5),
                _patch_logits(gen, 3, 1, 4, 5, shift=-0.5),
            ),
        ),
        Case(
            "patch logits of shape (2, 1, 6, 6)",
            (_patch_logits(gen, 2, 1, 6, 6), _patch_logits(gen, 2, 1, 6, 6)),
        ),
        Case(
            "one image (N = 1), patch logits of shape (1, 1, 3, 3)",
            (_patch_logits(gen, 1, 1, 3, 3), _patch_logits(gen, 1, 1, 3, 3)),
            hint="with batch size 1 (the paper's facades setting) the mean is over "
            "the H' x W' patches of the one image.",
        ),
        Case(
            "large patch logits such as ±30, ±100, ±200",
            (_BIG.clone(), -_BIG),
            extreme=True,
        ),
    ]


_D_HINT = (
    "D minimises 0.5 * (BCE(logits_real, 1) + BCE(logits_fake, 0)), each BCE a "
    "mean over all patch logits (Isola et al. 2017, eq. 1, halved as in section "
    "3.3): 0.5 * (softplus(-logits_real).mean() + softplus(logits_fake).mean())."
)


def _d_plain(lr: Tensor, lf: Tensor) -> Tensor:
    return F.softplus(-lr).mean() + F.softplus(lf).mean()


_D_MISTAKES = (
    Mistake(
        _d_plain,
        "this is twice the expected value: the ½ is missing (this is chapter 1's "
        "d_loss)",
        "the Pix2Pix paper halves D's objective (section 3.3: it slows D down "
        "relative to G): return 0.5 * (BCE(real as real) + BCE(fake as fake)).",
    ),
    Mistake(
        lambda lr, lf: 0.5 * (F.softplus(-lr).sum() + F.softplus(lf).sum()),
        "these are sums over all patches, not means",
        _PATCH_MEAN,
    ),
    Mistake(
        lambda lr, lf: F.softplus(-lr).sum() + F.softplus(lf).sum(),
        "these are sums over all patches, not means, and the ½ is missing",
        _PATCH_MEAN + " Then halve the sum of the two terms.",
    ),
    Mistake(
        lambda lr, lf: (
            0.5 * (_per_image_sum(F.softplus(-lr)) + _per_image_sum(F.softplus(lf)))
        ),
        "each image's patch losses are summed, then averaged over the batch",
        _PATCH_MEAN,
    ),
    Mistake(
        lambda lr, lf: 0.5 * (F.softplus(lr).mean() + F.softplus(-lf).mean()),
        "the labels are swapped (real pairs scored as fake and fake pairs as real)",
        "D wants D(x_src, x_real) -> 1 and D(x_src, x_fake) -> 0: label 1 for "
        "logits_real, label 0 for logits_fake.",
    ),
    Mistake(
        lambda lr, lf: (
            0.5 * (_bce(torch.sigmoid(lr), 1.0) + _bce(torch.sigmoid(lf), 0.0))
        ),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda lr, lf: 0.5 * _d_plain(_first_patch(lr), _first_patch(lf)),
        "only one patch per image is scored (logits[:, 0, 0, 0])",
        "score every patch, not one per image: " + _PATCH_MEAN,
    ),
    Mistake(
        lambda lr, lf: 0.5 * _d_plain(lr.mean(dim=(1, 2, 3)), lf.mean(dim=(1, 2, 3))),
        "the patch logits are averaged per image before the loss: the BCE of the "
        "mean logit is not the mean of the patches' BCEs",
        "score every patch, then average the losses: " + _PATCH_MEAN,
    ),
    Mistake(
        lambda lr, lf: -0.5 * _d_plain(lr, lf),
        "the sign is flipped: this is the objective D maximises, "
        "½ (log D(x, y) + log(1 - D(x, G(x))))",
        "the loss to minimise is its negative: " + _D_HINT,
    ),
    Mistake(
        lambda lr, lf: 0.5 * (F.relu(1 - lr).mean() + F.relu(1 + lf).mean()),
        "this is the hinge loss (SAGAN, BigGAN), not Pix2Pix's cross-entropy",
        _D_HINT,
    ),
    Mistake(
        lambda lr, lf: F.relu(1 - lr).mean() + F.relu(1 + lf).mean(),
        "this is the hinge loss (SAGAN, BigGAN), not Pix2Pix's cross-entropy",
        _D_HINT,
    ),
    Mistake(
        lambda lr, lf: 0.5 * (((lr - 1) ** 2).mean() + (lf**2).mean()),
        "this is the least-squares (LSGAN) loss, which CycleGAN uses; Pix2Pix "
        "uses the cross-entropy",
        _D_HINT,
    ),
    Mistake(
        lambda lr, lf: 0.5 * F.softplus(-lr).mean(),
        "only the real term is there",
        "add the fake term, BCE(logits_fake, 0) = softplus(logits_fake).mean(), "
        "then halve the sum.",
    ),
    Mistake(
        lambda lr, lf: 0.5 * F.softplus(lf).mean(),
        "only the fake term is there",
        "add the real term, BCE(logits_real, 1) = softplus(-logits_real).mean(), "
        "then halve the sum.",
    ),
)


def check_pix2pix_d_loss(fn: Callable[..., Any]) -> None:
    """``fn(logits_real, logits_fake)`` must equal :func:`pix2pix_d_loss`, value
    and gradients."""
    check_scalar_loss(
        fn,
        pix2pix_d_loss,
        _d_cases(),
        ("logits_real", "logits_fake"),
        _D_MISTAKES,
        wrong_hint=_D_HINT,
        unstable_hint=_UNSTABLE,
    )


# ---------------------------------------------------------------------------
# ch04.pix2pix_g_loss
# ---------------------------------------------------------------------------
LAMBDA_L1 = 100.0  # the λ of Isola et al. 2017's experiments and of their code


def pix2pix_g_loss(
    logits_fake: Tensor, x_fake: Tensor, x_target: Tensor, lambda_l1: float = 100.0
) -> Tensor:
    """What Pix2Pix's generator minimises (Isola et al. 2017, eq. 3-4):
    ``BCE(fake pairs as real) + lambda_l1 * mean |x_fake - x_target|``.

    ``logits_fake = D(x_src, x_fake)`` are PatchGAN logits ``(N, 1, H', W')``;
    the adversarial term is the non-saturating one (BCE against label 1, chapter
    1), a mean over all patches. ``x_fake`` and ``x_target`` are ``(N, C, H, W)``
    images in ``[-1, 1]``; the L1 term is a mean over all pixels and channels.
    The paper uses ``lambda_l1 = 100``. Returns a scalar ``>= 0``.
    """
    loss_gan = F.binary_cross_entropy_with_logits(
        logits_fake, torch.ones_like(logits_fake)
    )
    loss_l1 = (x_fake - x_target).abs().mean()
    return loss_gan + lambda_l1 * loss_l1


@dataclass(frozen=True)
class _GCase:
    """A loss case plus the λ to pass (``None``: omit it, use the default)."""

    case: Case
    lambda_l1: float | None


def _images(gen: torch.Generator, *shape: int) -> tuple[Tensor, Tensor]:
    """``x_fake`` and ``x_target`` in ``[-1, 1]``, 0.1 to 0.6 apart at every
    pixel, so that no pixel sits at the kink of ``|x_fake - x_target|``."""
    x_fake = torch.tanh(1.5 * torch.randn(*shape, generator=gen))
    gap = 0.1 + 0.5 * torch.rand(*shape, generator=gen)
    gap = torch.where(torch.rand(*shape, generator=gen) < 0.5, gap, -gap)
    x_target = x_fake + gap
    x_target = torch.where(x_target.abs() > 1, x_fake - gap, x_target)
    return x_fake, x_target


def _g_cases() -> list[_GCase]:
    gen = torch.Generator().manual_seed(42)

    def args(n: int, c: int, hw: tuple[int, int], grid: tuple[int, int]) -> tuple:
        return (_patch_logits(gen, n, 1, *grid), *_images(gen, n, c, *hw))

    return [
        # first: λ = 10, N > 1, a non-square grid, where every mistake differs
        # from the reference and from each other
        _GCase(
            Case(
                "lambda_l1 = 10, logits (3, 1, 2, 3) and images (3, 3, 6, 6)",
                args(3, 3, (6, 6), (2, 3)),
            ),
            10.0,
        ),
        _GCase(
            Case(
                "lambda_l1 left at its default, logits (2, 1, 3, 3) and images "
                "(2, 3, 5, 4)",
                args(2, 3, (5, 4), (3, 3)),
                hint="called without lambda_l1, the loss must use the paper's "
                "λ = 100: def pix2pix_g_loss(logits_fake, x_fake, x_target, "
                "lambda_l1=100.0).",
            ),
            None,
        ),
        _GCase(
            Case(
                "lambda_l1 = 0.5, one image (N = 1), logits (1, 1, 4, 4) and images "
                "(1, 1, 8, 8)",
                args(1, 1, (8, 8), (4, 4)),
            ),
            0.5,
        ),
        _GCase(
            Case(
                "lambda_l1 = 100 and large patch logits such as ±30, ±100, ±200",
                (_BIG.clone(), *_images(gen, 2, 3, 4, 4)),
                extreme=True,
            ),
            100.0,
        ),
    ]


_G_HINT = (
    "G minimises BCE(logits_fake, 1) + lambda_l1 * mean |x_fake - x_target| "
    "(Isola et al. 2017, eq. 4): softplus(-logits_fake).mean() + lambda_l1 * "
    "(x_fake - x_target).abs().mean(), both means over all elements."
)


def _g_gan(lf: Tensor) -> Tensor:
    return F.softplus(-lf).mean()


def _l1(xf: Tensor, xt: Tensor) -> Tensor:
    return (xf - xt).abs().mean()


_G_MISTAKES = (
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(lf) + lam * ((xf - xt) ** 2).mean(),
        "the reconstruction term is the L2 (squared) error, not L1",
        "Pix2Pix uses L1 because it blurs less than L2 (Isola et al. 2017, "
        "section 3.1): lambda_l1 * (x_fake - x_target).abs().mean().",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(lf) + LAMBDA_L1 * _l1(xf, xt),
        "lambda_l1 is ignored: the L1 term is always weighted by 100",
        "multiply the L1 term by the argument lambda_l1 (100 is only its default).",
    ),
    Mistake(
        lambda lf, xf, xt, lam: lam * _g_gan(lf) + _l1(xf, xt),
        "lambda_l1 weights the adversarial term instead of the L1 term",
        "λ weights the L1 term (eq. 4): BCE(logits_fake, 1) + lambda_l1 * L1.",
    ),
    Mistake(
        lambda lf, xf, xt, lam: F.softplus(-lf).sum() + lam * _l1(xf, xt),
        "the adversarial term is a sum over all patches, not a mean",
        _PATCH_MEAN,
    ),
    Mistake(
        lambda lf, xf, xt, lam: _per_image_sum(F.softplus(-lf)) + lam * _l1(xf, xt),
        "the adversarial term sums each image's patch losses, then averages over "
        "the batch",
        _PATCH_MEAN,
    ),
    Mistake(
        lambda lf, xf, xt, lam: F.softplus(lf).mean() + lam * _l1(xf, xt),
        "the adversarial term labels G's pairs as fake (label 0, D's target)",
        "G wants D to call its pairs real: BCE of logits_fake against label 1 "
        "(torch.ones_like).",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _bce(torch.sigmoid(lf), 1.0) + lam * _l1(xf, xt),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda lf, xf, xt, lam: -F.softplus(lf).mean() + lam * _l1(xf, xt),
        "the adversarial term is the saturating minimax loss mean log(1 - D(x, G(x)))",
        "use the non-saturating term of chapter 1, BCE of logits_fake against the "
        "*real* label 1 (softplus(-logits_fake).mean()): log(1 - D) has almost no "
        "gradient while D rejects the fakes.",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(lf) + lam * (xf - xt).abs().sum(),
        "the L1 term is a sum over all pixels, not a mean",
        "average |x_fake - x_target| over all elements: .abs().mean() or "
        "F.l1_loss(x_fake, x_target), whose default reduction is the mean "
        "(λ = 100 is chosen for a mean).",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(lf) + lam * (xf - xt).mean(),
        "the L1 term has no absolute value: positive and negative errors cancel",
        "L1 is the mean of |x_fake - x_target|: (x_fake - x_target).abs().mean().",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(lf),
        "the L1 term is missing: this is only the adversarial term",
        "add lambda_l1 * (x_fake - x_target).abs().mean(), which ties the output "
        "to its target.",
    ),
    Mistake(
        lambda lf, xf, xt, lam: lam * _l1(xf, xt),
        "the adversarial term is missing: this is the L1 term alone",
        "add BCE(logits_fake, 1) = softplus(-logits_fake).mean(): without it the "
        "outputs are blurry averages.",
    ),
    Mistake(
        lambda lf, xf, xt, lam: _g_gan(_first_patch(lf)) + lam * _l1(xf, xt),
        "only one patch per image is scored (logits_fake[:, 0, 0, 0])",
        "score every patch, not one per image: " + _PATCH_MEAN,
    ),
    Mistake(
        lambda lf, xf, xt, lam: 0.5 * _g_gan(lf) + lam * _l1(xf, xt),
        "the adversarial term is halved",
        "only D's objective is halved (section 3.3); G's loss is BCE(logits_fake, "
        "1) + lambda_l1 * L1.",
    ),
)


def _bind_lambda(fn: Callable[..., Any], lambda_l1: float | None) -> Callable[..., Any]:
    """``fn(lf, xf, xt)`` calling ``fn(lf, xf, xt, lambda_l1)``, or omitting λ
    when ``lambda_l1`` is ``None``."""

    def bound(lf: Tensor, xf: Tensor, xt: Tensor) -> Any:
        if lambda_l1 is None:
            return fn(lf, xf, xt)
        return fn(lf, xf, xt, lambda_l1)

    return bound


def check_pix2pix_g_loss(fn: Callable[..., Any]) -> None:
    """``fn(logits_fake, x_fake, x_target, lambda_l1=100.0)`` must equal
    :func:`pix2pix_g_loss`, value and gradients w.r.t. ``logits_fake`` and
    ``x_fake``, for several λ and with λ omitted."""
    for g_case in _g_cases():
        lam = LAMBDA_L1 if g_case.lambda_l1 is None else g_case.lambda_l1
        check_scalar_loss(
            _bind_lambda(fn, g_case.lambda_l1),
            _bind_lambda(pix2pix_g_loss, lam),
            [g_case.case],
            ("logits_fake", "x_fake", "x_target"),
            [Mistake(_bind_lambda(m.fn, lam), m.message, m.hint) for m in _G_MISTAKES],
            wrong_hint=g_case.case.hint or _G_HINT,
            unstable_hint=_UNSTABLE,
            data=("x_target",),
        )


# ---------------------------------------------------------------------------
# ch04.train_step
# ---------------------------------------------------------------------------
_C, _HW = 2, 4  # channels of x_src and of x; image side
_LR_D, _LR_G = 0.5, 0.5  # plain SGD: each update is proportional to its gradient


class _TinyG(nn.Module):
    """``G(x_src (N, 2, 4, 4)) -> x_fake (N, 2, 4, 4)`` in (-1, 1). No dropout
    or BatchNorm, so the step is deterministic and samples do not interact."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(_C, 3, 3, padding=1),
            nn.Tanh(),
            nn.Conv2d(3, _C, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, x_src: Tensor) -> Tensor:
        return self.net(x_src)


class _TinyD(nn.Module):
    """``D(cat([x_src, x], 1) (N, 4, 4, 4)) -> patch logits (N, 1, 2, 2)``.

    No BatchNorm: samples do not interact, so a learner may score real and fake
    pairs in one call or two.
    """

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(2 * _C, 3, 3),  # (N, 4, 4, 4) -> (N, 3, 2, 2)
            nn.LeakyReLU(0.2),
            nn.Conv2d(3, 1, 1),  # (N, 3, 2, 2) -> (N, 1, 2, 2)
        )

    def forward(self, pair: Tensor) -> Tensor:
        return self.net(pair)


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_src: Tensor,
    x_real: Tensor,
    lambda_l1: float = 100.0,
) -> tuple[Tensor, Tensor]:
    """One Pix2Pix update of D, then one of G (Isola et al. 2017, eq. 1-4 and
    section 3.3).

    ``G(x_src)`` makes the fakes; D judges *pairs*, ``D(torch.cat([x_src, x],
    dim=1))`` -> patch logits ``(N, 1, H', W')``. D's step sees the fakes
    detached (it must not reach G) and halves its loss; G's step scores the same
    fakes with the *updated* D and adds ``lambda_l1`` times the L1 distance to
    ``x_real``. Returns ``(d_loss, g_loss)``, detached.
    """
    x_fake = G(x_src)

    # D's step: (x_src, x_real) as real, (x_src, x_fake) as fake, halved
    opt_d.zero_grad()
    logits_real = D(torch.cat([x_src, x_real], dim=1))
    logits_fake = D(torch.cat([x_src, x_fake.detach()], dim=1))
    d_loss = pix2pix_d_loss(logits_real, logits_fake)
    d_loss.backward()
    opt_d.step()

    # G's step: the same fakes, scored by the updated D, plus λ * L1
    opt_g.zero_grad()
    logits_fake = D(torch.cat([x_src, x_fake], dim=1))
    g_loss = pix2pix_g_loss(logits_fake, x_fake, x_real, lambda_l1)
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def _wrong_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_src: Tensor,
    x_real: Tensor,
    lambda_l1: float = 100.0,
    *,
    zero_d: bool = True,
    zero_g: bool = True,
    zero_g_first: bool = False,
    detach_for_d: bool = True,
    g_detached: str = "",
    g_first: bool = False,
    step_d: bool = True,
    step_g: bool = True,
    g_steps_d: bool = False,
    step_d_again: bool = False,
    swap_d_labels: bool = False,
    fake_label_for_g: bool = False,
    fake_paired_with_target: bool = False,
    pair_order_swapped: bool = False,
    d_scale: float = 0.5,
    recon: str = "l1",
    fixed_lambda: float | None = None,
) -> tuple[Tensor, Tensor]:
    """:func:`train_step` with known mistakes switched on by the flags (with no
    flag it is the reference step). ``g_detached``: ``"gan"`` scores detached
    fakes in G's adversarial term, ``"all"`` detaches them in G's whole loss;
    ``recon``: ``"l1"``, ``"l2"``, ``"none"`` or ``"src"`` (L1 to ``x_src``)."""
    lam = lambda_l1 if fixed_lambda is None else fixed_lambda

    def pair(x: Tensor, fake: bool) -> Tensor:
        cond = x_real if fake and fake_paired_with_target else x_src
        return torch.cat([x, cond] if pair_order_swapped else [cond, x], dim=1)

    if zero_g_first:
        opt_g.zero_grad()
    x_fake = G(x_src)

    def d_phase() -> Tensor:
        if zero_d:
            opt_d.zero_grad()
        lr = D(pair(x_real, fake=False))
        lf = D(pair(x_fake.detach() if detach_for_d else x_fake, fake=True))
        if swap_d_labels:
            lr, lf = -lr, -lf  # BCE(l, 0) = BCE(-l, 1)
        d_loss = d_scale * (F.softplus(-lr).mean() + F.softplus(lf).mean())
        d_loss.backward(retain_graph=not detach_for_d)
        if step_d:
            opt_d.step()
        return d_loss

    def g_phase() -> Tensor:
        if zero_g and not zero_g_first:
            opt_g.zero_grad()
        fakes = x_fake.detach() if g_detached else x_fake
        lf = D(pair(fakes, fake=True))
        gan = F.softplus(lf if fake_label_for_g else -lf).mean()
        recon_fakes = fakes if g_detached == "all" else x_fake
        if recon == "l2":
            rec = ((recon_fakes - x_real) ** 2).mean()
        elif recon == "src":
            rec = (recon_fakes - x_src).abs().mean()
        elif recon == "none":
            rec = torch.zeros(())
        else:
            rec = (recon_fakes - x_real).abs().mean()
        g_loss = gan + lam * rec
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
    "x_fake = G(x_src); D's step: opt_d.zero_grad(), d_loss = 0.5 * (BCE(D(cat["
    "x_src, x_real]), 1) + BCE(D(cat[x_src, x_fake.detach()]), 0)), "
    "d_loss.backward(), opt_d.step(); then G's step: opt_g.zero_grad(), g_loss = "
    "BCE(D(cat[x_src, x_fake]), 1) + lambda_l1 * mean |x_fake - x_real| with the "
    "updated D, g_loss.backward(), opt_g.step(); cat along dim=1."
)
_PAIR_HINT = (
    "D judges a pair, the source and an image stacked along the channels: "
    "D(torch.cat([x_src, x], dim=1)) with x = x_real or x_fake (dim=1, not the "
    "batch dimension 0, and never the image alone)."
)
_STEP_ERRORS = (*STEP_ERRORS, ("channels instead", _PAIR_HINT))

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
        "detach the fakes for D's loss, D(torch.cat([x_src, x_fake.detach()], 1)), "
        "or call opt_g.zero_grad() right before g_loss.backward().",
    ),
    Mistake(
        functools.partial(_wrong_step, g_detached="gan"),
        "G learned only from the L1 term: its adversarial term scored detached "
        "fakes, so no gradient came back through D",
        "in G's step call D on the pair with x_fake itself, torch.cat([x_src, "
        "x_fake], 1), not x_fake.detach().",
    ),
    Mistake(
        functools.partial(_wrong_step, g_detached="all"),
        "G did not change: it had no gradient when opt_g.step() ran (its loss was "
        "computed on detached fakes, or opt_g.zero_grad() came after "
        "g_loss.backward())",
        "in G's step use x_fake itself, not x_fake.detach() (nor fakes made under "
        "torch.no_grad()), and keep the order opt_g.zero_grad(), "
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
        "G's update used D as it was before D's update (G updated first, or G's "
        "loss computed before opt_d.step())",
        "update D first, then compute G's loss with a new call D(torch.cat([x_src, "
        "x_fake], 1)), so that G learns from the updated discriminator.",
    ),
    Mistake(
        functools.partial(_wrong_step, swap_d_labels=True),
        "D's labels are swapped (real pairs scored as fake and fake pairs as real)",
        "D's loss is 0.5 * (BCE(D(x_src, x_real), 1) + BCE(D(x_src, x_fake), 0)).",
    ),
    Mistake(
        functools.partial(_wrong_step, fake_label_for_g=True),
        "G's adversarial term labels its pairs as fake (label 0, D's target)",
        "G wants D to call its pairs real: BCE of D(cat[x_src, x_fake]) against "
        "label 1.",
    ),
    Mistake(
        functools.partial(_wrong_step, fake_paired_with_target=True),
        "the fakes are paired with the target x_real instead of the source x_src, "
        "so D never sees what the fake was made from",
        "D is conditioned on the input: the fake pair is torch.cat([x_src, "
        "x_fake], 1), like the real pair torch.cat([x_src, x_real], 1).",
    ),
    Mistake(
        functools.partial(_wrong_step, pair_order_swapped=True),
        "the pairs are stacked image first, source second",
        "D's first channels are the source: torch.cat([x_src, x], dim=1), the same "
        "order for real and fake pairs (and the same as when D is trained later).",
    ),
    Mistake(
        functools.partial(_wrong_step, d_scale=1.0),
        "D's update is twice the expected one: the ½ on D's loss is missing",
        "the paper halves D's objective (section 3.3): d_loss = 0.5 * (BCE_real + "
        "BCE_fake), e.g. pix2pix_d_loss.",
    ),
    Mistake(
        functools.partial(_wrong_step, recon="none"),
        "G's loss has no L1 term: G learned from D alone",
        "add lambda_l1 * (x_fake - x_real).abs().mean() to G's loss (eq. 4).",
    ),
    Mistake(
        functools.partial(_wrong_step, recon="src"),
        "G's L1 term compares the fakes with the source x_src instead of the "
        "target x_real",
        "the L1 term pulls G(x_src) towards its target: (x_fake - x_real).abs()"
        ".mean().",
    ),
    Mistake(
        functools.partial(_wrong_step, recon="l2"),
        "G's reconstruction term is the L2 (squared) error, not L1",
        "use lambda_l1 * (x_fake - x_real).abs().mean() (L1 blurs less, section 3.1).",
    ),
    Mistake(
        functools.partial(_wrong_step, fixed_lambda=100.0),
        "G's L1 term is weighted by 100 whatever lambda_l1 is passed",
        "pass the step's lambda_l1 on: pix2pix_g_loss(logits_fake, x_fake, x_real, "
        "lambda_l1), or multiply by lambda_l1 yourself.",
    ),
)


@dataclass(frozen=True)
class _StepCase:
    name: str
    seed: int
    n: int
    lambda_l1: float


_STEP_CASES = (
    _StepCase("a batch of 3 pairs and lambda_l1 = 10", 70, 3, 10.0),
    _StepCase("a batch of 2 pairs and lambda_l1 = 3", 71, 2, 3.0),
)


def _step_setup(case: _StepCase) -> tuple[Any, ...]:
    """Fresh G, D, SGD optimisers with junk in every .grad, and the inputs: the
    same values on every call."""
    gen = torch.Generator().manual_seed(case.seed)
    G, D = _TinyG(), _TinyD()
    # small weights: with N(0, 0.8²) the tanh units saturate and G's
    # adversarial gradient becomes too small to tell the mistakes apart
    init_networks(gen, G, D, scale=0.3)
    x_src = torch.rand(case.n, _C, _HW, _HW, generator=gen) * 2 - 1
    x_real = torch.rand(case.n, _C, _HW, _HW, generator=gen) * 2 - 1
    opt_g = torch.optim.SGD(G.parameters(), lr=_LR_G)
    opt_d = torch.optim.SGD(D.parameters(), lr=_LR_D)
    return G, D, opt_g, opt_d, x_src, x_real, case.lambda_l1


check_train_step = StepCheck(
    reference=train_step,
    setup=_step_setup,
    cases=_STEP_CASES,
    mistakes=_STEP_MISTAKES,
    errors=_STEP_ERRORS,
    step_hint=_STEP_HINT,
    d_what="Pix2Pix's halved discriminator loss",
    d_hint="D's loss is 0.5 * (BCE(D(cat[x_src, x_real]), 1) + BCE(D(cat[x_src, "
    "x_fake.detach()]), 0)), means over all patches, and nothing else may step D.",
    g_what="Pix2Pix's generator loss",
    g_hint="G's loss is BCE(D(cat[x_src, x_fake]), 1) + lambda_l1 * mean |x_fake - "
    "x_real|, D called after its update.",
)
_replay = check_train_step.replay


# ---------------------------------------------------------------------------
EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch04.receptive_field",
            signature="receptive_field(kernel_sizes, strides) -> int, both lists "
            "or tuples of ints, first layer first",
            reference=receptive_field,
            check_fn=check_receptive_field,
        ),
        Exercise(
            id="ch04.pix2pix_d_loss",
            signature="pix2pix_d_loss(logits_real, logits_fake) -> scalar tensor, "
            "logits (N, 1, H', W')",
            reference=pix2pix_d_loss,
            check_fn=check_pix2pix_d_loss,
        ),
        Exercise(
            id="ch04.pix2pix_g_loss",
            signature="pix2pix_g_loss(logits_fake, x_fake, x_target, "
            "lambda_l1=100.0) -> scalar tensor, logits (N, 1, H', W'), images "
            "(N, C, H, W)",
            reference=pix2pix_g_loss,
            check_fn=check_pix2pix_g_loss,
        ),
        Exercise(
            id="ch04.train_step",
            signature="train_step(G, D, opt_g, opt_d, x_src, x_real, "
            "lambda_l1=100.0) -> (d_loss, g_loss), G(x_src) -> x_fake, "
            "D(torch.cat([x_src, x], dim=1)) -> patch logits (N, 1, H', W')",
            reference=train_step,
            check_fn=check_train_step,
            solution=(pix2pix_d_loss, pix2pix_g_loss, train_step),
        ),
    )
}


# Predict-then-run questions (see gancourse.homework.predictions): the run after
# the question answers it, so no choice is marked as right here.
PREDICTIONS = {
    p.id: p
    for p in (
        Prediction(
            id="ch04.l1_alone_outputs",
            question="The same U-Net generator is trained on the same pairs twice: "
            "with L1 + cGAN (λ = 100) and with the L1 term alone (no "
            "discriminator). Compared with L1 + cGAN, what will the L1-only "
            "outputs look like?",
            choices={
                "a": "sharper, with more fine detail",
                "b": "blurrier: edges and textures smeared into averages",
                "c": "about the same: with λ = 100 the L1 term dominates G's "
                "loss anyway",
            },
        ),
    )
}
