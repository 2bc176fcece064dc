"""Tests for the chapter 4 homework checks (Pix2Pix).

Every check accepts correct answers written in several ways and rejects realistic
wrong ones with a message that names the mistake. The answers below are written
by hand here, independently of the references in the package; reference values
come from hand computation with ``math``, from the paper (PatchGAN's 70 x 70
field) and, for the receptive field, from the gradient of a 1-D convolution stack.
"""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_fail, assert_one_line_verdicts, assert_pass, run
from torch import nn

from gancourse.homework import (
    EXERCISES,
    PREDICTIONS,
    ch04,
    check,
    predict,
    show_solution,
)
from gancourse.homework._checker import Mistake

CH04 = {
    "ch04.receptive_field",
    "ch04.pix2pix_d_loss",
    "ch04.pix2pix_g_loss",
    "ch04.train_step",
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The checks run many tiny tensor operations: with one intra-op thread they
    take milliseconds, while OpenMP's spin-waits on a busy 2-core machine make
    them ~50 times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_registry_has_chapter_4():
    assert CH04 == {eid for eid in EXERCISES if eid.startswith("ch04.")}


@pytest.mark.parametrize("eid", sorted(CH04))
def test_reference_passes(eid):
    assert_pass(eid, EXERCISES[eid].reference)


@pytest.mark.parametrize("eid", sorted(CH04))
def test_function_name_matches_the_id(eid):
    ex = EXERCISES[eid]
    name = eid.split(".", 1)[1]
    assert ex.function_name == name
    assert ex.signature.startswith(name + "(")
    assert ex.reference.__name__ == name
    assert getattr(ch04, name) is ex.reference


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


# ---------------------------------------------------------------------------
# ch04.receptive_field: 1 + sum_l (k_l - 1) * prod_{i<l} s_i
# ---------------------------------------------------------------------------
def empirical_receptive_field(kernel_sizes, strides) -> int:
    """The extent of the input region that reaches output unit 0 of a stack of
    1-D convolutions with positive weights, read off its input gradient (first
    to last input pixel with a nonzero gradient: a stride larger than the next
    kernel leaves holes inside the field, which the extent includes)."""
    length = 1 + sum(
        (k - 1) * math.prod(strides) for k in kernel_sizes
    )  # a bound on the field, so the output is never empty
    length += math.prod(strides)
    x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s in zip(kernel_sizes, strides):
        conv = nn.Conv1d(1, 1, k, stride=s, bias=False).double()
        nn.init.constant_(conv.weight, 1.0)
        h = conv(h)
    assert h.shape[-1] >= 1
    h[0, 0, 0].backward()
    support = torch.nonzero(x.grad[0, 0]).flatten()
    assert int(support.min()) == 0
    return int(support.max()) + 1


@pytest.mark.parametrize(
    "ks, ss, want",
    [
        ((4, 4, 4, 4, 4), (2, 2, 2, 1, 1), 70),  # Isola et al. 2017, 70 x 70 PatchGAN
        ((4, 4, 4), (2, 1, 1), 16),  # the 16 x 16 PatchGAN
        ((4,) * 7, (2, 2, 2, 2, 2, 1, 1), 286),  # the 286 x 286 ImageGAN
        ((1, 1, 1), (1, 1, 1), 1),  # the PixelGAN
        ((3,), (2,), 3),
        ((3, 3), (1, 1), 5),  # two 3x3 convolutions see 5x5
        ((3, 3), (2, 1), 7),
    ],
)
def test_receptive_field_reference_by_hand_and_by_gradient(ks, ss, want):
    assert ch04.receptive_field(ks, ss) == want
    assert type(ch04.receptive_field(list(ks), list(ss))) is int
    assert empirical_receptive_field(ks, ss) == want


def test_receptive_field_reference_matches_the_gradient_on_random_stacks():
    rng = random.Random(7)
    stacks = [(c.kernel_sizes, c.strides) for c in ch04._rf_cases()]
    for _ in range(25):
        depth = rng.randint(1, 6)
        stacks.append(
            (
                tuple(rng.randint(1, 7) for _ in range(depth)),
                tuple(rng.randint(1, 3) for _ in range(depth)),
            )
        )
    for ks, ss in stacks:
        assert ch04.receptive_field(ks, ss) == empirical_receptive_field(ks, ss), (
            ks,
            ss,
        )


def test_receptive_field_cases_separate_the_mistakes():
    """Every mistake differs from the reference on some case (so it can be told
    apart) and from every other mistake on some case."""
    cases = ch04._rf_cases()
    want = [ch04.receptive_field(*c.args) for c in cases]
    outs = []
    for m in ch04._RF_MISTAKES:
        out = [m.fn(*c.args) for c in cases]
        assert any(o != w or type(o) is not type(w) for o, w in zip(out, want)), (
            m.message
        )
        outs.append(out)
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert any(
                a != b or type(a) is not type(b) for a, b in zip(outs[i], outs[j])
            )
    assert any(isinstance(c.args[0], list) for c in cases)
    assert any(isinstance(c.args[0], tuple) for c in cases)


def rf_jump(kernel_sizes, strides):
    r, jump = 1, 1
    for k, s in zip(kernel_sizes, strides):
        r += (k - 1) * jump
        jump *= s
    return r


def rf_backwards(kernel_sizes, strides):
    # one output unit, walked back to the input: r_in = (r_out - 1) * s + k
    r = 1
    for k, s in reversed(list(zip(kernel_sizes, strides))):
        r = (r - 1) * s + k
    return r


def rf_math_prod(kernel_sizes, strides):
    return 1 + sum((k - 1) * math.prod(strides[:i]) for i, k in enumerate(kernel_sizes))


def rf_numpy(kernel_sizes, strides):
    jumps = np.cumprod([1, *strides[:-1]])
    return 1 + np.sum((np.array(kernel_sizes) - 1) * jumps)  # a NumPy int64


def rf_torch(kernel_sizes, strides):
    jumps = torch.cumprod(torch.tensor([1, *strides[:-1]]), dim=0)
    return 1 + ((torch.tensor(kernel_sizes) - 1) * jumps).sum()  # an int64 tensor


@pytest.mark.parametrize(
    "fn", [rf_jump, rf_backwards, rf_math_prod, rf_numpy, rf_torch]
)
def test_receptive_field_accepts_correct_answers(fn):
    assert_pass("ch04.receptive_field", fn)


def rf_np_prod(kernel_sizes, strides):
    # np.prod([]) is 1.0: the sum becomes a NumPy float64
    return 1 + sum((k - 1) * np.prod(strides[:i]) for i, k in enumerate(kernel_sizes))


def rf_pops(kernel_sizes, strides):
    r = 1
    while kernel_sizes:
        r = (r - 1) * strides.pop() + kernel_sizes.pop()
    return r


RF_WRONG = {
    "strides ignored": (
        lambda ks, ss: 1 + sum(k - 1 for k in ks),
        ["strides are ignored", "product of the strides"],
    ),
    "own stride included": (
        lambda ks, ss: (
            1 + sum((k - 1) * math.prod(ss[: i + 1]) for i, k in enumerate(ks))
        ),
        ["including its own", "before it"],
    ),
    "last layer first": (
        lambda ks, ss: rf_jump(list(ks)[::-1], list(ss)[::-1]),
        ["last first", "first layer first"],
    ),
    "backward recursion run forwards": (
        lambda ks, ss: rf_backwards(list(ks)[::-1], list(ss)[::-1]),
        ["last first", "r = (r - 1) * s + k"],
    ),
    "no +1": (lambda ks, ss: rf_jump(ks, ss) - 1, ["+1 is missing"]),
    "a float": (lambda ks, ss: float(rf_jump(ks, ss)), ["float", "int"]),
    "np.prod's float": (rf_np_prod, ["float", "np.prod([]) is 1.0"]),
    "r = 1.0 with the strides ignored": (
        lambda ks, ss: 1.0 + sum(k - 1 for k in ks),
        ["strides are ignored"],
    ),
    "pops the caller's lists": (rf_pops, ["modified", "in place"]),
    "returns None": (lambda ks, ss: None, ["None", "return"]),
    "returns a list": (lambda ks, ss: [rf_jump(ks, ss)], ["list", "expected an int"]),
    "NaN": (lambda ks, ss: float("nan"), ["wrong", "nan"]),
    "product of kernel sizes": (
        lambda ks, ss: math.prod(ks),
        ["wrong", "expected 70", "r += (k - 1) * jump"],
    ),
}


@pytest.mark.parametrize("name", list(RF_WRONG))
def test_receptive_field_rejects_wrong_answers(name):
    fn, words = RF_WRONG[name]
    assert_fail("ch04.receptive_field", fn, *words)


# ---------------------------------------------------------------------------
# ch04.pix2pix_d_loss: 0.5 * (BCE(real, 1) + BCE(fake, 0)), means over patches
# ---------------------------------------------------------------------------
def test_pix2pix_d_loss_reference_by_hand():
    ref = EXERCISES["ch04.pix2pix_d_loss"].reference
    lr = torch.tensor([[[[1.0, -2.0]]], [[[0.5, 3.0]]]], requires_grad=True)
    lf = torch.tensor([[[[0.0, 1.5]]], [[[-1.0, 2.0]]]], requires_grad=True)
    loss = ref(lr, lf)
    real = sum(_softplus(-v) for v in (1.0, -2.0, 0.5, 3.0)) / 4
    fake = sum(_softplus(v) for v in (0.0, 1.5, -1.0, 2.0)) / 4
    assert float(loss.detach()) == pytest.approx(0.5 * (real + fake), rel=1e-6)
    loss.backward()
    # d/dl 0.5 * softplus(-l) / 4 = -sigmoid(-l) / 8
    assert lr.grad.flatten().tolist() == pytest.approx(
        [-_sigmoid(-v) / 8 for v in (1.0, -2.0, 0.5, 3.0)], rel=1e-5
    )
    assert lf.grad.flatten().tolist() == pytest.approx(
        [_sigmoid(v) / 8 for v in (0.0, 1.5, -1.0, 2.0)], rel=1e-5
    )
    # D at 1/2 everywhere: log 2
    zeros = torch.zeros(3, 1, 4, 4)
    assert float(ref(zeros, zeros)) == pytest.approx(math.log(2), rel=1e-6)


def _bce1(x):
    return F.binary_cross_entropy_with_logits(x, torch.ones_like(x))


def _bce0(x):
    return F.binary_cross_entropy_with_logits(x, torch.zeros_like(x))


def d_bce(logits_real, logits_fake):
    return (_bce1(logits_real) + _bce0(logits_fake)) / 2


def d_softplus(logits_real, logits_fake):
    return 0.5 * (F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean())


def d_module(logits_real, logits_fake):
    bce = nn.BCEWithLogitsLoss()
    d_real = bce(logits_real, torch.ones_like(logits_real))
    d_fake = bce(logits_fake, torch.zeros_like(logits_fake))
    return (d_real + d_fake) * 0.5


def d_logsigmoid_per_image_means(logits_real, logits_fake):
    # mean over the patch grid first, then over the batch: the same mean
    real = -F.logsigmoid(logits_real).mean(dim=(2, 3)).mean()
    fake = -F.logsigmoid(-logits_fake).mean(dim=(1, 2, 3)).mean(dim=0)
    return 0.5 * (real + fake)


def d_one_bce_over_both(logits_real, logits_fake):
    # real and fake pairs come in equal numbers, so one mean over both is the half
    logits = torch.cat([logits_real, logits_fake]).flatten()
    labels = torch.cat([torch.ones_like(logits_real), torch.zeros_like(logits_fake)])
    return F.binary_cross_entropy_with_logits(logits, labels.flatten())


@pytest.mark.parametrize(
    "fn",
    [d_bce, d_softplus, d_module, d_logsigmoid_per_image_means, d_one_bce_over_both],
)
def test_pix2pix_d_loss_accepts_correct_answers(fn):
    assert_pass("ch04.pix2pix_d_loss", fn)


def d_sigmoid_bceloss(logits_real, logits_fake):
    bce = nn.BCELoss()
    p_real, p_fake = torch.sigmoid(logits_real), torch.sigmoid(logits_fake)
    return 0.5 * (
        bce(p_real, torch.ones_like(p_real)) + bce(p_fake, torch.zeros_like(p_fake))
    )


D_WRONG = {
    "no ½ (chapter 1's d_loss)": (
        lambda lr, lf: _bce1(lr) + _bce0(lf),
        ["½ is missing", "chapter 1", "section 3.3"],
    ),
    "sums over patches": (
        lambda lr, lf: (
            0.5
            * (
                F.binary_cross_entropy_with_logits(
                    lr, torch.ones_like(lr), reduction="sum"
                )
                + F.binary_cross_entropy_with_logits(
                    lf, torch.zeros_like(lf), reduction="sum"
                )
            )
        ),
        ["sums over all patches", "mean"],
    ),
    "sums, no ½": (
        lambda lr, lf: F.softplus(-lr).sum() + F.softplus(lf).sum(),
        ["sums", "½ is missing"],
    ),
    "mean over the batch of per-image sums": (
        lambda lr, lf: (
            0.5
            * (
                F.softplus(-lr).sum(dim=(1, 2, 3)).mean()
                + F.softplus(lf).sum(dim=(1, 2, 3)).mean()
            )
        ),
        ["summed, then averaged over the batch"],
    ),
    "swapped labels": (lambda lr, lf: 0.5 * (_bce0(lr) + _bce1(lf)), ["swapped"]),
    "sigmoid before with-logits": (
        lambda lr, lf: 0.5 * (_bce1(torch.sigmoid(lr)) + _bce0(torch.sigmoid(lf))),
        ["sigmoid is applied twice"],
    ),
    "logits[:, 0, 0, 0] only": (
        lambda lr, lf: 0.5 * (_bce1(lr[:, 0, 0, 0]) + _bce0(lf[:, 0, 0, 0])),
        ["one patch per image", "score every patch"],
    ),
    "patch logits averaged before the loss": (
        lambda lr, lf: (
            0.5 * (_bce1(lr.mean(dim=(1, 2, 3))) + _bce0(lf.mean(dim=(1, 2, 3))))
        ),
        ["averaged per image before the loss"],
    ),
    "sign flipped": (
        lambda lr, lf: 0.5 * (F.logsigmoid(lr).mean() + F.logsigmoid(-lf).mean()),
        ["sign is flipped"],
    ),
    "hinge, halved": (
        lambda lr, lf: 0.5 * (torch.relu(1 - lr).mean() + torch.relu(1 + lf).mean()),
        ["hinge"],
    ),
    "hinge": (
        lambda lr, lf: torch.relu(1 - lr).mean() + torch.relu(1 + lf).mean(),
        ["hinge"],
    ),
    "least squares": (
        lambda lr, lf: 0.5 * (F.mse_loss(lr, torch.ones_like(lr)) + (lf**2).mean()),
        ["least-squares", "CycleGAN"],
    ),
    "only the real term": (lambda lr, lf: 0.5 * _bce1(lr), ["only the real term"]),
    "only the fake term": (lambda lr, lf: 0.5 * _bce0(lf), ["only the fake term"]),
    "naive log(sigmoid)": (
        lambda lr, lf: (
            -0.5
            * (
                torch.log(torch.sigmoid(lr)).mean()
                + torch.log(1 - torch.sigmoid(lf)).mean()
            )
        ),
        ["large patch logits", "binary_cross_entropy_with_logits"],
    ),
    "Sigmoid + BCELoss": (
        d_sigmoid_bceloss,
        ["large patch logits", "although moderate logits work", "clamps"],
    ),
    "real logits detached": (
        lambda lr, lf: d_bce(lr.detach(), lf),
        ["no gradient reaches logits_real"],
    ),
    "no reduction": (
        lambda lr, lf: (
            0.5
            * (
                F.binary_cross_entropy_with_logits(
                    lr, torch.ones_like(lr), reduction="none"
                )
                + F.binary_cross_entropy_with_logits(
                    lf, torch.zeros_like(lf), reduction="none"
                )
            )
        ),
        ["shape", "scalar"],
    ),
    "float64": (lambda lr, lf: d_bce(lr.double(), lf.double()), ["dtype"]),
    ".item()": (lambda lr, lf: d_bce(lr, lf).item(), ["float", "torch.Tensor"]),
    "NaN": (lambda lr, lf: d_bce(lr, lf) * float("nan"), ["NaN"]),
}


@pytest.mark.parametrize("name", list(D_WRONG))
def test_pix2pix_d_loss_rejects_wrong_answers(name):
    fn, words = D_WRONG[name]
    assert_fail("ch04.pix2pix_d_loss", fn, *words)


def _separated_on_first_case(mistakes, first_args, reference):
    """Each mistake differs from the reference and from every other mistake on
    the check's first case (where a learner making it is diagnosed)."""
    want = reference(*first_args)
    outs = []
    for m in mistakes:
        out = m.fn(*first_args)
        assert not torch.isclose(out, want, rtol=1e-4, atol=1e-5), m.message
        outs.append(out)
    for i in range(len(outs)):
        for j in range(i + 1, len(outs)):
            assert not torch.isclose(outs[i], outs[j], rtol=1e-4, atol=1e-5), (
                mistakes[i].message,
                mistakes[j].message,
            )


def test_every_d_mistake_differs_from_the_reference_and_the_others_on_case_1():
    first = ch04._d_cases()[0].args
    assert first[0].shape[0] > 1 and first[0].shape[2] != first[0].shape[3]
    _separated_on_first_case(ch04._D_MISTAKES, first, ch04.pix2pix_d_loss)


def test_every_d_mistake_differs_from_the_reference_on_every_case():
    for case in ch04._d_cases():
        want = ch04.pix2pix_d_loss(*case.args)
        for m in ch04._D_MISTAKES:
            got = m.fn(*case.args)
            assert not torch.isclose(got, want, rtol=1e-4, atol=1e-5), (
                m.message,
                case.name,
            )


def test_d_cases_are_float32_patch_logits():
    for case in ch04._d_cases():
        for x in case.args:
            assert x.dtype == torch.float32 and x.dim() == 4 and x.shape[1] == 1


# ---------------------------------------------------------------------------
# ch04.pix2pix_g_loss: BCE(fake, 1) + lambda_l1 * mean |x_fake - x_target|
# ---------------------------------------------------------------------------
def test_pix2pix_g_loss_reference_by_hand():
    ref = EXERCISES["ch04.pix2pix_g_loss"].reference
    lf = torch.tensor([[[[2.0, -1.0]]]], requires_grad=True)
    xf = torch.tensor([[[[0.5, -0.5], [0.0, 1.0]]]], requires_grad=True)
    xt = torch.tensor([[[[0.0, 0.5], [0.25, 0.5]]]])
    l1 = (0.5 + 1.0 + 0.25 + 0.5) / 4
    gan = (_softplus(-2.0) + _softplus(1.0)) / 2
    loss = ref(lf, xf, xt, 10.0)
    assert float(loss.detach()) == pytest.approx(gan + 10 * l1, rel=1e-6)
    loss.backward()
    assert lf.grad.flatten().tolist() == pytest.approx(
        [-_sigmoid(-2.0) / 2, -_sigmoid(1.0) / 2], rel=1e-5
    )
    # d/dx 10 * mean |x - t| = 10 * sign(x - t) / 4
    assert xf.grad.flatten().tolist() == pytest.approx([2.5, -2.5, -2.5, 2.5])
    # the default λ is the paper's 100
    assert float(ref(lf, xf, xt).detach()) == pytest.approx(gan + 100 * l1, rel=1e-6)


def g_bce_l1_loss(logits_fake, x_fake, x_target, lambda_l1=100.0):
    return _bce1(logits_fake) + lambda_l1 * F.l1_loss(x_fake, x_target)


def g_softplus_module(logits_fake, x_fake, x_target, lambda_l1=100):
    return F.softplus(-logits_fake).mean() + lambda_l1 * nn.L1Loss()(x_fake, x_target)


def g_logsigmoid_abs(logits_fake, x_fake, x_target, lambda_l1=100.0):
    loss_gan = -F.logsigmoid(logits_fake).mean()
    return loss_gan + lambda_l1 * torch.abs(x_fake - x_target).mean()


def g_means_in_steps(logits_fake, x_fake, x_target, lambda_l1=100.0):
    # per-image means, then the batch mean: images and patch grids are equal-sized
    loss_gan = F.softplus(-logits_fake).mean(dim=(2, 3)).mean()
    loss_l1 = (x_fake - x_target).abs().mean(dim=(1, 2, 3)).mean(dim=0)
    return loss_gan + lambda_l1 * loss_l1


def g_target_detached(logits_fake, x_fake, x_target, lambda_l1=100.0):
    # the target is data: detaching it changes nothing
    return _bce1(logits_fake) + lambda_l1 * (x_fake - x_target.detach()).abs().mean()


def g_keyword_only_default(logits_fake, x_fake, x_target, lambda_l1=1e2):
    return torch.add(_bce1(logits_fake), F.l1_loss(x_target, x_fake), alpha=lambda_l1)


@pytest.mark.parametrize(
    "fn",
    [
        g_bce_l1_loss,
        g_softplus_module,
        g_logsigmoid_abs,
        g_means_in_steps,
        g_target_detached,
        g_keyword_only_default,
    ],
)
def test_pix2pix_g_loss_accepts_correct_answers(fn):
    assert_pass("ch04.pix2pix_g_loss", fn)


def _l1(xf, xt):
    return (xf - xt).abs().mean()


G_WRONG = {
    "L2": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf) + lam * F.mse_loss(xf, xt),
        ["L2", "not L1"],
    ),
    "λ ignored (100 hard-coded)": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf) + 100 * _l1(xf, xt),
        ["lambda_l1 is ignored"],
    ),
    "λ on the GAN term": (
        lambda lf, xf, xt, lam=100.0: lam * _bce1(lf) + _l1(xf, xt),
        ["weights the adversarial term"],
    ),
    "sum over patches": (
        lambda lf, xf, xt, lam=100.0: (
            F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf), reduction="sum")
            + lam * _l1(xf, xt)
        ),
        ["sum over all patches"],
    ),
    "per-image sums of patch losses": (
        lambda lf, xf, xt, lam=100.0: (
            F.softplus(-lf).sum(dim=(1, 2, 3)).mean() + lam * _l1(xf, xt)
        ),
        ["sums each image's patch losses"],
    ),
    "fake labelled fake": (
        lambda lf, xf, xt, lam=100.0: _bce0(lf) + lam * _l1(xf, xt),
        ["as fake", "label 1"],
    ),
    "sigmoid before with-logits": (
        lambda lf, xf, xt, lam=100.0: _bce1(torch.sigmoid(lf)) + lam * _l1(xf, xt),
        ["sigmoid is applied twice"],
    ),
    "saturating log(1 - D)": (
        lambda lf, xf, xt, lam=100.0: F.logsigmoid(-lf).mean() + lam * _l1(xf, xt),
        ["saturating"],
    ),
    "L1 summed": (
        lambda lf, xf, xt, lam=100.0: (
            _bce1(lf) + lam * F.l1_loss(xf, xt, reduction="sum")
        ),
        ["L1 term is a sum", "mean"],
    ),
    "no abs": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf) + lam * (xf - xt).mean(),
        ["absolute value"],
    ),
    "no L1 term": (lambda lf, xf, xt, lam=100.0: _bce1(lf), ["L1 term is missing"]),
    "no GAN term": (
        lambda lf, xf, xt, lam=100.0: lam * _l1(xf, xt),
        ["adversarial term is missing"],
    ),
    "logits_fake[:, 0, 0, 0] only": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf[:, 0, 0, 0]) + lam * _l1(xf, xt),
        ["one patch per image"],
    ),
    "GAN term halved like D's": (
        lambda lf, xf, xt, lam=100.0: 0.5 * _bce1(lf) + lam * _l1(xf, xt),
        ["halved", "only D's"],
    ),
    "default λ = 10": (
        lambda lf, xf, xt, lam=10.0: _bce1(lf) + lam * _l1(xf, xt),
        ["default", "λ = 100", "lambda_l1=100.0"],
    ),
    "no default for λ": (
        lambda lf, xf, xt, lam: _bce1(lf) + lam * _l1(xf, xt),
        ["raised TypeError", "lambda_l1=100.0"],
    ),
    "x_fake detached": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf) + lam * _l1(xf.detach(), xt),
        ["no gradient reaches x_fake"],
    ),
    "logits detached": (
        lambda lf, xf, xt, lam=100.0: _bce1(lf.detach()) + lam * _l1(xf, xt),
        ["no gradient reaches logits_fake"],
    ),
    "naive log(sigmoid)": (
        lambda lf, xf, xt, lam=100.0: (
            -torch.log(torch.sigmoid(lf)).mean() + lam * _l1(xf, xt)
        ),
        ["large patch logits"],
    ),
    "NaN": (
        lambda lf, xf, xt, lam=100.0: (
            _bce1(lf) + lam * _l1(xf, xt).sqrt() * float("nan")
        ),
        ["NaN"],
    ),
}


@pytest.mark.parametrize("name", list(G_WRONG))
def test_pix2pix_g_loss_rejects_wrong_answers(name):
    fn, words = G_WRONG[name]
    assert_fail("ch04.pix2pix_g_loss", fn, *words)


def test_every_g_mistake_differs_from_the_reference_and_the_others_on_case_1():
    first = ch04._g_cases()[0]
    assert first.lambda_l1 not in (None, ch04.LAMBDA_L1)
    lam = first.lambda_l1
    _separated_on_first_case(
        [
            Mistake(lambda *a, f=m.fn: f(*a, lam), m.message, m.hint)
            for m in ch04._G_MISTAKES
        ],
        first.case.args,
        lambda *a: ch04.pix2pix_g_loss(*a, lam),
    )


def test_g_cases_pass_several_lambdas_and_omit_it_once():
    lams = [c.lambda_l1 for c in ch04._g_cases()]
    assert lams.count(None) == 1
    assert len({lam for lam in lams if lam is not None}) >= 3
    for c in ch04._g_cases():
        lf, xf, xt = c.case.args
        assert lf.dtype == xf.dtype == torch.float32
        assert bool((xf - xt).abs().min() > 0.09)  # away from the kink of |.|
        assert float(xf.abs().max()) <= 1 and float(xt.abs().max()) <= 1


def test_g_check_compares_gradients_and_passes_the_target_as_data():
    seen = []

    def spy(lf, xf, xt, lambda_l1=100.0):
        seen.append((lf.requires_grad, xf.requires_grad, xt.requires_grad))
        return g_bce_l1_loss(lf, xf, xt, lambda_l1)

    assert run("ch04.pix2pix_g_loss", spy)
    assert seen and all(s == (True, True, False) for s in seen)

    def wrong_gradient(lf, xf, xt, lambda_l1=100.0):
        # the right value, but the L1 gradient is halved
        l1 = _l1(xf, xt)
        l1 = 0.5 * l1 + 0.5 * l1.detach()
        return _bce1(lf) + lambda_l1 * l1

    assert_fail(
        "ch04.pix2pix_g_loss", wrong_gradient, "gradient of the loss w.r.t. x_fake"
    )


# ---------------------------------------------------------------------------
# ch04.train_step: one halved D update, then one G update (GAN + λ L1)
# ---------------------------------------------------------------------------
def _pair(x_src, x):
    return torch.cat([x_src, x], dim=1)


def ts_reuse(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    x_fake = G(x_src)
    opt_d.zero_grad()
    logits_real = D(_pair(x_src, x_real))
    logits_fake = D(_pair(x_src, x_fake.detach()))
    d_loss = 0.5 * (_bce1(logits_real) + _bce0(logits_fake))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    logits_fake = D(_pair(x_src, x_fake))
    g_loss = _bce1(logits_fake) + lambda_l1 * F.l1_loss(x_fake, x_real)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_one_d_call(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    # real and fake pairs in one batch: one BCE mean over both is the halved loss
    bce = nn.BCEWithLogitsLoss()
    x_fake = G(x_src)
    D.zero_grad()
    n = len(x_src)
    logits = D(torch.cat([_pair(x_src, x_real), _pair(x_src, x_fake.detach())]))
    labels = torch.cat([torch.ones_like(logits[:n]), torch.zeros_like(logits[n:])])
    d_loss = bce(logits, labels)
    d_loss.backward()
    opt_d.step()
    G.zero_grad()
    logits_fake = D(_pair(x_src, x_fake))
    g_loss = bce(logits_fake, torch.ones_like(logits_fake)) + lambda_l1 * nn.L1Loss()(
        x_fake, x_real
    )
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def ts_regenerate_no_grad(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    opt_d.zero_grad()
    opt_g.zero_grad()  # both at the top: D's step never reaches G
    with torch.no_grad():
        x_fake = G(x_src)
    d_loss = 0.5 * (
        F.softplus(-D(_pair(x_src, x_real))).mean()
        + F.softplus(D(_pair(x_src, x_fake))).mean()
    )
    d_loss.backward()
    opt_d.step()
    x_fake = G(x_src)
    g_loss = (
        F.softplus(-D(_pair(x_src, x_fake))).mean()
        + lambda_l1 * torch.abs(x_fake - x_real).mean()
    )
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def ts_not_detached_but_zeroed(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    # D's backward also fills G's .grad; zeroing G's grads afterwards makes it right
    x_fake = G(x_src)
    opt_d.zero_grad()
    d_loss = ch04.pix2pix_d_loss(D(_pair(x_src, x_real)), D(_pair(x_src, x_fake)))
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad(set_to_none=False)
    g_loss = ch04.pix2pix_g_loss(
        D(_pair(x_src, x_fake)), x_fake, x_real, lambda_l1=lambda_l1
    )
    g_loss.backward()
    opt_g.step()
    return [d_loss, g_loss]


@pytest.mark.parametrize(
    "fn", [ts_reuse, ts_one_d_call, ts_regenerate_no_grad, ts_not_detached_but_zeroed]
)
def test_train_step_accepts_correct_answers(fn):
    assert_pass("ch04.train_step", fn)


def _step(
    *,
    zero_d=True,
    zero_g=True,
    detach=True,
    g_gan_detached=False,
    g_no_grad_fakes=False,
    g_first=False,
    step_d=True,
    step_g=True,
    g_uses_opt_d=False,
    step_d_twice=False,
    swap_d=False,
    g_label=1.0,
    fake_with_target=False,
    image_first=False,
    d_half=0.5,
    recon="l1",
    lam_fixed=None,
    zero_d_after_backward=False,
    retain_graph=True,
    cat_dim=1,
    image_only=False,
):
    """A hand-written learner step with one (or more) things done wrong."""

    def step(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
        lam = lambda_l1 if lam_fixed is None else lam_fixed

        def judge(x, fake):
            if image_only:
                return D(x)
            cond = x_real if fake and fake_with_target else x_src
            parts = [x, cond] if image_first else [cond, x]
            return D(torch.cat(parts, dim=cat_dim))

        if g_no_grad_fakes:
            with torch.no_grad():
                x_fake = G(x_src)
        else:
            x_fake = G(x_src)

        def d_step():
            if zero_d:
                opt_d.zero_grad()
            fakes = x_fake.detach() if detach else x_fake
            real_label, fake_label = (0.0, 1.0) if swap_d else (1.0, 0.0)
            lr, lf = judge(x_real, False), judge(fakes, True)
            loss = d_half * (
                F.binary_cross_entropy_with_logits(lr, torch.full_like(lr, real_label))
                + F.binary_cross_entropy_with_logits(
                    lf, torch.full_like(lf, fake_label)
                )
            )
            loss.backward(retain_graph=retain_graph and not detach)
            if zero_d_after_backward:
                opt_d.zero_grad()
            if step_d:
                opt_d.step()
            return loss

        def g_step():
            if zero_g:
                opt_g.zero_grad()
            fakes = x_fake.detach() if g_gan_detached else x_fake
            lf = judge(fakes, True)
            gan = F.binary_cross_entropy_with_logits(lf, torch.full_like(lf, g_label))
            if recon == "l2":
                rec = F.mse_loss(x_fake, x_real)
            elif recon == "src":
                rec = F.l1_loss(x_fake, x_src)
            elif recon == "none":
                rec = 0.0
            else:
                rec = F.l1_loss(x_fake, x_real)
            loss = gan + lam * rec
            loss.backward()
            if step_g:
                (opt_d if g_uses_opt_d else opt_g).step()
            if step_d_twice:
                opt_d.step()
            return loss

        if g_first:
            g_loss = g_step()
            d_loss = d_step()
        else:
            d_loss = d_step()
            g_loss = g_step()
        return d_loss, g_loss

    return step


def ts_stale_outputs(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    opt_d.zero_grad()
    opt_g.zero_grad()
    x_fake = G(x_src)
    logits_fake = D(_pair(x_src, x_fake))  # kept for G's step
    d_loss = 0.5 * (_bce1(D(_pair(x_src, x_real))) + _bce0(logits_fake))
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad()
    g_loss = _bce1(logits_fake) + lambda_l1 * F.l1_loss(x_fake, x_real)
    g_loss.backward()  # D's weights changed in place since logits_fake was computed
    opt_g.step()
    return d_loss, g_loss


def ts_not_detached_zeroed_first(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    opt_d.zero_grad()
    opt_g.zero_grad()
    x_fake = G(x_src)
    d_loss = 0.5 * (_bce1(D(_pair(x_src, x_real))) + _bce0(D(_pair(x_src, x_fake))))
    d_loss.backward(retain_graph=True)  # also fills G's .grad
    opt_d.step()
    g_loss = _bce1(D(_pair(x_src, x_fake))) + lambda_l1 * F.l1_loss(x_fake, x_real)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_default_lambda_in_loss(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    # calls the loss without passing lambda_l1 on: always 100
    x_fake = G(x_src)
    opt_d.zero_grad()
    d_loss = ch04.pix2pix_d_loss(
        D(_pair(x_src, x_real)), D(_pair(x_src, x_fake.detach()))
    )
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = ch04.pix2pix_g_loss(D(_pair(x_src, x_fake)), x_fake, x_real)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_no_return(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    ts_reuse(G, D, opt_g, opt_d, x_src, x_real, lambda_l1)


def ts_swapped_return(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    d_loss, g_loss = ts_reuse(G, D, opt_g, opt_d, x_src, x_real, lambda_l1)
    return g_loss, d_loss


def ts_adam_inside(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
    # makes its own optimiser for D instead of using opt_d
    opt = torch.optim.Adam(D.parameters(), lr=0.5)
    return ts_reuse(G, D, opt_g, opt, x_src, x_real, lambda_l1)


TS_WRONG = {
    "no opt_d.zero_grad()": (_step(zero_d=False), ["opt_d.zero_grad() is missing"]),
    "no opt_g.zero_grad()": (_step(zero_g=False), ["opt_g.zero_grad() is missing"]),
    "G's GAN term on detached fakes": (
        _step(g_gan_detached=True),
        ["only from the L1 term", "detached"],
    ),
    "fakes made under no_grad for both steps": (
        _step(g_no_grad_fakes=True),
        ["G did not change", "x_fake itself"],
    ),
    "opt_d.step() again in G's step": (
        _step(step_d_twice=True),
        ["updated again during G's step"],
    ),
    "opt_d.step() instead of opt_g.step()": (
        _step(g_uses_opt_d=True),
        ["instead of opt_g.step()"],
    ),
    "G's step with the old D": (_step(g_first=True), ["before D's update"]),
    "stale D outputs reused": (
        ts_stale_outputs,
        ["raised", "inplace", "again after D's update"],
    ),
    "swapped labels in D": (_step(swap_d=True), ["swapped"]),
    "G's fakes labelled fake": (_step(g_label=0.0), ["as fake", "label 1"]),
    "fakes paired with the target": (
        _step(fake_with_target=True),
        ["x_real instead of the source x_src", "torch.cat([x_src, x_fake], 1)"],
    ),
    "pairs stacked image first": (_step(image_first=True), ["image first"]),
    "no ½ on D's loss": (_step(d_half=1.0), ["½", "section 3.3"]),
    "no L1 term": (_step(recon="none"), ["no L1 term"]),
    "L1 to the source": (_step(recon="src"), ["source x_src instead of the target"]),
    "L2 instead of L1": (_step(recon="l2"), ["L2"]),
    "λ fixed at 100": (_step(lam_fixed=100.0), ["weighted by 100"]),
    "loss called without λ": (ts_default_lambda_in_loss, ["weighted by 100"]),
    "fakes not detached, no retain_graph": (
        _step(detach=False, retain_graph=False),
        ["second time", "x_fake.detach()"],
    ),
    "fakes not detached, G zeroed first": (
        ts_not_detached_zeroed_first,
        ["gradient of D's loss", "x_fake.detach()"],
    ),
    "no opt_g.step()": (_step(step_g=False), ["opt_g.step() is missing"]),
    "no opt_d.step()": (_step(step_d=False), ["D did not change"]),
    "D's grads cleared after backward": (
        _step(zero_d_after_backward=True),
        ["D did not change", "opt_d.zero_grad(), d_loss.backward(), opt_d.step()"],
    ),
    "pairs concatenated along the batch": (
        _step(cat_dim=0),
        ["raised RuntimeError", "channels", "dim=1"],
    ),
    "D given the image alone": (
        _step(image_only=True),
        ["raised RuntimeError", "torch.cat([x_src, x], dim=1)"],
    ),
    "returns nothing": (ts_no_return, ["None", "return d_loss, g_loss"]),
    "returns (g_loss, d_loss)": (ts_swapped_return, ["wrong order"]),
    "its own Adam for D": (ts_adam_inside, ["D's parameters", "differ"]),
}


@pytest.mark.parametrize("name", list(TS_WRONG))
def test_train_step_rejects_wrong_answers(name):
    fn, words = TS_WRONG[name]
    assert_fail("ch04.train_step", fn, *words)


def test_train_step_gives_the_learner_fresh_networks_with_junk_grads():
    seen = []

    def spy(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
        params = [*G.parameters(), *D.parameters()]
        seen.append((id(G), id(D), all(p.grad is not None for p in params), lambda_l1))
        assert isinstance(opt_g, torch.optim.SGD) and isinstance(opt_d, torch.optim.SGD)
        assert not any(
            isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.Dropout))
            for m in [*G.modules(), *D.modules()]
        )
        assert x_src.shape == x_real.shape
        assert D(_pair(x_src, x_real)).shape[1:] == (1, 2, 2)  # patch logits
        return ts_reuse(G, D, opt_g, opt_d, x_src, x_real, lambda_l1)

    assert run("ch04.train_step", spy)
    assert len(seen) == len(ch04._STEP_CASES) >= 2
    assert all(junk for _, _, junk, _ in seen)
    assert len({(g, d) for g, d, _, _ in seen}) == len(seen)
    assert all(lam != 100.0 for *_, lam in seen)  # so a fixed λ shows


def test_train_step_learner_cannot_corrupt_the_check():
    def vandal(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
        with torch.no_grad():
            for p in [*G.parameters(), *D.parameters()]:
                p.zero_()
        x_src.zero_()
        x_real.zero_()
        raise RuntimeError("oops")

    assert_fail("ch04.train_step", vandal, "raised RuntimeError", "oops")
    assert_pass("ch04.train_step", ts_reuse)
    assert_fail("ch04.train_step", _step(zero_d=False), "opt_d.zero_grad()")


def test_wrong_step_without_flags_is_the_reference_step():
    from gancourse.homework._steps import same_params

    for case in ch04._STEP_CASES:
        a = ch04._replay(ch04.train_step, case)
        b = ch04._replay(ch04._wrong_step, case)
        assert same_params(a.g, b.g) and same_params(a.d, b.d)
        assert [float(x) for x in a.result] == pytest.approx(
            [float(x) for x in b.result]
        )


def test_every_wrong_step_moves_some_parameter_well_beyond_the_tolerance():
    """The replays are told apart from the reference by far more than
    ``same_params``' tolerance (1e-5 relative, 1e-6 absolute)."""
    for case in ch04._STEP_CASES:
        ref = ch04._replay(ch04.train_step, case)
        for m in ch04._STEP_MISTAKES:
            wrong = ch04._replay(m.fn, case)
            gap = max(float((wrong.g[n] - ref.g[n]).abs().max()) for n in ref.g) + max(
                float((wrong.d[n] - ref.d[n]).abs().max()) for n in ref.d
            )
            if wrong.g_got_grad == ref.g_got_grad:
                assert gap > 1e-3, (m.message, case.name, gap)


def test_train_step_exception_after_a_partial_update_is_captured():
    def half_done(G, D, opt_g, opt_d, x_src, x_real, lambda_l1=100.0):
        opt_d.zero_grad()
        x_fake = G(x_src).detach()
        ch04.pix2pix_d_loss(D(_pair(x_src, x_real)), D(_pair(x_src, x_fake))).backward()
        opt_d.step()
        raise KeyError("g_loss")

    assert_fail("ch04.train_step", half_done, "raised KeyError")


# ---------------------------------------------------------------------------
# ch04.l1_alone_outputs: the predict-then-run question
# ---------------------------------------------------------------------------
def test_l1_alone_prediction_is_registered(tmp_path, monkeypatch, capsys):
    question = PREDICTIONS["ch04.l1_alone_outputs"]
    assert question.letters == ["a", "b", "c"]
    assert "L1" in question.question and question.question.endswith("?")
    assert "blurrier" in question.choices["b"]
    path = tmp_path / "progress.json"
    monkeypatch.setenv("GANCOURSE_PROGRESS", str(path))
    assert predict("ch04.l1_alone_outputs", " B ")
    assert "prediction recorded: (b)" in capsys.readouterr().out
    record = json.loads(path.read_text())["exercises"]["ch04.l1_alone_outputs"]
    assert record["answer"] == "b"
    assert not predict("ch04.l1_alone_outputs", "d")


# ---------------------------------------------------------------------------
# Verdicts, stubs, exceptions, solutions, RNG
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "eid, right, wrong, words",
    [
        (
            "ch04.receptive_field",
            rf_backwards,
            RF_WRONG["strides ignored"][0],
            ["strides", "Hint:"],
        ),
        (
            "ch04.pix2pix_d_loss",
            d_module,
            D_WRONG["no ½ (chapter 1's d_loss)"][0],
            ["½"],
        ),
        ("ch04.pix2pix_g_loss", g_bce_l1_loss, G_WRONG["L2"][0], ["L2", "Hint:"]),
        ("ch04.train_step", ts_one_d_call, _step(d_half=1.0), ["½", "Hint:"]),
    ],
)
def test_check_prints_one_line_verdicts(capsys, eid, right, wrong, words):
    assert_one_line_verdicts(capsys, eid, right, wrong, words)


@pytest.mark.parametrize("eid", sorted(CH04))
def test_not_implemented_yet(capsys, eid):
    def stub(*args):
        # YOUR CODE HERE
        raise NotImplementedError

    res = check(eid, stub)
    assert not res and res.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("eid", sorted(CH04))
def test_learner_exceptions_never_escape(eid):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    res = assert_fail(eid, broken, "raised ZeroDivisionError")
    assert res.status == "failed"


@pytest.mark.parametrize(
    "eid, words",
    [
        ("ch04.receptive_field", ["def receptive_field", "jump *= s", "70"]),
        ("ch04.pix2pix_d_loss", ["def pix2pix_d_loss", "0.5 *", "eq. 1", "3.3"]),
        ("ch04.pix2pix_g_loss", ["def pix2pix_g_loss", ".abs().mean()", "eq. 3-4"]),
        (
            "ch04.train_step",
            [
                "def pix2pix_d_loss",
                "def pix2pix_g_loss",
                "def train_step",
                "torch.cat([x_src, x_fake.detach()], dim=1)",
                "opt_g.step()",
            ],
        ),
    ],
)
def test_show_solution_prints_source(capsys, eid, words):
    assert show_solution(eid) is None
    out = capsys.readouterr().out
    for word in words:
        assert word in out, (word, out)


def test_check_does_not_change_global_rng():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    for eid in sorted(CH04):
        run(eid, EXERCISES[eid].reference)
    assert torch.equal(torch.rand(3), expected)
