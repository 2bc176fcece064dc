"""The ``gancourse`` command.

::

    gancourse train --preset dcgan-mnist [--set train.steps=20000 ...] --out runs/x
    gancourse train --resume runs/x/last.pt [--steps 30000]
    gancourse sample --ckpt runs/x/last.pt --n 64 --out grid.png [--split test]
    gancourse export --ckpt runs/x/last.pt --name dcgan-mnist --dest DIR
    gancourse data prepare [--offline] [--root DIR]
    gancourse presets
    gancourse bench fid | trainer [--steps 30 --repeats 5] [--record JSON]
    gancourse progress
    gancourse grade SUBMISSION.ipynb [...] --out grades.csv

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
        if args.preset or args.fast:
            raise UsageError(
                "--resume continues a run with its own config: drop --preset / "
                "--fast (change safe settings with --set, e.g. train.steps=N)"
            )
        if args.out:
            last = Path(args.out) / "last.pt"
            if (
                last.exists()
                and Path(args.out).resolve() != Path(args.resume).parent.resolve()
                and not args.overwrite
            ):
                raise UsageError(
                    f"{args.out} already holds a checkpoint; pick another --out "
                    "(--overwrite replaces it)"
                )
        trainer = Trainer.resume(
            args.resume,
            out_dir=args.out,
            overrides=args.set or [],
            device=args.device,
            progress=not args.no_progress,
            command=command,
        )
        steps = args.steps or trainer.cfg.train.steps
        if trainer.world.is_main:
            print(
                f"resuming {trainer.cfg.name} at step {trainer.step} of {steps} "
                f"-> {trainer.out_dir}"
            )
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
        if trainer.world.is_main:
            print(
                f"training {cfg.name} for {steps} steps on {trainer.device}"
                + (
                    f" x {trainer.world.size} processes"
                    if trainer.world.size > 1
                    else ""
                )
                + f" -> {out}"
            )
    try:
        trainer.fit(steps)
    finally:
        from gancourse.distributed import close_world

        close_world(trainer.world)
    if trainer.world.is_main:
        print(
            f"done: step {trainer.step}, {trainer.wall_time_s:.1f} s; "
            f"checkpoint {trainer.ckpt_path}"
        )
    return 0


def _load_sampler(spec: str, device: str = "cpu", ema: bool = True):
    """A run's checkpoint or a shipped model's name -> Sampler."""
    from gancourse.checkpoint import load_checkpoint
    from gancourse.pretrained import available, load_sampler, sampler_from_checkpoint

    if not Path(spec).exists() and spec in available():
        return load_sampler(spec, device)
    return sampler_from_checkpoint(load_checkpoint(spec), device=device, ema=ema)


def _run_config(spec: str):
    """The Config of a run's checkpoint or of a shipped model's record."""
    from gancourse.checkpoint import load_checkpoint
    from gancourse.config import Config
    from gancourse.pretrained import pretrained_info

    if Path(spec).exists():
        return Config.from_dict(load_checkpoint(spec)["config"])
    return Config.from_dict(pretrained_info(spec)["config"])


def _examples(spec: str, split: str | None, n: int):
    """The first ``n`` items of the run's data (``split``, default the run's),
    without random jitter or flips: the inputs of an image-to-image model."""
    from dataclasses import replace

    from gancourse.data.source import build_source

    cfg = _run_config(spec)
    data = replace(
        cfg.data, split=split or cfg.data.split, load_size=None, flip=False, limit=n
    )
    channels = getattr(cfg.model, "img_channels", None)
    return build_source(data, "cpu", channels=channels).examples(n)


def _sample(args: argparse.Namespace) -> int:
    import torch

    from gancourse.viz import save_samples

    sampler = _load_sampler(args.ckpt, ema=not args.no_ema)
    if args.mode != "method":
        sampler.train_mode = args.mode == "train"
    if sampler.method.needs_examples:
        sampler.examples = _examples(args.ckpt, args.split, args.n)
    torch.manual_seed(args.seed)  # the networks' own noise (dropout)
    if args.label is None:
        inputs = sampler.draw_inputs(args.n, torch.Generator().manual_seed(args.seed))
        x, nrow = sampler.method.grid(inputs, sampler(inputs).float().cpu())
    else:
        inputs = sampler.draw_inputs(args.n, torch.Generator().manual_seed(args.seed))
        k = getattr(sampler.method, "n_classes", 0)
        if "y" not in inputs or not k:
            raise UsageError(
                f"--label needs a class-conditional model; {args.ckpt} is not one"
            )
        if not 0 <= args.label < k:
            raise UsageError(f"--label must be in [0, {k}), got {args.label}")
        inputs["y"] = torch.full_like(inputs["y"], args.label)
        x, nrow = sampler(inputs).float().cpu(), 8
    path = save_samples(x, args.out, nrow=nrow)
    print(f"wrote {args.n} samples to {path}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from gancourse.checkpoint import (
        FORMAT,
        FORMAT_VERSION,
        load_checkpoint,
        save_atomic,
        upgrade_checkpoint,
    )
    from gancourse.pretrained import exported_states

    ckpt = upgrade_checkpoint(load_checkpoint(args.ckpt, kind="train"))
    states = exported_states(ckpt)
    weights = ", ".join(key for key, _ in states.values())
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
        **_eval_record(ckpt),
    }
    dest = Path(args.dest)
    out = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "pretrained",
        "version": __version__,
        "config": ckpt["config"],
        "sample_shape": ckpt["sample_shape"],
        "spec": ckpt.get("spec"),
        # float16 halves the file; the networks run in float32 after loading
        "nets": {
            name: {k: v.half() if v.is_floating_point() else v for k, v in st.items()}
            for name, (_, st) in states.items()
        },
        "info": info,
    }
    save_atomic(out, dest / f"{args.name}.pt")
    (dest / f"{args.name}.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"exported {args.name}: {dest / (args.name + '.pt')}")
    return 0


def _eval_record(ckpt: dict) -> dict:
    """The domain FIDs a run logged (``train.eval_every``), for the export record:
    ``{"domain_fid": {...}, "curve": [{"step", "fid", "wasserstein"?}, ...]}``,
    where ``wasserstein`` is the critic's estimate averaged over the logged
    records since the previous evaluation. Empty when the run logged none."""
    from gancourse.config import Config
    from gancourse.metrics.domain import DOMAIN_JUDGES
    from gancourse.train import EVAL_REFERENCE_MAX

    evals = ckpt.get("evals") or []
    if not evals:
        return {}
    cfg = Config.from_dict(ckpt["config"])
    curve = []
    for r in evals:
        point = {"step": r["step"], "fid": round(r["fid"], 3)}
        if "wasserstein" in r:
            point["wasserstein"] = round(r["wasserstein"], 4)
        curve.append(point)
    last = evals[-1]
    return {
        "domain_fid": {
            "fid": round(last["fid"], 3),
            "step": last["step"],
            "judge": DOMAIN_JUDGES.get(cfg.data.name),
            "n_fake": cfg.train.eval_n,
            "reference": f"{cfg.data.name} {cfg.data.split} split "
            f"(first {min(ckpt['data'].get('n', 0), EVAL_REFERENCE_MAX)} images)",
        },
        "curve": curve,
    }


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


def _real_source(spec: str, n: int | None):
    """``--real``: a ``.npz`` statistics file, a folder, or ``dataset[:split]``."""
    from gancourse.metrics import FolderImages, dataset_images, load_stats

    if spec.endswith(".npz"):
        return load_stats(spec), {"real": spec}
    if Path(spec).is_dir():
        return FolderImages(spec), {"real": spec}
    name, _, split = spec.partition(":")
    return dataset_images(spec, n), {"dataset": name, "split": split or "train"}


def _fake_source(spec: str, n: int, seed: int, device: str):
    """``--fake``: a checkpoint (run or shipped name) or a folder of images."""
    from gancourse.metrics import FolderImages, GeneratorSamples

    if Path(spec).is_dir():
        return FolderImages(spec)
    return GeneratorSamples(_load_sampler(spec, device), n, seed=seed)


def _metric_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--extractor",
        default="inception",
        choices=["inception", "lenet-mnist", "lenet-fashion"],
    )
    p.add_argument("--resize", default="tf-bilinear", choices=["tf-bilinear", "clean"])
    p.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="a local pt_inception-2015-12-05-6726825d.pth or NVIDIA TorchScript file",
    )
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--device", help="cuda / cpu (default: cuda when available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _extractor(args: argparse.Namespace):
    from gancourse.metrics import get_extractor
    from gancourse.train import resolve_device

    device = resolve_device(args.device or "auto")
    return get_extractor(
        args.extractor, args.resize, args.inception_weights, device
    ), device


def _fid(args: argparse.Namespace) -> int:
    import time

    from gancourse.metrics import feature_stats, fid_from_stats

    t0 = time.perf_counter()
    extractor, device = _extractor(args)
    progress = not args.no_progress
    real, meta = _real_source(args.real, args.n_real)
    if hasattr(real, "mu"):  # refuse a mismatch before spending time on the fakes
        for key, value in extractor.describe().items():
            if key in real.meta and real.meta[key] != value:
                raise UsageError(
                    f"{args.real} was computed with {key}={real.meta[key]!r}, not "
                    f"{value!r}; recompute it with `gancourse stats` or change --{key}"
                )
    else:
        real = feature_stats(
            real, extractor, args.n_real, args.batch_size, progress, **meta
        )
    fake = _fake_source(args.fake, args.n, args.seed, str(device))
    fake_stats = feature_stats(fake, extractor, args.n, args.batch_size, progress)
    value = fid_from_stats(real, fake_stats)
    result = {
        "fid": round(value, 4),
        "n_real": real.n,
        "n_fake": fake_stats.n,
        "extractor": extractor.name,
        "resize": extractor.resize or "none",
        "real": args.real,
        "fake": args.fake,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"FID {value:.3f}  (real {args.real}: N={real.n}; fake {args.fake}: "
            f"N={fake_stats.n}; extractor {result['extractor']}, resize "
            f"{result['resize']}; {result['seconds']} s)"
        )
    return 0


def _stats(args: argparse.Namespace) -> int:
    from gancourse.metrics import feature_stats, save_stats
    from gancourse.metrics.stats import stats_key

    extractor, _ = _extractor(args)
    source, meta = _real_source(args.real, args.n)
    if hasattr(source, "mu"):
        raise UsageError("--real is already a statistics file")
    stats = feature_stats(
        source, extractor, args.n, args.batch_size, not args.no_progress, **meta
    )
    if args.out:
        out = Path(args.out)
    else:
        from gancourse.data import data_root

        key = stats_key(
            meta.get("dataset", Path(args.real).name),
            meta.get("split", "all"),
            extractor.resize or "none",
            extractor.name,
        )
        out = data_root() / "stats" / f"{key}.npz"
    path = save_stats(stats, out)
    print(f"wrote statistics of {stats.n} images ({extractor.name}) to {path}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    if args.what == "trainer":
        from gancourse.bench_trainer import bench_trainer

        if args.steps < 1 or args.repeats < 1:
            raise UsageError("--steps and --repeats must be at least 1")
        bench_trainer(
            steps=args.steps,
            repeats=args.repeats,
            warmup=args.warmup,
            threads=args.threads or None,
            fast=args.fast,
            device=args.device,
            record=args.record,
        )
        return 0
    from gancourse.metrics.bench import bench_fid

    bench_fid(
        n=args.n,
        dim=args.dim,
        extraction=not args.no_extraction,
        record=args.record,
    )
    return 0


def _progress(args: argparse.Namespace) -> int:
    from gancourse.homework import tracking

    path = tracking.progress_path()
    rows = tracking.chapter_progress(tracking.load_progress(path))
    print(tracking.format_progress(rows, path))
    return 0


def _grade(args: argparse.Namespace) -> int:
    import nbformat

    from gancourse.homework import EXERCISES, PREDICTIONS
    from gancourse.homework import grade as grading

    for name in ("timeout", "cell_timeout", "check_timeout"):
        if not getattr(args, name) > 0:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive number")
    chapters = sorted({eid.split(".", 1)[0] for eid in [*EXERCISES, *PREDICTIONS]})
    for chapter in args.chapter or []:
        if chapter not in chapters:
            raise UsageError(
                f"unknown chapter {chapter!r}; chapters with exercises: "
                f"{', '.join(chapters)}"
            )
    for sub in args.submissions:
        path = Path(sub)
        if not path.is_file():
            raise UsageError(f"{sub}: no such file")
        if path.suffix != ".ipynb":
            raise UsageError(f"{sub}: not a notebook (expected a .ipynb file)")
        try:
            nbformat.read(str(path), as_version=4)
        except Exception as exc:  # NotJSONError, validation, decoding
            detail = " ".join(str(exc).split())[:120]
            raise UsageError(f"{sub}: not a readable notebook ({detail})") from None
    print(f"warning: {grading.UNTRUSTED_WARNING}", file=sys.stderr, flush=True)
    # A plain SIGTERM (e.g. from `timeout`) would skip the clean-up that stops the
    # kernel and the checking process; exit through Python's instead.
    import signal

    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        subs = grading.grade(
            args.submissions,
            timeout=args.timeout,
            cell_timeout=args.cell_timeout,
            check_timeout=args.check_timeout,
            chapters=args.chapter,
            echo=True,
        )
    except KeyboardInterrupt:
        print("gancourse grade: interrupted; nothing written", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    n_rows = sum(len(s.exercise_rows) for s in subs)
    n_pass = sum(s.score for s in subs)
    questions = [r for s in subs for r in s.prediction_rows]
    made = sum(r.verdict == "predicted" for r in questions)
    extra = f", {made}/{len(questions)} predictions made" if questions else ""
    print(f"graded {len(subs)} notebook(s): {n_pass}/{n_rows} exercises passed{extra}")
    if args.out:
        path = grading.write_csv(subs, args.out)
        print(f"wrote {path}")
    return 0


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
    s.add_argument(
        "--label",
        type=int,
        default=None,
        help="class-conditional models: draw every sample of this class "
        "(default: one class per column)",
    )
    s.add_argument(
        "--split",
        default=None,
        help="image-to-image models: the split of the run's data whose first --n "
        "inputs are translated (default: the run's own, e.g. train; use test or "
        "val for held-out inputs)",
    )
    s.add_argument(
        "--mode",
        choices=["method", "train", "eval"],
        default="method",
        help="networks in training mode (dropout on, batch statistics) or eval "
        "mode; default: the method's choice (Pix2Pix: train, as in the paper)",
    )
    s.set_defaults(fn=_sample)

    e = sub.add_parser("export", help="write a run's G as a shipped pretrained model")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--name", required=True)
    e.add_argument("--dest", default=str(Path(__file__).parent / "pretrained"))
    e.set_defaults(fn=_export)

    pr = sub.add_parser("presets", help="list the named presets")
    pr.set_defaults(fn=_presets)

    pg = sub.add_parser(
        "progress", help="your homework progress per chapter (done, tried, not started)"
    )
    pg.set_defaults(fn=_progress)

    gr = sub.add_parser(
        "grade",
        help="grade learners' exercise notebooks (runs their code!)",
        description="Run each submitted exercise notebook in fast mode in a fresh "
        "kernel, take the answer functions out of that run and re-check them in a "
        "clean process; print a table and optionally write a CSV. WARNING: this "
        "runs the submitted code with your permissions; grade untrusted work inside "
        "a container or a virtual machine. See book/homework.md.",
    )
    gr.add_argument("submissions", nargs="+", metavar="SUBMISSION.ipynb")
    gr.add_argument("--out", metavar="CSV", help="also write the verdicts to a CSV")
    gr.add_argument(
        "--chapter",
        action="append",
        metavar="chNN",
        help="grade on this chapter's exercises (repeatable; default: the chapters "
        "whose exercise ids the notebook mentions)",
    )
    gr.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds for a whole notebook run; later cells are skipped "
        "(default %(default)g)",
    )
    gr.add_argument(
        "--cell-timeout",
        type=float,
        default=300.0,
        help="seconds per cell; a slower cell is interrupted (default %(default)g)",
    )
    gr.add_argument(
        "--check-timeout",
        type=float,
        default=60.0,
        help="seconds per exercise for the re-check (default %(default)g)",
    )
    gr.set_defaults(fn=_grade)

    d = sub.add_parser(
        "data", help="datasets: `gancourse data prepare [--offline]`", add_help=False
    )
    d.add_argument("rest", nargs=argparse.REMAINDER)
    d.set_defaults(fn=_data)

    f = sub.add_parser("fid", help="FID between real images and a generator")
    f.add_argument(
        "--real",
        required=True,
        help="dataset[:split] (e.g. mnist:test), a folder of images, or a stats .npz",
    )
    f.add_argument(
        "--fake",
        required=True,
        help="a checkpoint, a shipped name (dcgan-mnist) or a folder of images",
    )
    f.add_argument("--n", type=int, default=50_000, help="generated samples")
    f.add_argument("--n-real", type=int, help="real images (default: all)")
    f.add_argument("--seed", type=int, default=0, help="seed of the latent codes")
    f.add_argument("--json", action="store_true", help="print one JSON line")
    _metric_options(f)
    f.set_defaults(fn=_fid)

    st = sub.add_parser("stats", help="precompute reference statistics (.npz)")
    st.add_argument("--real", required=True, help="dataset[:split] or a folder")
    st.add_argument("--n", type=int, help="images to use (default: all)")
    st.add_argument("--out", help="output .npz (default: <data>/stats/<key>.npz)")
    _metric_options(st)
    st.set_defaults(fn=_stats)

    b = sub.add_parser(
        "bench", help="benchmarks: `gancourse bench fid`, `gancourse bench trainer`"
    )
    b.add_argument("what", choices=["fid", "trainer"])
    b.add_argument("--record", metavar="JSON", help="also write the result to a file")
    bf = b.add_argument_group("fid")
    bf.add_argument("--n", type=int, default=10_000, help="samples per covariance")
    bf.add_argument("--dim", type=int, default=2048)
    bf.add_argument("--no-extraction", action="store_true")
    bt = b.add_argument_group("trainer (dcgan-mnist, batch 64, against a bare loop)")
    bt.add_argument("--steps", type=int, default=30, help="steps per timed run")
    bt.add_argument("--repeats", type=int, default=5, help="timed runs of each")
    bt.add_argument("--warmup", type=int, default=1, help="untimed runs of each")
    bt.add_argument(
        "--threads", type=int, default=1, help="torch threads (0: leave as is)"
    )
    bt.add_argument("--device", default="cpu", help="cpu or cuda")
    bt.add_argument(
        "--fast", action="store_true", help="the fast preset (tiny widths; for tests)"
    )
    b.set_defaults(fn=_bench)
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
    if args.cmd in ("fid", "stats"):
        from gancourse.metrics import MetricInputError
        from gancourse.metrics.inception_weights import WeightsNotFoundError

        known = (*known, MetricInputError, WeightsNotFoundError, FileNotFoundError)
    try:
        return args.fn(args)
    except known as e:
        print(f"gancourse {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
