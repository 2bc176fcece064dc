"""Chapter 2's contrast: the critic's W estimate against the vanilla GAN's D loss.

Usage: ``python tools/estimate_vs_quality.py [--steps 2000] [--runs DIR] [--collect]``

Arjovsky et al. (2017, section 4.2, figures 3-4) show that the WGAN critic's
estimate of the Wasserstein distance falls as the samples improve, while the
loss of a standard GAN's discriminator (an estimate of the JS divergence) does
not follow sample quality. This tool records that contrast with this course's
own code: a DCGAN (non-saturating, one D step) and a WGAN-GP (five critic steps)
with the same DCGAN-style networks at 16 base channels, plus the DCGAN with 5 D
steps per G step (a discriminator closer to optimal, as the paper's figure 4
needs), trained for the same number of *generator* steps on Fashion-MNIST, each
logging its discriminator's numbers every 50 steps (means over those 50 steps)
and the domain FID (LeNet-Fashion features, 1,000 samples against the training
set) at the same steps. Each run uses one torch thread.

For the vanilla D the logged ``d_loss`` is the minimax loss
``L_D = -E log D(x) - E log(1 - D(G(z)))``; at the optimal D it equals
``2 log 2 - 2 JSD`` (Goodfellow et al. 2014, Theorem 1), so the record also
stores ``js_estimate = log 2 - L_D / 2``.

Writes ``gancourse/metrics/records/ch02-estimates.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "gancourse" / "metrics" / "records" / "ch02-estimates.json"

# label -> (preset, extra overrides)
RUNS = {
    "DCGAN": ("dcgan-mnist", ["data.name=fashion-mnist", "name=dcgan-fashion"]),
    # the paper's figure 4 trains D towards optimality; 5 D steps per G step
    "DCGAN, 5 D steps": (
        "dcgan-mnist",
        ["data.name=fashion-mnist", "name=dcgan-fashion-5d", "method.n_d_steps=5"],
    ),
    "WGAN-GP": ("wgangp-fashion", []),
}
COMMON = [
    "model.g_width=16",
    "model.d_width=16",
    "train.log_every=50",
    "train.eval_every=50",
    "train.eval_n=1000",
    "train.sample_every=100000",
    "train.ckpt_every=100000",
]


def _folder(label: str) -> str:
    return label.lower().replace(",", "").replace(" ", "-")


def command(label: str, steps: int, out: Path) -> list[str]:
    preset, extra = RUNS[label]
    sets = [*extra, *COMMON, f"train.steps={steps}"]
    args = ["train", "--preset", preset]
    for s in sets:
        args += ["--set", s]
    return [*args, "--out", str(out), "--overwrite", "--no-progress"]


def curve(log: list[dict]) -> list[dict]:
    """One point per evaluation step: FID and the D numbers logged at that step."""
    by_step: dict[int, dict] = {}
    for r in log:
        if "step" in r:
            by_step.setdefault(r["step"], {}).update(r)
    points = []
    for step in sorted(by_step):
        r = by_step[step]
        if "fid" not in r or "d_loss" not in r:
            continue
        p = {"step": step, "fid": round(r["fid"], 3), "d_loss": round(r["d_loss"], 4)}
        if "wasserstein" in r:
            p["wasserstein"] = round(r["wasserstein"], 4)
        else:
            p["js_estimate"] = round(math.log(2) - r["d_loss"] / 2, 4)
        points.append(p)
    return points


def collect(runs: Path, steps: int, elapsed: float | None) -> dict:
    import torch

    from gancourse.checkpoint import load_checkpoint
    from gancourse.viz import read_log

    out = {}
    for label in RUNS:
        folder = runs / _folder(label)
        ckpt = load_checkpoint(folder / "last.pt", kind="train")
        out[label] = {
            "command": ckpt["command"],
            "steps": ckpt["step"],
            "wall_time_s": round(float(ckpt["wall_time_s"]), 1),
            "hardware": ckpt["hardware"],
            "data": ckpt["data"],
            "curve": curve(read_log(folder / "log.jsonl")),
        }
    return {
        "what": "the discriminator's numbers against sample quality at equal generator "
        "steps: DCGAN (non-saturating, 1 or 5 D steps) and WGAN-GP (5 critic "
        "steps), 16 base channels, Fashion-MNIST; D numbers are means over the "
        "50 steps before each point; domain FID in LeNet-Fashion features "
        "(1,000 samples, against the training set)",
        "concurrency": "one torch thread per run, on a machine shared with other work",
        "elapsed_s": elapsed,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "command": f"python tools/estimate_vs_quality.py --steps {steps}",
        "runs": out,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--runs", default="runs/ch02-estimates")
    p.add_argument("--collect", action="store_true")
    p.add_argument(
        "--only", action="append", choices=list(RUNS), help="train only these runs"
    )
    args = p.parse_args(argv)
    runs = Path(args.runs)
    elapsed = None
    if not args.collect:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        t0 = time.perf_counter()
        procs = []
        for label in args.only or RUNS:
            folder = runs / _folder(label)
            folder.mkdir(parents=True, exist_ok=True)
            cmd = [
                sys.executable,
                "-m",
                "gancourse",
                *command(label, args.steps, folder),
            ]
            procs.append(subprocess.Popen(cmd, env=env))
        codes = [proc.wait() for proc in procs]
        elapsed = round(time.perf_counter() - t0, 1)
        if any(codes):
            print(f"a run failed: exit codes {codes}", file=sys.stderr)
            return 1
    record = collect(runs, args.steps, elapsed)
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    for label, r in record["runs"].items():
        c = r["curve"]
        print(
            f"{label:8s} {r['steps']} steps {r['wall_time_s']} s; FID "
            f"{c[0]['fid']} -> {c[-1]['fid']}; d_loss {c[0]['d_loss']} -> "
            f"{c[-1]['d_loss']}"
        )
    print(f"wrote {RECORD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
