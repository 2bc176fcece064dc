"""The clean process in which :mod:`gancourse.homework.grade` re-checks answers.

Run as ``python -m gancourse.homework._grade_worker`` with a JSON job on stdin::

    {"statements": [{"cell": 3, "source": "def d_loss(...): ..."}, ...],
     "exercises": [{"id": "ch01.d_loss", "name": "d_loss"}, ...],
     "results": "/tmp/.../recheck-1.jsonl"}

It imports the genuine checker *before* any learner code exists in the process,
keeps its own references to it, then executes the learner's definitions (one
statement at a time, in a namespace of their own) and checks each answer with
:func:`gancourse.homework._checker.run_check`. Progress goes to the results file
as JSON lines, one event per line (``ready``, ``loaded``, ``start``, ``result``),
so that the grader knows which exercise was running if this process hangs or
dies. Nothing the learner prints reaches the grader.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _short(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:160]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def main() -> int:
    job = json.loads(sys.stdin.read())
    out = open(job["results"], "a", encoding="utf-8")  # noqa: SIM115

    def emit(**event: object) -> None:
        out.write(json.dumps(event) + "\n")
        out.flush()

    # The genuine checker, bound to local names before learner code runs.
    import gancourse.homework as homework
    from gancourse.homework._checker import run_check

    exercises = dict(homework.EXERCISES)
    emit(event="ready")

    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    namespace: dict[str, object] = {"__name__": "__submission__", "FAST": True}
    errors = []
    for statement in job["statements"]:
        try:
            code = compile(statement["source"], f"<cell {statement['cell']}>", "exec")
            exec(code, namespace)
        except BaseException as exc:  # learner code can raise anything
            errors.append([statement["cell"], _short(exc)])
    emit(event="loaded", errors=errors)

    for item in job["exercises"]:
        eid, name = item["id"], item["name"]
        emit(event="start", id=eid)
        t0 = time.perf_counter()
        fn = namespace.get(name)
        if fn is None:
            emit(event="result", id=eid, status="missing", message="", hint="")
            continue
        try:
            result = run_check(exercises[eid], fn)
            status, message, hint = result.status, result.message, result.hint
        except BaseException as exc:  # SystemExit / KeyboardInterrupt from learner
            status = "error"
            message = f"checking stopped with {_short(exc)}."
            hint = "do not exit or interrupt from inside your function."
        if "NameError" in message:
            hint = (
                "the grader re-creates only your imports, functions, classes and "
                "constants; define what the answer needs inside it or import it."
            )
        emit(
            event="result",
            id=eid,
            status=status,
            message=message,
            hint=hint,
            seconds=round(time.perf_counter() - t0, 2),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
