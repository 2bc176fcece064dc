"""The two processes of ``tests/test_distributed.py`` (gloo on the CPU).

    torchrun --standalone --nproc_per_node=2 tests/_torchrun_worker.py OUT

Every process trains; each saves what it saw and ended with to
``OUT/rank<r>_<run>.pt``, and the test compares those with one process. Last,
the ``gancourse train`` command itself (:func:`gancourse.cli.main`) trains
``wgangp-ring8`` into ``OUT/cli``, where only rank 0 may write. The test module
imports the configs and helpers from here, so both sides train the same thing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from gancourse.config import PRESETS
from gancourse.train import Trainer

STEPS = 6
"""Steps of the vanilla runs (the exact-resume run stops at half of them)."""

CLI_STEPS = 10
CLI_ARGS = [
    "train",
    "--preset",
    "wgangp-ring8",
    "--set",
    f"train.steps={CLI_STEPS}",
    "--set",
    "train.log_every=1",
    # recorded in the config: a resume elsewhere (a GPU machine) stays on the CPU
    "--set",
    "train.device=cpu",
    "--no-progress",
]


def vanilla_cfg(**sets):
    """The vanilla GAN on the ring's MLPs (no normalisation layers), batch 64."""
    base = {
        "data.batch_size": 64,
        "model.g_width": 32,
        "model.d_width": 32,
        "train.log_every": 1,
        "train.sample_every": 1000,
        "train.ckpt_every": 1000,
        "train.device": "cpu",
    }
    return PRESETS["vanilla-ring8"].override({**base, **sets})


def points(n: int = 512) -> torch.Tensor:
    """Fixed 2-D samples (the ``data=`` path of the Trainer)."""
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(7))


def watch(trainer: Trainer) -> dict:
    """Record, as training goes, the real batch of the first D phase and each
    optimiser group's gradients at its first step (after the all-reduce)."""
    seen: dict = {"grads": {}}
    d_loss = trainer.method.d_loss

    def first_batch(batch, ctx):
        seen.setdefault("x_real", batch["x"].clone())
        return d_loss(batch, ctx)

    trainer.method.d_loss = first_batch
    for group, opt in trainer.optimizers.items():
        params = [p for g in opt.param_groups for p in g["params"]]

        def step(*args, _step=opt.step, _group=group, _params=params, **kwargs):
            if _group not in seen["grads"]:
                seen["grads"][_group] = [p.grad.clone() for p in _params]
            return _step(*args, **kwargs)

        opt.step = step
    return seen


def nets(trainer: Trainer) -> dict:
    return {
        name: {k: v.clone() for k, v in net.state_dict().items()}
        for name, net in trainer.nets.items()
    }


def main(out: Path) -> int:
    import torch.distributed as dist

    from gancourse.cli import main as gancourse

    rank = int(os.environ["RANK"])
    torch.set_num_threads(1)

    # 1. the vanilla GAN, each process on its half of every batch
    t = Trainer(vanilla_cfg(), data=points(), progress=False)
    seen = watch(t)
    t.fit(STEPS)
    torch.save(
        {**seen, "nets": nets(t), "history": t.history}, out / f"rank{rank}_vanilla.pt"
    )

    # 2. the same run stopped half-way and resumed with two processes again
    half = Trainer(vanilla_cfg(), out / "resume", data=points(), progress=False)
    half.fit(STEPS // 2)
    dist.barrier()  # rank 0 has written last.pt
    resumed = Trainer.resume(out / "resume" / "last.pt", data=points(), progress=False)
    resumed.fit(STEPS)
    torch.save({"nets": nets(resumed)}, out / f"rank{rank}_resumed.pt")

    # 3. a time budget that runs out on one process first (its clock runs ahead)
    timed = Trainer(
        vanilla_cfg(**{"train.max_time_s": 1e6, "train.log_every": 1000}),
        data=points(),
        progress=False,
    )
    if rank == 1:
        timed._elapsed = lambda: 1e9 if timed.step >= 3 else 0.0
    timed.fit(STEPS)
    torch.save({"step": timed.step}, out / f"rank{rank}_budget.pt")

    # 4. the command; it leaves the process group at the end
    return gancourse([*CLI_ARGS, "--out", str(out / "cli")])


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
