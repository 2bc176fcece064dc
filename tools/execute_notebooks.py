"""Execute chapter notebooks once each, into the jupyter-cache the book build reads.

``make test`` runs every master notebook ``notebooks/NN_*.ipynb`` exactly once, through
this module (``tests/test_notebooks.py``), and the book build that follows
(``execute_notebooks: cache`` in ``_config.yml``) takes the outputs from the cache
instead of executing the notebooks again.

Why this way (and not ``execute_notebooks: force``, nor the book build as the only
execution):

- One execution, shared. The notebook runs here the way MyST-NB's cache mode runs it
  (``jupyter_cache``'s ``single_nb_execution``: the timeout and ``allow_errors`` of
  ``_config.yml``, the notebook's own folder as working directory) and is stored with
  the same jupyter-cache calls, so the build finds it under the same key: a hash of the
  code cells and the kernelspec.
- Never stale, at worst slower. When the build does not find a notebook in the cache
  (edited since, never executed here), MyST-NB executes it itself. Because the key
  covers the notebook's code only (not the package, the data or ``GANCOURSE_FAST``),
  the cache is emptied wherever outputs could be older than the checkout: ``make book``
  builds from an empty cache, and each ``make test`` empties it before this step fills
  it.
- Readable failures. A failing cell is reported with the notebook, the cell's number
  and source and the traceback (ANSI colours stripped); the book build's own warning
  says only "Executing notebook failed: CellExecutionError".

Usage (from the repository root; the Makefile sets ``GANCOURSE_FAST=1``)::

    python tools/execute_notebooks.py                      # every master notebook
    python tools/execute_notebooks.py notebooks/02_wgan.ipynb
    python tools/execute_notebooks.py --fresh              # empty the cache first
    python tools/execute_notebooks.py --clear              # only empty the cache
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
MASTER_GLOB = "[0-9][0-9]_*.ipynb"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SOURCE_LINES = 12  # of the failing cell, in the message
_TRACEBACK_LINES = 40


class NotebookError(RuntimeError):
    """A notebook cell failed (or timed out, or the kernel died); str() says where."""


@dataclass(frozen=True)
class ExecuteSettings:
    """What ``_config.yml``'s ``execute:`` block tells the book build."""

    mode: str
    timeout: int | None
    allow_errors: bool
    run_in_temp: bool
    cache: Path


def settings(root: Path = ROOT) -> ExecuteSettings:
    """The book's execution settings, read from ``root/_config.yml``."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute") or {}
    # MyST-NB's default cache lives next to the HTML output: _build/.jupyter_cache
    cache = Path(execute.get("cache") or "_build/.jupyter_cache")
    timeout = execute.get("timeout", 30)
    return ExecuteSettings(
        mode=str(execute.get("execute_notebooks", "auto")),
        timeout=None if timeout in (None, -1) else int(timeout),
        allow_errors=bool(execute.get("allow_errors", False)),
        run_in_temp=bool(execute.get("run_in_temp", False)),
        cache=cache if cache.is_absolute() else root / cache,
    )


def masters(notebooks: Path = ROOT / "notebooks") -> list[Path]:
    """The chapter notebooks ``NN_*.ipynb`` directly in ``notebooks``, sorted."""
    return sorted(notebooks.glob(MASTER_GLOB))


def reset_cache(cfg: ExecuteSettings | None = None) -> None:
    """Empty the book's jupyter-cache (outputs there may predate this checkout)."""
    cfg = cfg or settings()
    shutil.rmtree(cfg.cache, ignore_errors=True)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _clip(lines: list[str], n: int, tail: bool = False) -> list[str]:
    if len(lines) <= n:
        return lines
    if tail:
        return ["..."] + lines[-n:]
    return lines[:n] + [f"... ({len(lines) - n} more lines)"]


def describe_failure(
    nb: nbformat.NotebookNode,
    path: Path,
    index: int | None,
    err: BaseException,
    timeout: int | None = None,
) -> str:
    """One readable paragraph: which notebook, which cell, what went wrong."""
    from nbclient.exceptions import CellTimeoutError

    name = _show(path)
    if index is None:
        return f"{name}: the notebook could not be executed: {err!r}"
    cell = nb.cells[index]
    code_no = sum(c.cell_type == "code" for c in nb.cells[: index + 1])
    where = f"cell {index + 1} of {len(nb.cells)} (code cell {code_no}"
    where += f", id {cell.id})" if cell.get("id") else ")"
    error = next(
        (o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None
    )
    if isinstance(err, CellTimeoutError):  # the interrupted cell may show an error
        what = (
            f"CellTimeoutError: the cell ran longer than {timeout} s "
            "(execute: timeout in _config.yml)"
        )
        tb = []
    elif error is not None:
        what = f"{error.get('ename')}: {error.get('evalue')}"
        tb = ANSI.sub("", "\n".join(error.get("traceback", []))).splitlines()
    else:  # a dead kernel leaves no error output
        text = ANSI.sub("", str(err)).strip().splitlines()
        what = f"{type(err).__name__}: {text[0] if text else ''}"
        tb = text[1:]
    source = ["    " + line for line in _clip(cell.source.splitlines(), _SOURCE_LINES)]
    parts = [
        f"{name} failed in {where}:",
        what,
        "",
        "the cell:",
        *source,
    ]
    if tb:
        parts += ["", "traceback:", *_clip(tb, _TRACEBACK_LINES, tail=True)]
    parts += [
        "",
        f"run it alone: python tools/execute_notebooks.py {name}",
    ]
    return "\n".join(parts)


def execute_into_cache(
    path: Path, cfg: ExecuteSettings | None = None
) -> tuple[nbformat.NotebookNode, float]:
    """Execute the notebook at ``path`` once and store it in the book's cache.

    Returns ``(executed notebook, seconds)``. Raises :class:`NotebookError`, naming the
    notebook and the cell, when a cell fails, times out or kills the kernel.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord
    from jupyter_cache.executors.utils import single_nb_execution

    cfg = cfg or settings()
    path = Path(path).resolve()
    # Read as MyST-NB reads an .ipynb (the hash must be the one the build computes).
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    started: list[int] = []

    def on_cell_start(cell, cell_index):  # nbclient hook: remember where we are
        started.append(cell_index)

    if cfg.run_in_temp:  # MyST-NB would then run it elsewhere: keep them equal
        raise NotImplementedError("execute.run_in_temp is not supported here")
    cache = get_cache(str(cfg.cache))
    record = cache.add_nb_to_project(str(path))
    NbProjectRecord.remove_tracebacks([record.pk], cache.db)
    t0 = time.perf_counter()
    try:
        result = single_nb_execution(
            nb,
            cwd=str(path.parent),
            timeout=cfg.timeout,
            allow_errors=cfg.allow_errors,
            meta_override=True,
            on_cell_start=on_cell_start,
        )
    except Exception as exc:  # the kernel died, or would not start
        raise NotebookError(
            describe_failure(nb, path, started[-1] if started else None, exc)
        ) from exc
    if result.err is not None:
        NbProjectRecord.set_traceback(record.uri, result.exc_string, cache.db)
        raise NotebookError(
            describe_failure(
                nb, path, started[-1] if started else None, result.err, cfg.timeout
            )
        )
    cache.cache_notebook_bundle(
        CacheBundleIn(nb, record.uri, data={"execution_seconds": result.time}),
        check_validity=False,
        overwrite=True,
    )
    return nb, time.perf_counter() - t0


def in_cache(path: Path, cfg: ExecuteSettings | None = None) -> bool:
    """Whether the book build would take ``path``'s outputs from the cache."""
    from jupyter_cache import get_cache

    cfg = cfg or settings()
    if not cfg.cache.is_dir():
        return False
    nb = nbformat.reads(Path(path).read_text(encoding="utf-8"), as_version=4)
    try:
        get_cache(str(cfg.cache)).match_cache_notebook(nb)
    except KeyError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all masters")
    parser.add_argument("--fresh", action="store_true", help="empty the cache first")
    parser.add_argument(
        "--clear", action="store_true", help="empty the cache, execute nothing"
    )
    args = parser.parse_args(argv)
    cfg = settings()
    if args.fresh or args.clear:
        reset_cache(cfg)
    if args.clear:
        return 0
    failed = 0
    for path in args.notebooks or masters():
        try:
            _, seconds = execute_into_cache(path, cfg)
        except NotebookError as exc:
            print(f"\n{exc}\n", file=sys.stderr)
            failed += 1
        else:
            print(f"{_show(path)}: executed in {seconds:.0f} s, cached in {cfg.cache}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
