"""Adversarial losses against hand computations and torch's own BCE."""

import math

import pytest
import torch
import torch.nn.functional as F

from gancourse.losses import d_minimax, g_minimax, g_nonsaturating


def test_d_loss_at_chance_is_2_log_2():
    # D(x) = sigmoid(0) = 1/2 everywhere: -log(1/2) - log(1/2) = 2 log 2
    z = torch.zeros(7)
    assert d_minimax(z, torch.zeros(3)).item() == pytest.approx(2 * math.log(2))


def test_d_loss_hand_values():
    # real logit log 3 -> D = 3/4 -> -log(3/4); fake logit -log 3 -> D = 1/4 ->
    # -log(1 - 1/4) = -log(3/4). Mean over a batch of identical values.
    lr = torch.full((4,), math.log(3.0))
    lf = torch.full((2, 1), -math.log(3.0))
    assert d_minimax(lr, lf).item() == pytest.approx(-2 * math.log(0.75), rel=1e-6)


def test_g_losses_hand_values():
    lf = torch.tensor([0.0, math.log(3.0)])  # D = 1/2, 3/4
    # non-saturating: mean(-log D) = (log 2 - log 0.75) / 2
    assert g_nonsaturating(lf).item() == pytest.approx(
        (math.log(2) - math.log(0.75)) / 2, rel=1e-6
    )
    # saturating: mean(log(1 - D)) = (log 0.5 + log 0.25) / 2
    assert g_minimax(lf).item() == pytest.approx(
        (math.log(0.5) + math.log(0.25)) / 2, rel=1e-6
    )


def test_equal_to_torch_bce_on_moderate_logits():
    g = torch.Generator().manual_seed(0)
    lr, lf = torch.randn(50, generator=g) * 3, torch.randn(40, generator=g) * 3
    ref = F.binary_cross_entropy(
        torch.sigmoid(lr), torch.ones(50)
    ) + F.binary_cross_entropy(torch.sigmoid(lf), torch.zeros(40))
    assert d_minimax(lr, lf).item() == pytest.approx(ref.item(), rel=1e-5)
    ref_g = F.binary_cross_entropy(torch.sigmoid(lf), torch.ones(40))
    assert g_nonsaturating(lf).item() == pytest.approx(ref_g.item(), rel=1e-5)


def test_confident_d_stays_finite_where_sigmoid_then_log_does_not():
    lf = torch.tensor([-120.0])  # D rejects the fake with total confidence
    naive = -torch.log(torch.sigmoid(lf))  # the seed's Sigmoid + log: log(0) = inf
    assert torch.isinf(naive).all()
    assert g_nonsaturating(lf).item() == pytest.approx(120.0)
    assert d_minimax(torch.tensor([120.0]), torch.tensor([-120.0])).item() < 1e-30


def test_saturating_gradient_vanishes_where_nonsaturating_does_not():
    # d/dl of -softplus(l) is -sigmoid(l); of softplus(-l) is sigmoid(l) - 1.
    lf = torch.tensor([-10.0], requires_grad=True)
    (gs,) = torch.autograd.grad(g_minimax(lf), lf)
    (gn,) = torch.autograd.grad(g_nonsaturating(lf), lf)
    assert gs.item() == pytest.approx(-1 / (1 + math.exp(10)), rel=1e-4)  # ~ -4.5e-5
    assert gn.item() == pytest.approx(1 / (1 + math.exp(10)) - 1, rel=1e-4)  # ~ -1
    assert abs(gn.item()) > 1e4 * abs(gs.item())


def test_bad_logit_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="one logit per sample"):
        d_minimax(torch.zeros(4, 2), torch.zeros(4))
