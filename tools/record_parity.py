"""Record the first 20 steps' losses of two runs, for the training-core parity test.

Runs ``vanilla-ring8`` and the fast ``wgangp-mnist`` networks on fixed synthetic
tensors (so the prepared data does not matter) and writes every logged number of
every step to ``tests/data/parity.json``. It was run once with the training core
of commit 9591264 (before the core was generalised); ``tests/test_parity.py``
checks that the current core reproduces those numbers.

    python tools/record_parity.py            # prints the numbers
    python tools/record_parity.py --write    # (re)writes tests/data/parity.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import torch

from gancourse.config import PRESETS
from gancourse.train import Trainer

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "parity.json"
STEPS = 20


def synthetic(kind: str) -> torch.Tensor:
    """The fixed inputs: 512 2-D points, or 256 images (1, 28, 28) in [-1, 1]."""
    g = torch.Generator().manual_seed(1234)
    if kind == "points":
        return torch.randn(512, 2, generator=g)
    return torch.rand(256, 1, 28, 28, generator=g) * 2 - 1


def runs() -> dict[str, tuple]:
    ring = PRESETS["vanilla-ring8"].override({"train.log_every": 1})
    gp = (
        PRESETS["wgangp-mnist"]
        .fast()
        .override({"train.log_every": 1, "data.batch_size": 32})
    )
    return {"vanilla-ring8": (ring, "points"), "wgangp-mnist-fast": (gp, "images")}


def record() -> dict:
    torch.set_num_threads(1)  # reduction order: one thread, same numbers everywhere
    out = {}
    for name, (cfg, kind) in runs().items():
        tr = Trainer(cfg, data=synthetic(kind), device="cpu", progress=False)
        tr.fit(STEPS)
        keys = sorted({k for r in tr.history for k in r if k != "step"})
        out[name] = {
            "config": cfg.to_dict(),
            "data": kind,
            "steps": [{k: r[k] for k in keys if k in r} for r in tr.history],
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--write", action="store_true")
    args = p.parse_args()
    result = record()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    result = {"recorded_with": commit, "torch": torch.__version__, **result}
    text = json.dumps(result, indent=1)
    if args.write:
        OUT.write_text(text + "\n")
        print(f"wrote {OUT}")
    else:
        print(text)


if __name__ == "__main__":
    main()
