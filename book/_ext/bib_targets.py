"""Sphinx extension: citations on prose pages link to the course bibliography page.

Chapters end with their own reference list (``{bibliography}`` with
``:filter: docname in docnames``) and ``book/bibliography.md`` lists every entry, so
an entry can be rendered on several pages. sphinxcontrib-bibtex resolves a citation to
the list on the citing page first, and otherwise to the *last* list holding the key,
which depends on reading order: a citation on the intro page could land in the
reference list of some chapter. Moving the bibliography page's entries to the end of
the domain's list makes it that fallback, so a chapter cites its own list and every
other page cites the bibliography page.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def prefer_bibliography_page(app: Sphinx, env: BuildEnvironment) -> list[str]:
    domain = env.get_domain("cite")
    page = app.config.bib_targets_page
    citations = list(domain.citations)
    others = [c for c in citations if c.bibliography_key.docname != page]
    on_page = [c for c in citations if c.bibliography_key.docname == page]
    domain.citations[:] = others + on_page
    return []


def setup(app: Sphinx) -> dict:
    app.add_config_value("bib_targets_page", "book/bibliography", "env")
    # after sphinxcontrib-bibtex's own env-updated handler (priority 500) fills the list
    app.connect("env-updated", prefer_bibliography_page, priority=900)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
