"""Seed sweeps on the ring of 8 Gaussians: GAN versus WGAN-GP, mode coverage over time.

Usage::

    python tools/ring_comparison.py                # chapter 2's ring presets
    python tools/ring_comparison.py --collapse     # the settings that collapse

The first trains ``vanilla-ring8`` and ``wgangp-ring8`` (seeds 0 1, 3,000 steps) and
writes ``gancourse/metrics/records/ch02-ring.json``; the second trains
``vanilla-ring8-collapse`` and ``wgangp-ring8-collapse`` (seeds 0-4, the presets'
2,000 steps) and writes ``ring-collapse.json`` there. Both train on the CPU with one
thread and, every ``--every`` steps, draw 2,500 fresh samples and measure them with
:func:`gancourse.data.mode_coverage`: a sample is high quality within 3 standard
deviations (0.06) of its nearest mode's mean; a mode is covered by at least 20 of
them (PacGAN's threshold; ``modes_any`` counts modes with at least one, VEEGAN's
rule). For the first seed each run's fixed-noise samples at four steps are drawn to
``book/figures/<record>-<preset>.png``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "gancourse" / "metrics" / "records"
FIGURES = ROOT / "book" / "figures"
N_EVAL = 2500  # samples per measurement, as in VEEGAN and PacGAN
MIN_COUNT = 20  # high-quality samples (of 2,500) a covered mode needs (PacGAN)
EXPERIMENTS = {
    "ch02-ring": {
        "presets": ("vanilla-ring8", "wgangp-ring8"),
        "seeds": (0, 1),
        "steps": 3000,
        "what": "mode coverage on the ring of 8 Gaussians (Metz et al. 2017): "
        "vanilla GAN vs WGAN-GP, same MLPs (width 128, z 2), batch 256, lr 1e-3",
    },
    "ring-collapse": {
        "presets": ("vanilla-ring8-collapse", "wgangp-ring8-collapse"),
        "seeds": (0, 1, 2, 3, 4),
        "steps": None,  # the presets' own
        "what": "mode collapse on the ring of 8 Gaussians: vanilla GAN with a "
        "discriminator trained 5 steps per G step (z 256, batch 128, lr 1e-3) vs "
        "WGAN-GP with the same networks, data, batch, steps and critic steps",
    },
}


def figure(run, ring, path: Path) -> None:
    from gancourse.viz import _file_figure, plot_points

    shown = run.samples[1:][:: max(1, len(run.samples) // 4)][-4:]
    fig = _file_figure((12, 3))
    for k, (step, pts) in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), k + 1)
        plot_points(pts[:1000], reference=ring.data[:2000], ax=ax, title=f"step {step}")
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle(f"{run.cfg.name}, seed {run.cfg.train.seed}")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def measure(points: torch.Tensor, ring) -> dict:
    from gancourse.data import mode_coverage

    cov = mode_coverage(points, ring.centers, std=ring.std, min_count=MIN_COUNT)
    return {
        "modes": cov.modes,
        "modes_any": sum(c > 0 for c in cov.counts),
        "high_quality": round(cov.high_quality, 4),
        "counts": cov.counts,
    }


def sweep(name: str, seed: int, steps: int | None, every: int, ring) -> tuple:
    """Train one preset for one seed, measuring 2,500 fresh samples every ``every``
    steps. Measuring neither draws from nor changes the training's random state."""
    from gancourse.config import get_preset
    from gancourse.train import Trainer

    cfg = get_preset(name, fast=False)
    cfg = cfg.override(
        {
            "train.steps": steps or cfg.train.steps,
            "train.seed": seed,
            "train.sample_every": every,
            "train.log_every": every,
        }
    )
    run = Trainer(cfg, device="cpu", progress=False, command="")
    g = torch.Generator().manual_seed(10_000 + seed)  # the fresh z, run after run
    over_time = []
    for target in range(every, cfg.train.steps + 1, every):
        run.fit(target)
        z = torch.randn(N_EVAL, cfg.model.z_dim, generator=g)
        over_time.append({"step": run.step, **measure(run.generate(z), ring)})
    final = over_time[-1]
    row = {
        "preset": name,
        "seed": seed,
        "steps": run.step,
        "seconds": round(run.wall_time_s, 1),
        "modes_final": final["modes"],
        "modes_any_final": final["modes_any"],
        "high_quality_final": final["high_quality"],
        "counts_final": final["counts"],
        "over_time": [
            [p["step"], p["modes"], p["modes_any"], p["high_quality"]]
            for p in over_time
        ],
    }
    return row, run


def main(argv: list[str] | None = None) -> int:
    from gancourse.data import load_dataset
    from gancourse.train import hardware

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--collapse",
        action="store_true",
        help="record the collapse presets (ring-collapse.json) instead of chapter 2's",
    )
    p.add_argument("--seeds", type=int, nargs="+", help="default: the experiment's")
    p.add_argument("--steps", type=int, help="default: the experiment's")
    p.add_argument("--every", type=int, default=250, help="steps between measurements")
    args = p.parse_args(argv)
    key = "ring-collapse" if args.collapse else "ch02-ring"
    exp = EXPERIMENTS[key]
    seeds = args.seeds if args.seeds is not None else list(exp["seeds"])
    steps = args.steps if args.steps is not None else exp["steps"]
    torch.set_num_threads(1)
    ring = load_dataset("ring8", "train")
    rows, settings = [], {}
    t_all = time.perf_counter()
    for name in exp["presets"]:
        for seed in seeds:
            row, run = sweep(name, seed, steps, args.every, ring)
            rows.append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "over_time"}))
            print("  modes over time:", [m for _, m, _, _ in row["over_time"]])
            if seed == seeds[0]:
                figure(run, ring, FIGURES / f"{key}-{name}.png")
                settings[name] = run.cfg.to_dict()  # train.seed: see the rows
    command = f"python tools/ring_comparison.py{' --collapse' if args.collapse else ''}"
    if args.seeds is not None:
        command += " --seeds " + " ".join(map(str, seeds))
    if args.steps is not None:
        command += f" --steps {steps}"
    if args.every != 250:
        command += f" --every {args.every}"
    record = {
        "what": exp["what"],
        "coverage_rule": (
            f"every {args.every} steps, {N_EVAL:,} fresh samples; a sample is high "
            f"quality within 3 standard deviations ({3 * ring.std:g}) of its nearest "
            f"mode's mean (VEEGAN, PacGAN); a mode is covered by >= {MIN_COUNT} "
            "high-quality samples (PacGAN's threshold); modes_any: >= 1 (VEEGAN)"
        ),
        "over_time_columns": ["step", "modes", "modes_any", "high_quality"],
        "settings": settings,
        "rows": rows,
        "hardware": hardware(torch.device("cpu")),
        "wall_time_s": round(time.perf_counter() - t_all, 1),
        "torch": torch.__version__,
        "date": datetime.date.today().isoformat(),
        "command": command,
    }
    path = RECORDS / f"{key}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
