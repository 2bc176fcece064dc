"""Train the generators shipped in ``gancourse/pretrained`` with the CLI, then export.

Usage: ``python tools/train_pretrained.py [NAME ...] [--runs DIR]``

Each entry below is the exact command; ``gancourse export`` records it together
with the steps, data (and whether it was the offline MNIST subset), hardware and
wall time in ``gancourse/pretrained/<name>.json``, which the book displays.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

# name -> arguments of `gancourse train` (besides --out)
SHIPPED = {
    "vanilla-mnist": ["--preset", "vanilla-mnist", "--set", "train.steps=10000"],
    "dcgan-mnist": ["--preset", "dcgan-mnist", "--set", "train.steps=1500"],
    # Chapter 2, trained on a 2-core CPU: half the preset's widths (32 base
    # channels instead of 64) so that 2,000 generator steps (10,000 critic steps)
    # fit in well under an hour; the domain FID is logged every 100 steps.
    **{
        name: [
            "--preset",
            name,
            "--set",
            "train.steps=2000",
            "--set",
            "model.g_width=32",
            "--set",
            "model.d_width=32",
            "--set",
            "train.eval_every=100",
        ]
        for name in ("wgangp-mnist", "wgangp-fashion")
    },
    # Chapter 3, short CPU runs: 2,000 of the presets' 5,000 steps at the presets'
    # widths on the full Fashion-MNIST training set (60,000 images), so that the
    # three models and the chapter's recorded measurements fit in about two
    # CPU-hours on the 2-core machine.
    **{
        name: ["--preset", name, "--set", "train.steps=2000"]
        for name in ("cgan-fashion", "projgan-fashion", "acgan-fashion")
    },
    # Chapter 4: the preset as it is (3,000 steps, the rate decayed from step
    # 1,500), edges -> footwear at 32 px, one torch thread.
    "pix2pix-edges2footwear": ["--preset", "pix2pix-edges2footwear"],
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", default=list(SHIPPED))
    p.add_argument("--runs", default="runs/shipped")
    args = p.parse_args(argv)
    gancourse = [sys.executable, "-m", "gancourse"]
    for name in args.names:
        out = Path(args.runs) / name
        subprocess.run(
            [
                *gancourse,
                "train",
                *SHIPPED[name],
                "--out",
                str(out),
                "--overwrite",
                "--no-progress",
            ],
            check=True,
        )
        subprocess.run(
            [*gancourse, "export", "--ckpt", str(out / "last.pt"), "--name", name],
            check=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
