"""Fast unit tests of gancourse.metrics: formulas, input checks, files, weights, CLI.

Reference values come from hand computation (closed forms of the Fréchet distance
for commuting covariances, IS of one-hot rows, KID by an explicit double loop,
TF1 bilinear sampling worked out on 2-4 pixels), from numpy (mean, covariance) or
from hashlib (digests). Agreement with pytorch-fid, torchmetrics, torch-fidelity
and PIL lives in test_metrics_reference.py. Inception forward passes here run on a
handful of images with random weights: they test plumbing, not numbers.
No test touches the network: downloads come from a server on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import socket
import warnings

import numpy as np
import pytest
import torch
from _helpers import block_network, http_server, sane_random_state

import gancourse.metrics.inception_weights as iw
from gancourse.cli import main
from gancourse.metrics import (
    FeatureExtractor,
    FeatureStats,
    FolderImages,
    FrechetReference,
    GeneratorSamples,
    MetricInputError,
    RunningStats,
    dataset_images,
    extract_features,
    feature_stats,
    fid_from_stats,
    frechet_distance,
    get_extractor,
    inception_score,
    kid,
    load_stats,
    mmd2_unbiased,
    precision_recall,
    probs_from_logits,
    save_stats,
    stats_from_features,
)
from gancourse.metrics.extractor import to_signed_unit
from gancourse.metrics.inception import TFInception, convert_torchscript_state
from gancourse.metrics.inception_weights import (
    WEIGHTS_FILE,
    WEIGHTS_URL,
    WeightsNotFoundError,
    download_weights,
    load_inception,
)
from gancourse.metrics.resize import resize, resize_clean, resize_tf_bilinear

# ---------------------------------------------------------------- helpers


@pytest.fixture
def no_network(monkeypatch):
    """Only loopback connections work."""
    block_network(monkeypatch)


@pytest.fixture
def empty_cache(monkeypatch, tmp_path, no_network):
    """An empty torch hub cache and no weights from the environment."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # get_dir() reads TORCH_HOME
    monkeypatch.delenv(iw.ENV_WEIGHTS, raising=False)
    dst = tmp_path / "torch-home" / "hub" / "checkpoints" / WEIGHTS_FILE
    assert iw.default_weights_path() == dst
    return dst


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory):
    """A TFInception state dict with random weights saved as a .pth (with fc)."""
    path = tmp_path_factory.mktemp("weights") / "random-inception.pth"
    torch.save(sane_random_state(), path)
    return path


@pytest.fixture
def serve(tmp_path):
    """Serve a folder over HTTP on 127.0.0.1; yields (folder, base URL)."""
    folder = tmp_path / "www"
    folder.mkdir()
    with http_server(folder) as url:
        yield folder, url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mnist_test(n: int) -> torch.Tensor:
    from gancourse.data import DataNotFoundError

    try:
        return dataset_images("mnist:test")[:n]
    except DataNotFoundError:
        pytest.skip("mnist is not prepared (gancourse data prepare --offline)")


def _random_cov(rng, d: int, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    x = np.maximum(rng.standard_normal((n, d)) @ rng.standard_normal((d, d)), 0)
    return x.mean(axis=0), np.cov(x, rowvar=False)


class PoolExtractor(FeatureExtractor):
    """A tiny extractor for the plumbing tests: 2x2 average pool of channel means."""

    name = "pool"
    feature_dim = 4
    resize = None

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def prepare(self, images):
        return images

    def forward(self, x):
        pooled = torch.nn.functional.adaptive_avg_pool2d(x.mean(1, keepdim=True), 2)
        return pooled.flatten(1), None


def _pool_features_by_hand(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) in [-1, 1], H and W even -> (N, 4) quadrant means."""
    g = images.mean(axis=1)
    h, w = g.shape[1] // 2, g.shape[2] // 2
    quads = [g[:, :h, :w], g[:, :h, w:], g[:, h:, :w], g[:, h:, w:]]
    return np.stack([q.mean(axis=(1, 2)) for q in quads], axis=1)


# ---------------------------------------------------------------- Fréchet distance


def test_frechet_1d_closed_form():
    # FID of N(m1, s1²) and N(m2, s2²) is (m1 - m2)² + (s1 - s2)²
    for m1, s1, m2, s2 in [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -0.5, 0.5), (3, 0, 1, 4)]:
        got = frechet_distance([m1], [[s1**2]], [m2], [[s2**2]])
        assert got == pytest.approx(
            (m1 - m2) ** 2 + (s1 - s2) ** 2, rel=1e-12, abs=1e-12
        )


def test_frechet_commuting_covariances_closed_form():
    # sigma1 = Q diag(a) Q^T, sigma2 = Q diag(b) Q^T commute, so
    # Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^1/2) = sum (sqrt(a) - sqrt(b))^2
    rng = np.random.default_rng(0)
    d = 6
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.0, 3, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(
        expected, rel=1e-12
    )
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    s1, s2 = Q @ np.diag(a) @ Q.T, Q @ np.diag(b) @ Q.T
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-10)


def test_frechet_identical_is_zero_and_symmetric():
    rng = np.random.default_rng(1)
    mu, sigma = _random_cov(rng, 32)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-8)
    mu2, sigma2 = _random_cov(rng, 32)
    d12 = frechet_distance(mu, sigma, mu2, sigma2)
    assert d12 > 1
    assert frechet_distance(mu2, sigma2, mu, sigma) == pytest.approx(d12, rel=1e-9)


def test_frechet_reference_caches_and_equals_function():
    rng = np.random.default_rng(2)
    mu1, s1 = _random_cov(rng, 16)
    ref = FrechetReference(mu1, s1)
    for _ in range(3):  # the cached root serves several generated sets
        mu2, s2 = _random_cov(rng, 16)
        assert ref.distance(mu2, s2) == pytest.approx(
            frechet_distance(mu1, s1, mu2, s2), rel=1e-12
        )


def test_frechet_refuses_bad_statistics():
    with pytest.raises(MetricInputError, match="feature sizes differ"):
        FrechetReference(np.zeros(3), np.eye(3)).distance(np.zeros(4), np.eye(4))
    with pytest.raises(MetricInputError, match="mu"):
        frechet_distance(np.zeros(3), np.eye(4), np.zeros(3), np.eye(3))
    bad = np.eye(3)
    bad[0, 1] = np.nan
    with pytest.raises(MetricInputError, match="NaN"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), bad)


# ---------------------------------------------------------------- IS, KID, P/R


def test_inception_score_of_uniform_one_hot_is_num_classes():
    # every x certain of its class, classes uniform in every split:
    # KL(onehot || uniform) = log K for every row, so IS = K exactly
    K, n = 5, 100
    probs = np.eye(K)[np.arange(n) % K]
    mean, std = inception_score(probs, splits=10, seed=None)
    assert mean == pytest.approx(K, rel=1e-12)
    assert std == pytest.approx(0.0, abs=1e-12)
    # with shuffling the splits are no longer balanced: IS <= K
    assert inception_score(probs, splits=10, seed=0)[0] <= K + 1e-9


def test_inception_score_of_identical_rows_is_one():
    row = np.array([0.1, 0.2, 0.3, 0.4])
    mean, std = inception_score(np.tile(row, (30, 1)), splits=3)
    assert (mean, std) == (pytest.approx(1.0, abs=1e-12), pytest.approx(0, abs=1e-12))


def test_inception_score_two_splits_by_hand():
    # split 1: rows (1, 0) and (0, 1) -> p(y) = (.5, .5), each KL = log 2 -> IS 2
    # split 2: rows (1, 0) twice -> p(y) = (1, 0), KL = 0 -> IS 1
    probs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    mean, std = inception_score(probs, splits=2, seed=None)
    assert mean == pytest.approx(1.5, rel=1e-12)
    assert std == pytest.approx(0.5, rel=1e-12)  # population std of (2, 1)


def test_inception_score_input_checks_and_softmax():
    logits = np.random.default_rng(0).standard_normal((8, 5)) * 3
    expected = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    np.testing.assert_allclose(probs_from_logits(logits), expected, rtol=1e-12)
    with pytest.raises(MetricInputError, match="probs_from_logits"):
        inception_score(logits, splits=2)
    with pytest.raises(MetricInputError, match="splits"):
        inception_score(expected, splits=9)
    with pytest.raises(MetricInputError, match="NaN"):
        inception_score(np.full((4, 2), np.nan), splits=2)


def _mmd2_by_loops(X, Y):
    """Unbiased MMD² with k(x, y) = (x·y / d + 1)³, written as plain sums."""
    d = X.shape[1]

    def k(a, b):
        return (float(np.dot(a, b)) / d + 1.0) ** 3

    m, n = len(X), len(Y)
    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j)
    xy = sum(k(x, y) for x in X for y in Y)
    return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


def test_mmd2_unbiased_equals_double_loop():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((7, 4)), rng.standard_normal((5, 4)) + 0.5
    assert mmd2_unbiased(X, Y) == pytest.approx(_mmd2_by_loops(X, Y), rel=1e-12)
    # unbiased: the within-set terms leave out k(x, x), so X vs X is not 0
    assert mmd2_unbiased(X, X) == pytest.approx(_mmd2_by_loops(X, X), rel=1e-10)


def test_kid_with_full_subsets_is_the_mmd_of_the_sets():
    # subsets have min(subset_size, N_real, N_fake) samples; with equal N that
    # is a permutation of each set, and MMD² ignores order
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 3)) * 2
    mean, std = kid(X, Y, subsets=4, subset_size=100)
    assert mean == pytest.approx(_mmd2_by_loops(X, Y), rel=1e-10)
    assert std == pytest.approx(0.0, abs=1e-12)
    # smaller subsets: seeded, reproducible, different subsets
    a, b = kid(X, Y, subsets=5, subset_size=4, seed=3), kid(X, Y, 5, 4, seed=3)
    assert a == b and a[1] > 0
    with pytest.raises(MetricInputError, match="feature sizes differ"):
        kid(X, Y[:, :2])


def test_precision_recall_hand_cases():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((40, 3))
    # fake samples are real samples: each sits at the centre of a real ball
    precision, recall = precision_recall(real, real[:10])
    assert precision == 1.0 and 0 < recall < 1
    # far-apart clusters: no sample lies in the other set's manifold
    precision, recall = precision_recall(real, rng.standard_normal((30, 3)) + 100)
    assert (precision, recall) == (0.0, 0.0)
    # on a line, k = 1: real 0..9 have radius 1; 0.5 is inside, 10.5 and 20 are
    # not -> precision 1/3. Fake radii 10, 9.5, 9.5 cover all of 0..9 -> recall 1
    line = np.arange(10.0)[:, None]
    fake = np.array([[0.5], [10.5], [20.0]])
    precision, recall = precision_recall(line, fake, k=1)
    assert precision == pytest.approx(1 / 3) and recall == 1.0
    with pytest.raises(MetricInputError, match="more than k"):
        precision_recall(line, fake, k=3)


# ---------------------------------------------------------------- resizing


def test_tf_bilinear_by_hand():
    # TF1, align_corners=False: out[i] samples in[i * n_in / n_out], no half-pixel
    # offset, the right neighbour clamped at the edge
    a, b = 10.0, 50.0
    x = torch.tensor([[a, b]]).expand(2, 2)[None, None]  # columns a | b
    out = resize_tf_bilinear(x, (2, 4))[0, 0]
    expected = torch.tensor([a, (a + b) / 2, b, b])  # 0, 0.5, 1, 1.5 -> clamp
    assert torch.allclose(out, expected.expand(2, 4))
    col = torch.arange(4.0)[None, None, :, None] * 10  # rows 0, 10, 20, 30
    down = resize_tf_bilinear(col, (2, 1))  # samples rows 0 and 2
    assert down.flatten().tolist() == [0.0, 20.0]
    three = resize_tf_bilinear(col[:, :, :3], (2, 1))  # samples 0 and 1.5
    assert three.flatten().tolist() == [0.0, 15.0]
    same = torch.rand(1, 3, 5, 5)
    assert resize_tf_bilinear(same, (5, 5)) is same


def test_clean_resize_clips_and_modes():
    # bicubic overshoots at a step edge; clean clips back to [0, 255]
    step = torch.zeros(1, 1, 8, 8)
    step[..., 4:] = 255.0
    up = resize_clean(step, (29, 29))
    assert up.min() == 0.0 and up.max() == 255.0
    assert torch.equal(resize(step, (29, 29), "clean"), up)
    with pytest.raises(MetricInputError, match="tf-bilinear"):
        resize(step, (29, 29), "bilinear")
    with pytest.raises(MetricInputError, match="clean"):
        TFInception(resize="area")


# ---------------------------------------------------------------- input checks


def test_to_signed_unit_checks_ranges_and_types():
    u = torch.arange(256, dtype=torch.uint8).reshape(1, 1, 16, 16)
    expected = torch.arange(256.0).reshape(1, 1, 16, 16) / 127.5 - 1
    assert torch.allclose(to_signed_unit(u), expected, atol=1e-7)
    with pytest.raises(MetricInputError, match=r"\[0, 255\]"):
        to_signed_unit(u.float())
    with pytest.raises(MetricInputError, match="NaN"):
        to_signed_unit(torch.full((1, 1, 4, 4), float("nan")))
    for bad in (
        torch.zeros(3, 4, 4),
        torch.zeros(1, 1, 1, 4, 4),
        torch.zeros(0, 1, 4, 4),
    ):
        with pytest.raises(MetricInputError, match="shape|empty"):
            to_signed_unit(bad)
    with pytest.raises(MetricInputError, match="uint8"):
        to_signed_unit(torch.zeros(1, 1, 4, 4, dtype=torch.int32))
    with pytest.raises(MetricInputError, match="Tensor"):
        to_signed_unit(np.zeros((1, 1, 4, 4)))
    with pytest.warns(UserWarning, match=r"\[0, 1\]"):
        to_signed_unit(torch.rand(16, 1, 4, 4))


@pytest.fixture(scope="module")
def inception():
    torch.manual_seed(0)
    return TFInception()


def _capture_input(model, monkeypatch):
    """Replace the forward pass by a recorder of the prepared input."""
    seen = []

    def fake_forward(x):
        seen.append(x)
        return torch.zeros(x.shape[0], 2048), None

    monkeypatch.setattr(model, "forward", fake_forward)
    return seen


def test_prepare_uint8_is_tf_formula(inception, monkeypatch):
    g = torch.Generator().manual_seed(0)
    u = torch.randint(0, 256, (2, 3, 299, 299), dtype=torch.uint8, generator=g)
    seen = _capture_input(inception, monkeypatch)
    inception.extract(u)  # extract = check range -> prepare -> forward
    assert torch.equal(seen[0], (u.float() - 128) / 128)  # TF graph's Sub/Mul


def test_prepare_quantizes_floats_and_expands_grey(inception):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 299, 299, generator=g) * 2 - 1
    v = np.floor((x.double().numpy() + 1) * 127.5 + 0.5)  # as saving a PNG would
    expected = torch.from_numpy((v - 128) / 128).float().expand(-1, 3, -1, -1)
    got = inception.prepare(x)
    assert got.shape == (2, 3, 299, 299)
    assert torch.equal(got, expected)
    assert torch.equal(got[:, 0], got[:, 2])
    raw = TFInception(quantize=False).prepare(x)
    assert torch.allclose(raw[:, 1:2], ((x + 1) * 127.5 - 128) / 128, atol=1e-6)
    small = inception.prepare(torch.zeros(3, 1, 28, 28))  # 127.5 rounds to 128
    assert small.shape == (3, 3, 299, 299) and torch.equal(
        small, torch.zeros_like(small)
    )


def test_inception_refuses_bad_images(inception):
    with pytest.raises(MetricInputError, match="2 channels"):
        inception.prepare(torch.zeros(1, 2, 28, 28))
    with pytest.raises(MetricInputError, match="2 channels"):
        inception.extract(torch.zeros(1, 2, 28, 28))
    with pytest.raises(MetricInputError, match="prepare"):
        inception(torch.zeros(1, 3, 28, 28))
    with pytest.raises(MetricInputError, match=r"\[0, 255\]"):
        inception.extract(torch.full((1, 3, 28, 28), 200.0))


def test_extract_refuses_non_finite_features():
    class Broken(PoolExtractor):
        def forward(self, x):
            return torch.full((x.shape[0], 4), float("nan")), None

    with pytest.raises(MetricInputError, match="non-finite"):
        Broken().extract(torch.zeros(2, 1, 4, 4))


# ---------------------------------------------------------------- statistics


def test_running_stats_match_numpy():
    rng = np.random.default_rng(0)
    # Inception-like: non-negative with a large mean, where the one-pass
    # formula would lose digits in float32
    feats = np.maximum(rng.standard_normal((257, 12)) + 3.0, 0) * 5
    rs = RunningStats()
    for start in range(0, 257, 50):  # uneven batches, tensors and arrays mixed
        chunk = feats[start : start + 50]
        rs.update(torch.from_numpy(chunk) if start % 100 else chunk)
    st = rs.finalize(dataset="toy")
    np.testing.assert_allclose(st.mu, feats.mean(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        st.sigma, np.cov(feats, rowvar=False, ddof=1), rtol=1e-10, atol=1e-10
    )
    assert st.n == 257 and st.meta == {"dataset": "toy"}


def test_running_stats_errors_and_warning():
    with pytest.raises(MetricInputError, match="at least 2"):
        RunningStats().finalize()
    one = RunningStats()
    one.update(np.ones((1, 3)))
    with pytest.raises(MetricInputError, match="at least 2"):
        one.finalize()
    few = RunningStats()
    few.update(np.random.default_rng(0).standard_normal((5, 8)))
    with pytest.warns(UserWarning, match="bias"):
        few.finalize()
    with pytest.raises(MetricInputError, match="NaN"):
        RunningStats().update(np.array([[1.0, np.nan]]))
    changed = RunningStats()
    changed.update(np.zeros((3, 4)))
    with pytest.raises(MetricInputError, match="changed from 4 to 5"):
        changed.update(np.zeros((3, 5)))
    with pytest.raises(MetricInputError, match=r"\(N, D\)"):
        RunningStats().update(np.zeros(4))


def test_save_load_round_trip_keeps_meta(tmp_path):
    feats = np.random.default_rng(0).standard_normal((50, 6))
    meta = {
        "dataset": "mnist",
        "split": "test",
        "resize": "tf-bilinear",
        "extractor": "inception",
    }
    st = stats_from_features(feats, **meta)
    path = save_stats(st, tmp_path / "sub" / "ref")  # suffix added, folder made
    assert path == tmp_path / "sub" / "ref.npz"
    assert sorted(p.name for p in path.parent.iterdir()) == ["ref.npz"]  # no temp
    back = load_stats(path)
    assert back.n == 50 and back.meta == meta
    assert np.array_equal(back.mu, st.mu) and np.array_equal(back.sigma, st.sigma)


def test_check_comparable(tmp_path):
    mu, sigma = np.zeros(3), np.eye(3)
    base = FeatureStats(
        mu, sigma, 10, {"resize": "tf-bilinear", "extractor": "inception"}
    )
    other_resize = FeatureStats(
        mu, sigma, 10, {"resize": "clean", "extractor": "inception"}
    )
    other_net = FeatureStats(mu, sigma, 10, {"resize": "tf-bilinear", "extractor": "x"})
    with pytest.raises(MetricInputError, match="resize"):
        base.check_comparable(other_resize)
    with pytest.raises(MetricInputError, match="extractor"):
        fid_from_stats(base, other_net)
    with pytest.raises(MetricInputError, match="feature sizes"):
        base.check_comparable(FeatureStats(np.zeros(4), np.eye(4), 10, {}))
    assert fid_from_stats(base, FeatureStats(mu + 1, sigma, 10, {})) == pytest.approx(3)


def test_pytorch_fid_style_and_corrupt_npz(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, mu=np.ones(3, dtype=np.float32), sigma=np.eye(3))
    st = load_stats(plain)
    assert st.mu.dtype == np.float64 and st.n == 0 and st.meta == {}
    good = save_stats(stats_from_features(np.eye(5)), tmp_path / "good.npz")
    raw = good.read_bytes()
    for name, blob in {
        "truncated": raw[: len(raw) // 2],  # an interrupted copy
        "empty": b"",
        "text": b"<html>404 Not Found</html>",
    }.items():
        bad = tmp_path / f"{name}.npz"
        bad.write_bytes(blob)
        with pytest.raises(MetricInputError, match="not a statistics file"):
            load_stats(bad)
    np.savez(tmp_path / "nomu.npz", mean=np.zeros(3))
    with pytest.raises(MetricInputError, match="mu"):
        load_stats(tmp_path / "nomu.npz")
    np.savez(tmp_path / "misfit.npz", mu=np.zeros(3), sigma=np.eye(4))
    with pytest.raises(MetricInputError, match="do not fit"):
        load_stats(tmp_path / "misfit.npz")
    with pytest.raises(FileNotFoundError, match="gancourse stats"):
        load_stats(tmp_path / "missing.npz")


# ---------------------------------------------------------------- image sources


def test_feature_stats_over_batches_equal_numpy_on_all_images():
    images = _mnist_test(23)
    by_hand = _pool_features_by_hand(images.numpy().astype(np.float64))
    st = feature_stats(images, PoolExtractor(), batch_size=5, dataset="mnist")
    np.testing.assert_allclose(st.mu, by_hand.mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(st.sigma, np.cov(by_hand, rowvar=False), atol=1e-6)
    assert st.n == 23
    assert st.meta == {
        "extractor": "pool",
        "resize": "none",
        "feature_dim": 4,
        "dataset": "mnist",
    }
    feats, logits = extract_features(images, PoolExtractor(), n=7, batch_size=3)
    assert feats.shape == (7, 4) and logits is None
    np.testing.assert_allclose(feats, by_hand[:7], atol=1e-6)


def test_dataset_images_subset_is_seeded():
    full = _mnist_test(10**6)
    a, b = dataset_images("mnist:test", n=10), dataset_images("mnist:test", n=10)
    assert a.shape == (10, 1, 28, 28) and torch.equal(a, b)
    assert not torch.equal(a, full[:10])  # a random subset, not the first ten
    # every image of the subset is one of the split's images
    flat = full.flatten(1)
    assert all((flat == img.flatten()).all(1).any() for img in a)


def test_generator_samples_are_seeded_and_conditional():
    class G(torch.nn.Module):
        z_dim = 3

        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 4)

        def forward(self, z, y=None):
            x = torch.tanh(self.lin(z)) * 2  # overshoots: samples are clamped
            if y is not None:
                x = x * 0 + y[:, None].float() / 10
            return x.view(-1, 1, 2, 2)

    torch.manual_seed(0)
    g = G()
    a = torch.cat(list(GeneratorSamples(g, 7, seed=1).batches(3)))
    b = torch.cat(list(GeneratorSamples(g, 7, seed=1).batches(7)))
    z = torch.randn(7, 3, generator=torch.Generator().manual_seed(1))
    assert a.shape == (7, 1, 2, 2) and torch.allclose(a, b)
    with torch.no_grad():
        assert torch.allclose(a, g(z).clamp(-1, 1))
    labels = torch.arange(5)
    c = torch.cat(list(GeneratorSamples(g, 5, labels=labels).batches(2)))
    assert torch.allclose(c.flatten(1)[:, 0], labels.float() / 10)


def test_folder_images(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    arrays = [rng.integers(0, 256, (6, 6), dtype=np.uint8) for _ in range(3)]
    (tmp_path / "nested").mkdir()
    for i, arr in enumerate(arrays):
        Image.fromarray(arr).save(tmp_path / ("nested" if i else ".") / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    folder = FolderImages(tmp_path)
    assert len(folder) == 3
    batches = list(folder.batches(2))
    assert [b.shape[0] for b in batches] == [2, 1]
    got = torch.cat(batches)
    assert got.dtype == torch.uint8 and got.shape == (3, 1, 6, 6)
    # files are sorted by path: 0.png, nested/1.png, nested/2.png
    assert all(np.array_equal(got[i, 0].numpy(), arrays[i]) for i in range(3))
    Image.fromarray(np.zeros((5, 5, 3), np.uint8)).save(tmp_path / "z.png")
    with pytest.raises(MetricInputError, match="differ in size"):
        list(FolderImages(tmp_path).batches(10))
    with pytest.raises(MetricInputError, match="not a folder"):
        FolderImages(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MetricInputError, match="no image files"):
        FolderImages(tmp_path / "empty")


def test_get_extractor_unknown_name():
    with pytest.raises(MetricInputError, match="inception"):
        get_extractor("vgg")


# ---------------------------------------------------------------- weights


def test_download_weights_verifies_digest(serve, tmp_path, no_network):
    folder, url = serve
    blob = np.random.default_rng(0).bytes(int(2.5 * (1 << 20)))  # several chunks
    (folder / "w.pth").write_bytes(blob)
    sha = hashlib.sha256(blob).hexdigest()
    dst = tmp_path / "cache" / "w.pth"
    assert download_weights(url + "w.pth", dst, sha) == dst
    assert hashlib.sha256(dst.read_bytes()).hexdigest() == sha
    assert sorted(p.name for p in dst.parent.iterdir()) == ["w.pth"]


def test_download_with_wrong_digest_leaves_nothing(serve, tmp_path, no_network):
    folder, url = serve
    (folder / "w.pth").write_bytes(b"x" * 5000)
    dst = tmp_path / "cache" / "w.pth"
    with pytest.raises(WeightsNotFoundError, match="SHA-256 mismatch"):
        download_weights(url + "w.pth", dst, "0" * 64)
    assert list(dst.parent.iterdir()) == []  # neither the file nor a .part


@pytest.mark.parametrize("where", ["404", "refused", "no-dns"])
def test_unreachable_weights_name_file_url_and_place(
    where, serve, tmp_path, no_network
):
    _, url = serve
    url = {
        "404": url + "missing.pth",
        "refused": f"http://127.0.0.1:{_free_port()}/w.pth",
        "no-dns": "https://example.invalid/w.pth",
    }[where]
    dst = tmp_path / "cache" / "inception-weights.pth"
    with pytest.raises(WeightsNotFoundError) as err:
        download_weights(url, dst, "0" * 64, timeout=5)
    msg = str(err.value)
    assert dst.name in msg and url in msg and str(dst) in msg
    assert "--inception-weights" in msg
    assert list(dst.parent.iterdir()) == []


def test_offline_without_weights_explains_where_to_put_them(empty_cache):
    with pytest.raises(WeightsNotFoundError) as err:
        load_inception(download=False)
    msg = str(err.value)
    assert WEIGHTS_FILE in msg and WEIGHTS_URL in msg and str(empty_cache) in msg
    with pytest.raises(WeightsNotFoundError) as err:  # download fails: no network
        load_inception()
    assert WEIGHTS_URL in str(err.value) and str(empty_cache) in str(err.value)
    assert not empty_cache.exists()


def test_cached_file_with_wrong_digest_says_delete_it(empty_cache):
    empty_cache.parent.mkdir(parents=True)
    empty_cache.write_bytes(b"half a download")
    with pytest.raises(WeightsNotFoundError, match="delete it") as err:
        load_inception(download=False)
    assert str(empty_cache) in str(err.value)


def test_cached_and_downloaded_weights_load(
    empty_cache, random_weights, serve, monkeypatch
):
    folder, url = serve
    blob = random_weights.read_bytes()
    sha = hashlib.sha256(blob).hexdigest()
    (folder / WEIGHTS_FILE).write_bytes(blob)
    monkeypatch.setattr(iw, "WEIGHTS_SHA256", sha)
    monkeypatch.setattr(
        iw.download_weights, "__defaults__", (url + WEIGHTS_FILE, None, sha, 10.0)
    )
    model = load_inception()  # empty cache: downloads, verifies, loads
    assert empty_cache.is_file() and model.weights_source == str(empty_cache)
    expected = torch.load(random_weights, weights_only=True)
    assert torch.equal(
        model.Mixed_7c.branch_pool.conv.weight,
        expected["Mixed_7c.branch_pool.conv.weight"],
    )
    assert not model.training and model.has_classifier
    assert not any(p.requires_grad for p in model.parameters())
    (folder / WEIGHTS_FILE).unlink()  # second time: from the cache, no download
    assert load_inception(download=False).weights_source == str(empty_cache)


def test_weights_from_path_and_environment(random_weights, tmp_path, monkeypatch):
    monkeypatch.setenv(iw.ENV_WEIGHTS, str(random_weights))
    model = load_inception()
    assert model.weights_source == str(random_weights) and model.has_classifier
    # a feature-only file (like NVIDIA's port) loads without the classifier
    state = torch.load(random_weights, weights_only=True)
    del state["fc.weight"], state["fc.bias"]
    torch.save(state, tmp_path / "features-only.pth")
    model = load_inception(tmp_path / "features-only.pth", resize="clean")
    assert not model.has_classifier and model.resize == "clean"


def test_corrupt_or_foreign_weights_are_clear_errors(random_weights, tmp_path):
    raw = random_weights.read_bytes()
    cases = {
        "truncated.pth": raw[: len(raw) // 3],
        "empty.pth": b"",
        "page.pth": b"<!DOCTYPE html><html>Not Found</html>",
        "hello.pth": b"hello world" * 10,  # makes the unpickler raise KeyError
    }
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(WeightsNotFoundError, match="download it again"):
            load_inception(tmp_path / name)
    with pytest.raises(WeightsNotFoundError, match="no Inception weights file"):
        load_inception(tmp_path / "missing.pth")
    torch.save({"step": 3}, tmp_path / "dict.pth")
    with pytest.raises(WeightsNotFoundError, match="state dict of tensors"):
        load_inception(tmp_path / "dict.pth")
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pth")
    with pytest.raises(WeightsNotFoundError, match="does not fit"):
        load_inception(tmp_path / "other.pth")
    # same names, other shapes: torchvision's 1000-class ImageNet Inception head
    state = torch.load(random_weights, weights_only=True)
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 2048), torch.zeros(1000)
    torch.save(state, tmp_path / "torchvision.pth")
    with pytest.raises(WeightsNotFoundError, match="does not fit"):
        load_inception(tmp_path / "torchvision.pth")


def test_convert_torchscript_state_names():
    # NVIDIA's port names TF nodes; its BN has a shift (beta) but no scale
    beta = torch.arange(3.0)
    state = {
        "net.layers.conv.weight": torch.ones(1),
        "net.layers.mixed_4.tower_1.conv_2.beta": beta,
        "layers.mixed_10.tower_2_conv.var": torch.ones(2),
        "net.output.weight": torch.ones(2),
        "net.something_else": torch.ones(1),
    }
    out = convert_torchscript_state(state)
    assert set(out) == {
        "Conv2d_1a_3x3.conv.weight",
        "Mixed_6b.branch7x7dbl_3.bn.bias",
        "Mixed_6b.branch7x7dbl_3.bn.weight",
        "Mixed_7c.branch_pool.bn.running_var",
        "fc.weight",
    }
    assert torch.equal(out["Mixed_6b.branch7x7dbl_3.bn.weight"], torch.ones(3))
    assert set(out) <= set(TFInception().state_dict())
    with pytest.raises(MetricInputError, match="not NVIDIA"):
        convert_torchscript_state({"layers.mixed_99.conv.weight": torch.ones(1)})


# ---------------------------------------------------------------- command line


def test_cli_stats_then_fid_and_resize_mismatch(random_weights, tmp_path, capsys):
    _mnist_test(1)
    out = tmp_path / "ref.npz"
    common = ["--inception-weights", str(random_weights), "--no-progress"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # N < D: the covariance is rank-deficient
        stats = ["stats", "--real", "mnist:test", "--n", "2", "--out", str(out)]
        assert main([*stats, *common]) == 0
    assert str(out) in capsys.readouterr().out
    st = load_stats(out)
    assert st.n == 2 and st.mu.shape == (2048,)
    assert {k: st.meta[k] for k in ("dataset", "split", "resize", "extractor")} == {
        "dataset": "mnist",
        "split": "test",
        "resize": "tf-bilinear",
        "extractor": "inception",
    }
    assert st.meta["feature_dim"] == 2048 and np.abs(st.mu).max() > 1e-3  # alive
    # a successful `fid` run with real weights is in test_metrics_reference.py
    fid = ["fid", "--real", str(out), "--fake", "dcgan-mnist", "--n", "2", *common]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*fid, "--resize", "clean"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gancourse fid: error:")
    assert "resize" in lines[0] and "clean" in lines[0] and "tf-bilinear" in lines[0]


def test_cli_fid_offline_without_weights(empty_cache, capsys):
    code = main(["fid", "--real", "mnist:test", "--fake", "dcgan-mnist", "--n", "2"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("gancourse fid: error:")
    assert WEIGHTS_FILE in err and WEIGHTS_URL in err and str(empty_cache) in err


def test_cli_bench_smoke(capsys):
    assert main(["bench", "fid", "--n", "500", "--dim", "64", "--no-extraction"]) == 0
    out = capsys.readouterr().out
    for row in ("sqrtm formula", "frechet_distance", "FrechetReference", "speed-up"):
        assert row in out
    diff = next(line for line in out.splitlines() if "relative difference" in line)
    assert float(diff.split()[-1]) < 1e-6  # the rows agree with each other
