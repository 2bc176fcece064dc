"""Tests for tools/make_exercises.py, the generator of the exercise notebooks."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "make_exercises", ROOT / "tools" / "make_exercises.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mx = _load_tool()
v4 = nbformat.v4

SOLUTION_CODE = '''\
import torch.nn.functional as F


def g_loss(logits_fake):
    """Non-saturating generator loss."""
    ### BEGIN SOLUTION
    loss = F.softplus(-logits_fake)
    return loss.mean()
    ### END SOLUTION


class Block:
    def forward(self, x):
        if x is not None:
            ### BEGIN SOLUTION
            return x * 2
            ### END SOLUTION
        return x
'''

STUBBED_CODE = '''\
import torch.nn.functional as F


def g_loss(logits_fake):
    """Non-saturating generator loss."""
    # YOUR CODE HERE
    raise NotImplementedError


class Block:
    def forward(self, x):
        if x is not None:
            # YOUR CODE HERE
            raise NotImplementedError
        return x'''


def synthetic_master():
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python", "version": "3.11.4"},
            "widgets": {"state": "lots of it"},
        }
    )
    nb.cells = [
        v4.new_markdown_cell("# 1. Vanilla GAN\n\nIntro.", id="title"),
        v4.new_code_cell(
            "import torch\nx = torch.zeros(3)\nprint(x)",
            id="setup",
            execution_count=3,
            outputs=[v4.new_output("stream", name="stdout", text="tensor([0.])\n")],
            metadata={"tags": ["remove-cell"], "scrolled": True},
        ),
        v4.new_markdown_cell(
            "````{exercise} The generator loss\n:label: ex-g\nWrite it.\n````",
            id="exercise",
        ),
        v4.new_code_cell(
            SOLUTION_CODE,
            id="solution",
            execution_count=4,
            outputs=[
                v4.new_output(
                    "execute_result", data={"text/plain": "1.0"}, execution_count=4
                )
            ],
        ),
        v4.new_markdown_cell(
            "````{solution-start} ex-g\n:class: dropdown\n````", id="sol-start"
        ),
        v4.new_markdown_cell("The softplus is exact for large logits.", id="sol-prose"),
        v4.new_code_cell(
            "def helper():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
            id="sol-code",
        ),
        v4.new_markdown_cell("````{solution-end}\n````", id="sol-end"),
        v4.new_markdown_cell(
            "```{solution} ex-g\n:class: dropdown\nUse softplus.\n```", id="sol-whole"
        ),
        v4.new_markdown_cell(":::{solution} ex-g\nColon fence.\n:::", id="sol-colon"),
        v4.new_markdown_cell("## Summary\n\nA `{solution}` in prose stays.", id="sum"),
    ]
    return nb


def test_stub_keeps_indentation_of_begin_marker():
    assert mx.stub_solutions(SOLUTION_CODE) == STUBBED_CODE


def test_stub_leaves_code_without_markers_alone():
    code = "x = 1\n\n  # a comment ### BEGIN SOLUTION in the middle\ny = x"
    assert mx.stub_solutions(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "### BEGIN SOLUTION\nx = 1",
        "x = 1\n### END SOLUTION",
        "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
    ],
)
def test_unbalanced_markers_are_an_error(code):
    with pytest.raises(mx.SolutionMarkerError):
        mx.stub_solutions(code, "nb.ipynb, cell 3")


def test_make_exercise_on_synthetic_notebook():
    ex = mx.make_exercise(synthetic_master(), "01_vanilla_gan.ipynb")
    ids = [c.get("id") for c in ex.cells]
    # the note goes right below the title
    assert ids[0] == "title"
    note = ex.cells[1]
    assert note.cell_type == "markdown" and "Exercise copy" in note.source
    assert "01_vanilla_gan.ipynb" in note.source
    # solution markdown dropped: whole blocks, and gated start/end with prose inside
    assert ids[2:] == ["setup", "exercise", "solution", "sol-code", "sum"]

    by_id = {c.get("id"): c for c in ex.cells}
    assert by_id["solution"].source == STUBBED_CODE
    assert by_id["sol-code"].source == (
        "def helper():\n    # YOUR CODE HERE\n    raise NotImplementedError"
    )
    # non-solution code and markdown untouched
    assert by_id["setup"].source == "import torch\nx = torch.zeros(3)\nprint(x)"
    assert by_id["exercise"].source.startswith("````{exercise}")
    assert by_id["sum"].source.startswith("## Summary")
    # outputs and counts cleared; metadata minimal, tags kept
    for cell in ex.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert by_id["setup"].metadata == {"tags": ["remove-cell"]}
    assert ex.metadata == {
        "kernelspec": {
            "display_name": "Python 3",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python"},
    }
    nbformat.validate(ex)


def test_rendered_text_is_deterministic_json():
    text = mx.render(mx.make_exercise(synthetic_master(), "01_x.ipynb"))
    again = mx.render(mx.make_exercise(synthetic_master(), "01_x.ipynb"))
    assert text == again
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.startswith('{\n "cells": [\n  {\n')  # indent=1
    assert json.loads(text)["nbformat"] == 4
    assert "BEGIN SOLUTION" not in text and "softplus(-logits_fake)" not in text


def test_main_writes_then_check_passes_and_detects_drift(tmp_path, capsys):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nbformat.write(synthetic_master(), notebooks / "01_vanilla_gan.ipynb")
    nbformat.write(synthetic_master(), notebooks / "not_a_chapter.ipynb")
    args = ["--notebooks", str(notebooks)]

    assert mx.main(args + ["--check"]) == 1
    assert "missing" in capsys.readouterr().err

    assert mx.main(args) == 0
    target = notebooks / "exercises" / "01_vanilla_gan.ipynb"
    assert target.exists()
    assert not (notebooks / "exercises" / "not_a_chapter.ipynb").exists()
    assert mx.main(args + ["--check"]) == 0

    target.write_text(target.read_text() + " ")
    assert mx.main(args + ["--check"]) == 1
    err = capsys.readouterr().err
    assert "out of date" in err and "python tools/make_exercises.py" in err

    mx.main(args)
    orphan = notebooks / "exercises" / "02_gone.ipynb"
    orphan.write_text(target.read_text())
    assert mx.main(args + ["--check"]) == 1
    assert "no master" in capsys.readouterr().err
    assert mx.main(args) == 0 and not orphan.exists()


def _exec_code_cells(nb):
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            exec(compile(cell.source, "<cell>", "exec"), namespace)
    return namespace


def test_exercise_copy_stub_checks_as_not_implemented(capsys):
    master = v4.new_notebook()
    master.cells = [
        v4.new_markdown_cell("# Chapter"),
        v4.new_code_cell(
            "import torch.nn.functional as F\nfrom gancourse.homework import check\n"
        ),
        v4.new_code_cell(
            "def g_loss(logits_fake):\n"
            "    ### BEGIN SOLUTION\n"
            "    return F.softplus(-logits_fake).mean()\n"
            "    ### END SOLUTION\n"
            "\n"
            'result = check("ch01.g_loss_nonsaturating", g_loss)'
        ),
    ]
    solved = _exec_code_cells(master)
    assert solved["result"].passed

    exercise = mx.make_exercise(master, "01_tiny.ipynb")
    stubbed = _exec_code_cells(exercise)
    result = stubbed["result"]
    assert not result and result.status == "not implemented"
    assert "not implemented yet" in capsys.readouterr().out


def test_committed_exercise_copies_are_up_to_date(capsys):
    notebooks = ROOT / "notebooks"
    if not mx.masters(notebooks):
        pytest.skip("no master notebooks notebooks/NN_*.ipynb yet")
    code = mx.main(["--check", "--notebooks", str(notebooks)])
    assert code == 0, capsys.readouterr().err


# ---------------------------------------------------------------------------
# predict-then-run answers: `my_prediction = "b"` becomes `my_prediction = None`
# ---------------------------------------------------------------------------
PREDICTION_STUB = (
    "my_prediction = None  # YOUR PREDICTION HERE: one of the letters above"
)


def test_prediction_answer_becomes_none_not_a_raise():
    code = (
        "# Which gradient reaches the logit? (a), (b) or (c)\n"
        "### BEGIN SOLUTION\n"
        'my_prediction = "b"\n'
        "### END SOLUTION\n"
        'predict("ch01.bce_confident_gradient", my_prediction)'
    )
    assert mx.stub_solutions(code) == (
        "# Which gradient reaches the logit? (a), (b) or (c)\n"
        f"{PREDICTION_STUB}\n"
        'predict("ch01.bce_confident_gradient", my_prediction)'
    )


@pytest.mark.parametrize(
    "block, want",
    [
        # comments, blank lines, an annotation and a parenthesised value are fine
        (
            '    # my guess\n\n    my_prediction: str = (\n        "c"\n    )',
            ["    " + PREDICTION_STUB],
        ),
        # one line per name, in order, each name once
        (
            'my_prediction_1 = "a"\nmy_prediction_2 = "c"\nmy_prediction_1 = "b"',
            [
                PREDICTION_STUB.replace("my_prediction", "my_prediction_1"),
                PREDICTION_STUB.replace("my_prediction", "my_prediction_2"),
            ],
        ),
    ],
)
def test_prediction_blocks_that_are_stubbed_as_none(block, want):
    indent = block[: len(block) - len(block.lstrip(" "))]
    code = f"{indent}### BEGIN SOLUTION\n{block}\n{indent}### END SOLUTION"
    assert mx.stub_solutions(code).splitlines() == want


@pytest.mark.parametrize(
    "block",
    [
        'prediction = "b"',  # not a my_prediction name
        'my_prediction = "b"\nprint(my_prediction)',  # other code too
        'my_prediction, other = "b", 1',  # a tuple target
        "my_prediction += 'b'",  # not a plain assignment
        "obj.my_prediction = 'b'",  # an attribute
        "# only a comment",  # no statement at all
        "my_prediction = (",  # does not parse
    ],
)
def test_other_blocks_keep_the_not_implemented_stub(block):
    code = f"### BEGIN SOLUTION\n{block}\n### END SOLUTION"
    assert mx.stub_solutions(code) == "\n".join(mx.STUB_LINES)


def test_exercise_copy_of_a_prediction_runs_and_records_nothing(
    tmp_path, monkeypatch, capsys
):
    progress = tmp_path / "progress.json"
    monkeypatch.setenv("GANCOURSE_PROGRESS", str(progress))
    master = v4.new_notebook()
    master.cells = [
        v4.new_markdown_cell("# Chapter"),
        v4.new_code_cell("from gancourse.homework import predict"),
        v4.new_code_cell(
            "### BEGIN SOLUTION\n"
            'my_prediction = "B"\n'
            "### END SOLUTION\n"
            'result = predict("ch01.bce_confident_gradient", my_prediction)'
        ),
        v4.new_code_cell("ran_on = True"),
    ]
    exercise = mx.make_exercise(master, "01_tiny.ipynb")
    stubbed = _exec_code_cells(exercise)  # no exception: the copy runs on
    assert stubbed["my_prediction"] is None and stubbed["ran_on"]
    assert not stubbed["result"]
    assert "no prediction yet" in capsys.readouterr().out
    assert not progress.exists()

    solved = _exec_code_cells(master)
    assert solved["result"].answer == "b"
    assert "prediction recorded: (b)" in capsys.readouterr().out
    record = json.loads(progress.read_text())["exercises"]
    assert record["ch01.bce_confident_gradient"]["answer"] == "b"


def test_every_prediction_is_asked_once_in_its_chapter_with_the_registry_text():
    # Each predict-then-run question of the registry is asked in exactly one master
    # notebook: a markdown cell with the registry's question and choices, then the
    # predict(...) cell, which ships unanswered (no answer above the run).
    import re

    from gancourse.homework import PREDICTIONS

    calls: dict[str, list[tuple[str, int]]] = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            for pid in re.findall(r'^\s*predict\("([^"]+)"', cell.source, re.M):
                calls.setdefault(pid, []).append((path.name, i))
                assert "my_prediction = None" in cell.source, (path.name, i)
                question = PREDICTIONS[pid].markdown()
                before = [c.source for c in nb.cells[:i] if c.cell_type == "markdown"]
                assert before and question in before[-1], (
                    f"{path.name} cell {i + 1}: the markdown cell above predict("
                    f"{pid!r}) must hold the registry's question and choices"
                )
    for pid in PREDICTIONS:
        chapter = pid.split(".")[0][2:]
        where = calls.get(pid, [])
        assert len(where) == 1, f"{pid} is asked {len(where)} times: {where}"
        assert where[0][0].startswith(chapter), (pid, where)


def test_every_solution_box_belongs_to_an_exercise_of_its_notebook():
    # A solution-start that names no exercise-start label of the same notebook
    # breaks the book build (undefined label) and leaves the exercise without a
    # prompt in its copy.
    import re

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        labels = re.findall(r"\{exercise-start\}\s*\n:label: (\S+)", text)
        solutions = re.findall(r"\{solution-start\} (\S+)", text)
        checks = [c for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
        assert sorted(solutions) == sorted(labels), path.name
        assert len(labels) == len(set(labels)) == len(checks), path.name


def test_no_library_source_is_shown_above_an_exercise():
    # Between the previous check (or the section heading) and an exercise, no cell
    # prints library source: it could hold the answer. Show it after the check.
    import re

    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            if "{exercise-start}" not in cell.source:
                continue
            for j in range(i - 1, -1, -1):
                prev = cells[j]
                if prev.cell_type == "code" and re.search(
                    r"^check\(", prev.source, re.M
                ):
                    break
                if prev.cell_type == "markdown" and re.search(
                    r"^## ", prev.source, re.M
                ):
                    break
                assert not (
                    prev.cell_type == "code" and "show_source(" in prev.source
                ), (
                    f"{path.name}: cell {j + 1} shows source above the exercise "
                    f"in cell {i + 1}"
                )
