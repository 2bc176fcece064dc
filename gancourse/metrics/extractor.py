"""What every feature extractor shares: input checking and a common interface.

An extractor maps images to a feature vector per image (for FID, KID and
precision/recall) and, when it is a classifier, to class logits (for IS and
class accuracy). Images come in the package's convention, floats in ``[-1, 1]``,
or as ``uint8`` in ``[0, 255]``; anything else is refused with a hint, because a
wrong range gives a plausible-looking but meaningless score.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

__all__ = ["FeatureExtractor", "MetricInputError", "to_signed_unit"]

RANGE_TOLERANCE = 1e-3  # float outputs of tanh may overshoot by rounding only


class MetricInputError(ValueError):
    """Images, features or statistics that a metric cannot use."""


def to_signed_unit(images: torch.Tensor) -> torch.Tensor:
    """Check ``images`` and return them as float32 in ``[-1, 1]``.

    Args:
        images: ``(N, C, H, W)``, either ``uint8`` in ``[0, 255]`` or floating
            point in ``[-1, 1]``.

    Raises:
        MetricInputError: wrong rank, no samples, non-finite values, or floats
            outside ``[-1, 1]`` (for example ``[0, 255]`` floats).
    """
    if not isinstance(images, torch.Tensor):
        raise MetricInputError(
            f"images must be a torch.Tensor, got {type(images).__name__}"
        )
    if images.dim() != 4:
        raise MetricInputError(
            f"images must have shape (N, C, H, W), got {tuple(images.shape)}"
        )
    if images.shape[0] == 0:
        raise MetricInputError("got an empty batch of images")
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    if not images.is_floating_point():
        raise MetricInputError(
            f"images must be uint8 in [0, 255] or floats in [-1, 1], got {images.dtype}"
        )
    images = images.float()
    if not torch.isfinite(images).all():
        raise MetricInputError("images contain NaN or infinite values")
    lo, hi = images.min().item(), images.max().item()
    if lo < -1 - RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
        hint = (
            " They look like [0, 255] floats: pass uint8, or x / 127.5 - 1."
            if hi > 2
            else ""
        )
        raise MetricInputError(
            f"float images must be in [-1, 1], got values in [{lo:.3g}, {hi:.3g}]."
            + hint
        )
    if lo >= 0 and images.shape[0] >= 16:
        warnings.warn(
            "all image values are >= 0: if these are [0, 1] images, map them to "
            "[-1, 1] with 2 * x - 1 first, or the scores will be wrong",
            stacklevel=3,
        )
    return images.clamp(-1.0, 1.0)


class FeatureExtractor(nn.Module):
    """Interface of the networks that metrics run images through.

    Subclasses set ``name`` (``"inception"``, ``"lenet-mnist"``, ...),
    ``feature_dim``, ``num_classes`` (0 when there is no classifier head) and
    ``resize`` (the resize mode, or ``None`` when images are used at their size),
    and implement :meth:`prepare` and :meth:`forward`.
    """

    name: str = "extractor"
    feature_dim: int = 0
    num_classes: int = 0
    resize: str | None = None

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Checked ``(N, C, H, W)`` images -> the network's input tensor."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Prepared input -> ``(features (N, feature_dim), logits (N, K) or None)``."""
        raise NotImplementedError

    @torch.no_grad()
    def extract(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Images in the package's convention -> float32 features and logits."""
        x = self.prepare(to_signed_unit(images))
        feats, logits = self(x)
        if not torch.isfinite(feats).all():
            raise MetricInputError(
                f"the {self.name} extractor produced non-finite features; "
                "check its weights"
            )
        return feats.float(), None if logits is None else logits.float()

    def describe(self) -> dict:
        """What a reported number must state about how it was computed."""
        return {
            "extractor": self.name,
            "resize": self.resize or "none",
            "feature_dim": self.feature_dim,
        }
