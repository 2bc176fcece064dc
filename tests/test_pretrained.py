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
