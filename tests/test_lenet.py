"""The shipped LeNet classifiers: weights, records, input checks, class accuracy."""

from __future__ import annotations

import hashlib

import pytest
import torch

from gancourse.checkpoint import CheckpointError, save_atomic
from gancourse.metrics.extractor import FeatureExtractor, MetricInputError
from gancourse.metrics.lenet import (
    LeNetExtractor,
    class_accuracy,
    lenet_info,
    load_lenet,
    weights_path,
)

NAMES = {"lenet-mnist": "mnist", "lenet-fashion": "fashion-mnist"}
N_CHECK = 1000  # the record's test_accuracy_first_1000 is over this many images


@pytest.fixture(scope="module", params=list(NAMES))
def shipped(request):
    return request.param, load_lenet(request.param)


def _test_slice(dataset: str, n: int = N_CHECK):
    from gancourse.data import DataNotFoundError, load_dataset, to_tensors

    try:
        X, Y = to_tensors(load_dataset(dataset, "test", download=False))
    except DataNotFoundError:
        pytest.skip(f"{dataset} is not prepared (gancourse data prepare --offline)")
    return X[:n], Y[:n]


def test_shipped_weights_reach_recorded_accuracy(shipped):
    name, clf = shipped
    X, Y = _test_slice(NAMES[name])
    acc = class_accuracy(clf, X, Y)["accuracy"]
    # Accuracy computed here with a plain argmax, independently of class_accuracy
    _, logits = clf.extract(X)
    assert (logits.argmax(1) == Y).float().mean().item() == pytest.approx(acc)
    recorded = lenet_info(name)["test_accuracy_first_1000"]
    # Thread counts may flip the argmax of a borderline image or two, no more.
    assert abs(acc - recorded) <= 3 / N_CHECK
    assert acc > 0.85


def test_mnist_weights_are_not_the_fashion_weights():
    X, Y = _test_slice("fashion-mnist", 500)
    # A digit classifier on clothes is near chance; a mix-up of files would not be.
    assert class_accuracy(load_lenet("mnist"), X, Y)["accuracy"] < 0.5


def test_record_fields(shipped):
    name, _ = shipped
    info = lenet_info(name)
    for key in (
        "dataset",
        "data_source",
        "train_size",
        "test_size",
        "epochs",
        "test_accuracy",
        "test_per_class",
        "wall_time_s",
        "hardware",
        "command",
        "torch_version",
        "date",
    ):
        assert key in info, key
    assert info["name"] == name and info["dataset"] == NAMES[name]
    assert info["test_accuracy"] > 0.9
    assert len(info["test_per_class"]) == 10
    assert all(0.0 <= a <= 1.0 for a in info["test_per_class"])
    assert "train_lenet.py" in info["command"]
    digest = hashlib.sha256(weights_path(name).read_bytes()).hexdigest()
    assert info["weights_sha256"] == digest, "the .pt and .json do not belong together"


def test_loaded_in_eval_mode_without_gradients(shipped):
    _, clf = shipped
    assert not clf.training and not clf.net.training
    assert not any(p.requires_grad for p in clf.parameters())
    x = torch.rand(4, 1, 28, 28) * 2 - 1
    f1, l1 = clf.extract(x)
    f2, l2 = clf.extract(x)  # dropout off: the same answer twice
    assert torch.equal(f1, f2) and torch.equal(l1, l2)


def test_features_shape_and_post_relu(shipped):
    name, clf = shipped
    X, _ = _test_slice(NAMES[name], 64)
    feats, logits = clf.extract(X)
    assert feats.shape == (64, 128) and logits.shape == (64, 10)
    assert feats.dtype == torch.float32
    assert feats.min().item() >= 0.0
    assert (feats > 0).any()
    assert clf.describe() == {"extractor": name, "resize": "none", "feature_dim": 128}


def test_uint8_input_equals_signed_unit_floats():
    clf = load_lenet("mnist")
    u8 = torch.randint(0, 256, (8, 1, 28, 28), dtype=torch.uint8)
    f_u8, _ = clf.extract(u8)
    f_float, _ = clf.extract(u8.float() / 127.5 - 1)
    torch.testing.assert_close(f_u8, f_float)


@pytest.mark.parametrize("shape", [(4, 3, 28, 28), (4, 1, 32, 32), (4, 1, 28, 27)])
def test_wrong_shape_is_refused(shape):
    clf = load_lenet("fashion-mnist")
    with pytest.raises(MetricInputError, match="1x28x28") as e:
        clf.extract(torch.zeros(shape))
    assert str(tuple(shape)) in str(e.value)


def test_wrong_range_is_refused():
    clf = load_lenet("mnist")
    with pytest.raises(MetricInputError, match=r"\[-1, 1\]"):
        clf.extract(torch.rand(4, 1, 28, 28) * 255)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError) as e:
        load_lenet("cifar10")
    for valid in ("mnist", "lenet-mnist", "fashion-mnist", "lenet-fashion"):
        assert valid in str(e.value)
    with pytest.raises(ValueError, match="lenet-fashion"):
        lenet_info("svhn")


def test_name_aliases_load_the_same_weights():
    a, b = load_lenet("fashion-mnist"), load_lenet("LENET_FASHION")
    assert a.name == b.name == "lenet-fashion"
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and torch.equal(va, vb)


@pytest.mark.parametrize("content", ["garbage", "truncated"])
def test_corrupt_weight_file_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "lenet-mnist.pt"
    if content == "garbage":
        bad.write_bytes(b"this is not a checkpoint" * 10)
    else:
        good = weights_path("mnist").read_bytes()
        bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(CheckpointError, match="corrupt") as e:
        load_lenet("mnist", path=bad)
    assert str(bad) in str(e.value)


def test_missing_weight_file_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="train_lenet.py"):
        load_lenet("mnist", path=tmp_path / "nothing.pt")


def test_weights_of_the_other_dataset_are_refused():
    with pytest.raises(CheckpointError, match="lenet-fashion"):
        load_lenet("mnist", path=weights_path("fashion-mnist"))


def test_weights_of_another_shape_are_refused(tmp_path):
    ckpt = torch.load(weights_path("mnist"), weights_only=True)
    ckpt["state_dict"]["fc1.weight"] = torch.zeros(64, 1024)
    path = save_atomic(ckpt, tmp_path / "resized.pt")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_lenet("mnist", path=path)


class PixelVote(FeatureExtractor):
    """Predicts the column of the brightest pixel among the first 10 of row 0."""

    name = "pixel-vote"
    feature_dim = 2
    num_classes = 10

    def prepare(self, images):
        return images

    def forward(self, x):
        logits = x[:, 0, 0, :10]
        return torch.zeros(len(x), 2), logits


def _votes(preds):
    x = -torch.ones(len(preds), 1, 4, 12)
    for i, p in enumerate(preds):
        x[i, 0, 0, p] = 1.0
    return x


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_class_accuracy_by_hand(batch_size):
    labels = torch.tensor([0, 0, 1, 1, 2, 9])
    preds = [0, 1, 1, 1, 0, 9]
    out = class_accuracy(PixelVote(), _votes(preds), labels, batch_size=batch_size)
    assert out["accuracy"] == pytest.approx(4 / 6)
    expected = [0.5, 1.0, 0.0, None, None, None, None, None, None, 1.0]
    assert out["per_class"] == expected
    assert out["per_class_n"] == [2, 2, 1, 0, 0, 0, 0, 0, 0, 1]
    assert out["n"] == 6


def test_class_accuracy_checks_labels():
    x = _votes([0, 1, 2])
    with pytest.raises(MetricInputError, match="3 images but 2 labels"):
        class_accuracy(PixelVote(), x, torch.tensor([0, 1]))
    with pytest.raises(MetricInputError, match=r"\[0, 10\)"):
        class_accuracy(PixelVote(), x, torch.tensor([0, 1, 10]))
    with pytest.raises(MetricInputError, match="integer"):
        class_accuracy(PixelVote(), x, torch.tensor([0.0, 1.0, 2.0]))


def test_lenet_extractor_without_weights_is_a_feature_extractor():
    clf = LeNetExtractor("lenet-mnist")
    assert isinstance(clf, FeatureExtractor)
    assert (clf.feature_dim, clf.num_classes, clf.resize) == (128, 10, None)
