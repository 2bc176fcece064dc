"""The ``gancourse`` command.

::

    gancourse train --preset dcgan-mnist [--set train.steps=20000 ...] --out runs/x
    gancourse train --resume runs/x/last.pt [--steps 30000]
    gancourse sample --ckpt runs/x/last.pt --n 64 --out grid.png
    gancourse export --ckpt runs/x/last.pt --name dcgan-mnist --dest DIR
    gancourse data prepare [--offline] [--root DIR]
    gancourse presets

Errors a user can cause (unknown preset or key, missing data, a bad checkpoint)
print one clear line and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from gancourse import __version__


def _train(args: argparse.Namespace) -> int:
    from gancourse.checkpoint import load_checkpoint
    from gancourse.config import get_preset
    from gancourse.train import Trainer

    command = "gancourse " + " ".join(shlex.quote(a) for a in args.argv)
    if args.resume:
        trainer = Trainer.resume(
            args.resume, device=args.device, progress=not args.no_progress
        )
        steps = args.steps or trainer.cfg.train.steps
        print(f"resuming {trainer.cfg.name} at step {trainer.step} of {steps}")
    else:
        if not args.preset:
            raise UsageError("give --preset NAME (see `gancourse presets`) or --resume")
        fast = True if args.fast else None
        cfg = get_preset(args.preset, fast=fast).override(args.set or [])
        out = Path(args.out or f"runs/{cfg.name}")
        last = out / "last.pt"
        if last.exists() and not args.overwrite:
            step = load_checkpoint(last).get("step", "?")
            raise UsageError(
                f"{out} already holds a checkpoint (step {step}); continue it with "
                f"`gancourse train --resume {last}` or pick another --out "
                "(--overwrite replaces it)"
            )
        trainer = Trainer(
            cfg, out, device=args.device, progress=not args.no_progress, command=command
        )
        steps = args.steps or cfg.train.steps
        print(f"training {cfg.name} for {steps} steps on {trainer.device} -> {out}")
    trainer.fit(steps)
    print(
        f"done: step {trainer.step}, {trainer.wall_time_s:.1f} s; "
        f"checkpoint {trainer.ckpt_path}"
    )
    return 0


def _sample(args: argparse.Namespace) -> int:
    import torch

    from gancourse.checkpoint import load_checkpoint
    from gancourse.pretrained import (
        available,
        generator_from_checkpoint,
        load_pretrained,
    )
    from gancourse.viz import save_samples

    if not Path(args.ckpt).exists() and args.ckpt in available():
        G, _ = load_pretrained(args.ckpt)
    else:
        G = generator_from_checkpoint(load_checkpoint(args.ckpt), ema=not args.no_ema)
    g = torch.Generator().manual_seed(args.seed)
    z = torch.randn(args.n, G.z_dim, generator=g)
    with torch.no_grad():
        x = G(z)
    path = save_samples(x, args.out)
    print(f"wrote {args.n} samples to {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from gancourse.checkpoint import (
        FORMAT,
        FORMAT_VERSION,
        load_checkpoint,
        save_atomic,
    )
    from gancourse.pretrained import generator_state

    ckpt = load_checkpoint(args.ckpt, kind="train")
    weights, state = generator_state(ckpt)
    info = {
        "name": args.name,
        "command": ckpt.get("command"),
        "steps": ckpt["step"],
        "data": ckpt.get("data"),
        "hardware": ckpt.get("hardware"),
        "wall_time_s": round(float(ckpt.get("wall_time_s", 0.0)), 1),
        "version": ckpt.get("version"),
        "config": ckpt["config"],
        "weights": weights,
    }
    dest = Path(args.dest)
    out = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "pretrained",
        "version": __version__,
        "config": ckpt["config"],
        "sample_shape": ckpt["sample_shape"],
        # float16 halves the file; G runs in float32 after loading
        "G": {k: v.half() if v.is_floating_point() else v for k, v in state.items()},
        "info": info,
    }
    save_atomic(out, dest / f"{args.name}.pt")
    (dest / f"{args.name}.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"exported {args.name}: {dest / (args.name + '.pt')}")
    return 0


def _presets(args: argparse.Namespace) -> int:
    from gancourse.config import PRESETS

    for name, cfg in sorted(PRESETS.items()):
        print(
            f"{name:16s} {cfg.method.name:8s} {cfg.model.arch:6s} on {cfg.data.name}, "
            f"{cfg.train.steps} steps"
        )
    return 0


def _data(args: argparse.Namespace) -> int:
    from gancourse.data.prepare import prepare_main

    if not args.rest or args.rest[0] != "prepare":
        raise UsageError(
            "usage: gancourse data prepare [--offline] [--root DIR] "
            "(see `gancourse data prepare --help`)"
        )
    return prepare_main(args.rest[1:])


class UsageError(Exception):
    """A mistake on the command line: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gancourse", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"gancourse {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a preset (or resume a run)")
    t.add_argument("--preset", help="preset name, see `gancourse presets`")
    t.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config field, e.g. train.steps=20000 (repeatable)",
    )
    t.add_argument("--out", help="run folder (default runs/<preset>)")
    t.add_argument("--resume", metavar="CKPT", help="continue from a last.pt")
    t.add_argument("--steps", type=int, help="train until this step")
    t.add_argument(
        "--fast",
        action="store_true",
        help="the preset's tiny copy (also with GANCOURSE_FAST=1)",
    )
    t.add_argument("--device", help="cuda / mps / cpu (default: auto)")
    t.add_argument(
        "--overwrite", action="store_true", help="replace a checkpoint already in --out"
    )
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.set_defaults(fn=_train)

    s = sub.add_parser("sample", help="draw a sample grid from a checkpoint")
    s.add_argument(
        "--ckpt",
        required=True,
        help="a run's last.pt, or a shipped name such as dcgan-mnist",
    )
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", default="samples.png")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--no-ema", action="store_true", help="use G, not its EMA copy")
    s.set_defaults(fn=_sample)

    e = sub.add_parser("export", help="write a run's G as a shipped pretrained model")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--name", required=True)
    e.add_argument("--dest", default=str(Path(__file__).parent / "pretrained"))
    e.set_defaults(fn=_export)

    pr = sub.add_parser("presets", help="list the named presets")
    pr.set_defaults(fn=_presets)

    d = sub.add_parser(
        "data", help="datasets: `gancourse data prepare [--offline]`", add_help=False
    )
    d.add_argument("rest", nargs=argparse.REMAINDER)
    d.set_defaults(fn=_data)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    from gancourse.checkpoint import CheckpointError
    from gancourse.config import ConfigError
    from gancourse.train import TrainingDiverged

    known: tuple[type[BaseException], ...] = (
        UsageError,
        ConfigError,
        CheckpointError,
        TrainingDiverged,
    )
    try:
        from gancourse.data import DataNotFoundError

        known = (*known, DataNotFoundError)
    except ImportError:  # pragma: no cover
        pass
    try:
        return args.fn(args)
    except known as e:
        print(f"gancourse {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
