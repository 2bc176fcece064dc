"""Shipped generators: present, loadable, documented, and producing images."""

import pytest
import torch

from gancourse.checkpoint import CheckpointError
from gancourse.pretrained import available, load_pretrained, pretrained_info

SHIPPED = ["vanilla-mnist", "dcgan-mnist", "wgangp-mnist", "wgangp-fashion"]
WITH_FID = ["wgangp-mnist", "wgangp-fashion"]  # trained with train.eval_every


def test_shipped_models_are_listed():
    assert set(SHIPPED) <= set(available())


@pytest.mark.parametrize("name", SHIPPED)
def test_load_and_sample(name):
    G, info = load_pretrained(name)
    assert not G.training
    with torch.no_grad():
        x = G(torch.randn(8, G.z_dim))
    assert x.shape == (8, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert x.std() > 0.1  # not a constant image
    # the record the book shows next to the samples
    for key in ("command", "steps", "data", "hardware", "wall_time_s", "config"):
        assert key in info
    assert info["command"].startswith("gancourse train --preset " + name)
    assert info == pretrained_info(name)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_files_are_small(name):
    from gancourse.pretrained import HERE

    assert (HERE / f"{name}.pt").stat().st_size < 4 * 2**20


def test_unknown_name_lists_available():
    with pytest.raises(CheckpointError, match="dcgan-mnist"):
        load_pretrained("dcgan-cifar")


@pytest.mark.parametrize("name", WITH_FID)
def test_recorded_domain_fid_is_reproducible(name):
    # Recompute the record's last FID from the shipped (float16) weights with the
    # same judge, reference images, n and seed. The run scored G in float32, so
    # allow a small difference.
    from gancourse.data import files_present, load_dataset, to_tensors
    from gancourse.metrics.domain import DomainFID
    from gancourse.train import EVAL_REFERENCE_MAX

    info = pretrained_info(name)
    data = info["config"]["data"]["name"]
    if not files_present(data):
        pytest.skip(f"{data} not prepared")
    if info["data"]["n"] != len(load_dataset(data, "train")):
        pytest.skip("trained on other data than is prepared here")
    rec = info["domain_fid"]
    X, _ = to_tensors(load_dataset(data, "train"))
    fid = DomainFID(data, X[:EVAL_REFERENCE_MAX], n=rec["n_fake"])
    G, _ = load_pretrained(name)
    assert fid(G) == pytest.approx(rec["fid"], rel=0.05)
    assert rec["judge"] == fid.judge_name
    steps = [p["step"] for p in info["curve"]]
    assert steps == sorted(steps) and steps[-1] == info["steps"]
    assert all("wasserstein" in p for p in info["curve"])


CONDITIONAL = ["cgan-fashion", "projgan-fashion", "acgan-fashion"]


@pytest.mark.parametrize("name", CONDITIONAL)
def test_conditional_models_draw_the_requested_class(name):
    # Chapter 3's shipped models: samples of class y must look like class y to
    # the independent LeNet judge far more often than chance (10 %).
    from gancourse.metrics.conditional import class_conditional_samples
    from gancourse.metrics.lenet import class_accuracy, load_lenet
    from gancourse.pretrained import load_sampler

    sampler = load_sampler(name)
    x, y = class_conditional_samples(sampler, 30, 10, seed=7)
    assert x.shape == (300, 1, 28, 28) and x.min() >= -1 and x.max() <= 1
    assert sampler.method.grid_nrow() == 10
    acc = class_accuracy(load_lenet("lenet-fashion"), x, y)
    assert acc["accuracy"] > 0.3, acc  # chance is 0.1; projgan-fashion is at 0.42
    info = pretrained_info(name)
    assert info["command"].startswith("gancourse train --preset " + name)
    assert info["data"]["name"] == "fashion-mnist"
    # the same z with two labels gives two different images: the label is used
    z = torch.randn(4, sampler.z_dim, generator=torch.Generator().manual_seed(0))
    a = sampler(z, torch.zeros(4, dtype=torch.long))
    b = sampler(z, torch.full((4,), 7))
    assert (a - b).abs().mean() > 0.05


def test_conditional_record_is_reproducible():
    # Recompute one number of chapter 3's record from the shipped weights: the
    # judge accuracy of acgan-fashion on the record's samples (same seed, same n).
    from gancourse.metrics.conditional import class_conditional_samples
    from gancourse.metrics.lenet import class_accuracy, load_lenet
    from gancourse.metrics.records import load_record
    from gancourse.pretrained import load_sampler

    rec = load_record("ch03-conditional")
    assert rec["command"].startswith("python tools/conditional_metrics.py")
    assert set(rec["models"]) == set(CONDITIONAL)
    n = rec["n_per_class"]
    x, y = class_conditional_samples(load_sampler("acgan-fashion"), n, 10, seed=1)
    acc = class_accuracy(load_lenet("lenet-fashion"), x, y)
    want = rec["models"]["acgan-fashion"]["class_accuracy"]["accuracy"]
    assert acc["accuracy"] == pytest.approx(want, abs=2e-3)
    for m in rec["models"].values():
        assert len(m["per_class"]) == 10
        assert all(0 <= r["recall"] <= 1 for r in m["per_class"])
        assert 0 <= m["cas"]["accuracy"] <= 1
