"""Measure the Inception-based figures that chapter 8 reports, and record them.

Usage: ``python tools/inception_figures.py --weights PATH [--n 2000]``

CPU Inception is too slow for the book build, so this script runs once and writes
``gancourse/metrics/records/inception-figures.json``: every FID with its sets, N,
resize mode, weights file (name and SHA-256), wall time and hardware. The chapter
prints that record. Any TF-Inception weights file that ``load_inception`` accepts
will do (pytorch-fid's release file or NVIDIA's TorchScript port).
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from gancourse.metrics import dataset_images, fid_from_stats, stats_from_features
from gancourse.metrics.inception_weights import load_inception, sha256_of

OUT = Path(__file__).resolve().parents[1] / "gancourse/metrics/records"


def jpeg(images: torch.Tensor, quality: int) -> torch.Tensor:
    """Round-trip ``[-1, 1]`` grey images through JPEG at ``quality`` -> uint8."""
    from PIL import Image

    out = []
    for x in ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8):
        buf = io.BytesIO()
        Image.fromarray(x[0].numpy(), mode="L").save(buf, "JPEG", quality=quality)
        out.append(torch.from_numpy(np.asarray(Image.open(buf)))[None])
    return torch.stack(out)


@torch.no_grad()
def features(model, images, batch=50, legacy_resize=False) -> np.ndarray:
    """Pool3 features; ``legacy_resize`` uses PyTorch's half-pixel bilinear
    (``F.interpolate``) instead of the model's own resize, the common bug."""
    feats = []
    for start in range(0, images.shape[0], batch):
        x = images[start : start + batch]
        if legacy_resize:
            from gancourse.metrics.extractor import to_signed_unit

            v = ((to_signed_unit(x) + 1) * 127.5).round().expand(-1, 3, -1, -1)
            v = F.interpolate(v, size=(299, 299), mode="bilinear", align_corners=False)
            f, _ = model((v - 128) / 128)
        else:
            f, _ = model.extract(x)
        feats.append(f.double().numpy())
        print(".", end="", flush=True, file=sys.stderr)
    return np.concatenate(feats)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--weights", required=True, help="TF-Inception weights file")
    p.add_argument("--n", type=int, default=2000, help="images per set")
    args = p.parse_args(argv)
    t_start = time.perf_counter()
    tf = load_inception(args.weights, resize="tf-bilinear")
    clean = load_inception(args.weights, resize="clean")
    n = args.n
    sets = {
        "fashion-mnist:train": dataset_images("fashion-mnist:train", n, seed=1),
        "fashion-mnist:test": dataset_images("fashion-mnist:test", n, seed=2),
        "mnist:train": dataset_images("mnist:train", n, seed=3),
    }
    timings: dict[str, float] = {}

    train_feats: list[np.ndarray] = []

    def stats(key, model, images, **kw):
        t0 = time.perf_counter()
        f = features(model, images, **kw)
        if key == "train/tf":
            train_feats.append(f)
        timings[key] = round(time.perf_counter() - t0, 1)
        print(f" {key}: {timings[key]} s", file=sys.stderr)
        return stats_from_features(f)

    train = sets["fashion-mnist:train"]
    s = {
        "train/tf": stats("train/tf", tf, train),
        "test/tf": stats("test/tf", tf, sets["fashion-mnist:test"]),
        "mnist/tf": stats("mnist/tf", tf, sets["mnist:train"]),
        "train/clean": stats("train/clean", clean, train),
        "test/clean": stats("test/clean", clean, sets["fashion-mnist:test"]),
        "train/legacy": stats("train/legacy", tf, train, legacy_resize=True),
        "train-jpeg75/tf": stats("train-jpeg75/tf", tf, jpeg(train, 75)),
    }
    half = n // 2  # two disjoint halves of the same training subset
    s["train-a/tf"] = stats_from_features(train_feats[0][:half])
    s["train-b/tf"] = stats_from_features(train_feats[0][half:])

    def fid(a, b):
        return round(fid_from_stats(s[a], s[b]), 3)

    rows = [
        ("Fashion-MNIST train vs test", "train/tf", "test/tf", n, "tf-bilinear"),
        (
            "Fashion-MNIST train half A vs half B",
            "train-a/tf",
            "train-b/tf",
            half,
            "tf-bilinear",
        ),
        (
            "MNIST (offline subset) vs Fashion-MNIST test",
            "mnist/tf",
            "test/tf",
            n,
            "tf-bilinear",
        ),
        ("Fashion-MNIST train vs test", "train/clean", "test/clean", n, "clean"),
        (
            "same train images: tf-bilinear vs PyTorch bilinear resize",
            "train/tf",
            "train/legacy",
            n,
            "tf-bilinear vs F.interpolate",
        ),
        (
            "same train images: PNG vs JPEG quality 75",
            "train/tf",
            "train-jpeg75/tf",
            n,
            "tf-bilinear",
        ),
    ]
    record = {
        "what": "FIDs with TF-Inception pool3 features (2048-d)",
        "weights_file": Path(args.weights).name,
        "weights_sha256": sha256_of(Path(args.weights)),
        "n_per_set": n,
        "rows": [
            {"comparison": c, "fid": fid(a, b), "n": m, "resize": r}
            for c, a, b, m, r in rows
        ],
        "seconds_per_set": timings,
        "wall_time_s": round(time.perf_counter() - t_start, 1),
        "hardware": f"CPU {platform.machine()}, {torch.get_num_threads()} threads",
        "command": "python tools/inception_figures.py "
        + " ".join(["--weights", Path(args.weights).name, "--n", str(n)]),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "data": "Fashion-MNIST (full, Debian dataset-fashion-mnist) and the offline "
        "4,000-image MNIST training subset; random subsets with fixed seeds",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "inception-figures.json").write_text(json.dumps(record, indent=1) + "\n")
    for r in record["rows"]:
        print(f"{r['comparison']:<60} {r['resize']:<28} N={r['n']:<5} FID {r['fid']}")
    print(f"wall time {record['wall_time_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
