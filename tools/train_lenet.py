"""Train the LeNet classifiers shipped in ``gancourse/metrics/weights``.

Usage: ``python tools/train_lenet.py [mnist] [fashion-mnist] [--epochs N]``

Each classifier is trained on the train split of its dataset (Adam, seeded,
deterministic algorithms, 2 CPU threads) and evaluated on the whole test split.
It writes ``<name>.pt`` (float32 state dict in a ``kind="classifier"``
checkpoint) and ``<name>.json`` (data and its source, sizes, epochs, test
accuracy overall and per class, wall time, hardware, command, torch version,
date). Set ``GANCOURSE_DATA`` to the folder that holds the datasets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F

# run from a checkout without installing: the repository root goes first on the path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gancourse import __version__  # noqa: E402
from gancourse.checkpoint import FORMAT, FORMAT_VERSION, save_atomic  # noqa: E402
from gancourse.data import dataset_source, load_dataset, to_tensors  # noqa: E402
from gancourse.metrics.lenet import (  # noqa: E402
    ARCH,
    CHECKPOINT_KIND,
    WEIGHTS_DIR,
    LeNet,
    LeNetExtractor,
    class_accuracy,
)
from gancourse.train import hardware  # noqa: E402

# dataset -> extractor name and training settings. The MNIST subset has only
# 4,000 training images, so it gets more epochs and light affine augmentation.
SHIPPED = {
    "mnist": {"name": "lenet-mnist", "epochs": 20, "augment": True},
    "fashion-mnist": {"name": "lenet-fashion", "epochs": 4, "augment": False},
}
BATCH_SIZE = 128
LR = 1e-3
SEED = 0
THREADS = 2
FIRST_N = 1000  # tests re-check the accuracy on the first FIRST_N test images


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random small affine warps of ``(N, 1, 28, 28)`` images in ``[-1, 1]``:
    rotation within +-10 degrees, scale 0.9 to 1.1, shift within +-2 pixels."""
    n = x.shape[0]
    u = torch.rand(n, 4, generator=gen) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(10)
    scale = 1 + 0.1 * u[:, 1]
    shift = u[:, 2:] * (2 / 14)  # 2 pixels in grid units (the half-width is 14)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack(
        [
            torch.stack([cos, -sin, shift[:, 0]], 1),
            torch.stack([sin, cos, shift[:, 1]], 1),
        ],
        1,
    )  # (N, 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    # grid_sample fills with 0, so warp the image shifted to a 0 background (-1)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1


def train_one(dataset: str, epochs: int, augment_data: bool) -> tuple[dict, dict]:
    """Train one classifier; return its checkpoint dict and its JSON record."""
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    X, Y = to_tensors(load_dataset(dataset, "train", download=False))
    Xt, Yt = to_tensors(load_dataset(dataset, "test", download=False))
    net = LeNet()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    steps_per_epoch = math.ceil(len(X) / BATCH_SIZE)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=LR * 2, total_steps=epochs * steps_per_epoch
    )
    # other processes slow the wall time down: record how busy the machine was
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    t0 = time.perf_counter()
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(X), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(X), BATCH_SIZE):
            idx = perm[i : i + BATCH_SIZE]
            x, y = X[idx], Y[idx]
            if augment_data:
                x = augment(x, gen)
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        print(
            f"{dataset}: epoch {epoch + 1}/{epochs} loss {total / seen:.4f} "
            f"({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    wall = time.perf_counter() - t0
    name = SHIPPED[dataset]["name"]
    extractor = LeNetExtractor(name, net).eval()
    test = class_accuracy(extractor, Xt, Yt)
    first = class_accuracy(extractor, Xt[:FIRST_N], Yt[:FIRST_N])
    print(f"{name}: test accuracy {test['accuracy']:.4f} in {wall:.0f} s", flush=True)
    record = {
        "name": name,
        "dataset": dataset,
        "data_source": dataset_source(dataset),
        "train_size": len(X),
        "test_size": len(Xt),
        "epochs": epochs,
        "batch_size": BATCH_SIZE,
        "optimizer": f"Adam, one-cycle learning rate up to {LR * 2:g}",
        "augment": "random affine: +-10 deg, scale 0.9-1.1, +-2 px"
        if augment_data
        else None,
        "seed": SEED,
        "test_accuracy": round(test["accuracy"], 5),
        "test_per_class": [round(a, 5) for a in test["per_class"]],
        "test_accuracy_first_1000": round(first["accuracy"], 5),
        "wall_time_s": round(wall, 1),
        "hardware": hardware(torch.device("cpu")),
        "load_average_at_start": load_at_start,
        "command": shlex.join(["python", *sys.argv]),
        "torch_version": torch.__version__,
        "gancourse_version": __version__,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    ckpt = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": CHECKPOINT_KIND,
        "arch": ARCH,
        "name": name,
        "dataset": dataset,
        "num_classes": LeNetExtractor.num_classes,
        "feature_dim": LeNetExtractor.feature_dim,
        "state_dict": {k: v.float().clone() for k, v in net.state_dict().items()},
        "test_accuracy": record["test_accuracy"],
    }
    return ckpt, record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("datasets", nargs="*", default=list(SHIPPED), help=" ".join(SHIPPED))
    p.add_argument("--epochs", type=int, default=None, help="override the default")
    p.add_argument("--dest", default=str(WEIGHTS_DIR), help="output folder")
    args = p.parse_args(argv)
    for dataset in args.datasets:
        if dataset not in SHIPPED:
            p.error(f"unknown dataset {dataset!r}; valid: {', '.join(SHIPPED)}")
    if args.epochs is not None and args.epochs < 1:
        p.error("--epochs must be >= 1")
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(True)
    dest = Path(args.dest)
    for dataset in args.datasets:
        settings = SHIPPED[dataset]
        epochs = args.epochs if args.epochs is not None else settings["epochs"]
        ckpt, record = train_one(dataset, epochs, settings["augment"])
        pt = save_atomic(ckpt, dest / f"{record['name']}.pt")
        record["weights_sha256"] = hashlib.sha256(pt.read_bytes()).hexdigest()
        text = json.dumps(record, indent=1) + "\n"
        (dest / f"{record['name']}.json").write_text(text)
        print(f"wrote {pt} ({pt.stat().st_size / 1e6:.2f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
