"""WGAN and WGAN-GP: the losses, the penalty, clipping, the methods in the Trainer.

Reference values are hand computations: a linear critic ``D(x) = <w, x> + b`` has
gradient ``w`` at every input, and a quadratic one ``D(x) = |x|^2 / 2`` has gradient
``x``, so the penalty can be written down exactly.
"""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch import nn

from gancourse.config import PRESETS, ConfigError, get_preset
from gancourse.gans import WGAN, WGANGP, WGANConfig, WGANGPConfig, build_method
from gancourse.gans.wgan import clip_weights_
from gancourse.losses import d_wasserstein, g_wasserstein, gradient_penalty
from gancourse.models import build_discriminator
from gancourse.train import Trainer, lr_factor


# ---------------------------------------------------------------- losses
def test_critic_loss_is_mean_fake_minus_mean_real():
    real = torch.tensor([1.0, 2.0, 3.0, 6.0])  # mean 3
    fake = torch.tensor([[-1.0], [0.0], [4.0]])  # mean 1, shape (N, 1)
    assert d_wasserstein(real, fake).item() == pytest.approx(1.0 - 3.0)
    assert g_wasserstein(fake).item() == pytest.approx(-1.0)


def test_wasserstein_gradients_are_plus_minus_one_over_n():
    real = torch.zeros(4, requires_grad=True)
    fake = torch.zeros(2, requires_grad=True)
    d_wasserstein(real, fake).backward()
    assert torch.allclose(real.grad, torch.full((4,), -0.25))
    assert torch.allclose(fake.grad, torch.full((2,), 0.5))


def test_wasserstein_losses_reject_many_outputs_per_sample():
    with pytest.raises(ValueError, match="one logit per sample"):
        d_wasserstein(torch.zeros(4, 3), torch.zeros(4, 3))


# ---------------------------------------------------------------- gradient penalty
class Linear(nn.Module):
    """D(x) = <w, x> + b: gradient w everywhere."""

    def __init__(self, shape, scale):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.w = nn.Parameter(torch.randn(shape, generator=g) * scale)
        self.b = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1) + self.b


@pytest.mark.parametrize("shape", [(1, 5, 5), (3, 4, 4), (7,)])
def test_penalty_of_a_linear_critic_is_norm_of_w_minus_one_squared(shape):
    D = Linear(shape, 0.3)
    x_real, x_fake = torch.randn(6, *shape), torch.randn(6, *shape)
    expected = (D.w.detach().norm().item() - 1) ** 2
    assert gradient_penalty(D, x_real, x_fake).item() == pytest.approx(
        expected, rel=1e-5
    )


def test_penalty_norm_is_over_all_of_a_sample_not_per_channel():
    # w has norm 1/sqrt(3) in each of 3 channels: per sample ||w|| = 1 exactly, so
    # the penalty is 0; a per-channel norm would give (1/sqrt(3) - 1)^2 != 0.
    w = torch.zeros(3, 2, 2)
    w[:, 0, 0] = 1 / math.sqrt(3)
    D = Linear((3, 2, 2), 0.0)
    with torch.no_grad():
        D.w.copy_(w)
    gp = gradient_penalty(D, torch.randn(4, 3, 2, 2), torch.randn(4, 3, 2, 2))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_penalty_uses_one_coefficient_per_sample():
    # D(x) = |x|^2 / 2 has gradient x_hat; with eps given, x_hat is known exactly.
    def D(x):
        return 0.5 * (x**2).flatten(1).sum(1)

    x_real = torch.ones(2, 1, 2, 2)
    x_fake = torch.zeros(2, 1, 2, 2)
    eps = torch.tensor([0.25, 1.0])
    # x_hat_i = eps_i * 1 (4 pixels): norm = 2 eps_i; penalty mean((2 eps - 1)^2)
    expected = ((2 * 0.25 - 1) ** 2 + (2 * 1.0 - 1) ** 2) / 2
    assert gradient_penalty(D, x_real, x_fake, eps=eps).item() == pytest.approx(
        expected
    )


def test_penalty_interpolates_lie_on_segments():
    seen = []

    def D(x):
        seen.append(x.detach())
        return x.flatten(1).sum(1)

    torch.manual_seed(0)
    x_real, x_fake = torch.randn(16, 2, 3, 3), torch.randn(16, 2, 3, 3)
    gradient_penalty(D, x_real, x_fake)
    (x_hat,) = seen
    # (x_hat - x_fake) = eps (x_real - x_fake): the ratio is one number per sample
    ratio = (x_hat - x_fake) / (x_real - x_fake)
    per_sample = ratio.flatten(1)
    assert torch.allclose(
        per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-4
    )
    assert (per_sample[:, 0] >= 0).all() and (per_sample[:, 0] <= 1).all()
    assert per_sample[:, 0].std() > 0.1  # not one eps for the whole batch


def test_penalty_is_differentiable_in_the_critic_parameters():
    # GP = (||w|| - 1)^2, so d GP / d w = 2 (||w|| - 1) w / ||w||: needs create_graph
    D = Linear((1, 3, 3), 1.0)
    gp = gradient_penalty(D, torch.randn(5, 1, 3, 3), torch.randn(5, 1, 3, 3))
    gp.backward()
    w = D.w.detach()
    expected = 2 * (w.norm() - 1) * w / w.norm()
    assert torch.allclose(D.w.grad, expected, atol=1e-5)


def test_penalty_passes_extra_critic_inputs_through():
    class Conditional(nn.Module):
        def forward(self, x, y):
            return x.flatten(1).sum(1) * y  # gradient norm |y| * sqrt(D)

    y = torch.tensor([1.0, 2.0])
    gp = gradient_penalty(Conditional(), torch.randn(2, 4), torch.randn(2, 4), y)
    expected = ((1 * 2 - 1) ** 2 + (2 * 2 - 1) ** 2) / 2  # sqrt(4) = 2
    assert gp.item() == pytest.approx(expected)


def test_one_sided_penalty_ignores_norms_below_one():
    D = Linear((4,), 0.1)  # ||w|| about 0.2 < 1
    x = torch.randn(3, 4)
    assert gradient_penalty(D, x, x.flip(0), side="one-sided").item() == 0.0
    assert gradient_penalty(D, x, x.flip(0)).item() > 0.5


def test_penalty_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same shape"):
        gradient_penalty(Linear((4,), 1.0), torch.randn(3, 4), torch.randn(2, 4))


def test_penalty_does_not_reach_into_the_generator():
    G = nn.Linear(2, 4)
    x_fake = G(torch.randn(3, 2))
    gradient_penalty(Linear((4,), 1.0), torch.randn(3, 4), x_fake).backward()
    assert G.weight.grad is None


# ---------------------------------------------------------------- clipping
def test_clip_weights_clamps_every_parameter_in_place():
    net = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.uniform_(-1, 1)
    before = [p for p in net.parameters()]
    values = [p.detach().clone() for p in before]
    clip_weights_(net, 0.05)
    for p, v in zip(net.parameters(), values):
        assert torch.equal(p.detach(), v.clamp(-0.05, 0.05))
    assert all(a is b for a, b in zip(net.parameters(), before))


# ---------------------------------------------------------------- methods
def test_wgan_step_clips_the_critic():
    cfg = PRESETS["wgan-mnist"].fast().override({"method.clip_c": 0.003})
    tr = Trainer(cfg, data=torch.rand(128, 1, 28, 28) * 2 - 1, progress=False)
    tr.fit(2)
    assert max(p.abs().max().item() for p in tr.D.parameters()) <= 0.003 + 1e-9
    assert "wasserstein" in tr.history[-1]


def test_wgan_gp_logs_the_estimate_and_the_penalty():
    cfg = PRESETS["wgangp-mnist"].fast()
    tr = Trainer(cfg, data=torch.rand(128, 1, 28, 28) * 2 - 1, progress=False)
    tr.fit(2)
    rec = tr.history[-1]
    # d_loss = -W + lambda * gp, all three logged
    assert rec["d_loss"] == pytest.approx(
        -rec["wasserstein"] + 10 * rec["gp"], rel=1e-4
    )
    assert max(p.abs().max().item() for p in tr.D.parameters()) > 0.01  # no clipping


def test_wgan_gp_refuses_a_batchnorm_critic():
    cfg = PRESETS["wgangp-mnist"].fast().override({"model.d_norm": "batch"})
    with pytest.raises(ValueError, match="d_norm=layer"):
        Trainer(cfg, data=torch.rand(64, 1, 28, 28), progress=False)


def test_method_registry_and_bad_values():
    m = PRESETS["wgangp-mnist"].method
    assert isinstance(build_method(m), WGANGP)
    assert isinstance(build_method(PRESETS["wgan-mnist"].method), WGAN)
    with pytest.raises(ValueError, match="gp_side"):
        WGANGPConfig(gp_side="both")
    with pytest.raises(ValueError, match="clip_c"):
        WGANConfig(clip_c=0)
    # a key of another method is an error that lists this method's keys
    with pytest.raises(ConfigError, match="valid keys: name, n_d_steps, gp_lambda"):
        PRESETS["wgangp-mnist"].override({"method.clip_c": 0.1})


@pytest.mark.parametrize(
    "norm,kinds",
    [("batch", {nn.BatchNorm2d}), ("layer", {nn.GroupNorm}), ("none", set())],
)
def test_dcgan_critic_norm_option(norm, kinds):
    m = replace(PRESETS["dcgan-mnist"].model, d_norm=norm)
    D = build_discriminator(m, (1, 28, 28))
    found = {
        type(m) for m in D.modules() if isinstance(m, (nn.BatchNorm2d, nn.GroupNorm))
    }
    assert found == kinds


def test_layer_norm_critic_scores_each_sample_alone():
    m = PRESETS["wgangp-mnist"].model
    D = build_discriminator(m, (1, 28, 28)).train()
    x = torch.randn(4, 1, 28, 28)
    s = D(x)
    x2 = x.clone()
    x2[1:] = torch.randn(3, 1, 28, 28)
    assert torch.allclose(D(x2)[0], s[0], atol=1e-5)


def test_presets_follow_the_papers():
    wgan = PRESETS["wgan-mnist"]
    assert (wgan.train.optimizer, wgan.train.lr_d, wgan.method.n_d_steps) == (
        "rmsprop",
        5e-5,
        5,
    )
    assert wgan.method.clip_c == 0.01
    for name in ("wgangp-mnist", "wgangp-fashion", "wgangp-cifar10"):
        cfg = PRESETS[name]
        assert cfg.method.name == "wgan-gp" and cfg.method.gp_lambda == 10
        assert cfg.method.n_d_steps == 5 and cfg.train.betas == (0.0, 0.9)
        assert cfg.model.d_norm != "batch"
        assert get_preset(name, fast=True).train.steps <= 200


# ---------------------------------------------------------------- lr decay
def test_linear_lr_decay_reaches_zero_and_survives_resume(tmp_path):
    assert lr_factor("linear", 0, 100) == 1.0
    assert lr_factor("linear", 75, 100) == pytest.approx(0.25)
    assert lr_factor("linear", 100, 100) == 0.0
    assert lr_factor("none", 50, 100) == 1.0
    cfg = (
        PRESETS["vanilla-ring8"]
        .fast()
        .override(
            {
                "train.lr_decay": "linear",
                "train.steps": 10,
                "train.ckpt_every": 4,
                "model.g_width": 8,
                "model.d_width": 8,
                "data.batch_size": 16,
            }
        )
    )
    tr = Trainer(cfg, tmp_path, progress=False)
    tr.fit(4)
    # before update 4 (step 3 done): lr = base * (1 - 3/10)
    assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(cfg.train.lr_g * 0.7)
    again = Trainer.resume(tmp_path / "last.pt", progress=False)
    again.fit(6)
    assert again.opt_d.param_groups[0]["lr"] == pytest.approx(cfg.train.lr_d * 0.5)


def test_unknown_lr_decay_is_a_clear_error():
    with pytest.raises(ValueError, match="lr_decay"):
        PRESETS["vanilla-ring8"].fast().override({"train.lr_decay": "cosine"})


def test_wgangp_cifar10_fast_copy_trains_on_colour_images():
    cfg = PRESETS["wgangp-cifar10"].fast()
    assert (cfg.model.arch, cfg.train.lr_decay) == ("resnet", "linear")
    x = torch.rand(96, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    tr = Trainer(cfg.override({"data.batch_size": 16}), data=x, progress=False)
    tr.fit(2)
    assert tr.generate(torch.randn(4, cfg.model.z_dim)).shape == (4, 3, 32, 32)
    # linear decay over the fast copy's steps: before update 2, lr = base (1 - 1/200)
    assert tr.opt_g.param_groups[0]["lr"] == pytest.approx(
        cfg.train.lr_g * (1 - 1 / cfg.train.steps)
    )
