"""Grade learners' exercise notebooks: ``gancourse grade SUBMISSION.ipynb ...``.

**This runs the submitted code with your permissions.** A notebook can read, write
or delete your files and use the network. Grade work from people you do not trust
inside a container or a virtual machine that holds nothing else.

For each submission, :func:`grade_notebook`

1. **runs the notebook** in a fresh Jupyter kernel (a separate process using this
   Python), in an empty temporary folder, in fast mode (``GANCOURSE_FAST=1``), with
   the learner's progress record pointed at a scratch file. Stored outputs are
   discarded first. A cell that raises does not stop the run; a cell that runs
   past ``cell_timeout`` seconds is interrupted and the run goes on; once the whole
   run has taken ``timeout`` seconds the remaining cells are skipped. A cell that
   ignores the interrupt gets one more ``cell_timeout``, then the kernel is shut
   down and the remaining cells are skipped.
2. **takes the answers out of that run**: from every cell the run executed, the
   top-level imports, ``def`` and ``class`` statements and assignments of plain
   constants (``EPS = 1e-8``), in notebook order. For a cell that raised or timed
   out, only the statements above the line where it stopped (read from the
   traceback) count, as in the run itself. Everything else (training loops,
   plots, ``check(...)`` calls, ``check = lambda *a: True``, patches of
   ``gancourse``) is left behind: nothing the notebook printed or computed counts.
3. **re-checks each answer itself** in another clean Python process that imports
   the genuine checker before any learner code exists there, then executes those
   statements in a namespace of their own and calls
   the checker's ``run_check`` on each answer function, with a
   time limit per exercise (``check_timeout``). A hang or a crash there becomes
   that exercise's verdict and the remaining exercises are checked in a new
   process.

Which exercises a notebook is graded on: every exercise of each chapter whose ids
appear in the notebook (an exercise copy mentions all of its own), or the
chapters given explicitly. The answer to exercise ``chNN.name`` is the function
that the notebook passes to ``check("chNN.name", fn)``, or else the one called
``name`` (``Exercise.function_name``).

Verdicts: ``passed``, ``failed``, ``not implemented`` (the stub is still there),
``error`` (the check could not run the answer), ``missing`` (the run defined no
such function) and ``timeout``. None of them is a crash of the grader.

**Predict-then-run questions** of the graded chapters get a row each too, with the
verdict ``predicted`` (the message says which choice, "(b) ...") or
``no prediction``. They carry no points and do not count in the score: any valid
choice is an answer and none is right or wrong, so there is nothing to re-check.
The grader reads them from the *run's own progress file*: the kernel runs with
``GANCOURSE_PROGRESS`` pointed at a scratch file in the run's folder, so every
``predict(...)`` that the run executed with a valid letter leaves an entry there
with status ``predicted`` and the letter; after the run the grader reads that file
and keeps the entries whose letter is one of the question's choices. This reports
what the run actually did (a ``predict`` cell that raised or was skipped records
nothing), whatever variable or expression the learner passed, without evaluating
learner code again. A notebook could write that file itself, but it could as well
call ``predict`` with any letter: a forged entry gains nothing.

Limits, plainly:

- Answers that need a global the grader does not carry over (a tensor or a
  ``device`` made in another cell) fail with a ``NameError`` and a hint saying so.
- The re-check keeps the learner's *notebook* from faking a verdict, not a
  determined cheater: the answer functions themselves run inside the checking
  process, so one written to tamper with PyTorch or the checker when called (or
  when defined, through a decorator) could still fool it. Read the code of a
  surprising pass.
- The solutions are public (the book shows them), so a pass shows that the learner
  submitted a correct answer, not that they found it alone.
- Predictions are reported, not marked (see above); figures are not graded.
"""

from __future__ import annotations

import ast
import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "UNTRUSTED_WARNING",
    "VERDICTS",
    "CSV_COLUMNS",
    "CellRun",
    "GradeRow",
    "SubmissionGrade",
    "answer_statements",
    "exercises_in",
    "predictions_in",
    "format_grades",
    "grade",
    "grade_notebook",
    "write_csv",
]

#: Printed by ``gancourse grade`` before it runs anything.
UNTRUSTED_WARNING = (
    "gancourse grade runs the code in the submitted notebooks with your permissions; "
    "grade untrusted work inside a container or a virtual machine."
)
#: Every verdict a row can carry.
VERDICTS = (
    "passed",
    "failed",
    "not implemented",
    "error",
    "missing",
    "timeout",
    "predicted",
    "no prediction",
)
_SYMBOL = {
    "passed": "✓",
    "not implemented": "○",
    "missing": "–",
    "predicted": "✓",
    "no prediction": "–",
}
# The run's progress file, in the run's folder (see ``_child_env``).
_LEARNER_PROGRESS = "learner-progress.json"
_MAX_PROGRESS_BYTES = 5_000_000

_KERNEL = "gancourse-grade"
_ID = re.compile(r"\b(ch\d\d\.[A-Za-z_]\w*)")
_CHECK_CALL = re.compile(
    r"""\bcheck\(\s*["'](ch\d\d\.[A-Za-z_]\w*)["']\s*,\s*([A-Za-z_]\w*)\s*[,)]"""
)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# IPython >= 8.5 says "Cell In[3], line 2"; 8.0-8.4 said "in <cell line: 2>".
_CELL_LINE = re.compile(r"Cell In\s*\[[^\]]*\],\s*line (\d+)|<cell line: (\d+)>")


@dataclass
class GradeRow:
    """One exercise (or predict-then-run question) of one submission.

    Attributes:
        submission: the notebook's path as given.
        exercise: the exercise id, e.g. ``"ch01.d_loss"``, or the question's id.
        verdict: one of :data:`VERDICTS`; ``predicted`` / ``no prediction`` for a
            question.
        message: what is right or wrong, one sentence; for a question, the
            recorded choice ("(b) exactly 0.").
        hint: what to try next ("" when passed).
        seconds: how long the re-check of this answer took.
        kind: ``"exercise"`` or ``"prediction"``.
    """

    submission: str
    exercise: str
    verdict: str
    message: str
    hint: str = ""
    seconds: float = 0.0
    kind: str = "exercise"

    @property
    def points(self) -> int:
        """1 for a passed exercise, else 0 (predictions carry no points)."""
        return int(self.kind == "exercise" and self.verdict == "passed")


@dataclass
class CellRun:
    """What happened to one code cell in the graded run.

    Attributes:
        index: position in the notebook (0-based, all cells counted).
        status: ``"ok"``, ``"error"``, ``"timeout"`` or ``"skipped"`` (not run:
            the time limit ran out or the kernel had died).
        error: ``"ZeroDivisionError: division by zero"`` for a cell that raised.
        line: the line of the cell where it stopped (``None`` if unknown or ok).
    """

    index: int
    status: str
    error: str = ""
    line: int | None = None


@dataclass
class SubmissionGrade:
    """The grading of one notebook.

    Attributes:
        submission: the notebook's path as given.
        rows: one :class:`GradeRow` per exercise.
        cells: one :class:`CellRun` per code cell of the run.
        seconds: wall time of the whole grading of this notebook.
        note: what went wrong with the run as a whole ("" when nothing did).
    """

    submission: str
    rows: list[GradeRow] = field(default_factory=list)
    cells: list[CellRun] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""

    @property
    def score(self) -> int:
        """The number of passed exercises."""
        return sum(r.points for r in self.rows)

    @property
    def exercise_rows(self) -> list[GradeRow]:
        """The rows of graded exercises (no questions, no error row)."""
        return [r for r in self.rows if r.exercise and r.kind == "exercise"]

    @property
    def prediction_rows(self) -> list[GradeRow]:
        """The rows of predict-then-run questions."""
        return [r for r in self.rows if r.kind == "prediction"]


# ---------------------------------------------------------------------------
# what to grade
# ---------------------------------------------------------------------------
def _read(path: str | os.PathLike) -> Any:
    import nbformat

    return nbformat.read(str(path), as_version=4)


def _chapters_in(nb: Any, chapters: list[str] | None) -> set[str]:
    from gancourse.homework import EXERCISES, PREDICTIONS

    if chapters:
        return set(chapters)
    return {
        m.split(".", 1)[0]
        for cell in nb.cells
        for m in _ID.findall(cell.get("source", ""))
        if m in EXERCISES or m in PREDICTIONS
    }


def exercises_in(nb: Any, chapters: list[str] | None = None) -> list[str]:
    """The exercise ids to grade ``nb`` on, in course order: all exercises of
    ``chapters`` if given, else of every chapter whose exercise or prediction ids
    the notebook mentions."""
    from gancourse.homework import EXERCISES

    wanted = _chapters_in(nb, chapters)
    return [eid for eid in EXERCISES if eid.split(".", 1)[0] in wanted]


def predictions_in(nb: Any, chapters: list[str] | None = None) -> list[str]:
    """The predict-then-run question ids to report for ``nb``, in course order,
    for the same chapters as :func:`exercises_in`."""
    from gancourse.homework import PREDICTIONS

    wanted = _chapters_in(nb, chapters)
    return [pid for pid in PREDICTIONS if pid.split(".", 1)[0] in wanted]


def _answer_names(nb: Any, ids: list[str]) -> dict[str, str]:
    from gancourse.homework import EXERCISES

    names = {eid: EXERCISES[eid].function_name for eid in ids}
    for cell in nb.cells:
        if cell.cell_type == "code":
            for eid, name in _CHECK_CALL.findall(cell.source):
                if eid in names:
                    names[eid] = name
    return names


# ---------------------------------------------------------------------------
# 1. the run
# ---------------------------------------------------------------------------
class _KernelStuck(Exception):
    """A timed-out cell did not stop when interrupted."""


def _make_runner_class() -> type:
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient
    from nbclient.util import ensure_async

    class Runner(NotebookClient):
        """nbclient with a total deadline and interrupt-then-continue timeouts."""

        def __init__(self, nb: Any, budget: float, cell_timeout: float, **kw: Any):
            super().__init__(nb, **kw)
            self.budget = budget
            self.deadline: float | None = None  # set when the first cell starts
            self.cell_timeout = cell_timeout
            self.timeout_func = self._timeout_for
            self.current = -1
            self.timed_out: set[int] = set()
            self.skipped: set[int] = set()
            self.kernel_dirs: list[str] = []

        def _timeout_for(self, cell: Any) -> int:
            left = (self.deadline or math.inf) - time.monotonic()
            return max(1, math.ceil(min(self.cell_timeout, left)))

        def create_kernel_manager(self) -> Any:
            # A kernel spec of our own: the kernel runs this very Python (and so
            # this gancourse), whatever "python3" means on this machine.
            specs = KernelSpecManager(kernel_dirs=self.kernel_dirs)
            self.km = AsyncKernelManager(
                kernel_name=_KERNEL, kernel_spec_manager=specs, config=self.config
            )
            return self.km

        async def async_execute_cell(  # type: ignore[override]
            self, cell: Any, cell_index: int, *args: Any, **kwargs: Any
        ) -> Any:
            if self.deadline is None:  # the kernel's start-up does not count
                self.deadline = time.monotonic() + self.budget
            if cell.cell_type == "code" and time.monotonic() >= self.deadline:
                self.skipped.add(cell_index)
                return cell
            self.current = cell_index
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

        async def _async_handle_timeout(  # type: ignore[override]
            self, timeout: int, cell: Any = None
        ) -> None:
            if self.current in self.timed_out:
                raise _KernelStuck(self.current)
            self.timed_out.add(self.current)
            await ensure_async(self.km.interrupt_kernel())
            return None

    return Runner


def _kernel_spec(folder: Path) -> Path:
    spec = folder / "kernels" / _KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps(
            {"argv": argv, "display_name": "gancourse grade", "language": "python"}
        )
    )
    return spec.parent


def _child_env(workdir: Path) -> dict[str, str]:
    """The environment of the kernel and of the checking process."""
    import gancourse

    env = dict(os.environ)
    root = str(Path(gancourse.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, env.get("PYTHONPATH", "")) if p
    )
    env["GANCOURSE_FAST"] = "1"
    env["GANCOURSE_PROGRESS"] = str(workdir / _LEARNER_PROGRESS)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _stop_line(traceback: list[str]) -> int | None:
    for frame in traceback:
        m = _CELL_LINE.search(_ANSI.sub("", frame))
        if m:
            return int(m.group(1) or m.group(2))
    return None


def _run_notebook(
    nb: Any, workdir: Path, timeout: float, cell_timeout: float
) -> tuple[list[CellRun], str]:
    """Execute ``nb`` (in place) and say what happened to each code cell."""
    from nbclient.exceptions import DeadKernelError

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    runner_class = _make_runner_class()
    runner = runner_class(
        nb,
        budget=timeout,
        cell_timeout=cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        kernel_name=_KERNEL,
        startup_timeout=120,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": str(workdir)}},
    )
    runner.kernel_dirs = [str(_kernel_spec(workdir / "jupyter"))]
    note = ""
    try:
        # The kernel's own stdout / stderr (not the cells' outputs) go nowhere.
        runner.execute(
            env=_child_env(workdir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except _KernelStuck as exc:
        note = (
            f"cell {exc.args[0] + 1} did not stop when interrupted; the kernel was "
            "shut down and the cells below it were not run"
        )
    except DeadKernelError:
        note = (
            f"the kernel died in cell {runner.current + 1}; the cells below it "
            "were not run"
        )
    except Exception as exc:  # the kernel could not start, or nbclient failed
        note = f"the notebook could not be run ({type(exc).__name__}: {exc})"
        note = " ".join(note.split())[:300]
    if getattr(runner, "_async_cleanup_kernel_future", None) is not None:
        # nbclient caught SIGINT / SIGTERM and stopped the kernel: stop grading
        # rather than report the interrupted run as the learner's.
        raise KeyboardInterrupt("grading interrupted")
    ran_until = runner.current
    runs = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if i in runner.skipped or i > ran_until:
            runs.append(CellRun(i, "skipped"))
            continue
        if note and i == ran_until:  # the cell during which the run stopped
            if i in runner.timed_out:
                runs.append(CellRun(i, "timeout", "did not stop when interrupted"))
            else:
                runs.append(CellRun(i, "error", "the kernel stopped during this cell"))
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if i in runner.timed_out:
            line = _stop_line(errors[-1].traceback) if errors else None
            runs.append(CellRun(i, "timeout", "interrupted after the time limit", line))
        elif errors:
            err = errors[-1]
            text = f"{err.ename}: {' '.join(str(err.evalue).split())}"[:200]
            runs.append(CellRun(i, "error", text, _stop_line(err.traceback)))
        else:
            runs.append(CellRun(i, "ok"))
    return runs, note


# ---------------------------------------------------------------------------
# 2. the answers out of that run
# ---------------------------------------------------------------------------
_DEFINITIONS = (
    ast.Import,
    ast.ImportFrom,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
)


def _is_constant(node: ast.AST) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, _DEFINITIONS):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Name) for t in node.targets) and _is_constant(
            node.value
        )
    if isinstance(node, ast.AnnAssign):
        return (
            isinstance(node.target, ast.Name)
            and node.value is not None
            and _is_constant(node.value)
        )
    return False


def _python_source(cell_source: str) -> str:
    """A cell's source with IPython syntax (``%pip``, ``!ls``) made Python."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:  # pragma: no cover - ipykernel brings IPython
        return cell_source
    return TransformerManager().transform_cell(cell_source)


def answer_statements(nb: Any, runs: list[CellRun]) -> list[dict[str, Any]]:
    """The statements of ``nb`` that the re-check executes: imports, ``def``,
    ``class`` and constant assignments at the top level of the cells the run
    executed; in a cell that raised or timed out, only those that finished before
    the line where it stopped (none if that line is unknown).

    Returns:
        ``[{"cell": index, "source": python_source}, ...]`` in notebook order.
    """
    out = []
    for run in runs:
        if run.status == "skipped":
            continue
        stop = run.line if run.status in ("error", "timeout") else None
        if run.status != "ok" and stop is None:
            continue
        try:
            tree = ast.parse(_python_source(nb.cells[run.index].source))
        except (SyntaxError, ValueError):
            continue  # the run could not execute it either
        for node in tree.body:
            if stop is not None and (node.end_lineno or node.lineno) >= stop:
                break
            if _kept(node):
                out.append({"cell": run.index, "source": ast.unparse(node)})
    return out


# ---------------------------------------------------------------------------
# 3. the re-check in a clean process
# ---------------------------------------------------------------------------
def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows
                proc.kill()
        except (ProcessLookupError, PermissionError):
            proc.kill()
    proc.wait()


def _recheck(
    statements: list[dict[str, Any]],
    names: dict[str, str],
    workdir: Path,
    check_timeout: float,
    start_timeout: float = 300.0,
) -> tuple[dict[str, dict[str, Any]], list[list[Any]]]:
    """Check every answer in ``names`` (id -> function name) in clean processes.

    Returns the results per id (``status``, ``message``, ``hint``, ``seconds``) and
    the errors met while executing the statements (``[cell, error]``).
    """
    results: dict[str, dict[str, Any]] = {}
    load_errors: list[list[Any]] = []
    pending = list(names)
    attempt = 0
    while pending:
        attempt += 1
        res_path = workdir / f"recheck-{attempt}.jsonl"
        err_path = workdir / f"recheck-{attempt}.stderr"
        res_path.write_text("")
        job = {
            "statements": statements,
            "exercises": [{"id": eid, "name": names[eid]} for eid in pending],
            "results": str(res_path),
        }
        phase, current = "start", None
        deadline = time.monotonic() + start_timeout
        timed_out = False
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gancourse.homework._grade_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=workdir,
                env=_child_env(workdir),
                start_new_session=hasattr(os, "killpg"),
            )
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(job).encode())
                proc.stdin.close()
            except OSError:
                pass
            seen = 0
            try:
                while True:
                    exited = proc.poll() is not None
                    # every event ends with a newline: what follows the last one
                    # is an event being written
                    parts = res_path.read_text(encoding="utf-8").split("\n")
                    complete = parts if exited else parts[:-1]
                    for line in complete[seen:]:
                        seen += 1
                        try:
                            event = json.loads(line)
                        except ValueError:
                            continue
                        kind = event.get("event")
                        deadline = time.monotonic() + check_timeout
                        if kind == "ready":
                            phase = "load"
                        elif kind == "loaded":
                            phase = "check"
                            load_errors = event.get("errors", [])
                        elif kind == "start" and event.get("id") in pending:
                            current = event["id"]
                        elif kind == "result" and event.get("id") == current:
                            results[current] = event
                            current = None
                    if exited:
                        break
                    if time.monotonic() > deadline:
                        timed_out = True
                        break
                    time.sleep(0.05)
            finally:
                _kill(proc)
        pending = [eid for eid in pending if eid not in results]
        if not pending:
            break
        died = "" if timed_out else f" (exit status {proc.returncode})"
        if current is not None:
            if timed_out:
                results[current] = {
                    "status": "timeout",
                    "message": f"checking `{names[current]}` did not finish within "
                    f"{check_timeout:g} s.",
                    "hint": "look for a loop that never ends or work that grows "
                    "with the input; the check uses small inputs.",
                    "seconds": check_timeout,
                }
            else:
                results[current] = {
                    "status": "error",
                    "message": f"the checking process died while checking "
                    f"`{names[current]}`{died}.",
                    "hint": "your function may exit the interpreter or crash it "
                    "(os._exit, sys.exit, a segfault in an extension).",
                }
            pending.remove(current)
            continue
        # It stopped before or between exercises: every pending one gets the news.
        tail = err_path.read_text(errors="replace").strip().splitlines()[-1:]
        if phase == "start":
            message = "the checking process could not start" + (
                f": {tail[0]}" if tail else f"{died}."
            )
            hint = "a problem of the grading machine, not of the submission."
            status = "error"
        elif phase == "load" and timed_out:
            message = (
                f"defining the notebook's functions did not finish within "
                f"{check_timeout:g} s."
            )
            hint = "a decorator, default argument or class body never finishes."
            status = "timeout"
        else:
            message = f"the checking process stopped while defining the answers{died}."
            hint = "a decorator, default argument or class body exits or crashes."
            status = "error"
        for eid in pending:
            results[eid] = {"status": status, "message": message, "hint": hint}
        break
    return results, load_errors


# ---------------------------------------------------------------------------
# the whole grading
# ---------------------------------------------------------------------------
_DEFINES = (
    r"^[ \t]*(?:async[ \t]+def|def|class)[ \t]+{name}\b"
    r"|^{name}[ \t]*(?::[^=]*)?="
)


def _missing_message(
    name: str, nb: Any, runs: list[CellRun], load_errors: list[list[Any]]
) -> tuple[str, str]:
    """Why the run left no function ``name``."""
    by_index = {r.index: r for r in runs}
    pattern = re.compile(_DEFINES.format(name=re.escape(name)), re.MULTILINE)
    where = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and pattern.search(c.get("source", ""))
    ]
    if not where:
        return (
            f"the notebook defines no function `{name}`.",
            f"write the answer as a function called `{name}` (or pass yours to "
            "check(...)).",
        )
    i = where[-1]
    run = by_index.get(i)
    errors = {cell: err for cell, err in load_errors}
    if i in errors:
        return (
            f"`{name}` (cell {i + 1}) could not be defined again: {errors[i]}.",
            "keep the answer's cell free of anything but imports and definitions.",
        )
    if run is None or run.status == "skipped":
        return (
            f"the cell that defines `{name}` (cell {i + 1}) was not run: the "
            "notebook ran out of time or its kernel stopped before it.",
            "make the cells above it finish in fast mode.",
        )
    if run.status == "error":
        return (
            f"the cell that defines `{name}` (cell {i + 1}) raised {run.error} "
            "before the definition took effect.",
            "run the notebook from the top (Restart & Run All) and fix the first "
            "error.",
        )
    if run.status == "timeout":
        return (
            f"the cell that defines `{name}` (cell {i + 1}) timed out before the "
            "definition took effect.",
            "make the cell finish quickly in fast mode.",
        )
    return (
        f"`{name}` is not defined by a top-level def, class, import or constant in "
        "the notebook.",
        f"write the answer as `def {name}(...)` at the top level of a cell.",
    )


def grade_notebook(
    path: str | os.PathLike,
    timeout: float = 900.0,
    cell_timeout: float = 300.0,
    check_timeout: float = 60.0,
    chapters: list[str] | None = None,
) -> SubmissionGrade:
    """Grade one notebook (see the module docstring for what happens).

    Args:
        path: the learner's ``.ipynb``.
        timeout: seconds for the whole notebook run; later cells are skipped.
        cell_timeout: seconds per cell; a slower cell is interrupted.
        check_timeout: seconds per exercise for the re-check.
        chapters: grade these chapters (``["ch01"]``) instead of the ones the
            notebook mentions.

    Returns:
        A :class:`SubmissionGrade` with one :class:`GradeRow` per exercise, then
        one per predict-then-run question. The function does not raise because of
        what the notebook contains; it raises ``OSError`` / ``nbformat`` errors
        only when ``path`` is not a readable notebook.
    """
    t0 = time.monotonic()
    label = str(path)
    nb = _read(path)
    ids = exercises_in(nb, chapters)
    question_ids = predictions_in(nb, chapters)
    sub = SubmissionGrade(label)
    if not ids and not question_ids:
        sub.note = "no exercise id (such as ch01.d_loss) found in the notebook"
        sub.rows.append(
            GradeRow(
                label,
                "",
                "error",
                "no exercise to grade: the notebook mentions no exercise id.",
                "pass --chapter chNN to grade it on a chapter.",
            )
        )
        sub.seconds = round(time.monotonic() - t0, 1)
        return sub
    names = _answer_names(nb, ids)
    with tempfile.TemporaryDirectory(prefix="gancourse-grade-") as tmp:
        workdir = Path(tmp)
        (workdir / "run").mkdir()
        runs, note = _run_notebook(nb, workdir / "run", timeout, cell_timeout)
        sub.cells, sub.note = runs, note
        statements = answer_statements(nb, runs)
        results, load_errors = _recheck(statements, names, workdir, check_timeout)
        recorded = _recorded_predictions(workdir / "run" / _LEARNER_PROGRESS)
    for eid in ids:
        res = results.get(eid, {})
        verdict = res.get("status", "error")
        message, hint = res.get("message", ""), res.get("hint", "")
        if verdict == "missing":
            message, hint = _missing_message(names[eid], nb, runs, load_errors)
        elif not message:
            message = "no verdict came back from the checking process."
        sub.rows.append(
            GradeRow(label, eid, verdict, message, hint, float(res.get("seconds", 0.0)))
        )
    for pid in question_ids:
        sub.rows.append(_prediction_row(label, pid, recorded.get(pid), nb, runs))
    sub.seconds = round(time.monotonic() - t0, 1)
    return sub


def _recorded_predictions(path: Path) -> dict[str, str]:
    """Question id -> letter, from the run's progress file (see the module
    docstring); only entries whose letter is one of the question's choices."""
    from gancourse.homework import PREDICTIONS

    try:
        if path.stat().st_size > _MAX_PROGRESS_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    entries = data.get("exercises") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return {}
    out = {}
    for pid, question in PREDICTIONS.items():
        entry = entries.get(pid)
        if not isinstance(entry, dict) or entry.get("status") != "predicted":
            continue
        answer = entry.get("answer")
        if isinstance(answer, str) and answer in question.choices:
            out[pid] = answer
    return out


def _prediction_row(
    label: str, pid: str, answer: str | None, nb: Any, runs: list[CellRun]
) -> GradeRow:
    from gancourse.homework import PREDICTIONS

    question = PREDICTIONS[pid]
    if answer is not None:
        text = question.choices[answer].strip().rstrip(".")
        return GradeRow(
            label, pid, "predicted", f"({answer}) {text}.", kind="prediction"
        )
    call = re.compile(r"""\bpredict\(\s*["']""" + re.escape(pid) + """["']""")
    where = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and call.search(c.get("source", ""))
    ]
    hint = (
        f"set my_prediction to one of {question.letters_text} and run the cell "
        f'with predict("{pid}", my_prediction).'
    )
    status = {r.index: r.status for r in runs}
    if not where:
        message = f'the notebook never calls predict("{pid}", ...).'
    elif all(status.get(i, "skipped") == "skipped" for i in where):
        message = f"the cell that calls predict (cell {where[-1] + 1}) was not run."
    elif all(status.get(i) in ("error", "timeout") for i in where):
        message = (
            f"the cell that calls predict (cell {where[-1] + 1}) stopped before "
            "recording a prediction."
        )
    else:
        message = (
            f"predict(...) ran without one of the letters {question.letters_text} "
            "(still None, or another value)."
        )
    return GradeRow(label, pid, "no prediction", message, hint, kind="prediction")


def grade(
    paths: list[str | os.PathLike],
    timeout: float = 900.0,
    cell_timeout: float = 300.0,
    check_timeout: float = 60.0,
    chapters: list[str] | None = None,
    echo: bool = False,
) -> list[SubmissionGrade]:
    """Grade several notebooks one after the other (see :func:`grade_notebook`);
    ``echo`` prints each one's table as soon as it is graded."""
    out = []
    for path in paths:
        sub = grade_notebook(path, timeout, cell_timeout, check_timeout, chapters)
        if echo:
            print(format_grades([sub]), flush=True)
        out.append(sub)
    return out


#: The columns of the CSV that :func:`write_csv` writes.
CSV_COLUMNS = (
    "submission",
    "exercise",
    "verdict",
    "points",
    "message",
    "hint",
    "seconds",
)


def write_csv(subs: list[SubmissionGrade], path: str | os.PathLike) -> Path:
    """Write one row per submission and exercise (:data:`CSV_COLUMNS`)."""
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for sub in subs:
            for r in sub.rows:
                writer.writerow(
                    [
                        r.submission,
                        r.exercise,
                        r.verdict,
                        r.points,
                        r.message,
                        r.hint,
                        f"{r.seconds:.2f}",
                    ]
                )
    return path


def _cells_summary(sub: SubmissionGrade) -> str:
    count = {s: sum(r.status == s for r in sub.cells) for s in ("error", "timeout")}
    skipped = sum(r.status == "skipped" for r in sub.cells)
    parts = [f"{len(sub.cells)} code cells"]
    if count["error"]:
        parts.append(f"{count['error']} raised")
    if count["timeout"]:
        parts.append(f"{count['timeout']} timed out")
    if skipped:
        parts.append(f"{skipped} not run")
    return ", ".join(parts)


def format_grades(subs: list[SubmissionGrade]) -> str:
    """The grades as a readable text table, one block per submission."""
    lines = []
    for sub in subs:
        total = len(sub.exercise_rows)
        questions = sub.prediction_rows
        predicted = ""
        if questions:
            made = sum(r.verdict == "predicted" for r in questions)
            predicted = f", {made}/{len(questions)} predicted"
        lines.append(
            f"{sub.submission}: {sub.score}/{total} passed{predicted} "
            f"({_cells_summary(sub)}; {sub.seconds:.1f} s)"
        )
        if sub.note:
            lines.append(f"  note: {sub.note}")
        for cell in sub.cells:
            if cell.status in ("error", "timeout"):
                what = cell.error or "timed out"
                lines.append(f"  cell {cell.index + 1}: {what}")
        width = max([len(r.exercise) for r in sub.rows] + [8])
        for r in sub.rows:
            symbol = _SYMBOL.get(r.verdict, "✗")
            lines.append(
                f"  {symbol} {r.exercise:{width}s}  {r.verdict:15s} {r.message}"
            )
            if r.hint:
                lines.append(f"    {'':{width}s}  {'':15s} hint: {r.hint}")
        lines.append("")
    return "\n".join(lines)
