"""The course website: it builds with warnings as errors, offline, and links right.

The build-dependent tests (markers ``book`` and ``slow``) build the book once per
session with the same command as the Makefile::

    GANCOURSE_FAST=1 jupyter-book build . --builder html -W -n --keep-going --all

unless ``GANCOURSE_BOOK_BUILT=1`` says the Makefile has just built ``_build/html``, in
which case that build is checked as it is. The build takes notebook outputs from the
jupyter-cache (``execute_notebooks: cache``) only when tests/test_notebooks.py filled it
in this session; otherwise it empties the cache first and executes every notebook, as
``make book`` does. Expected URLs are derived here from the
``repository:`` block of ``_config.yml`` (parsed independently with PyYAML), never
from the extension under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
MATHJAX_ENTRY = "tex-chtml-full.js"
# --all: an incremental build re-reads only changed pages, so warnings of unchanged
# pages (even ones that failed the previous -W build) would go unreported.
BUILD_CMD = ["build", ".", "--builder", "html", "-W", "-n", "--keep-going", "--all"]

yaml = pytest.importorskip("yaml")


# -- helpers ------------------------------------------------------------------------
def load_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def repository() -> tuple[str, str, str]:
    """(url without .git, owner/repo, branch) from _config.yml."""
    repo = load_config()["repository"]
    url = str(repo["url"]).rstrip("/")
    url = url[:-4] if url.endswith(".git") else url
    m = re.fullmatch(r"https://github\.com/([^/]+/[^/]+)", url)
    assert m, f"repository.url in _config.yml is not a GitHub repository URL: {url}"
    return url, m.group(1), str(repo.get("branch", "main"))


def colab(path: str) -> str:
    _, slug, branch = repository()
    return f"https://colab.research.google.com/github/{slug}/blob/{branch}/{path}"


def toc_files() -> list[str]:
    """Every document in _toc.yml (root first), as paths without extension."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def chapter_notebooks() -> list[str]:
    """Docnames of the toc entries that are notebooks under notebooks/."""
    return [
        f
        for f in toc_files()
        if f.startswith("notebooks/") and (ROOT / f"{f}.ipynb").is_file()
    ]


def jupyter_book_exe() -> str:
    here = Path(sys.executable).parent / "jupyter-book"
    if here.is_file():
        return str(here)
    found = shutil.which("jupyter-book")
    if not found:
        pytest.skip("jupyter-book is not installed (pip install -r requirements.txt)")
    return found


def ensure_mathjax() -> None:
    """Make sure book/_static/mathjax holds the MathJax copy the config expects."""
    if (ROOT / "book" / "_static" / "mathjax" / MATHJAX_ENTRY).is_file():
        return
    if not (ROOT / "node_modules" / "mathjax").is_dir():
        npm = shutil.which("npm")
        if not npm:
            pytest.fail(
                "no local MathJax and no npm: run `npm ci` then "
                "`python tools/copy_mathjax.py`"
            )
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "tools/copy_mathjax.py"], cwd=ROOT, check=True)


_BUILD: dict = {}


def ensure_site() -> dict:
    """Build the site once per session (or reuse the Makefile's build)."""
    if _BUILD:
        return _BUILD
    reuse = os.environ.get("GANCOURSE_BOOK_BUILT") == "1"
    if reuse and (HTML / "index.html").is_file():
        _BUILD.update(rc=0, log="(reused the existing build: GANCOURSE_BOOK_BUILT=1)")
        return _BUILD
    ensure_mathjax()
    if os.environ.get("GANCOURSE_NOTEBOOKS_CACHED") != "1":
        # Cached outputs may come from an older checkout: execute afresh.
        subprocess.run(
            [sys.executable, "tools/execute_notebooks.py", "--clear"],
            cwd=ROOT,
            check=True,
        )
    env = dict(os.environ, GANCOURSE_FAST="1", NO_COLOR="1")
    proc = subprocess.run(
        [jupyter_book_exe(), *BUILD_CMD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    _BUILD.update(rc=proc.returncode, log=proc.stdout + proc.stderr)
    if proc.returncode == 0:
        os.environ["GANCOURSE_BOOK_BUILT"] = "1"  # the browser test reuses it
    return _BUILD


@pytest.fixture(scope="module")
def site() -> dict:
    return ensure_site()


def page(docname: str) -> Path:
    return HTML / f"{docname}.html"


class Links(HTMLParser):
    """Collects <a href> (with class) and resource URLs (script, stylesheet, img)."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, str]] = []  # (href, class)
        self.resources: list[tuple[str, str]] = []  # (tag, url)
        self._a: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.anchors.append((a["href"], a.get("class") or ""))
        if tag == "script" and a.get("src"):
            self.resources.append(("script", a["src"]))
        if tag == "link" and a.get("href") and "stylesheet" in (a.get("rel") or ""):
            self.resources.append(("link", a["href"]))
        if tag in ("img", "iframe") and a.get("src"):
            self.resources.append((tag, a["src"]))


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


# -- tests that need no build -------------------------------------------------------
def test_repository_url_is_a_github_url():
    url, slug, branch = repository()
    assert slug.count("/") == 1 and branch


def test_repo_url_tool_reads_the_config():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import repo_url
    finally:
        sys.path.pop(0)
    url, _, _ = repository()
    assert repo_url.repository_url() == url
    name = "notebooks/exercises/01_vanilla_gan.ipynb"
    assert repo_url.colab_url(name) == colab(name)


def test_exercise_link_extension_builds_colab_urls():
    pytest.importorskip("sphinx")
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import exercise_links as ext
    finally:
        sys.path.pop(0)
    assert ext.github_slug("https://github.com/a-b/c.d.git") == "a-b/c.d"
    assert ext.github_slug("https://github.com/a/b/") == "a/b"
    assert (
        ext.colab_url("https://github.com/o/r", "dev", "notebooks/exercises/x.ipynb")
        == "https://colab.research.google.com/github/o/r/blob/dev/"
        "notebooks/exercises/x.ipynb"
    )
    with pytest.raises(ValueError):
        ext.github_slug("https://gitlab.com/o/r")


def _setup_cell(nb: dict) -> str | None:
    """Source of the setup cell: tagged remove-cell, or the one that pip-installs."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = "".join(cell.get("source", []))
        tags = cell.get("metadata", {}).get("tags", [])
        if "remove-cell" in tags or "pip install" in src:
            return src
    return None


NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(
    ROOT.glob("notebooks/exercises/*.ipynb")
)


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=[str(p.relative_to(ROOT)) for p in NOTEBOOKS]
)
def test_setup_cell_uses_the_configured_repository(path):
    src = _setup_cell(json.loads(path.read_text(encoding="utf-8")))
    if src is None:
        pytest.skip(f"{path.name} has no setup cell yet")
    url, _, _ = repository()
    assert url in src, f"the setup cell of {path.name} must install from {url}"
    others = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", src)) - {url}
    others = {o for o in others if o.removesuffix(".git") != url}
    assert not others, f"{path.name}: setup cell names another repository: {others}"


def test_repository_url_lives_only_in_config():
    url, _, _ = repository()
    offenders = []
    for folder in ("book", "tools", "tests", "gancourse"):
        for f in (ROOT / folder).rglob("*"):
            if f.suffix not in {".py", ".md", ".yml", ".yaml", ".txt", ".bib", ".cfg"}:
                continue
            if "_static" in f.parts or "__pycache__" in f.parts:
                continue
            if url in f.read_text(encoding="utf-8", errors="replace"):
                offenders.append(str(f.relative_to(ROOT)))
    assert not offenders, f"{url} is hard-coded outside _config.yml in {offenders}"


def test_every_toc_entry_exists():
    missing = [
        f
        for f in toc_files()
        if not any((ROOT / f"{f}{ext}").is_file() for ext in (".md", ".ipynb"))
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_bib_has_the_course_papers():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    for key in (
        "goodfellow2014",
        "radford2016",
        "gulrajani2017",
        "arjovsky2017wgan",
        "miyato2018",
        "heusel2017",
        "metz2017unrolled",
        "kingma2015",
        "lecun1998",
        "xiao2017",
    ):
        assert key in keys, key
    assert len(keys) == len(re.findall(r"@\w+\{", bib)), "duplicate bib keys"


# -- tests of the built site ---------------------------------------------------------
@pytest.mark.book
@pytest.mark.slow
def test_build_passes_with_warnings_as_errors(site):
    assert site["rc"] == 0, "book build failed:\n" + site["log"][-6000:]


@pytest.mark.book
@pytest.mark.slow
def test_pages_exist(site):
    assert (HTML / "index.html").is_file()
    missing = [f for f in toc_files() if not page(f).is_file()]
    assert not missing, f"pages not built: {missing}"
    assert page("book/intro").is_file() and chapter_notebooks()


@pytest.mark.book
@pytest.mark.slow
def test_mathjax_is_local(site):
    mj = HTML / "_static" / "mathjax"
    assert (mj / MATHJAX_ENTRY).stat().st_size > 100_000
    fonts = list((mj / "output" / "chtml" / "fonts" / "woff-v2").glob("*.woff"))
    assert len(fonts) > 10, "MathJax CHTML fonts missing from the local copy"
    for doc in ("book/intro", *chapter_notebooks()):
        srcs = [u for t, u in parse(page(doc)).resources if "mathjax" in u.lower()]
        assert srcs, f"{doc}: MathJax is not loaded"
        for src in srcs:
            assert not re.match(r"(https?:)?//", src), f"{doc}: remote MathJax {src}"
            target = (page(doc).parent / src.split("?")[0]).resolve()
            assert target == (mj / MATHJAX_ENTRY).resolve(), f"{doc}: {src}"


@pytest.mark.book
@pytest.mark.slow
def test_no_cdn_or_remote_resources(site):
    cdn = re.compile(
        r"cdn\.jsdelivr|cdnjs\.cloudflare|mathjax@|polyfill\.io|"
        r"fonts\.googleapis",
        re.I,
    )
    for f in HTML.rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert not cdn.search(text), f"{f.relative_to(HTML)} references a CDN"
        remote = [(t, u) for t, u in parse(f).resources if re.match(r"(https?:)?//", u)]
        assert not remote, f"{f.relative_to(HTML)} loads remote resources: {remote}"


@pytest.mark.book
@pytest.mark.slow
def test_notebook_pages_have_colab_and_exercise_links(site):
    for doc in chapter_notebooks():
        name = Path(doc).name
        exercise = f"notebooks/exercises/{name}.ipynb"
        assert (ROOT / exercise).is_file(), (
            f"{exercise} is missing: generate the exercise copies "
            "(python tools/make_exercises.py)"
        )
        hrefs = [h for h, _ in parse(page(doc)).anchors]
        assert colab(f"{doc}.ipynb") in hrefs, f"{doc}: no Colab launch button"
        links = [h for h, c in parse(page(doc)).anchors if "exercise-copy-link" in c]
        assert links == [colab(exercise)], f"{doc}: exercise-copy link {links}"


@pytest.mark.book
@pytest.mark.slow
def test_bibliography_lists_the_papers(site):
    text = page("book/bibliography").read_text(encoding="utf-8")
    # The bibliography style lower-cases titles, so compare case-insensitively.
    low = text.lower()
    assert "goodfellow" in low and "generative adversarial nets" in low
    assert "wasserstein" in low and "kynkäänniemi" in low


@pytest.mark.book
@pytest.mark.slow
def test_api_reference_has_the_package(site):
    text = page("book/api").read_text(encoding="utf-8")
    for name in ("gancourse.losses.d_minimax", "gancourse.nn.blocks.up_block"):
        assert f'id="{name}"' in text, f"{name} missing from the API reference"


@pytest.mark.book
@pytest.mark.slow
def test_prose_citations_go_to_the_bibliography_page(site):
    for doc in ("book/intro", "book/training"):
        refs = re.findall(r'href="([^"#]*)#id\d+"', page(doc).read_text("utf-8"))
        assert refs, f"{doc}: no citations"
        assert set(refs) == {"bibliography.html"}, f"{doc}: citations link to {refs}"
