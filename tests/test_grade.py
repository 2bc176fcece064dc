"""`gancourse grade`: run learners' notebooks, take their answers out of the run and
re-check them with the genuine checker, on tiny synthetic submissions (a solved, an
unsolved, a crashing and cheating, and a hanging one), never on whole chapters.

The tests that run notebook kernels are marked ``slow`` (each submission starts a
kernel and a checking process: a few seconds each), so ``make test`` runs them with
the notebook and book tests rather than with the unit tests."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from gancourse import cli
from gancourse.homework import EXERCISES, PREDICTIONS
from gancourse.homework import grade as grading
from gancourse.homework.grade import CellRun, answer_statements, grade_notebook

ROOT = Path(__file__).resolve().parents[1]
CH01 = [eid for eid in EXERCISES if eid.startswith("ch01.")]
CH01_QUESTIONS = [pid for pid in PREDICTIONS if pid.startswith("ch01.")]
PID = "ch01.bce_confident_gradient"


def notebook(path: Path, *cells: str) -> Path:
    """A notebook whose cells are ``cells`` (markdown when they start with '#')."""
    nb = new_notebook(
        cells=[
            new_markdown_cell(c[2:]) if c.startswith("# ") else new_code_cell(c)
            for c in cells
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, str(path))
    return path


SOLVED = (
    "# Chapter 1 exercises: `ch01.d_loss`, `ch01.optimal_logit`",
    "import torch.nn.functional as F\nfrom gancourse.homework import check\nEPS = 0.0",
    "def d_loss(logits_real, logits_fake):\n"
    "    return F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean() + EPS",
    'check("ch01.d_loss", d_loss);',
    # a name of the learner's own, found through their check call
    "def my_optimal_logit(x, mu_data, mu_g, sigma):\n"
    "    return ((x - mu_g) ** 2 - (x - mu_data) ** 2) / (2 * sigma**2)",
    'check("ch01.optimal_logit", my_optimal_logit);',
    # a predict-then-run answer, in any case and with spaces
    'from gancourse.homework import predict\nmy_prediction = " C "',
    f'predict("{PID}", my_prediction);',
)
UNSOLVED = (  # as in the exercise copy, never filled in
    "# Write `ch01.d_loss` and `ch01.g_loss_nonsaturating`.",
    "def d_loss(logits_real, logits_fake):\n"
    "    # YOUR CODE HERE\n    raise NotImplementedError",
    "def g_loss_nonsaturating(logits_fake):\n"
    "    # YOUR CODE HERE\n    raise NotImplementedError",
    "from gancourse.homework import predict\n"
    "my_prediction = None  # YOUR PREDICTION HERE: one of the letters above\n"
    f'predict("{PID}", my_prediction)',
)
CRASH_AND_CHEAT = (
    'raise RuntimeError("boom")',
    # defined after a failing cell: still graded
    "def optimal_logit(x, mu_data, mu_g, sigma):\n"
    "    return ((x - mu_g) ** 2 - (x - mu_data) ** 2) / (2 * sigma**2)",
    # a fake checker that always says yes, and a wrong answer (labels swapped)
    "check = lambda *args: True",
    "def d_loss(logits_real, logits_fake):\n"
    "    import torch.nn.functional as F\n"
    "    return F.softplus(logits_real).mean() + F.softplus(-logits_fake).mean()",
    'print("✓ ch01.d_loss: correct", check("ch01.d_loss", d_loss))',
    # the run stops at line 1, so this definition never takes effect
    "x = 1 / 0\ndef g_loss_nonsaturating(logits_fake):\n    return logits_fake.mean()",
    # an answer that crashes when called
    'def dcgan_up_block(in_ch, out_ch):\n    raise ValueError("no idea")',
    "def broken(:\n    pass",
    # a forged record of a letter that is not a choice: not a prediction
    "import json, os\n"
    'with open(os.environ["GANCOURSE_PROGRESS"], "w") as f:\n'
    f'    json.dump({{"exercises": {{"{PID}": {{"status": "predicted", '
    '"answer": "z"}}}, f)',
)
HANGING = (
    "# `ch01.d_loss`",
    "def optimal_logit(x, mu_data, mu_g, sigma):\n"
    "    return ((x - mu_g) ** 2 - (x - mu_data) ** 2) / (2 * sigma**2)",
    "def d_loss(logits_real, logits_fake):\n    while True:\n        pass",
    "while True:\n    pass",  # the notebook itself hangs here
    "def g_loss_nonsaturating(logits_fake):\n"
    "    import torch.nn.functional as F\n"
    "    return F.softplus(-logits_fake).mean()",
    "def dcgan_up_block(in_ch, out_ch):\n    import os\n    os._exit(3)",
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """`gancourse grade` on three submissions at once, as an instructor runs it."""
    tmp = tmp_path_factory.mktemp("grade")
    paths = [
        notebook(tmp / "solved.ipynb", *SOLVED),
        notebook(tmp / "unsolved.ipynb", *UNSOLVED),
        notebook(tmp / "crash_and_cheat.ipynb", *CRASH_AND_CHEAT),
    ]
    out_csv = tmp / "out" / "grades.csv"
    mine = tmp / "instructor-progress.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANCOURSE_PROGRESS", str(mine))
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = cli.main(["grade", *map(str, paths), "--out", str(out_csv)])
    with open(out_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        "code": code,
        "stdout": stdout.getvalue(),
        "stderr": stderr.getvalue(),
        "rows": {(Path(r["submission"]).stem, r["exercise"]): r for r in rows},
        "instructor_progress": mine,
    }


def verdicts(graded, stem):
    return {eid: graded["rows"][(stem, eid)]["verdict"] for eid in CH01}


@pytest.mark.slow
def test_grading_succeeds_and_warns_about_untrusted_code(graded):
    assert graded["code"] == 0  # students failing is not an error of the grader
    assert "runs the code in the submitted notebooks" in graded["stderr"]
    assert "container" in graded["stderr"]
    # the learners' own check() calls did not touch the instructor's record
    assert not graded["instructor_progress"].exists()


@pytest.mark.slow
def test_csv_has_a_row_per_exercise(graded):
    rows = graded["rows"]
    # every chapter-1 exercise and question, per submission
    assert len(rows) == 3 * (len(CH01) + len(CH01_QUESTIONS))
    some = rows[("solved", "ch01.d_loss")]
    assert list(some) == [
        "submission",
        "exercise",
        "verdict",
        "points",
        "message",
        "hint",
        "seconds",
    ]


@pytest.mark.slow
def test_solved_submission(graded):
    assert verdicts(graded, "solved") == {
        "ch01.d_loss": "passed",
        "ch01.optimal_logit": "passed",  # defined as my_optimal_logit
        "ch01.g_loss_nonsaturating": "missing",
        "ch01.dcgan_up_block": "missing",
        "ch01.train_step": "missing",
    }
    row = graded["rows"][("solved", "ch01.d_loss")]
    assert row["points"] == "1" and row["hint"] == ""
    missing = graded["rows"][("solved", "ch01.dcgan_up_block")]
    assert missing["points"] == "0"
    assert "defines no function `dcgan_up_block`" in missing["message"]


@pytest.mark.slow
def test_unsolved_submission(graded):
    assert verdicts(graded, "unsolved") == {
        "ch01.d_loss": "not implemented",
        "ch01.g_loss_nonsaturating": "not implemented",
        "ch01.optimal_logit": "missing",
        "ch01.dcgan_up_block": "missing",
        "ch01.train_step": "missing",
    }
    assert "NotImplementedError" in graded["rows"][("unsolved", "ch01.d_loss")]["hint"]


@pytest.mark.slow
def test_crashing_and_cheating_submission(graded):
    rows = graded["rows"]
    assert verdicts(graded, "crash_and_cheat") == {
        "ch01.optimal_logit": "passed",  # a failing cell above does not stop the run
        "ch01.d_loss": "failed",  # `check = lambda *a: True` earns nothing
        "ch01.g_loss_nonsaturating": "missing",
        "ch01.dcgan_up_block": "failed",
        "ch01.train_step": "missing",
    }
    assert "swapped" in rows[("crash_and_cheat", "ch01.d_loss")]["message"]
    missing = rows[("crash_and_cheat", "ch01.g_loss_nonsaturating")]["message"]
    assert "cell 6" in missing and "ZeroDivisionError" in missing
    crash = rows[("crash_and_cheat", "ch01.dcgan_up_block")]["message"]
    assert "ValueError: no idea" in crash


@pytest.mark.slow
def test_table_is_readable(graded):
    out = graded["stdout"]
    n = sum(eid.startswith("ch01.") for eid in EXERCISES)  # every ch01 id is graded
    assert f"solved.ipynb: 2/{n} passed" in out
    assert f"unsolved.ipynb: 0/{n} passed" in out
    assert f"crash_and_cheat.ipynb: 1/{n} passed" in out
    assert "cell 1: RuntimeError: boom" in out
    assert "SyntaxError" in out  # the broken cell is reported
    assert re.search(r"✗ ch01\.d_loss\s+failed\s+the labels are swapped", out)
    assert f"graded 3 notebook(s): 3/{3 * n} exercises passed" in out
    assert f"3/{3 * n} exercises passed, 1/3 predictions made" in out
    assert f"solved.ipynb: 2/{n} passed, 1/1 predicted" in out
    text = PREDICTIONS[PID].choices["c"]
    assert re.search(rf"✓ {re.escape(PID)}\s+predicted\s+\(c\) {text}\.", out)
    assert re.search(rf"– {re.escape(PID)}\s+no prediction\s", out)
    assert "grades.csv" in out


@pytest.mark.slow
def test_predictions_are_reported_without_points(graded):
    rows = graded["rows"]
    solved = rows[("solved", PID)]
    assert solved["verdict"] == "predicted" and solved["points"] == "0"
    assert solved["message"].startswith("(c) ")
    unsolved = rows[("unsolved", PID)]
    assert unsolved["verdict"] == "no prediction" and unsolved["points"] == "0"
    assert "without one of the letters a, b, c" in unsolved["message"]
    assert "my_prediction" in unsolved["hint"]
    forged = rows[("crash_and_cheat", PID)]  # a letter that is not a choice
    assert forged["verdict"] == "no prediction"
    assert "never calls predict" in forged["message"]


@pytest.mark.slow
def test_hanging_submission(tmp_path):
    path = notebook(tmp_path / "hang.ipynb", *HANGING)
    sub = grade_notebook(path, cell_timeout=2, check_timeout=3)
    got = {r.exercise: r for r in sub.rows}
    assert {eid: r.verdict for eid, r in got.items()} == {
        "ch01.optimal_logit": "passed",
        "ch01.d_loss": "timeout",  # the answer itself hangs
        "ch01.g_loss_nonsaturating": "passed",  # after the cell that hung
        "ch01.dcgan_up_block": "error",  # the answer kills the checking process
        "ch01.train_step": "missing",
        PID: "no prediction",
    }
    assert "did not finish within 3 s" in got["ch01.d_loss"].message
    assert "died" in got["ch01.dcgan_up_block"].message
    assert [c.status for c in sub.cells] == ["ok", "ok", "timeout", "ok", "ok"]


def test_statements_taken_out_of_the_run():
    nb = new_notebook(
        cells=[
            new_code_cell("%pip install nothing\nimport math\nEPS = 1e-8\nx = f(1)"),
            new_code_cell(
                "check = lambda *a: True\n"
                "import gancourse.homework._checker as c\n"
                "c.run_check = None\n"
                "def a():\n    return 1\n"
                "y = 1 / 0\n"
                "def b():\n    return 2"
            ),
            new_code_cell("def c():\n    return 3"),
            new_code_cell("def d():\n    return 4"),
        ]
    )
    runs = [
        CellRun(0, "ok"),
        CellRun(1, "error", "ZeroDivisionError: division by zero", line=6),
        CellRun(2, "error", "KeyboardInterrupt", line=None),  # unknown stop: none
        CellRun(3, "skipped"),
    ]
    got = [(s["cell"], s["source"]) for s in answer_statements(nb, runs)]
    assert got == [
        (0, "import math"),
        (0, "EPS = 1e-08"),
        (1, "import gancourse.homework._checker as c"),
        (1, "def a():\n    return 1"),
    ]


def test_master_notebooks_name_answers_like_their_ids():
    """The grader looks for the function named after an id's last part; every
    master notebook's check(...) call must pass exactly that function."""
    seen = set()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for eid, name in re.findall(
                r"""check\(\s*["'](ch\d\d\.\w+)["']\s*,\s*(\w+)""", source
            ):
                assert name == EXERCISES[eid].function_name, (path.name, eid)
                seen.add(eid)
    assert seen == set(EXERCISES)


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda d: d / "nope.ipynb", "no such file"),
        (lambda d: (d / "a.txt").write_text("{}") and d / "a.txt", "not a notebook"),
        (
            lambda d: (d / "b.ipynb").write_text("garbage") and d / "b.ipynb",
            "not a readable notebook",
        ),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, make, words):
    path = make(tmp_path)
    assert cli.main(["grade", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and err.startswith("gancourse grade:")


def test_unknown_chapter_is_a_usage_error(tmp_path, capsys):
    path = notebook(tmp_path / "x.ipynb", "# nothing")
    assert cli.main(["grade", str(path), "--chapter", "ch99"]) == 2
    assert "ch01" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# predict-then-run questions, without a kernel
# ---------------------------------------------------------------------------
def test_recorded_predictions_keep_only_valid_letters(tmp_path):
    path = tmp_path / "learner-progress.json"
    assert grading._recorded_predictions(path) == {}  # no file: nothing
    path.write_text("{not json")
    assert grading._recorded_predictions(path) == {}
    path.write_text('["a list"]')
    assert grading._recorded_predictions(path) == {}
    q2, q8 = "ch02.clipping_gradients", "ch08.collapsed_inception_score"
    record = {
        "exercises": {
            PID: {"status": "predicted", "answer": "b"},
            q2: {"status": "predicted", "answer": "z"},  # not a choice
            q8: {"status": "failed", "answer": "a"},  # not a prediction
            "ch01.d_loss": {"status": "passed"},
            "ch09.unknown": {"status": "predicted", "answer": "a"},
        }
    }
    path.write_text(json.dumps(record))
    assert grading._recorded_predictions(path) == {PID: "b"}


def test_no_prediction_says_why():
    nb = new_notebook(
        cells=[
            new_code_cell("x = 1"),
            new_code_cell(f'predict("{PID}", my_prediction)'),
        ]
    )

    def why(runs, source=None):
        if source is not None:
            nb.cells[1].source = source
        row = grading._prediction_row("s.ipynb", PID, None, nb, runs)
        assert row.verdict == "no prediction" and row.kind == "prediction"
        assert row.points == 0 and "one of a, b, c" in row.hint
        return row.message

    assert "was not run" in why([CellRun(0, "ok"), CellRun(1, "skipped")])
    assert "stopped before" in why([CellRun(0, "ok"), CellRun(1, "error", "E")])
    assert "still None" in why([CellRun(0, "ok"), CellRun(1, "ok")])
    assert "never calls predict" in why([CellRun(0, "ok")], "print(1)")
    row = grading._prediction_row("s.ipynb", PID, "a", nb, [])
    assert row.verdict == "predicted" and row.points == 0
    assert row.message == f"(a) {PREDICTIONS[PID].choices['a']}."


def test_predictions_do_not_count_in_the_score(tmp_path):
    sub = grading.SubmissionGrade("s.ipynb")
    sub.rows = [
        grading.GradeRow("s.ipynb", "ch01.d_loss", "passed", "correct."),
        grading.GradeRow("s.ipynb", "ch01.optimal_logit", "failed", "wrong."),
        grading.GradeRow("s.ipynb", PID, "predicted", "(b) x.", kind="prediction"),
    ]
    assert sub.score == 1
    assert len(sub.exercise_rows) == 2 and len(sub.prediction_rows) == 1
    table = grading.format_grades([sub])
    assert table.startswith("s.ipynb: 1/2 passed, 1/1 predicted (")
    path = grading.write_csv([sub], tmp_path / "g.csv")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["verdict"], r["points"]) for r in rows] == [
        ("passed", "1"),
        ("failed", "0"),
        ("predicted", "0"),
    ]


def test_a_notebook_that_mentions_only_a_question_is_graded_on_its_chapter():
    nb = new_notebook(cells=[new_code_cell(f'predict("{PID}", "a")')])
    assert grading.exercises_in(nb) == CH01
    assert grading.predictions_in(nb) == CH01_QUESTIONS
    assert grading.predictions_in(nb, ["ch02"]) == [
        pid for pid in PREDICTIONS if pid.startswith("ch02.")
    ]
