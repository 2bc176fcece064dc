"""Chapter 3's package part: conditional blocks, networks, losses, methods, presets.

Reference values come from hand computation (explicit loops and ``math`` in
float64), never from the functions under test.
"""

from __future__ import annotations

import math
import os

import pytest
import torch
from torch import nn

from gancourse.config import PRESETS, ConfigError, model_config
from gancourse.losses import d_acgan, d_hinge, g_acgan, g_hinge
from gancourse.models import build_discriminator, build_generator
from gancourse.models.cdcgan import CondDCGANDiscriminator, feature_size
from gancourse.nn.cond import (
    ConditionalBatchNorm2d,
    ProjectionHead,
    concat_onehot,
    label_maps,
)
from gancourse.train import Trainer

K = 10
NEW_PRESETS = (
    "cgan-mnist",
    "cgan-fashion",
    "projgan-fashion",
    "acgan-fashion",
    "acgan-cifar10",
    "projgan-cifar10",
)


def labelled(n=64, shape=(1, 28, 28), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *shape, generator=g) * 2 - 1
    return {"x": x, "y": torch.arange(n) % K}


def small(preset, **sets):
    base = {
        "train.log_every": 1,
        "train.sample_every": 1000,
        "train.ckpt_every": 1000,
        "data.batch_size": 16,
        "model.g_width": 8,
        "model.d_width": 8,
        "train.n_samples": 20,
    }
    return PRESETS[preset].fast().override({**base, **sets})


# -- networks ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arch,size,g_cond",
    [
        ("cdcgan", 28, "concat"),
        ("cdcgan", 28, "cbn"),
        ("cdcgan", 32, "concat"),
        ("cdcgan", 32, "cbn"),
        ("cresnet", 32, "concat"),
        ("cresnet", 32, "cbn"),
    ],
)
def test_shapes_of_every_generator_and_discriminator(arch, size, g_cond):
    c = 1 if arch == "cdcgan" else 3
    m = model_config(
        arch, z_dim=8, img_channels=c, img_size=size, g_width=8, d_width=8,
        g_cond=g_cond,
    )  # fmt: skip
    shape = (c, size, size)
    G = build_generator(m, shape, n_classes=K)
    z, y = torch.randn(5, 8), torch.tensor([0, 3, 9, 3, 1])
    x = G(z, y)
    assert x.shape == (5, *shape) and x.abs().max() <= 1
    for d_cond in ("concat", "projection"):
        D = build_discriminator(m, shape, K, d_cond=d_cond)
        assert D(x, y).shape == (5,)
    logits, class_logits = build_discriminator(m, shape, K, d_cond="acgan")(x)
    assert logits.shape == (5,) and class_logits.shape == (5, K)


def test_the_label_changes_what_g_makes():
    for g_cond in ("concat", "cbn"):
        m = model_config("cdcgan", z_dim=8, g_width=8, g_cond=g_cond)
        G = build_generator(m, (1, 28, 28), n_classes=K).eval()
        with torch.no_grad():  # CBN's maps start at N(0, 0.02): perturb them
            for p in G.parameters():
                p.add_(0.1 * torch.randn_like(p))
        z = torch.randn(1, 8).repeat(2, 1)
        x = G(z, torch.tensor([0, 1]))
        assert not torch.allclose(x[0], x[1]), g_cond


def test_conditional_batchnorm_with_zero_maps_is_plain_batchnorm():
    cbn = ConditionalBatchNorm2d(4, K)
    nn.init.normal_(cbn.gain.weight)  # then zero them explicitly
    for lin in (cbn.gain, cbn.bias):
        nn.init.zeros_(lin.weight)
        nn.init.zeros_(lin.bias)
    bn = nn.BatchNorm2d(4, affine=False)
    x = torch.randn(6, 4, 3, 3)
    c = nn.functional.one_hot(torch.arange(6) % K, K).float()
    assert torch.allclose(cbn(x, c), bn(x), atol=1e-6)
    assert torch.allclose(cbn.bn.running_mean, bn.running_mean)


def test_conditional_batchnorm_gain_and_bias_per_class_by_hand():
    C = 2
    cbn = ConditionalBatchNorm2d(C, 3).double()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for lin in (cbn.gain, cbn.bias):
            lin.weight.copy_(torch.randn(C, 3, generator=g))
            lin.bias.copy_(torch.randn(C, generator=g))
    x = torch.randn(4, C, 2, 2, generator=g, dtype=torch.float64)
    y = [2, 0, 1, 2]
    c = nn.functional.one_hot(torch.tensor(y), 3).double()
    out = cbn(x, c).detach()
    Wg, bg = cbn.gain.weight.tolist(), cbn.gain.bias.tolist()
    Wb, bb = cbn.bias.weight.tolist(), cbn.bias.bias.tolist()
    for ch in range(C):
        vals = [float(v) for v in x[:, ch].flatten()]
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / len(vals)  # biased, as BN
        for n in range(4):
            gamma = 1 + Wg[ch][y[n]] + bg[ch]
            beta = Wb[ch][y[n]] + bb[ch]
            for i in range(2):
                for j in range(2):
                    xhat = (float(x[n, ch, i, j]) - mean) / math.sqrt(var + 1e-5)
                    assert float(out[n, ch, i, j]) == pytest.approx(
                        gamma * xhat + beta, abs=1e-9
                    )


def test_projection_logits_by_hand():
    head = ProjectionHead(3, 4).double()
    phi = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]], dtype=torch.float64)
    y = torch.tensor([3, 1])
    w = head.psi.weight[0].tolist()
    V = head.embed.weight.tolist()
    got = head(phi, y).detach()
    assert got.shape == (2,)
    for n in range(2):
        p = phi[n].tolist()
        expected = sum(a * b for a, b in zip(w, p)) + sum(
            a * b for a, b in zip(V[int(y[n])], p)
        )
        assert float(got[n]) == pytest.approx(expected, abs=1e-12)


def test_onehot_concat_and_label_maps():
    z = torch.tensor([[0.5, -1.0], [2.0, 3.0]])
    out = concat_onehot(z, torch.tensor([2, 0]), 3)
    assert out.tolist() == [[0.5, -1.0, 0, 0, 1], [2.0, 3.0, 1, 0, 0]]  # z first
    x = torch.zeros(2, 1, 2, 2)
    maps = label_maps(x, torch.tensor([1, 2]), 3)
    assert maps.shape == (2, 4, 2, 2)
    assert maps[0, 2].eq(1).all() and maps[0, 1].eq(0).all() and maps[0, 3].eq(0).all()
    assert maps[1, 3].eq(1).all() and maps[1, 1:3].eq(0).all()


def test_flattened_size_is_measured_not_guessed():
    """The seed's AC-GAN body at 28 px yields 256 x 4 x 4 = 4096 features, not the
    256 * (28 // 8) ** 2 = 2304 its Linear expects; at 32 px both are 4096."""
    seed_body = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.Conv2d(32, 64, 3, stride=2, padding=1),
        nn.BatchNorm2d(64),
        nn.Conv2d(64, 128, 3, stride=2, padding=1),
        nn.Conv2d(128, 256, 3, stride=2, padding=1),
    )
    assert feature_size(seed_body, (1, 28, 28)) == 4096 != 256 * (28 // 8) ** 2
    assert feature_size(seed_body, (1, 32, 32)) == 4096
    assert seed_body[2].num_batches_tracked == 0  # eval mode: stats untouched
    for size in (28, 32):
        D = CondDCGANDiscriminator(K, 1, size, width=8, cond="acgan")
        logits, cl = D(torch.randn(3, 1, size, size))
        assert logits.shape == (3,) and cl.shape == (3, K)


def test_parameter_count_by_hand():
    """AC-GAN D at 28 px, width 8, K = 10: conv 1->8 (4x4, bias) = 8*16 + 8;
    conv 8->16 (no bias) = 16*8*16 and BatchNorm 2*16; features 16*7*7 = 784;
    source head 784 + 1; classifier 784*10 + 10."""
    D = CondDCGANDiscriminator(K, 1, 28, width=8, cond="acgan")
    expected = (8 * 16 + 8) + (16 * 8 * 16 + 2 * 16) + (784 + 1) + (784 * 10 + 10)
    assert sum(p.numel() for p in D.parameters()) == expected == 10851
    cbn = ConditionalBatchNorm2d(8, K)  # two Linear(10, 8); BatchNorm has none
    assert sum(p.numel() for p in cbn.parameters()) == 2 * (10 * 8 + 8)


# -- losses --------------------------------------------------------------------------
def _bce(logit, target):
    p = 1 / (1 + math.exp(-logit))
    return -math.log(p) if target == 1 else -math.log(1 - p)


def _ce(logits, y):
    return math.log(sum(math.exp(v) for v in logits)) - logits[y]


def test_acgan_losses_by_hand_with_batches_of_different_sizes():
    lr, lf = [0.3, -1.2, 2.0], [-0.5, 0.1, 1.5, -2.0, 0.7]
    cr = [[0.2, -0.1, 1.0], [1.5, 0.0, -0.3], [-1.0, 2.0, 0.4]]
    cf = [[0.1, 0.2, 0.3], [2.0, -1.0, 0.0], [0.0, 0.0, 0.0], [-0.5, 1.0, 0.5],
          [0.3, 0.3, -2.0]]  # fmt: skip
    yr, yf = [2, 0, 1], [1, 0, 2, 2, 0]
    bce_r = sum(_bce(v, 1) for v in lr) / 3
    bce_f = sum(_bce(v, 0) for v in lf) / 5
    ce_r = sum(_ce(c, y) for c, y in zip(cr, yr)) / 3
    ce_f = sum(_ce(c, y) for c, y in zip(cf, yf)) / 5
    T = torch.tensor
    args = (T(lr), T(lf), T(cr), T(cf), T(yr), T(yf))
    assert float(d_acgan(*args)) == pytest.approx(bce_r + bce_f + ce_r + ce_f, 1e-6)
    assert float(d_acgan(*args, class_weight=0.5)) == pytest.approx(
        bce_r + bce_f + 0.5 * (ce_r + ce_f), 1e-6
    )
    # the seed's version: the source term halved, one CE over the 8 samples
    ce_cat = (sum(_ce(c, y) for c, y in zip(cr + cf, yr + yf))) / 8
    seed = (bce_r + bce_f) / 2 + ce_cat
    assert abs(float(d_acgan(*args)) - seed) > 0.1
    g = float(g_acgan(T(lf), T(cf), T(yf), class_weight=2.0))
    assert g == pytest.approx(sum(_bce(v, 1) for v in lf) / 5 + 2 * ce_f, 1e-6)


def test_hinge_losses_by_hand():
    lr, lf = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, 0.0])
    assert float(d_hinge(lr, lf)) == pytest.approx((0 + 0.5 + 2) / 3 + (0 + 1) / 2)
    assert float(g_hinge(lf)) == pytest.approx(1.5)


# -- methods through the Trainer -------------------------------------------------------
@pytest.mark.parametrize(
    "preset,sets",
    [
        ("cgan-mnist", {}),
        ("projgan-fashion", {"method.loss": "hinge", "method.n_d_steps": 2}),
        ("acgan-fashion", {"method.class_weight": 0.5}),
    ],
)
def test_methods_train_and_grid_shows_one_class_per_column(preset, sets):
    t = Trainer(small(preset, **sets), data=labelled(), progress=False)
    t.fit(2)
    assert t.step == 2
    last = t.history[-1]
    assert math.isfinite(last["d_loss"]) and math.isfinite(last["g_loss"])
    y = t.fixed_inputs["y"]
    assert torch.equal(y.view(-1, K), torch.arange(K).repeat(2, 1))  # columns
    x = t.generate(t.fixed_inputs)
    assert x.shape == (20, 1, 28, 28)
    # the same z with another class makes another image: the grid's columns differ
    # because of the label
    other = {"z": t.fixed_inputs["z"], "y": (y + 1) % K}
    assert not torch.allclose(x, t.generate(other))


def test_acgan_logs_classifier_accuracy():
    t = Trainer(small("acgan-fashion"), data=labelled(), progress=False)
    t.fit(1)
    assert 0 <= t.history[-1]["class_acc_real"] <= 1
    assert "class_acc_fake" in t.history[-1]


@pytest.mark.skipif(not os.environ.get("GANCOURSE_DATA"), reason="needs data")
def test_fashion_preset_trains_on_real_labels():
    cfg = small("cgan-fashion", **{"data.limit": 64})
    t = Trainer(cfg, progress=False)
    assert t.spec.n_classes == 10
    t.fit(2)
    assert math.isfinite(t.history[-1]["d_loss"])


@pytest.mark.parametrize("preset", ["cgan-mnist", "acgan-fashion"])
def test_unlabelled_data_is_refused(preset):
    with pytest.raises(ValueError, match="needs batches with y"):
        Trainer(small(preset), data=labelled()["x"], progress=False)


def test_config_mismatches_are_clear_errors():
    with pytest.raises(ConfigError, match="method.name=acgan"):
        PRESETS["cgan-mnist"].override({"method.d_cond": "acgan"})
    with pytest.raises(ConfigError, match="valid keys"):
        PRESETS["acgan-fashion"].override({"method.d_cond": "concat"})
    with pytest.raises(ValueError, match="model.arch=cdcgan"):
        Trainer(small("cgan-mnist", **{"model.arch": "dcgan"}), data=labelled())
    with pytest.raises(ValueError, match="class-conditional"):
        Trainer(small("cgan-mnist", **{"method.name": "vanilla"}), data=labelled())


@pytest.mark.parametrize("name", NEW_PRESETS)
def test_presets_round_trip_and_fast_copies_build(name):
    cfg = PRESETS[name]
    assert type(cfg).from_dict(cfg.to_dict()) == cfg
    fast = cfg.fast()
    c = fast.model.img_channels
    data = labelled(128, (c, fast.model.img_size, fast.model.img_size))
    t = Trainer(fast, data=data, progress=False)  # no download: data= given
    assert t.spec.n_classes == K
    assert t.generate(t.method.sample_inputs(4)).shape == (4, c, *data["x"].shape[2:])


def test_projgan_cifar10_discriminator_is_spectrally_normalised():
    cfg = PRESETS["projgan-cifar10"].fast()
    t = Trainer(cfg, data=labelled(64, (3, 32, 32)), progress=False)
    W = t.D.head.psi.weight.detach()  # (1, F): sigma = ||w|| after normalisation
    assert hasattr(t.D.head.psi, "parametrizations")
    assert float(W.norm()) == pytest.approx(1.0, rel=0.05)


def test_saved_grids_put_one_class_per_column(tmp_path, monkeypatch):
    """The Trainer asks the method how wide a grid is: K for conditional ones."""
    import gancourse.viz as viz

    widths = []
    monkeypatch.setattr(
        viz, "save_samples", lambda x, path, title=None, nrow=8: widths.append(nrow)
    )
    cfg = (
        PRESETS["cgan-fashion"]
        .fast()
        .override({"data.batch_size": 8, "train.n_samples": 20})
    )
    x = torch.rand(32, 1, 28, 28) * 2 - 1
    y = torch.arange(32) % 10
    t = Trainer(cfg, tmp_path, data={"x": x, "y": y}, progress=False)
    t.fit(1)
    assert widths and set(widths) == {10}
