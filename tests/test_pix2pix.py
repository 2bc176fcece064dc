"""Pix2Pix (Isola et al. 2017): the losses against hand computation, the phases,
training on paired tensors, exact resume, sampling with dropout, the grid hook,
``gancourse sample`` on a paired folder, and the presets."""

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from gancourse.cli import main as cli
from gancourse.config import PRESETS, ConfigError, method_config
from gancourse.gans import METHODS, DataSpec, StepContext, build_method
from gancourse.gans.pix2pix import Pix2Pix, pair
from gancourse.sampling import Sampler
from gancourse.train import Trainer

PIX2PIX_PRESETS = ("pix2pix-edges2footwear", "pix2pix-facades", "pix2pix-edges2shoes")


def small_cfg(**sets):
    """16 px, 1 -> 1 channels, tiny widths: seconds on a CPU."""
    base = {
        "model.img_size": 16,
        "model.n_down": 4,
        "model.n_layers": 1,
        "model.g_width": 8,
        "model.d_width": 8,
        "data.batch_size": 16,
        "train.log_every": 1,
        "train.sample_every": 1000,
        "train.ckpt_every": 1000,
        "train.n_samples": 8,
        "train.lr_decay": "none",
        "train.lr_decay_start": 0,
        "train.lr_g": 1e-3,
        "train.lr_d": 1e-3,
    }
    cfg = PRESETS["pix2pix-edges2footwear"].fast().override(base)
    return cfg.override(sets)


def paired(n=128, seed=0):
    """Smooth random inputs and their negatives as targets: a mapping G can learn
    in a few dozen steps."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 1, 4, 4, generator=g) * 2 - 1
    x_src = F.interpolate(coarse, size=16, mode="bilinear", align_corners=False)
    return {"x_src": x_src, "x": -x_src}


def ctx(n, memo=None):
    return StepContext(
        step=0,
        n=n,
        device=torch.device("cpu"),
        memo={} if memo is None else memo,
        draw=None,
    )


def built(cfg=None, src=1, c=1, size=16):
    cfg = cfg or small_cfg()
    method = build_method(cfg.method)
    spec = DataSpec(
        keys=("x_src", "x"), shapes={"x_src": (src, size, size), "x": (c, size, size)}
    )
    method.build(cfg.model, spec)
    return method


def test_pix2pix_is_registered_with_the_papers_defaults():
    assert METHODS["pix2pix"] is Pix2Pix
    m = method_config("pix2pix")
    assert (m.lambda_l1, m.gan_weight, m.sample_train_mode) == (100.0, 1.0, True)
    assert Pix2Pix.needs == ("x_src", "x")
    with pytest.raises(ConfigError, match="both 0"):
        method_config("pix2pix", lambda_l1=0.0, gan_weight=0.0)
    with pytest.raises(ConfigError, match="lambda_l1 must be >= 0"):
        method_config("pix2pix", lambda_l1=-1.0)
    with pytest.raises(ConfigError, match="valid keys: .*lambda_l1"):
        PRESETS["pix2pix-facades"].override({"method.lambda": 10})


def test_losses_equal_the_formulas_written_out_by_hand():
    torch.manual_seed(0)
    method = built()
    method.nets.train()
    batch = paired(8)
    memo = {}
    d_loss, d_stats = method.d_loss(batch, ctx(8, memo))
    d_loss = d_loss.detach()
    x_fake = memo["x_fake"]
    assert x_fake.requires_grad  # the graph into G, for G's phase
    with torch.no_grad():  # D has no randomness: the same logits again
        lr = method.D(torch.cat([batch["x_src"], batch["x"]], 1))
        lf = method.D(torch.cat([batch["x_src"], x_fake], 1))
    assert lr.shape == (8, 1, 6, 6)  # 16 px, n_layers=1: 8 - 2 = 6 patches a side
    # D: 1/2 [-mean log sigmoid(l_real) - mean log(1 - sigmoid(l_fake))] over all
    # patch logits, with log(1 - sigmoid(l)) = log sigmoid(-l)
    expected = 0.5 * (-F.logsigmoid(lr).mean() - F.logsigmoid(-lf).mean())
    assert float(d_loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(d_stats["d_real"]) == pytest.approx(float(torch.sigmoid(lr).mean()))
    assert float(d_stats["d_fake"]) == pytest.approx(float(torch.sigmoid(lf).mean()))
    # G: non-saturating -mean log sigmoid(l_fake) + 100 * mean |x_fake - x|
    g_loss, g_stats = method.g_loss(batch, ctx(8, memo))
    g_loss = g_loss.detach()
    l1 = (x_fake.detach() - batch["x"]).abs().mean()
    g_gan = -F.logsigmoid(lf).mean()
    assert float(g_loss) == pytest.approx(float(g_gan + 100 * l1), rel=1e-5)
    assert float(g_stats["g_l1"]) == pytest.approx(float(l1))
    assert float(g_stats["g_gan"]) == pytest.approx(float(g_gan), rel=1e-5)


def test_ablations_l1_alone_and_cgan_alone():
    torch.manual_seed(0)
    batch = paired(4)
    # "L1 alone": no D phase at all, G's loss is lambda * L1
    m = built(small_cfg(**{"method.gan_weight": 0.0}))
    assert [p.name for p in m.phases()] == ["G"]
    m.nets.eval()
    with torch.no_grad():
        loss, stats = m.g_loss(batch, ctx(4))
    with torch.no_grad():
        expected = 100 * (m.G(batch["x_src"]) - batch["x"]).abs().mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert "g_gan" not in stats
    # "cGAN alone": G's loss is the adversarial term only
    m = built(small_cfg(**{"method.lambda_l1": 0.0}))
    m.nets.eval()
    with torch.no_grad():
        loss, stats = m.g_loss(batch, ctx(4))
    assert float(loss) == pytest.approx(float(stats["g_gan"]))
    with torch.no_grad():
        lf = m.D(pair(batch["x_src"], m.G(batch["x_src"])))
    assert float(loss) == pytest.approx(float(-F.logsigmoid(lf).mean()), rel=1e-5)


def test_phases_d_then_g_reusing_the_fakes_and_the_batch():
    phases = built().phases()
    assert [(p.name, p.batch, p.keep_graph) for p in phases] == [
        ("D", "fresh", ("G",)),
        ("G", "reuse", ()),
    ]


def test_training_on_paired_tensors_lowers_the_l1_and_logs_the_stats():
    cfg = small_cfg(**{"train.steps": 40})
    t = Trainer(cfg, data=paired(), progress=False)
    t.fit(40)
    keys = {"d_loss", "d_real", "d_fake", "g_loss", "g_gan", "g_l1"}
    assert keys <= set(t.history[-1])
    l1 = [r["g_l1"] for r in t.history]
    assert sum(l1[-5:]) / 5 < 0.5 * sum(l1[:5]) / 5
    assert all(0 < r["d_real"] < 1 and 0 < r["d_fake"] < 1 for r in t.history)
    # the grid's fixed inputs are the first training pairs
    assert torch.equal(t.fixed_inputs["x_src"], paired()["x_src"][:8])
    step, x = t.samples[-1]
    assert step == 40 and x.shape == (8, 1, 16, 16)


def test_exact_resume(tmp_path):
    data = paired(64)
    cfg = small_cfg(**{"train.steps": 6})
    a = Trainer(cfg, data=data, progress=False)
    a.fit(6)
    b = Trainer(cfg, tmp_path, data=data, progress=False)
    b.fit(3)
    b.save()
    c = Trainer.resume(tmp_path / "last.pt", data=data, progress=False)
    c.fit(6)
    keys = ("d_loss", "g_loss", "g_l1")
    assert [[r[k] for k in keys] for r in a.history] == [
        [r[k] for k in keys] for r in c.history
    ]
    for p, q in zip(a.nets.parameters(), c.nets.parameters()):
        assert torch.equal(p, q)


def test_unpaired_data_is_refused_with_the_missing_key():
    images = torch.rand(64, 1, 16, 16) * 2 - 1
    with pytest.raises(ConfigError, match="pix2pix needs batches with x_src"):
        Trainer(small_cfg(), data=images, progress=False)
    with pytest.raises(ConfigError, match="translates images"):
        Trainer(small_cfg(**{"method.name": "vanilla"}), data=paired(), progress=False)


def test_sampling_keeps_dropout_on_as_the_paper_unless_asked_not_to():
    torch.manual_seed(0)
    m = built()
    inputs = m.sample_inputs(4, None, paired(8))
    assert set(inputs) == {"x_src", "x"} and len(inputs["x_src"]) == 4
    s = Sampler(m, m.nets)
    a, b = s(inputs), s(inputs)
    assert a.shape == (4, 1, 16, 16)
    assert not torch.equal(a, b)  # dropout at test time: another draw, another output
    s.train_mode = False  # eval mode: no dropout, running statistics
    assert torch.equal(s(inputs), s(inputs))
    m.cfg = replace(m.cfg, sample_train_mode=False)
    s.train_mode = None  # the method's choice
    assert torch.equal(s(inputs), s(inputs))
    assert m.G.training and m.D.training  # the sampler puts the modes back


def test_sample_inputs_need_examples():
    m = built()
    with pytest.raises(ValueError, match="examples"):
        m.sample_inputs(4)
    assert m.needs_examples
    assert len(m.sample_inputs(10, None, paired(3))["x_src"]) == 3


def test_grid_shows_input_output_target_triplets():
    m = built(small_cfg(**{"model.img_channels": 3}), src=1, c=3)
    inputs = {"x_src": torch.rand(5, 1, 16, 16), "x": torch.rand(5, 3, 16, 16)}
    x_fake = torch.rand(5, 3, 16, 16)
    images, nrow = m.grid(inputs, x_fake)
    assert images.shape == (15, 3, 16, 16) and nrow == 12  # four triplets a row
    assert torch.equal(images[1::3], x_fake) and torch.equal(images[2::3], inputs["x"])
    assert torch.equal(images[0::3], inputs["x_src"].expand(-1, 3, -1, -1))
    # without targets: pairs
    images, nrow = m.grid({"x_src": inputs["x_src"]}, x_fake)
    assert images.shape == (10, 3, 16, 16) and nrow == 8
    # the default hook shows the samples as they are
    from gancourse.gans import GANMethod

    plain = GANMethod()
    assert plain.grid({}, x_fake) == (x_fake, 8)


def write_paired(root: Path, n=8, size=16):
    g = torch.Generator().manual_seed(3)
    (root / "train").mkdir(parents=True)
    for i in range(n):
        a = (torch.rand(size, size, 3, generator=g) * 255).to(torch.uint8)
        Image.fromarray(torch.cat([a, 255 - a], 1).numpy()).save(
            root / "train" / f"{i}.png"
        )
    return root


def test_gancourse_sample_translates_the_runs_inputs(tmp_path, capsys):
    root = write_paired(tmp_path / "pairs")
    cfg = small_cfg(
        **{
            "data.name": "paired",
            "data.root": str(root),
            "data.image_size": 16,
            "data.batch_size": 4,
            "data.workers": 0,
            "model.img_channels": 3,
            "train.n_samples": 4,
        }
    )
    t = Trainer(cfg, tmp_path / "run", progress=False)
    t.fit(2)
    t.save()
    out = tmp_path / "grid.png"
    ckpt = str(tmp_path / "run" / "last.pt")
    assert cli(["sample", "--ckpt", ckpt, "--n", "4", "--out", str(out)]) == 0
    w, h = Image.open(out).size
    assert w > 0 and h > 0
    assert cli(["sample", "--ckpt", ckpt, "--mode", "eval", "--out", str(out)]) == 0
    assert cli(["sample", "--ckpt", ckpt, "--split", "test", "--out", str(out)]) == 2
    assert "test" in capsys.readouterr().err


# -- presets ------------------------------------------------------------------------
def test_presets_follow_the_paper():
    f = PRESETS["pix2pix-facades"]
    # appendix 6.2: 400 pairs, batch 1, 200 epochs (100 constant + 100 decaying),
    # jitter 286 -> 256 and mirroring, unet_256, 70x70 PatchGAN, labels -> photo
    assert f.train.steps == 400 * 200 // 1 and f.data.batch_size == 1
    assert f.train.lr_decay == "linear" and f.train.lr_decay_start == 400 * 100
    assert (f.data.image_size, f.data.load_size, f.data.flip) == (256, 286, True)
    assert f.data.direction == "BtoA"
    assert (f.model.n_down, f.model.n_layers, f.model.g_width) == (8, 3, 64)
    s = PRESETS["pix2pix-edges2shoes"]
    # 49,825 pairs, batch 4, 15 epochs; edges -> photo
    assert s.train.steps == math.ceil(15 * 49_825 / 4) and s.data.batch_size == 4
    assert s.data.direction == "AtoB" and not s.data.flip
    for name in PIX2PIX_PRESETS:
        cfg = PRESETS[name]
        assert cfg.method.lambda_l1 == 100 and cfg.method.gan_weight == 1
        assert (cfg.train.lr_g, cfg.train.lr_d, cfg.train.betas) == (
            2e-4,
            2e-4,
            (0.5, 0.999),
        )
        fast = cfg.fast()
        assert fast.train.steps <= 200 and fast.model.g_width <= 16
        assert fast.train.lr_decay_start < fast.train.steps


def test_preset_networks_at_their_sizes():
    f = PRESETS["pix2pix-facades"]
    m = built(f, src=3, c=3, size=256)
    assert sum(p.numel() for p in m.G.parameters()) == 54_414_531
    assert m.D.in_channels == 6 and m.D.receptive_field == 70
    e = PRESETS["pix2pix-edges2footwear"]
    m = built(e, src=1, c=1, size=32)
    assert m.D.receptive_field == 16 < 32  # patches smaller than the image
    with torch.no_grad():
        m.nets.eval()
        assert m.D(torch.zeros(1, 2, 32, 32)).shape == (1, 1, 14, 14)
        assert m.G(torch.zeros(1, 1, 32, 32)).shape == (1, 1, 32, 32)
    assert [
        k for k, up in enumerate(m.G.up) if any(isinstance(x, nn.Dropout) for x in up)
    ] == [0, 1, 2]


def _has_dataset(name):
    from gancourse.data import datasets

    return name in datasets.DATASETS


@pytest.mark.parametrize("name", PIX2PIX_PRESETS)
def test_preset_data_names_exist(name):
    data = PRESETS[name].data.name
    if not _has_dataset(data):
        pytest.skip(f"dataset {data!r} is not registered in this checkout yet")
    from gancourse.data import datasets

    info = datasets.DATASETS[data]
    assert set(info.get("keys", ())) >= {"x_src", "x"}
    assert tuple(info["shape"]) == (
        PRESETS[name].model.img_channels,
        PRESETS[name].model.img_size,
        PRESETS[name].model.img_size,
    )


def test_edges2footwear_fast_preset_trains():
    if not _has_dataset("edges2footwear"):
        pytest.skip("dataset 'edges2footwear' is not registered in this checkout yet")
    cfg = (
        PRESETS["pix2pix-edges2footwear"]
        .fast()
        .override({"data.limit": 128, "data.batch_size": 16})
    )
    from gancourse.data import DataNotFoundError

    try:
        t = Trainer(cfg, progress=False)
    except DataNotFoundError as e:  # e.g. scikit-image missing to build it
        pytest.skip(f"edges2footwear cannot be loaded here: {e}")
    assert t.spec.shapes["x_src"] == t.spec.shapes["x"] == (1, 32, 32)
    assert t.fixed_inputs["x_src"].shape == (32, 1, 32, 32)  # n_samples = 32
    t.fit(2)
    assert {"g_l1", "d_loss", "g_gan", "d_real"} <= set(t.history[-1])
