"""Predict-then-run questions: the learner commits to a prediction, then runs.

Each chapter asks, next to its checked exercises, at least one question about what
the run below it will show ("which gradient reaches the logit?"). In the master
notebook a markdown cell states the question and its lettered choices
(:meth:`Prediction.markdown` writes them), then a code cell reads::

    ### BEGIN SOLUTION
    my_prediction = "a"
    ### END SOLUTION
    predict("ch01.bce_confident_gradient", my_prediction)

which ``tools/make_exercises.py`` turns into
``my_prediction = None  # YOUR PREDICTION HERE: one of the letters above`` in the
exercise copy; the learner picks a letter *before* running the experiment, and the
next cell runs the experiment whose output answers the question. There is no right
answer to check: the run decides, and the point is to compare. A prediction counts
as *done* in the progress table as soon as a valid choice has been recorded,
whichever it is.

A chapter module defines its questions as :class:`Prediction` objects in a
``PREDICTIONS`` dict next to ``EXERCISES``; :mod:`gancourse.homework` merges them.
:func:`run_predict` turns a learner's answer into a :class:`PredictionResult`; it
never raises because of the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DONE_WHEN",
    "NO_PREDICTION",
    "PREDICTED",
    "INVALID",
    "Prediction",
    "PredictionResult",
    "normalise_answer",
    "run_predict",
]

#: The status recorded in the progress file for a valid prediction.
PREDICTED = "predicted"
#: No answer yet (``None`` or ``""``): nothing is recorded.
NO_PREDICTION = "no prediction"
#: An answer that is not one of the choices: nothing is recorded.
INVALID = "invalid"
_SYMBOL = {PREDICTED: "✓", NO_PREDICTION: "○", INVALID: "✗"}

#: When a prediction counts as done (the default ``Prediction.done_when``).
DONE_WHEN = (
    "done as soon as predict(...) has recorded one of the choices; whether it "
    "matches the run does not matter"
)

_ID = re.compile(r"^ch\d\d\.[A-Za-z_]\w*$")
_LETTER = re.compile(r"^[a-z]$")


@dataclass(frozen=True)
class Prediction:
    """One predict-then-run question.

    Attributes:
        id: ``"chNN.name"``, what learners pass to ``predict``.
        question: the question, one sentence.
        choices: letter -> answer text, e.g. ``{"a": "...", "b": "...", "c": "..."}``
            (lower-case single letters, at least two). None of them is marked as
            right: the run that follows the question decides.
        done_when: when the question counts as done in the progress table
            (``DONE_WHEN`` unless a chapter says otherwise).
    """

    id: str
    question: str
    choices: dict[str, str]
    done_when: str = DONE_WHEN

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"prediction id {self.id!r} is not of the form chNN.name")
        if len(self.choices) < 2 or not all(
            isinstance(k, str) and _LETTER.match(k) for k in self.choices
        ):
            raise ValueError(
                f"{self.id}: choices must map at least two lower-case letters to "
                f"answers, got keys {list(self.choices)}"
            )

    @property
    def letters(self) -> list[str]:
        """The valid answers, in order (``["a", "b", "c"]``)."""
        return list(self.choices)

    @property
    def letters_text(self) -> str:
        """``"a, b, c"``."""
        return ", ".join(self.letters)

    def markdown(self) -> str:
        """The question and its choices as a markdown list, for a notebook cell."""
        lines = [f"**Predict, then run.** {self.question}", ""]
        lines += [f"- ({k}) {v}" for k, v in self.choices.items()]
        return "\n".join(lines)


@dataclass
class PredictionResult:
    """What :func:`gancourse.homework.predict` did; truthy iff a prediction was
    recorded.

    Attributes:
        prediction_id: the question's id.
        answer: the normalised letter (``"b"``), or ``None`` when there was no
            valid answer.
        status: ``"predicted"``, ``"no prediction"`` or ``"invalid"``.
        message: the one-line text after the id.
    """

    prediction_id: str
    answer: str | None
    status: str
    message: str = field(default="")

    def __bool__(self) -> bool:
        return self.status == PREDICTED

    @property
    def line(self) -> str:
        """The one line that ``predict`` prints."""
        return f"{_SYMBOL[self.status]} {self.prediction_id}: {self.message}"

    def __str__(self) -> str:
        return self.line

    # ``predict`` already printed the line; as the last expression of a cell the
    # result shows this short form instead of a second copy.
    def __repr__(self) -> str:
        return f"PredictionResult({self.prediction_id!r}, {self.status})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))


def normalise_answer(answer: str | None) -> str | None:
    """``" B "`` -> ``"b"``; ``None`` and blank strings -> ``None``. Whether the
    result is one of the choices is for the caller to check."""
    if answer is None:
        return None
    return answer.strip().lower() or None


def _no_period(text: str) -> str:
    return text.strip().rstrip(".")


def run_predict(prediction: Prediction, answer: Any) -> PredictionResult:
    """Validate ``answer`` against ``prediction``'s choices (never raises)."""
    pid = prediction.id
    letters = prediction.letters_text
    if answer is None or (isinstance(answer, str) and not answer.strip()):
        return PredictionResult(
            pid,
            None,
            NO_PREDICTION,
            f"no prediction yet: set my_prediction to one of {letters}.",
        )
    if not isinstance(answer, str):
        return PredictionResult(
            pid,
            None,
            INVALID,
            f"expected one of the letters {letters} as a string, got "
            f"{type(answer).__name__} {_short_repr(answer)}; nothing recorded.",
        )
    letter = normalise_answer(answer)
    if letter not in prediction.choices:
        return PredictionResult(
            pid,
            None,
            INVALID,
            f"{answer.strip()!r} is not one of the choices: answer with one of "
            f"{letters} (nothing recorded).",
        )
    text = _no_period(prediction.choices[letter])
    return PredictionResult(
        pid,
        letter,
        PREDICTED,
        f"prediction recorded: ({letter}) {text}. Run the next cell and compare.",
    )


def _short_repr(value: Any, limit: int = 40) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
