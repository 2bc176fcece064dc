"""Shipped generators: present, loadable, documented, and producing images."""

import pytest
import torch

from gancourse.checkpoint import CheckpointError
from gancourse.pretrained import available, load_pretrained, pretrained_info

SHIPPED = ["vanilla-mnist", "dcgan-mnist"]


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
