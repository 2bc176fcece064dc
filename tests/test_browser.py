"""The built website in a real browser: math is typeset offline, figures and links show.

Serves ``_build/html`` from a localhost ``http.server`` (``file://`` pages may not load
MathJax's fonts) and drives headless Chromium twice per page: once for a screenshot,
once for the DOM after scripts ran. Screenshots are kept in ``_build/screenshots/``
for people to look at. Skipped when no Chromium is installed.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.request
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"

pytestmark = [pytest.mark.book, pytest.mark.slow]

CHROMIUM = next(
    (
        shutil.which(n)
        for n in (
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        )
        if shutil.which(n)
    ),
    None,
)
if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed (apt-get install chromium); "
        "the browser check of the website is skipped",
        allow_module_level=True,
    )

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--virtual-time-budget=5000",
    "--hide-scrollbars",
]


def _book_helpers():
    spec = importlib.util.spec_from_file_location(
        "_gancourse_test_book", Path(__file__).with_name("test_book.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server():
    helpers = _book_helpers()
    built = helpers.ensure_site()
    if built["rc"] != 0:
        pytest.fail("the book did not build; see tests/test_book.py failures")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "base": f"http://127.0.0.1:{httpd.server_address[1]}",
            "chapters": helpers.chapter_notebooks(),
        }
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


def chromium(url: str, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="gancourse-chromium-") as profile:
        return subprocess.run(
            [
                "timeout",
                "60",
                CHROMIUM,
                *FLAGS,
                f"--user-data-dir={profile}",
                *args,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )


def screenshot(url: str, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / f"{name}.png"
    out.unlink(missing_ok=True)
    proc = chromium(url, f"--screenshot={out}", "--window-size=1280,2000")
    assert out.is_file(), f"no screenshot of {url}: {proc.stderr[-2000:]}"
    return out


def dump_dom(url: str) -> str:
    proc = chromium(url, "--dump-dom", "--window-size=1280,2000")
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    return proc.stdout


def pixels_std(path: Path) -> tuple[float, int]:
    """(standard deviation of grey levels, number of distinct colours) of a PNG."""
    import numpy as np

    try:
        from PIL import Image

        img = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    except ImportError:
        import matplotlib.image as mpimg

        img = np.asarray(mpimg.imread(path))[..., :3] * 255.0
    grey = img.mean(axis=-1)
    colours = len(np.unique(img.reshape(-1, 3).astype(np.uint8), axis=0))
    return float(grey.std()), colours


def article_text(dom: str) -> str:
    """Visible text of the page's main article: no scripts, code or typeset math."""
    m = re.search(r"<article\b.*?</article>", dom, re.S)
    body = m.group(0) if m else dom
    for tag in ("script", "style", "pre", "code", "mjx-container", "mjx-assistive-mml"):
        body = re.sub(rf"<{tag}\b.*?</{tag}>", " ", body, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


class Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.hrefs.append((a["href"], a.get("class") or ""))


def check_typeset(dom: str, what: str) -> None:
    n = dom.count("<mjx-container")
    assert n > 0, f"{what}: MathJax did not typeset anything (no mjx-container)"
    assert 'jax="CHTML"' in dom, f"{what}: MathJax did not produce CHTML output"
    text = article_text(dom)
    for raw in ("$$", "\\[", "\\("):
        assert raw not in text, f"{what}: raw TeX delimiter {raw!r} left in the page"


def test_intro_page_renders_math(server):
    url = f"{server['base']}/book/intro.html"
    shot = screenshot(url, "intro")
    std, colours = pixels_std(shot)
    assert std > 10 and colours > 16, f"intro screenshot is blank ({std=}, {colours=})"
    dom = dump_dom(url)
    check_typeset(dom, "intro")
    assert 'display="true"' in dom, "intro: the display equation was not typeset"


def test_chapter_pages_render(server):
    assert server["chapters"], "no chapter notebooks in _toc.yml"
    for doc in server["chapters"]:
        url = f"{server['base']}/{doc}.html"
        name = Path(doc).name
        shot = screenshot(url, name)
        std, colours = pixels_std(shot)
        assert std > 10 and colours > 16, f"{doc}: screenshot looks blank"
        dom = dump_dom(url)
        check_typeset(dom, doc)

        # A figure produced by the executed notebook, inside a cell output.
        outputs = re.findall(
            r'<div class="[^"]*cell_output.*?</div>\s*</div>', dom, re.S
        )
        imgs = [
            src
            for block in outputs
            for src in re.findall(r'<img[^>]*\ssrc="([^"]+)"', block)
        ]
        pngs = [s for s in imgs if s.startswith("data:image/png") or ".png" in s]
        assert pngs, f"{doc}: no figure (<img> with a PNG) in the cell outputs"
        for src in pngs:
            if not src.startswith("data:"):
                img_url = urllib.request.urljoin(url, src)
                with urllib.request.urlopen(img_url, timeout=10) as resp:
                    assert resp.read(8) == b"\x89PNG\r\n\x1a\n", img_url

        anchors = Anchors()
        anchors.feed(dom)
        hrefs = [h for h, _ in anchors.hrefs]
        assert any(
            "colab.research.google.com/github/" in h and h.endswith(f"{doc}.ipynb")
            for h in hrefs
        ), f"{doc}: no Colab launch link in the page"
        ex = [h for h, c in anchors.hrefs if "exercise-copy-link" in c]
        assert ex and ex[0].endswith(f"notebooks/exercises/{name}.ipynb"), (
            f"{doc}: no exercise-copy link"
        )
