"""Domain FID during training, time budgets, export records, and the chapter 2
helpers that moved into the package (sample-grid figures; mode counting is tested
in test_mode_coverage.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch

from gancourse.cli import _eval_record
from gancourse.config import PRESETS
from gancourse.data import files_present
from gancourse.metrics.domain import DomainFID, domain_judge
from gancourse.metrics.evaluate import extract_features
from gancourse.metrics.lenet import load_lenet
from gancourse.train import Trainer

HAVE_MNIST = files_present("mnist")


# ---------------------------------------------------------------- domain FID
class Replay(torch.nn.Module):
    """A "generator" that returns given images in order, whatever z is."""

    def __init__(self, images):
        super().__init__()
        self.images = images
        self.z_dim = 4
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.i = 0

    def forward(self, z):
        out = self.images[self.i : self.i + len(z)]
        self.i = (self.i + len(z)) % len(self.images)
        return out


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_domain_fid_matches_scipy_formula():
    g = torch.Generator().manual_seed(0)
    real = torch.rand(300, 1, 28, 28, generator=g) * 2 - 1
    fake = (torch.rand(200, 1, 28, 28, generator=g) * 2 - 1) * 0.5
    fid = DomainFID("mnist", real, n=200)
    value = fid(Replay(fake))
    # independent: features from the judge, then the textbook formula with sqrtm
    judge = load_lenet("lenet-mnist")
    fr, _ = extract_features(real, judge)
    ff, _ = extract_features(fake, judge)
    mu1, mu2 = fr.mean(0), ff.mean(0)
    s1, s2 = np.cov(fr, rowvar=False), np.cov(ff, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert value == pytest.approx(expected, rel=1e-4)
    assert fid.describe()["judge"] == "lenet-mnist"


def test_domain_fid_needs_a_judge():
    with pytest.raises(ValueError, match="gancourse fid"):
        domain_judge("cifar10")


# ---------------------------------------------------------------- trainer
def tiny_images(n=128):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1


@pytest.mark.filterwarnings("ignore:only 64 samples")
def test_eval_every_logs_fid_and_export_records_the_curve(tmp_path):
    cfg = (
        PRESETS["wgangp-mnist"]
        .fast()
        .override({"train.eval_every": 2, "train.eval_n": 64, "train.log_every": 100})
    )
    tr = Trainer(cfg, tmp_path, data=tiny_images(), progress=False)
    tr.fit(5)
    fids = [r["step"] for r in tr.history if "fid" in r]
    assert fids == [2, 4, 5]  # every 2 steps and the last
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").open()]
    assert [r["step"] for r in logged if "fid" in r] == [2, 4, 5]
    rec = _eval_record(tr.state_dict())
    assert [p["step"] for p in rec["curve"]] == [2, 4, 5]
    # the W estimate at step 4 is the mean over steps 3 and 4: the same run logged
    # at every step (logging does not change the training) gives those two
    every = Trainer(
        cfg.override({"train.log_every": 1, "train.eval_every": 0}),
        data=tiny_images(),
        progress=False,
    )
    every.fit(5)
    w = {r["step"]: r["wasserstein"] for r in every.history}
    assert rec["curve"][1]["wasserstein"] == pytest.approx((w[3] + w[4]) / 2, abs=1e-4)
    assert (
        rec["domain_fid"]["step"] == 5 and rec["domain_fid"]["judge"] == "lenet-mnist"
    )


def test_export_without_evaluations_adds_nothing():
    cfg = PRESETS["vanilla-ring8"].fast()
    tr = Trainer(cfg, progress=False)
    tr.fit(2)
    assert _eval_record(tr.state_dict()) == {}


def test_time_budget_stops_saves_and_resume_stops_again(tmp_path, monkeypatch):
    cfg = (
        PRESETS["vanilla-ring8"]
        .fast()
        .override(
            {"train.max_time_s": 5.0, "train.steps": 10_000, "train.ckpt_every": 10_000}
        )
    )
    tr = Trainer(cfg, tmp_path, progress=False)
    clock = {"t": 0.0}

    def fake_clock():  # every call is one more second of "training"
        clock["t"] += 1.0
        return clock["t"]

    monkeypatch.setattr("gancourse.train.time.perf_counter", fake_clock)
    tr.fit()
    assert 0 < tr.step < 10 and tr.wall_time_s >= 5.0
    assert (tmp_path / "last.pt").exists()
    again = Trainer.resume(tmp_path / "last.pt", progress=False)
    again.fit()
    assert again.step == tr.step  # the budget was already spent


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST not prepared")
def test_eval_reference_comes_from_the_training_data():
    cfg = (
        PRESETS["wgangp-mnist"]
        .fast()
        .override({"train.eval_every": 1, "train.eval_n": 50, "data.limit": 300})
    )
    tr = Trainer(cfg, progress=False)
    assert tr.evaluator.n_real == 300


# ---------------------------------------------------------------- viz helpers
def test_show_helpers_draw(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gancourse import viz

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    samples = [(s, torch.rand(36, 1, 28, 28) * 2 - 1) for s in (0, 10, 20, 30, 40)]
    viz.show_samples_over_training(samples, k=3)
    titles = [ax.get_title() for ax in shown[-1].axes]
    assert titles == ["step 0", "step 20", "step 40"]
    G = viz.show_pretrained("dcgan-mnist", n=16)
    assert G.z_dim == 100 and len(shown) == 2
    plt.close("all")
