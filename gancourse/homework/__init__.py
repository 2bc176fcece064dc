"""Self-checking homework: ``check(exercise_id, fn)``, ``show_solution(id)`` and
``predict(prediction_id, answer)``.

Usage in a notebook::

    from gancourse.homework import check, show_solution

    def d_loss(logits_real, logits_fake):
        ...

    check("ch01.d_loss", d_loss)      # prints "✓ ch01.d_loss: correct" or what is wrong
    show_solution("ch01.d_loss")      # prints the reference answer
    progress()                        # what is done, tried and not started

    my_prediction = "a"               # a predict-then-run question: pick a letter,
    predict("ch01.bce_confident_gradient", my_prediction)  # then run the next cell

``check`` runs the learner's function on controlled inputs against the reference
answer plus property checks (shapes, dtype, NaN/Inf, gradients) and prints a
one-line verdict with a hint. It never raises because of the learner's code; it
returns a :class:`CheckResult` that is truthy iff the answer is correct. Every
verdict is also recorded in a small local file (see
:mod:`gancourse.homework.tracking`); instructors grade submitted notebooks with
:mod:`gancourse.homework.grade` (``gancourse grade``).

``predict`` records a learner's answer to a predict-then-run question (see
``gancourse.homework.predictions``); any valid choice counts as done.

Adding a chapter: write ``chNN.py`` following ``ch01.py`` (a reference and a check
function per exercise, collected in an ``EXERCISES`` dict, and its predict-then-run
questions in a ``PREDICTIONS`` dict) and merge both below.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

# gancourse.config first: importing gancourse.gans (which ch02 needs) before it
# runs into a circular import (config's presets need the method registry).
import gancourse.config  # noqa: F401, I001
from gancourse.homework import ch01, ch02, ch03, ch04, ch08, tracking
from gancourse.homework._checker import CheckResult, Exercise, Failure, run_check
from gancourse.homework.predictions import (
    PREDICTED,
    Prediction,
    PredictionResult,
    run_predict,
)
from gancourse.homework.tracking import progress

__all__ = [
    "check",
    "show_solution",
    "predict",
    "progress",
    "EXERCISES",
    "PREDICTIONS",
    "RETIRED",
    "CheckResult",
    "Exercise",
    "Failure",
    "Prediction",
    "PredictionResult",
]

# Registry: exercise id -> Exercise, filled by explicit imports (greppable).
EXERCISES: dict[str, Exercise] = {
    **ch01.EXERCISES,
    **ch02.EXERCISES,
    **ch03.EXERCISES,
    **ch04.EXERCISES,
    **ch08.EXERCISES,
}

# Retired exercise ids: still checked, never listed, counted or graded.
RETIRED: dict[str, Exercise] = {
    **ch01.RETIRED,
    **ch02.RETIRED,
}

# Registry: prediction id -> Prediction (predict-then-run questions), likewise.
PREDICTIONS: dict[str, Prediction] = {
    **ch01.PREDICTIONS,
    **ch02.PREDICTIONS,
    **ch03.PREDICTIONS,
    **ch04.PREDICTIONS,
    **ch08.PREDICTIONS,
}


def _lookup(registry: dict[str, Any], kind: str, key: str) -> Any:
    try:
        return registry[key]
    except (KeyError, TypeError):
        pass
    close = difflib.get_close_matches(str(key), registry, n=1)
    guess = f" Did you mean {close[0]!r}?" if close else ""
    if key in EXERCISES:
        guess = f" {key!r} is an exercise: use check({key!r}, your_function)."
    elif key in PREDICTIONS:
        guess = f" {key!r} is a prediction: use predict({key!r}, my_prediction)."
    raise ValueError(
        f"unknown {kind} id {key!r}.{guess} Valid ids: {', '.join(sorted(registry))}"
    ) from None


def _get(exercise_id: str) -> Exercise:
    if exercise_id in RETIRED:
        return RETIRED[exercise_id]
    return _lookup(EXERCISES, "exercise", exercise_id)


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
    exercise = _get(exercise_id)
    result = run_check(exercise, fn)
    if exercise.retired:  # checked as before, but no longer part of the course
        if verbose:
            print(result.line)
            print(f"note: {exercise_id} is retired: {exercise.retired}.")
        return result
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


def predict(prediction_id: str, answer: str | None) -> PredictionResult:
    """Record your answer to the predict-then-run question ``prediction_id``.

    A predict-then-run question asks what the experiment in the next cell will
    show. Choose one of the lettered answers *before* running it::

        my_prediction = "a"
        predict("ch01.bce_confident_gradient", my_prediction)

    then run the next cell and compare. No answer is marked right or wrong: the run
    decides. The question counts as **done** in ``progress()`` and
    ``gancourse progress`` as soon as one valid choice has been recorded, whichever
    it is; predicting again replaces the recorded answer (the first one is kept as
    ``first_answer`` in the progress file).

    Args:
        prediction_id: e.g. ``"ch01.bce_confident_gradient"``; see ``PREDICTIONS``.
        answer: one of the question's letters (``"a"``, ``"b"``, ...), in any case
            and with or without surrounding spaces; ``None`` or ``""`` while you
            have not predicted yet.

    Prints one line: ``✓`` with the recorded choice, ``○`` when there is no answer
    yet, or ``✗`` with the valid letters when the answer is not one of them.
    Nothing is recorded unless the answer is valid. It never raises because of
    ``answer``.

    Returns:
        A :class:`PredictionResult`, truthy iff the prediction was recorded.

    Raises:
        ValueError: ``prediction_id`` is unknown (the message lists the valid ids).
    """
    result = run_predict(_lookup(PREDICTIONS, "prediction", prediction_id), answer)
    if result.status == PREDICTED:
        tracking.record(result.prediction_id, PREDICTED, answer=result.answer)
    print(result.line)
    return result
