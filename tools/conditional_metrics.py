"""Chapter 3's measurements of the shipped class-conditional Fashion-MNIST models.

Usage: ``python tools/conditional_metrics.py [--n-per-class 1000] [--cas-epochs 5]``

For each shipped model (``cgan-fashion``, ``projgan-fashion``, ``acgan-fashion``,
trained by ``tools/train_pretrained.py``) this draws ``n`` samples per class with
fixed latent codes and measures, in the shipped LeNet-Fashion judge's features:

- class accuracy: how often the judge classifies a sample as its requested class;
- per-class FID, precision and recall against ``n`` real training images of that
  class, and the same numbers for ``n`` real *test* images of the class (the
  floor a perfect generator would reach at this ``n``);
- the Classification Accuracy Score: a fresh LeNet trained on the generated
  images only, tested on the 10,000 real test images, against the same LeNet
  trained on ``n`` real training images per class.

Writes ``gancourse/metrics/records/ch03-conditional.json`` with the command,
data, hardware, wall time and date; the chapter prints and plots it.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
RECORD = ROOT / "gancourse" / "metrics" / "records" / "ch03-conditional.json"
MODELS = ("cgan-fashion", "projgan-fashion", "acgan-fashion")
CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip


def balanced_subset(x, y, n_per_class: int):
    """The first ``n_per_class`` images of each class, class-major."""
    rows = torch.cat([torch.nonzero(y == k).flatten()[:n_per_class] for k in range(10)])
    return x[rows], y[rows]


def main(argv: list[str] | None = None) -> int:
    from gancourse import __version__
    from gancourse.data import load_dataset, to_tensors
    from gancourse.metrics.conditional import (
        class_conditional_samples,
        classification_accuracy_score,
        per_class_scores,
    )
    from gancourse.metrics.evaluate import extract_features
    from gancourse.metrics.frechet import frechet_distance
    from gancourse.metrics.lenet import class_accuracy, load_lenet
    from gancourse.metrics.scores import precision_recall
    from gancourse.pretrained import load_sampler, pretrained_info
    from gancourse.train import hardware

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n-per-class", type=int, default=1000)
    p.add_argument("--cas-epochs", type=int, default=5)
    p.add_argument("--models", nargs="*", default=list(MODELS))
    args = p.parse_args(argv)
    n = args.n_per_class
    t_start = time.perf_counter()
    torch.manual_seed(0)

    x_train, y_train = to_tensors(load_dataset("fashion-mnist", "train"))
    x_test, y_test = to_tensors(load_dataset("fashion-mnist", "test"))
    xr, yr = balanced_subset(x_train, y_train, n)  # n real training images per class
    xt, yt = balanced_subset(x_test, y_test, n)  # n real test images per class
    judge = load_lenet("lenet-fashion")
    fr, _ = extract_features(xr, judge)
    ft, _ = extract_features(xt, judge)

    def overall(f_real, f_other):
        return float(
            frechet_distance(
                f_real.mean(0),
                np.cov(f_real, rowvar=False),
                f_other.mean(0),
                np.cov(f_other, rowvar=False),
            )
        )

    real_test = {
        "class_accuracy": class_accuracy(judge, xt, yt),
        "per_class": per_class_scores(fr, yr.numpy(), ft, yt.numpy(), n),
        "fid": overall(fr, ft),
        "precision_recall": precision_recall(fr, ft),
    }
    t0 = time.perf_counter()
    cas_real = classification_accuracy_score(
        xr, yr, x_test, y_test, epochs=args.cas_epochs
    )
    cas_real["seconds"] = round(time.perf_counter() - t0, 1)
    print(
        f"real test images: judge accuracy "
        f"{real_test['class_accuracy']['accuracy']:.3f}, CAS baseline "
        f"{cas_real['accuracy']:.3f}",
        flush=True,
    )

    models = {}
    for name in args.models:
        t0 = time.perf_counter()
        sampler = load_sampler(name)
        xg, yg = class_conditional_samples(sampler, n, 10, seed=1)
        fg, _ = extract_features(xg, judge)
        acc = class_accuracy(judge, xg, yg)
        per_class = per_class_scores(fr, yr.numpy(), fg, yg.numpy(), n)
        t1 = time.perf_counter()
        cas = classification_accuracy_score(
            xg, yg, x_test, y_test, epochs=args.cas_epochs
        )
        cas["seconds"] = round(time.perf_counter() - t1, 1)
        info = pretrained_info(name)
        models[name] = {
            "method": info["config"]["method"],
            "generator": {k: info["config"]["model"][k] for k in ("arch", "g_cond")},
            "shipped": {
                k: info[k] for k in ("command", "steps", "wall_time_s", "hardware")
            },
            "class_accuracy": acc,
            "per_class": per_class,
            "fid": overall(fr, fg),
            "precision_recall": precision_recall(fr, fg),
            "cas": cas,
            "seconds": round(time.perf_counter() - t0, 1),
        }
        m = models[name]
        print(
            f"{name}: judge accuracy {acc['accuracy']:.3f}, FID {m['fid']:.1f}, "
            f"mean class recall "
            f"{np.mean([r['recall'] for r in per_class]):.3f}, CAS "
            f"{cas['accuracy']:.3f} ({m['seconds']:.0f} s)",
            flush=True,
        )

    record = {
        "what": (
            f"Shipped chapter-3 generators on Fashion-MNIST: {n} samples per class "
            "(latent seed 1) scored in the lenet-fashion judge's 128-d features "
            f"against {n} real training images per class (the first of each class "
            "in file order); 'real_test' scores the first "
            f"{n} real test images per class the same way (the floor at this N)"
        ),
        "classes": list(CLASSES),
        "n_per_class": n,
        "judge": "lenet-fashion",
        "cas_protocol": (
            f"a fresh LeNet (gancourse.metrics.lenet.LeNet), Adam 1e-3, batch 128, "
            f"{args.cas_epochs} epochs, seed 0, trained on the {10 * n} generated "
            "images with their requested classes (CAS) or on "
            f"{10 * n} real training images ({n} per class, the baseline), tested on "
            "the 10,000 Fashion-MNIST test images"
        ),
        "real_test": real_test,
        "cas_real": cas_real,
        "models": models,
        "command": shlex.join(["python", *sys.argv]),
        "hardware": hardware(torch.device("cpu")),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "gancourse_version": __version__,
        "wall_time_s": round(time.perf_counter() - t_start, 1),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {RECORD.relative_to(ROOT)} in {record['wall_time_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
