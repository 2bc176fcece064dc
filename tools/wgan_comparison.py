"""Chapter 2's comparison: DCGAN, WGAN and WGAN-GP on Fashion-MNIST at equal wall time.

Usage: ``python tools/wgan_comparison.py [--seconds 1200] [--runs DIR] [--collect]``

The three runs are ``gancourse train`` commands with the same networks (the DCGAN
architecture at 32 base channels; the WGAN-GP critic with layer norm, as that
method requires), the same data and the same budget ``train.max_time_s``. They
run *at the same time*, one thread each, so that whatever else the machine does
slows all three alike. Each logs the domain FID (LeNet-Fashion features, 1,000
samples against the training set) every 100 steps, evaluation time excluded.

Writes ``gancourse/metrics/records/ch02-equal-time.json`` (curves, final FIDs,
commands, hardware, date) and a final sample grid per run in ``book/figures/``.
``--collect`` only rereads finished runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "gancourse" / "metrics" / "records" / "ch02-equal-time.json"
FIGURES = ROOT / "book" / "figures"

# label -> (preset, extra overrides)
RUNS = {
    "DCGAN": ("dcgan-mnist", ["data.name=fashion-mnist", "name=dcgan-fashion"]),
    "WGAN": ("wgan-mnist", ["data.name=fashion-mnist", "name=wgan-fashion"]),
    "WGAN-GP": ("wgangp-fashion", []),
}
COMMON = [
    "model.g_width=32",
    "model.d_width=32",
    "train.steps=1000000",
    "train.eval_every=100",
    "train.eval_n=1000",
    "train.sample_every=100000",
    "train.ckpt_every=100000",
]


def command(label: str, seconds: float, out: Path) -> list[str]:
    preset, extra = RUNS[label]
    sets = [*extra, *COMMON, f"train.max_time_s={seconds:g}"]
    args = ["train", "--preset", preset]
    for s in sets:
        args += ["--set", s]
    return [*args, "--out", str(out), "--overwrite", "--no-progress"]


def collect(runs: Path, seconds: float, elapsed: float | None) -> dict:
    import torch

    from gancourse.checkpoint import load_checkpoint
    from gancourse.pretrained import generator_from_checkpoint
    from gancourse.viz import read_log, save_samples

    out = {}
    for label in RUNS:
        folder = runs / label.lower()
        log = read_log(folder / "log.jsonl")
        ckpt = load_checkpoint(folder / "last.pt", kind="train")
        curve = [
            {
                "step": r["step"],
                "wall_time_s": r["wall_time_s"],
                "fid": round(r["fid"], 3),
                **(
                    {"wasserstein": round(r["wasserstein"], 4)}
                    if "wasserstein" in r
                    else {}
                ),
            }
            for r in log
            if "fid" in r
        ]
        G = generator_from_checkpoint(ckpt)
        z = torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            x = G(z)
        fig = FIGURES / f"ch02-equal-time-{label.lower()}.png"
        save_samples(x, fig, title=f"{label}, {ckpt['step']} steps")
        out[label] = {
            "command": ckpt["command"],
            "steps": ckpt["step"],
            "wall_time_s": round(float(ckpt["wall_time_s"]), 1),
            "final_fid": curve[-1]["fid"] if curve else None,
            "best_fid": min(c["fid"] for c in curve) if curve else None,
            "hardware": ckpt["hardware"],
            "data": ckpt["data"],
            "samples": str(fig.relative_to(ROOT)),
            "curve": curve,
        }
    return {
        "what": "DCGAN vs WGAN vs WGAN-GP on Fashion-MNIST at equal wall time; "
        "domain FID in LeNet-Fashion features (1,000 samples, seed 0, against the "
        "training set), evaluation time excluded",
        "budget_s": seconds,
        "concurrency": "the three runs ran at the same time, one torch thread each",
        "elapsed_s": elapsed,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "command": "python tools/wgan_comparison.py --seconds " + f"{seconds:g}",
        "runs": out,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=1200.0)
    p.add_argument("--runs", default="runs/ch02-equal-time")
    p.add_argument("--collect", action="store_true")
    args = p.parse_args(argv)
    runs = Path(args.runs)
    elapsed = None
    if not args.collect:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        procs = []
        for label in RUNS:
            folder = runs / label.lower()
            folder.mkdir(parents=True, exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "gancourse",
                *command(label, args.seconds, folder),
            ]
            procs.append(subprocess.Popen(cmd, env=env))
        codes = [proc.wait() for proc in procs]
        elapsed = round(time.perf_counter() - t0, 1)
        if any(codes):
            print(f"a run failed: exit codes {codes}", file=sys.stderr)
            return 1
    record = collect(runs, args.seconds, elapsed)
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    for label, r in record["runs"].items():
        print(f"{label:8s} {r['steps']:6d} steps  final FID {r['final_fid']}")
    print(f"wrote {RECORD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
