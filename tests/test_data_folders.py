"""Tests of gancourse.data.folders: user image folders as keyed datasets.

Every fixture folder is written here with PIL into tmp_path (lossless PNG unless a
test is about another format). Expected values come from hand computation on the
pixels written (``v / 127.5 - 1``, ITU-R 601 luma, windows cut with numpy) or from
torchvision's own transforms, never from the code under test.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision import transforms as T

from gancourse.data import (
    DataFolderError,
    DataNotFoundError,
    ImageFolderDataset,
    PairedFolderDataset,
    UnpairedFolderDataset,
    class_balanced_weights,
)

# ---------------------------------------------------------------- helpers


def save(path, pixels) -> None:
    """Write uint8 ``(H, W)`` or ``(H, W, 3)`` pixels as an image file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)


def solid(value, h=8, w=8, rgb=False) -> np.ndarray:
    shape = (h, w, 3) if rgb else (h, w)
    return np.broadcast_to(np.asarray(value, dtype=np.uint8), shape).copy()


def noise(seed, h, w, rgb=True) -> np.ndarray:
    shape = (h, w, 3) if rgb else (h, w)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def signed(pixels) -> np.ndarray:
    """Hand normalisation: uint8 ``(H, W[, C])`` -> float64 ``(C, H, W)``."""
    arr = np.asarray(pixels, dtype=np.float64)
    arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return arr / 127.5 - 1.0


def window(pixels, top, left, size, flip) -> np.ndarray:
    """A ``size`` crop of ``(H, W[, C])`` pixels, mirrored left-right if ``flip``."""
    w = pixels[top : top + size, left : left + size]
    return w[:, ::-1] if flip else w


def which_windows(x: torch.Tensor, pixels, size) -> list[tuple[int, int, bool]]:
    """Every ``(top, left, flip)`` whose window of ``pixels`` equals ``x``."""
    h, w = pixels.shape[:2]
    return [
        (t, l, f)
        for t in range(h - size + 1)
        for l in range(w - size + 1)  # noqa: E741
        for f in (False, True)
        if np.allclose(x.numpy(), signed(window(pixels, t, l, size, f)), atol=1e-6)
    ]


def make_classes(root, names=("dog", "bird", "cat"), per_class=2):
    """``root/<name>/<k>.png``: class folders in unsorted order; the pixel value
    ``40 * (sorted position) + k`` says where each image came from."""
    for name in names:
        label = sorted(names).index(name)
        for k in range(per_class):
            save(root / name / f"{k}.png", solid(40 * label + k))


def make_paired(root, a, b, split="train", name="0.png") -> None:
    save(root / split / name, np.concatenate([a, b], axis=1))  # A | B


def make_unpaired(root, n_a=3, n_b=5, split="train", size=8) -> None:
    """Solid images: ``A_k`` has value ``10 k``, ``B_k`` value ``100 + 10 k``."""
    for k in range(n_a):
        save(root / f"{split}A" / f"{k}.png", solid(10 * k, size, size))
    for k in range(n_b):
        save(root / f"{split}B" / f"{k}.png", solid(100 + 10 * k, size, size))


def value(x: torch.Tensor) -> int:
    """The uint8 value of a solid image tensor."""
    assert torch.all(x == x.flatten()[0])
    return round((float(x.flatten()[0]) + 1) * 127.5)


# ---------------------------------------------------------------- pixels


def test_black_and_white_become_minus_one_and_one(tmp_path):
    save(tmp_path / "flat" / "black.png", solid(0, rgb=True))
    save(tmp_path / "flat" / "white.png", solid(255, rgb=True))
    ds = ImageFolderDataset(tmp_path / "flat", image_size=8)
    black, white = ds[0]["x"], ds[1]["x"]  # sorted: black.png, white.png
    assert black.dtype == torch.float32 and black.shape == (3, 8, 8)
    assert torch.all(black == -1.0) and torch.all(white == 1.0)


def test_gradient_values_and_channel_order(tmp_path):
    v = np.arange(256, dtype=np.uint8).reshape(16, 16)  # every uint8 value once
    rgb = np.stack([v, 255 - v, np.full_like(v, 7)], axis=-1)
    save(tmp_path / "g" / "rgb.png", rgb)
    x = ImageFolderDataset(tmp_path / "g", image_size=16)[0]["x"]
    assert x.shape == (3, 16, 16)
    np.testing.assert_allclose(x.numpy(), signed(rgb), rtol=0, atol=1e-6)
    assert float(x[0, 0, 1]) == pytest.approx(1 / 127.5 - 1)  # R at (0, 1) is 1
    assert float(x[1, 0, 1]) == pytest.approx(254 / 127.5 - 1)  # G is 254


def test_resize_and_centre_crop_match_torchvision(tmp_path):
    wide, tall = noise(0, 30, 40), noise(1, 45, 20)  # (H, W, 3)
    save(tmp_path / "f" / "a_wide.png", wide)
    save(tmp_path / "f" / "b_tall.png", tall)
    # 23: the resized sides (30x23, 23x51) and centre offsets (3.5, 17.5) are not
    # whole numbers, so truncation and rounding are tested too
    ds = ImageFolderDataset(tmp_path / "f", image_size=16, load_size=23)
    ref = T.Compose(
        [
            T.Resize(23, interpolation=T.InterpolationMode.BILINEAR),
            T.CenterCrop(16),
            T.ToTensor(),
            T.Normalize((0.5,) * 3, (0.5,) * 3),
        ]
    )
    for i, pixels in enumerate((wide, tall)):
        expected = ref(Image.fromarray(pixels))
        torch.testing.assert_close(ds[i]["x"], expected, rtol=0, atol=1e-6)


def test_seeded_views_are_crops_and_flips_of_the_image(tmp_path):
    pixels = noise(2, 12, 12)
    save(tmp_path / "f" / "0.png", pixels)
    ds = ImageFolderDataset(tmp_path / "f", image_size=8, load_size=12, flip=True)
    # an int key: the centre window, unflipped
    assert which_windows(ds[0]["x"], pixels, 8) == [(2, 2, False)]
    views = set()
    for seed in range(30):
        found = which_windows(ds[(0, seed)]["x"], pixels, 8)
        assert len(found) == 1, f"seed {seed}: not one window of the image"
        views.add(found[0])
    assert len(views) > 10
    assert {f for _, _, f in views} == {False, True}


def test_no_flip_means_never_flipped_and_same_crop_as_with_flip(tmp_path):
    pixels = noise(3, 12, 12)
    save(tmp_path / "f" / "0.png", pixels)
    plain = ImageFolderDataset(tmp_path / "f", image_size=8, load_size=12)
    flips = ImageFolderDataset(tmp_path / "f", 8, load_size=12, flip=True)
    for seed in range(10):
        ((top, left, flipped),) = which_windows(plain[(0, seed)]["x"], pixels, 8)
        assert not flipped
        ((top2, left2, _),) = which_windows(flips[(0, seed)]["x"], pixels, 8)
        assert (top, left) == (top2, left2)


def test_rgb_to_grayscale_and_grayscale_to_rgb(tmp_path):
    save(tmp_path / "red" / "0.png", solid((255, 0, 0), rgb=True))
    save(tmp_path / "grey" / "0.png", solid(200))
    gray = ImageFolderDataset(tmp_path / "red", image_size=8, channels=1)
    assert gray.shapes["x"] == (1, 8, 8)
    x = gray[0]["x"]
    assert x.shape == (1, 8, 8)
    # ITU-R 601-2 luma of pure red: 0.299 * 255 = 76.2 -> 76
    assert torch.allclose(x, torch.full_like(x, 76 / 127.5 - 1), atol=1e-6)
    rgb = ImageFolderDataset(tmp_path / "grey", image_size=8, channels=3)[0]["x"]
    assert rgb.shape == (3, 8, 8)
    assert torch.allclose(rgb, torch.full_like(rgb, 200 / 127.5 - 1), atol=1e-6)


def test_other_extensions_found_and_other_files_skipped(tmp_path):
    root = tmp_path / "f"
    save(root / "a.JPG", solid(128, rgb=True))
    save(root / "b.bmp", solid(128, rgb=True))
    (root / "notes.txt").write_text("not an image")
    save(root / "._c.png", solid(0))  # macOS resource fork names are skipped
    ds = ImageFolderDataset(root, image_size=8)
    assert len(ds) == 2


# ---------------------------------------------------------------- classes


def test_labels_come_from_sorted_class_folders(tmp_path):
    root = tmp_path / "pets"
    make_classes(root)
    save(root / "cat" / "deeper" / "2.png", solid(40 * 1 + 2))  # nested: still cat
    save(root / ".ipynb_checkpoints" / "x.png", solid(0))  # hidden: not a class
    save(root / "dog" / ".ipynb_checkpoints" / "x.png", solid(0))  # nor its images
    (root / "cat" / "README.txt").write_text("ignored")
    ds = ImageFolderDataset(root, image_size=8, channels=1)
    assert ds.class_names == ["bird", "cat", "dog"] and ds.n_classes == 3
    assert ds.targets == [0, 0, 1, 1, 1, 2, 2]
    assert len(ds) == 7 and ds.keys == ("x", "y") and ds.shapes["y"] == ()
    for i in range(len(ds)):
        item = ds[(i, 5)]
        y = item["y"]
        assert y.dtype == torch.int64 and y.shape == ()
        assert int(y) == ds.targets[i] == value(item["x"]) // 40


def test_flat_folder_is_one_class_all(tmp_path):
    for k in range(3):
        save(tmp_path / "faces" / f"{k}.png", solid(k))
    ds = ImageFolderDataset(tmp_path / "faces", image_size=8)
    assert ds.n_classes == 1 and ds.class_names == ["all"]
    assert ds.targets == [0, 0, 0] and int(ds[2]["y"]) == 0
    assert ds.describe()["layout"] == "flat"


def test_split_reads_a_sub_folder(tmp_path):
    make_classes(tmp_path / "data" / "train")
    make_classes(tmp_path / "data" / "val", per_class=1)
    ds = ImageFolderDataset(tmp_path / "data", image_size=8, split="val")
    assert len(ds) == 3 and ds.describe()["split"] == "val"


def test_describe_is_json_and_tracks_the_file_list(tmp_path):
    make_classes(tmp_path / "pets")
    ds = ImageFolderDataset(tmp_path / "pets", image_size=8, load_size=10, flip=True)
    record = json.loads(json.dumps(ds.describe()))
    assert record["kind"] == "image-folder" and record["n"] == 6
    assert record["image_size"] == 8 and record["load_size"] == 10
    assert record["flip"] is True and record["channels"] == 3
    assert record["class_names"] == ["bird", "cat", "dog"]
    assert record["root"] == str((tmp_path / "pets").resolve())
    save(tmp_path / "pets" / "cat" / "9.png", solid(0))
    again = ImageFolderDataset(tmp_path / "pets", image_size=8, load_size=10)
    assert again.describe()["file_list_sha256"] != record["file_list_sha256"]


def test_class_balanced_weights_by_hand():
    w = class_balanced_weights([0, 0, 0, 1, 2, 2])
    assert w.dtype == torch.float64 and w.shape == (6,)
    # counts 3, 1, 2; each class gets 1/3 of the mass
    expected = [1 / 9, 1 / 9, 1 / 9, 1 / 3, 1 / 6, 1 / 6]
    torch.testing.assert_close(w, torch.tensor(expected, dtype=torch.float64))
    w = class_balanced_weights(torch.tensor([5, 7, 7, 7]))
    torch.testing.assert_close(w, torch.tensor([1 / 2, 1 / 6, 1 / 6, 1 / 6]).double())
    with pytest.raises(ValueError, match="empty"):
        class_balanced_weights([])
    with pytest.raises(ValueError, match="no classes"):
        class_balanced_weights(None)


# ---------------------------------------------------------------- paired


def test_paired_views_are_the_same_window_of_a_and_b(tmp_path):
    a = noise(4, 12, 12)
    b = 255 - a  # B differs from A but encodes positions the same way
    make_paired(tmp_path / "p", a, b)
    ds = PairedFolderDataset(tmp_path / "p", image_size=8, load_size=12, flip=True)
    assert ds.keys == ("x_src", "x") and ds.shapes == {
        "x_src": (3, 8, 8),
        "x": (3, 8, 8),
    }
    assert which_windows(ds[0]["x_src"], a, 8) == [(2, 2, False)]
    views = set()
    for seed in range(20):
        item = ds[(0, seed)]
        (view,) = which_windows(item["x_src"], a, 8)
        assert which_windows(item["x"], b, 8) == [view], f"seed {seed}"
        views.add(view)
    assert len(views) > 5 and {f for _, _, f in views} == {False, True}


def test_paired_resized_halves_stay_aligned(tmp_path):
    pattern = noise(5, 16, 16)
    make_paired(tmp_path / "p", pattern, pattern)  # identical halves
    ds = PairedFolderDataset(tmp_path / "p", image_size=8, load_size=12, flip=True)
    crops = []
    for seed in range(12):
        item = ds[(0, seed)]
        assert torch.equal(item["x_src"], item["x"]), f"seed {seed}"
        crops.append(item["x"])
    distinct = {tuple(c.flatten().tolist()) for c in crops}
    assert len(distinct) > 3


def test_paired_direction_swaps_the_halves(tmp_path):
    red, blue = solid((255, 0, 0), rgb=True), solid((0, 0, 255), rgb=True)
    make_paired(tmp_path / "p", red, blue)
    a_to_b = PairedFolderDataset(tmp_path / "p", image_size=8)[0]
    b_to_a = PairedFolderDataset(tmp_path / "p", direction="BtoA", image_size=8)[0]
    red_x = torch.tensor([1.0, -1.0, -1.0]).view(3, 1, 1).expand(3, 8, 8)
    assert torch.equal(a_to_b["x_src"], red_x)
    assert torch.equal(a_to_b["x"], red_x.flip(0))  # blue = (-1, -1, 1)
    assert torch.equal(b_to_a["x_src"], a_to_b["x"])
    assert torch.equal(b_to_a["x"], a_to_b["x_src"])
    with pytest.raises(ValueError, match="AtoB, BtoA"):
        PairedFolderDataset(tmp_path / "p", direction="A2B", image_size=8)


def test_paired_split_folders_and_grayscale(tmp_path):
    make_paired(tmp_path / "p", solid(10), solid(20), split="train")
    make_paired(tmp_path / "p", solid(30), solid(40), split="val", name="v.jpg")
    val = PairedFolderDataset(tmp_path / "p", split="val", image_size=8, channels=1)
    assert len(val) == 1 and val[0]["x"].shape == (1, 8, 8)
    record = json.loads(json.dumps(val.describe()))
    assert record["kind"] == "paired-folder" and record["direction"] == "AtoB"


# ---------------------------------------------------------------- unpaired


def test_unpaired_length_and_int_keys_are_serial(tmp_path):
    make_unpaired(tmp_path / "u", n_a=3, n_b=5)
    ds = UnpairedFolderDataset(tmp_path / "u", image_size=8, channels=1)
    assert len(ds) == 5 and ds.keys == ("a", "b")
    for i in range(5):
        item = ds[i]
        assert value(item["a"]) == 10 * (i % 3)
        assert value(item["b"]) == 100 + 10 * (i % 5)
    bigger_a = tmp_path / "u2"
    make_unpaired(bigger_a, n_a=4, n_b=2)
    ds2 = UnpairedFolderDataset(bigger_a, image_size=8, channels=1)
    assert len(ds2) == 4 and [value(ds2[i]["b"]) for i in range(4)] == [
        100,
        110,
        100,
        110,
    ]


def test_unpaired_partner_comes_from_the_seed(tmp_path):
    make_unpaired(tmp_path / "u", n_a=3, n_b=5)
    ds = UnpairedFolderDataset(tmp_path / "u", image_size=8, channels=1)
    partners = []
    for seed in range(40):
        first, second = ds[(1, seed)], ds[(1, seed)]
        assert torch.equal(first["b"], second["b"])
        assert value(first["a"]) == 10  # a is A[1 % 3] whatever the seed
        partners.append((value(first["b"]) - 100) // 10)
    assert set(partners) == set(range(5))  # uniform over B: all 5 seen in 40 draws
    d = json.loads(json.dumps(ds.describe()))
    assert (d["n_a"], d["n_b"], d["n"]) == (3, 5, 5)


def test_unpaired_views_of_a_and_b_are_independent(tmp_path):
    pattern = noise(6, 12, 12)
    for domain in "AB":
        save(tmp_path / "u" / f"train{domain}" / "0.png", pattern)
    ds = UnpairedFolderDataset(tmp_path / "u", image_size=8, load_size=12, flip=True)
    views = []
    for seed in range(12):
        item = ds[(0, seed)]
        (view_a,) = which_windows(item["a"], pattern, 8)
        (view_b,) = which_windows(item["b"], pattern, 8)
        views.append((view_a, view_b))
    assert len({a for a, _ in views}) > 5 and len({b for _, b in views}) > 5
    assert sum(a != b for a, b in views) >= 8
    assert torch.equal(ds[0]["a"], ds[0]["b"])  # int key: both centre crops


# ---------------------------------------------------------------- keys


def _three_datasets(tmp_path):
    for k, name in enumerate(("b", "a", "b")):
        save(tmp_path / "c" / name / f"{k}.png", noise(20 + k, 10, 13))
    make_paired(tmp_path / "p", noise(7, 12, 12), noise(8, 12, 12))
    for domain, seed in (("A", 9), ("B", 10)):
        for k in range(3):
            save(
                tmp_path / "u" / f"train{domain}" / f"{k}.png", noise(seed + k, 12, 14)
            )
    kw = dict(image_size=8, load_size=11, flip=True)
    return [
        ImageFolderDataset(tmp_path / "c", **kw),
        PairedFolderDataset(tmp_path / "p", **kw),
        UnpairedFolderDataset(tmp_path / "u", **kw),
    ]


def test_items_are_pure_functions_of_the_key(tmp_path):
    for ds in _three_datasets(tmp_path):
        torch.manual_seed(0)
        random.seed(0)
        np.random.seed(0)
        first = ds[(0, 123)]
        state = torch.get_rng_state()
        again = ds[(0, 123)]
        assert torch.equal(torch.get_rng_state(), state), "global RNG was used"
        torch.manual_seed(999)
        random.seed(999)
        np.random.seed(999)
        third = ds[(0, 123)]
        other = ds[(0, 124)]
        for k in ds.keys:
            assert torch.equal(first[k], again[k]) and torch.equal(first[k], third[k])
        assert any(not torch.equal(first[k], other[k]) for k in ds.keys), ds
        for k in ds.keys:  # int keys are never random
            assert torch.equal(ds[0][k], ds[0][k])
        assert set(first) == set(ds.keys)
        for k, shape in ds.shapes.items():
            assert tuple(first[k].shape) == shape


def test_bad_keys(tmp_path):
    make_classes(tmp_path / "c", per_class=1)
    ds = ImageFolderDataset(tmp_path / "c", image_size=8)
    assert torch.equal(ds[-1]["x"], ds[2]["x"])
    with pytest.raises(IndexError, match="out of range"):
        ds[3]
    with pytest.raises(TypeError, match=r"\(index, seed\)"):
        ds[(0, 1, 2)]


def test_dataloader_workers_give_the_same_items(tmp_path):
    datasets = _three_datasets(tmp_path)
    for ds in (datasets[0], datasets[2]):
        keys = [(i % len(ds), 1000 + i) for i in range(8)]
        loader = DataLoader(ds, batch_size=4, sampler=keys, num_workers=2)
        batches = list(loader)
        for b, batch in enumerate(batches):
            for k in ds.keys:
                direct = torch.stack([ds[key][k] for key in keys[4 * b : 4 * b + 4]])
                assert torch.equal(batch[k], direct), (type(ds).__name__, k)


# ---------------------------------------------------------------- errors


def test_error_root_missing(tmp_path):
    missing = tmp_path / "nope"
    for cls in (ImageFolderDataset, PairedFolderDataset, UnpairedFolderDataset):
        with pytest.raises(DataFolderError, match="folder not found: .*nope"):
            cls(missing, image_size=8)
    assert issubclass(DataFolderError, DataNotFoundError)  # the CLI reports these


def test_error_split_missing(tmp_path):
    make_paired(tmp_path / "p", solid(0), solid(0), split="train")
    with pytest.raises(DataFolderError, match=r"p/val/\*\.jpg with A\|B side by side"):
        PairedFolderDataset(tmp_path / "p", split="val", image_size=8)
    make_unpaired(tmp_path / "u")
    with pytest.raises(DataFolderError, match=r"testA/\*\.jpg and .*testB/\*\.jpg"):
        UnpairedFolderDataset(tmp_path / "u", split="test", image_size=8)
    with pytest.raises(DataFolderError, match="folder not found: .*test"):
        ImageFolderDataset(tmp_path / "p", split="test", image_size=8)


def test_error_no_images(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("x")
    with pytest.raises(DataFolderError, match=r"no images in .*\.jpg, .*\.png"):
        ImageFolderDataset(tmp_path / "empty", image_size=8)
    (tmp_path / "cls" / "a").mkdir(parents=True)
    with pytest.raises(DataFolderError, match=r"no images in .*\.png"):
        ImageFolderDataset(tmp_path / "cls", image_size=8)
    (tmp_path / "p" / "train").mkdir(parents=True)
    with pytest.raises(DataFolderError, match=r"no images in .*\.png"):
        PairedFolderDataset(tmp_path / "p", image_size=8)
    make_unpaired(tmp_path / "u", n_b=0)
    (tmp_path / "u" / "trainB").mkdir()
    with pytest.raises(DataFolderError, match=r"no images in .*trainB"):
        UnpairedFolderDataset(tmp_path / "u", image_size=8)


def test_error_mixed_layout_and_empty_class(tmp_path):
    make_classes(tmp_path / "m")
    save(tmp_path / "m" / "loose.png", solid(0))
    with pytest.raises(DataFolderError, match="both images .* and class folders"):
        ImageFolderDataset(tmp_path / "m", image_size=8)
    make_classes(tmp_path / "e")
    (tmp_path / "e" / "zebra").mkdir()
    with pytest.raises(DataFolderError, match="class folder .*zebra has no images"):
        ImageFolderDataset(tmp_path / "e", image_size=8)


def test_error_corrupt_image_names_the_file(tmp_path):
    save(tmp_path / "f" / "good.png", solid(0))
    (tmp_path / "f" / "bad.png").write_bytes(b"\x89PNG not really")
    ds = ImageFolderDataset(tmp_path / "f", image_size=8)  # files are read lazily
    with pytest.raises(DataFolderError, match=r"cannot read image .*bad\.png"):
        ds[0]  # sorted: bad.png first
    assert ds[1]["x"].shape == (3, 8, 8)
    save(tmp_path / "t" / "cut.png", noise(11, 32, 32))
    data = (tmp_path / "t" / "cut.png").read_bytes()
    (tmp_path / "t" / "cut.png").write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(DataFolderError, match=r"cut\.png.*delete or replace"):
        ImageFolderDataset(tmp_path / "t", image_size=8)[0]
    (tmp_path / "p" / "train").mkdir(parents=True)
    (tmp_path / "p" / "train" / "x.jpg").write_bytes(b"junk")
    with pytest.raises(DataFolderError, match=r"cannot read image .*x\.jpg"):
        PairedFolderDataset(tmp_path / "p", image_size=8)


def test_error_paired_image_not_two_squares(tmp_path):
    save(tmp_path / "odd" / "train" / "0.png", noise(12, 16, 33))
    with pytest.raises(DataFolderError, match=r"33x16; expected A\|B .*2 x height"):
        PairedFolderDataset(tmp_path / "odd", image_size=8)
    save(tmp_path / "photo" / "train" / "0.png", noise(13, 30, 40))
    with pytest.raises(DataFolderError, match="40x30"):
        PairedFolderDataset(tmp_path / "photo", image_size=8)
    # a later bad file is caught when its item is read
    make_paired(tmp_path / "late", solid(0), solid(0), name="0.png")
    save(tmp_path / "late" / "train" / "1.png", solid(0, 8, 12))
    ds = PairedFolderDataset(tmp_path / "late", image_size=8)
    with pytest.raises(DataFolderError, match=r"1\.png is 12x8"):
        ds[1]


def test_error_bad_sizes_and_channels(tmp_path):
    make_classes(tmp_path / "c", per_class=1)
    with pytest.raises(ValueError, match="image_size 16 > load_size 12"):
        ImageFolderDataset(tmp_path / "c", image_size=16, load_size=12)
    with pytest.raises(ValueError, match="load_size >= image_size"):
        UnpairedFolderDataset(tmp_path / "c", image_size=16, load_size=12)
    for cls in (ImageFolderDataset, PairedFolderDataset, UnpairedFolderDataset):
        with pytest.raises(ValueError, match=r"channels must be 1 .* or 3 .*got 4"):
            cls(tmp_path / "c", image_size=8, channels=4)
