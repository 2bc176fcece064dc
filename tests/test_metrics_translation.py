"""Paired translation scores: L1, PSNR, SSIM, evaluation of a generator, the grid.

References: scikit-image (``structural_similarity`` with Wang et al.'s Gaussian
window, ``peak_signal_noise_ratio``), scipy's Gaussian filter, numpy, and values
computed by hand (constant images, where SSIM and PSNR have closed forms).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn

from gancourse.data import PairedTensors
from gancourse.metrics import (
    MetricInputError,
    evaluate_translation,
    l1,
    psnr,
    ssim,
    translation_means,
    translation_scores,
)
from gancourse.metrics.translation import gaussian_window
from gancourse.viz import translation_grid

HAS_SKIMAGE = importlib.util.find_spec("skimage") is not None
needs_skimage = pytest.mark.skipif(
    not HAS_SKIMAGE, reason="scikit-image not installed (pip install scikit-image)"
)


def sk_ssim(
    a: np.ndarray, b: np.ndarray, data_range: float = 2.0, low: float = -1.0
) -> float:
    """scikit-image's SSIM of one ``(C, H, W)`` pair, Wang et al.'s settings, on
    the intensities mapped to ``[0, 1]`` (Wang et al. define SSIM on
    non-negative intensities)."""
    from skimage.metrics import structural_similarity

    return structural_similarity(
        (a - low) / data_range,
        (b - low) / data_range,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1.0,
        channel_axis=0,
    )


def sk_psnr(a: np.ndarray, b: np.ndarray, data_range: float = 2.0) -> float:
    from skimage.metrics import peak_signal_noise_ratio

    return peak_signal_noise_ratio(a, b, data_range=data_range)


def pairs(kind: str, shape=(4, 3, 32, 32), seed=0) -> tuple[torch.Tensor, torch.Tensor]:
    """Image pairs in ``[-1, 1]`` (float64): random, or structured ones."""
    g = np.random.default_rng(seed)
    n, c, h, w = shape
    if kind == "random":
        a = g.uniform(-1, 1, shape)
        b = g.uniform(-1, 1, shape)
    else:
        yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
        base = np.sin(6 * xx + 3 * yy)[None, None] * 0.6  # smooth stripes
        square = np.zeros((h, w))
        square[h // 4 : 3 * h // 4, w // 3 : 2 * w // 3] = 0.5
        a = np.broadcast_to(base + square, shape).copy()
        a += g.normal(0, 0.02, shape)
        b = {
            "noisy": a + g.normal(0, 0.2, shape),
            "blurred": ndimage.gaussian_filter(a, sigma=(0, 0, 1.5, 1.5)),
            "shifted": np.roll(a, 2, axis=-1),
            "contrast": 0.5 * a + 0.2,
            "inverted": -a,
        }[kind]
    clip = np.clip
    return torch.from_numpy(clip(a, -1, 1)), torch.from_numpy(clip(b, -1, 1))


KINDS = ["random", "noisy", "blurred", "shifted", "contrast", "inverted"]


@needs_skimage
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(3, 3, 32, 32), (2, 1, 40, 33), (1, 2, 11, 11)])
def test_ssim_and_psnr_match_scikit_image(kind, shape):
    a, b = pairs(kind, shape)
    got_ssim, got_psnr = ssim(a, b), psnr(a, b)
    assert got_ssim.shape == got_psnr.shape == (shape[0],)
    assert got_ssim.dtype == torch.float64
    for i in range(shape[0]):
        ref = sk_ssim(a[i].numpy(), b[i].numpy())
        assert abs(got_ssim[i].item() - ref) < 1e-10, (kind, i)
        assert abs(got_psnr[i].item() - sk_psnr(a[i].numpy(), b[i].numpy())) < 1e-10
    # float32 (what a GPU run gives) agrees to float32 precision
    f32 = ssim(a.float(), b.float())
    assert f32.dtype == torch.float32
    assert (f32.double() - got_ssim).abs().max() < 1e-5
    assert (psnr(a.float(), b.float()).double() - got_psnr).abs().max() < 1e-3


@needs_skimage
def test_other_data_ranges_match_scikit_image():
    a, b = pairs("noisy", (2, 3, 24, 24))
    a01, b01 = (a + 1) / 2, (b + 1) / 2  # the same images in [0, 1]
    for i in range(2):
        assert ssim(a01, b01, 1.0, low=0.0)[i].item() == pytest.approx(
            sk_ssim(a01[i].numpy(), b01[i].numpy(), 1.0, low=0.0), abs=1e-10
        )
    # the same images in 0..255 and in [-1, 1] score alike
    a255, b255 = a01 * 255, b01 * 255
    assert torch.allclose(ssim(a255, b255, 255.0, low=0.0), ssim(a, b), atol=1e-12)
    # PSNR does not depend on the scale when the range scales with it
    assert torch.allclose(psnr(a01, b01, 1.0), psnr(a, b, 2.0))


def test_constant_images_by_hand():
    # variance 0: SSIM = (2ab + C1) / (a^2 + b^2 + C1) on intensities in [0, 1]
    # (0.5 -> 0.75, -0.5 -> 0.25) with C1 = 0.01^2
    x = torch.full((1, 1, 16, 16), 0.5, dtype=torch.float64)
    y = torch.full((1, 1, 16, 16), -0.5, dtype=torch.float64)
    c1 = 0.01**2
    want = (2 * 0.75 * 0.25 + c1) / (0.75**2 + 0.25**2 + c1)
    assert ssim(x, y).item() == pytest.approx(want, abs=1e-12)
    # a mid-grey image and a slightly darker copy are similar (SSIM near 1), which
    # eq. 13 computed on [-1, 1] directly would not say (means near 0)
    g = torch.linspace(-0.2, 0.2, 16 * 16, dtype=torch.float64).view(1, 1, 16, 16)
    assert ssim(g, g - 0.2).item() > 0.9
    # MSE 0.01 -> PSNR = 10 log10(2^2 / 0.01) = 10 log10(400)
    z = torch.zeros(2, 3, 16, 16)
    assert psnr(z, z + 0.1).tolist() == pytest.approx([10 * math.log10(400)] * 2)
    assert l1(z, z + 0.1).tolist() == pytest.approx([0.1, 0.1])


def test_identical_images():
    a, _ = pairs("random", (3, 3, 32, 32))
    assert torch.allclose(ssim(a, a), torch.ones(3, dtype=torch.float64), atol=1e-12)
    assert torch.isinf(psnr(a, a)).all() and (psnr(a, a) > 0).all()
    assert l1(a, a).eq(0).all()
    # one identical pair of three: only its PSNR is infinite
    b = a.clone()
    b[1:] += 0.05
    p = psnr(a, b)
    assert torch.isinf(p[0]) and torch.isfinite(p[1:]).all()
    means = translation_means(a, a)
    assert (
        means["l1"] == 0
        and means["ssim"] == pytest.approx(1)
        and means["psnr"] == math.inf
    )


def test_l1_and_means_match_numpy():
    a, b = pairs("random", (5, 3, 16, 16))
    ref = np.abs(a.numpy() - b.numpy()).mean(axis=(1, 2, 3))
    assert np.allclose(l1(a, b).numpy(), ref, atol=1e-12)
    scores = translation_scores(a, b)
    assert set(scores) == {"l1", "psnr", "ssim"}
    means = translation_means(a, b)
    assert means["l1"] == pytest.approx(ref.mean())
    assert means["ssim"] == pytest.approx(scores["ssim"].mean().item())


def test_gaussian_window_is_scipys():
    delta = np.zeros(21)
    delta[10] = 1
    ref = ndimage.gaussian_filter1d(delta, 1.5, truncate=3.5)[5:16]  # radius 5
    assert np.allclose(gaussian_window(11, 1.5, torch.float64).numpy(), ref, atol=1e-15)


def test_bad_inputs_are_clear_errors():
    x = torch.zeros(2, 1, 32, 32)
    with pytest.raises(MetricInputError, match="one shape"):
        ssim(x, torch.zeros(2, 1, 32, 31))
    with pytest.raises(MetricInputError, match="one shape"):
        psnr(x[0], x[0])
    with pytest.raises(MetricInputError, match="at least 11x11"):
        ssim(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8))


# ---------------------------------------------------------------- evaluation


@pytest.fixture
def paired():
    """Pairs whose target is a known function of the input."""
    g = torch.Generator().manual_seed(0)
    x_src = torch.rand(10, 1, 16, 16, generator=g) * 2 - 1
    x = (0.8 * x_src + 0.1).clamp(-1, 1)
    return x_src, x


def test_evaluate_translation_means_over_all_pairs(paired):
    x_src, x = paired

    def G(t):
        return 0.7 * t

    fake = G(x_src)
    ref = {
        "l1": np.abs(fake.numpy() - x.numpy()).mean(),
        "psnr": psnr(fake, x).mean().item(),
        "ssim": ssim(fake, x).mean().item(),
    }
    for batch_size in (3, 64):
        got = evaluate_translation(G, {"x_src": x_src, "x": x}, batch_size=batch_size)
        assert got["n"] == 10
        for k, v in ref.items():
            assert got[k] == pytest.approx(v, rel=1e-6), (k, batch_size)
    first = evaluate_translation(G, {"x_src": x_src, "x": x}, n=4)
    assert first["n"] == 4
    assert first["l1"] == pytest.approx(l1(fake[:4], x[:4]).mean().item(), rel=1e-6)
    perfect = evaluate_translation(lambda t: t, {"x_src": x, "x": x})
    assert perfect["psnr"] == math.inf and perfect["ssim"] == pytest.approx(1)


@needs_skimage
def test_evaluate_translation_on_a_dataset_of_uint8_pairs_and_a_sampler(paired):
    x_src, x = paired
    to_u8 = lambda t: ((t + 1) * 127.5).round().to(torch.uint8)  # noqa: E731
    ds = PairedTensors({"x_src": to_u8(x_src), "x": to_u8(x), "y": torch.zeros(10)})
    src, tgt = ds[:10]["x_src"], ds[:10]["x"]
    got = evaluate_translation(lambda t: -t, ds, batch_size=4)
    refs = [
        sk_ssim(-src[i].double().numpy(), tgt[i].double().numpy()) for i in range(10)
    ]
    assert got["ssim"] == pytest.approx(np.mean(refs), abs=1e-5)
    # the uint8 dict gives the same numbers
    same = evaluate_translation(lambda t: -t, ds.tensors, batch_size=7)
    assert same["ssim"] == pytest.approx(got["ssim"], abs=1e-7)

    class FakeSampler:  # the Sampler protocol: called with a dict of inputs
        method = None

        def draw_inputs(self, n, generator=None):  # pragma: no cover - unused
            raise AssertionError

        def __call__(self, inputs):
            return -inputs["x_src"]

    assert evaluate_translation(FakeSampler(), ds)["ssim"] == pytest.approx(got["ssim"])


def test_evaluate_translation_is_seeded_and_leaves_the_rng_alone(paired):
    x_src, x = paired
    G = nn.Sequential(nn.Dropout(0.5))  # random, as Pix2Pix's G at test time
    G.train()
    data = {"x_src": x_src, "x": x}
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = evaluate_translation(G, data, batch_size=4, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    b = evaluate_translation(G, data, batch_size=4, seed=1)
    c = evaluate_translation(G, data, batch_size=4, seed=2)
    assert a == b and a["l1"] != c["l1"]
    # no graph is built
    lin = nn.Conv2d(1, 1, 1)
    out = []
    evaluate_translation(lambda t: out.append(lin(t)) or out[-1], data)
    assert not out[-1].requires_grad


def test_evaluate_translation_errors(paired):
    x_src, x = paired
    with pytest.raises(MetricInputError, match="x_src and x"):
        evaluate_translation(lambda t: t, {"x": x})
    with pytest.raises(MetricInputError, match="returned"):
        evaluate_translation(lambda t: t[:, :, :8], {"x_src": x_src, "x": x})
    with pytest.raises(MetricInputError, match="module or a function"):
        evaluate_translation(42, {"x_src": x_src, "x": x})


# ---------------------------------------------------------------- the grid


def test_translation_grid_layout():
    g = torch.Generator().manual_seed(0)
    n, h = 5, 6
    x_src = torch.rand(n, 1, h, h, generator=g) * 2 - 1  # grey inputs
    x_fake = torch.rand(n, 3, h, h, generator=g) * 2 - 1  # colour outputs
    x = torch.rand(n, 3, h, h, generator=g) * 2 - 1
    grid = translation_grid(x_src, x_fake, x, per_row=2, padding=1)
    # 2 examples x 3 cells per row, 3 rows; cells of h plus 1-pixel padding
    assert grid.shape == (3 * (h + 1) + 1, 6 * (h + 1) + 1, 3)

    def cell(r, c):
        top, left = 1 + r * (h + 1), 1 + c * (h + 1)
        return torch.from_numpy(grid[top : top + h, left : left + h]).permute(2, 0, 1)

    def unit(t):
        return ((t + 1) / 2).float()

    assert torch.allclose(cell(0, 0), unit(x_src[0]).expand(3, -1, -1))  # repeated
    assert torch.allclose(cell(0, 1), unit(x_fake[0]))
    assert torch.allclose(cell(0, 2), unit(x[0]))
    assert torch.allclose(cell(0, 3), unit(x_src[1]).expand(3, -1, -1))
    assert torch.allclose(cell(2, 1), unit(x_fake[4]))
    # grey everything: a 2-D grid; pairs without targets; the first n only
    grey = translation_grid(x_src, x_src, n=2, per_row=4)
    assert grey.ndim == 2 and grey.shape == (h + 4, 4 * (h + 2) + 2)
    with pytest.raises(ValueError, match="differ in size"):
        translation_grid(x_src, torch.zeros(n, 3, 8, 8))
