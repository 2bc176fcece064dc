"""Chapter 4's ablations of Pix2Pix on edges -> footwear, at equal steps.

Usage: ``python tools/pix2pix_ablations.py [--steps 800] [--jobs 2] [--runs DIR]
[--only LABEL ...] [--collect]``

Isola et al. (2017) ablate the loss (section 4.2, table 1: L1 alone, cGAN alone,
L1 + cGAN), the generator (section 4.3: U-Net against an encoder-decoder without
skips) and the discriminator's patch size (section 4.4: 1x1 PixelGAN, 16x16,
70x70, 286x286 ImageGAN). This tool runs the same comparisons on this course's
CPU-sized task, ``pix2pix-edges2footwear`` (Fashion-MNIST footwear from their
Canny edges, 32 px): one ``gancourse train`` run per variant, each the preset with
one change, all for the same number of steps (the rate constant for the first
half, then decayed linearly to 0), one torch thread each, ``--jobs`` at a time.

Each trained generator is then scored on all 3,000 test pairs (the Fashion-MNIST
test split, never seen in training): L1, PSNR and SSIM against the true images
(dropout on, as the paper samples, and in eval mode: no dropout, BatchNorm's
stored statistics), the domain FID of the outputs against
the true images in LeNet-Fashion features (on the 28x28 centre, the judge's input
size), and the judge's accuracy on the outputs for the class of the true image.
The same numbers for the true images themselves give the floor. A grid of eight
fixed test inputs per variant goes to ``book/figures/ch04-ablation-<slug>.png``.

Writes ``gancourse/metrics/records/ch04-ablations.json``.
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
RECORD = ROOT / "gancourse" / "metrics" / "records" / "ch04-ablations.json"
FIGURES = ROOT / "book" / "figures"
PRESET = "pix2pix-edges2footwear"

# label -> the preset's one change (config overrides)
VARIANTS = {
    "L1 + cGAN, U-Net, 16x16 patches": [],
    "L1 alone": ["method.gan_weight=0"],
    "cGAN alone": ["method.lambda_l1=0"],
    "encoder-decoder (no skips)": ["model.skips=false"],
    "1x1 patches (PixelGAN)": ["model.n_layers=0"],
    "34x34 patches (whole image)": ["model.n_layers=2"],
}
GRID_INDICES = (0, 1, 2, 3, 500, 1000, 2000, 2999)


def slug(label: str) -> str:
    keep = [c if c.isalnum() else "-" for c in label.lower()]
    return "-".join(filter(None, "".join(keep).split("-")))


def command(label: str, steps: int, out: Path) -> list[str]:
    sets = [
        f"train.lr_decay_start={steps // 2}",  # before steps: must stay below it
        f"train.steps={steps}",
        f"train.sample_every={steps}",
        f"train.ckpt_every={steps}",
        *VARIANTS[label],
    ]
    args = ["train", "--preset", PRESET]
    for s in sets:
        args += ["--set", s]
    return [*args, "--out", str(out), "--overwrite", "--no-progress"]


def train(labels: list[str], steps: int, runs: Path, jobs: int) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    queue, running, failed = list(labels), [], []
    while queue or running:
        while queue and len(running) < jobs:
            label = queue.pop(0)
            folder = runs / slug(label)
            folder.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "gancourse", *command(label, steps, folder)]
            running.append((label, subprocess.Popen(cmd, env=env)))
        time.sleep(2)
        for label, proc in list(running):
            if proc.poll() is not None:
                running.remove((label, proc))
                if proc.returncode:
                    failed.append(label)
    if failed:
        raise SystemExit(f"runs failed: {failed}")
    return round(time.perf_counter() - t0, 1)


def judge_numbers(images, labels, lenet, ref_stats):
    """Domain FID against ``ref_stats`` and the judge's accuracy for ``labels``."""
    import numpy as np

    from gancourse import metrics
    from gancourse.metrics import extract_features, stats_from_features

    centre = images[..., 2:-2, 2:-2]  # (N, 1, 32, 32) -> the judge's 28x28
    feats, logits = extract_features(centre, lenet)
    s = stats_from_features(feats)
    fid = metrics.frechet_distance(s.mu, s.sigma, ref_stats.mu, ref_stats.sigma)
    acc = float(np.mean(np.asarray(logits).argmax(1) == labels.numpy()))
    return float(fid), acc


def translate_all(sampler, x_src, batch=64, seed=0):
    import torch

    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    with torch.no_grad():
        out = torch.cat(
            [
                sampler({"x_src": x_src[i : i + batch]})
                for i in range(0, len(x_src), batch)
            ]
        )
    torch.random.set_rng_state(gen_state)
    return out


def collect(runs: Path, steps: int, elapsed: float | None) -> dict:
    import torch

    from gancourse.checkpoint import load_checkpoint
    from gancourse.data import load_paired
    from gancourse.metrics import extract_features, stats_from_features
    from gancourse.metrics.lenet import load_lenet
    from gancourse.metrics.translation import evaluate_translation, translation_means
    from gancourse.pretrained import sampler_from_checkpoint
    from gancourse.viz import translation_grid

    torch.set_num_threads(max(1, (os.cpu_count() or 1)))
    test = load_paired("edges2footwear", "test")[:]
    x_src, x, y = test["x_src"], test["x"], test["y"]
    lenet = load_lenet("lenet-fashion")
    ref_feats, _ = extract_features(x[..., 2:-2, 2:-2], lenet)
    ref = stats_from_features(ref_feats)
    train = load_paired("edges2footwear", "train")[: len(x)]
    floor_fid, floor_acc = judge_numbers(train["x"], train["y"], lenet, ref)
    _, test_acc = judge_numbers(x, y, lenet, ref)
    rows = []
    for label in VARIANTS:
        folder = runs / slug(label)
        ckpt = load_checkpoint(folder / "last.pt", kind="train")
        sampler = sampler_from_checkpoint(ckpt)
        on = evaluate_translation(sampler, test, seed=0)
        sampler.train_mode = False
        off = evaluate_translation(sampler, test, seed=0)
        sampler.train_mode = None  # the method's choice: dropout on
        x_fake = translate_all(sampler, x_src)
        check = translation_means(x_fake, x)
        fid, acc = judge_numbers(x_fake, y, lenet, ref)
        idx = list(GRID_INDICES)
        grid = translation_grid(x_src[idx], x_fake[idx], x[idx], per_row=4)
        fig = FIGURES / f"ch04-ablation-{slug(label)}.png"
        _save_grid(grid, fig, f"{label}: input | output | target")
        rows.append(
            {
                "variant": label,
                "overrides": VARIANTS[label],
                "command": ckpt["command"],
                "steps": ckpt["step"],
                "wall_time_s": round(float(ckpt["wall_time_s"]), 1),
                "hardware": ckpt["hardware"],
                "l1": round(on["l1"], 4),
                "psnr": round(on["psnr"], 2),
                "ssim": round(on["ssim"], 4),
                "l1_dropout_off": round(off["l1"], 4),
                "ssim_dropout_off": round(off["ssim"], 4),
                "l1_check": round(float(check["l1"]), 4),
                "fid": round(fid, 2),
                "judge_accuracy": round(acc, 4),
                "samples": str(fig.relative_to(ROOT)),
            }
        )
        print(
            f"{label:34s} L1 {on['l1']:.3f} SSIM {on['ssim']:.3f} FID {fid:7.2f} "
            f"acc {acc:.3f}"
        )
    return {
        "what": f"Pix2Pix ablations on edges2footwear (32 px), the preset {PRESET} "
        "with one change each, equal steps; scored on the 3,000 test pairs: L1, "
        "PSNR (dB), SSIM against the true images (dropout on unless noted), domain "
        "FID in LeNet-Fashion features (28x28 centre) against the true test images, "
        "and the judge's accuracy for the true class",
        "steps": steps,
        "test_pairs": len(x),
        "floor": {
            "fid_train_vs_test": round(floor_fid, 2),
            "judge_accuracy_test": round(test_acc, 4),
            "judge_accuracy_train": round(floor_acc, 4),
        },
        "concurrency": "one torch thread per run, two runs at a time, on a machine "
        "shared with other work",
        "elapsed_s": elapsed,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "command": f"python tools/pix2pix_ablations.py --steps {steps}",
        "rows": rows,
    }


def _save_grid(grid, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 8 * grid.shape[0] / grid.shape[1] + 0.5))
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--runs", default="runs/ch04-ablations")
    p.add_argument("--only", action="append", choices=list(VARIANTS))
    p.add_argument("--collect", action="store_true")
    args = p.parse_args(argv)
    runs = Path(args.runs)
    elapsed = None
    if not args.collect:
        elapsed = train(args.only or list(VARIANTS), args.steps, runs, args.jobs)
    record = collect(runs, args.steps, elapsed)
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {RECORD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
