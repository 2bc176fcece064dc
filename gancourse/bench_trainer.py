"""``gancourse bench trainer``: what the Trainer costs over a bare training loop.

Both sides train ``dcgan-mnist`` at full width (batch 64) in one process on the
same networks, built the same way and from the same seed, with the same Adam
settings, losses (:func:`~gancourse.losses.d_minimax`,
:func:`~gancourse.losses.g_nonsaturating`), in-memory uint8 images normalised
per batch, data order, fresh ``z`` per phase and number of D and G updates; they
compute the same numbers (``tests/test_bench_trainer.py`` checks that the
weights agree bit for bit). The difference is everything the Trainer adds:
phases as data, ``requires_grad`` per phase, keyed noise, micro-batch and
all-reduce plumbing, detached statistics, the NaN guard, logging.

The Trainer runs as users run it: its default bookkeeping (a log record every
25 steps, a fixed-input sample grid at the start and the end, a progress bar
object, disabled) but no run folder, so nothing is written to disk; the bare
loop logs nothing. Timed: the Trainer's ``fit`` and the bare loop's steps (the
construction of networks, optimisers and data is not). Warm-up runs of each
first, then ``repeats`` alternating runs (the order flips every repeat, so a
drift of the machine's speed hits both); the figure is the ratio of medians of
the wall times. The ratio of CPU times is printed too: on a machine shared with
other work it is the steadier of the two.

A benchmark, not a test: the target is at most 3% on the CPU.
"""

from __future__ import annotations

import datetime
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from gancourse.config import Config

__all__ = ["bench_trainer", "bare_loop", "bench_config", "synthetic_images"]

TARGET_PCT = 3.0
CLOCKS = ("wall", "cpu")


def bench_config(fast: bool = False, device: str = "cpu") -> Config:
    """``dcgan-mnist`` (or its fast copy) on ``device``; no evaluation."""
    from gancourse.config import get_preset

    cfg = get_preset("dcgan-mnist", fast=fast)
    return cfg.override({"train.device": device, "train.eval_every": 0})


def synthetic_images(n: int = 2048, seed: int = 0) -> torch.Tensor:
    """``(n, 1, 28, 28)`` uint8 images (MNIST-like storage), fixed by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Clock:
    """Wall time and this process's CPU time since it was made (after a sync).

    CPU time is the steadier figure on a shared machine: time spent waiting for
    a core that another program holds counts in the wall time only.
    """

    def __init__(self, device: torch.device):
        self.device = device
        _sync(device)
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> dict[str, float]:
        _sync(self.device)
        return {
            "wall": time.perf_counter() - self.wall,
            "cpu": time.process_time() - self.cpu,
        }


def bare_loop(
    cfg: Config, data: torch.Tensor, steps: int
) -> tuple[dict[str, torch.nn.Module], dict[str, float]]:
    """Train ``cfg``'s G and D for ``steps`` steps by hand; return the networks
    and the seconds the steps took (``{"wall": ..., "cpu": ...}``).

    One step is the vanilla GAN's: ``method.n_d_steps`` D updates, each on the
    next batch of the data order and fresh ``z``, with G frozen; then one G update
    on fresh ``z`` with D frozen. The seed, the order of random draws and the data
    order (a permutation per epoch from ``seed * 1_000_003 + epoch``, ragged end
    dropped) are the Trainer's, so both compute the same numbers.
    """
    from gancourse.losses import d_minimax, g_nonsaturating
    from gancourse.models import build_discriminator, build_generator

    if cfg.method.name != "vanilla" or cfg.method.g_loss != "nonsaturating":
        raise ValueError("the bare loop is the vanilla GAN with the non-saturating G")
    t = cfg.train
    device = torch.device(t.device)
    B, seed = cfg.data.batch_size, t.seed
    torch.manual_seed(seed)
    shape = tuple(data.shape[1:])
    G = build_generator(cfg.model, shape).to(device)
    D = build_discriminator(cfg.model, shape).to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=t.lr_g, betas=tuple(t.betas))
    opt_d = torch.optim.Adam(D.parameters(), lr=t.lr_d, betas=tuple(t.betas))
    data = data.to(device)
    n, epoch, cursor = len(data), 0, 0
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003))

    clock = _Clock(device)
    for _ in range(steps):
        G.train(), D.train()
        G.requires_grad_(False), D.requires_grad_(True)
        for _ in range(cfg.method.n_d_steps):
            if cursor + B > n:
                epoch, cursor = epoch + 1, 0
                g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
                order = torch.randperm(n, generator=g)
            idx = order[cursor : cursor + B].to(device)
            cursor += B
            x_real = data[idx].float().div_(127.5).sub_(1.0)  # uint8 -> [-1, 1]
            opt_d.zero_grad(set_to_none=True)
            x_fake = G(torch.randn(B, G.z_dim, device=device))
            d_loss = d_minimax(D(x_real), D(x_fake))
            d_loss.backward()
            opt_d.step()
        G.requires_grad_(True), D.requires_grad_(False)
        opt_g.zero_grad(set_to_none=True)
        g_loss = g_nonsaturating(D(G(torch.randn(B, G.z_dim, device=device))))
        g_loss.backward()
        opt_g.step()
    return {"G": G, "D": D}, clock.read()


def _grid_seconds(cfg: Config, data: torch.Tensor, repeats: int = 3):
    """Median seconds of one fixed-input sample grid (``n_samples`` through G)."""
    from gancourse.train import Trainer

    trainer = Trainer(cfg, None, data=data, progress=False, command="bench")
    times = []
    for _ in range(repeats):
        clock = _Clock(trainer.device)
        trainer.generate(trainer.fixed_inputs)
        times.append(clock.read())
    return {c: statistics.median(t[c] for t in times) for c in CLOCKS}


def _trainer_run(cfg: Config, data: torch.Tensor, steps: int):
    """The Trainer as users run it, without a run folder; the seconds of ``fit``."""
    from gancourse.train import Trainer

    trainer = Trainer(cfg, None, data=data, progress=False, command="bench")
    clock = _Clock(trainer.device)
    trainer.fit(steps)
    return trainer, clock.read()


def bench_trainer(
    steps: int = 30,
    repeats: int = 5,
    warmup: int = 1,
    threads: int | None = 1,
    fast: bool = False,
    device: str = "cpu",
    record: str | None = None,
) -> dict[str, Any]:
    """Run the benchmark, print a table and return the result (also written to
    ``record`` as JSON when given).

    Args:
        steps: training steps per timed run.
        repeats: timed runs of each side (the medians are compared).
        warmup: untimed runs of each side first (allocator, caches, lazy imports).
        threads: ``torch.set_num_threads`` for the whole benchmark (``None``:
            leave it).
        fast: the fast preset (tiny widths): for tests, not a figure to report.
        device: ``"cpu"`` or ``"cuda"``.
    """
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _bench(steps, repeats, warmup, fast, device, record)
    finally:
        torch.set_num_threads(before)


def _bench(
    steps: int, repeats: int, warmup: int, fast: bool, device: str, record: str | None
) -> dict[str, Any]:
    cfg = bench_config(fast, device)
    data = synthetic_images()
    sides = ("trainer", "bare")
    times = {c: {side: [] for side in sides} for c in CLOCKS}

    def run(side: str) -> dict[str, float]:
        if side == "trainer":
            return _trainer_run(cfg, data, steps)[1]
        return bare_loop(cfg, data, steps)[1]

    for _ in range(warmup):
        run("trainer"), run("bare")
    for r in range(repeats):
        for side in sides if r % 2 == 0 else sides[::-1]:
            for c, t in run(side).items():
                times[c][side].append(t)

    grid = _grid_seconds(cfg, data)
    dev = torch.device(device)
    hw = (
        torch.cuda.get_device_name(dev)
        if dev.type == "cuda"
        else f"CPU {platform.processor() or platform.machine()}"
    )
    result: dict[str, Any] = {
        "command": (
            f"gancourse bench trainer --steps {steps} --repeats {repeats} "
            f"--warmup {warmup} --threads {torch.get_num_threads()}"
            + (" --fast" if fast else "")
            + (f" --device {device}" if device != "cpu" else "")
        ),
        "preset": cfg.name,
        "batch": cfg.data.batch_size,
        "steps": steps,
        "repeats": repeats,
        "warmup": warmup,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "hardware": hw,
        "python": platform.python_version(),
        "date": datetime.date.today().isoformat(),
        "trainer_logging": f"log_every={cfg.train.log_every}, sample grids at the "
        "start and the end, no run folder",
        "target_pct": TARGET_PCT,
    }
    for c in CLOCKS:
        med = {side: statistics.median(ts) for side, ts in times[c].items()}
        ratios = [a / b for a, b in zip(times[c]["trainer"], times[c]["bare"])]
        result[c] = {
            "seconds": {
                side: [round(t, 6) for t in ts] for side, ts in times[c].items()
            },
            "median_s": {side: round(m, 6) for side, m in med.items()},
            "ms_per_step": {
                side: round(1000 * m / steps, 2) for side, m in med.items()
            },
            "overhead_pct": round(100.0 * (med["trainer"] / med["bare"] - 1.0), 2),
            # each repeat's two runs are neighbours in time: the median of their
            # ratios is blind to slow changes in the machine's load
            "paired_overhead_pct": round(100.0 * (statistics.median(ratios) - 1.0), 2),
        }
    result["overhead_pct"] = result["wall"]["overhead_pct"]
    # the two grids of every fit (its start and end) are a fixed cost per run that
    # a real run spreads over train.sample_every steps
    result["sample_grid_s"] = {c: round(grid[c], 6) for c in CLOCKS}
    result["grids_share_pct"] = {
        c: round(100.0 * 2 * grid[c] / result[c]["median_s"]["bare"], 2) for c in CLOCKS
    }
    _print(result)
    if record:
        Path(record).write_text(json.dumps(result, indent=1) + "\n")
    return result


def _print(r: dict[str, Any]) -> None:
    print(
        f"# {r['preset']}, batch {r['batch']}, {r['steps']} steps x {r['repeats']} "
        f"alternating runs (+{r['warmup']} warm-up); {r['hardware']}, "
        f"{r['threads']} thread(s), torch {r['torch']}"
    )
    print(f"# Trainer: {r['trainer_logging']}; bare loop: no logging")
    head = ("median s", "ms/step", "min s", "max s", "overhead", "paired")
    print(f"{'':<20}" + "".join(f"{h:>10}" for h in head))
    for c, clock in (("wall", "wall"), ("cpu", "CPU")):
        for side, label in (("trainer", "Trainer"), ("bare", "bare loop")):
            ts = r[c]["seconds"][side]
            extra = (
                f"{r[c]['overhead_pct']:>+9.2f}%{r[c]['paired_overhead_pct']:>+9.2f}%"
                if side == "trainer"
                else ""
            )
            print(
                f"{label + ', ' + clock + ' time':<20}{r[c]['median_s'][side]:>10.3f}"
                f"{r[c]['ms_per_step'][side]:>10.2f}{min(ts):>10.3f}{max(ts):>10.3f}"
                + extra
            )
    print(
        "# overhead: median over median; paired: median of the ratios of each "
        "repeat's two runs. Of it, the Trainer's two sample grids per run: "
        f"{r['grids_share_pct']['wall']:.2f}% wall, "
        f"{r['grids_share_pct']['cpu']:.2f}% CPU "
        f"({1000 * r['sample_grid_s']['cpu']:.0f} ms CPU each)"
    )
    verdict = "within" if r["overhead_pct"] <= r["target_pct"] else "above"
    print(
        f"overhead of the Trainer: {r['overhead_pct']:+.2f}% wall time (median over "
        f"median; {verdict} the {r['target_pct']:g}% target), "
        f"{r['cpu']['overhead_pct']:+.2f}% CPU time"
    )
