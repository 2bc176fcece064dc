"""Sphinx extension: keep the pages' script list clean and free of unused remote URLs.

Two small fixes to what the theme stack puts in every page's ``<head>``:

* ``sphinx-thebe`` registers its inline configuration script twice under Jupyter Book,
  so every page declares ``const THEBE_JS_URL`` twice and the browser logs a
  ``SyntaxError``. Duplicate scripts are dropped.
* With Thebe switched off (``launch_buttons: thebe: false`` in ``_config.yml``) nothing
  on a page can start Thebe, so its configuration (which names a CDN URL) and loader
  script are dropped too. The site then loads and names no remote script at all.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _key(script) -> tuple:
    attrs = getattr(script, "attributes", {}) or {}
    return (str(getattr(script, "filename", script)), tuple(sorted(attrs.items())))


def _thebe_enabled(app: Sphinx) -> bool:
    opts = app.config.html_theme_options or {}
    return bool((opts.get("launch_buttons") or {}).get("thebe"))


def _is_thebe(script) -> bool:
    name = str(getattr(script, "filename", "") or "")
    body = str((getattr(script, "attributes", {}) or {}).get("body", ""))
    return name.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def clean_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    drop_thebe = not _thebe_enabled(app)
    seen: set[tuple] = set()
    kept = []
    for script in scripts:
        key = _key(script)
        if key in seen or (drop_thebe and _is_thebe(script)):
            continue
        seen.add(key)
        kept.append(script)
    context["script_files"] = kept


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", clean_scripts)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
