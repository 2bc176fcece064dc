"""The TF Inception-v3 graph of 2015-12-05, the network behind published FID and IS.

FID (Heusel et al. 2017) and IS (Salimans et al. 2016) were defined with the
TensorFlow graph ``inception-2015-12-05``. It differs from torchvision's Inception
v3 (Szegedy et al. 2016): a 1008-way classifier, batch norm with a shift but no
scale and ``eps=0.001``, average pools in the Inception blocks that do not count
the zero padding, and a max pool (not an average pool) in the last block's pool
branch. Using torchvision's ImageNet weights instead gives numbers that cannot be
compared with any paper.

This module builds that graph in plain PyTorch. Its parameter names follow
torchvision's so that the standard ported weights (pytorch-fid's release file)
load directly, and :func:`convert_torchscript_state` maps NVIDIA's TorchScript
port onto it. Preprocessing follows the TF graph: pixel values ``v`` in
``[0, 255]`` are resized to 299×299 and mapped to ``(v − 128) / 128``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.metrics.extractor import FeatureExtractor, MetricInputError
from gancourse.metrics.resize import RESIZE_MODES, resize

__all__ = ["TFInception", "convert_torchscript_state", "INPUT_SIZE"]

INPUT_SIZE = (299, 299)
FEATURE_DIM = 2048
NUM_CLASSES = 1008  # 1000 ImageNet classes plus 8 unused outputs of the TF graph


class ConvBN(nn.Module):
    """Conv (no bias) -> BatchNorm (eps 0.001, frozen statistics) -> ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TF's SAME average pooling divides by the number of real (unpadded) inputs
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    """35×35 block (Mixed_5b-d): 1×1, 5×5, double 3×3 and pool branches."""

    def __init__(self, c_in: int, pool_features: int):
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 64, 1)
        self.branch5x5_1 = ConvBN(c_in, 48, 1)
        self.branch5x5_2 = ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, padding=1)
        self.branch_pool = ConvBN(c_in, pool_features, 1)

    def forward(self, x):
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool(x)),
            ],
            1,
        )


class BlockB(nn.Module):
    """Grid reduction 35 -> 17 (Mixed_6a): (N, 288, 35, 35) -> (N, 768, 17, 17)."""

    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3 = ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = ConvBN(96, 96, 3, stride=2)

    def forward(self, x):
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, 3, stride=2),
            ],
            1,
        )


class BlockC(nn.Module):
    """17×17 block with factorised 7×7 convolutions (Mixed_6b-e)."""

    def __init__(self, c_in: int, c7: int):
        super().__init__()
        self.branch1x1 = ConvBN(c_in, 192, 1)
        self.branch7x7_1 = ConvBN(c_in, c7, 1)
        self.branch7x7_2 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = ConvBN(c_in, c7, 1)
        self.branch7x7dbl_2 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = ConvBN(c_in, 192, 1)

    def forward(self, x):
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f"branch7x7dbl_{i}")(bd)
        return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(_avg_pool(x))], 1)


class BlockD(nn.Module):
    """Grid reduction 17 -> 8 (Mixed_7a): (N, 768, 17, 17) -> (N, 1280, 8, 8)."""

    def __init__(self, c_in: int):
        super().__init__()
        self.branch3x3_1 = ConvBN(c_in, 192, 1)
        self.branch3x3_2 = ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = ConvBN(c_in, 192, 1)
        self.branch7x7x3_2 = ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = ConvBN(192, 192, 3, stride=2)

    def forward(self, x):
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat(
            [self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, 3, stride=2)], 1
        )


class BlockE(nn.Module):
    """8×8 block with expanded 1×3 / 3×1 branches (Mixed_7b, 7c) -> 2048 channels.

    ``pool="max"`` in the last block: the TF graph max-pools there.
    """

    def __init__(self, c_in: int, pool: str):
        super().__init__()
        self.pool = pool
        self.branch1x1 = ConvBN(c_in, 320, 1)
        self.branch3x3_1 = ConvBN(c_in, 384, 1)
        self.branch3x3_2a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = ConvBN(c_in, 448, 1)
        self.branch3x3dbl_2 = ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = ConvBN(c_in, 192, 1)

    def forward(self, x):
        a = self.branch3x3_1(x)
        b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        if self.pool == "max":
            pooled = F.max_pool2d(x, 3, stride=1, padding=1)
        else:
            pooled = _avg_pool(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(a),
                self.branch3x3_2b(a),
                self.branch3x3dbl_3a(b),
                self.branch3x3dbl_3b(b),
                self.branch_pool(pooled),
            ],
            1,
        )


class TFInception(FeatureExtractor):
    """TF Inception-v3 (2015-12-05): images -> 2048-d pool features and 1008 logits.

    Args:
        resize: ``"tf-bilinear"`` (default, comparable with papers) or ``"clean"``.
        quantize: round float images to 8-bit pixel values first, as saving them
            to PNG would (what papers' pipelines measure).
    """

    name = "inception"
    feature_dim = FEATURE_DIM
    num_classes = NUM_CLASSES

    def __init__(self, resize: str = "tf-bilinear", quantize: bool = True):
        super().__init__()
        if resize not in RESIZE_MODES:
            raise MetricInputError(
                f"unknown resize mode {resize!r}; choose one of "
                f"{', '.join(RESIZE_MODES)}"
            )
        self.resize = resize
        self.quantize = quantize
        self.has_classifier = True  # False for feature-only weight files
        self.Conv2d_1a_3x3 = ConvBN(3, 32, 3, stride=2)  # (N, 3, 299, 299) -> 149
        self.Conv2d_2a_3x3 = ConvBN(32, 32, 3)  # -> (N, 32, 147, 147)
        self.Conv2d_2b_3x3 = ConvBN(32, 64, 3, padding=1)  # -> (N, 64, 147, 147)
        self.Conv2d_3b_1x1 = ConvBN(64, 80, 1)  # after max pool: 73 × 73
        self.Conv2d_4a_3x3 = ConvBN(80, 192, 3)  # -> (N, 192, 71, 71)
        self.Mixed_5b = BlockA(192, 32)  # after max pool: (N, 256, 35, 35)
        self.Mixed_5c = BlockA(256, 64)  # -> 288 channels
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)  # -> (N, 768, 17, 17)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)  # -> (N, 1280, 8, 8)
        self.Mixed_7b = BlockE(1280, pool="avg")  # -> (N, 2048, 8, 8)
        self.Mixed_7c = BlockE(2048, pool="max")
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)
        self.eval()

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 1 or 3, H, W)`` in ``[-1, 1]`` -> ``(N, 3, 299, 299)`` net input."""
        if images.shape[1] not in (1, 3):
            raise MetricInputError(
                f"Inception needs 1- or 3-channel images, got {images.shape[1]} "
                "channels"
            )
        device = next(self.parameters()).device
        v = (images.to(device) + 1) * 127.5  # pixel values in [0, 255]
        if self.quantize:
            v = v.round()
        if v.shape[1] == 1:
            v = v.expand(-1, 3, -1, -1)  # grey -> RGB, as image libraries convert
        v = resize(v, INPUT_SIZE, self.resize)
        return (v - 128.0) / 128.0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(N, 3, 299, 299)`` prepared input -> ``(N, 2048)`` pool3 features and
        ``(N, 1008)`` logits (``None`` when the weights had no classifier)."""
        if tuple(x.shape[1:]) != (3, *INPUT_SIZE):
            raise MetricInputError(
                f"TFInception.forward needs (N, 3, 299, 299), got {tuple(x.shape)}; "
                "pass images through prepare() (or use extract())"
            )
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)  # -> (N, 64, 73, 73)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)  # -> (N, 192, 35, 35)
        for block in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{block}")(x)
        feats = x.mean(dim=(2, 3))  # (N, 2048, 8, 8) -> (N, 2048), TF's pool_3
        return feats, self.fc(feats) if self.has_classifier else None


# NVIDIA's TorchScript port names the TF graph's nodes; map them onto ours.
_STEM = {
    "conv": "Conv2d_1a_3x3",
    "conv_1": "Conv2d_2a_3x3",
    "conv_2": "Conv2d_2b_3x3",
    "conv_3": "Conv2d_3b_1x1",
    "conv_4": "Conv2d_4a_3x3",
}
_BLOCKS = {  # TF block -> (our block, TF unit -> our unit)
    **{
        f"mixed{s}": (
            f"Mixed_{b}",
            {
                "conv": "branch1x1",
                "tower.conv": "branch5x5_1",
                "tower.conv_1": "branch5x5_2",
                "tower_1.conv": "branch3x3dbl_1",
                "tower_1.conv_1": "branch3x3dbl_2",
                "tower_1.conv_2": "branch3x3dbl_3",
                "tower_2.conv": "branch_pool",
            },
        )
        for s, b in (("", "5b"), ("_1", "5c"), ("_2", "5d"))
    },
    "mixed_3": (
        "Mixed_6a",
        {
            "conv": "branch3x3",
            "tower.conv": "branch3x3dbl_1",
            "tower.conv_1": "branch3x3dbl_2",
            "tower.conv_2": "branch3x3dbl_3",
        },
    ),
    **{
        f"mixed_{i}": (
            f"Mixed_6{b}",
            {
                "conv": "branch1x1",
                "tower.conv": "branch7x7_1",
                "tower.conv_1": "branch7x7_2",
                "tower.conv_2": "branch7x7_3",
                "tower_1.conv": "branch7x7dbl_1",
                **{f"tower_1.conv_{j}": f"branch7x7dbl_{j + 1}" for j in range(1, 5)},
                "tower_2.conv": "branch_pool",
            },
        )
        for i, b in zip(range(4, 8), "bcde")
    },
    "mixed_8": (
        "Mixed_7a",
        {
            "tower.conv": "branch3x3_1",
            "tower.conv_1": "branch3x3_2",
            "tower_1.conv": "branch7x7x3_1",
            **{f"tower_1.conv_{j}": f"branch7x7x3_{j + 1}" for j in range(1, 4)},
        },
    ),
    **{
        f"mixed_{i}": (
            f"Mixed_7{b}",
            {
                "conv": "branch1x1",
                "tower_conv": "branch3x3_1",
                "tower_mixed_conv": "branch3x3_2a",
                "tower_mixed_conv_1": "branch3x3_2b",
                "tower_1_conv": "branch3x3dbl_1",
                "tower_1_conv_1": "branch3x3dbl_2",
                "tower_1_mixed_conv": "branch3x3dbl_3a",
                "tower_1_mixed_conv_1": "branch3x3dbl_3b",
                "tower_2_conv": "branch_pool",
            },
        )
        for i, b in ((9, "b"), (10, "c"))
    },
}
_PARAMS = {
    "weight": "conv.weight",
    "beta": "bn.bias",
    "mean": "bn.running_mean",
    "var": "bn.running_var",
}


def _our_unit(tf_path: str) -> str:
    """``"mixed_4.tower_1.conv_2"`` -> ``"Mixed_6b.branch7x7dbl_3"``."""
    if tf_path in _STEM:
        return _STEM[tf_path]
    block, _, unit = tf_path.partition(".")
    ours, units = _BLOCKS[block]
    return f"{ours}.{units[unit]}"


def convert_torchscript_state(
    state: dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """NVIDIA TorchScript port's state dict -> a state dict for :class:`TFInception`.

    Accepts keys with or without a wrapper prefix before ``layers.`` (for
    example ``net.layers.conv.weight``). The TF graph's batch norm has no scale,
    so ``bn.weight`` is set to ones. The classifier (``output.*``) is copied when
    the file has it; files with features only leave ``fc`` untouched.
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if ".layers." in f".{key}":
            path = key[key.index("layers.") + len("layers.") :]
            tf_unit, _, param = path.rpartition(".")
            try:
                unit = _our_unit(tf_unit)
            except KeyError as err:
                raise MetricInputError(
                    f"unexpected parameter {key!r}: not NVIDIA's TF-Inception port"
                ) from err
            out[f"{unit}.{_PARAMS[param]}"] = value
            if param == "beta":
                out[f"{unit}.bn.weight"] = torch.ones_like(value)
        elif key.endswith("output.weight") or key.endswith("output.bias"):
            out[f"fc.{key.rpartition('.')[2]}"] = value
    return out
