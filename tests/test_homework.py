"""Tests for gancourse.homework: every check accepts correct answers written in
different ways and rejects realistic wrong ones with a message that names the problem.

The answers below are written by hand here, independently of the references in
the package, so a wrong reference or a lax check makes these tests fail.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_fail, assert_pass, run
from torch import nn

from gancourse.homework import EXERCISES, check, show_solution

CH01 = {
    "ch01.d_loss",
    "ch01.g_loss_nonsaturating",
    "ch01.optimal_d",
    "ch01.dcgan_up_block",
}


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_every_check_accepts_its_reference(exercise_id):
    assert_pass(exercise_id, EXERCISES[exercise_id].reference)


def test_registry_has_chapter_1():
    assert CH01 <= set(EXERCISES)


# ---------------------------------------------------------------------------
# ch01.d_loss: loss = mean softplus(-l_real) + mean softplus(l_fake)
# ---------------------------------------------------------------------------
def d_softplus(lr, lf):
    return F.softplus(-lr).mean() + F.softplus(lf).mean()


def d_bce_with_logits(lr, lf):
    return F.binary_cross_entropy_with_logits(
        lr, torch.ones_like(lr)
    ) + F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf))


def d_logsigmoid(lr, lf):
    return -F.logsigmoid(lr).mean() - F.logsigmoid(-lf).mean()


def d_module_api(lr, lf):
    bce = nn.BCEWithLogitsLoss()
    lr, lf = lr.view(-1), lf.view(-1)
    return bce(lr, torch.ones(lr.shape[0])) + bce(lf, torch.zeros(lf.shape[0]))


@pytest.mark.parametrize(
    "fn", [d_softplus, d_bce_with_logits, d_logsigmoid, d_module_api]
)
def test_d_loss_accepts_correct_answers(fn):
    assert_pass("ch01.d_loss", fn)


D_WRONG = {
    "swapped labels": (
        lambda lr, lf: F.softplus(lr).mean() + F.softplus(-lf).mean(),
        ["swapped"],
    ),
    "sign flip": (
        lambda lr, lf: F.logsigmoid(lr).mean() + F.logsigmoid(-lf).mean(),
        ["sign"],
    ),
    "sigmoid before with-logits": (
        lambda lr, lf: (
            F.binary_cross_entropy_with_logits(torch.sigmoid(lr), torch.ones_like(lr))
            + F.binary_cross_entropy_with_logits(
                torch.sigmoid(lf), torch.zeros_like(lf)
            )
        ),
        ["sigmoid"],
    ),
    "only real term": (lambda lr, lf: F.softplus(-lr).mean(), ["real term"]),
    "only fake term": (lambda lr, lf: F.softplus(lf).mean(), ["fake term"]),
    "sum instead of mean": (
        lambda lr, lf: F.softplus(-lr).sum() + F.softplus(lf).sum(),
        ["sum", "mean"],
    ),
    "factor one half": (
        lambda lr, lf: 0.5 * (F.softplus(-lr).mean() + F.softplus(lf).mean()),
        ["half"],
    ),
    "naive log(sigmoid)": (
        lambda lr, lf: (
            -(
                torch.log(torch.sigmoid(lr)).mean()
                + torch.log(1 - torch.sigmoid(lf)).mean()
            )
        ),
        ["large logits", "softplus"],
    ),
    "Sigmoid then BCELoss": (
        lambda lr, lf: (
            nn.BCELoss()(torch.sigmoid(lr), torch.ones_like(lr))
            + nn.BCELoss()(torch.sigmoid(lf), torch.zeros_like(lf))
        ),
        ["large logits", "with_logits"],
    ),
    "log1p(exp) overflows": (
        lambda lr, lf: (
            torch.log1p(torch.exp(-lr)).mean() + torch.log1p(torch.exp(lf)).mean()
        ),
        ["large logits"],
    ),
    "BCELoss on raw logits": (
        lambda lr, lf: (
            F.binary_cross_entropy(lr, torch.ones_like(lr))
            + F.binary_cross_entropy(lf, torch.zeros_like(lf))
        ),
        ["raised", "with_logits"],
    ),
    "one mean over both batches": (
        lambda lr, lf: (F.softplus(-lr) + F.softplus(lf)).mean(),
        ["different sizes"],
    ),
    "labels of shape (N,) for (N, 1) logits": (
        lambda lr, lf: (
            F.binary_cross_entropy_with_logits(lr, torch.ones(len(lr)))
            + F.binary_cross_entropy_with_logits(lf, torch.zeros(len(lf)))
        ),
        ["(N, 1)", "ones_like"],
    ),
    "fake term detached": (
        lambda lr, lf: F.softplus(-lr).mean() + F.softplus(lf.detach()).mean(),
        ["no gradient reaches logits_fake"],
    ),
}


@pytest.mark.parametrize("name", list(D_WRONG))
def test_d_loss_rejects_wrong_answers(name):
    fn, words = D_WRONG[name]
    assert_fail("ch01.d_loss", fn, *words)


# ---------------------------------------------------------------------------
# ch01.g_loss_nonsaturating: mean softplus(-l_fake)
# ---------------------------------------------------------------------------
def g_bce(lf):
    return F.binary_cross_entropy_with_logits(lf, torch.ones_like(lf))


def g_logsigmoid(lf):
    return -F.logsigmoid(lf).mean()


def g_stable_by_hand(lf):
    # softplus(-x) = max(-x, 0) + log1p(exp(-|x|)), the textbook stable form
    return (torch.clamp(-lf, min=0) + torch.log1p(torch.exp(-lf.abs()))).mean()


@pytest.mark.parametrize("fn", [g_bce, g_logsigmoid, g_stable_by_hand])
def test_g_loss_accepts_correct_answers(fn):
    assert_pass("ch01.g_loss_nonsaturating", fn)


G_WRONG = {
    "saturating minimax loss": (
        lambda lf: torch.log(1 - torch.sigmoid(lf)).mean(),
        ["saturating"],
    ),
    "fake label": (
        lambda lf: F.binary_cross_entropy_with_logits(lf, torch.zeros_like(lf)),
        ["label"],
    ),
    "sign flip": (lambda lf: F.logsigmoid(lf).mean(), ["sign"]),
    "sigmoid before with-logits": (
        lambda lf: F.binary_cross_entropy_with_logits(
            torch.sigmoid(lf), torch.ones_like(lf)
        ),
        ["sigmoid"],
    ),
    "sum instead of mean": (lambda lf: F.softplus(-lf).sum(), ["sum"]),
    "naive log(sigmoid)": (
        lambda lf: -torch.log(torch.sigmoid(lf)).mean(),
        ["large logits", "inf"],
    ),
    "Sigmoid then BCELoss": (
        lambda lf: nn.BCELoss()(torch.sigmoid(lf), torch.ones_like(lf)),
        ["large logits"],
    ),
    "mean over dim 0 only": (
        lambda lf: F.softplus(-lf).mean(dim=0),
        ["shape", "scalar"],
    ),
}


@pytest.mark.parametrize("name", list(G_WRONG))
def test_g_loss_rejects_wrong_answers(name):
    fn, words = G_WRONG[name]
    assert_fail("ch01.g_loss_nonsaturating", fn, *words)


# ---------------------------------------------------------------------------
# ch01.optimal_d: p_data / (p_data + p_g)
# ---------------------------------------------------------------------------
def opt_direct(p_data, p_g):
    return p_data / (p_data + p_g)


def opt_ratio(p_data, p_g):
    return 1.0 / (1.0 + p_g / p_data)


def opt_sigmoid_log_ratio(p_data, p_g):
    return torch.sigmoid(torch.log(p_data) - torch.log(p_g))


@pytest.mark.parametrize("fn", [opt_direct, opt_ratio, opt_sigmoid_log_ratio])
def test_optimal_d_accepts_correct_answers(fn):
    assert_pass("ch01.optimal_d", fn)


OPT_WRONG = {
    "probability of fake": (lambda p, q: q / (p + q), ["fake"]),
    "density ratio": (lambda p, q: p / q, ["ratio"]),
    "constant one half": (lambda p, q: torch.full_like(p, 0.5), ["1/2"]),
    "reduced to a scalar": (lambda p, q: (p / (p + q)).mean(), ["shape"]),
    "numpy output": (lambda p, q: p.numpy() / (p.numpy() + q.numpy()), ["numpy"]),
    "in-place on the input": (lambda p, q: p.div_(p + q), ["in place"]),
    "float64 output": (lambda p, q: p.double() / (p.double() + q.double()), ["dtype"]),
    "unnormalised mixture": (lambda p, q: p / (p + 2 * q), ["wrong"]),
}


@pytest.mark.parametrize("name", list(OPT_WRONG))
def test_optimal_d_rejects_wrong_answers(name):
    fn, words = OPT_WRONG[name]
    assert_fail("ch01.optimal_d", fn, *words)


# ---------------------------------------------------------------------------
# ch01.dcgan_up_block: (N, in, H, W) -> (N, out, 2H, 2W), BatchNorm2d + ReLU
# ---------------------------------------------------------------------------
def up_convt_4_2_1(i, o):
    return nn.Sequential(
        nn.ConvTranspose2d(i, o, 4, 2, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(True)
    )


def up_convt_with_bias(i, o):
    return nn.Sequential(
        nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.ReLU()
    )


def up_convt_2_2(i, o):
    return nn.Sequential(
        nn.ConvTranspose2d(i, o, kernel_size=2, stride=2), nn.BatchNorm2d(o), nn.ReLU()
    )


def up_upsample_conv(i, o):
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(i, o, 3, padding=1, bias=False),
        nn.BatchNorm2d(o),
        nn.ReLU(),
    )


class UpBlockModule(nn.Module):
    """A hand-written module with functional ReLU: no nn.ReLU inside."""

    def __init__(self, i, o):
        super().__init__()
        self.conv = nn.ConvTranspose2d(i, o, 4, 2, 1)
        self.bn = nn.BatchNorm2d(o)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


@pytest.mark.parametrize(
    "fn",
    [up_convt_4_2_1, up_convt_with_bias, up_convt_2_2, up_upsample_conv, UpBlockModule],
)
def test_up_block_accepts_correct_answers(fn):
    assert_pass("ch01.dcgan_up_block", fn)


UP_WRONG = {
    "padding 0 gives 2H + 2": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 0), nn.BatchNorm2d(o), nn.ReLU()
        ),
        ["(4, 4, 12, 12)", "padding=1"],
    ),
    "stride 1": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 3, 1, 1), nn.BatchNorm2d(o), nn.ReLU()
        ),
        ["stride"],
    ),
    "no BatchNorm": (
        lambda i, o: nn.Sequential(nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU()),
        ["BatchNorm2d"],
    ),
    "InstanceNorm instead of BatchNorm": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.InstanceNorm2d(o), nn.ReLU()
        ),
        ["InstanceNorm2d"],
    ),
    "LeakyReLU": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.LeakyReLU(0.2)
        ),
        ["LeakyReLU"],
    ),
    "Tanh": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.Tanh()
        ),
        ["Tanh"],
    ),
    "no activation": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o)
        ),
        ["ReLU"],
    ),
    "Sigmoid": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.Sigmoid()
        ),
        ["ReLU"],
    ),
    "ReLU before BatchNorm": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU(), nn.BatchNorm2d(o)
        ),
        ["negative"],
    ),
    "wrong channel count": (
        lambda i, o: nn.Sequential(
            nn.ConvTranspose2d(i, i, 4, 2, 1), nn.BatchNorm2d(i), nn.ReLU()
        ),
        ["channels"],
    ),
    "BatchNorm on the input": (
        lambda i, o: nn.Sequential(
            nn.BatchNorm2d(i), nn.ConvTranspose2d(i, o, 4, 2, 1), nn.ReLU()
        ),
        ["BatchNorm2d"],
    ),
    "list instead of module": (
        lambda i, o: [nn.ConvTranspose2d(i, o, 4, 2, 1), nn.BatchNorm2d(o), nn.ReLU()],
        ["nn.Module"],
    ),
    "module class instead of instance": (lambda i, o: nn.Sequential, ["nn.Module"]),
}


@pytest.mark.parametrize("name", list(UP_WRONG))
def test_up_block_rejects_wrong_answers(name):
    fn, words = UP_WRONG[name]
    assert_fail("ch01.dcgan_up_block", fn, *words)


# ---------------------------------------------------------------------------
# Learner code that misbehaves: a clear one-line message, never an exception
# ---------------------------------------------------------------------------
def test_exception_in_learner_code_is_captured(capsys):
    def broken(lr, lf):
        return lr.nonexistent_method()

    res = check("ch01.d_loss", broken)  # must not raise
    out = capsys.readouterr().out
    assert not res and res.status == "failed"
    assert "AttributeError" in res.message and "nonexistent_method" in res.message
    assert out.strip() == res.line and out.count("\n") == 1
    assert out.startswith("✗ ch01.d_loss:")


def test_exception_in_up_block_forward_is_captured():
    class Bad(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    res = assert_fail("ch01.dcgan_up_block", lambda i, o: Bad(), "boom", "forward")
    assert res.status == "failed"


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda lr, lf: float(d_softplus(lr, lf)), ["float", "torch.Tensor"]),
        (lambda lr, lf: d_softplus(lr, lf).detach().numpy(), ["numpy", "torch.Tensor"]),
        (lambda lr, lf: None, ["None", "return"]),
        (lambda lr, lf: d_softplus(lr, lf) * float("nan"), ["NaN"]),
        (lambda lr, lf: torch.tensor(d_softplus(lr, lf).item()), ["autograd graph"]),
        (lambda lr, lf: d_softplus(lr, lf).detach(), ["autograd graph"]),
        (lambda lr, lf: d_softplus(lr, lf).double(), ["dtype"]),
        (lambda lr, lf: d_softplus(lr, lf).reshape(1), ["shape", "scalar"]),
    ],
)
def test_bad_return_values_are_rejected(fn, words):
    assert_fail("ch01.d_loss", fn, *words)


def test_inplace_modification_of_input_is_rejected():
    def inplace(lr, lf):
        lr.neg_()
        return F.softplus(lr).mean() + F.softplus(lf).mean()

    assert_fail("ch01.d_loss", inplace, "in place")


def test_not_implemented_yet(capsys):
    def stub(logits_fake):
        # YOUR CODE HERE
        raise NotImplementedError

    res = check("ch01.g_loss_nonsaturating", stub)
    assert not res
    assert res.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


def test_non_callable_is_rejected_with_advice():
    res = run("ch01.d_loss", torch.tensor(1.0))
    assert not res
    assert "function" in res.message and "check(" in res.hint


def test_unknown_id_lists_valid_ids():
    with pytest.raises(ValueError) as info:
        check("ch01.dloss", d_softplus)
    msg = str(info.value)
    assert "ch01.dloss" in msg and "ch01.d_loss" in msg
    for eid in CH01:
        assert eid in msg
    with pytest.raises(ValueError, match="Valid ids"):
        show_solution("nope")


def test_result_repr_is_short_and_bool_works():
    res = run("ch01.optimal_d", opt_direct)
    assert bool(res) is True
    assert repr(res) == "CheckResult('ch01.optimal_d', passed)"
    assert str(res) == "✓ ch01.optimal_d: correct"
    bad = run("ch01.optimal_d", lambda p, q: q / (p + q))
    assert bool(bad) is False
    assert str(bad).startswith("✗ ch01.optimal_d: ") and "Hint: " in str(bad)


def test_check_does_not_change_global_rng():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run("ch01.dcgan_up_block", up_convt_4_2_1)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "eid, words",
    [
        ("ch01.d_loss", ["def d_minimax", "softplus"]),
        ("ch01.g_loss_nonsaturating", ["def g_nonsaturating", "softplus"]),
        ("ch01.optimal_d", ["def optimal_d", "p_data / (p_data + p_g)"]),
        ("ch01.dcgan_up_block", ["def up_block", "BatchNorm2d", "ReLU"]),
    ],
)
def test_show_solution_prints_source(capsys, eid, words):
    assert show_solution(eid) is None
    out = capsys.readouterr().out
    assert "def " in out
    for word in words:
        assert word in out


def test_every_reference_passes_its_own_check():
    for eid, ex in EXERCISES.items():
        assert run(eid, ex.reference), eid


def test_learner_receives_tensors_that_require_grad():
    seen = []

    def spy(lr, lf):
        seen.append((type(lr), type(lf), lr.requires_grad, lf.requires_grad))
        return d_softplus(lr, lf)

    assert run("ch01.d_loss", spy)
    assert len(seen) >= 4  # (N,), (N, 1), N != M, large logits
    assert all(t == (torch.Tensor, torch.Tensor, True, True) for t in seen)
