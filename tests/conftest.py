"""Session-wide test settings.

- Every ``check(...)`` records its verdict in the learner's progress file; the suite
  must never write into the real one (``~/.local/share/gancourse/progress.json`` or
  wherever ``GANCOURSE_PROGRESS`` points), so it points the variable at a scratch
  file for the whole session, subprocesses and notebook kernels included.
- The tests marked ``notebooks`` go first: they execute the chapter notebooks into
  the jupyter-cache, and a book build later in the same session
  (tests/test_book.py) then takes the outputs from there instead of executing every
  notebook a second time.
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


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.get_closest_marker("notebooks") is None)
