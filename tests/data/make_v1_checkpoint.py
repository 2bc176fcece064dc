"""Make tests/data/v1_ring_step5.pt and v1_ring_next.json with the OLD core.

Run once from a checkout of commit 9591264 (the two-network core, checkpoint
format 1): it trains a tiny ring run to step 5, saves that checkpoint, trains on
to step 10 and prints the losses of steps 6-10, which
``tests/test_core.py::test_format_1_checkpoint_resumes_exactly`` expects the new
core to reproduce from the saved checkpoint.

    git worktree add /tmp/old 9591264
    PYTHONPATH=/tmp/old python tests/data/make_v1_checkpoint.py /tmp/v1run
"""

import json
import sys

import torch

from gancourse.config import PRESETS
from gancourse.train import Trainer

torch.set_num_threads(1)
g = torch.Generator().manual_seed(7)
data = torch.randn(512, 2, generator=g)
cfg = (
    PRESETS["vanilla-ring8"]
    .fast()
    .override(
        {
            "train.log_every": 1,
            "data.batch_size": 32,
            "model.g_width": 16,
            "model.d_width": 16,
            "train.ema_decay": 0.9,
        }
    )
)
out = sys.argv[1]
a = Trainer(cfg, out, data=data, progress=False, command="make_v1")
a.fit(5)
a.save(out + "/step5.pt")
a.fit(10)
print(json.dumps([{k: r[k] for k in ("d_loss", "g_loss")} for r in a.history[5:]]))
