"""Resizing images to Inception's 299×299 input, the two ways that matter.

``"tf-bilinear"`` reproduces TensorFlow 1's ``tf.image.resize_bilinear`` with
``align_corners=False`` (no half-pixel offset: output pixel ``i`` samples input
coordinate ``i · in / out``), which is what the TF Inception graph used by the
FID and IS papers' code does. PyTorch's ``F.interpolate(mode="bilinear")``
uses half-pixel centres and gives different pixels, so numbers computed with
it are not comparable with papers (a common bug).

``"clean"`` is the antialiased bicubic resize clean-fid argues for (Parmar et al.
2022): PIL's bicubic filter, which ``F.interpolate(..., antialias=True)``
reproduces, followed by clipping to the valid range. It avoids aliasing when
downsampling large images; numbers from it are comparable only with clean-fid.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gancourse.metrics.extractor import MetricInputError

__all__ = ["RESIZE_MODES", "resize", "resize_tf_bilinear", "resize_clean"]

RESIZE_MODES = ("tf-bilinear", "clean")


def _tf_axis(n_in: int, n_out: int, device) -> tuple[torch.Tensor, ...]:
    """Left and right source indices and right weights for one axis.

    In float32 like TF1 (``float scale = float(in) / out; float src = i * scale``):
    float64 coordinates move the samples of a large downsample (1024 -> 299) by
    enough to change pixels by 0.01.
    """
    scale = torch.tensor(float(n_in), dtype=torch.float32, device=device) / n_out
    src = torch.arange(n_out, device=device, dtype=torch.float32) * scale
    left = src.floor().long().clamp(max=n_in - 1)
    right = (left + 1).clamp(max=n_in - 1)
    return left, right, src - left.float()


def resize_tf_bilinear(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TF1 ``resize_bilinear`` (``align_corners=False``): ``(N, C, H, W) ->
    (N, C, *size)``, float in, float out."""
    (h_out, w_out), (h_in, w_in) = size, x.shape[-2:]
    if (h_in, w_in) == (h_out, w_out):
        return x
    top, bottom, wy = _tf_axis(h_in, h_out, x.device)
    left, right, wx = _tf_axis(w_in, w_out, x.device)
    rows = x[..., top, :] + (x[..., bottom, :] - x[..., top, :]) * wy[:, None]
    return rows[..., left] + (rows[..., right] - rows[..., left]) * wx


def resize_clean(
    x: torch.Tensor, size: tuple[int, int], lo: float = 0.0, hi: float = 255.0
) -> torch.Tensor:
    """Antialiased bicubic (PIL's filter), clipped to ``[lo, hi]``."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    y = F.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
    return y.clamp(lo, hi)


def resize(x: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """Resize ``(N, C, H, W)`` pixel values in ``[0, 255]`` with ``mode``."""
    if mode == "tf-bilinear":
        return resize_tf_bilinear(x, size)
    if mode == "clean":
        return resize_clean(x, size)
    raise MetricInputError(
        f"unknown resize mode {mode!r}; choose one of {', '.join(RESIZE_MODES)}"
    )
