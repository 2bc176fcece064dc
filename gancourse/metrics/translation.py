"""Paired image-translation scores: L1, PSNR and SSIM of outputs against targets.

A paired task (Pix2Pix, chapter 4) has a right answer per input, so outputs can be
compared with their targets pixel by pixel. All three scores are per image,
``(N,)``, for images ``(N, C, H, W)`` in ``[-1, 1]`` (a data range of 2):

* :func:`l1` — mean absolute error, the reconstruction term of Pix2Pix's
  objective (Isola et al. 2017, eq. 3); lower is better.
* :func:`psnr` — peak signal-to-noise ratio ``10 log10(R^2 / MSE)`` in dB with
  ``R`` the data range; higher is better, ``+inf`` for identical images.
* :func:`ssim` — structural similarity (Wang et al. 2004, eq. 13) with their
  11x11 Gaussian window (sigma 1.5), ``K1 = 0.01``, ``K2 = 0.03``, over the
  positions where the window fits ("valid"), averaged over positions and
  channels; 1 for identical images. Computed on intensities mapped to
  ``[0, 1]`` (SSIM is not shift-invariant; see :func:`ssim`), it matches
  ``skimage.metrics.structural_similarity((x + 1) / 2, (y + 1) / 2,
  gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1,
  channel_axis=0)``.

Isola et al. warn that per-pixel scores reward blurry averages; they judge
realism otherwise (AMT studies, FCN-scores). Read L1 / PSNR / SSIM as "how close
to this target", next to a realism score (FID) and a look at the images.

:func:`translation_means` averages the three over a batch; :func:`evaluate_translation`
runs a generator over a paired split in batches and returns the means.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from gancourse.metrics.extractor import MetricInputError

__all__ = [
    "evaluate_translation",
    "gaussian_window",
    "l1",
    "psnr",
    "ssim",
    "translation_means",
    "translation_scores",
]

DATA_RANGE = 2.0  # images in [-1, 1]


def _check_pair(x: Tensor, y: Tensor, what: str) -> None:
    if x.dim() != 4 or x.shape != y.shape:
        raise MetricInputError(
            f"{what} compares two image batches of one shape (N, C, H, W), got "
            f"{tuple(x.shape)} and {tuple(y.shape)}"
        )


def _float(x: Tensor) -> Tensor:
    """float64 stays float64; anything else is computed in float32."""
    return x if x.dtype == torch.float64 else x.float()


def l1(x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute difference per image: ``mean |x - y|`` over ``C, H, W``.

    Args:
        x, y: images ``(N, C, H, W)``, e.g. outputs and targets in ``[-1, 1]``.

    Returns:
        ``(N,)``; 0 for identical images, at most 2 in ``[-1, 1]``.
    """
    _check_pair(x, y, "l1")
    return (_float(x) - _float(y)).abs().mean(dim=(1, 2, 3))


def psnr(x: Tensor, y: Tensor, data_range: float = DATA_RANGE) -> Tensor:
    """Peak signal-to-noise ratio per image, in dB.

    ``PSNR = 10 log10(R^2 / MSE)`` with ``MSE`` the mean squared difference over
    ``C, H, W`` and ``R = data_range`` (2 for images in ``[-1, 1]``: the same
    number as for the images mapped to ``[0, 1]`` with ``R = 1``).

    Args:
        x, y: images ``(N, C, H, W)``.
        data_range: max minus min of the value range.

    Returns:
        ``(N,)``; ``+inf`` where the two images are identical (``MSE = 0``).
    """
    _check_pair(x, y, "psnr")
    mse = (_float(x) - _float(y)).pow(2).mean(dim=(1, 2, 3))
    ratio = data_range**2 / mse.clamp_min(torch.finfo(mse.dtype).tiny)
    return torch.where(mse > 0, 10 * torch.log10(ratio), math.inf)


def gaussian_window(
    size: int = 11,
    sigma: float = 1.5,
    dtype: torch.dtype = torch.float32,
    device: Any = None,
) -> Tensor:
    """The 1-D Gaussian ``w_i ∝ exp(-i^2 / (2 sigma^2))``, ``i = -r..r``,
    ``r = (size - 1) / 2``, summing to 1: ``(size,)``. SSIM's 2-D window is its
    outer product with itself (separable)."""
    if size % 2 != 1 or size < 1:
        raise ValueError(f"window size must be odd and positive, got {size}")
    i = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    w = torch.exp(-(i**2) / (2 * sigma**2))
    return (w / w.sum()).to(dtype=dtype, device=device)


def ssim(
    x: Tensor,
    y: Tensor,
    data_range: float = DATA_RANGE,
    low: float = -1.0,
    window_size: int = 11,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> Tensor:
    """Structural similarity per image (Wang et al. 2004).

    Local statistics under a Gaussian window ``w`` (``window_size`` x
    ``window_size``, standard deviation ``sigma``): means ``mu_x = w * x``,
    variances ``s_x^2 = w * x^2 - mu_x^2`` and covariance
    ``s_xy = w * (x y) - mu_x mu_y`` (population, not sample, moments), then
    eq. 13::

        SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2)
               / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2))

    with ``C1 = (k1 R)^2``, ``C2 = (k2 R)^2``. The map is computed where the
    window fits inside the image (``H - window_size + 1`` rows), per channel, and
    averaged over positions and channels.

    The luminance factor ``(2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1)`` is not
    invariant to a shift of the pixel values: Wang et al. define SSIM on
    non-negative intensities ``[0, R]`` (0..255, or 0..1). Images are therefore
    first mapped from ``[low, low + data_range]`` to ``[0, 1]`` (``R = 1``), so
    that the course's ``[-1, 1]`` images score as the same images in 0..255 do.
    (Computing eq. 13 on ``[-1, 1]`` directly puts mid-grey means near 0, where
    the luminance factor collapses.)

    Args:
        x, y: images ``(N, C, H, W)``, ``H, W >= window_size``, values in
            ``[low, low + data_range]``.
        data_range: max minus min of the value range (2 for ``[-1, 1]``).
        low: the bottom of the value range (-1 for ``[-1, 1]``, 0 for ``[0, 1]``
            or 0..255).
        window_size, sigma, k1, k2: Wang et al.'s 11, 1.5, 0.01, 0.03.

    Returns:
        ``(N,)`` in ``[-1, 1]``; 1 for identical images.
    """
    _check_pair(x, y, "ssim")
    n, c, h, w = x.shape
    if min(h, w) < window_size:
        raise MetricInputError(
            f"ssim needs images of at least {window_size}x{window_size} (its "
            f"window), got {h}x{w}; pass a smaller odd window_size"
        )
    x, y = (_float(x) - low) / data_range, (_float(y) - low) / data_range  # [0, 1]
    g = gaussian_window(window_size, sigma, x.dtype, x.device)
    rows = g.view(1, 1, -1, 1).expand(c, 1, -1, 1)  # (C, 1, k, 1)
    cols = g.view(1, 1, 1, -1).expand(c, 1, 1, -1)  # (C, 1, 1, k)

    def blur(t: Tensor) -> Tensor:
        # (5N, C, H, W) -> (5N, C, H - k + 1, W - k + 1): valid, per channel
        return F.conv2d(F.conv2d(t, rows, groups=c), cols, groups=c)

    stats = blur(torch.cat([x, y, x * x, y * y, x * y]))
    mu_x, mu_y, xx, yy, xy = stats.split(n)
    var_x, var_y = xx - mu_x**2, yy - mu_y**2
    cov = xy - mu_x * mu_y
    c1, c2 = k1**2, k2**2  # (k R)^2 with R = 1 after the mapping above
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
        (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
    )
    return s.mean(dim=(1, 2, 3))


def translation_scores(
    x_fake: Tensor, x: Tensor, data_range: float = DATA_RANGE
) -> dict[str, Tensor]:
    """``{"l1", "psnr", "ssim"}``, each ``(N,)``, of outputs ``x_fake`` against
    targets ``x`` (both ``(N, C, H, W)``)."""
    return {
        "l1": l1(x_fake, x),
        "psnr": psnr(x_fake, x, data_range),
        "ssim": ssim(x_fake, x, data_range, low=-data_range / 2),
    }


def translation_means(
    x_fake: Tensor, x: Tensor, data_range: float = DATA_RANGE
) -> dict[str, float]:
    """The batch means of :func:`translation_scores`, as floats.

    PSNR is the mean of the per-image PSNRs (as translation and super-resolution
    papers report it), so one identical pair makes it ``inf``.
    """
    return {
        k: v.mean().item() for k, v in translation_scores(x_fake, x, data_range).items()
    }


def _as_translator(G: Any) -> Callable[[Tensor], Tensor]:
    """``x_src -> x_fake`` from a module, a callable, or a
    :class:`~gancourse.sampling.Sampler` (called with ``{"x_src": x_src}``)."""
    if hasattr(G, "draw_inputs") and hasattr(G, "method"):  # a Sampler
        return lambda x_src: G({"x_src": x_src})
    if not callable(G):
        raise MetricInputError(
            f"G must map input images to outputs (a module or a function), got "
            f"{type(G).__name__}"
        )
    return G


def _device_of(G: Any) -> torch.device:
    params = getattr(G, "parameters", None)
    if params is not None:
        for p in params():
            return p.device
    return torch.device("cpu")


def _pair_batches(data: Any, batch_size: int, n: int | None) -> Iterator[dict]:
    """Batches ``{"x_src", "x"}`` of a dict of tensors or a dataset of dict items."""
    if isinstance(data, dict):
        if not {"x_src", "x"} <= set(data):
            raise MetricInputError(
                f"paired data needs the keys x_src and x, got {sorted(data)}"
            )
        total = len(data["x"]) if n is None else min(n, len(data["x"]))
        for start in range(0, total, batch_size):
            stop = min(start + batch_size, total)
            yield {"x_src": data["x_src"][start:stop], "x": data["x"][start:stop]}
        return
    total = len(data) if n is None else min(n, len(data))
    for start in range(0, total, batch_size):
        items = [data[i] for i in range(start, min(start + batch_size, total))]
        yield {k: torch.stack([it[k] for it in items]) for k in ("x_src", "x")}


def evaluate_translation(
    G: Any,
    data: Any,
    batch_size: int = 64,
    n: int | None = None,
    data_range: float = DATA_RANGE,
    seed: int | None = 0,
    device: Any = None,
) -> dict[str, float]:
    """Mean L1, PSNR and SSIM of ``G(x_src)`` against ``x`` over paired data.

    Args:
        G: the generator: a module or function ``x_src (B, C_src, H, W) -> x_fake
            (B, C, H, W)`` in ``[-1, 1]``, or a :class:`~gancourse.sampling.Sampler`
            (called with ``{"x_src": ...}``; it picks the networks and their mode).
            A module is run in the mode it is in: Pix2Pix keeps dropout on at test
            time (Isola et al. 2017, sec. 3.2), so put it in the mode you mean.
        data: a paired dataset whose items are dicts with ``x_src`` and ``x``
            (:func:`gancourse.data.load_paired`), or a dict of tensors
            ``{"x_src": (N, ...), "x": (N, ...)}`` in ``[-1, 1]`` (uint8 pixels are
            mapped to ``[-1, 1]``).
        batch_size: pairs per forward pass.
        n: only the first ``n`` pairs (default: all).
        data_range: of the images (2 for ``[-1, 1]``).
        seed: seeds the random numbers drawn during the evaluation (dropout), so
            two calls agree; the caller's random state is restored afterwards.
            ``None``: use and advance the current state.
        device: where to run; default that of G's parameters (CPU for a function).

    Returns:
        ``{"l1": float, "psnr": float, "ssim": float, "n": int}``: means over the
        pairs (PSNR: the mean of per-image PSNRs, dB).
    """
    from gancourse.data.source import to_signed_unit

    translate = _as_translator(G)
    device = torch.device(device) if device is not None else _device_of(G)
    sums = {"l1": 0.0, "psnr": 0.0, "ssim": 0.0}
    count = 0
    devices = []
    if device.type == "cuda":
        devices = [
            device.index if device.index is not None else torch.cuda.current_device()
        ]
    with torch.random.fork_rng(devices=devices, enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        with torch.no_grad():
            for batch in _pair_batches(data, batch_size, n):
                x_src = to_signed_unit(batch["x_src"]).to(device)
                x = to_signed_unit(batch["x"]).to(device)
                x_fake = translate(x_src)
                if x_fake.shape != x.shape:
                    raise MetricInputError(
                        f"G returned {tuple(x_fake.shape)} for targets of shape "
                        f"{tuple(x.shape)}"
                    )
                for key, v in translation_scores(x_fake, x, data_range).items():
                    sums[key] += v.double().sum().item()
                count += len(x)
    if count == 0:
        raise MetricInputError("evaluate_translation: the data is empty")
    return {**{k: s / count for k, s in sums.items()}, "n": count}
