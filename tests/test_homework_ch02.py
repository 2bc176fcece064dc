"""Tests for the chapter 2 homework checks (WGAN and WGAN-GP).

Every check accepts correct answers written in several ways and rejects realistic
wrong ones with a message that names the mistake. The answers below are written
by hand here, independently of the references in the package; reference values
come from hand computation or SciPy.
"""

from __future__ import annotations

import copy
import functools
import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from _helpers import assert_fail, assert_one_line_verdicts, assert_pass, run
from torch import nn

from gancourse.homework import EXERCISES, RETIRED, Failure, ch02, check, show_solution
from gancourse.homework._steps import same_params

CH02 = {
    "ch02.linear_critic",
    "ch02.gradient_penalty",
    "ch02.clip_weights_",
    "ch02.wasserstein_1d",
    "ch02.train_step",
}


def test_registry_has_chapter_2():
    assert CH02 <= set(EXERCISES)


@pytest.mark.parametrize("eid", sorted(CH02))
def test_reference_passes(eid):
    assert_pass(eid, EXERCISES[eid].reference)


# ---------------------------------------------------------------------------
# ch02.critic_loss is retired: still checked, no longer listed
# ---------------------------------------------------------------------------
def test_critic_loss_is_retired_but_still_checks(capsys):
    assert "ch02.critic_loss" not in EXERCISES
    assert "ch02.critic_loss" in RETIRED
    res = check("ch02.critic_loss", lambda r, f: f.mean() - r.mean())
    out = capsys.readouterr().out
    assert res and "retired" in out and "ch02.linear_critic" in out
    assert not check("ch02.critic_loss", lambda r, f: r.mean() - f.mean())


# ---------------------------------------------------------------------------
# ch02.linear_critic: ||mean(x_real) - mean(x_fake)||_2
# ---------------------------------------------------------------------------
def test_linear_critic_by_hand():
    ref = EXERCISES["ch02.linear_critic"].reference
    r = torch.tensor([[0.0, 0.0], [2.0, 0.0]])  # mean (1, 0)
    f = torch.tensor([[1.0, 4.0], [1.0, 4.0], [1.0, 4.0]])  # mean (1, 4)
    assert float(ref(r, f)) == pytest.approx(4.0)
    # a translate by t: the bound is |t|, and so is W1 (SciPy, independent)
    a = np.random.default_rng(0).normal(size=500)
    assert float(ref(torch.tensor(a)[:, None], torch.tensor(a + 1.5)[:, None])) == (
        pytest.approx(scipy.stats.wasserstein_distance(a, a + 1.5))
    )


def lc_norm(r, f):
    return (r.mean(0) - f.mean(0)).norm()


def lc_sqrt(r, f):
    d = r.mean(dim=0) - f.mean(dim=0)
    return torch.sqrt(torch.sum(d * d))


def lc_best_w(r, f):  # evaluate the critic at the maximising w
    d = r.mean(0) - f.mean(0)
    w = d / d.norm()
    return (r @ w).mean() - (f @ w).mean()


@pytest.mark.parametrize("fn", [lc_norm, lc_sqrt, lc_best_w])
def test_linear_critic_accepts_correct_answers(fn):
    assert_pass("ch02.linear_critic", fn)


LC_WRONG = {
    "L1 norm": (lambda r, f: (r.mean(0) - f.mean(0)).abs().sum(), ["L1"]),
    "squared norm": (lambda r, f: ((r.mean(0) - f.mean(0)) ** 2).sum(), ["squared"]),
    "features averaged": (lambda r, f: (r.mean(1) - f.mean(1)).norm(), ["dim 1"]),
    "norms subtracted": (
        lambda r, f: (r.mean(0).norm() - f.mean(0).norm()).abs(),
        ["difference of the norms"],
    ),
    "paired distances": (lambda r, f: (r - f).norm(dim=1).mean(), ["pairs"]),
    "scalar means": (lambda r, f: (r.mean() - f.mean()).abs(), ["wrong"]),
    "numpy": (lambda r, f: float(np.linalg.norm(r.mean(0) - f.mean(0))), ["float"]),
}


@pytest.mark.parametrize("name", list(LC_WRONG))
def test_linear_critic_rejects_wrong_answers(name):
    fn, words = LC_WRONG[name]
    assert_fail("ch02.linear_critic", fn, *words)


# ---------------------------------------------------------------------------
# ch02.critic_loss: E[D(fake)] - E[D(real)]
# ---------------------------------------------------------------------------
def test_critic_loss_reference_by_hand():
    ref = RETIRED["ch02.critic_loss"].reference
    r = torch.tensor([1.0, 3.0], requires_grad=True)
    f = torch.tensor([[0.5], [-0.5], [2.0]], requires_grad=True)
    loss = ref(r, f)
    assert float(loss.detach()) == pytest.approx(2 / 3 - 2)  # mean(f) - mean(r)
    loss.backward()
    assert torch.allclose(r.grad, torch.full((2,), -1 / 2))
    assert torch.allclose(f.grad, torch.full((3, 1), 1 / 3))


def cl_torch_mean(r, f):
    return torch.mean(f) - torch.mean(r)


def cl_negated(r, f):
    return -(r.mean() - f.mean())


def cl_flattened(r, f):
    return f.view(-1).mean() - r.view(-1).mean()


def cl_squeeze_sum_over_len(r, f):
    r, f = r.reshape(-1), f.reshape(-1)
    return f.sum() / len(f) - r.sum() / len(r)


@pytest.mark.parametrize(
    "fn", [cl_torch_mean, cl_negated, cl_flattened, cl_squeeze_sum_over_len]
)
def test_critic_loss_accepts_correct_answers(fn):
    assert_pass("ch02.critic_loss", fn)


CL_WRONG = {
    "sign flipped": (lambda r, f: r.mean() - f.mean(), ["sign is flipped"]),
    "BCE with logits": (
        lambda r, f: (
            F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f))
        ),
        ["BCE", "sigmoid and a log"],
    ),
    "log kept, sigmoid removed": (
        lambda r, f: torch.log(f).mean() - torch.log(r).mean(),
        ["NaN", "removing the sigmoid but keeping the log"],
    ),
    "minimax log form without sigmoid": (
        lambda r, f: -(torch.log(r).mean() + torch.log(1 - f).mean()),
        ["NaN", "log is left in"],
    ),
    "sigmoid kept": (
        lambda r, f: torch.sigmoid(f).mean() - torch.sigmoid(r).mean(),
        ["sigmoid is left in"],
    ),
    "log sigmoid kept": (
        lambda r, f: F.logsigmoid(f).mean() - F.logsigmoid(r).mean(),
        ["log(sigmoid"],
    ),
    "sum instead of mean": (lambda r, f: f.sum() - r.sum(), ["sum", "mean"]),
    "only the fake term": (lambda r, f: f.mean(), ["only the fake term"]),
    "only the real term": (lambda r, f: -r.mean(), ["only the real term"]),
    "the generator's loss": (lambda r, f: -f.mean(), ["generator's loss"]),
    "one mean over both batches": (
        lambda r, f: (f - r).mean(),
        ["different sizes", "separately"],
    ),
    "through .item()": (
        lambda r, f: torch.tensor(f.mean().item() - r.mean().item()),
        ["autograd graph"],
    ),
    "real term detached": (
        lambda r, f: f.mean() - r.detach().mean(),
        ["no gradient reaches scores_real"],
    ),
    "mean over dim 0 only": (
        lambda r, f: f.mean(0) - r.mean(0),
        ["shape", "scalar"],
    ),
    "numpy result": (
        lambda r, f: f.detach().numpy().mean() - r.detach().numpy().mean(),
        ["numpy", "torch.Tensor"],
    ),
}


@pytest.mark.parametrize("name", list(CL_WRONG))
def test_critic_loss_rejects_wrong_answers(name):
    fn, words = CL_WRONG[name]
    assert_fail("ch02.critic_loss", fn, *words)


# ---------------------------------------------------------------------------
# ch02.gradient_penalty: E[(||grad D(x_hat)|| - 1)^2], one eps per sample
# ---------------------------------------------------------------------------
def _eps_shape(x):
    return (x.shape[0],) + (1,) * (x.dim() - 1)


def _finish(critic, x_hat, norm=None):
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.flatten(1).norm(2, dim=1) if norm is None else norm(grad)
    return ((norms - 1) ** 2).mean()


def gp_rand(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    return _finish(critic, x_hat)


def gp_view_grad_outputs(critic, x_real, x_fake):
    n = x_real.size(0)
    eps = torch.rand(n).view(-1, *[1] * (x_real.dim() - 1))
    x_hat = eps * x_real.detach() + (1 - eps) * x_fake.detach()
    x_hat.requires_grad_()
    scores = critic(x_hat)
    grad = torch.autograd.grad(
        outputs=scores,
        inputs=x_hat,
        grad_outputs=torch.ones_like(scores),
        create_graph=True,
        retain_graph=True,
    )[0]
    grad = grad.view(n, -1)
    norms = torch.sqrt((grad**2).sum(dim=1) + 1e-12)
    return ((norms - 1) ** 2).mean()


def gp_rand_like_uniform_swapped(critic, x_real, x_fake):
    # eps from torch.distributions, interpolating from the fake side
    eps = torch.distributions.Uniform(0.0, 1.0).sample(_eps_shape(x_real))
    x_hat = torch.autograd.Variable(
        eps * x_fake + (1 - eps) * x_real, requires_grad=True
    )
    return _finish(
        critic, x_hat, lambda g: torch.linalg.vector_norm(g.flatten(1), dim=1)
    )


def gp_expand_as_device(critic, x_real, x_fake):
    device = next(critic.parameters()).device
    eps = torch.rand(_eps_shape(x_real), device=device).expand_as(x_real)
    x_hat = x_fake + eps * (x_real - x_fake)
    x_hat = x_hat.detach().requires_grad_(True)
    return _finish(critic, x_hat, lambda g: g.reshape(len(g), -1).norm(dim=-1))


def gp_rand_like_first_entry(critic, x_real, x_fake):
    eps = torch.rand_like(x_real.flatten(1)[:, :1]).reshape(_eps_shape(x_real))
    x_hat = torch.lerp(x_fake, x_real, eps).requires_grad_(True)
    return _finish(critic, x_hat)


@pytest.mark.parametrize(
    "fn",
    [
        gp_rand,
        gp_view_grad_outputs,
        gp_rand_like_uniform_swapped,
        gp_expand_as_device,
        gp_rand_like_first_entry,
    ],
)
def test_gradient_penalty_accepts_correct_answers(fn):
    assert_pass("ch02.gradient_penalty", fn)


# Image-only code (eps of shape (N, 1, 1, 1)) is right on every image case and
# fails only on the (N, D) case, which comes last, with a message about it.
def _gp_image_eps(make_eps, expand=False):
    def gradient_penalty(critic, x_real, x_fake):
        eps = make_eps(x_real)
        if expand:
            eps = eps.expand_as(x_real)
        x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
        return _finish(critic, x_hat)

    return gradient_penalty


GP_IMAGE_ONLY = {
    "torch.rand(N, 1, 1, 1)": (
        _gp_image_eps(lambda x: torch.rand(x.size(0), 1, 1, 1)),
        ["only fits 4-D images", "x_real.dim()"],
    ),
    "torch.rand(N).view(-1, 1, 1, 1)": (
        _gp_image_eps(lambda x: torch.rand(x.size(0)).view(-1, 1, 1, 1)),
        ["(N, 1, N, D)"],
    ),
    "torch.rand_like(x[:, :1, :1, :1])": (
        _gp_image_eps(lambda x: torch.rand_like(x[:, :1, :1, :1])),
        ["IndexError", "(N, D) here"],
    ),
    "expand_as": (
        _gp_image_eps(lambda x: torch.rand(x.size(0), 1, 1, 1), expand=True),
        ["RuntimeError", "(N, D) here"],
    ),
}


@pytest.mark.parametrize("name", list(GP_IMAGE_ONLY))
def test_gradient_penalty_image_only_eps_fails_only_on_vectors(name):
    fn, words = GP_IMAGE_ONLY[name]
    res = assert_fail("ch02.gradient_penalty", fn, "2-D inputs (8, 2)", *words)
    assert "images" not in res.message.split(",")[0]  # the (N, D) case, not before


def _gp_with(make_eps=None, point=None, norm=None, reduce="mean", power=2, lam=1.0):
    """A penalty with one ingredient changed (the rest written as gp_rand)."""

    def gradient_penalty(critic, x_real, x_fake):
        if point is not None:
            x_hat = point(x_real, x_fake).detach().requires_grad_(True)
        else:
            eps = torch.rand(_eps_shape(x_real)) if make_eps is None else None
            eps = make_eps(x_real) if make_eps is not None else eps
            x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
        scores = critic(x_hat)
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        norms = grad.flatten(1).norm(dim=1) if norm is None else norm(grad)
        dev = norms - 1
        terms = dev.abs() if power == "abs" else dev**power
        return lam * (terms.mean() if reduce == "mean" else terms.sum())

    return gradient_penalty


def gp_no_create_graph(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, retain_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_backward_into_grad(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    critic(x_hat).sum().backward(create_graph=True)
    return ((x_hat.grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_hard_coded_three_channels(critic, x_real, x_fake):
    n, _, h, w = x_real.shape
    eps = torch.rand(n, 1, 1, 1).expand(n, 3, h, w)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    return _finish(critic, x_hat)


def gp_hard_coded_view(critic, x_real, x_fake):
    n, _, h, w = x_real.shape
    eps = torch.rand(n, 1, 1, 1)
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.view(n, 3 * h * w).norm(dim=1) - 1) ** 2).mean()


def gp_forgot_requires_grad(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = eps * x_real + (1 - eps) * x_fake
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_no_grad_outputs(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_grad_outputs_n1(critic, x_real, x_fake):
    n = len(x_real)
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    scores = critic(x_hat)
    (grad,) = torch.autograd.grad(
        scores, x_hat, grad_outputs=torch.ones(n, 1), create_graph=True
    )
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_scores_mean(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).mean(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gp_per_sample(critic, x_real, x_fake):
    eps = torch.rand(_eps_shape(x_real))
    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1) ** 2


def gp_item(critic, x_real, x_fake):
    return gp_rand(critic, x_real, x_fake).item()


def gp_raises(critic, x_real, x_fake):
    return {"eps": 0.5}["alpha"]


GP_WRONG = {
    "a coefficient per pixel": (
        _gp_with(make_eps=torch.rand_like),
        ["per pixel", "one coefficient per sample"],
    ),
    "a coefficient per channel": (
        _gp_with(make_eps=lambda x: torch.rand(x.shape[0], x.shape[1], 1, 1)),
        ["3-channel", "per channel"],
    ),
    "eps from randn": (
        _gp_with(make_eps=lambda x: torch.randn(_eps_shape(x))),
        ["outside [0, 1]", "torch.rand"],
    ),
    "one eps for the whole batch": (
        _gp_with(make_eps=lambda x: torch.rand(1)),
        ["share one interpolation coefficient"],
    ),
    "midpoints only": (
        _gp_with(make_eps=lambda x: torch.full(_eps_shape(x), 0.5)),
        ["share one interpolation coefficient", "0.500"],
    ),
    "no create_graph": (gp_no_create_graph, ["create_graph=True"]),
    "backward() into x_hat.grad": (gp_backward_into_grad, [".grad", "autograd.grad"]),
    "norm per channel": (
        _gp_with(norm=lambda g: g.flatten(2).norm(dim=2)),
        ["norm is taken per channel", "reshape(N, -1)"],
    ),
    "norm over dim 1": (
        _gp_with(norm=lambda g: g.norm(2, dim=1)),
        ["dim 1 only", "reshape(N, -1)"],
    ),
    "real points only": (
        _gp_with(point=lambda r, f: r.clone()),
        ["real samples only"],
    ),
    "fake points only": (
        _gp_with(point=lambda r, f: f.clone()),
        ["fake samples only"],
    ),
    "hard-coded 3 channels in eps": (
        gp_hard_coded_three_channels,
        ["1-channel", "3 channels instead of 1", "hard-coded"],
    ),
    "hard-coded 3 channels in view": (
        gp_hard_coded_view,
        ["1-channel", "raised RuntimeError", "1 channel here", "hard-code 3"],
    ),
    "missing square": (_gp_with(power=1), ["square is missing"]),
    "abs instead of square": (_gp_with(power="abs"), ["abs"]),
    "lambda multiplied in": (_gp_with(lam=10.0), ["10 times", "λ"]),
    "sum over the batch": (_gp_with(reduce="sum"), ["sum over the batch"]),
    "squared norm": (
        _gp_with(norm=lambda g: (g.flatten(1) ** 2).sum(1)),
        ["squared norm"],
    ),
    "no target 1": (
        lambda c, r, f: _gp_with(norm=lambda g: g.flatten(1).norm(dim=1) + 1, power=2)(
            c, r, f
        ),
        ["target norm 1 is missing"],
    ),
    "one-sided": (
        _gp_with(norm=lambda g: (g.flatten(1).norm(dim=1) - 1).clamp(min=0) + 1),
        ["one-sided"],
    ),
    "gradient of scores.mean()": (gp_scores_mean, ["scores.mean()", "scores.sum()"]),
    "x_hat does not require grad": (
        gp_forgot_requires_grad,
        ["does not require grad", "requires_grad_(True)"],
    ),
    "no grad_outputs": (gp_no_grad_outputs, ["scalar", "scores.sum()"]),
    "grad_outputs of shape (N, 1)": (
        gp_grad_outputs_n1,
        ["3-channel", "torch.ones_like(scores)"],
    ),
    "per-sample penalties": (gp_per_sample, ["shape (6,)", "scalar"]),
    "a Python float": (gp_item, ["float", "torch.Tensor"]),
    "learner exception": (gp_raises, ["raised KeyError", "'alpha'", "by hand"]),
    "NaN": (
        lambda c, r, f: gp_rand(c, r, f) * float("nan"),
        ["contains NaN", "1-channel"],
    ),
}


@pytest.mark.parametrize("name", list(GP_WRONG))
def test_gradient_penalty_rejects_wrong_answers(name):
    fn, words = GP_WRONG[name]
    assert_fail("ch02.gradient_penalty", fn, *words)


def test_gp_check_records_the_learners_own_points():
    """The value is compared at the learner's own eps: a correct answer passes
    whatever seed it uses, a per-pixel eps is caught even for a linear critic
    (whose penalty does not depend on eps)."""

    def seeded(seed):
        def gradient_penalty(critic, x_real, x_fake):
            g = torch.Generator().manual_seed(seed)
            eps = torch.rand(_eps_shape(x_real), generator=g)
            x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)
            return _finish(critic, x_hat)

        return gradient_penalty

    for seed in (0, 1, 2):
        assert_pass("ch02.gradient_penalty", seeded(seed))

    # on the linear critic a per-pixel eps gives the right value at the wrong
    # points: only the recorded critic input shows the mistake
    linear = next(c for c in ch02._gp_cases() if "linear" in c.name)
    recorder = ch02._Recorder(linear.critic, linear.x_real.shape)
    per_pixel = _gp_with(make_eps=torch.rand_like)
    value = per_pixel(recorder, linear.x_real, linear.x_fake)
    assert value.item() == pytest.approx(0.16, rel=1e-5)
    with pytest.raises(Failure, match="per pixel"):
        ch02._check_interpolates(linear, recorder.inputs)


def test_gp_linear_case_by_hand():
    case = next(c for c in ch02._gp_cases() if "linear" in c.name)
    w = case.critic.w.detach()
    assert float(w.norm()) == pytest.approx(0.6, rel=1e-6)
    channel_norms = w.flatten(1).norm(dim=1)
    assert float(channel_norms.max() - channel_norms.min()) > 0.1  # unequal

    ref = EXERCISES["ch02.gradient_penalty"].reference
    gp = ref(case.critic, case.x_real, case.x_fake)
    assert gp.item() == pytest.approx((0.6 - 1) ** 2, rel=1e-5)
    (dw,) = torch.autograd.grad(gp, [case.critic.w])
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||
    assert torch.allclose(dw, 2 * (0.6 - 1) * w / 0.6, atol=1e-6)


def test_gp_reference_on_a_quadratic_critic_by_hand():
    # D(x) = ||x||^2 / 2 has gradient x: the penalty is mean (||x_hat_i|| - 1)^2
    ref = EXERCISES["ch02.gradient_penalty"].reference
    x_real = torch.tensor([[3.0, 4.0], [0.0, 1.0], [2.0, 0.0]])
    x_fake = torch.zeros(3, 2)
    torch.manual_seed(7)
    gp = ref(lambda x: 0.5 * (x**2).sum(1), x_real, x_fake)
    torch.manual_seed(7)
    eps = torch.rand(3)
    norms = eps * torch.tensor([5.0, 1.0, 2.0])  # ||eps x_real + 0||
    assert gp.item() == pytest.approx(((norms - 1) ** 2).mean().item(), rel=1e-5)


def test_gp_cases_cover_channels_vectors_and_norms_around_1():
    cases = ch02._gp_cases()
    shapes = [tuple(c.x_real.shape) for c in cases]
    assert any(len(s) == 4 and s[1] == 1 for s in shapes)
    assert any(len(s) == 4 and s[1] == 3 for s in shapes)
    assert any(len(s) == 2 for s in shapes)
    assert len(shapes[-1]) == 2  # the (N, D) case comes last
    # gradient norms on both sides of 1 in the first two cases, so the square,
    # abs, one-sided and no-square variants all differ there
    for case in cases[:2]:
        x = (0.5 * case.x_real + 0.5 * case.x_fake).requires_grad_(True)
        (g,) = torch.autograd.grad(case.critic(x).sum(), x)
        norms = g.flatten(1).norm(dim=1)
        assert norms.min() < 1 < norms.max(), norms
    for case in cases:
        assert bool(((case.x_real - case.x_fake).abs() >= 0.5).all())


# ---------------------------------------------------------------------------
# ch02.clip_weights_: every parameter to [-c, c], in place
# ---------------------------------------------------------------------------
def clip_data_clamp(module, c):
    for p in module.parameters():
        p.data.clamp_(-c, c)


def clip_no_grad(module, c):
    with torch.no_grad():
        for p in module.parameters():
            p.clamp_(-c, c)


def clip_assign_data(module, c):
    for p in module.parameters():
        p.data = p.data.clamp(-c, c)  # a new tensor, but the same Parameter


def clip_copy_and_return(module, c):
    for _, p in module.named_parameters():
        p.data.copy_(torch.clamp(p.data, min=-c, max=c))
    return module


def test_assigning_data_keeps_the_parameter_object():
    lin = nn.Linear(2, 2)
    w = lin.weight
    opt = torch.optim.SGD(lin.parameters(), lr=0.1)
    clip_assign_data(lin, 0.01)
    assert lin.weight is w and opt.param_groups[0]["params"][0] is w
    assert w.detach().abs().max().item() <= 0.01


@pytest.mark.parametrize(
    "fn", [clip_data_clamp, clip_no_grad, clip_assign_data, clip_copy_and_return]
)
def test_clip_accepts_correct_answers(fn):
    assert_pass("ch02.clip_weights_", fn)


def clip_rebind(module, c):
    for p in module.parameters():
        p = p.clamp(-c, c)  # noqa: PLW2901 (the mistake under test)


def clip_without_underscore(module, c):
    for p in module.parameters():
        p.data.clamp(-c, c)


def clip_copy(module, c):
    new = copy.deepcopy(module)
    clip_data_clamp(new, c)
    return new


def clip_weights_only(module, c):
    for name, p in module.named_parameters():
        if "weight" in name:
            p.data.clamp_(-c, c)


def clip_linear_conv_weights(module, c):
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            m.weight.data.clamp_(-c, c)


def clip_linear_conv_layers(module, c):
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            for p in m.parameters():
                p.data.clamp_(-c, c)


def clip_zero_to_c(module, c):
    for p in module.parameters():
        p.data.clamp_(0, c)


def clip_gradients(module, c):
    for p in module.parameters():
        p.grad.data.clamp_(-c, c)


def clip_replace_parameters(module, c):
    for m in module.modules():
        for name, p in list(m.named_parameters(recurse=False)):
            setattr(m, name, nn.Parameter(p.detach().clamp(-c, c)))


def clip_no_no_grad(module, c):
    for p in module.parameters():
        p.clamp_(-c, c)


def clip_state_dict(module, c):
    for v in module.state_dict().values():
        if v.is_floating_point():
            v.clamp_(-c, c)


def clip_hard_coded(module, c):
    for p in module.parameters():
        p.data.clamp_(-0.01, 0.01)


def clip_children_only(module, c):
    for child in module.children():
        if getattr(child, "weight", None) is not None:
            child.weight.data.clamp_(-c, c)
            child.bias.data.clamp_(-c, c)
    for p in module.parameters(recurse=False):
        p.data.clamp_(-c, c)


def clip_rescale(module, c):
    for p in module.parameters():
        p.data.mul_(c / p.data.abs().max().clamp(min=c))


CLIP_WRONG = {
    "rebinding p": (clip_rebind, ["nothing was clipped", "rebinds"]),
    "clamp without underscore": (clip_without_underscore, ["nothing was clipped"]),
    "returns a clipped copy": (clip_copy, ["returned a new module"]),
    "weights but not biases": (clip_weights_only, ["biases are not clipped"]),
    "Linear/Conv weights only": (
        clip_linear_conv_weights,
        ["outside the Linear / Conv", "BatchNorm2d", "every parameter"],
    ),
    "Linear/Conv layers only": (
        clip_linear_conv_layers,
        ["outside the Linear / Conv", "norm.weight (BatchNorm2d)"],
    ),
    "[0, c]": (clip_zero_to_c, ["[0, c]"]),
    "gradients instead of weights": (clip_gradients, ["gradients were clipped"]),
    "clip_grad_value_": (
        lambda m, c: nn.utils.clip_grad_value_(m.parameters(), c),
        ["gradients were clipped"],
    ),
    "new Parameter objects": (clip_replace_parameters, ["replaced", "optimiser"]),
    "in place without no_grad": (
        clip_no_no_grad,
        ["raised RuntimeError", "torch.no_grad()"],
    ),
    "state_dict clips buffers": (clip_state_dict, ["buffer", "running"]),
    "hard-coded c": (clip_hard_coded, ["±0.01", "c = 0.05"]),
    "children only": (clip_children_only, ["head.1.weight (Linear)", "nested"]),
    "rescaling": (clip_rescale, ["already within"]),
}


@pytest.mark.parametrize("name", list(CLIP_WRONG))
def test_clip_rejects_wrong_answers(name):
    fn, words = CLIP_WRONG[name]
    assert_fail("ch02.clip_weights_", fn, *words)


def test_clip_case_needs_clipping_everywhere():
    # every kind of parameter has entries beyond c, so skipping one is visible
    net = ch02._clip_net(3)
    for name, p in net.named_parameters():
        assert p.detach().abs().max().item() > 0.05, name
    kinds = {type(m) for m in net.modules()}
    assert {nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.LayerNorm} <= kinds
    assert float(net.norm.running_var.min()) > 0.5  # clipping buffers shows


# ---------------------------------------------------------------------------
# ch02.wasserstein_1d: mean |sorted(a) - sorted(b)|
# ---------------------------------------------------------------------------
def test_w1_reference_against_scipy():
    ref = EXERCISES["ch02.wasserstein_1d"].reference
    for case in ch02._w1_cases():
        want = scipy.stats.wasserstein_distance(*case.args)
        assert ref(*case.args) == pytest.approx(want, rel=1e-12)


def w1_numpy(a, b):
    return np.mean(np.abs(np.sort(a) - np.sort(b)))


def w1_torch_tensor(a, b):
    a, b = torch.from_numpy(a), torch.from_numpy(b)
    return (torch.sort(a).values - torch.sort(b).values).abs().mean()  # 0-d tensor


def w1_torch_float32_item(a, b):
    a = torch.tensor(a, dtype=torch.float32).sort()[0]
    b = torch.tensor(b, dtype=torch.float32).sort()[0]
    return torch.mean(torch.abs(a - b)).item()


def w1_python(a, b):
    return sum(abs(x - y) for x, y in zip(sorted(a), sorted(b))) / len(a)


def w1_scipy(a, b):
    return scipy.stats.wasserstein_distance(a, b)


def w1_copy_then_sort_in_place(a, b):
    a, b = a.copy(), b.copy()
    a.sort()
    b.sort()
    return np.abs(a - b).mean()


@pytest.mark.parametrize(
    "fn",
    [
        w1_numpy,
        w1_torch_tensor,
        w1_torch_float32_item,
        w1_python,
        w1_scipy,
        w1_copy_then_sort_in_place,
    ],
)
def test_w1_accepts_correct_answers(fn):
    assert_pass("ch02.wasserstein_1d", fn)


def w1_in_place(a, b):
    a.sort()
    b.sort()
    return np.abs(a - b).mean()


W1_WRONG = {
    "not sorted": (lambda a, b: np.mean(np.abs(a - b)), ["not sorted"]),
    "squared differences": (
        lambda a, b: np.mean((np.sort(a) - np.sort(b)) ** 2),
        ["squared differences", "W2²"],
    ),
    "W2": (
        lambda a, b: np.sqrt(np.mean((np.sort(a) - np.sort(b)) ** 2)),
        ["W2, the root mean squared"],
    ),
    "only a sorted": (lambda a, b: np.mean(np.abs(np.sort(a) - b)), ["only a"]),
    "only b sorted": (lambda a, b: np.mean(np.abs(a - np.sort(b))), ["only b"]),
    "sum instead of mean": (
        lambda a, b: np.sum(np.abs(np.sort(a) - np.sort(b))),
        ["sum", "np.mean"],
    ),
    "max instead of mean": (
        lambda a, b: np.max(np.abs(np.sort(a) - np.sort(b))),
        ["largest difference"],
    ),
    "opposite orders": (
        lambda a, b: np.mean(np.abs(np.sort(a) - np.sort(b)[::-1])),
        ["opposite orders"],
    ),
    "no abs": (
        lambda a, b: np.mean(np.sort(a) - np.sort(b)),
        ["absolute value is missing"],
    ),
    "distance of the means": (
        lambda a, b: abs(np.mean(a) - np.mean(b)),
        ["distance between the means"],
    ),
    "sorts the inputs in place": (w1_in_place, ["in place", "np.sort(a)"]),
    "returns the differences": (
        lambda a, b: np.abs(np.sort(a) - np.sort(b)),
        ["shape (8,)", "single number"],
    ),
    "NaN": (lambda a, b: w1_numpy(a, b) * np.nan, ["W1 is nan"]),
    "returns a string": (lambda a, b: f"{w1_numpy(a, b):.3f}", ["str", "float"]),
    "torch.sort on a NumPy array": (
        lambda a, b: (torch.sort(a).values - torch.sort(b).values).abs().mean(),
        ["raised TypeError", "torch.from_numpy"],
    ),
    "unequal handling of N = 1": (
        lambda a, b: w1_numpy(a, b) if len(a) > 1 else 0.0,
        ["N = 1", "|a[0] - b[0]|"],
    ),
}


@pytest.mark.parametrize("name", list(W1_WRONG))
def test_w1_rejects_wrong_answers(name):
    fn, words = W1_WRONG[name]
    assert_fail("ch02.wasserstein_1d", fn, *words)


def test_w1_first_case_separates_the_mistakes():
    # every listed mistake is told apart on the first case, whose real and fake
    # means are in the order that keeps "no abs" and "distance of means" apart
    a, b = ch02._w1_cases()[0].args
    values = [float(m.fn(a, b)) for m in ch02._W1_MISTAKES]
    want = scipy.stats.wasserstein_distance(a, b)
    assert np.mean(a) < np.mean(b)
    assert all(not math.isclose(v, want, rel_tol=1e-4) for v in values)
    for i, v in enumerate(values):
        for w in values[i + 1 :]:
            assert not math.isclose(v, w, rel_tol=1e-4)


# ---------------------------------------------------------------------------
# What a learner sees
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "eid, right, wrong, words",
    [
        ("ch02.linear_critic", lc_norm, LC_WRONG["L1 norm"][0], ["L1", "Hint:"]),
        (
            "ch02.gradient_penalty",
            gp_rand,
            GP_WRONG["no create_graph"][0],
            ["create_graph=True", "Hint:"],
        ),
        ("ch02.clip_weights_", clip_no_grad, clip_gradients, ["gradients", "Hint:"]),
        (
            "ch02.wasserstein_1d",
            w1_numpy,
            W1_WRONG["not sorted"][0],
            ["not sorted", "Hint:", "np.sort"],
        ),
    ],
)
def test_check_prints_one_line_verdicts(capsys, eid, right, wrong, words):
    assert_one_line_verdicts(capsys, eid, right, wrong, words)


@pytest.mark.parametrize("eid", sorted(CH02))
def test_not_implemented_yet(capsys, eid):
    def stub(*args):
        # YOUR CODE HERE
        raise NotImplementedError

    res = check(eid, stub)
    assert not res and res.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


@pytest.mark.parametrize("eid", sorted(CH02))
def test_learner_exceptions_are_one_line(eid):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    res = assert_fail(eid, broken, "raised ZeroDivisionError")
    assert res.status == "failed"


@pytest.mark.parametrize(
    "eid, words",
    [
        (
            "ch02.critic_loss",
            ["def d_wasserstein", "_flat(scores_fake).mean() - _flat(scores_real)"],
        ),
        (
            "ch02.gradient_penalty",
            ["def gradient_penalty", "create_graph=True", "torch.rand(n", "norm(2"],
        ),
        ("ch02.clip_weights_", ["def clip_weights_", "p.clamp_(-c, c)", "no_grad"]),
        ("ch02.wasserstein_1d", ["def wasserstein_1d", "np.sort(a) - np.sort(b)"]),
        (
            "ch02.train_step",
            ["def train_step", "create_graph=True", "GP_LAMBDA * gp", "opt_g.step()"],
        ),
    ],
)
def test_show_solution_prints_source(capsys, eid, words):
    assert show_solution(eid) is None
    out = capsys.readouterr().out
    for word in words:
        assert word in out, (word, out)


def test_check_does_not_change_global_rngs():
    np.random.seed(5)
    torch.manual_seed(5)
    expected = np.random.rand(3), torch.rand(3)
    np.random.seed(5)
    torch.manual_seed(5)
    for eid in CH02:
        run(eid, EXERCISES[eid].reference)
    assert np.array_equal(np.random.rand(3), expected[0])
    assert torch.equal(torch.rand(3), expected[1])


# ---------------------------------------------------------------------------
# ch02.train_step: one WGAN-GP critic update, then one G update with the
# updated critic
# ---------------------------------------------------------------------------
def _one_param_step(step, a, w, xr, zs, eps, lr_d, lr_g):
    """``step`` on G(z) = a z and D(x) = w x, junk in both .grad."""
    G, D = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        G.weight.fill_(a)
        D.weight.fill_(w)
    for p in (G.weight, D.weight):
        p.grad = torch.full_like(p, 5.0)
    opt_g = torch.optim.SGD(G.parameters(), lr=lr_g)
    opt_d = torch.optim.SGD(D.parameters(), lr=lr_d)
    col = lambda v: torch.tensor(v)[:, None]  # noqa: E731
    d_loss, g_loss = step(G, D, opt_g, opt_d, col(xr), col(zs), col(eps))
    return G.weight.item(), D.weight.item(), float(d_loss), float(g_loss)


def test_train_step_reference_by_hand():
    # D(x) = w x has gradient w at every x_hat, so the penalty is (|w| - 1)^2 and
    # d_loss = w mean(a z) - w mean(x_real) + 10 (|w| - 1)^2
    a, w, lr_d, lr_g = 0.5, 2.0, 0.01, 0.1
    xr, zs, eps = [1.0, 3.0], [2.0, -1.0], [0.3, 0.8]
    mean_fake, mean_real, mean_z = a * 0.5, 2.0, 0.5
    d_want = w * mean_fake - w * mean_real + 10 * (abs(w) - 1) ** 2
    w1 = w - lr_d * (mean_fake - mean_real + 20 * (abs(w) - 1))
    # g_loss = -w1 mean(a z): d/da = -w1 mean(z)
    a1 = a + lr_g * w1 * mean_z
    got = _one_param_step(ch02.train_step, a, w, xr, zs, eps, lr_d, lr_g)
    assert got == pytest.approx((a1, w1, d_want, -w1 * mean_fake), rel=1e-5)

    # without create_graph the penalty is a constant: w moves as if it were absent
    no_graph = functools.partial(ch02._wrong_step, create_graph=False)
    got = _one_param_step(no_graph, a, w, xr, zs, eps, lr_d, lr_g)
    assert got[1] == pytest.approx(w - lr_d * (mean_fake - mean_real), rel=1e-5)
    assert got[2] == pytest.approx(d_want, rel=1e-5)  # the value still includes it


def _x_hat(x_real, x_fake, eps):
    return (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)


def ts_autograd_reuse(G, D, opt_g, opt_d, x_real, z, eps):
    opt_d.zero_grad()
    x_fake = G(z)
    x_hat = _x_hat(x_real, x_fake.detach(), eps)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    d_loss = D(x_fake.detach()).mean() - D(x_real).mean() + 10 * gp
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = -D(x_fake).mean()
    g_loss.backward()
    opt_g.step()
    return d_loss.detach(), g_loss.detach()


def ts_grad_outputs_regenerate(G, D, opt_g, opt_d, x_real, z, eps):
    with torch.no_grad():
        x_fake = G(z)
    D.zero_grad()
    x_hat = _x_hat(x_real, x_fake, eps)
    scores = D(x_hat)
    (grad,) = torch.autograd.grad(
        scores, x_hat, grad_outputs=torch.ones_like(scores), create_graph=True
    )
    norms = torch.sqrt((grad**2).reshape(len(grad), -1).sum(dim=1))
    gp = ((norms - 1) ** 2).mean()
    w_loss = D(x_fake).reshape(-1).mean() - D(x_real).reshape(-1).mean()
    (w_loss + 10.0 * gp).backward()
    opt_d.step()
    G.zero_grad()
    g_loss = -D(G(z)).mean()  # fresh fakes, same G
    g_loss.backward()
    opt_g.step()
    return (w_loss + 10.0 * gp).item(), g_loss.item()


def ts_backward_on_penalty(G, D, opt_g, opt_d, x_real, z, eps):
    # x_hat's gradient by .backward(inputs=...), then one backward per term
    opt_d.zero_grad()
    x_fake = G(z)
    fakes = x_fake.detach()
    x_hat = _x_hat(x_real, fakes, eps)
    D(x_hat).sum().backward(inputs=[x_hat], create_graph=True)
    gp = 10 * ((x_hat.grad.reshape(len(x_hat), -1).norm(2, dim=1) - 1) ** 2).mean()
    gp.backward()
    w_loss = D(fakes).mean() - D(x_real).mean()
    w_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = -D(x_fake).mean()
    g_loss.backward()
    opt_g.step()
    return w_loss + gp, g_loss


def ts_backward_then_zero(G, D, opt_g, opt_d, x_real, z, eps):
    # .backward() on the scores at x_hat also fills D's .grad: cleared afterwards
    x_fake = G(z)
    x_hat = _x_hat(x_real, x_fake.detach(), eps)
    D(x_hat).sum().backward(create_graph=True)
    grad = x_hat.grad
    opt_d.zero_grad()
    gp = ((grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2).mean()
    d_loss = D(x_fake.detach()).mean() - D(x_real).mean() + 10 * gp
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    g_loss = -D(x_fake).mean()
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


@pytest.mark.parametrize(
    "fn",
    [
        ts_autograd_reuse,
        ts_grad_outputs_regenerate,
        ts_backward_on_penalty,
        ts_backward_then_zero,
    ],
)
def test_train_step_accepts_correct_answers(fn):
    assert_pass("ch02.train_step", fn)


def _step(
    *,
    create_graph=True,
    lam=10.0,
    with_penalty=True,
    w_sign=1.0,
    gp_sign=1.0,
    negate=False,
    g_sign=-1.0,
    zero_d=True,
    zero_g=True,
    g_detached=False,
    step_d_twice=False,
    detach=True,
    retain_graph=True,
    swap_eps=False,
    backward_on_scores=False,
    gp_sum=False,
):
    """A hand-written learner step with one (or more) things done wrong."""

    def step(G, D, opt_g, opt_d, x_real, z, eps):
        if zero_d:
            opt_d.zero_grad()
        x_fake = G(z)
        fakes = x_fake.detach() if detach else x_fake
        e = 1 - eps if swap_eps else eps
        x_hat = _x_hat(x_real, x_fake.detach(), e)
        if backward_on_scores:
            D(x_hat).sum().backward(create_graph=create_graph)
            grad = x_hat.grad
        else:
            (grad,) = torch.autograd.grad(
                D(x_hat).sum(), x_hat, create_graph=create_graph
            )
        per_sample = (grad.reshape(len(grad), -1).norm(dim=1) - 1) ** 2
        gp = per_sample.sum() if gp_sum else per_sample.mean()
        d_loss = w_sign * (D(fakes).mean() - D(x_real).mean())
        if with_penalty:
            d_loss = d_loss + gp_sign * lam * gp
        if negate:
            d_loss = -d_loss
        d_loss.backward(retain_graph=retain_graph and not detach)
        opt_d.step()
        if zero_g:
            opt_g.zero_grad()
        g_loss = g_sign * D(x_fake.detach() if g_detached else x_fake).mean()
        g_loss.backward()
        opt_g.step()
        if step_d_twice:
            opt_d.step()
        return d_loss, g_loss

    return step


def ts_not_detached_zeroed_first(G, D, opt_g, opt_d, x_real, z, eps):
    opt_d.zero_grad()
    opt_g.zero_grad()
    x_fake = G(z)
    x_hat = _x_hat(x_real, x_fake.detach(), eps)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    gp = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    d_loss = D(x_fake).mean() - D(x_real).mean() + 10 * gp
    d_loss.backward(retain_graph=True)  # also fills G's .grad
    opt_d.step()
    g_loss = -D(x_fake).mean()
    g_loss.backward()
    opt_g.step()
    return d_loss, g_loss


TS_WRONG = {
    "penalty without create_graph": (
        _step(create_graph=False),
        ["no effect", "create_graph=True"],
    ),
    "penalty left out": (_step(with_penalty=False), ["no effect", "penalty"]),
    "lambda 1": (_step(lam=1.0), ["λ is 1,", "λ = 10"]),
    "lambda 5 (not in the catalogue)": (
        _step(lam=5.0),
        ["D's parameters", "critic loss", "10 * mean"],
    ),
    "Wasserstein term flipped": (_step(w_sign=-1.0), ["wrong sign", "Wasserstein"]),
    "whole critic loss negated": (_step(negate=True), ["whole loss", "wrong sign"]),
    "penalty subtracted": (_step(gp_sign=-1.0), ["subtracted"]),
    "G's loss sign flipped": (_step(g_sign=1.0), ["G's loss has the wrong sign"]),
    "no opt_d.zero_grad()": (_step(zero_d=False), ["opt_d.zero_grad() is missing"]),
    "no opt_g.zero_grad()": (_step(zero_g=False), ["opt_g.zero_grad() is missing"]),
    "critic stepped in G's step": (
        _step(step_d_twice=True),
        ["updated again during G's step"],
    ),
    "G on detached fakes": (_step(g_detached=True), ["detached", "x_fake itself"]),
    "fakes not detached, G zeroed first": (
        ts_not_detached_zeroed_first,
        ["gradient of the critic's loss", "x_fake.detach()"],
    ),
    "fakes not detached, no retain_graph": (
        _step(detach=False, retain_graph=False),
        ["second time", "x_fake.detach()"],
    ),
    "x_hat's gradient by .backward()": (
        _step(backward_on_scores=True),
        ["filled D's .grad", "autograd.grad"],
    ),
    "eps on the wrong side": (_step(swap_eps=True), ["wrong side"]),
    "penalty summed": (_step(gp_sum=True), ["summed"]),
}


@pytest.mark.parametrize("name", list(TS_WRONG))
def test_train_step_rejects_wrong_answers(name):
    fn, words = TS_WRONG[name]
    assert_fail("ch02.train_step", fn, *words)


def test_train_step_mistakes_are_each_named_and_differ_from_the_reference():
    for case in ch02._STEP_CASES:
        ref = ch02.check_train_step.replay(ch02.train_step, case)
        plain = ch02.check_train_step.replay(ch02._wrong_step, case)
        assert same_params(ref.g, plain.g) and same_params(ref.d, plain.d)
        for mistake in ch02._STEP_MISTAKES:
            wrong = ch02.check_train_step.replay(mistake.fn, case)
            assert not (same_params(ref.g, wrong.g) and same_params(ref.d, wrong.d)), (
                mistake.message
            )
    for mistake in ch02._STEP_MISTAKES:
        assert_fail("ch02.train_step", mistake.fn, mistake.message[:40])


def test_train_step_inputs_cover_both_eps_shapes():
    seen = []

    def spy(G, D, opt_g, opt_d, x_real, z, eps):
        assert isinstance(opt_g, torch.optim.SGD) and isinstance(opt_d, torch.optim.SGD)
        assert all(p.grad is not None for p in [*G.parameters(), *D.parameters()])
        seen.append((x_real.dim(), tuple(eps.shape), D(x_real).dim(), len(z)))
        return ts_autograd_reuse(G, D, opt_g, opt_d, x_real, z, eps)

    assert run("ch02.train_step", spy)
    assert {(dims, shape[1:]) for dims, shape, _, _ in seen} == {
        (2, (1,)),
        (4, (1, 1, 1)),
    }
    assert {d for _, _, d, _ in seen} == {1, 2}  # scores (N,) and (N, 1)
    assert all(shape[0] == n for _, shape, _, n in seen)
