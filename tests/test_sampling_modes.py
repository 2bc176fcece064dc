"""Sampling in training mode (Pix2Pix keeps dropout on at test time) must not
change the model: BatchNorm updates its running statistics on every forward pass
in training mode, even under ``torch.no_grad``."""

from __future__ import annotations

import torch
from torch import nn

from gancourse.sampling import Sampler


class _Translate:
    """The smallest method a Sampler needs: G applied to ``x_src``."""

    sample_in_train_mode = True

    def generate(self, inputs, nets):
        return nets["G"](inputs["x_src"])


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.Tanh())


def test_a_bare_forward_pass_in_training_mode_moves_the_statistics():
    # the premise: without the Sampler's care, sampling would change the model
    G = _net()
    with torch.no_grad():
        G(torch.randn(8, 1, 6, 6) + 3.0)
    assert G[1].num_batches_tracked.item() == 1
    assert not torch.allclose(G[1].running_mean, torch.zeros(4))


def test_sampling_in_training_mode_leaves_running_statistics_alone():
    G = _net()
    G.eval()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    sampler = Sampler(_Translate(), nn.ModuleDict({"G": G}))
    x = torch.randn(8, 1, 6, 6) + 3.0
    out = sampler({"x_src": x})
    for k, v in G.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert not G.training  # the caller's mode is back
    # and the output used the batch's own statistics (training mode): per channel,
    # the normalised activations have mean 0 over the batch, so tanh's mean is ~0
    z = G[0](x)
    by_hand = torch.tanh(
        (z - z.mean(dim=(0, 2, 3), keepdim=True))
        / torch.sqrt(z.var(dim=(0, 2, 3), unbiased=False, keepdim=True) + 1e-5)
        * G[1].weight.view(1, -1, 1, 1)
        + G[1].bias.view(1, -1, 1, 1)
    )
    assert torch.allclose(out, by_hand, atol=1e-5)
