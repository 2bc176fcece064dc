"""Sphinx extension: link each chapter notebook page to its exercise copy on Colab.

Every chapter ``notebooks/<name>.ipynb`` has an exercise copy
``notebooks/exercises/<name>.ipynb`` (solutions stubbed, outputs cleared). The theme's
launch button opens the *page's* notebook (the master copy, with solutions) in Colab;
this extension adds a visible box at the top of the page with a second link that opens
the exercise copy instead:

    https://colab.research.google.com/github/<owner>/<repo>/blob/<branch>/notebooks/exercises/<name>.ipynb

The owner, repository and branch come from the ``repository:`` block of ``_config.yml``,
which Jupyter Book passes to Sphinx as ``html_theme_options["repository_url"]`` and
``html_theme_options["repository_branch"]``; the URL is never written anywhere else.
Pages without an exercise copy get no box (and an info line in the build log).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

COLAB = "https://colab.research.google.com"


def github_slug(repository_url: str) -> str:
    """``https://github.com/owner/repo(.git)`` -> ``owner/repo``.

    Raises:
        ValueError: for a URL that is not a GitHub repository URL.
    """
    url = repository_url.strip().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if "github.com/" not in url:
        raise ValueError(f"not a GitHub repository URL: {repository_url!r}")
    slug = url.split("github.com/", 1)[1]
    if slug.count("/") != 1:
        raise ValueError(f"expected github.com/<owner>/<repo>, got {repository_url!r}")
    return slug


def colab_url(repository_url: str, branch: str, path: str) -> str:
    """Colab URL opening ``path`` (relative to the repository root) on ``branch``."""
    return f"{COLAB}/github/{github_slug(repository_url)}/blob/{branch}/{path}"


def _repository(app: Sphinx) -> tuple[str, str]:
    opts = app.config.html_theme_options or {}
    url = opts.get("repository_url") or ""
    branch = opts.get("repository_branch") or "main"
    return url, branch


def exercise_copy_path(app: Sphinx, docname: str) -> str | None:
    """Repository-relative path of the exercise copy of ``docname``, if it has one."""
    doc = PurePosixPath(docname)
    if doc.parent.as_posix() != app.config.exercise_links_chapter_dir:
        return None
    rel = PurePosixPath(app.config.exercise_links_dir) / f"{doc.name}.ipynb"
    if not (Path(app.srcdir) / rel).is_file():
        logger.info(f"[exercise_links] {docname}: no exercise copy at {rel}; no link")
        return None
    return rel.as_posix()


def add_exercise_link(app: Sphinx, doctree: nodes.document) -> None:
    docname = app.env.docname
    rel = exercise_copy_path(app, docname)
    if rel is None:
        return
    repo_url, branch = _repository(app)
    if not repo_url:
        logger.warning(
            f"[exercise_links] {docname}: no repository url in _config.yml "
            "(repository: url:), cannot link the exercise copy",
            location=docname,
        )
        return
    url = colab_url(repo_url, branch, rel)

    box = nodes.admonition(classes=["tip", "exercise-copy"])
    box += nodes.title(text="Practise with the exercise copy")
    para = nodes.paragraph()
    para += nodes.Text(
        "This page is the full chapter, solutions included. To work the exercises "
        "yourself, "
    )
    para += nodes.reference(
        "",
        "open the exercise copy in Colab",
        refuri=url,
        classes=["exercise-copy-link"],
    )
    para += nodes.Text(" (solutions stubbed, outputs cleared), or open ")
    para += nodes.literal(text=rel)
    para += nodes.Text(" in Jupyter on your own machine.")
    box += para

    # Put the box right under the page title (first section's title), else on top.
    section = next(iter(doctree.findall(nodes.section)), None)
    if (
        section is not None
        and section.children
        and isinstance(section.children[0], nodes.title)
    ):
        section.insert(1, box)
    else:
        doctree.insert(0, box)


def setup(app: Sphinx) -> dict:
    app.add_config_value("exercise_links_chapter_dir", "notebooks", "env")
    app.add_config_value("exercise_links_dir", "notebooks/exercises", "env")
    app.connect("doctree-read", add_exercise_link)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
