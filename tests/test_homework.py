"""Tests for gancourse.homework: every check accepts correct answers written in
different ways and rejects realistic wrong ones with a message that names the problem.

The answers below are written by hand here, independently of the references in
the package, so a wrong reference or a lax check makes these tests fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _helpers import assert_fail, assert_pass, run
from torch import nn

from gancourse.homework import EXERCISES, ch01, check, show_solution
from gancourse.homework._steps import same_params

CH01 = {
    "ch01.d_loss",
    "ch01.g_loss_nonsaturating",
    "ch01.optimal_logit",
    "ch01.dcgan_up_block",
    "ch01.train_step",
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
# ch01.optimal_logit: log N(x; mu_data, s^2) - log N(x; mu_g, s^2)
# ---------------------------------------------------------------------------
def test_optimal_logit_by_hand():
    ref = EXERCISES["ch01.optimal_logit"].reference
    # mu_data = 0, mu_g = 2, sigma = 1: ((x - 2)^2 - x^2) / 2 = 2 - 2x
    x = torch.tensor([-1.0, 0.0, 1.0, 3.0])
    assert torch.allclose(ref(x, 0.0, 2.0, 1.0), torch.tensor([4.0, 2.0, 0.0, -4.0]))
    # against SciPy's log densities (independent), sigma != 1
    from scipy.stats import norm

    xs = torch.linspace(-3, 3, 7, dtype=torch.float64)
    want = norm.logpdf(xs.numpy(), 0.5, 0.8) - norm.logpdf(xs.numpy(), -1.0, 0.8)
    assert np.allclose(ref(xs, 0.5, -1.0, 0.8).numpy(), want)


def ol_expanded(x, mu_data, mu_g, sigma):
    return (mu_data - mu_g) / sigma**2 * (x - (mu_data + mu_g) / 2)


def ol_distributions(x, mu_data, mu_g, sigma):
    p = torch.distributions.Normal(mu_data, sigma)
    q = torch.distributions.Normal(mu_g, sigma)
    return p.log_prob(x) - q.log_prob(x)


def ol_logit_of_log_probs(x, mu_data, mu_g, sigma):
    lp = -((x - mu_data) ** 2) / (2 * sigma**2) - math.log(sigma)
    lq = -((x - mu_g) ** 2) / (2 * sigma**2) - math.log(sigma)
    log_d = lp - torch.logaddexp(lp, lq)  # log D*, computed stably
    log_1md = lq - torch.logaddexp(lp, lq)  # log (1 - D*)
    return log_d - log_1md


@pytest.mark.parametrize("fn", [ol_expanded, ol_distributions, ol_logit_of_log_probs])
def test_optimal_logit_accepts_correct_answers(fn):
    assert_pass("ch01.optimal_logit", fn)


def _pdf(x, m, s):
    return torch.exp(-((x - m) ** 2) / (2 * s**2)) / (s * math.sqrt(2 * math.pi))


OL_WRONG = {
    "sign flipped": (
        lambda x, a, b, s: ((x - a) ** 2 - (x - b) ** 2) / (2 * s**2),
        ["sign"],
    ),
    "sigma missing": (
        lambda x, a, b, s: ((x - b) ** 2 - (x - a) ** 2) / 2,
        ["sigma = 1"],
    ),
    "half missing": (
        lambda x, a, b, s: ((x - b) ** 2 - (x - a) ** 2) / s**2,
        ["twice"],
    ),
    "sigma not squared": (
        lambda x, a, b, s: ((x - b) ** 2 - (x - a) ** 2) / (2 * s),
        ["2 sigma"],
    ),
    "the probability": (
        lambda x, a, b, s: _pdf(x, a, s) / (_pdf(x, a, s) + _pdf(x, b, s)),
        ["probability"],
    ),
    "densities divided": (
        lambda x, a, b, s: torch.log(_pdf(x, a, s) / _pdf(x, b, s)),
        ["NaN or Inf", "log densities"],
    ),
    "reduced": (
        lambda x, a, b, s: (((x - b) ** 2 - (x - a) ** 2) / (2 * s**2)).sum(),
        ["shape"],
    ),
}


@pytest.mark.parametrize("name", list(OL_WRONG))
def test_optimal_logit_rejects_wrong_answers(name):
    fn, words = OL_WRONG[name]
    assert_fail("ch01.optimal_logit", fn, *words)


def test_optimal_d_is_retired_but_still_checks(capsys):
    from gancourse.homework import RETIRED

    assert "ch01.optimal_d" not in EXERCISES and "ch01.optimal_d" in RETIRED
    assert check("ch01.optimal_d", lambda p, q: p / (p + q))
    assert "retired" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# ch01.optimal_d (retired): p_data / (p_data + p_g)
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
        ("ch01.train_step", ["def train_step", "x_fake.detach()", "opt_g.step()"]),
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


# ---------------------------------------------------------------------------
# ch01.train_step: one D update on detached fakes, then one non-saturating G
# update with the updated D
# ---------------------------------------------------------------------------
def _softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_train_step_reference_by_hand():
    # G(z) = a z and D(x) = w x: one SGD step of each, differentiated by hand
    a, w, lr_d, lr_g = 0.7, -0.4, 0.3, 0.2
    xr, zs = [1.0, -2.0, 0.5], [0.5, -1.5]
    G, D = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        G.weight.fill_(a)
        D.weight.fill_(w)
    for p in (G.weight, D.weight):
        p.grad = torch.full_like(p, 5.0)  # junk that zero_grad must clear
    opt_g = torch.optim.SGD(G.parameters(), lr=lr_g)
    opt_d = torch.optim.SGD(D.parameters(), lr=lr_d)
    d_loss, g_loss = ch01.train_step(
        G, D, opt_g, opt_d, torch.tensor(xr)[:, None], torch.tensor(zs)[:, None]
    )

    xf = [a * z for z in zs]
    d_want = (
        sum(_softplus(-w * x) for x in xr) / 3 + sum(_softplus(w * x) for x in xf) / 2
    )
    # d/dw softplus(-w x) = -sigmoid(-w x) x and d/dw softplus(w x) = sigmoid(w x) x
    dw = (
        sum(-_sigmoid(-w * x) * x for x in xr) / 3
        + sum(_sigmoid(w * x) * x for x in xf) / 2
    )
    w1 = w - lr_d * dw
    g_want = sum(_softplus(-w1 * a * z) for z in zs) / 2
    da = sum(-_sigmoid(-w1 * a * z) * w1 * z for z in zs) / 2
    assert D.weight.item() == pytest.approx(w1, rel=1e-5)
    assert G.weight.item() == pytest.approx(a - lr_g * da, rel=1e-5)
    assert float(d_loss) == pytest.approx(d_want, rel=1e-5)
    assert float(g_loss) == pytest.approx(g_want, rel=1e-5)


def _bce(logits, label):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


def ts_reuse_bce(G, D, opt_g, opt_d, x_real, z):
    opt_d.zero_grad()
    x_fake = G(z)
    d_loss = _bce(D(x_real), 1.0) + _bce(D(x_fake.detach()), 0.0)
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = _bce(D(x_fake), 1.0)
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def ts_two_backwards_module(G, D, opt_g, opt_d, x_real, z):
    # the PyTorch DCGAN example's shape: one backward per term, the fakes reused
    criterion = nn.BCEWithLogitsLoss()
    D.zero_grad()
    out = D(x_real).view(-1)
    err_real = criterion(out, torch.ones(len(out)))
    err_real.backward()
    fake = G(z)
    out = D(fake.detach()).view(-1)
    err_fake = criterion(out, torch.zeros(len(out)))
    err_fake.backward()
    opt_d.step()
    G.zero_grad()
    out = D(fake).view(-1)
    err_g = criterion(out, torch.ones(len(out)))
    err_g.backward()
    opt_g.step()
    return (err_real + err_fake).item(), err_g.item()


def ts_regenerate_softplus(G, D, opt_g, opt_d, x_real, z):
    with torch.no_grad():
        x_fake = G(z)
    opt_d.zero_grad()
    d_loss = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake)).mean()
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = -F.logsigmoid(D(G(z))).mean()  # fresh fakes, same G
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_cat_logsigmoid(G, D, opt_g, opt_d, x_real, z):
    n = len(x_real)
    opt_d.zero_grad()
    x_fake = G(z)
    logits = D(torch.cat([x_real, x_fake.detach()])).reshape(-1)
    d_loss = -F.logsigmoid(logits[:n]).mean() - F.logsigmoid(-logits[n:]).mean()
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = -F.logsigmoid(D(x_fake)).mean()
    g_loss.backward()
    opt_g.step()
    return [d_loss.item(), g_loss.item()]


def ts_not_detached_but_zeroed(G, D, opt_g, opt_d, x_real, z):
    # D's backward also fills G's .grad; zeroing G's grads afterwards makes it right
    x_fake = G(z)
    opt_d.zero_grad()
    d_loss = _bce(D(x_real), 1.0) + _bce(D(x_fake), 0.0)
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad(set_to_none=False)
    g_loss = _bce(D(x_fake), 1.0)
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


@pytest.mark.parametrize(
    "fn",
    [
        ts_reuse_bce,
        ts_two_backwards_module,
        ts_regenerate_softplus,
        ts_cat_logsigmoid,
        ts_not_detached_but_zeroed,
    ],
)
def test_train_step_accepts_correct_answers(fn):
    assert_pass("ch01.train_step", fn)


def _step(
    *,
    zero_d=True,
    zero_g=True,
    detach=True,
    retain_graph=True,
    g_detached=False,
    g_first=False,
    step_d=True,
    step_g=True,
    step_d_twice=False,
    swap=False,
    g_loss="non-saturating",
    sigmoid=False,
    halve=False,
):
    """A hand-written learner step with one (or more) things done wrong."""

    def logits_of(D, x):
        out = D(x)
        return torch.sigmoid(out) if sigmoid else out

    def step(G, D, opt_g, opt_d, x_real, z):
        x_fake = G(z)

        def d_step():
            if zero_d:
                opt_d.zero_grad()
            fakes = x_fake.detach() if detach else x_fake
            real, fake = (0.0, 1.0) if swap else (1.0, 0.0)
            loss = _bce(logits_of(D, x_real), real) + _bce(logits_of(D, fakes), fake)
            if halve:
                loss = loss / 2
            loss.backward(retain_graph=retain_graph and not detach)
            if step_d:
                opt_d.step()
            return loss

        def g_step():
            if zero_g:
                opt_g.zero_grad()
            logits = logits_of(D, x_fake.detach() if g_detached else x_fake)
            if g_loss == "saturating":  # minimise log(1 - D(G(z)))
                loss = torch.log(1 - torch.sigmoid(logits)).mean()
            elif g_loss == "fake label":
                loss = _bce(logits, 0.0)
            else:
                loss = _bce(logits, 1.0)
            loss.backward()
            if step_g:
                opt_g.step()
            if step_d_twice:
                opt_d.step()
            return loss

        if g_first:
            g = g_step()
            d = d_step()
        else:
            d = d_step()
            g = g_step()
        return d, g

    return step


def ts_stale_outputs(G, D, opt_g, opt_d, x_real, z):
    opt_d.zero_grad()
    x_fake = G(z)
    logits_fake = D(x_fake)  # kept for G's step
    d_loss = _bce(D(x_real), 1.0) + _bce(logits_fake, 0.0)
    d_loss.backward(retain_graph=True)
    opt_d.step()
    opt_g.zero_grad()
    g_loss = _bce(logits_fake, 1.0)
    g_loss.backward()  # D's weights changed in place since logits_fake
    opt_g.step()
    return d_loss, g_loss


def ts_labels_without_ones_like(G, D, opt_g, opt_d, x_real, z):
    opt_d.zero_grad()
    x_fake = G(z)
    lr, lf = D(x_real), D(x_fake.detach())
    d_loss = F.binary_cross_entropy_with_logits(
        lr, torch.ones(len(lr))
    ) + F.binary_cross_entropy_with_logits(lf, torch.zeros(len(lf)))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    lf = D(x_fake)
    g_loss = F.binary_cross_entropy_with_logits(lf, torch.ones(len(lf)))
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


def ts_no_return(G, D, opt_g, opt_d, x_real, z):
    ts_reuse_bce(G, D, opt_g, opt_d, x_real, z)


def ts_swapped_return(G, D, opt_g, opt_d, x_real, z):
    d_loss, g_loss = ts_reuse_bce(G, D, opt_g, opt_d, x_real, z)
    return g_loss, d_loss


def ts_adam_inside(G, D, opt_g, opt_d, x_real, z):
    opt = torch.optim.Adam(D.parameters(), lr=0.5)  # not the given opt_d
    return ts_reuse_bce(G, D, opt_g, opt, x_real, z)


TS_WRONG = {
    "no opt_d.zero_grad()": (_step(zero_d=False), ["opt_d.zero_grad() is missing"]),
    "no opt_g.zero_grad()": (_step(zero_g=False), ["opt_g.zero_grad() is missing"]),
    "G on detached fakes": (_step(g_detached=True), ["detached", "x_fake itself"]),
    "opt_d.step() again in G's step": (
        _step(step_d_twice=True),
        ["updated again during G's step"],
    ),
    "G's step with the old D": (_step(g_first=True), ["stale", "before D's update"]),
    "stale D outputs reused": (
        ts_stale_outputs,
        ["raised", "inplace", "stale", "D(x_fake) again"],
    ),
    "swapped labels in D": (_step(swap=True), ["swapped"]),
    "saturating G loss": (_step(g_loss="saturating"), ["saturating", "label 1"]),
    "G's fakes labelled fake": (_step(g_loss="fake label"), ["as fake", "label 1"]),
    "sigmoid before with-logits": (_step(sigmoid=True), ["sigmoid", "with-logits"]),
    "D's loss halved": (_step(halve=True), ["halved", "no factor 1/2"]),
    "fakes not detached, no retain_graph": (
        _step(detach=False, retain_graph=False),
        ["second time", "x_fake.detach()"],
    ),
    "no opt_g.step()": (_step(step_g=False), ["opt_g.step() is missing"]),
    "no opt_d.step()": (_step(step_d=False), ["D did not change"]),
    "labels of shape (N,) for (N, 1) logits": (
        ts_labels_without_ones_like,
        ["Target size", "ones_like"],
    ),
    "returns nothing": (ts_no_return, ["None", "return d_loss, g_loss"]),
    "returns (g_loss, d_loss)": (ts_swapped_return, ["wrong order"]),
    "its own Adam for D": (ts_adam_inside, ["D's parameters", "differ"]),
}


@pytest.mark.parametrize("name", list(TS_WRONG))
def test_train_step_rejects_wrong_answers(name):
    fn, words = TS_WRONG[name]
    assert_fail("ch01.train_step", fn, *words)


def test_train_step_mistakes_are_each_named_and_differ_from_the_reference():
    for case in ch01._STEP_CASES:
        ref = ch01.check_train_step.replay(ch01.train_step, case)
        plain = ch01.check_train_step.replay(ch01._wrong_step, case)
        assert same_params(ref.g, plain.g) and same_params(ref.d, plain.d)
        for mistake in ch01._STEP_MISTAKES:
            wrong = ch01.check_train_step.replay(mistake.fn, case)
            assert not (same_params(ref.g, wrong.g) and same_params(ref.d, wrong.d)), (
                mistake.message
            )
    for mistake in ch01._STEP_MISTAKES:
        assert_fail("ch01.train_step", mistake.fn, mistake.message[:40])


def test_train_step_gives_the_learner_fresh_networks_with_junk_grads():
    seen = []

    def spy(G, D, opt_g, opt_d, x_real, z):
        params = [*G.parameters(), *D.parameters()]
        seen.append((id(G), id(D), all(p.grad is not None for p in params)))
        assert isinstance(opt_g, torch.optim.SGD) and isinstance(opt_d, torch.optim.SGD)
        seen[-1] += (tuple(D(x_real).shape), len(x_real), len(z))
        return ts_reuse_bce(G, D, opt_g, opt_d, x_real, z)

    assert run("ch01.train_step", spy)
    assert len(seen) == len(ch01._STEP_CASES) >= 2
    assert all(junk for _, _, junk, *_ in seen)
    assert len({(g, d) for g, d, *_ in seen}) == len(seen)
    shapes = {len(shape) for *_, shape, _, _ in seen}
    assert shapes == {1, 2}  # D returns (N,) in one case, (N, 1) in another
    assert any(n_real != n_fake for *_, n_real, n_fake in seen)
