"""Training throughput of the Trainer on synthetic batches: fp32 vs bf16 + channels-last
+ torch.compile, in one process and under torchrun.

The prepared GPU check of the training core: it reports steps per second of
``dcgan-mnist``'s networks at 64 px (the DCGAN paper's network, 3 channels) and of
``wgangp-cifar10`` (the WGAN-GP CIFAR-10 ResNet), each with the Trainer on a
synthetic in-memory dataset (no download), so the numbers measure the training
step, not the data. Warm-up steps (compilation included) are not timed.

    python tools/gpu_throughput.py --out throughput.json          # one process
    torchrun --standalone --nproc_per_node=1 tools/gpu_throughput.py --torchrun
    python tools/gpu_throughput.py --smoke                          # tiny, on a CPU

Each row: preset, variant (fp32 | bf16+cl+compile), global batch, processes, steps
per second (median of ``--repeats`` timed segments), peak GPU memory, device.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import torch

from gancourse.config import get_preset
from gancourse.train import Trainer, hardware

VARIANTS = {
    "fp32": {},
    "bf16+cl+compile": {
        "train.amp": True,
        "train.channels_last": True,
        "train.compile": True,
    },
}


def configs(smoke: bool) -> dict[str, object]:
    """The two networks, at full width (or tiny for ``--smoke``)."""
    dcgan = get_preset("dcgan-mnist", fast=smoke).override(
        {"model.img_size": 64, "model.img_channels": 3}
    )
    resnet = get_preset("wgangp-cifar10", fast=smoke)
    return {"dcgan-64": dcgan, "wgangp-cifar10-resnet": resnet}


def synthetic(cfg, n: int) -> torch.Tensor:
    m = cfg.model
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, m.img_channels, m.img_size, m.img_size, generator=g)
    return (x * 255).to(torch.uint8)  # stored compactly, normalised per batch


def measure(cfg, steps: int, repeats: int, warmup: int, device: str) -> dict:
    quiet = {
        "train.log_every": 10**6,
        "train.sample_every": 10**6,
        "train.ckpt_every": 10**6,
        "train.n_samples": 8,
        "train.steps": warmup + steps * repeats,
    }
    cfg = cfg.override(quiet)
    tr = Trainer(cfg, device=device, progress=False, data=synthetic(cfg, 2048))
    tr.fit(warmup)
    rates = []
    for r in range(repeats):
        if tr.device.type == "cuda":
            torch.cuda.synchronize(tr.device)
        t0 = time.perf_counter()
        tr.fit(warmup + (r + 1) * steps)
        if tr.device.type == "cuda":
            torch.cuda.synchronize(tr.device)
        rates.append(steps / (time.perf_counter() - t0))
    peak = (
        torch.cuda.max_memory_allocated(tr.device) / 2**30
        if tr.device.type == "cuda"
        else None
    )
    return {
        "steps_per_s": round(statistics.median(rates), 3),
        "rates": [round(x, 3) for x in rates],
        "peak_gib": None if peak is None else round(peak, 2),
        "global_batch": cfg.data.batch_size,
        "processes": tr.world.size,
        "device": hardware(tr.device, tr.world.size),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=50, help="timed steps per segment")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--device", default="auto")
    p.add_argument("--smoke", action="store_true", help="tiny networks, few steps")
    p.add_argument("--torchrun", action="store_true", help="label rows as torchrun")
    p.add_argument("--only", help="one of the presets")
    p.add_argument("--out", help="write the rows as JSON")
    args = p.parse_args()
    if args.smoke:
        args.steps, args.repeats, args.warmup = 2, 1, 1
    rows = []
    for name, cfg in configs(args.smoke).items():
        if args.only and name != args.only:
            continue
        for variant, sets in VARIANTS.items():
            if args.smoke and "compile" in variant:
                sets = {k: v for k, v in sets.items() if k != "train.compile"}
            row = {"preset": name, "variant": variant}
            row.update(
                measure(
                    cfg.override(sets),
                    args.steps,
                    args.repeats,
                    args.warmup,
                    args.device,
                )
            )
            row["launcher"] = "torchrun" if args.torchrun else "python"
            rows.append(row)
            if int(os.environ.get("RANK", "0")) == 0:
                print(
                    f"{name:22s} {variant:16s} {row['steps_per_s']:8.2f} steps/s  "
                    f"batch {row['global_batch']}  x{row['processes']}  "
                    f"peak {row['peak_gib']} GiB  {row['device']}",
                    flush=True,
                )
    if args.out and int(os.environ.get("RANK", "0")) == 0:
        meta = {"torch": torch.__version__, "command": " ".join(sys.argv)}
        with open(args.out, "w") as f:
            json.dump({"meta": meta, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
