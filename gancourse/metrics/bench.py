"""``python -m gancourse bench fid``: speed of the Fréchet distance and of extraction.

A benchmark, not a test: it prints timings from one run on this machine. The
covariances are 2048-d, estimated from 10,000 random feature vectors shaped like
Inception's (non-negative, correlated), so the matrices have realistic spectra.
"""

from __future__ import annotations

import datetime
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch


def _time(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """Best wall time over ``repeats`` calls, and the value of the last call."""
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def _fake_stats(rng: np.random.Generator, n: int, dim: int, shift: float):
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    feats = np.maximum(rng.standard_normal((n, dim)) @ mix + shift, 0.0)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def sqrtm_formula(mu1, sigma1, mu2, sigma2) -> float:
    """The textbook formula with ``scipy.linalg.sqrtm`` (what most code does)."""
    import scipy.linalg

    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1 + sigma2 - 2 * covmean))


def bench_fid(
    n: int = 10_000,
    dim: int = 2048,
    repeats: int = 3,
    extraction: bool = True,
    record: str | None = None,
) -> list[tuple[str, str]]:
    """Run the benchmark and return ``(row, value)`` pairs (also printed).

    ``record``: also write the rows, machine and date to this JSON file.
    """
    from gancourse.metrics.frechet import FrechetReference, frechet_distance

    rng = np.random.default_rng(0)
    mu1, s1 = _fake_stats(rng, n, dim, 0.0)
    mu2, s2 = _fake_stats(rng, n, dim, 0.1)
    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"{name:<58} {value}", flush=True)

    header = (
        f"{platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}, {dim}-d covariances from {n} samples"
    )
    print(f"# {header}")
    t_sqrtm, v_sqrtm = _time(lambda: sqrtm_formula(mu1, s1, mu2, s2), repeats)
    row("scipy.linalg.sqrtm formula", f"{t_sqrtm:.4g} s  FID {v_sqrtm:.6f}")
    try:
        from pytorch_fid.fid_score import calculate_frechet_distance

        t_pf, v_pf = _time(
            lambda: calculate_frechet_distance(mu1, s1, mu2, s2), repeats
        )
        row("pytorch-fid calculate_frechet_distance", f"{t_pf:.4g} s  FID {v_pf:.6f}")
    except ImportError:
        row("pytorch-fid calculate_frechet_distance", "not installed")
    t_ours, v_ours = _time(lambda: frechet_distance(mu1, s1, mu2, s2), repeats)
    row("gancourse frechet_distance (no cache)", f"{t_ours:.4g} s  FID {v_ours:.6f}")
    ref = FrechetReference(mu1, s1)
    t_cached, v_cached = _time(lambda: ref.distance(mu2, s2), repeats)
    row(
        "gancourse FrechetReference.distance (cached sqrt)",
        f"{t_cached:.4g} s  FID {v_cached:.6f}",
    )
    row(
        "speed-up vs sqrtm: no cache / cached",
        f"{t_sqrtm / t_ours:.1f}x / {t_sqrtm / t_cached:.1f}x",
    )
    row(
        "relative difference to the sqrtm formula",
        f"{abs(v_cached - v_sqrtm) / abs(v_sqrtm):.2e}",
    )
    if extraction:
        for name, value in _bench_extraction():
            row(name, value)
    if record:
        Path(record).write_text(
            json.dumps(
                {
                    "command": f"python -m gancourse bench fid --n {n} --dim {dim}",
                    "machine": header,
                    "date": datetime.date.today().isoformat(),
                    "rows": rows,
                },
                indent=1,
            )
            + "\n"
        )
    return rows


def _bench_extraction(batch: int = 50) -> list[tuple[str, str]]:
    """Images per second through TF-Inception (random weights: speed only)."""
    from gancourse.metrics.inception import TFInception

    out = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        model = TFInception().to(device).eval().requires_grad_(False)
        x = torch.rand(batch, 3, 32, 32, device=device) * 2 - 1
        reps = 2 if device == "cpu" else 10
        with torch.no_grad():
            model.extract(x)  # warm-up
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(reps):
                model.extract(x)
            if device == "cuda":
                torch.cuda.synchronize()
        rate = reps * batch / (time.perf_counter() - t0)
        label = torch.cuda.get_device_name() if device == "cuda" else "CPU"
        out.append(
            (
                f"Inception extraction, 32x32 -> 299, batch {batch}, {label}",
                f"{rate:.1f} img/s",
            )
        )
    return out
