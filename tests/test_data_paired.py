"""Paired data (chapter 4): edges2footwear, the Pix2Pix archives, the tensor registry.

References: Fashion-MNIST pixels read here with an independent IDX reader (gzip +
struct), fixture archives and images built here with PIL and tarfile (A and B
halves of known colours), SHA-256 of the fixture bytes by hashlib, and
hand-made shapes for the edge detector. No test touches the network: archives
are served on 127.0.0.1 or read through file:// URLs, and other sockets are off.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import block_network, http_server
from PIL import Image

from gancourse.config import ConfigError, DataConfig
from gancourse.data import (
    DATASETS,
    TENSOR_DATASETS,
    ArchiveError,
    DataNotFoundError,
    PairedTensors,
    dataset_source,
    edge_map,
    files_present,
    load_dataset,
    load_paired,
    named_tensors,
    prepare,
    prepare_main,
)
from gancourse.data import paired as pd
from gancourse.data.download import download_file, extract_tar
from gancourse.data.offline import prepare_fashion_offline
from gancourse.data.source import StreamSource, TensorSource, build_source

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
HAS_FASHION = (FASHION_DIR / "t10k-images-idx3-ubyte.gz").is_file()
HAS_SKIMAGE = importlib.util.find_spec("skimage") is not None
needs_skimage = pytest.mark.skipif(
    not HAS_SKIMAGE, reason="scikit-image not installed (pip install scikit-image)"
)
needs_fashion = pytest.mark.skipif(
    not HAS_FASHION,
    reason="Debian package dataset-fashion-mnist not installed "
    "(apt-get install dataset-fashion-mnist)",
)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    block_network(monkeypatch)
    monkeypatch.setenv("GANCOURSE_DATA", str(tmp_path / "default-root"))


def read_idx_gz(path: Path) -> np.ndarray:
    """Independent IDX reader: big-endian magic and dims, then uint8 payload."""
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw[4 + 4 * ndim :], np.uint8).reshape(dims)


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    """Independent IDX writer (magic 0x0803 images, 0x0801 labels)."""
    header = struct.pack(">HBB", 0, 8, array.ndim)
    header += b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


# ---------------------------------------------------------------- edge maps


@needs_skimage
def test_edge_map_of_a_square_is_its_outline_black_on_white():
    img = np.zeros((1, 32, 32), np.uint8)
    img[0, 8:24, 8:24] = 255  # a white 16x16 square on black
    e = edge_map(img)[0]
    assert e.dtype == np.uint8 and set(np.unique(e)) == {0, 255}
    lines = e == 0
    # every line pixel is within one pixel of the square's boundary ...
    ring = np.zeros((32, 32), bool)
    ring[7:25, 7:25] = True
    ring[10:22, 10:22] = False
    assert lines.sum() > 0 and not (lines & ~ring).any()
    # ... and the outline goes all the way round: each side of the square is hit
    rows, cols = np.nonzero(lines)
    assert {7, 8}.intersection(rows) and {23, 24}.intersection(rows)
    assert {7, 8}.intersection(cols) and {23, 24}.intersection(cols)
    assert 40 <= lines.sum() <= 100  # about the perimeter (60), not a filled blob
    # a flat image has no edges: all white paper
    assert (edge_map(np.full((2, 32, 32), 90, np.uint8)) == 255).all()


@needs_skimage
def test_build_keeps_footwear_pads_by_two_and_pairs_the_edges():
    rng = np.random.default_rng(0)
    labels = np.array([0, 5, 7, 1, 9, 9, 3, 5])
    images = rng.integers(0, 256, (8, 28, 28)).astype(np.uint8)
    out = pd.build_edges2footwear(images, labels)
    keep = [1, 2, 4, 5, 7]
    assert out["y"].tolist() == labels[keep].tolist() and out["y"].dtype == np.int64
    assert out["x"].shape == out["x_src"].shape == (5, 1, 32, 32)
    assert out["x"].dtype == out["x_src"].dtype == np.uint8
    assert np.array_equal(out["x"][:, 0, 2:-2, 2:-2], images[keep])
    border = np.ones((32, 32), bool)
    border[2:-2, 2:-2] = False
    assert (out["x"][:, 0][:, border] == 0).all()  # black padding
    assert set(np.unique(out["x_src"])) <= {0, 255}


# ---------------------------------------------------------------- the real dataset


@pytest.fixture(scope="module")
def footwear_root(tmp_path_factory):
    """A data root with the Debian Fashion-MNIST and edges2footwear's test split."""
    if not (HAS_FASHION and HAS_SKIMAGE):
        pytest.skip("needs dataset-fashion-mnist and scikit-image")
    root = tmp_path_factory.mktemp("footwear")
    prepare_fashion_offline(root)
    pd.edges2footwear_arrays("test", root, download=False)
    return root


@needs_fashion
@needs_skimage
def test_edges2footwear_test_split_is_fashion_test_footwear(footwear_root):
    images = read_idx_gz(FASHION_DIR / "t10k-images-idx3-ubyte.gz")
    labels = read_idx_gz(FASHION_DIR / "t10k-labels-idx1-ubyte.gz")
    keep = np.isin(labels, (5, 7, 9))
    ds = load_paired("edges2footwear", "test", root=footwear_root, download=False)
    assert isinstance(ds, PairedTensors) and len(ds) == 3000 == keep.sum()
    assert DATASETS["edges2footwear"]["sizes"]["test"] == 3000
    t = ds.tensors
    assert t["x"].dtype == torch.uint8 and t["x"].shape == (3000, 1, 32, 32)
    # the official test split, in file order, pixels untouched inside the padding
    assert np.array_equal(t["x"][:, 0, 2:-2, 2:-2].numpy(), images[keep])
    assert t["y"].tolist() == labels[keep].tolist()
    assert np.bincount(t["y"].numpy()).tolist() == [0] * 5 + [1000, 0, 1000, 0, 1000]
    # edges: black lines on white, next to the object, a plausible amount of them
    lines = t["x_src"][:, 0] == 0
    assert set(t["x_src"].unique().tolist()) == {0, 255}
    frac = lines.float().mean().item()
    assert 0.03 < frac < 0.25, frac
    near = torch.nn.functional.max_pool2d((t["x"] > 0).float(), 3, stride=1, padding=1)[
        :, 0
    ].bool()
    assert (lines & ~near).float().mean() < 1e-3  # lines sit on the silhouette
    # every image has an outline
    assert lines.flatten(1).any(1).all()
    # items and batches in [-1, 1]
    item = ds[0]
    assert set(item) == {"x_src", "x", "y"} and item["x"].shape == (1, 32, 32)
    assert item["x"].dtype == torch.float32 and item["y"].dtype == torch.int64
    expected = torch.from_numpy(images[keep][0]).float() / 127.5 - 1
    assert torch.equal(item["x"][0, 2:-2, 2:-2], expected)
    assert item["x_src"].min() == -1 and item["x_src"].max() == 1
    batch = ds[:8]
    assert batch["x_src"].shape == (8, 1, 32, 32) and batch["y"].shape == (8,)
    assert torch.equal(ds[(5, 123)]["x"], ds[5]["x"])
    assert ds.targets[:3] == labels[keep][:3].tolist()


@needs_fashion
@needs_skimage
def test_edges2footwear_cache_record_and_rebuild(footwear_root, monkeypatch):
    path = footwear_root / "edges2footwear" / "test.npz"
    src = dataset_source("edges2footwear", footwear_root)
    assert src["source"] == "built" and src["test"] == 3000
    assert src["from"]["source"] == "offline-debian"
    assert src["recipe"] == pd.EDGES2FOOTWEAR_RECIPE
    first = pd.edges2footwear_arrays("test", footwear_root, download=False)
    cache = path.read_bytes()

    def no_build(*args, **kwargs):
        raise AssertionError("rebuilt although cached")

    with monkeypatch.context() as m:  # a cached split is read, not rebuilt
        m.setattr(pd, "build_edges2footwear", no_build)
        pd.edges2footwear_arrays("test", footwear_root, download=False)
    # a cache of another recipe is rebuilt, and the build is deterministic
    with monkeypatch.context() as m:
        m.setattr(pd, "EDGES2FOOTWEAR_RECIPE", {**pd.EDGES2FOOTWEAR_RECIPE, "v": 2})
        calls = []
        real = pd.build_edges2footwear

        def spy(*args):
            calls.append(1)
            return real(*args)

        m.setattr(pd, "build_edges2footwear", spy)
        again = pd.edges2footwear_arrays("test", footwear_root, download=False)
        assert calls == [1]
    assert all(np.array_equal(first[k], again[k]) for k in first)
    path.write_bytes(cache)  # the other tests' cache, of the current recipe
    assert path.is_file() and not list(path.parent.glob(".test-*"))


def test_edges2footwear_without_fashion_says_what_to_run(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_paired("edges2footwear", "test", root=tmp_path, download=False)
    msg = str(err.value)
    assert "Fashion-MNIST" in msg and "gancourse data prepare" in msg
    assert err.value.__suppress_context__


def test_paired_names_are_not_load_dataset_names():
    with pytest.raises(ValueError, match="load_paired"):
        load_dataset("edges2footwear", "test")
    with pytest.raises(ValueError, match="not a paired dataset"):
        load_paired("mnist")
    with pytest.raises(ValueError, match="valid splits: train, test"):
        load_paired("edges2footwear", "val")
    with pytest.raises(ValueError, match="train, val, test"):
        load_paired("facades", "validation")


# ---------------------------------------------------------------- the data layer


def test_tensor_registry_covers_every_named_tensor_dataset():
    assert set(TENSOR_DATASETS) == {
        "mnist",
        "fashion-mnist",
        "cifar10",
        "ring8",
        "edges2footwear",
        "photo-sr4",
    }
    assert set(DATASETS) == set(TENSOR_DATASETS) | {"facades", "edges2shoes"}
    x = named_tensors("ring8", "test")[0]["x"]
    assert x.shape == (10_000, 2)
    with pytest.raises(ValueError, match="read from its folder"):
        named_tensors("facades")


@needs_fashion
@needs_skimage
def test_build_source_yields_paired_keys(footwear_root, monkeypatch):
    monkeypatch.setenv("GANCOURSE_DATA", str(footwear_root))
    d = DataConfig(name="edges2footwear", split="test", batch_size=8)
    src = build_source(d)
    assert isinstance(src, TensorSource)
    assert src.spec.keys == ("x_src", "x", "y")
    assert src.spec.shapes == {"x_src": (1, 32, 32), "x": (1, 32, 32), "y": ()}
    assert src.spec.n_classes == 10 and src.spec.n == 3000
    assert src.info["source"]["source"] == "built"
    batch = src.fetch(torch.arange(4))
    ds = load_paired("edges2footwear", "test", root=footwear_root)
    assert torch.equal(batch["x_src"], ds[:4]["x_src"])
    assert torch.equal(batch["x"], ds[:4]["x"])
    # image_size resizes both images of a pair, limit cuts all keys
    src = build_source(DataConfig(name="edges2footwear", split="test", image_size=64))
    assert src.spec.shapes["x_src"] == src.spec.shapes["x"] == (1, 64, 64)
    src = build_source(DataConfig(name="edges2footwear", split="test", limit=10))
    assert src.spec.n == 10
    src = build_source(
        DataConfig(name="edges2footwear", split="test", loader="stream", workers=0)
    )
    assert isinstance(src, StreamSource) and src.spec.keys == ("x_src", "x", "y")
    assert torch.equal(src.examples(2)["x"], ds[:2]["x"])


@needs_fashion
@needs_skimage
def test_trainer_runs_on_edges2footwear(footwear_root, monkeypatch):
    from gancourse.config import PRESETS
    from gancourse.train import Trainer

    monkeypatch.setenv("GANCOURSE_DATA", str(footwear_root))
    cfg = PRESETS["dcgan-mnist"].fast()
    cfg = cfg.override(
        {
            "data.name": "edges2footwear",
            "data.split": "test",
            "data.image_size": 28,
            "data.batch_size": 16,
        }
    )
    t = Trainer(cfg, progress=False)
    assert t.spec.keys == ("x_src", "x", "y")
    t.fit(2)
    assert t.step == 2


# ---------------------------------------------------------------- prepare


@needs_skimage
def test_prepare_builds_fashion_first_then_edges2footwear(tmp_path, capsys):
    fashion = tmp_path / "tiny-fashion"
    fashion.mkdir()
    rng = np.random.default_rng(2)
    splits = {"train": ("train", 12), "test": ("t10k", 6)}
    labels = {
        "train": np.array([5, 0, 7, 9, 1, 5, 7, 2, 9, 9, 3, 7]),
        "test": np.array([9, 4, 5, 7, 7, 0]),
    }
    for split, (stem, n) in splits.items():
        imgs = np.zeros((n, 28, 28), np.uint8)
        imgs[:, 6:22, 4:24] = rng.integers(100, 256, (n, 16, 20))
        write_idx_gz(fashion / f"{stem}-images-idx3-ubyte.gz", imgs)
        write_idx_gz(fashion / f"{stem}-labels-idx1-ubyte.gz", labels[split])
    root = tmp_path / "root"
    args = ["--offline", "--root", str(root), "--fashion-dir", str(fashion)]
    assert prepare_main([*args, "edges2footwear"]) == 0
    out = capsys.readouterr().out
    assert out.index("fashion-mnist") < out.index("edges2footwear")
    assert dataset_source("fashion-mnist", root)["source"] == "offline-debian"
    src = dataset_source("edges2footwear", root)
    assert src["source"] == "built" and src["train"] == 8 and src["test"] == 4
    assert files_present("edges2footwear", root)
    ds = load_paired("edges2footwear", "train", root=root, download=False)
    assert ds.tensors["y"].tolist() == [5, 7, 9, 5, 7, 9, 9, 7]
    # present data is kept
    assert prepare_main([*args, "--only", "edges2footwear"]) == 0
    assert "kept" in capsys.readouterr().out


# ---------------------------------------------------------------- Pix2Pix archives

A_RGB, B_RGB = (200, 30, 30), (20, 40, 220)  # left half red, right half blue


def pair_jpeg(h: int = 32) -> bytes:
    img = Image.new("RGB", (2 * h, h), A_RGB)
    img.paste(Image.new("RGB", (h, h), B_RGB), (h, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=95)
    return buf.getvalue()


def make_archive(
    name: str,
    splits: dict[str, int],
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A ``<name>.tar.gz`` in the Pix2Pix layout: ``<name>/<split>/<i>.jpg``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        files = {
            f"{name}/{split}/{i + 1}.jpg": pair_jpeg()
            for split, n in splits.items()
            for i in range(n)
        }
        for path, blob in {**files, **(extra or {})}.items():
            member = tarfile.TarInfo(path)
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    return buf.getvalue()


FACADES_SPLITS = {"train": 3, "val": 2, "test": 2}


@pytest.fixture
def facades_mirror(tmp_path, monkeypatch):
    """A tiny facades.tar.gz (and broken variants) served on 127.0.0.1; the
    registry's URL points at it. Yields (folder, archive bytes, base URL)."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    archive = make_archive("facades", FACADES_SPLITS)
    (folder / "facades.tar.gz").write_bytes(archive)
    (folder / "truncated.tar.gz").write_bytes(archive[: len(archive) // 2])
    with http_server(folder) as url:
        monkeypatch.setitem(DATASETS["facades"], "url", url + "facades.tar.gz")
        yield folder, archive, url


def test_prepare_facades_downloads_checks_and_extracts(
    facades_mirror, tmp_path, capsys
):
    _, archive, url = facades_mirror
    root = tmp_path / "root"
    assert prepare_main(["--root", str(root), "facades"]) == 0
    out = capsys.readouterr().out
    assert "counts differ from the reference release" in out  # 3 train, not 400
    for split, n in FACADES_SPLITS.items():
        assert len(list((root / "facades" / split).glob("*.jpg"))) == n
    assert sorted(p.name for p in root.iterdir()) == ["facades"]  # no archive, scratch
    record = json.loads((root / "facades" / "SOURCE.json").read_text())
    assert record["source"] == "download" and record["url"] == url + "facades.tar.gz"
    assert record["sha256"] == hashlib.sha256(archive).hexdigest()
    assert record["archive_bytes"] == len(archive)
    assert {k: record[k] for k in FACADES_SPLITS} == FACADES_SPLITS
    assert dataset_source("facades", root) == record and files_present("facades", root)
    # the paper's direction: labels (B, right half) -> photo (A, left half)
    ds = load_paired("facades", "test", root=root, download=False, image_size=16)
    item = ds[0]
    assert ds.direction == "BtoA" and item["x_src"].shape == (3, 16, 16)
    mean_src = (item["x_src"].mean((1, 2)) + 1) * 127.5
    mean_x = (item["x"].mean((1, 2)) + 1) * 127.5
    assert (mean_src - torch.tensor(B_RGB)).abs().max() < 8
    assert (mean_x - torch.tensor(A_RGB)).abs().max() < 8
    flipped = load_paired("facades", "test", root=root, direction="AtoB", image_size=16)
    assert torch.allclose(flipped[0]["x_src"], item["x"])
    # present data is kept; offline it is not touched either
    assert prepare_main(["--root", str(root), "--only", "facades"]) == 0
    assert "kept" in capsys.readouterr().out


def test_build_source_reads_facades_from_the_data_root(
    facades_mirror, tmp_path, monkeypatch
):
    root = tmp_path / "root"
    monkeypatch.setenv("GANCOURSE_DATA", str(root))
    # missing: downloaded on first use, as CIFAR-10 is
    src = build_source(DataConfig(name="facades", split="val", image_size=16))
    assert isinstance(src, StreamSource) and src.spec.keys == ("x_src", "x")
    assert src.spec.shapes["x"] == (3, 16, 16) and src.spec.n == 2
    assert src.info["source"]["direction"] == "BtoA"
    x_src = src.examples(1)["x_src"][0]
    assert ((x_src.mean((1, 2)) + 1) * 127.5 - torch.tensor(B_RGB)).abs().max() < 8
    d = DataConfig(name="facades", split="val", image_size=16, direction="AtoB")
    assert build_source(d).info["source"]["direction"] == "AtoB"
    with pytest.raises(ConfigError, match="streams from disk"):
        build_source(DataConfig(name="facades", image_size=16, loader="memory"))


def test_facades_missing_says_which_command_to_run(tmp_path):
    root = tmp_path / "empty"
    with pytest.raises(DataNotFoundError) as err:
        load_paired("facades", "train", root=root, download=False)
    msg = str(err.value)
    assert f"gancourse data prepare --only facades --root {root}" in msg
    assert len(msg.splitlines()) <= 2 and "no offline copy" in msg
    # the real address; the network is off, so the download fails in one line
    assert DATASETS["facades"]["url"] == (
        "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/facades.tar.gz"
    )
    with pytest.raises(DataNotFoundError) as err:
        load_paired("facades", "train", root=root, log=lambda line: None)
    msg = str(err.value)
    assert "downloading it failed" in msg and len(msg.splitlines()) <= 2
    assert err.value.__suppress_context__
    assert not root.exists() or not any(root.iterdir())
    # offline, prepare skips it with a note
    assert (
        prepare(root, offline=True, names=["facades"], log=print)["facades"]["source"]
        == "missing"
    )


def test_corrupt_archive_is_refused_and_old_files_kept(
    facades_mirror, tmp_path, monkeypatch
):
    _, _, url = facades_mirror
    root = tmp_path / "root"
    prepare(root, names=["facades"], log=lambda line: None)
    before = sorted(p.name for p in (root / "facades" / "train").iterdir())
    monkeypatch.setitem(DATASETS["facades"], "url", url + "truncated.tar.gz")
    with pytest.raises(ArchiveError) as err:
        prepare(root, names=["facades"], force=True, log=lambda line: None)
    msg = str(err.value)
    assert "not a complete tar archive" in msg
    assert "gancourse data prepare --only facades" in msg
    assert isinstance(err.value, DataNotFoundError)  # the CLI prints one line
    assert sorted(p.name for p in (root / "facades" / "train").iterdir()) == before
    assert sorted(p.name for p in root.iterdir()) == ["facades"]
    assert prepare_main(["--root", str(root), "--force", "facades"]) == 1


@pytest.mark.parametrize(
    "splits,extra,message",
    [
        ({"train": 2, "val": 1}, None, "no images in facades/test/"),
        (FACADES_SPLITS, {"../evil.txt": b"x"}, "leaves the destination folder"),
        (FACADES_SPLITS, {"/tmp/evil.txt": b"x"}, "leaves the destination folder"),
    ],
)
def test_bad_archives_are_refused(splits, extra, message, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(make_archive("facades", splits, extra))
    root = tmp_path / "root"
    with pytest.raises(ArchiveError, match=message):
        pd.download_pix2pix("facades", root, url=bad.as_uri(), log=lambda s: None)
    assert not (root / "facades").exists() and not list(root.glob(".download-*"))
    assert not (tmp_path / "evil.txt").exists()


def test_archive_with_a_link_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        link = tarfile.TarInfo("facades/train/1.jpg")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    path = tmp_path / "link.tar.gz"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ArchiveError, match="link or special file"):
        extract_tar(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_download_file_reads_file_urls_and_hashes(tmp_path):
    blob = bytes(range(256)) * 5000
    src = tmp_path / "blob.bin"
    src.write_bytes(blob)
    lines = []
    sha = download_file(src.as_uri(), tmp_path / "copy.bin", log=lines.append)
    assert sha == hashlib.sha256(blob).hexdigest()
    assert (tmp_path / "copy.bin").read_bytes() == blob
    assert not (tmp_path / "copy.bin.part").exists()
    with pytest.raises(OSError):
        download_file((tmp_path / "nope").as_uri(), tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists() and not (tmp_path / "x.bin.part").exists()


def test_edges2shoes_is_registered_with_its_direction():
    info = DATASETS["edges2shoes"]
    assert info["direction"] == "AtoB" and info["url"].endswith("edges2shoes.tar.gz")
    assert DATASETS["facades"]["direction"] == "BtoA"
    assert set(info["sizes"]) == {"train", "val"}


@needs_fashion
@needs_skimage
def test_fid_reference_images_of_a_paired_dataset_are_its_targets(
    footwear_root, monkeypatch
):
    from gancourse.metrics import dataset_images

    monkeypatch.setenv("GANCOURSE_DATA", str(footwear_root))
    ds = load_paired("edges2footwear", "test")
    X = dataset_images("edges2footwear:test")
    assert X.shape == (3000, 1, 32, 32) and torch.equal(X, ds[:]["x"])
    sub = dataset_images("edges2footwear:test", n=50, seed=3)
    idx = np.random.default_rng(3).permutation(3000)[:50]
    assert torch.equal(sub, ds[torch.from_numpy(idx)]["x"])


# ---------------------------------------------------------------- photo-sr4


def bicubic_down_up(crop: np.ndarray) -> np.ndarray:
    img = Image.fromarray(crop)
    small = img.resize((16, 16), Image.BICUBIC)
    return np.asarray(small.resize((64, 64), Image.BICUBIC))


@needs_skimage
def test_photo_sr4_test_split_is_crops_of_coffee_and_their_x4_degradation():
    from skimage import data

    from gancourse.data.photo_pairs import PHOTOS

    photo = Image.fromarray(data.coffee())  # 600x400 -> longer side 512
    photo = np.asarray(photo.resize((512, 341), Image.BICUBIC))
    expected = []
    for top in range(0, 341 - 64 + 1, 32):
        for left in range(0, 512 - 64 + 1, 32):
            crop = photo[top : top + 64, left : left + 64]
            if crop.astype(np.float64).mean(-1).std() >= 8:
                expected.append(crop)
    ds = load_paired("photo-sr4", "test")
    assert len(ds) == len(expected) == DATASETS["photo-sr4"]["sizes"]["test"]
    x = ds.tensors["x"].permute(0, 2, 3, 1).numpy()
    x_src = ds.tensors["x_src"].permute(0, 2, 3, 1).numpy()
    assert np.array_equal(x, np.stack(expected))
    assert all(np.array_equal(x_src[i], bicubic_down_up(x[i])) for i in range(len(x)))
    assert (ds.tensors["y"] == PHOTOS.index("coffee")).all()
    # the input lost the fine detail: less high-frequency energy than the target
    lap = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float32)

    def energy(t):
        g = t.float().mean(1, keepdim=True)
        return torch.nn.functional.conv2d(g, lap[None, None]).pow(2).mean((1, 2, 3))

    assert (energy(ds.tensors["x_src"]) < energy(ds.tensors["x"])).float().mean() > 0.95
    item = ds[0]
    assert (
        item["x"].shape == (3, 64, 64) and -1 <= item["x"].min() < item["x"].max() <= 1
    )


@needs_skimage
def test_photo_sr4_train_split_holds_other_photos_only():
    ds = load_paired("photo-sr4", "train")
    assert len(ds) == DATASETS["photo-sr4"]["sizes"]["train"]
    assert set(ds.tensors["y"].tolist()) == {0, 1, 2, 3}  # not coffee (4)
    grey = ds.tensors["x"].float().mean(1)
    assert (grey.std((1, 2), correction=0) >= 8 - 1e-3).all()  # no flat crops
    assert dataset_source("photo-sr4")["source"] == "generated"
    src = build_source(DataConfig(name="photo-sr4", split="test"))
    assert src.spec.keys == ("x_src", "x", "y")
    assert src.spec.shapes["x_src"] == (3, 64, 64) and src.spec.n_classes == 5
