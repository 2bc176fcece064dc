"""Your homework progress: every ``check(...)`` and ``predict(...)`` is recorded in
a small local file.

:func:`gancourse.homework.check` calls :func:`record` with each verdict,
:func:`gancourse.homework.predict` with each valid prediction, and
``gancourse progress`` (or ``homework.progress()`` in a notebook) prints, per
chapter, which exercises and predict-then-run questions are done, tried and not
started.

Where the file lives (:func:`progress_path`), in this order:

1. ``GANCOURSE_PROGRESS``, a file path, when it is set. ``GANCOURSE_PROGRESS=off``
   turns recording off. ``make test`` and the test suite point it at a scratch
   file so that running the course's notebooks never touches your record.
2. Otherwise the user data folder that the platform defines (the same rules as the
   ``platformdirs`` package, without depending on it):

   - Linux and other Unix: ``$XDG_DATA_HOME/gancourse/progress.json``, by default
     ``~/.local/share/gancourse/progress.json``;
   - macOS: ``~/Library/Application Support/gancourse/progress.json``;
   - Windows: ``%APPDATA%\\gancourse\\progress.json``.

It is never written inside the course repository, so your record survives a
fresh clone and is never committed by accident.

The file is JSON::

    {"version": 1,
     "exercises": {"ch01.d_loss": {"status": "failed", "best": "failed",
                                   "attempts": 3, "first": "2025-...",
                                   "last": "2025-..."}}}

``status`` is the last verdict, ``best`` the best one so far (passed > failed /
error > not implemented), ``first`` / ``last`` are UTC timestamps (ISO 8601).
An exercise is *done* once it has passed, *tried* when a check ran on an
implemented answer that has not passed yet, and *not started* otherwise (checking
the untouched ``raise NotImplementedError`` stub does not count as trying).

A predict-then-run question is recorded under its id in the same map, with status
``"predicted"``, the chosen letter as ``answer`` (the last one) and
``first_answer``; it is *done* as soon as it has one, and *not started* before (a
question is never *tried*: any valid choice is an answer, and ``predict`` records
nothing for an empty or invalid one).

Writes are atomic (a temporary file in the same folder, then a rename). Recording
never breaks ``check``: an unreadable, corrupt or unwritable file produces one
warning per session and the check carries on. A corrupt file is kept next to the
new one as ``progress.json.corrupt``. Two notebooks checking at the very same
moment may lose one of the two records (the last write wins).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = [
    "ENV_VAR",
    "ChapterProgress",
    "chapter_progress",
    "format_progress",
    "load_progress",
    "progress",
    "progress_path",
    "record",
]

#: The environment variable that moves the progress file (a file path) or, set
#: to ``off``, turns recording off.
ENV_VAR = "GANCOURSE_PROGRESS"
FORMAT_VERSION = 1
_OFF = ("off", "0", "none", "false", "no")
_RANK = {"not implemented": 0, "error": 1, "failed": 1, "passed": 2, "predicted": 2}
_DONE = ("passed", "predicted")
_warned = False


def progress_path() -> Path | None:
    """The progress file (see the module docstring), or ``None`` when recording is
    turned off with ``GANCOURSE_PROGRESS=off``."""
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        if env.lower() in _OFF:
            return None
        return Path(env).expanduser()
    return _data_dir() / "gancourse" / "progress.json"


def _data_dir() -> Path:
    """The platform's folder for per-user application data."""
    home = Path.home()
    if sys.platform.startswith("win"):
        appdata = os.environ.get("APPDATA", "")
        return Path(appdata) if appdata else home / "AppData" / "Roaming"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    # The XDG spec says relative paths are invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return home / ".local" / "share"


def _warn(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"gancourse: {message} (set {ENV_VAR} to another file, or to 'off'). "
            "Checking works as before; only the record is affected.",
            RuntimeWarning,
            stacklevel=3,
        )


def _empty() -> dict[str, Any]:
    return {"version": FORMAT_VERSION, "exercises": {}}


def _valid(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("exercises"), dict)
        and all(isinstance(v, dict) for v in data["exercises"].values())
    )


def load_progress(path: Path | None = None) -> dict[str, Any]:
    """The recorded progress as a dict (empty when there is no file yet).

    A file that cannot be read or parsed gives an empty record and one warning; it
    is never raised as an error.
    """
    path = progress_path() if path is None else Path(path)
    if path is None or not path.exists():
        return _empty()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _warn(f"cannot read the progress file {path} ({type(exc).__name__})")
        return _empty()
    if not _valid(data):
        _warn(f"the progress file {path} is not a gancourse progress record")
        return _empty()
    return data


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def record(exercise_id: str, status: str, answer: str | None = None) -> None:
    """Add one verdict (``"passed"``, ``"failed"``, ``"not implemented"`` or
    ``"error"``) for ``exercise_id`` to the progress file, or, with status
    ``"predicted"`` and the chosen letter as ``answer``, one prediction.

    Never raises: problems with the file become one warning per session.
    """
    try:
        path = progress_path()
        if path is None:
            return
        data = _empty()
        if path.exists():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, ValueError):
                loaded = None
            if _valid(loaded):
                data = loaded
            else:  # keep the damaged file for inspection, then start afresh
                aside = path.with_name(path.name + ".corrupt")
                os.replace(path, aside)
                _warn(f"the progress file {path} was damaged; kept it as {aside}")
        now = _now()
        entry = data["exercises"].setdefault(
            exercise_id, {"attempts": 0, "first": now, "best": status}
        )
        entry["attempts"] = int(entry.get("attempts", 0)) + 1
        entry["status"] = status
        entry["last"] = now
        entry.setdefault("first", now)
        if answer is not None:
            entry["answer"] = answer
            entry.setdefault("first_answer", answer)
        if _RANK.get(status, 0) >= _RANK.get(entry.get("best", ""), -1):
            entry["best"] = status
        data["version"] = FORMAT_VERSION
        _write_atomic(path, data)
    except Exception as exc:  # recording must never break a check
        _warn(f"could not record this check in {progress_path()} ({exc})")


def _state(entry: dict[str, Any] | None) -> str:
    """``"done"``, ``"tried"`` or ``"not started"`` for one exercise's record."""
    if not entry:
        return "not started"
    best = entry.get("best", entry.get("status", ""))
    if best in _DONE:
        return "done"
    if best in ("failed", "error"):
        return "tried"
    return "not started"


@dataclass
class ChapterProgress:
    """Progress in one chapter.

    Exercises and predict-then-run questions are listed together.

    Attributes:
        chapter: the prefix of the exercise ids, e.g. ``"ch01"``.
        done: ids of exercises that passed at least once, and of questions with a
            recorded prediction.
        tried: ids of exercises checked with an answer that has not passed yet,
            with their last verdict and number of attempts.
        not_started: ids never checked (or checked only as the untouched stub),
            and questions without a prediction.
        predicted: question id -> the recorded letter, for the questions in
            ``done``.
    """

    chapter: str
    done: list[str] = field(default_factory=list)
    tried: list[tuple[str, str, int]] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    predicted: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The number of exercises and questions in the chapter."""
        return len(self.done) + len(self.tried) + len(self.not_started)


def chapter_progress(
    data: dict[str, Any] | None = None, exercise_ids: list[str] | None = None
) -> list[ChapterProgress]:
    """Per chapter, every known exercise and predict-then-run question sorted into
    done / tried / not started.

    Args:
        data: a record as returned by :func:`load_progress` (default: the file's).
        exercise_ids: the ids to list (default: every id in
            ``gancourse.homework.EXERCISES`` and ``PREDICTIONS``). Ids in the record
            that the course no longer has are ignored.
    """
    if data is None:
        data = load_progress()
    if exercise_ids is None:
        from gancourse.homework import EXERCISES, PREDICTIONS

        exercise_ids = [*EXERCISES, *PREDICTIONS]
    records = data.get("exercises", {})
    chapters: dict[str, ChapterProgress] = {}
    for eid in sorted(exercise_ids):
        chapter = eid.split(".", 1)[0]
        row = chapters.setdefault(chapter, ChapterProgress(chapter))
        entry = records.get(eid)
        state = _state(entry)
        if state == "done":
            row.done.append(eid)
            if entry.get("status") == "predicted" and entry.get("answer"):
                row.predicted[eid] = str(entry["answer"])
        elif state == "tried":
            row.tried.append((eid, entry["status"], int(entry.get("attempts", 0))))
        else:
            row.not_started.append(eid)
    return [chapters[c] for c in sorted(chapters)]


def _short_id(eid: str) -> str:
    return eid.split(".", 1)[1] if "." in eid else eid


def format_progress(
    rows: list[ChapterProgress], path: Path | None = None, width: int = 88
) -> str:
    """The progress table as text: a line of counts per chapter, then the ids."""
    lines = []
    if path is not None:
        lines.append(f"Progress recorded in {path}")
    else:
        lines.append(f"Progress recording is off ({ENV_VAR}=off)")
    lines.append("")
    head = f"{'chapter':8s} {'done':>7s} {'tried':>6s} {'not started':>12s}"
    lines += [head, "-" * len(head)]
    total = done = tried = todo = 0
    for row in rows:
        lines.append(
            f"{row.chapter:8s} {f'{len(row.done)}/{row.total}':>7s} "
            f"{len(row.tried):>6d} {len(row.not_started):>12d}"
        )
        total += row.total
        done += len(row.done)
        tried += len(row.tried)
        todo += len(row.not_started)
    lines.append("-" * len(head))
    lines.append(f"{'total':8s} {f'{done}/{total}':>7s} {tried:>6d} {todo:>12d}")
    for row in rows:
        lines.append("")
        lines.append(f"{row.chapter}:")
        items = [
            ("done", [_done_name(e, row) for e in row.done]),
            (
                "tried",
                [
                    f"{_short_id(e)} ({status}, {n} attempt{'s' if n != 1 else ''})"
                    for e, status, n in row.tried
                ],
            ),
            ("not started", [_short_id(e) for e in row.not_started]),
        ]
        for label, names in items:
            if names:
                lines += _wrap(f"  {label + ':':13s}", names, width)
    return "\n".join(lines)


def _done_name(eid: str, row: ChapterProgress) -> str:
    if eid in row.predicted:
        return f"{_short_id(eid)} (predicted {row.predicted[eid]})"
    return _short_id(eid)


def _wrap(prefix: str, names: list[str], width: int) -> list[str]:
    lines, line = [], prefix
    for i, name in enumerate(names):
        piece = name + ("," if i < len(names) - 1 else "")
        if len(line) + 1 + len(piece) > width and line.strip() != prefix.strip():
            lines.append(line)
            line = " " * len(prefix)
        line += " " + piece
    lines.append(line)
    return lines


def progress() -> None:
    """Print your progress per chapter (done, tried, not started), exercises and
    predict-then-run questions together.

    The same table as ``gancourse progress`` on the command line.
    """
    path = progress_path()
    print(format_progress(chapter_progress(load_progress(path)), path))
