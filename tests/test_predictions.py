"""Predict-then-run questions: predict(id, answer) validates the learner's letter,
prints one line, records a valid choice in the progress file, and the question
then counts as done in the progress table."""

from __future__ import annotations

import json

import pytest
import torch.nn.functional as F

from gancourse import cli
from gancourse.homework import (
    EXERCISES,
    PREDICTIONS,
    Prediction,
    check,
    predict,
    tracking,
)

PID = "ch01.bce_confident_gradient"


@pytest.fixture
def prog(tmp_path, monkeypatch):
    """A fresh progress file and a fresh once-per-session warning flag."""
    path = tmp_path / "progress.json"
    monkeypatch.setenv("GANCOURSE_PROGRESS", str(path))
    monkeypatch.setattr(tracking, "_warned", False)
    return path


def entries(path):
    return json.loads(path.read_text())["exercises"]


@pytest.mark.parametrize("answer", ["c", "C", "  c ", " C\n"])
def test_valid_answer_is_recorded_and_printed(prog, capsys, answer):
    result = predict(PID, answer)
    line = capsys.readouterr().out.strip()
    text = PREDICTIONS[PID].choices["c"].rstrip(".")
    assert line == (
        f"✓ {PID}: prediction recorded: (c) {text}. Run the next cell and compare."
    )
    assert result and result.answer == "c" and result.status == "predicted"
    entry = entries(prog)[PID]
    assert entry["status"] == entry["best"] == "predicted"
    assert entry["answer"] == entry["first_answer"] == "c"
    assert entry["attempts"] == 1


@pytest.mark.parametrize("answer", [None, "", "   "])
def test_no_answer_yet_records_nothing(prog, capsys, answer):
    result = predict(PID, answer)
    line = capsys.readouterr().out.strip()
    assert line == (f"○ {PID}: no prediction yet: set my_prediction to one of a, b, c.")
    assert not result and result.answer is None
    assert result.status == "no prediction"
    assert not prog.exists()


@pytest.mark.parametrize(
    "answer, words",
    [
        ("d", "'d' is not one of the choices: answer with one of a, b, c"),
        ("(a) about 1", "not one of the choices"),
        ("ab", "not one of the choices"),
        (2, "expected one of the letters a, b, c as a string, got int 2"),
        (["a"], "got list ['a']"),
        (True, "got bool True"),
    ],
)
def test_invalid_answer_lists_the_letters_and_records_nothing(
    prog, capsys, answer, words
):
    result = predict(PID, answer)  # never raises for learner input
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"✗ {PID}: ") and words in line
    assert "\n" not in line and "nothing recorded" in line
    assert not result and result.status == "invalid"
    assert not prog.exists()


def test_invalid_answer_keeps_an_earlier_prediction(prog, capsys):
    predict(PID, "a")
    predict(PID, "z")
    predict(PID, None)
    entry = entries(prog)[PID]
    assert entry["answer"] == "a" and entry["attempts"] == 1


def test_predicting_again_replaces_the_answer_and_keeps_the_first(prog, capsys):
    predict(PID, "a")
    predict(PID, "B")
    entry = entries(prog)[PID]
    assert entry["answer"] == "b" and entry["first_answer"] == "a"
    assert entry["attempts"] == 2 and entry["status"] == "predicted"


def test_off_records_nothing(prog, monkeypatch, capsys):
    monkeypatch.setenv("GANCOURSE_PROGRESS", "off")
    assert predict(PID, "a")
    assert "prediction recorded" in capsys.readouterr().out
    assert not prog.exists()


def test_unknown_id_lists_valid_ids():
    with pytest.raises(ValueError) as err:
        predict("ch01.bce_confident_gradiant", "a")
    message = str(err.value)
    assert f"Did you mean {PID!r}" in message
    assert all(pid in message for pid in PREDICTIONS)
    with pytest.raises(ValueError, match="is an exercise: use check"):
        predict("ch01.d_loss", "a")
    with pytest.raises(ValueError, match="is a prediction: use predict"):
        check(PID, lambda *a: None)
    with pytest.raises(ValueError, match="unknown prediction id"):
        predict(None, "a")


def test_result_repr_is_short(prog, capsys):
    result = predict(PID, "a")
    assert repr(result) == f"PredictionResult({PID!r}, predicted)"
    assert str(result) == result.line and result.line.startswith("✓")


def test_progress_table_lists_predictions_with_exercises(prog, capsys):
    ch01_ids = [i for i in [*EXERCISES, *PREDICTIONS] if i.startswith("ch01.")]
    total = len(EXERCISES) + len(PREDICTIONS)
    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    assert f"0/{total}" in out
    assert "bce_confident_gradient" in out.split("ch01:")[1].split("ch02:")[0]

    def right_d_loss(lr, lf):
        return F.softplus(-lr).mean() + F.softplus(lf).mean()

    check("ch01.d_loss", right_d_loss, verbose=False)
    predict(PID, "b")
    predict("ch02.clipping_gradients", None)  # not answered: not started
    capsys.readouterr()
    rows = {r.chapter: r for r in tracking.chapter_progress()}
    assert rows["ch01"].done == ["ch01.bce_confident_gradient", "ch01.d_loss"]
    assert rows["ch01"].predicted == {PID: "b"}
    assert rows["ch01"].total == len(ch01_ids)
    assert "ch02.clipping_gradients" in rows["ch02"].not_started
    assert rows["ch02"].tried == []

    assert cli.main(["progress"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    ch01 = next(line for line in lines if line.startswith("ch01 "))
    assert ch01.split() == ["ch01", f"2/{len(ch01_ids)}", "0", f"{len(ch01_ids) - 2}"]
    total_line = next(line for line in lines if line.startswith("total"))
    assert total_line.split()[1] == f"2/{total}"
    done = out.split("ch01:")[1].split("ch02:")[0]
    assert "done:         bce_confident_gradient (predicted b), d_loss" in done


# ---------------------------------------------------------------------------
# the registry and the Prediction record
# ---------------------------------------------------------------------------
def test_registry_is_well_formed():
    assert set(PREDICTIONS).isdisjoint(EXERCISES)
    assert {pid.split(".")[0] for pid in PREDICTIONS} >= {"ch01", "ch02", "ch08"}
    for pid, question in PREDICTIONS.items():
        assert question.id == pid
        assert question.question.endswith("?")
        assert len(question.choices) >= 2
        assert list(question.choices) == sorted(question.choices)
        assert len(set(question.choices.values())) == len(question.choices)
        assert "as soon as" in question.done_when


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": "d_loss", "choices": {"a": "x", "b": "y"}},
        {"id": "ch01.q", "choices": {"a": "x"}},
        {"id": "ch01.q", "choices": {"A": "x", "B": "y"}},
        {"id": "ch01.q", "choices": {"a": "x", "bb": "y"}},
    ],
)
def test_malformed_prediction_is_refused(kwargs):
    with pytest.raises(ValueError):
        Prediction(question="Which?", **kwargs)


def test_markdown_shows_question_and_choices():
    q = Prediction("ch09.q", "Which one?", {"a": "this", "b": "that"})
    assert q.markdown() == (
        "**Predict, then run.** Which one?\n\n- (a) this\n- (b) that"
    )
