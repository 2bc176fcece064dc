"""Chapter notebooks run: each master once per ``make test``, exercise copies in part.

Tests with the marker ``notebooks`` start Jupyter kernels (``make notebooks``); the
others check the rules below on small synthetic notebooks and on the committed copies
without a kernel, and run with the unit tests.

Master notebooks (``notebooks/NN_*.ipynb``) are executed in full, once, in fast mode,
by ``tools/execute_notebooks.py``, which stores the executed notebook in the
jupyter-cache that the book build reads next (``execute_notebooks: cache`` in
``_config.yml``): the build does not execute them again. A failing cell fails the test
with the notebook, the cell and the traceback. Every exercise's check must pass on the
master's solution.

Exercise copies (``notebooks/exercises/NN_*.ipynb``) hold the master's code with the
solutions stubbed (``tests/test_exercises.py`` compares their bytes with what
``tools/make_exercises.py`` generates), so running one in full would only repeat the
master's live training runs. Instead, one kernel per copy runs only the cells that the
exercises need (:func:`select_exercise_cells`) and the test asserts that

- no cell raises and nothing prints a traceback,
- every ``check(...)`` prints "not implemented yet",
- every stubbed function raises ``NotImplementedError`` when called,

and, without a kernel, that no cell outside that selection uses a stubbed function, so
the whole copy runs top to bottom for a learner just as the master does.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib.util
import json
import os
import re
import symtable
import sys
from functools import lru_cache
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
v4 = nbformat.v4


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


xn = _load_tool("execute_notebooks")
mx = _load_tool("make_exercises")

MASTERS = xn.masters(ROOT / "notebooks")
EXERCISES = [mx.exercise_path(m) for m in MASTERS if mx.exercise_path(m).is_file()]
NOT_IMPLEMENTED = "not implemented yet"
# mx.STUB_LINES at one indentation: "# YOUR CODE HERE" then "raise NotImplementedError"
STUB = re.compile(
    r"^(?P<indent>[ \t]*){}[ \t]*\n(?P=indent){}[ \t]*$".format(
        *map(re.escape, mx.STUB_LINES)
    ),
    re.MULTILINE,
)
EXERCISE_START = re.compile(r"^[ \t]*(?:`{3,}|:{3,})[ \t]*\{exercise-start\}", re.M)
SECTION = re.compile(r"^##[ \t]", re.MULTILINE)
PREDICT_CALL = re.compile(r"^\s*predict\(", re.MULTILINE)
NO_PREDICTION = "no prediction yet"


# -- reading cells -------------------------------------------------------------------
@lru_cache(maxsize=1024)
def python_source(source: str) -> str:
    """The cell as Python: IPython syntax (``%pip``, ``!ls``) turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


@lru_cache(maxsize=1024)
def cell_names(source: str) -> tuple[frozenset[str], frozenset[str]]:
    """``(defined, used)``: global names a cell binds, and those it reads unbound.

    ``used`` counts reads anywhere in the cell, inside functions and classes too (a
    function body reads globals when it is called), minus the names the cell binds
    itself. Scopes come from :mod:`symtable`, so parameters and locals are not reads
    of globals.
    """
    try:
        top = symtable.symtable(python_source(source), "<cell>", "exec")
    except SyntaxError:
        return frozenset(), frozenset()
    defined, used = set(), set()
    for sym in top.get_symbols():
        if sym.is_assigned() or sym.is_imported() or sym.is_namespace():
            defined.add(sym.get_name())
        if sym.is_referenced():
            used.add(sym.get_name())

    def nested(table: symtable.SymbolTable) -> None:
        for child in table.get_children():
            for sym in child.get_symbols():
                if sym.is_global() and sym.is_referenced():
                    used.add(sym.get_name())
            nested(child)

    nested(top)
    return frozenset(defined), frozenset(used - defined)


def check_calls(source: str) -> list[tuple[str | None, str | None]]:
    """``(exercise id, name of the checked function)`` of each ``check(...)`` call."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return [(None, None)] * len(re.findall(r"\bcheck\(", source))
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name != "check":
            continue
        args = node.args
        eid = args[0].value if args and isinstance(args[0], ast.Constant) else None
        fn = args[1].id if len(args) > 1 and isinstance(args[1], ast.Name) else None
        calls.append((eid, fn))
    return calls


def is_stub_cell(source: str) -> bool:
    return bool(STUB.search(source))


def stubbed_definitions(source: str) -> list[tuple[str, bool]]:
    """Top-level functions and classes holding a stub: ``(name, whole_body)``.

    ``whole_body``: a function whose body (after its docstring) starts with the stub's
    ``raise NotImplementedError``, so calling it with any arguments must raise that.
    """
    code = python_source(source)
    raises = {code.count("\n", 0, m.end()) + 1 for m in STUB.finditer(code)}
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if not any(node.lineno <= line <= node.end_lineno for line in raises):
            continue
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            body = body[1:]
        whole = (
            not isinstance(node, ast.ClassDef)
            and bool(body)
            and isinstance(body[0], ast.Raise)
            and body[0].lineno in raises
        )
        found.append((node.name, whole))
    return found


# -- which cells of an exercise copy run ---------------------------------------------
def select_exercise_cells(nb: nbformat.NotebookNode) -> dict[int, str]:
    """The code cells (index: why) that test an exercise copy's stubs and checks.

    1. Setup: the code cells before the first ``## `` section heading (the setup cell
       and the imports of the pattern in the design notes), and any cell tagged
       ``remove-cell``.
    2. Every stub cell (``# YOUR CODE HERE`` / ``raise NotImplementedError``), every
       check cell (a call of ``check(...)``) and every prediction cell (a call of
       ``predict(...)``, which in the copy must say "no prediction yet").
    3. Each exercise block: every code cell from an ``{exercise-start}`` directive to
       the first check cell after it (given networks, helpers, a seed).
    4. What those cells use: a name a selected cell reads without binding it is traced
       to the nearest earlier code cell that binds it (assignment, ``def``, ``class``,
       ``import``), which is selected too, and so on.

    Rule 4 makes the selection follow the code, so a check that needs a definition
    from elsewhere in the chapter still gets it; only a dependency through a side
    effect (a cell that changes an object another cell made) has to sit in the setup
    or the exercise block.
    """
    cells = nb.cells
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    first_section = next(
        (
            i
            for i, c in enumerate(cells)
            if c.cell_type == "markdown" and SECTION.search(c.source)
        ),
        len(cells),
    )
    why: dict[int, str] = {}
    for i in code:
        tags = cells[i].get("metadata", {}).get("tags", [])
        if i < first_section or "remove-cell" in tags:
            why[i] = "setup"
    for i in code:
        if is_stub_cell(cells[i].source):
            why.setdefault(i, "stub")
        elif check_calls(cells[i].source):
            why.setdefault(i, "check")
        elif PREDICT_CALL.search(cells[i].source):
            why.setdefault(i, "prediction")

    block: list[int] | None = None
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            if EXERCISE_START.search(cell.source):
                block = []
            elif SECTION.search(cell.source):
                block = None  # a new section before any check: not an exercise block
        elif cell.cell_type == "code" and block is not None:
            if check_calls(cell.source):
                for j in block:
                    why.setdefault(j, "exercise block")
                block = None
            else:
                block.append(i)

    def binder(name: str, before: int) -> int | None:
        return next(
            (j for j in reversed(code) if j < before and name in _defined(cells[j])),
            None,
        )

    todo = sorted(why)
    while todo:
        i = todo.pop()
        for name in sorted(_used(cells[i])):
            j = binder(name, i)
            if j is not None and j not in why:
                why[j] = f"binds {name!r}, used by cell {i + 1}"
                todo.append(j)
    return dict(sorted(why.items()))


def _defined(cell) -> frozenset[str]:
    return cell_names(cell.source)[0]


def _used(cell) -> frozenset[str]:
    return cell_names(cell.source)[1]


def stub_uses_outside(nb: nbformat.NotebookNode, selected) -> list[str]:
    """Cells outside ``selected`` that use a stubbed function, as messages."""
    cells = nb.cells
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    problems = []
    for k in code:
        if k in selected:
            continue
        for name in sorted(_used(cells[k])):
            j = next(
                (j for j in reversed(code) if j < k and name in _defined(cells[j])),
                None,
            )
            if j is None:
                continue
            stubbed = {n for n, _ in stubbed_definitions(cells[j].source)}
            if name in stubbed:
                problems.append(
                    f"cell {k + 1} uses {name!r}, which the exercise copy stubs in "
                    f"cell {j + 1}: a learner running the copy would get "
                    "NotImplementedError there"
                )
    return problems


# -- the rules, on synthetic notebooks (no kernel) -----------------------------------
def _synthetic() -> nbformat.NotebookNode:
    nb = v4.new_notebook()
    md, co = v4.new_markdown_cell, v4.new_code_cell
    nb.cells = [
        md("# 9. A chapter"),  # 0
        co(
            "%pip install -q x\nimport os\nFAST = True",
            metadata={"tags": ["remove-cell"]},
        ),
        co("import torch\nfrom gancourse.homework import check"),  # 2
        md("## 9.1 Training"),  # 3
        co("run = train(steps=1000)  # a live training run"),  # 4
        co("def given_net():\n    return torch.nn.Linear(2, 1)"),  # 5
        co("SCALE = 3.0"),  # 6
        md("```{exercise-start}\n:label: ex\n```\nWrite f.\n```{exercise-end}\n```"),
        co("torch.manual_seed(0)"),  # 8: in the block, a side effect
        co(
            '''def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n'''
            "    raise NotImplementedError"
        ),  # 9
        co('check("ch09.f", f, net=given_net())'),  # 10
        co(
            "class Block:\n    def forward(self, x):\n        if x is not None:\n"
            "            # YOUR CODE HERE\n            raise NotImplementedError\n"
            "        return x * SCALE"
        ),  # 11
        co('check("ch09.block", Block);'),  # 12
        co("plot(run.history)\nprint(f(1))"),  # 13: uses a stub outside an exercise
    ]
    return nb


def test_selection_takes_setup_stubs_checks_blocks_and_what_they_use():
    why = select_exercise_cells(_synthetic())
    assert why[1] == why[2] == "setup"
    assert why[9] == why[11] == "stub" and why[10] == why[12] == "check"
    assert why[8] == "exercise block"
    assert "given_net" in why[5] and "SCALE" in why[6]
    assert 4 not in why and 13 not in why, "the training run must not be re-run"


def test_selection_does_not_pull_a_name_a_cell_binds_itself():
    nb = _synthetic()
    nb.cells[12] = v4.new_code_cell('run = Block()\ncheck("ch09.block", run);')
    assert 4 not in select_exercise_cells(nb)


def test_stub_definitions_and_check_calls_are_read_from_the_code():
    nb = _synthetic()
    assert stubbed_definitions(nb.cells[9].source) == [("f", True)]
    assert stubbed_definitions(nb.cells[11].source) == [("Block", False)]
    assert stubbed_definitions(nb.cells[5].source) == []
    assert check_calls(nb.cells[10].source) == [("ch09.f", "f")]
    assert check_calls("# check(...) below\nprint('check(')") == []
    assert check_calls("import gancourse.homework as hw\nhw.check('a', g)") == [
        ("a", "g")
    ]


def test_cells_outside_the_exercises_must_not_use_stubs():
    nb = _synthetic()
    problems = stub_uses_outside(nb, select_exercise_cells(nb))
    assert len(problems) == 1 and "cell 14 uses 'f'" in problems[0]


def test_exercise_rules_match_the_generator():
    master = v4.new_notebook()
    master.cells = [
        v4.new_code_cell(
            "def g(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
        )
    ]
    stubbed = mx.make_exercise(master, "09_x.ipynb").cells[-1].source
    assert is_stub_cell(stubbed) and stubbed_definitions(stubbed) == [("g", True)]


def test_book_config_reuses_one_execution():
    cfg = xn.settings()
    assert cfg.mode == "cache", "_config.yml: execute_notebooks must be cache"
    assert cfg.allow_errors is False and cfg.timeout and not cfg.run_in_temp
    assert cfg.cache == ROOT / "_build" / ".jupyter_cache"


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_copy_cells_outside_the_exercises_do_not_use_stubs(path):
    nb = nbformat.read(path, as_version=4)
    problems = stub_uses_outside(nb, select_exercise_cells(nb))
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


# -- running notebooks ---------------------------------------------------------------
@pytest.fixture(scope="session")
def book_cache():
    """The book's jupyter-cache, emptied once per session before masters fill it."""
    cfg = xn.settings()
    xn.reset_cache(cfg)
    # Tells tests/test_book.py that this session's executions are in the cache.
    os.environ["GANCOURSE_NOTEBOOKS_CACHED"] = os.environ.get("GANCOURSE_FAST", "1")
    return cfg


@pytest.fixture
def fast_mode(monkeypatch):
    """Kernels inherit the environment: fast mode unless the caller chose otherwise."""
    if "GANCOURSE_FAST" not in os.environ:
        monkeypatch.setenv("GANCOURSE_FAST", "1")


def _stdout(cell) -> str:
    return "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream"
    )


@pytest.mark.notebooks
@pytest.mark.parametrize("path", MASTERS, ids=[p.name for p in MASTERS])
def test_master_notebook_runs_once_into_the_book_cache(path, book_cache, fast_mode):
    try:
        nb, seconds = xn.execute_into_cache(path, book_cache)
    except xn.NotebookError as exc:
        pytest.fail(str(exc), pytrace=False)
    print(f"{path.name}: executed in {seconds:.0f} s")
    assert xn.in_cache(path, book_cache), (
        f"{path.name} ran but the book build would not find it in {book_cache.cache}"
    )

    # Every exercise's check passes on the master's solution.
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    solved = {
        name
        for i in code
        if "### BEGIN SOLUTION" in nb.cells[i].source
        for name in _defined(nb.cells[i])
    }
    checked = 0
    for i in code:
        for eid, fn in check_calls(nb.cells[i].source):
            if fn in solved and eid:
                checked += 1
                assert f"{eid}: correct" in _stdout(nb.cells[i]), (
                    f"{path.name}, cell {i + 1}: the solution fails its check:\n"
                    f"{_stdout(nb.cells[i]).strip()}"
                )
    if any("check(" in nb.cells[i].source for i in code):
        assert checked, f"{path.name}: no check call of a solved function found"


def _scratch_notebook(tmp_path: Path, *sources: str) -> Path:
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            }
        }
    )
    nb.cells = [v4.new_markdown_cell("# 9. Scratch")]
    nb.cells += [v4.new_code_cell(src) for src in sources]
    path = tmp_path / "09_scratch.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.notebooks
def test_a_failing_cell_is_reported_by_notebook_cell_and_traceback(tmp_path):
    cfg = dataclasses.replace(xn.settings(), cache=tmp_path / "cache")
    path = _scratch_notebook(
        tmp_path, "x = 1", "def f():\n    return x / 0\n\n\nf()", "print('after')"
    )
    with pytest.raises(xn.NotebookError) as info:
        xn.execute_into_cache(path, cfg)
    msg = str(info.value)
    assert "09_scratch.ipynb failed in cell 3 of 4 (code cell 2" in msg, msg
    assert "ZeroDivisionError: division by zero" in msg and "return x / 0" in msg
    assert "\x1b[" not in msg, "ANSI colours left in the message"
    assert not xn.in_cache(path, cfg), "a failed notebook must not be cached"

    path = _scratch_notebook(tmp_path, "x = 1", "print(x + 1)")
    nb, _ = xn.execute_into_cache(path, cfg)
    assert _stdout(nb.cells[2]) == "2\n" and xn.in_cache(path, cfg)


@pytest.mark.notebooks
def test_a_cell_past_the_timeout_is_reported_by_cell(tmp_path):
    cfg = dataclasses.replace(xn.settings(), cache=tmp_path / "cache", timeout=2)
    path = _scratch_notebook(tmp_path, "import time", "time.sleep(60)")
    with pytest.raises(xn.NotebookError) as info:
        xn.execute_into_cache(path, cfg)
    msg = str(info.value)
    assert "failed in cell 3 of 3 (code cell 2" in msg and "time.sleep(60)" in msg
    assert "CellTimeoutError: the cell ran longer than 2 s" in msg, msg


PROBE = """\
import inspect as _probe_inspect


def _probe(fn):
    params = _probe_inspect.signature(fn).parameters.values()
    args = [None for p in params if p.default is p.empty
            and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    kwargs = {p.name: None for p in params
              if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
    try:
        fn(*args, **kwargs)
    except NotImplementedError:
        return "NotImplementedError"
    except BaseException as exc:
        return f"{type(exc).__name__}: {exc}"
    return "returned normally"


for _name in %r:
    print(f"probe {_name}: {_probe(globals()[_name])}")
"""


def _problem(cell) -> str | None:
    """The first error or printed traceback in a cell's outputs, as text."""
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            tb = xn.ANSI.sub("", "\n".join(out.get("traceback", [])))
            return f"{out.get('ename')}: {out.get('evalue')}\n{tb[-3000:]}"
        if out.output_type == "stream" and "Traceback (most recent call last)" in (
            out.get("text", "")
        ):
            return f"printed a traceback:\n{out['text'][-3000:]}"
    return None


@pytest.mark.notebooks
@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_copy_stubs_raise_and_checks_say_not_implemented(path, fast_mode):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    why = select_exercise_cells(nb)
    stub_cells = [i for i in why if is_stub_cell(nb.cells[i].source)]
    check_cells = [i for i in why if check_calls(nb.cells[i].source)]
    assert stub_cells and check_cells, f"{path.name}: no stubs or no checks found"

    run = v4.new_notebook(metadata=copy.deepcopy(nb.metadata))
    origin: list[tuple[int, str]] = []  # per cell of `run`: (index in nb, kind)
    direct: dict[int, list[str]] = {}
    for i in why:
        run.cells.append(v4.new_code_cell(nb.cells[i].source, id=f"cell-{i}"))
        origin.append((i, "cell"))
        defs = stubbed_definitions(nb.cells[i].source)
        direct[i] = [name for name, whole in defs if whole]
        if direct[i]:  # call them right after their definition
            run.cells.append(v4.new_code_cell(PROBE % direct[i], id=f"probe-{i}"))
            origin.append((i, "probe"))
    where = f"{path.relative_to(ROOT)}, running cells {[i + 1 for i in why]}"
    NotebookClient(
        run,
        timeout=xn.settings().timeout,
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()

    for cell, (i, kind) in zip(run.cells, origin):
        problem = _problem(cell)
        label = "the probe of the stubs of" if kind == "probe" else "the"
        assert problem is None, (
            f"{where}: {label} cell {i + 1} ({why[i]}) failed:\n"
            f"{cell.source[:600]}\n---\n{problem}"
        )
    executed = {i: cell for cell, (i, kind) in zip(run.cells, origin) if kind == "cell"}
    for i, reason in why.items():
        if reason == "prediction":  # the copy's my_prediction = None
            out = _stdout(executed[i])
            assert NO_PREDICTION in out, (
                f"{where}: the prediction cell {i + 1} should print "
                f"{NO_PREDICTION!r}; it printed:\n{out.strip()}"
            )
    for i in check_cells:
        out = _stdout(executed[i])
        calls = len(check_calls(nb.cells[i].source))
        assert out.count(NOT_IMPLEMENTED) >= calls, (
            f"{where}: cell {i + 1} should print {NOT_IMPLEMENTED!r} for each of its "
            f"{calls} check(...) call(s); it printed:\n{out.strip()}"
        )
    probes = {
        i: _stdout(cell)
        for cell, (i, kind) in zip(run.cells, origin)
        if kind == "probe"
    }
    for i, names in direct.items():
        for name in names:
            assert f"probe {name}: NotImplementedError" in probes[i], (
                f"{where}: calling the stub {name!r} of cell {i + 1} must raise "
                f"NotImplementedError; got:\n{probes[i].strip()}"
            )
    checked = {fn for i in check_cells for _, fn in check_calls(nb.cells[i].source)}
    for i in stub_cells:
        for name, whole in stubbed_definitions(nb.cells[i].source):
            assert whole or name in checked, (
                f"{where}: {name!r} (cell {i + 1}) holds a stub but is neither a "
                "function that starts with it nor passed to check(...)"
            )
    print(f"{path.name}: ran cells {json.dumps([i + 1 for i in why])}")
