"""Sphinx extension: drop repeated <script> tags from every page.

With Sphinx 7.4, sphinx-thebe and sphinx-togglebutton (both loaded by Jupyter
Book 1) register their inline configuration script twice, once per priority,
so every page declared ``const THEBE_JS_URL`` twice, a JavaScript
SyntaxError in the browser console (tests/test_site.py fails on any page
error). This keeps the first of scripts that have the same source and
attributes. Loaded by ``_config.yml`` (``local_extensions``).
"""

from __future__ import annotations


def _dedup(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the copies differ only in filename None vs "" (inline scripts)
        key = (getattr(js, "filename", str(js)) or "", tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    scripts[:] = unique  # the builder's own list: it restores it after the page


def setup(app):
    app.connect("html-page-context", _dedup, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
