"""``photo-sr4``: x4 super-resolution pairs cut from the free photos in scikit-image.

A second offline paired dataset for chapter 4, in colour: the input ``x_src`` is a
64x64 crop shrunk to 16x16 and enlarged back (bicubic both ways, the degradation
of the super-resolution literature, e.g. Dong et al. 2014, SRCNN), the target
``x`` the crop itself; both uint8 ``(3, 64, 64)``, ``[-1, 1]`` as items.

Photos (shipped inside the scikit-image wheel; licences as its ``skimage.data``
docstrings state them): ``astronaut`` (NASA, public domain), ``hubble_deep_field``
(NASA, public domain), ``retina`` (Wikimedia Commons, CC0 1.0), ``chelsea``
(Stefan van der Walt, CC0) for train; ``coffee`` (Rachel Michetti, CC0) for test.
The split is by photo, so no test pixel was seen in training. ``rocket`` is left
out: SpaceX released it into the public domain in 2015 but has shown it under
CC BY-NC 2.0 on its Flickr page since 2019.

Recipe: a photo whose longer side exceeds 512 is first shrunk to 512 (bicubic,
PIL); crops are 64x64 on a grid of stride 16 (train) or 32 (test), in row-major
order, photo after photo; crops whose grey standard deviation is below 8 (flat
black borders of ``retina``) are dropped. ``y`` is the photo's index in
:data:`PHOTOS`. Built in about a second, so not cached.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gancourse.data.datasets import DataNotFoundError, check_split

PHOTOS = ("astronaut", "hubble_deep_field", "retina", "chelsea", "coffee")
"""The photos, in label order (``y``)."""

SPLIT_PHOTOS = {
    "train": ("astronaut", "hubble_deep_field", "retina", "chelsea"),
    "test": ("coffee",),
}
CROP, SCALE, MAX_SIDE, MIN_STD = 64, 4, 512, 8.0
STRIDE = {"train": 16, "test": 32}


def _photo(name: str) -> np.ndarray:
    """A scikit-image photo, uint8 ``(H, W, 3)``, longer side at most 512."""
    try:
        from skimage import data
    except ImportError:
        raise DataNotFoundError(
            "photo-sr4 is cut from the photos inside scikit-image: run "
            "`pip install scikit-image`, then load the data again."
        ) from None
    img = Image.fromarray(getattr(data, name)())
    w, h = img.size
    if max(w, h) > MAX_SIDE:
        s = MAX_SIDE / max(w, h)
        img = img.resize((round(w * s), round(h * s)), Image.BICUBIC)
    return np.asarray(img.convert("RGB"))


def degrade(crop: np.ndarray, scale: int = SCALE) -> np.ndarray:
    """uint8 ``(S, S, 3)`` -> the same size after a bicubic shrink by ``scale``
    (antialiased: PIL widens the kernel when it shrinks) and a bicubic enlargement
    back."""
    img = Image.fromarray(crop)
    s = crop.shape[0]
    small = img.resize((s // scale, s // scale), Image.BICUBIC)
    return np.asarray(small.resize((s, s), Image.BICUBIC))


def crop_grid(photo: np.ndarray, stride: int, size: int = CROP) -> np.ndarray:
    """``size`` x ``size`` crops at ``(top, left)`` multiples of ``stride``, in
    row-major order, without flat ones: uint8 ``(K, size, size, 3)``."""
    h, w = photo.shape[:2]
    crops = [
        photo[top : top + size, left : left + size]
        for top in range(0, h - size + 1, stride)
        for left in range(0, w - size + 1, stride)
    ]
    crops = np.stack(crops)  # (K, size, size, 3)
    grey_std = crops.astype(np.float32).mean(-1).std(axis=(1, 2))
    return crops[grey_std >= MIN_STD]


def photo_sr4_tensors(
    split: str = "train", root=None, download: bool = True
) -> dict[str, Tensor]:
    """The ``photo-sr4`` split: ``{"x_src", "x": uint8 (N, 3, 64, 64), "y": int64
    (N,)}`` (``root`` and ``download`` unused: the photos come with scikit-image).
    """
    check_split("photo-sr4", split)
    xs, srcs, ys = [], [], []
    for name in SPLIT_PHOTOS[split]:
        crops = crop_grid(_photo(name), STRIDE[split])
        xs.append(crops)
        srcs.append(np.stack([degrade(c) for c in crops]))
        ys.append(np.full(len(crops), PHOTOS.index(name), np.int64))

    def chw(a: np.ndarray) -> Tensor:  # (N, H, W, 3) -> (N, 3, H, W)
        return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))

    return {
        "x_src": chw(np.concatenate(srcs)),
        "x": chw(np.concatenate(xs)),
        "y": torch.from_numpy(np.concatenate(ys)),
    }


__all__ = ["PHOTOS", "SPLIT_PHOTOS", "crop_grid", "degrade", "photo_sr4_tensors"]
