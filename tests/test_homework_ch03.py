"""Tests for the chapter 3 homework checks (conditional GANs).

Every check accepts correct answers written in several ways and rejects realistic
wrong ones with a message that names the mistake. The answers below are written
by hand here, independently of the references in the package; reference values
come from hand computation with ``math``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_fail, assert_one_line_verdicts, assert_pass, run
from torch import nn

from gancourse.homework import EXERCISES, ch03, check, show_solution

CH03 = {
    "ch03.one_hot_condition",
    "ch03.acgan_d_loss",
    "ch03.acgan_g_loss",
    "ch03.projection_logits",
    "ch03.train_step",
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


def test_registry_has_chapter_3():
    assert CH03 == {eid for eid in EXERCISES if eid.startswith("ch03.")}


@pytest.mark.parametrize("eid", sorted(CH03))
def test_reference_passes(eid):
    assert_pass(eid, EXERCISES[eid].reference)


@pytest.mark.parametrize("eid", sorted(CH03))
def test_function_name_matches_the_id(eid):
    ex = EXERCISES[eid]
    name = eid.split(".", 1)[1]
    assert ex.function_name == name
    assert ex.signature.startswith(name + "(")
    assert ex.reference.__name__ == name
    assert getattr(ch03, name) is ex.reference


def _softplus(x: float) -> float:
    return math.log1p(math.exp(x))


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _ce(row: list[float], label: int) -> float:
    return math.log(sum(math.exp(v) for v in row)) - row[label]


# ---------------------------------------------------------------------------
# ch03.one_hot_condition: cat([z, one_hot(y, K)], dim=1) in z's dtype
# ---------------------------------------------------------------------------
def test_one_hot_reference_by_hand():
    ref = EXERCISES["ch03.one_hot_condition"].reference
    z = torch.tensor([[0.5, -1.0], [2.0, 0.0]], dtype=torch.float64, requires_grad=True)
    out = ref(z, torch.tensor([2, 0]), 3)
    assert out.dtype == torch.float64
    want = [[0.5, -1.0, 0.0, 0.0, 1.0], [2.0, 0.0, 1.0, 0.0, 0.0]]
    assert out.tolist() == want
    out.sum().backward()
    assert z.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


def oh_f_one_hot(z, y, n_classes):
    return torch.cat([z, F.one_hot(y, num_classes=n_classes).to(z.dtype)], dim=1)


def oh_eye(z, y, n_classes):
    return torch.cat((z, torch.eye(n_classes, dtype=z.dtype, device=z.device)[y]), 1)


def oh_scatter(z, y, n_classes):
    onehot = torch.zeros(len(y), n_classes, dtype=z.dtype)
    onehot.scatter_(1, y.unsqueeze(1), 1.0)
    return torch.hstack([z, onehot])


def oh_float_one_hot_promoted(z, y, n_classes):
    # a float32 one-hot next to a float64 z: torch.cat promotes to float64
    return torch.cat([z, F.one_hot(y, n_classes).float()], dim=-1)


def oh_index_put(z, y, n_classes):
    out = torch.zeros(z.shape[0], z.shape[1] + n_classes, dtype=z.dtype)
    out[:, : z.shape[1]] = z
    out[torch.arange(len(y)), z.shape[1] + y] = 1
    return out


@pytest.mark.parametrize(
    "fn",
    [oh_f_one_hot, oh_eye, oh_scatter, oh_float_one_hot_promoted, oh_index_put],
)
def test_one_hot_accepts_correct_answers(fn):
    assert_pass("ch03.one_hot_condition", fn)


def _zeros_filled_float32(z, y, k):
    out = torch.zeros(z.shape[0], z.shape[1] + k)  # float32 whatever z is
    out[:, : z.shape[1]] = z
    out[torch.arange(len(y)), z.shape[1] + y] = 1
    return out


OH_WRONG = {
    "one-hot first": (
        lambda z, y, k: torch.cat([F.one_hot(y, k).to(z.dtype), z], dim=1),
        ["one-hot comes first", "z first"],
    ),
    "result cast to float32": (
        lambda z, y, k: torch.cat([z, F.one_hot(y, k)], dim=1).float(),
        ["dtype", "float64", ".to(z.dtype)"],
    ),
    "zeros without dtype": (_zeros_filled_float32, ["dtype", "dtype=z.dtype"]),
    "label as one column": (
        lambda z, y, k: torch.cat([z, y[:, None].to(z.dtype)], dim=1),
        ["single column", "F.one_hot"],
    ),
    "n_classes ignored": (
        lambda z, y, k: torch.cat([z, F.one_hot(y).to(z.dtype)], dim=1),
        ["max(y) + 1", "num_classes=n_classes"],
    ),
    "z detached": (
        lambda z, y, k: torch.cat([z.detach(), F.one_hot(y, k).to(z.dtype)], dim=1),
        ["detached", "z.detach()"],
    ),
    "labels not turned into one-hot": (
        lambda z, y, k: torch.cat([z, y], dim=1),
        ["raised", "F.one_hot(y, n_classes)"],
    ),
    "one-hot alone": (
        lambda z, y, k: F.one_hot(y, k).to(z.dtype),
        ["z is missing"],
    ),
    "concatenated along dim 0": (
        lambda z, y, k: torch.cat([z.flatten(), F.one_hot(y, k).flatten().to(z.dtype)]),
        ["shape", "dim=1"],
    ),
}


@pytest.mark.parametrize("name", list(OH_WRONG))
def test_one_hot_rejects_wrong_answers(name):
    fn, words = OH_WRONG[name]
    assert_fail("ch03.one_hot_condition", fn, *words)


def test_one_hot_cases_cover_dtypes_and_a_missing_top_class():
    cases = ch03._onehot_cases()
    assert {c.args[0].dtype for c in cases} == {torch.float32, torch.float64}
    # F.one_hot(y) without num_classes gives a different width on some case
    assert any(int(c.args[1].max()) + 1 < c.args[2] for c in cases)


# ---------------------------------------------------------------------------
# ch03.acgan_d_loss: BCE(real, 1) + BCE(fake, 0) + CE(real) + CE(fake)
# ---------------------------------------------------------------------------
def test_acgan_d_loss_reference_by_hand():
    ref = EXERCISES["ch03.acgan_d_loss"].reference
    lr = torch.tensor([1.0, -2.0], requires_grad=True)
    cr = torch.tensor([[1.0, 0.0, 0.0], [0.0, 2.0, -1.0]], requires_grad=True)
    lf = torch.tensor([[0.5]], requires_grad=True)
    cf = torch.tensor([[0.0, 0.0, 3.0]], requires_grad=True)
    yr, yf = torch.tensor([0, 2]), torch.tensor([1])
    loss = ref(lr, cr, yr, lf, cf, yf)
    want = (
        (_softplus(-1.0) + _softplus(2.0)) / 2
        + _softplus(0.5)
        + (_ce([1.0, 0.0, 0.0], 0) + _ce([0.0, 2.0, -1.0], 2)) / 2
        + _ce([0.0, 0.0, 3.0], 1)
    )
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)
    loss.backward()
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    # d softplus(-l) / dl = -sigmoid(-l), over a batch of 2
    assert lr.grad.tolist() == pytest.approx([-sigmoid(-1.0) / 2, -sigmoid(2.0) / 2])
    assert float(lf.grad[0, 0]) == pytest.approx(sigmoid(0.5))
    # d CE / d logits = softmax - one_hot
    e = [math.exp(v) for v in (0.0, 0.0, 3.0)]
    assert cf.grad[0].tolist() == pytest.approx(
        [e[0] / sum(e), e[1] / sum(e) - 1, e[2] / sum(e)], rel=1e-5
    )


def d_bce_ce(lr, cr, yr, lf, cf, yf):
    lr, lf = lr.view(-1), lf.view(-1)
    return (
        F.binary_cross_entropy_with_logits(lr, torch.ones_like(lr))
        + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))
        + F.cross_entropy(cr, yr)
        + F.cross_entropy(cf, yf)
    )


def d_softplus_gather(lr, cr, yr, lf, cf, yf):
    def ce(c, y):
        return -F.log_softmax(c, dim=1).gather(1, y[:, None]).mean()

    return F.softplus(-lr).mean() + F.softplus(lf).mean() + ce(cr, yr) + ce(cf, yf)


def d_modules_real_plus_fake(lr, cr, yr, lf, cf, yf):
    bce, ce = nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()
    lr, lf = lr.squeeze(-1) if lr.dim() == 2 else lr, lf.reshape(len(lf))
    d_real = bce(lr, torch.ones(len(lr))) + ce(cr, yr)
    d_fake = bce(lf, torch.zeros(len(lf))) + ce(cf, yf)
    return d_real + d_fake


def d_logsigmoid_nll(lr, cr, yr, lf, cf, yf):
    return (
        -F.logsigmoid(lr).mean()
        - F.logsigmoid(-lf).mean()
        + F.nll_loss(F.log_softmax(cr, 1), yr)
        + F.nll_loss(F.log_softmax(cf, 1), yf)
    )


@pytest.mark.parametrize(
    "fn", [d_bce_ce, d_softplus_gather, d_modules_real_plus_fake, d_logsigmoid_nll]
)
def test_acgan_d_loss_accepts_correct_answers(fn):
    assert_pass("ch03.acgan_d_loss", fn)


def _bce1(x):
    return F.binary_cross_entropy_with_logits(x, torch.ones_like(x))


def _bce0(x):
    return F.binary_cross_entropy_with_logits(x, torch.zeros_like(x))


def _d_src(lr, lf):
    return _bce1(lr) + _bce0(lf)


def _d_cls(cr, yr, cf, yf):
    return F.cross_entropy(cr, yr) + F.cross_entropy(cf, yf)


def d_seed_snippet(lr, cr, yr, lf, cf, yf):
    source = 0.5 * (_bce1(lr) + _bce0(lf))
    classes = F.cross_entropy(torch.cat([cr, cf]), torch.cat([yr, yf]))
    return source + classes


def d_quarter_sigmoid_bceloss(lr, cr, yr, lf, cf, yf):
    # the PyTorch-GAN form: Sigmoid + BCELoss, each half averaged, then halved
    bce = nn.BCELoss()
    lr, lf = lr.view(-1), lf.view(-1)
    d_real = (bce(torch.sigmoid(lr), torch.ones_like(lr)) + F.cross_entropy(cr, yr)) / 2
    d_fake = (
        bce(torch.sigmoid(lf), torch.zeros_like(lf)) + F.cross_entropy(cf, yf)
    ) / 2
    return (d_real + d_fake) / 2


D_WRONG = {
    "the seed snippet's form": (d_seed_snippet, ["snippet", "no 1/2"]),
    "source term halved": (
        lambda lr, cr, yr, lf, cf, yf: 0.5 * _d_src(lr, lf) + _d_cls(cr, yr, cf, yf),
        ["source term is halved"],
    ),
    "class term on the concatenated batch": (
        lambda lr, cr, yr, lf, cf, yf: (
            _d_src(lr, lf) + F.cross_entropy(torch.cat([cr, cf]), torch.cat([yr, yf]))
        ),
        ["concatenated", "separately"],
    ),
    "(d_real + d_fake) / 2": (
        lambda lr, cr, yr, lf, cf, yf: (
            (
                (_bce1(lr) + F.cross_entropy(cr, yr))
                + (_bce0(lf) + F.cross_entropy(cf, yf))
            )
            / 2
        ),
        ["half the expected value"],
    ),
    "a quarter, Sigmoid + BCELoss": (d_quarter_sigmoid_bceloss, ["quarter"]),
    "class term on real only": (
        lambda lr, cr, yr, lf, cf, yf: _d_src(lr, lf) + F.cross_entropy(cr, yr),
        ["class term on the fakes is missing"],
    ),
    "class term on fakes only": (
        lambda lr, cr, yr, lf, cf, yf: _d_src(lr, lf) + F.cross_entropy(cf, yf),
        ["class term on the real images is missing"],
    ),
    "source labels swapped": (
        lambda lr, cr, yr, lf, cf, yf: _bce0(lr) + _bce1(lf) + _d_cls(cr, yr, cf, yf),
        ["swapped"],
    ),
    "real labels for the fakes": (
        lambda lr, cr, yr, lf, cf, yf: (
            _d_src(lr, lf) + F.cross_entropy(cr, yr) + F.cross_entropy(cf, yr)
        ),
        ["y_real instead of y_fake"],
    ),
    "sigmoid before with-logits": (
        lambda lr, cr, yr, lf, cf, yf: (
            _d_src(torch.sigmoid(lr), torch.sigmoid(lf)) + _d_cls(cr, yr, cf, yf)
        ),
        ["sigmoid is applied twice"],
    ),
    "softmax before cross_entropy": (
        lambda lr, cr, yr, lf, cf, yf: (
            _d_src(lr, lf) + _d_cls(cr.softmax(1), yr, cf.softmax(1), yf)
        ),
        ["softmax", "raw class logits"],
    ),
    "sums": (
        lambda lr, cr, yr, lf, cf, yf: (
            F.softplus(-lr).sum()
            + F.softplus(lf).sum()
            + F.cross_entropy(cr, yr, reduction="sum")
            + F.cross_entropy(cf, yf, reduction="sum")
        ),
        ["sums", "mean"],
    ),
    "no class terms": (
        lambda lr, cr, yr, lf, cf, yf: _d_src(lr, lf),
        ["class terms are missing"],
    ),
    "class terms subtracted": (
        lambda lr, cr, yr, lf, cf, yf: _d_src(lr, lf) - _d_cls(cr, yr, cf, yf),
        ["subtracted"],
    ),
    "one source mean over both batches": (
        lambda lr, cr, yr, lf, cf, yf: (
            torch.cat([F.softplus(-lr.view(-1)), F.softplus(lf.view(-1))]).mean()
            + _d_cls(cr, yr, cf, yf)
        ),
        ["N + M"],
    ),
    "naive log(sigmoid)": (
        lambda lr, cr, yr, lf, cf, yf: (
            -torch.log(torch.sigmoid(lr)).mean()
            - torch.log(1 - torch.sigmoid(lf)).mean()
            + _d_cls(cr, yr, cf, yf)
        ),
        ["large logits", "binary_cross_entropy_with_logits"],
    ),
    "naive log(softmax)": (
        lambda lr, cr, yr, lf, cf, yf: (
            _d_src(lr, lf)
            + F.nll_loss(torch.log(F.softmax(cr, 1)), yr)
            + F.nll_loss(torch.log(F.softmax(cf, 1)), yf)
        ),
        ["large logits", "log(softmax(c))", "F.cross_entropy"],
    ),
    "labels of shape (N,) for (N, 1) logits": (
        lambda lr, cr, yr, lf, cf, yf: (
            F.binary_cross_entropy_with_logits(lr, torch.ones(len(lr)))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros(len(lf)))
            + _d_cls(cr, yr, cf, yf)
        ),
        ["(N, 1)", "ones_like"],
    ),
    "class logits of the reals detached": (
        lambda lr, cr, yr, lf, cf, yf: _d_src(lr, lf) + _d_cls(cr.detach(), yr, cf, yf),
        ["no gradient reaches class_logits_real"],
    ),
}


@pytest.mark.parametrize("name", list(D_WRONG))
def test_acgan_d_loss_rejects_wrong_answers(name):
    fn, words = D_WRONG[name]
    assert_fail("ch03.acgan_d_loss", fn, *words)


@pytest.mark.parametrize(
    "mistakes, cases",
    [
        (ch03._D_MISTAKES, ch03._acgan_d_cases()),
        (ch03._G_MISTAKES, ch03._acgan_g_cases()),
    ],
    ids=["d", "g"],
)
def test_every_loss_mistake_differs_from_the_reference_where_it_runs(mistakes, cases):
    """So a learner who is right on every case it can run is never given a
    mistake's hint (the diagnosis compares over all cases at once)."""
    reference = ch03.acgan_d_loss if len(cases[0].args) == 6 else ch03.acgan_g_loss
    for mistake in mistakes:
        ran = 0
        for case in cases:
            try:
                got = mistake.fn(*case.args)
            except ValueError:  # y_real for the fakes when the sizes differ
                continue
            ran += 1
            want = reference(*case.args)
            same = torch.isclose(got, want, rtol=1e-4, atol=1e-5)  # the check's
        assert not same, (mistake.message, case.name)
        assert ran >= 2, mistake.message


def test_acgan_d_cases_separate_the_snippet_from_halving():
    """With batches of equal size the snippet's form *is* half the loss; the first
    case has different sizes, where they differ."""
    first = ch03._acgan_d_cases()[0].args
    assert len(first[0]) != len(first[3])
    half = D_WRONG["(d_real + d_fake) / 2"][0]
    assert not torch.isclose(d_seed_snippet(*first), half(*first))
    equal = ch03._acgan_d_cases()[2].args
    assert torch.isclose(d_seed_snippet(*equal), half(*equal))


# ---------------------------------------------------------------------------
# ch03.acgan_g_loss: BCE(fake, 1) + CE(class_logits_fake, y_fake)
# ---------------------------------------------------------------------------
def test_acgan_g_loss_reference_by_hand():
    ref = EXERCISES["ch03.acgan_g_loss"].reference
    lf = torch.tensor([[2.0], [-1.0]], requires_grad=True)
    cf = torch.tensor([[1.0, -1.0], [0.5, 0.5]], requires_grad=True)
    loss = ref(lf, cf, torch.tensor([1, 0]))
    want = (_softplus(-2.0) + _softplus(1.0)) / 2 + (
        _ce([1.0, -1.0], 1) + _ce([0.5, 0.5], 0)
    ) / 2
    assert float(loss.detach()) == pytest.approx(want, rel=1e-6)
    loss.backward()
    assert cf.grad[1].tolist() == pytest.approx([(0.5 - 1) / 2, 0.5 / 2])


def g_bce_ce(lf, cf, yf):
    return F.binary_cross_entropy_with_logits(
        lf, torch.ones_like(lf)
    ) + F.cross_entropy(cf, yf)


def g_logsigmoid_nll(lf, cf, yf):
    return -F.logsigmoid(lf).mean() + F.nll_loss(F.log_softmax(cf, dim=-1), yf)


def g_modules(lf, cf, yf):
    lf = lf.view(-1)
    return nn.BCEWithLogitsLoss()(lf, torch.ones(lf.shape[0])) + nn.CrossEntropyLoss()(
        cf, yf
    )


def g_stable_by_hand(lf, cf, yf):
    lf = lf.flatten()
    source = (torch.clamp(-lf, min=0) + torch.log1p(torch.exp(-lf.abs()))).mean()
    picked = cf[torch.arange(len(yf)), yf]
    return source + (torch.logsumexp(cf, dim=1) - picked).mean()


@pytest.mark.parametrize(
    "fn", [g_bce_ce, g_logsigmoid_nll, g_modules, g_stable_by_hand]
)
def test_acgan_g_loss_accepts_correct_answers(fn):
    assert_pass("ch03.acgan_g_loss", fn)


G_WRONG = {
    "class term subtracted": (
        lambda lf, cf, yf: _bce1(lf) - F.cross_entropy(cf, yf),
        ["class term is subtracted", "adds"],
    ),
    "the paper's L_C - L_S minimised": (
        lambda lf, cf, yf: -F.logsigmoid(-lf).mean() - F.cross_entropy(cf, yf),
        ["L_C - L_S", "wrong sign"],
    ),
    "saturating source term": (
        lambda lf, cf, yf: (
            torch.log(1 - torch.sigmoid(lf)).mean() + F.cross_entropy(cf, yf)
        ),
        ["saturating"],
    ),
    "saturating via softplus": (
        lambda lf, cf, yf: -F.softplus(lf).mean() + F.cross_entropy(cf, yf),
        ["saturating"],
    ),
    "no class term": (lambda lf, cf, yf: _bce1(lf), ["class term is missing"]),
    "fake labelled fake": (
        lambda lf, cf, yf: _bce0(lf) + F.cross_entropy(cf, yf),
        ["as fake", "label 1"],
    ),
    "sigmoid before with-logits": (
        lambda lf, cf, yf: _bce1(torch.sigmoid(lf)) + F.cross_entropy(cf, yf),
        ["sigmoid is applied twice"],
    ),
    "softmax before cross_entropy": (
        lambda lf, cf, yf: _bce1(lf) + F.cross_entropy(F.softmax(cf, 1), yf),
        ["softmax"],
    ),
    "sums": (
        lambda lf, cf, yf: (
            F.softplus(-lf).sum() + F.cross_entropy(cf, yf, reduction="sum")
        ),
        ["sums"],
    ),
    "no source term": (
        lambda lf, cf, yf: F.cross_entropy(cf, yf),
        ["source term is missing"],
    ),
    "naive log(sigmoid)": (
        lambda lf, cf, yf: (
            -torch.log(torch.sigmoid(lf)).mean() + F.cross_entropy(cf, yf)
        ),
        ["large logits"],
    ),
    "(N,) labels for (N, 1) logits": (
        lambda lf, cf, yf: (
            F.binary_cross_entropy_with_logits(lf, torch.ones(len(lf)))
            + F.cross_entropy(cf, yf)
        ),
        ["(N, 1)", "ones_like"],
    ),
}


@pytest.mark.parametrize("name", list(G_WRONG))
def test_acgan_g_loss_rejects_wrong_answers(name):
    fn, words = G_WRONG[name]
    assert_fail("ch03.acgan_g_loss", fn, *words)


# ---------------------------------------------------------------------------
# ch03.projection_logits: linear(f)[:, 0] + (embed(y) * f).sum(1)
# ---------------------------------------------------------------------------
def test_projection_reference_by_hand():
    ref = EXERCISES["ch03.projection_logits"].reference
    linear, embed = nn.Linear(2, 1), nn.Embedding(2, 2)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[0.5, -1.0]]))
        linear.bias.fill_(0.25)
        embed.weight.copy_(torch.tensor([[1.0, 1.0], [2.0, -1.0]]))
    f = torch.tensor([[1.0, 2.0], [3.0, 0.0]], requires_grad=True)
    out = ref(f, torch.tensor([1, 0]), linear, embed)
    # sample 0: 0.5 - 2 + 0.25 = -1.25 plus <(2, -1), (1, 2)> = 0
    # sample 1: 1.5 + 0.25 = 1.75 plus <(1, 1), (3, 0)> = 3
    assert out.tolist() == pytest.approx([-1.25, 4.75])
    out.sum().backward()
    assert torch.allclose(f.grad, torch.tensor([[2.5, -2.0], [1.5, 0.0]]))
    assert torch.allclose(embed.weight.grad, torch.tensor([[3.0, 0.0], [1.0, 2.0]]))


def proj_index(features, y, linear, embed):
    return linear(features)[:, 0] + (embed(y) * features).sum(dim=1)


def proj_squeeze1_einsum(features, y, linear, embed):
    return linear(features).squeeze(1) + torch.einsum("nd,nd->n", embed(y), features)


def proj_weight_lookup(features, y, linear, embed):
    return linear(features).view(-1) + (embed.weight[y] * features).sum(-1)


def proj_bmm(features, y, linear, embed):
    inner = torch.bmm(embed(y)[:, None, :], features[:, :, None])  # (N, 1, 1)
    return inner.flatten() + linear(features).flatten()


def proj_keepdim_then_squeeze1(features, y, linear, embed):
    out = linear(features) + (embed(y) * features).sum(dim=1, keepdim=True)
    return out.squeeze(1)


@pytest.mark.parametrize(
    "fn",
    [
        proj_index,
        proj_squeeze1_einsum,
        proj_weight_lookup,
        proj_bmm,
        proj_keepdim_then_squeeze1,
    ],
)
def test_projection_accepts_correct_answers(fn):
    assert_pass("ch03.projection_logits", fn)


PROJ_WRONG = {
    "projection term missing": (
        lambda f, y, lin, emb: lin(f)[:, 0],
        ["projection term is missing"],
    ),
    "linear term missing": (
        lambda f, y, lin, emb: (emb(y) * f).sum(1),
        ["linear term", "missing"],
    ),
    "(N, 1) + (N,) broadcast": (
        lambda f, y, lin, emb: lin(f) + (emb(y) * f).sum(1),
        ["(N, N)", "broadcasts", ".squeeze(1)"],
    ),
    "matrix product": (
        lambda f, y, lin, emb: lin(f).squeeze(1) + f @ emb(y).T,
        ["(N, N)", "per sample"],
    ),
    "result (N, 1)": (
        lambda f, y, lin, emb: lin(f) + (emb(y) * f).sum(1, keepdim=True),
        ["(N, 1)", "squeeze(1)"],
    ),
    ".squeeze() on N = 1": (
        lambda f, y, lin, emb: (lin(f) + (emb(y) * f).sum(1, keepdim=True)).squeeze(),
        ["single sample", ".squeeze(1)"],
    ),
    "embedding of the features": (
        lambda f, y, lin, emb: lin(f)[:, 0] + (emb(f) * f).sum(1),
        ["raised", "embed(y)"],
    ),
    "bias missing": (
        lambda f, y, lin, emb: (f @ lin.weight.T)[:, 0] + (emb(y) * f).sum(1),
        ["bias"],
    ),
    "mean instead of sum": (
        lambda f, y, lin, emb: lin(f)[:, 0] + (emb(y) * f).mean(1),
        ["averaged", "sum"],
    ),
    "embedding detached": (
        lambda f, y, lin, emb: lin(f)[:, 0] + (emb(y).detach() * f).sum(1),
        ["no gradient reaches embed.weight"],
    ),
    "features detached in the linear term": (
        lambda f, y, lin, emb: lin(f.detach())[:, 0] + (emb(y) * f).sum(1),
        ["gradient", "features"],
    ),
}


@pytest.mark.parametrize("name", list(PROJ_WRONG))
def test_projection_rejects_wrong_answers(name):
    fn, words = PROJ_WRONG[name]
    assert_fail("ch03.projection_logits", fn, *words)


def test_projection_cases_include_one_sample_and_no_bias():
    assert any(c.n == 1 for c in ch03._PROJ_CASES)
    assert any(c.n > 1 and c.bias for c in ch03._PROJ_CASES)
    assert any(not c.bias for c in ch03._PROJ_CASES)


# ---------------------------------------------------------------------------
# ch03.train_step: one D update, then one G update with the updated D
# ---------------------------------------------------------------------------
def _d_terms(D, x_real, y_real, x_fake, y_fake, swap=False):
    lr, cr = D(x_real)
    lf, cf = D(x_fake)
    real, fake = (0.0, 1.0) if swap else (1.0, 0.0)
    source = F.binary_cross_entropy_with_logits(
        lr, torch.full_like(lr, real)
    ) + F.binary_cross_entropy_with_logits(lf, torch.full_like(lf, fake))
    return source + F.cross_entropy(cr, y_real) + F.cross_entropy(cf, y_fake)


def _g_terms(D, x_fake, y_fake, label=1.0):
    lf, cf = D(x_fake)
    return F.binary_cross_entropy_with_logits(
        lf, torch.full_like(lf, label)
    ) + F.cross_entropy(cf, y_fake)


def ts_reuse(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    opt_d.zero_grad()
    x_fake = G(z, y_fake)
    d_loss = _d_terms(D, x_real, y_real, x_fake.detach(), y_fake)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = _g_terms(D, x_fake, y_fake)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_regenerate_no_grad(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    opt_d.zero_grad()
    opt_g.zero_grad()  # both at the top: D's step never reaches G
    with torch.no_grad():
        x_fake = G(z, y_fake)
    d_loss = _d_terms(D, x_real, y_real, x_fake, y_fake)
    d_loss.backward()
    opt_d.step()
    g_loss = _g_terms(D, G(z, y_fake), y_fake)
    g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def ts_cat_modules(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    bce, ce = nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()
    n = len(x_real)
    D.zero_grad()
    x_fake = G(z, y_fake)
    logits, class_logits = D(torch.cat([x_real, x_fake.detach()]))
    d_loss = (
        bce(logits[:n], torch.ones(n))
        + bce(logits[n:], torch.zeros(len(x_fake)))
        + ce(class_logits[:n], y_real)
        + ce(class_logits[n:], y_fake)
    )
    d_loss.backward()
    opt_d.step()
    G.zero_grad()
    logits, class_logits = D(x_fake)
    g_loss = bce(logits, torch.ones_like(logits)) + ce(class_logits, y_fake)
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def ts_not_detached_but_zeroed(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    # D's backward also fills G's .grad; zeroing G's grads afterwards makes it right
    x_fake = G(z, y_fake)
    opt_d.zero_grad()
    d_loss = _d_terms(D, x_real, y_real, x_fake, y_fake)
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad(set_to_none=False)
    g_loss = _g_terms(D, x_fake, y_fake)
    g_loss.backward()
    opt_g.step()
    return [d_loss, g_loss]


@pytest.mark.parametrize(
    "fn", [ts_reuse, ts_regenerate_no_grad, ts_cat_modules, ts_not_detached_but_zeroed]
)
def test_train_step_accepts_correct_answers(fn):
    assert_pass("ch03.train_step", fn)


def _step(
    *,
    zero_d=True,
    zero_g=True,
    detach=True,
    g_detached=False,
    g_first=False,
    step_d=True,
    step_g=True,
    g_uses_opt_d=False,
    step_d_twice=False,
    swap_d=False,
    g_label=1.0,
    zero_d_after_backward=False,
    retain_graph=True,
):
    """A hand-written learner step with one (or more) things done wrong."""

    def step(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
        x_fake = G(z, y_fake)

        def d_step():
            if zero_d:
                opt_d.zero_grad()
            fakes = x_fake.detach() if detach else x_fake
            loss = _d_terms(D, x_real, y_real, fakes, y_fake, swap=swap_d)
            loss.backward(retain_graph=retain_graph and not detach)
            if zero_d_after_backward:
                opt_d.zero_grad()
            if step_d:
                opt_d.step()
            return loss

        def g_step():
            if zero_g:
                opt_g.zero_grad()
            fakes = x_fake.detach() if g_detached else x_fake
            loss = _g_terms(D, fakes, y_fake, label=g_label)
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


def ts_stale_outputs(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    opt_d.zero_grad()
    opt_g.zero_grad()
    x_fake = G(z, y_fake)
    lf, cf = D(x_fake)  # kept for G's step
    lr, cr = D(x_real)
    d_loss = (
        F.softplus(-lr).mean()
        + F.softplus(lf).mean()
        + F.cross_entropy(cr, y_real)
        + F.cross_entropy(cf, y_fake)
    )
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad()
    g_loss = F.softplus(-lf).mean() + F.cross_entropy(cf, y_fake)
    g_loss.backward()  # D's weights changed in place since lf was computed
    opt_g.step()
    return d_loss, g_loss


def ts_no_return(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    ts_reuse(G, D, opt_g, opt_d, x_real, y_real, z, y_fake)


def ts_swapped_return(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    d_loss, g_loss = ts_reuse(G, D, opt_g, opt_d, x_real, y_real, z, y_fake)
    return g_loss, d_loss


def ts_adam_inside(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    # makes its own optimiser for D instead of using opt_d
    opt = torch.optim.Adam(D.parameters(), lr=0.5)
    return ts_reuse(G, D, opt_g, opt, x_real, y_real, z, y_fake)


def ts_not_detached_zeroed_first(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
    opt_d.zero_grad()
    opt_g.zero_grad()
    x_fake = G(z, y_fake)
    d_loss = _d_terms(D, x_real, y_real, x_fake, y_fake)
    d_loss.backward(retain_graph=True)  # also fills G's .grad
    opt_d.step()
    g_loss = _g_terms(D, x_fake, y_fake)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


TS_WRONG = {
    "no opt_d.zero_grad()": (_step(zero_d=False), ["opt_d.zero_grad() is missing"]),
    "no opt_g.zero_grad()": (_step(zero_g=False), ["opt_g.zero_grad() is missing"]),
    "G on detached fakes": (_step(g_detached=True), ["detached", "x_fake itself"]),
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
        ["raised", "inplace", "D(x_fake) again"],
    ),
    "swapped source labels in D": (_step(swap_d=True), ["swapped"]),
    "G's fakes labelled fake": (_step(g_label=0.0), ["as fake", "label 1"]),
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
    "returns nothing": (ts_no_return, ["None", "return d_loss, g_loss"]),
    "returns (g_loss, d_loss)": (ts_swapped_return, ["wrong order"]),
    "its own Adam for D": (ts_adam_inside, ["D's parameters", "differ"]),
}


@pytest.mark.parametrize("name", list(TS_WRONG))
def test_train_step_rejects_wrong_answers(name):
    fn, words = TS_WRONG[name]
    assert_fail("ch03.train_step", fn, *words)


def test_train_step_gives_the_learner_fresh_networks_with_junk_grads():
    seen = []

    def spy(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
        params = [*G.parameters(), *D.parameters()]
        seen.append((id(G), id(D), all(p.grad is not None for p in params)))
        assert isinstance(opt_g, torch.optim.SGD) and isinstance(opt_d, torch.optim.SGD)
        assert not any(
            isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules()
        )
        return ts_reuse(G, D, opt_g, opt_d, x_real, y_real, z, y_fake)

    assert run("ch03.train_step", spy)
    assert len(seen) == len(ch03._STEP_CASES) >= 2
    assert all(junk for _, _, junk in seen)
    assert len({(g, d) for g, d, _ in seen}) == len(seen)


def test_train_step_learner_cannot_corrupt_the_check():
    def vandal(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
        with torch.no_grad():
            for p in [*G.parameters(), *D.parameters()]:
                p.zero_()
        x_real.zero_()
        y_fake.zero_()
        raise RuntimeError("oops")

    assert_fail("ch03.train_step", vandal, "raised RuntimeError", "oops")
    assert_pass("ch03.train_step", ts_reuse)
    assert_fail("ch03.train_step", _step(zero_d=False), "opt_d.zero_grad()")


def test_train_step_cases_have_different_batch_sizes():
    assert any(c.n_real != c.n_fake for c in ch03._STEP_CASES)
    assert any(c.n_real == c.n_fake for c in ch03._STEP_CASES)


def test_wrong_step_without_flags_is_the_reference_step():
    for case in ch03._STEP_CASES:
        a = ch03._replay(ch03.train_step, case)
        b = ch03._replay(ch03._wrong_step, case)
        assert ch03._same_params(a.g, b.g) and ch03._same_params(a.d, b.d)
        assert [float(x) for x in a.result] == pytest.approx(
            [float(x) for x in b.result]
        )


# ---------------------------------------------------------------------------
# Verdicts, stubs, exceptions, solutions, RNG
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "eid, right, wrong, words",
    [
        (
            "ch03.one_hot_condition",
            oh_eye,
            OH_WRONG["n_classes ignored"][0],
            ["num_classes", "Hint:"],
        ),
        ("ch03.acgan_d_loss", d_bce_ce, d_seed_snippet, ["snippet", "Hint:"]),
        ("ch03.acgan_g_loss", g_modules, G_WRONG["no class term"][0], ["Hint:"]),
        (
            "ch03.projection_logits",
            proj_bmm,
            PROJ_WRONG[".squeeze() on N = 1"][0],
            [".squeeze(1)", "Hint:"],
        ),
        ("ch03.train_step", ts_cat_modules, _step(zero_g=False), ["opt_g.zero_grad"]),
    ],
)
def test_check_prints_one_line_verdicts(capsys, eid, right, wrong, words):
    assert_one_line_verdicts(capsys, eid, right, wrong, words)


@pytest.mark.parametrize("eid", sorted(CH03))
def test_not_implemented_yet(capsys, eid):
    def stub(*args):
        # YOUR CODE HERE
        raise NotImplementedError

    res = check(eid, stub)
    assert not res and res.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("eid", sorted(CH03))
def test_learner_exceptions_never_escape(eid):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    res = assert_fail(eid, broken, "raised ZeroDivisionError")
    assert res.status == "failed"


def test_train_step_exception_after_a_partial_update_is_captured():
    def half_done(G, D, opt_g, opt_d, x_real, y_real, z, y_fake):
        opt_d.zero_grad()
        _d_terms(D, x_real, y_real, G(z, y_fake).detach(), y_fake).backward()
        opt_d.step()
        raise KeyError("g_loss")

    assert_fail("ch03.train_step", half_done, "raised KeyError")


@pytest.mark.parametrize(
    "eid, words",
    [
        ("ch03.one_hot_condition", ["def concat_onehot", "F.one_hot(y, n_classes)"]),
        ("ch03.acgan_d_loss", ["def d_acgan", "def class_loss", "def acgan_d_loss"]),
        ("ch03.acgan_g_loss", ["def g_acgan", "def g_nonsaturating"]),
        ("ch03.projection_logits", ["class ProjectionHead", "[:, 0]", ".sum(dim=1)"]),
        ("ch03.train_step", ["def train_step", "x_fake.detach()", "opt_g.step()"]),
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
    for eid in sorted(CH03):
        run(eid, EXERCISES[eid].reference)
    assert torch.equal(torch.rand(3), expected)
