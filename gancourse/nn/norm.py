"""Normalisation layers by name, for critics that must not use batch statistics.

BatchNorm makes each sample's output depend on the rest of the batch. That is
harmless for a classifier-style discriminator, but it breaks the per-sample
gradient penalty of WGAN-GP, which constrains ``||grad_x D(x)||`` for each ``x``
on its own (Gulrajani et al. 2017, section 4, "No critic batch normalization";
they recommend layer normalization instead). So every block that may sit in a
critic takes ``norm`` in :data:`NORMS`:

* ``"batch"``: ``nn.BatchNorm2d`` (DCGAN, Radford et al. 2016);
* ``"layer"``: layer normalisation over ``(C, H, W)`` of each sample, written as
  ``nn.GroupNorm(1, C)`` so that it works for any spatial size;
* ``"none"``: identity.

The image-to-image networks (Pix2Pix's U-Net and PatchGAN, CycleGAN's) take
``norm`` in :data:`TRANSLATION_NORMS` instead: ``"batch"``, ``"none"`` or
``"instance"``, instance normalisation over ``(H, W)`` of each channel of each
sample (Ulyanov et al. 2016), without a learned scale and shift as in the
Pix2Pix / CycleGAN reference code (``nn.InstanceNorm2d(C)``).
"""

from __future__ import annotations

from torch import nn

#: Names accepted for ``norm`` (and ``model.d_norm``).
NORMS = ("batch", "layer", "none")
#: Names accepted by the image-to-image networks (``model.norm`` of ``unet``).
TRANSLATION_NORMS = ("batch", "instance", "none")

__all__ = ["NORMS", "TRANSLATION_NORMS", "norm_layer", "check_norm"]


def check_norm(
    norm: str, choices: tuple[str, ...] = NORMS, key: str = "model.d_norm"
) -> str:
    """``norm`` if it is one of ``choices``, else a ``ValueError`` naming them."""
    if norm not in choices:
        raise ValueError(
            f"unknown normalisation {norm!r}; choose one of {', '.join(choices)} "
            f"({key})"
        )
    return norm


def norm_layer(norm: str, channels: int) -> nn.Module:
    """The normalisation ``norm`` for feature maps ``(N, channels, H, W)``.

    ``"layer"`` is ``GroupNorm(1, channels)``: mean and variance over all of a
    sample's ``C * H * W`` values, with a learned per-channel scale and shift, so
    no sample sees another (unlike ``"batch"``). ``"instance"`` normalises each
    channel of each sample over its ``H * W`` positions; it learns no scale or
    shift (a bias before it is removed with the mean, so convolutions that feed
    it need none).
    """
    check_norm(norm, NORMS + ("instance",), "norm")
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels)
    return nn.Identity()
