"""Self-checking homework: ``check(exercise_id, fn)`` and ``show_solution(id)``.

Usage in a notebook::

    from gancourse.homework import check, show_solution

    def d_loss(logits_real, logits_fake):
        ...

    check("ch01.d_loss", d_loss)      # prints "✓ ch01.d_loss: correct" or what is wrong
    show_solution("ch01.d_loss")      # prints the reference answer
    progress()                        # what is done, tried and not started

``check`` runs the learner's function on controlled inputs against the reference
answer plus property checks (shapes, dtype, NaN/Inf, gradients) and prints a
one-line verdict with a hint. It never raises because of the learner's code; it
returns a :class:`CheckResult` that is truthy iff the answer is correct. Every
verdict is also recorded in a small local file (see
:mod:`gancourse.homework.tracking`); instructors grade submitted notebooks with
:mod:`gancourse.homework.grade` (``gancourse grade``).

Adding a chapter: write ``chNN.py`` following ``ch01.py`` (a reference and a check
function per exercise, collected in an ``EXERCISES`` dict) and merge it below.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

# gancourse.config first: importing gancourse.gans (which ch02 needs) before it
# runs into a circular import (config's presets need the method registry).
import gancourse.config  # noqa: F401, I001
from gancourse.homework import ch01, ch02, ch03, ch08, tracking
from gancourse.homework._checker import CheckResult, Exercise, Failure, run_check
from gancourse.homework.tracking import progress

__all__ = [
    "check",
    "show_solution",
    "progress",
    "EXERCISES",
    "CheckResult",
    "Exercise",
    "Failure",
]

# Registry: exercise id -> Exercise, filled by explicit imports (greppable).
EXERCISES: dict[str, Exercise] = {
    **ch01.EXERCISES,
    **ch02.EXERCISES,
    **ch03.EXERCISES,
    **ch08.EXERCISES,
}


def _get(exercise_id: str) -> Exercise:
    try:
        return EXERCISES[exercise_id]
    except (KeyError, TypeError):
        pass
    close = difflib.get_close_matches(str(exercise_id), EXERCISES, n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"unknown exercise id {exercise_id!r}.{guess} "
        f"Valid ids: {', '.join(sorted(EXERCISES))}"
    ) from None


def check(
    exercise_id: str, fn: Callable[..., Any], verbose: bool = True
) -> CheckResult:
    """Check a learner's answer to exercise ``exercise_id``.

    Args:
        exercise_id: e.g. ``"ch01.d_loss"``; see ``EXERCISES`` for all ids.
        fn: the learner's function (the function itself, not its result).
        verbose: print the one-line verdict (default ``True``).

    Returns:
        A :class:`CheckResult`; ``bool(result)`` is ``True`` iff every check passed,
        ``result.message`` / ``result.hint`` say what is wrong and what to try.
        The verdict is also recorded in your progress file
        (:func:`gancourse.homework.tracking.record`).

    Raises:
        ValueError: ``exercise_id`` is unknown (the message lists the valid ids).
    """
    result = run_check(_get(exercise_id), fn)
    tracking.record(result.exercise_id, result.status)
    if verbose:
        print(result.line)
    return result


def solution_source(exercise_id: str) -> str:
    """The source code of the reference answer to ``exercise_id``."""
    exercise = _get(exercise_id)
    parts = []
    for obj in exercise.solution_objects():
        where = f"{obj.__module__}.{obj.__qualname__}"
        parts.append(f"# {where}\n{inspect.getsource(obj).rstrip()}\n")
    return "\n\n".join(parts)


def show_solution(exercise_id: str) -> None:
    """Print the reference answer to ``exercise_id`` (for when you are stuck)."""
    print(solution_source(exercise_id))
