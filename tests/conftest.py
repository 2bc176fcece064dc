"""Session-wide test settings.

Every ``check(...)`` records its verdict in the learner's progress file; the suite
must never write into the real one (``~/.local/share/gancourse/progress.json`` or
wherever ``GANCOURSE_PROGRESS`` points), so it points the variable at a scratch
file for the whole session, subprocesses and notebook kernels included.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_SCRATCH = Path(tempfile.mkdtemp(prefix="gancourse-tests-"))
os.environ["GANCOURSE_PROGRESS"] = str(_SCRATCH / "progress.json")


def pytest_unconfigure(config):
    shutil.rmtree(_SCRATCH, ignore_errors=True)
