"""Small classifiers for 28x28 data: domain features for FID and class accuracy.

Inception (trained on ImageNet photos, fed 299x299 RGB) is a poor judge of 28x28
digits and clothes. Following the common practice for MNIST-like data, a small
CNN trained on the dataset itself gives the features for a "domain FID" and the
class probabilities for a classifier-based Inception Score, and it checks that a
class-conditional generator draws the class it was asked for.

The network is LeNet-style (LeCun, Bottou, Bengio and Haffner 1998, "Gradient-based
learning applied to document recognition"), modernised with ReLU, max pooling and
dropout. Its 128-d penultimate layer, taken after the ReLU, plays the role of
Inception's pool3 features. Shipped weights live in ``gancourse/metrics/weights``
(``lenet-mnist.pt``, ``lenet-fashion.pt``) with a JSON record of how they were
trained (``tools/train_lenet.py``).

Example::

    from gancourse.metrics.lenet import load_lenet, class_accuracy
    clf = load_lenet("mnist")
    feats, logits = clf.extract(images)  # (N, 128) >= 0, (N, 10)
    class_accuracy(clf, images, labels)["accuracy"]
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gancourse.checkpoint import CheckpointError, load_checkpoint
from gancourse.metrics.extractor import FeatureExtractor, MetricInputError

__all__ = [
    "LENETS",
    "LeNet",
    "LeNetExtractor",
    "class_accuracy",
    "lenet_info",
    "load_lenet",
    "weights_path",
]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CHECKPOINT_KIND = "classifier"
ARCH = "lenet"
IMAGE_SHAPE = (1, 28, 28)

LENETS: dict[str, str] = {"lenet-mnist": "mnist", "lenet-fashion": "fashion-mnist"}
"""Extractor name -> the dataset (:func:`gancourse.data.load_dataset` name) it was
trained on."""

_ALIASES = {
    "mnist": "lenet-mnist",
    "lenet-mnist": "lenet-mnist",
    "fashion-mnist": "lenet-fashion",
    "lenet-fashion": "lenet-fashion",
}


class LeNet(nn.Module):
    """LeNet-style CNN for ``(N, 1, 28, 28)`` images in ``[-1, 1]``.

    After LeCun et al. (1998), with ReLU instead of tanh, max instead of average
    pooling and dropout before the classifier::

        conv 5x5, 32 -> ReLU -> max pool 2
        conv 5x5, 64 -> ReLU -> max pool 2
        linear 1024 -> 128 -> ReLU        (the features)
        dropout (training only) -> linear 128 -> num_classes   (the logits)

    Args:
        num_classes: number of classes ``K`` (10 for MNIST and Fashion-MNIST).
        feature_dim: width of the penultimate layer.
        dropout: dropout probability on the features while training.
    """

    def __init__(
        self, num_classes: int = 10, feature_dim: int = 128, dropout: float = 0.3
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(64 * 4 * 4, feature_dim)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(feature_dim, num_classes)

    def features_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(N, 1, 28, 28)`` in ``[-1, 1]`` -> ``(features, logits)``.

        ``features`` are ``(N, feature_dim)``, the penultimate layer after its
        ReLU (so ``>= 0``, like Inception's pool3); ``logits`` are
        ``(N, num_classes)`` unnormalised class scores.
        """
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N,1,28,28) -> (N,32,12,12)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)  # (N,32,12,12) -> (N,64,4,4)
        feats = F.relu(self.fc1(h.flatten(1)))  # (N,64,4,4) -> (N,128)
        logits = self.fc2(self.dropout(feats))  # (N,128) -> (N,10)
        return feats, logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1, 28, 28)`` in ``[-1, 1]`` -> logits ``(N, num_classes)``."""
        return self.features_and_logits(x)[1]


class LeNetExtractor(FeatureExtractor):
    """A :class:`LeNet` behind the extractor interface
    (:class:`~gancourse.metrics.extractor.FeatureExtractor`).

    ``extract(images)`` takes ``(N, 1, 28, 28)`` images (floats in ``[-1, 1]`` or
    ``uint8``) and returns 128-d features (``>= 0``) and 10 class logits. Images
    are used at their size (``resize=None``): other shapes are refused.
    """

    feature_dim = 128
    num_classes = 10
    resize = None

    def __init__(self, name: str = "lenet-mnist", net: LeNet | None = None) -> None:
        super().__init__()
        self.name = name
        self.net = net if net is not None else LeNet(self.num_classes, self.feature_dim)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """Checked images in ``[-1, 1]`` -> the same ``(N, 1, 28, 28)`` tensor,
        on the network's device."""
        if tuple(images.shape[1:]) != IMAGE_SHAPE:
            raise MetricInputError(
                f"LeNet extractors need 1x28x28 images (N, 1, 28, 28), got "
                f"{tuple(images.shape)}; resize them or use extractor='inception'"
            )
        return images.to(next(self.parameters()).device)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, 1, 28, 28)`` -> ``(features (N, 128), logits (N, 10))``."""
        return self.net.features_and_logits(x)


def _canonical(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    if key not in _ALIASES:
        valid = ", ".join(_ALIASES)
        raise ValueError(f"unknown LeNet classifier {name!r}; valid names: {valid}")
    return _ALIASES[key]


def weights_path(name: str) -> Path:
    """Path of the shipped weights of ``name`` (``"mnist"``, ``"lenet-fashion"``...)."""
    return WEIGHTS_DIR / f"{_canonical(name)}.pt"


def lenet_info(name: str) -> dict[str, Any]:
    """The JSON record of a shipped classifier: data, epochs, test accuracy
    (overall and per class), hardware, wall time, command, torch version, date."""
    path = WEIGHTS_DIR / f"{_canonical(name)}.json"
    if not path.is_file():
        raise CheckpointError(
            f"no record at {path}; regenerate it with `python tools/train_lenet.py`"
        )
    return json.loads(path.read_text())


def load_lenet(
    name: str = "mnist",
    path: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
) -> LeNetExtractor:
    """A shipped LeNet classifier, in eval mode with gradients off.

    Args:
        name: ``"mnist"`` / ``"lenet-mnist"`` or ``"fashion-mnist"`` /
            ``"lenet-fashion"``.
        path: a weights file to use instead of the shipped one.
        device: where to put the network.

    Raises:
        ValueError: unknown ``name`` (the message lists the valid names).
        CheckpointError: the weights file is missing, corrupt, not a LeNet
            classifier, or trained for the other dataset.
    """
    name = _canonical(name)
    path = Path(path) if path is not None else WEIGHTS_DIR / f"{name}.pt"
    if not path.is_file():
        raise CheckpointError(
            f"no LeNet weights at {path}; reinstall gancourse or regenerate them "
            "with `python tools/train_lenet.py`"
        )
    try:
        ckpt = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location="cpu")
    except CheckpointError:
        raise
    except Exception as e:  # torch.load on garbage bytes can raise almost anything
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated or corrupt: "
            f"{type(e).__name__}: {str(e).splitlines()[0][:120] if str(e) else ''})"
        ) from None
    if ckpt.get("arch") != ARCH or not isinstance(ckpt.get("state_dict"), dict):
        raise CheckpointError(
            f"{path} is a {CHECKPOINT_KIND!r} checkpoint but holds no LeNet weights "
            f"(arch={ckpt.get('arch')!r})"
        )
    if ckpt.get("name") != name:
        raise CheckpointError(
            f"{path} holds the weights of {ckpt.get('name')!r}, not {name!r}"
        )
    extractor = LeNetExtractor(name)
    try:
        extractor.net.load_state_dict(ckpt["state_dict"])
    except RuntimeError as e:
        raise CheckpointError(
            f"{path} does not fit the LeNet architecture: "
            f"{str(e).splitlines()[0][:160]}"
        ) from None
    extractor.eval().requires_grad_(False)
    return extractor.to(device)


@torch.no_grad()
def class_accuracy(
    extractor: FeatureExtractor,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 500,
) -> dict[str, Any]:
    """How often the classifier's top class equals ``labels``.

    For class-conditional samples, ``labels`` are the classes the generator was
    asked for, so this measures whether ``G(z, y)`` looks like class ``y``.

    Args:
        extractor: a classifier (``num_classes > 0``), e.g. :func:`load_lenet`.
        images: ``(N, C, H, W)`` in ``[-1, 1]`` (or ``uint8``).
        labels: ``(N,)`` integer classes in ``[0, num_classes)``.
        batch_size: images per forward pass.

    Returns:
        A dict with ``"accuracy"`` (float), ``"per_class"`` (K floats, ``None``
        for a class without samples), ``"n"`` (N) and ``"per_class_n"`` (K ints).
    """
    k = extractor.num_classes
    if k <= 0:
        raise MetricInputError(
            f"the {extractor.name} extractor has no classifier head; use a LeNet"
        )
    labels = torch.as_tensor(labels)
    if labels.dim() != 1 or labels.is_floating_point() or labels.dtype == torch.bool:
        raise MetricInputError(
            f"labels must be a 1-d integer tensor, got {labels.dtype} "
            f"{tuple(labels.shape)}"
        )
    if len(labels) != len(images):
        raise MetricInputError(
            f"got {len(images)} images but {len(labels)} labels; they must match"
        )
    if len(labels) == 0:
        raise MetricInputError("got no images to classify")
    if labels.min() < 0 or labels.max() >= k:
        raise MetricInputError(
            f"labels must be in [0, {k}), got values in "
            f"[{labels.min().item()}, {labels.max().item()}]"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    preds = []
    for i in range(0, len(images), batch_size):
        _, logits = extractor.extract(images[i : i + batch_size])
        if logits is None:
            raise MetricInputError(f"the {extractor.name} extractor gave no logits")
        preds.append(logits.argmax(1).cpu())
    pred = torch.cat(preds)
    labels = labels.cpu().long()
    correct = pred == labels
    counts = torch.bincount(labels, minlength=k)
    hits = torch.bincount(labels[correct], minlength=k)
    per_class = [
        None if int(n) == 0 else float(h) / float(n)
        for h, n in zip(hits.tolist(), counts.tolist())
    ]
    return {
        "accuracy": float(correct.float().mean()),
        "per_class": per_class,
        "n": len(labels),
        "per_class_n": counts.tolist(),
    }
