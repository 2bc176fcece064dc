"""Figures: grid layout and value mapping, interpolation endpoints, saved files."""

import math

import numpy as np
import pytest
import torch

from gancourse import viz


def test_image_grid_maps_minus_one_to_black_and_lays_out_rows():
    x = torch.full((6, 1, 4, 4), -1.0)
    x[1] = 1.0
    grid = viz.image_grid(x, nrow=3, padding=2)
    # 2 rows x 3 columns of 4 px tiles with 2 px padding around each
    assert grid.shape == (2 * 6 + 2, 3 * 6 + 2)
    assert grid[2, 2] == 0.0  # first tile, black
    assert grid[2, 2 + 6] == 1.0  # second tile, white
    assert grid[0, 0] == 1.0  # padding is white


def test_image_grid_rejects_flat_input():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        viz.image_grid(torch.zeros(4, 784))


def test_slerp_keeps_endpoints_and_norm():
    G = torch.nn.Identity()
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(2, 100, generator=g)
    path = viz.interpolate(G, z0, z1, n=5)
    assert torch.allclose(path[0], z0, atol=1e-5) and torch.allclose(
        path[-1], z1, atol=1e-5
    )
    # slerp between equal-norm codes stays on that sphere; a straight line dips inside
    z1 = z1 / z1.norm() * z0.norm()
    mid_slerp = viz.interpolate(G, z0, z1, n=3)[1].norm().item()
    mid_line = viz.interpolate(G, z0, z1, n=3, spherical=False)[1].norm().item()
    assert mid_slerp == pytest.approx(z0.norm().item(), rel=1e-4)
    cos = (z0 @ z1 / z0.norm() ** 2).item()
    assert mid_line == pytest.approx(
        z0.norm().item() * math.sqrt((1 + cos) / 2), rel=1e-4
    )


def test_save_samples_and_losses(tmp_path):
    p = viz.save_samples(torch.rand(16, 1, 28, 28) * 2 - 1, tmp_path / "g.png")
    assert p.read_bytes()[:4] == b"\x89PNG"
    viz.save_samples(torch.randn(100, 2), tmp_path / "pts.png")
    hist = [{"step": i, "d_loss": 1.0 / i, "g_loss": float(i)} for i in range(1, 20)]
    viz.plot_losses(hist, path=tmp_path / "l.png", smooth=3)
    import matplotlib.image as mpimg

    img = mpimg.imread(tmp_path / "l.png")
    assert img.ndim == 3 and np.std(img) > 0.01


def test_interpolate_accepts_a_callable_with_the_class_held_fixed():
    calls = []

    def G_y(z):  # e.g. lambda z: sampler(z, y), with no .eval() to call
        calls.append(z.shape)
        return z * 2

    z0, z1 = torch.zeros(3), torch.ones(3)
    x = viz.interpolate(G_y, z0, z1, n=4, spherical=False)
    assert calls == [(4, 3)]
    assert torch.allclose(x[:, 0], torch.tensor([0.0, 2 / 3, 4 / 3, 2.0]))


def test_show_pretrained_draws_a_conditional_model_one_class_per_column(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    G = viz.show_pretrained("acgan-fashion", n=20)
    assert G.z_dim == 100 and len(shown) == 1
    title = shown[0].axes[0].get_title()
    assert "one class per column" in title
    # a 2 x 10 grid of 28 px tiles with 2 px padding
    img = shown[0].axes[0].get_images()[0].get_array()
    assert img.shape[:2] == (2 * 30 + 2, 10 * 30 + 2)
    plt.close("all")
