"""Chapter 3 exercises: conditional GANs. The one-hot input of a conditional G,
AC-GAN's two losses, the projection discriminator's logit, and one AC-GAN
training step assembled from networks and optimisers.

Each exercise is a reference answer (from the package where one exists) plus a
check function that raises :class:`~gancourse.homework._checker.Failure` at the
first problem. ``EXERCISES`` at the bottom registers them under their ids.

The AC-GAN losses take integer labels besides the logits: their checks bind each
case's labels and compare the value and the gradients with respect to the
logits only. A wrong loss is compared with each known mistake on *every* case,
not only on the first one that fails, so that two mistakes which agree on one
case (halving the whole loss and the common snippet's form agree when the real
and fake batches have the same size) are told apart by the others.

The training step's check runs the learner's step on tiny deterministic networks
with plain SGD (so each update is proportional to its gradient), with junk
already in every ``.grad`` (so a missing ``zero_grad`` shows), and compares the
parameters of G and D after the step with those of the reference step. On a
mismatch it replays each known wrong step on freshly built networks and names
the one that ends with the learner's parameters. The learner's step gets its own
networks and optimisers; the reference and the replays never share anything
with them. That machinery is shared with chapters 1 and 2 and lives in
:mod:`gancourse.homework._steps`; this module holds only AC-GAN's networks, its
reference step and its catalogue of wrong steps.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
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
    expect_finite,
    expect_tensor,
    grads_of,
    leaf,
)
from gancourse.homework._steps import (
    STEP_ERRORS,
    StepCheck,
    init_networks,
    same_params,
)
from gancourse.homework.predictions import Prediction
from gancourse.nn.cond import ProjectionHead, concat_onehot

__all__ = [
    "EXERCISES",
    "PREDICTIONS",
    "acgan_d_loss",
    "acgan_g_loss",
    "one_hot_condition",
    "projection_logits",
    "train_step",
]


def _flat(x: Tensor) -> Tensor:
    return x.reshape(-1)


def _call(
    fn: Callable[..., Any],
    args: Sequence[Any],
    name: str,
    case_hint: str = "",
    fragments: Sequence[tuple[str, str]] = (),
) -> Any:
    """``fn(*args)``; a learner exception becomes ``"on <name>, ..."`` with the
    most specific hint: a known error fragment, then the case's hint."""
    try:
        return call_learner(fn, *args)
    except Failure as exc:
        hint = next((h for frag, h in fragments if frag in exc.message), "")
        raise Failure(
            f"on {name}, {exc.message}", hint or case_hint or exc.hint
        ) from None


def _fresh(args: Sequence[Any]) -> list[Any]:
    """Copies of a case's arguments: float tensors as leaves that require grad,
    integer tensors (labels) as plain copies, anything else as is."""
    return [
        (leaf(a) if a.is_floating_point() else a.clone())
        if isinstance(a, Tensor)
        else a
        for a in args
    ]


# ---------------------------------------------------------------------------
# ch03.one_hot_condition
# ---------------------------------------------------------------------------
def one_hot_condition(z: Tensor, y: Tensor, n_classes: int) -> Tensor:
    """A conditional G's input (Mirza & Osindero 2014, section 4.1):
    ``cat([z, one_hot(y)])``, ``z (N, z_dim)`` first, then the one-hot of the
    integer labels ``y (N,)`` over ``n_classes`` classes in ``z``'s dtype ->
    ``(N, z_dim + n_classes)``. See :func:`gancourse.nn.cond.concat_onehot`."""
    return concat_onehot(z, y, n_classes)


def _onehot_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(30)
    return [
        Case(
            "float32 z of shape (4, 3), labels [1, 0, 2, 1] and n_classes = 5",
            (torch.randn(4, 3, generator=gen), torch.tensor([1, 0, 2, 1]), 5),
        ),
        Case(
            "float64 z of shape (3, 2), labels [3, 0, 3] and n_classes = 4",
            (torch.randn(3, 2, generator=gen, dtype=torch.float64),)
            + (torch.tensor([3, 0, 3]), 4),
        ),
        Case(
            "one sample (N = 1), z of shape (1, 5), label 7 and n_classes = 10",
            (torch.randn(1, 5, generator=gen), torch.tensor([7]), 10),
        ),
    ]


_ONEHOT_HINT = (
    "z first, then the labels as one-hot rows of length n_classes in z's dtype: "
    "torch.cat([z, F.one_hot(y, n_classes).to(z.dtype)], dim=1)."
)
_ONEHOT_ERRORS = (
    (
        "same number of dimensions",
        "y has shape (N,): turn it into one-hot rows of shape (N, n_classes) with "
        "F.one_hot(y, n_classes) before concatenating it to z (N, z_dim).",
    ),
    (
        "smaller than num_classes",
        "pass the number of classes: F.one_hot(y, num_classes=n_classes).",
    ),
    (
        "index tensor",
        "F.one_hot needs the integer labels y themselves (int64), not floats.",
    ),
)

_ONEHOT_MISTAKES = (
    Mistake(
        lambda z, y, k: torch.cat([F.one_hot(y, k).to(z.dtype), z], dim=1),
        "the one-hot comes first and z second",
        "the layout is z first, then the one-hot: torch.cat([z, one_hot], dim=1) "
        "(G's first layer expects the noise in the first z_dim columns).",
    ),
)


def _onehot_shape_failure(
    got: tuple[int, ...], z: Tensor, y: Tensor, k: int
) -> Failure:
    n, d = z.shape
    want = (n, d + k)
    what = f"the result has shape {got}, expected (N, z_dim + n_classes) = {want}"
    width = int(y.max()) + 1
    if got == (n, d + 1):
        return Failure(
            f"{what}: the labels are appended as a single column, not one-hot",
            "turn each label into a one-hot row first, F.one_hot(y, n_classes), "
            "then concatenate: " + _ONEHOT_HINT,
        )
    if got == (n, d + width):
        return Failure(
            f"{what}: the one-hot part has max(y) + 1 = {width} columns instead of "
            f"n_classes = {k}, as F.one_hot(y) without num_classes guesses the "
            "number of classes from the largest label in the batch",
            "pass the number of classes: F.one_hot(y, num_classes=n_classes).",
        )
    if got == (n, k):
        return Failure(
            f"{what}: z is missing, the result is the one-hot alone",
            "concatenate both: " + _ONEHOT_HINT,
        )
    return Failure(what, "concatenate along dim=1, the features: " + _ONEHOT_HINT)


def check_one_hot_condition(fn: Callable[..., Any]) -> None:
    """``fn(z, y, n_classes)`` must equal ``cat([z, one_hot(y, n_classes)], 1)``
    in ``z``'s dtype, with the gradient flowing to ``z``."""
    for case in _onehot_cases():
        z, y, k = case.args
        z_in, y_in = leaf(z), y.clone()
        out = _call(fn, (z_in, y_in, k), case.name, fragments=_ONEHOT_ERRORS)
        if not (torch.equal(z_in.detach(), z) and torch.equal(y_in, y)):
            raise Failure(
                "your function modified z or y in place",
                "build a new tensor with torch.cat; leave the inputs unchanged.",
            )
        what = f"the result for {case.name}"
        out = expect_tensor(out)
        if tuple(out.shape) != (z.shape[0], z.shape[1] + k):
            raise _onehot_shape_failure(tuple(out.shape), z, y, k)
        if out.dtype != z.dtype:
            raise Failure(
                f"{what} has dtype {out.dtype}, expected {z.dtype} like z",
                "F.one_hot returns int64: convert the one-hot with .to(z.dtype) "
                "and keep z as it is (no .float() on the result, no torch.zeros(...) "
                "without dtype=z.dtype).",
            )
        want = one_hot_condition(z, y, k)
        if not torch.allclose(out.detach(), want):
            mistake = diagnose(out, (z, y, k), _ONEHOT_MISTAKES)
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            d = z.shape[1]
            if not torch.allclose(out.detach()[:, :d], z):
                raise Failure(
                    f"in {what}, the first z_dim = {d} columns are not z",
                    _ONEHOT_HINT,
                )
            expect_close(
                out[:, d:],
                want[:, d:],
                f"the one-hot part of {what}",
                "row i of the last n_classes columns is 1 in column y[i] and 0 "
                "elsewhere: " + _ONEHOT_HINT,
            )
        if not out.requires_grad:
            raise Failure(
                f"{what} is not connected to z in the autograd graph, so G's "
                "gradient cannot reach the noise (z was detached)",
                "concatenate z itself: no z.detach(), z.data, torch.no_grad() or "
                "torch.tensor(z) here.",
            )
        weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(3))
        (g,) = grads_of((out * weights.to(out.dtype)).sum(), [z_in])
        if g is None:
            raise Failure(
                "no gradient reaches z", "concatenate z itself, not a detached copy."
            )
        expect_close(
            g,
            weights[:, : z.shape[1]].to(z.dtype),
            f"the gradient of {what} w.r.t. z",
            "the first z_dim columns must be z itself (torch.cat passes its "
            "gradient through unchanged).",
        )


# ---------------------------------------------------------------------------
# AC-GAN losses: shared machinery for losses that also take integer labels
# ---------------------------------------------------------------------------
_K = 4  # classes in the loss cases

_UNSTABLE = (
    "log(sigmoid(l)) underflows to log(0) = -inf for large |l| (and nn.BCELoss "
    "clamps it at -100), and so does log(softmax(c)) for class logits far apart: "
    "feed the raw source logits to F.binary_cross_entropy_with_logits (or "
    "F.softplus) and the raw class logits to F.cross_entropy, which are exact there."
)
_SIGMOID_TWICE = (
    "you applied a sigmoid before a with-logits loss: logits go straight into "
    "F.binary_cross_entropy_with_logits / F.softplus, which apply the sigmoid "
    "themselves."
)
_SOFTMAX_TWICE = (
    "F.cross_entropy (nn.CrossEntropyLoss) applies log_softmax itself: feed it the "
    "raw class logits, not softmax probabilities."
)


def _extreme_class_logits(n: int) -> tuple[Tensor, Tensor]:
    """Class logits ``(n, 4)`` spread over ±100 and labels on the lowest one,
    where log(softmax(.)) underflows to -inf."""
    row = torch.tensor([100.0, -100.0, 20.0, 50.0])
    rows = torch.stack([row.roll(i) for i in range(n)])
    return rows, (torch.arange(n) + 1) % _K  # the -100 entry of each row


def _other_labels(y: Tensor, gen: torch.Generator) -> Tensor:
    """Labels that differ from ``y`` at every position."""
    return (y + torch.randint(1, _K, y.shape, generator=gen)) % _K


def _diagnose_everywhere(
    fn: Callable[..., Any],
    reference: Callable[..., Tensor],
    cases: Sequence[Case],
    mistakes: Sequence[Mistake],
) -> Mistake | None:
    """The first known mistake that matches ``fn`` on every case, provided ``fn``
    differs from ``reference`` on some case.

    "Matches on a case" means both give the same scalar, or both raise (a mistake
    such as using ``y_real`` for the fakes cannot run when the batch sizes
    differ, nor can the learner's code that makes it). Returns ``None`` when the
    learner's function is right everywhere, raises everywhere, or returns
    something other than a scalar tensor: the case-by-case check then reports it.
    """
    outs: list[Tensor | None] = []
    wrong = False
    for case in cases:
        try:
            out = fn(*_fresh(case.args))
        except NotImplementedError:
            return None
        except Exception:  # learner code can raise anything
            outs.append(None)
            wrong = True
            continue
        if not (isinstance(out, Tensor) and out.is_floating_point() and out.dim() == 0):
            return None
        out = out.detach()
        want = reference(*_fresh(case.args)).detach()
        if not torch.allclose(out.to(want.dtype), want, rtol=1e-4, atol=1e-5):
            wrong = True
        outs.append(out)
    if not wrong or all(o is None for o in outs):
        return None
    for mistake in mistakes:
        if all(_same_output(mistake, c, o) for c, o in zip(cases, outs)):
            return mistake
    return None


def _same_output(mistake: Mistake, case: Case, got: Tensor | None) -> bool:
    try:
        with torch.no_grad():
            want = mistake.fn(*_fresh(case.args))
    except Exception:  # the mistake cannot run on these inputs
        return got is None
    if got is None or not isinstance(want, Tensor) or want.shape != got.shape:
        return False
    return bool(torch.isclose(got, want, rtol=1e-4, atol=1e-5, equal_nan=True).all())


def _bind(fn: Callable[..., Any], case: Case) -> Callable[..., Any]:
    """``fn`` with ``case``'s non-float arguments (the labels) fixed: it takes only
    the float tensors, in order, and gets fresh copies of the labels each call."""

    def bound(*floats: Tensor) -> Any:
        it: Iterator[Tensor] = iter(floats)
        args = [
            next(it) if isinstance(a, Tensor) and a.is_floating_point() else a.clone()
            for a in case.args
        ]
        return fn(*args)

    return bound


def _check_labelled_loss(
    fn: Callable[..., Any],
    reference: Callable[..., Tensor],
    cases: Sequence[Case],
    arg_names: Sequence[str],
    mistakes: Sequence[Mistake],
    wrong_hint: str,
) -> None:
    """:func:`check_scalar_loss` for losses of logits *and* integer labels: first
    the known mistakes on all cases at once, then case by case (value, dtype,
    graph, gradients with respect to the float arguments)."""
    mistake = _diagnose_everywhere(fn, reference, cases, mistakes)
    if mistake is not None:
        raise Failure(mistake.message, mistake.hint)
    for case in cases:
        floats = [i for i, a in enumerate(case.args) if a.is_floating_point()]
        check_scalar_loss(
            _bind(fn, case),
            _bind(reference, case),
            [
                Case(
                    case.name,
                    tuple(case.args[i] for i in floats),
                    case.hint,
                    case.extreme,
                )
            ],
            [arg_names[i] for i in floats],
            [Mistake(_bind(m.fn, case), m.message, m.hint) for m in mistakes],
            wrong_hint=wrong_hint,
            unstable_hint=_UNSTABLE,
        )


# ---------------------------------------------------------------------------
# ch03.acgan_d_loss
# ---------------------------------------------------------------------------
def acgan_d_loss(
    logits_real: Tensor,
    class_logits_real: Tensor,
    y_real: Tensor,
    logits_fake: Tensor,
    class_logits_fake: Tensor,
    y_fake: Tensor,
) -> Tensor:
    """What AC-GAN's D minimises (Odena et al. 2017, eq. 2-3):
    ``BCE(real as real) + BCE(fake as fake) + CE(class_logits_real, y_real) +
    CE(class_logits_fake, y_fake)``, each term a mean over its own batch.
    See :func:`gancourse.losses.d_acgan` (same terms, other argument order)."""
    return losses.d_acgan(
        logits_real, logits_fake, class_logits_real, class_logits_fake, y_real, y_fake
    )


def _d_source(lr: Tensor, lf: Tensor) -> Tensor:
    return F.softplus(-_flat(lr)).mean() + F.softplus(_flat(lf)).mean()


def _d_classes(cr: Tensor, yr: Tensor, cf: Tensor, yf: Tensor) -> Tensor:
    return F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def _ce_concat(cr: Tensor, yr: Tensor, cf: Tensor, yf: Tensor) -> Tensor:
    return F.cross_entropy(torch.cat([cr, cf]), torch.cat([yr, yf]))


def _bce(logits: Tensor, label: float) -> Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def _acgan_d_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(31)

    def randn(*shape: int) -> Tensor:
        return 2.0 * torch.randn(*shape, generator=gen)

    def labels(n: int) -> Tensor:
        return torch.randint(0, _K, (n,), generator=gen)

    y4, y5 = labels(4), labels(5)
    big = torch.tensor([30.0, -30.0, 100.0, -100.0, 200.0, -200.0, 3.0, 0.5])
    c_big, y_big = _extreme_class_logits(8)
    return [
        # first: with batches of different sizes every mistake differs from the
        # others (with equal sizes the snippet's form is the whole loss halved)
        Case(
            "real and fake batches of different sizes (6 and 3)",
            (randn(6), randn(6, _K), labels(6), randn(3), randn(3, _K), labels(3)),
            hint="the real and the fake batch may differ in size: average each of "
            "the four terms over its own batch, then add them; the fakes' class "
            "logits go with y_fake.",
        ),
        Case(
            "source logits of shape (N, 1), y_fake different from y_real",
            (randn(5, 1), randn(5, _K), y5, randn(5, 1), randn(5, _K))
            + (_other_labels(y5, gen),),
            hint="a discriminator often returns (N, 1): reduce with .mean() over "
            "all elements and build labels with torch.ones_like(logits).",
        ),
        Case(
            "batches of the same size, y_fake different from y_real",
            (randn(4) + 1.0, randn(4, _K), y4, randn(4) - 1.0, randn(4, _K))
            + (_other_labels(y4, gen),),
        ),
        Case(
            "large logits such as ±30, ±100, ±200 and class logits 200 apart",
            (big, c_big, y_big, -big, c_big.flip(0), y_big.flip(0)),
            extreme=True,
        ),
    ]


_D_HINT = (
    "AC-GAN's D maximises L_S + L_C (Odena et al. 2017, eq. 2-3), so it minimises "
    "BCE(real as real) + BCE(fake as fake) + CE(class_logits_real, y_real) + "
    "CE(class_logits_fake, y_fake), each a mean over its own batch, no 1/2."
)

_D_MISTAKES = (
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            0.5 * (_bce(lr, 1.0) + _bce(lf, 0.0)) + _ce_concat(cr, yr, cf, yf)
        ),
        "this is the common snippet's form, 0.5 * (BCE_real + BCE_fake) plus one "
        "cross-entropy over the concatenated real and fake batch: it halves the "
        "source term and weights the two class terms by batch size",
        _D_HINT,
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            0.5 * _d_source(lr, lf) + _d_classes(cr, yr, cf, yf)
        ),
        "the source term is halved, 0.5 * (BCE_real + BCE_fake)",
        "no 1/2: " + _D_HINT,
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf) + _ce_concat(cr, yr, cf, yf),
        "the class term is one cross-entropy over the concatenated real and fake "
        "batch, which weights the two batches by their sizes (and halves the class "
        "term when they are equal)",
        "take CE(class_logits_real, y_real) and CE(class_logits_fake, y_fake) "
        "separately, each a mean over its own batch, and add them.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            0.5 * (_d_source(lr, lf) + _d_classes(cr, yr, cf, yf))
        ),
        "this is half the expected value",
        "add the four terms without a factor 1/2: (d_loss_real + d_loss_fake) / 2 "
        "halves the whole loss.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            0.25 * (_d_source(lr, lf) + _d_classes(cr, yr, cf, yf))
        ),
        "this is a quarter of the expected value",
        "no factors 1/2 anywhere: " + _D_HINT,
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf) + F.cross_entropy(cr, yr),
        "the class term on the fakes is missing: D only classifies the real images",
        "AC-GAN's L_C is over real and generated images alike: add "
        "CE(class_logits_fake, y_fake).",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf) + F.cross_entropy(cf, yf),
        "the class term on the real images is missing: D only classifies the fakes",
        "add CE(class_logits_real, y_real): the real images are where D learns the "
        "classes.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            F.softplus(_flat(lr)).mean()
            + F.softplus(-_flat(lf)).mean()
            + _d_classes(cr, yr, cf, yf)
        ),
        "the source labels are swapped (real scored as fake and fake as real)",
        "D wants D(x_real) -> 1 and D(x_fake) -> 0: label 1 for logits_real, label 0 "
        "for logits_fake.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf) + _d_classes(cr, yr, cf, yr),
        "the fakes' class term uses y_real instead of y_fake",
        "a fake belongs to the class G was asked for: CE(class_logits_fake, y_fake).",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            _bce(torch.sigmoid(lr), 1.0)
            + _bce(torch.sigmoid(lf), 0.0)
            + _d_classes(cr, yr, cf, yf)
        ),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            _d_source(lr, lf)
            + _d_classes(F.softmax(cr, dim=1), yr, F.softmax(cf, dim=1), yf)
        ),
        "a softmax is applied before the cross-entropy",
        _SOFTMAX_TWICE,
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            F.softplus(-_flat(lr)).sum()
            + F.softplus(_flat(lf)).sum()
            + F.cross_entropy(cr, yr, reduction="sum")
            + F.cross_entropy(cf, yf, reduction="sum")
        ),
        "these are sums over the batch, not means",
        "use .mean() (F.cross_entropy's default reduction) so the loss, and the "
        "step size, does not scale with the batch size.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf),
        "the class terms are missing: this is the unconditional GAN's D loss",
        "add CE(class_logits_real, y_real) + CE(class_logits_fake, y_fake).",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_classes(cr, yr, cf, yf),
        "the source terms are missing: this is only the classifier's loss",
        "add BCE(logits_real, 1) + BCE(logits_fake, 0), the real-or-fake terms.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: _d_source(lr, lf) - _d_classes(cr, yr, cf, yf),
        "the class terms are subtracted",
        "D maximises L_S + L_C, two log-likelihoods, so it minimises the sum of all "
        "four cross-entropies.",
    ),
    Mistake(
        lambda lr, cr, yr, lf, cf, yf: (
            torch.cat([F.softplus(-_flat(lr)), F.softplus(_flat(lf))]).mean()
            + _d_classes(cr, yr, cf, yf)
        ),
        "the source term averages real and fake together over N + M samples",
        "take the mean of each BCE term over its own batch, then add.",
    ),
)


def check_acgan_d_loss(fn: Callable[..., Any]) -> None:
    """``fn(logits_real, class_logits_real, y_real, logits_fake,
    class_logits_fake, y_fake)`` must equal :func:`acgan_d_loss`."""
    _check_labelled_loss(
        fn,
        acgan_d_loss,
        _acgan_d_cases(),
        (
            "logits_real",
            "class_logits_real",
            "y_real",
            "logits_fake",
            "class_logits_fake",
            "y_fake",
        ),
        _D_MISTAKES,
        _D_HINT,
    )


# ---------------------------------------------------------------------------
# ch03.acgan_g_loss
# ---------------------------------------------------------------------------
def acgan_g_loss(
    logits_fake: Tensor, class_logits_fake: Tensor, y_fake: Tensor
) -> Tensor:
    """What AC-GAN's G minimises here: the non-saturating ``BCE(fake as real)``
    plus ``CE(class_logits_fake, y_fake)``, each a mean over the batch. See
    :func:`gancourse.losses.g_acgan`."""
    return losses.g_acgan(logits_fake, class_logits_fake, y_fake)


def _acgan_g_cases() -> list[Case]:
    gen = torch.Generator().manual_seed(32)

    def randn(*shape: int) -> Tensor:
        return 2.0 * torch.randn(*shape, generator=gen)

    def labels(n: int) -> Tensor:
        return torch.randint(0, _K, (n,), generator=gen)

    big = torch.tensor([30.0, -30.0, 100.0, -100.0, 200.0, -200.0, 3.0, 0.5])
    c_big, y_big = _extreme_class_logits(8)
    return [
        Case("logits of shape (N,)", (randn(6), randn(6, _K), labels(6))),
        Case(
            "source logits of shape (N, 1)",
            (randn(5, 1), randn(5, _K), labels(5)),
            hint="a discriminator often returns (N, 1): reduce with .mean() over "
            "all elements and build labels with torch.ones_like(logits).",
        ),
        Case(
            "large logits such as ±30, ±100, ±200 and class logits 200 apart",
            (big, c_big, y_big),
            extreme=True,
        ),
    ]


_G_HINT = (
    "G minimises BCE(fake as real) + CE(class_logits_fake, y_fake) = "
    "mean softplus(-logits_fake) + F.cross_entropy(class_logits_fake, y_fake): it "
    "wants its samples called real and of the class it was asked for."
)

_G_MISTAKES = (
    Mistake(
        lambda lf, cf, yf: F.softplus(-_flat(lf)).mean() - F.cross_entropy(cf, yf),
        "the class term is subtracted: G would make its samples *less* "
        "recognisable as their class",
        "the paper's G maximises L_C - L_S, where L_C = -CE is a log-likelihood: "
        "minimising its negative *adds* CE(class_logits_fake, y_fake).",
    ),
    Mistake(
        lambda lf, cf, yf: F.softplus(_flat(lf)).mean() - F.cross_entropy(cf, yf),
        "this minimises the paper's L_C - L_S instead of maximising it: both terms "
        "have the wrong sign",
        "G maximises L_C - L_S, so it minimises CE(class_logits_fake, y_fake) plus "
        "a source term; use the non-saturating one, BCE(fake as real) = mean "
        "softplus(-logits_fake).",
    ),
    Mistake(
        lambda lf, cf, yf: -F.softplus(_flat(lf)).mean() + F.cross_entropy(cf, yf),
        "the source term is the saturating minimax loss mean log(1 - D(G(z)))",
        "use the non-saturating source term, BCE of logits_fake against the *real* "
        "label 1 (mean softplus(-logits_fake)): the saturating one has almost no "
        "gradient while D rejects the fakes.",
    ),
    Mistake(
        lambda lf, cf, yf: F.softplus(-_flat(lf)).mean(),
        "the class term is missing: this is the unconditional G loss",
        "add CE(class_logits_fake, y_fake): G must also make samples that D "
        "classifies as y_fake.",
    ),
    Mistake(
        lambda lf, cf, yf: F.softplus(_flat(lf)).mean() + F.cross_entropy(cf, yf),
        "this labels G's samples as fake (label 0, D's target)",
        "G wants D to call its samples real: BCE of logits_fake against label 1 "
        "(torch.ones_like).",
    ),
    Mistake(
        lambda lf, cf, yf: _bce(torch.sigmoid(lf), 1.0) + F.cross_entropy(cf, yf),
        "the sigmoid is applied twice",
        _SIGMOID_TWICE,
    ),
    Mistake(
        lambda lf, cf, yf: (
            F.softplus(-_flat(lf)).mean() + F.cross_entropy(F.softmax(cf, dim=1), yf)
        ),
        "a softmax is applied before the cross-entropy",
        _SOFTMAX_TWICE,
    ),
    Mistake(
        lambda lf, cf, yf: (
            F.softplus(-_flat(lf)).sum() + F.cross_entropy(cf, yf, reduction="sum")
        ),
        "these are sums over the batch, not means",
        "use .mean() (F.cross_entropy's default reduction) so the loss does not "
        "scale with the batch size.",
    ),
    Mistake(
        lambda lf, cf, yf: F.cross_entropy(cf, yf),
        "the source term is missing: this is only the class term",
        "add BCE(logits_fake, 1) = mean softplus(-logits_fake): G must also fool D.",
    ),
)


def check_acgan_g_loss(fn: Callable[..., Any]) -> None:
    """``fn(logits_fake, class_logits_fake, y_fake)`` must equal
    :func:`acgan_g_loss`."""
    _check_labelled_loss(
        fn,
        acgan_g_loss,
        _acgan_g_cases(),
        ("logits_fake", "class_logits_fake", "y_fake"),
        _G_MISTAKES,
        _G_HINT,
    )


# ---------------------------------------------------------------------------
# ch03.projection_logits
# ---------------------------------------------------------------------------
def projection_logits(
    features: Tensor, y: Tensor, linear: nn.Module, embed: nn.Module
) -> Tensor:
    """The projection discriminator's logit (Miyato & Koyama 2018, eq. 3):
    ``linear(features)`` squeezed from ``(N, 1)`` to ``(N,)``, plus the per-sample
    inner product of ``features (N, d)`` with the class embedding ``embed(y)
    (N, d)``. Returns ``(N,)``. See :class:`gancourse.nn.cond.ProjectionHead`."""
    return linear(features)[:, 0] + (embed(y) * features).sum(dim=1)


@dataclass(frozen=True)
class _ProjCase:
    name: str
    seed: int
    n: int
    d: int
    k: int
    bias: bool


_PROJ_CASES = (
    _ProjCase("5 samples, d = 4, K = 3, a Linear with bias", 40, 5, 4, 3, True),
    _ProjCase("one sample (N = 1), d = 3, K = 4", 41, 1, 3, 4, True),
    _ProjCase("6 samples, d = 2, K = 5, a Linear without bias", 42, 6, 2, 5, False),
)


def _proj_inputs(case: _ProjCase) -> tuple[Tensor, Tensor, nn.Linear, nn.Embedding]:
    """Features, labels and freshly built modules, the same for every call."""
    gen = torch.Generator().manual_seed(case.seed)
    features = torch.randn(case.n, case.d, generator=gen)
    y = torch.randint(0, case.k, (case.n,), generator=gen)
    linear = nn.Linear(case.d, 1, bias=case.bias)
    embed = nn.Embedding(case.k, case.d)
    with torch.no_grad():
        for p in (*linear.parameters(), *embed.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen))
    return features, y, linear, embed


_PROJ_HINT = (
    "logit = linear(features)[:, 0] + (embed(y) * features).sum(dim=1): linear's "
    "(N, 1) output squeezed to (N,), plus each sample's inner product with the "
    "embedding of its own label (Miyato & Koyama 2018, eq. 3)."
)
_SQUEEZE = "squeeze linear's (N, 1) output with .squeeze(1) or [:, 0]"

_PROJ_ERRORS = (
    (
        "'indices'",
        "nn.Embedding looks up integer labels: embed(y) gives the (N, d) class "
        "embeddings; it is not applied to the features.",
    ),
    (
        "mat1 and mat2",
        "linear takes the (N, d) features: linear(features) is (N, 1).",
    ),
)

_PROJ_MISTAKES = (
    Mistake(
        lambda f, y, lin, emb: lin(f)[:, 0],
        "the projection term is missing: the logit does not depend on y",
        "add (embed(y) * features).sum(dim=1), each sample's inner product with the "
        "embedding of its label.",
    ),
    Mistake(
        lambda f, y, lin, emb: (emb(y) * f).sum(dim=1),
        "the linear term linear(features) is missing",
        _PROJ_HINT,
    ),
    Mistake(
        lambda f, y, lin, emb: (f @ lin.weight.T)[:, 0] + (emb(y) * f).sum(dim=1),
        "linear's bias is missing",
        "call the module, linear(features), rather than features @ linear.weight.T.",
    ),
    Mistake(
        lambda f, y, lin, emb: lin(f)[:, 0] + (emb(y) * f).mean(dim=1),
        "the inner product is averaged over the d features (.mean) instead of summed",
        "an inner product sums: (embed(y) * features).sum(dim=1).",
    ),
    Mistake(
        lambda f, y, lin, emb: lin(f)[:, 0] - (emb(y) * f).sum(dim=1),
        "the projection term is subtracted",
        _PROJ_HINT,
    ),
)


def _proj_shape_failure(got: tuple[int, ...], n: int, what: str) -> Failure:
    msg = f"{what} has shape {got}, expected (N,) = ({n},)"
    if n > 1 and got == (n, n):
        return Failure(
            f"{msg}: an (N, 1) tensor plus an (N,) one broadcasts to (N, N)",
            f"{_SQUEEZE} before adding the (N,) projection term (and take the "
            "inner product per sample, (embed(y) * features).sum(dim=1), not a "
            "matrix product).",
        )
    if got == (n, 1):
        return Failure(
            f"{msg}: the result keeps linear's (N, 1) shape",
            f"return one logit per sample, shape (N,): {_SQUEEZE}, and sum the "
            "inner product with .sum(dim=1) (no keepdim).",
        )
    if got == () and n == 1:
        return Failure(
            f"{msg}: with a single sample, .squeeze() with no argument also drops "
            "the batch dimension",
            f"{_SQUEEZE}, which only removes the size-1 dimension of the logit.",
        )
    return Failure(msg, _PROJ_HINT)


def check_projection_logits(fn: Callable[..., Any]) -> None:
    """``fn(features, y, linear, embed)`` must equal :func:`projection_logits`,
    value and gradients w.r.t. the features and both modules' parameters."""
    for case in _PROJ_CASES:
        features, y, linear, embed = _proj_inputs(case)
        f_in, y_in = leaf(features), y.clone()
        out = _call(
            fn, (f_in, y_in, linear, embed), f"{case.name}", fragments=_PROJ_ERRORS
        )
        what = f"the result for {case.name}"
        out = expect_tensor(out)
        if tuple(out.shape) != (case.n,):
            raise _proj_shape_failure(tuple(out.shape), case.n, what)
        if out.dtype != features.dtype:
            raise Failure(
                f"{what} has dtype {out.dtype}, expected {features.dtype}",
                "keep the features' dtype (no .double()).",
            )
        expect_finite(out, what)
        r_features, r_y, r_linear, r_embed = _proj_inputs(case)
        r_in = leaf(r_features)
        want = projection_logits(r_in, r_y, r_linear, r_embed)
        if not torch.allclose(out.detach(), want.detach(), rtol=1e-4, atol=1e-5):
            mistake = diagnose(
                out, (features, y, *_proj_inputs(case)[2:]), _PROJ_MISTAKES
            )
            if mistake is not None:
                raise Failure(mistake.message, mistake.hint)
            expect_close(out, want, what, _PROJ_HINT)
        if not out.requires_grad:
            raise Failure(
                f"{what} is not connected to the autograd graph, so D cannot learn "
                "from it",
                "no .detach(), .item(), torch.no_grad() or torch.tensor(...) here.",
            )
        weights = torch.randn(case.n, generator=torch.Generator().manual_seed(4))
        named = [("features", f_in)] + [
            (f"linear.{n}", p) for n, p in linear.named_parameters()
        ]
        named += [(f"embed.{n}", p) for n, p in embed.named_parameters()]
        r_named = [r_in, *r_linear.parameters(), *r_embed.parameters()]
        got = grads_of((out * weights).sum(), [t for _, t in named])
        ref = grads_of((want * weights).sum(), r_named)
        for (name, _), g, g_ref in zip(named, got, ref):
            if g is None:
                raise Failure(
                    f"no gradient reaches {name} ({case.name})",
                    "use the modules and the features through torch operations: "
                    "no .detach() or .data. " + _PROJ_HINT,
                )
            expect_close(
                g,
                g_ref,
                f"the gradient w.r.t. {name} ({case.name})",
                "the value is right but autograd sees a different function: is "
                "part of it detached or computed in place?",
                atol=1e-6,
            )


# ---------------------------------------------------------------------------
# ch03.train_step
# ---------------------------------------------------------------------------
_Z_DIM, _N_CLASSES, _IMG = 3, 3, (1, 3, 3)
_LR_D, _LR_G = 0.5, 0.5  # plain SGD: each update is proportional to its gradient


class _TinyG(nn.Module):
    """``G(z (N, 3), y (N,)) -> images (N, 1, 3, 3)`` in (-1, 1): an MLP on
    ``cat([z, one_hot(y)])``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(_Z_DIM + _N_CLASSES, 8), nn.Tanh(), nn.Linear(8, 9), nn.Tanh()
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.net(concat_onehot(z, y, _N_CLASSES)).view(-1, *_IMG)


class _TinyD(nn.Module):
    """``D(x (N, 1, 3, 3)) -> (source logits (N,), class logits (N, 3))``.

    No BatchNorm: samples do not interact, so ``D(cat([a, b]))`` is ``D(a)``
    followed by ``D(b)`` and a learner may score real and fake images in one
    call or two.
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(9, 8), nn.LeakyReLU(0.2))
        self.source = nn.Linear(8, 1)
        self.classes = nn.Linear(8, _N_CLASSES)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = self.body(x)
        return self.source(h)[:, 0], self.classes(h)


def train_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    y_real: Tensor,
    z: Tensor,
    y_fake: Tensor,
) -> tuple[Tensor, Tensor]:
    """One AC-GAN update of D, then one of G (Odena et al. 2017).

    ``G(z, y_fake)`` makes the fakes; ``D(x)`` returns source logits ``(N,)`` and
    class logits ``(N, K)``. D's step sees the fakes detached (it must not reach
    G); G's step scores the same fakes with the *updated* D. Returns
    ``(d_loss, g_loss)``, detached.
    """
    # D's step: real as real, fake as fake, and both batches' classes
    opt_d.zero_grad()
    x_fake = G(z, y_fake)
    logits_real, class_logits_real = D(x_real)
    logits_fake, class_logits_fake = D(x_fake.detach())
    d_loss = acgan_d_loss(
        logits_real, class_logits_real, y_real, logits_fake, class_logits_fake, y_fake
    )
    d_loss.backward()
    opt_d.step()

    # G's step: the same fakes, scored again by the updated D
    opt_g.zero_grad()
    logits_fake, class_logits_fake = D(x_fake)
    g_loss = acgan_g_loss(logits_fake, class_logits_fake, y_fake)
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def _wrong_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    x_real: Tensor,
    y_real: Tensor,
    z: Tensor,
    y_fake: Tensor,
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
    fake_label_for_g: bool = False,
) -> tuple[Tensor, Tensor]:
    """:func:`train_step` with known mistakes switched on by the flags (with no
    flag it is the reference step)."""
    if zero_g_first:
        opt_g.zero_grad()
    x_fake = G(z, y_fake)

    def d_phase() -> Tensor:
        if zero_d:
            opt_d.zero_grad()
        lr, cr = D(x_real)
        lf, cf = D(x_fake.detach() if detach_for_d else x_fake)
        if swap_d_labels:
            source = F.softplus(lr).mean() + F.softplus(-lf).mean()
        else:
            source = _d_source(lr, lf)
        d_loss = source + _d_classes(cr, y_real, cf, y_fake)
        d_loss.backward(retain_graph=not detach_for_d)
        if step_d:
            opt_d.step()
        return d_loss

    def g_phase() -> Tensor:
        if zero_g and not zero_g_first:
            opt_g.zero_grad()
        lf, cf = D(x_fake.detach() if g_on_detached else x_fake)
        source = F.softplus(lf if fake_label_for_g else -lf).mean()
        g_loss = source + F.cross_entropy(cf, y_fake)
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
    "D's step: opt_d.zero_grad(), x_fake = G(z, y_fake), d_loss on D(x_real) and "
    "D(x_fake.detach()), d_loss.backward(), opt_d.step(); then G's step: "
    "opt_g.zero_grad(), g_loss on D(x_fake) with the updated D, g_loss.backward(), "
    "opt_g.step()."
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
        "G's update used D as it was before D's update (G updated first, or G's "
        "loss computed before opt_d.step())",
        "update D first, then compute G's loss with a new call D(x_fake), so that "
        "G learns from the updated discriminator.",
    ),
    Mistake(
        functools.partial(_wrong_step, swap_d_labels=True),
        "D's source labels are swapped (real scored as fake and fake as real)",
        "D's loss is BCE(logits_real, 1) + BCE(logits_fake, 0) plus the two class "
        "terms.",
    ),
    Mistake(
        functools.partial(_wrong_step, fake_label_for_g=True),
        "G's loss labels its samples as fake (label 0, D's target)",
        "G wants D to call its samples real: BCE of D's logits on x_fake against "
        "label 1.",
    ),
)


@dataclass(frozen=True)
class _StepCase:
    name: str
    seed: int
    n_real: int
    n_fake: int


_STEP_CASES = (
    _StepCase("batches of 4 real and 4 fake images", 50, 4, 4),
    _StepCase("batches of 5 real and 3 fake images", 51, 5, 3),
)


def _step_setup(case: _StepCase) -> tuple[Any, ...]:
    """Fresh G, D, SGD optimisers with junk in every .grad, and the inputs: the
    same values on every call."""
    gen = torch.Generator().manual_seed(case.seed)
    G, D = _TinyG(), _TinyD()
    init_networks(gen, G, D)
    x_real = torch.rand(case.n_real, *_IMG, generator=gen) * 2 - 1
    y_real = torch.randint(0, _N_CLASSES, (case.n_real,), generator=gen)
    z = torch.randn(case.n_fake, _Z_DIM, generator=gen)
    y_fake = torch.randint(0, _N_CLASSES, (case.n_fake,), generator=gen)
    opt_g = torch.optim.SGD(G.parameters(), lr=_LR_G)
    opt_d = torch.optim.SGD(D.parameters(), lr=_LR_D)
    return G, D, opt_g, opt_d, x_real, y_real, z, y_fake


check_train_step = StepCheck(
    reference=train_step,
    setup=_step_setup,
    cases=_STEP_CASES,
    mistakes=_STEP_MISTAKES,
    errors=STEP_ERRORS,
    step_hint=_STEP_HINT,
    d_what="AC-GAN's discriminator loss",
    d_hint="D's loss is BCE(real as real) + BCE(fake as fake) + CE(class_logits_"
    "real, y_real) + CE(class_logits_fake, y_fake), and nothing else may step D.",
    g_what="AC-GAN's generator loss",
    g_hint="G's loss is BCE(fake as real) + CE(class_logits_fake, y_fake) on "
    "D(x_fake), D called after its update.",
)
_replay = check_train_step.replay
_same_params = same_params


# ---------------------------------------------------------------------------
EXERCISES = {
    ex.id: ex
    for ex in (
        Exercise(
            id="ch03.one_hot_condition",
            signature="one_hot_condition(z, y, n_classes) -> tensor (N, z_dim + "
            "n_classes), z (N, z_dim) float, y (N,) int64",
            reference=one_hot_condition,
            check_fn=check_one_hot_condition,
            solution=(concat_onehot, one_hot_condition),
        ),
        Exercise(
            id="ch03.acgan_d_loss",
            signature="acgan_d_loss(logits_real, class_logits_real, y_real, "
            "logits_fake, class_logits_fake, y_fake) -> scalar tensor",
            reference=acgan_d_loss,
            check_fn=check_acgan_d_loss,
            solution=(
                losses._flat,
                losses.d_minimax,
                losses.class_loss,
                losses.d_acgan,
                acgan_d_loss,
            ),
        ),
        Exercise(
            id="ch03.acgan_g_loss",
            signature="acgan_g_loss(logits_fake, class_logits_fake, y_fake) -> "
            "scalar tensor",
            reference=acgan_g_loss,
            check_fn=check_acgan_g_loss,
            solution=(
                losses._flat,
                losses.g_nonsaturating,
                losses.class_loss,
                losses.g_acgan,
                acgan_g_loss,
            ),
        ),
        Exercise(
            id="ch03.projection_logits",
            signature="projection_logits(features, y, linear, embed) -> tensor (N,), "
            "features (N, d), y (N,) int64, linear nn.Linear(d, 1), embed "
            "nn.Embedding(K, d)",
            reference=projection_logits,
            check_fn=check_projection_logits,
            solution=(ProjectionHead, projection_logits),
        ),
        Exercise(
            id="ch03.train_step",
            signature="train_step(G, D, opt_g, opt_d, x_real, y_real, z, y_fake) -> "
            "(d_loss, g_loss), G(z, y) -> images, D(x) -> (logits (N,), "
            "class_logits (N, K))",
            reference=train_step,
            check_fn=check_train_step,
            solution=(
                losses.d_acgan,
                acgan_d_loss,
                losses.g_acgan,
                acgan_g_loss,
                train_step,
            ),
        ),
    )
}

PREDICTIONS = {
    p.id: p
    for p in (
        Prediction(
            id="ch03.lowest_recall",
            question="Of the three shipped Fashion-MNIST models (concatenation cGAN, "
            "projection discriminator with conditional BatchNorm, AC-GAN), which "
            "covers the real images of each class worst, i.e. has the lowest mean "
            "per-class recall?",
            choices={
                "a": "cgan-fashion",
                "b": "projgan-fashion",
                "c": "acgan-fashion",
            },
        ),
    )
}
