"""Make the exercise copies of the chapter notebooks: solutions stubbed, no outputs.

For every master notebook ``notebooks/NN_*.ipynb`` this writes
``notebooks/exercises/NN_*.ipynb`` where

- in code cells, each block from a ``### BEGIN SOLUTION`` line to the next
  ``### END SOLUTION`` line (markers included) becomes::

      # YOUR CODE HERE
      raise NotImplementedError

  indented like the ``### BEGIN SOLUTION`` marker, except a block of plain
  assignments to names starting with ``my_prediction`` (the answer to a
  predict-then-run question, ``my_prediction = "b"``), which becomes::

      my_prediction = None  # YOUR PREDICTION HERE: one of the letters above

  so that the exercise copy runs on (``predict`` says "no prediction yet");
- markdown cells of sphinx-exercise solutions are dropped: a ``{solution}`` block,
  and for gated solutions the ``{solution-start}`` and ``{solution-end}`` cells and
  every markdown cell between them (code cells between them are kept, stubbed as
  above: they are the cells the learner fills in);
- outputs and execution counts are cleared, metadata is cut to the kernelspec, the
  language name and cell tags;
- a short note at the top says that this is the exercise copy.

The output is deterministic (nbformat's JSON: ``indent=1``, sorted keys, trailing
newline), so ``--check`` can compare bytes.

Usage::

    python tools/make_exercises.py            # (re)write all exercise copies
    python tools/make_exercises.py --check    # exit 1 if a copy is out of date
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MASTER_GLOB = "[0-9][0-9]_*.ipynb"
FIX_COMMAND = "python tools/make_exercises.py"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
# ```{solution} / ````{solution-start} / :::{solution-end} at the start of a line
_DIRECTIVE = r"^[ \t]*(?:`{3,}|:{3,})[ \t]*\{%s\}"
SOLUTION_BLOCK = re.compile(_DIRECTIVE % "solution", re.MULTILINE)
SOLUTION_START = re.compile(_DIRECTIVE % "solution-start", re.MULTILINE)
SOLUTION_END = re.compile(_DIRECTIVE % "solution-end", re.MULTILINE)

NOTE = (
    "> **Exercise copy.** This is the exercise version of `notebooks/{name}`: the "
    "solutions are replaced by `raise NotImplementedError` stubs and the outputs are "
    "cleared. Fill in each stub and run the `check(...)` cell below it; "
    '`show_solution("<id>")` prints the reference answer when you are stuck. The '
    "worked solutions are in the master notebook and in the book."
)


# What a solution becomes (tests/test_notebooks.py finds the stubs by these lines).
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")
# What the answer to a predict-then-run question becomes, per assigned name.
PREDICTION_STUB = "{name} = None  # YOUR PREDICTION HERE: one of the letters above"
PREDICTION_PREFIX = "my_prediction"


class SolutionMarkerError(ValueError):
    """Unbalanced ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers."""


def prediction_names(block: list[str]) -> list[str] | None:
    """The names a solution block assigns if it is the answer to a predict-then-run
    question: every statement a plain assignment (``=``, or annotated) to names
    that start with ``my_prediction``. ``None`` for any other block (one with no
    statement, other code, or code that does not parse)."""
    try:
        tree = ast.parse(textwrap.dedent("\n".join(block)))
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            return None
        for target in targets:
            if not (
                isinstance(target, ast.Name) and target.id.startswith(PREDICTION_PREFIX)
            ):
                return None
            if target.id not in names:
                names.append(target.id)
    return names or None


def _stub(block: list[str], indent: str) -> list[str]:
    names = prediction_names(block)
    if names:
        return [indent + PREDICTION_STUB.format(name=name) for name in names]
    return [f"{indent}{line}" for line in STUB_LINES]


def stub_solutions(source: str, where: str = "cell") -> str:
    """Replace every marked solution block in ``source`` by an indented stub (or,
    for a predict-then-run answer, by ``my_prediction = None``)."""
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin:
            if block is not None:
                raise SolutionMarkerError(f"{where}: nested ### BEGIN SOLUTION")
            block = []
            indent = begin.group("indent")
        elif END.match(line):
            if block is None:
                raise SolutionMarkerError(
                    f"{where}: ### END SOLUTION without ### BEGIN SOLUTION"
                )
            out += _stub(block, indent)
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise SolutionMarkerError(f"{where}: ### BEGIN SOLUTION is never closed")
    return "\n".join(out)


def _cell_id(cell: dict, index: int, name: str) -> str:
    if cell.get("id"):
        return cell["id"]
    # Masters in nbformat < 4.5 have no ids; derive stable ones.
    return hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:8]


def make_exercise(master: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise copy of the notebook ``master`` (``name``: its file name)."""
    meta = master.get("metadata", {})
    metadata: dict = {}
    if "kernelspec" in meta:
        metadata["kernelspec"] = {
            k: meta["kernelspec"][k]
            for k in ("display_name", "language", "name")
            if k in meta["kernelspec"]
        }
    metadata["language_info"] = {
        "name": meta.get("language_info", {}).get("name", "python")
    }
    nb = nbformat.v4.new_notebook(metadata=metadata)

    cells = []
    in_gated_solution = False
    for i, cell in enumerate(master.cells):
        where = f"{name}, cell {i}"
        source = cell.get("source", "")
        if isinstance(source, list):  # as stored on disk, before nbformat.reads
            source = "".join(source)
        tags = list(cell.get("metadata", {}).get("tags", []))
        cell_meta = {"tags": tags} if tags else {}
        cid = _cell_id(cell, i, name)
        if cell.cell_type == "markdown":
            starts = bool(SOLUTION_START.search(source))
            ends = bool(SOLUTION_END.search(source))
            if starts:
                in_gated_solution = True
            drop = in_gated_solution or starts or ends or SOLUTION_BLOCK.search(source)
            if ends:
                in_gated_solution = False
            if not drop:
                cells.append(
                    nbformat.v4.new_markdown_cell(source, metadata=cell_meta, id=cid)
                )
        elif cell.cell_type == "code":
            cells.append(
                nbformat.v4.new_code_cell(
                    stub_solutions(source, where), metadata=cell_meta, id=cid
                )
            )
        else:  # raw cells: keep as they are, without attachments
            cells.append(nbformat.v4.new_raw_cell(source, metadata=cell_meta, id=cid))
    if in_gated_solution:
        raise SolutionMarkerError(
            f"{name}: {{solution-start}} without {{solution-end}}"
        )

    note = nbformat.v4.new_markdown_cell(
        NOTE.format(name=name), id=hashlib.sha1(name.encode()).hexdigest()[:8]
    )
    # Below the title when the notebook starts with one, else first.
    titled = bool(cells) and cells[0].cell_type == "markdown"
    titled = titled and cells[0].source.lstrip().startswith("# ")
    cells.insert(1 if titled else 0, note)
    nb.cells = cells
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    """Deterministic text of ``nb`` (validated), ending in a newline."""
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def exercise_path(master: Path) -> Path:
    """``notebooks/01_x.ipynb`` -> ``notebooks/exercises/01_x.ipynb``."""
    return master.parent / "exercises" / master.name


def masters(notebooks: Path) -> list[Path]:
    """The master notebooks ``NN_*.ipynb`` directly in ``notebooks``, sorted."""
    return sorted(notebooks.glob(MASTER_GLOB))


def expected_text(master: Path) -> str:
    """What ``exercise_path(master)`` should contain."""
    nb = nbformat.reads(master.read_text(encoding="utf-8"), as_version=4)
    return render(make_exercise(nb, master.name))


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _orphans(notebooks: Path) -> list[Path]:
    have = {m.name for m in masters(notebooks)}
    folder = notebooks / "exercises"
    return [p for p in sorted(folder.glob(MASTER_GLOB)) if p.name not in have]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if an exercise copy is missing or out of date",
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=ROOT / "notebooks",
        help="folder with the master notebooks (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    notebooks: Path = args.notebooks

    stale: list[str] = []
    for master in masters(notebooks):
        target = exercise_path(master)
        try:
            text = expected_text(master)
        except SolutionMarkerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        current = target.read_bytes() if target.exists() else None
        if current == text.encode("utf-8"):
            continue
        if args.check:
            state = "missing" if current is None else "out of date"
            stale.append(f"{_show(target)} ({state})")
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
            print(f"wrote {_show(target)}")
    for orphan in _orphans(notebooks):
        if args.check:
            stale.append(f"{_show(orphan)} (no master notebook)")
        else:
            orphan.unlink()
            print(f"removed {_show(orphan)} (no master notebook)")

    if stale:
        print("exercise notebooks are not up to date:", file=sys.stderr)
        for line in stale:
            print(f"  {line}", file=sys.stderr)
        print(f"fix: {FIX_COMMAND}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
