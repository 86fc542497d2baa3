"""Sphinx extension: what a reader of the website sees, checked at build time.

Loaded by ``_config.yml`` (``sphinx: local_extensions: {book_site: tools/}``).

- **No traceback on a page.** A cell output that is an error (a traceback) or
  a paragraph of output text that still holds a Markdown table (``|---``, a
  table MyST-NB printed as text) is a build warning, which the strict build
  (``--warningiserror --keep-going``) turns into a failed build, so such a
  page is never published.
- **One install line.** The substitutions ``{{ install_command }}``,
  ``{{ install_block }}``, ``{{ repository_url }}`` and
  ``{{ repository_link }}`` come from ``tools/notebooks.py`` (the same
  ``pip install`` spec as every chapter's Colab cell, read from
  ``_config.yml`` and ``pyproject.toml``), so ``book/intro.md`` never spells
  the package's name or URL itself. (``{{ source_article }}`` is set in
  ``_config.yml``.)
- **A way in.** Every chapter page carries a banner that links to the
  intro's "How to read this book".
- **Layout.** ``book/_static/book.css`` (wide formulas, tables and code
  scroll inside their own box) is served and linked on every page.
- **Execution times.** After the build, the per-chapter execution times go
  into the build log and ``<build>/execution_times.md`` (``_build/`` for
  ``make book``): MyST-NB's own record when the build executed or took a
  chapter from its cache, or the nbval run recorded in the notebook
  (``tools/executed.py``) for the quick site built from nbval's outputs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
STATIC = ROOT / "book" / "_static"
CSS = "book.css"
TABLE_AS_TEXT = re.compile(r"\|\s*(-{3,}|—+)\s*\|?")

logger = logging.getLogger(__name__)


def substitutions() -> dict[str, str]:
    sys.path.insert(0, str(HERE))
    import notebooks

    command = f'pip install "{notebooks.COLAB_SPEC}"'
    shown = notebooks.REPO_URL.split("://", 1)[-1]
    return {
        "install_command": command,
        "install_block": f"```bash\n{command}\n```",
        "repository_url": notebooks.REPO_URL,
        "repository_link": f"[{shown}]({notebooks.REPO_URL})",
    }


def _config_inited(app, config) -> None:
    config.myst_substitutions = {**(config.myst_substitutions or {}), **substitutions()}
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def _is_output(node) -> bool:
    return isinstance(node, nodes.Element) and (
        node.get("nb_element") == "cell_code_output" or "cell_output" in node.get("classes", [])
    )


def problems_in(doctree) -> list[str]:
    """What a reader must never see in a page's cell outputs."""
    found = []
    for out in doctree.findall(_is_output):
        for block in out.findall(nodes.literal_block):
            if "traceback" in block.get("classes", []):
                found.append(f"a traceback in a cell output: {block.astext()[-300:]!r}")
        for para in out.findall(nodes.paragraph):
            text = para.astext()
            if TABLE_AS_TEXT.search(text):
                found.append(f"a Markdown table rendered as text: {text[:120]!r}")
    return found


def _doctree_resolved(app, doctree, docname) -> None:
    for problem in problems_in(doctree):
        logger.warning(f"{problem} (the page must not be published like this)", location=docname,
                       type="book_site", subtype="output")  # fmt: skip


def _page_context(app, pagename, templatename, context, doctree) -> None:
    """Every chapter page points a reader who lands on it to the intro's reading guide."""
    if doctree is None or not str(app.env.doc2path(pagename, False)).endswith(".ipynb"):
        return
    root = app.config.root_doc
    href = f"{context['pathto'](root)}#how-to-read-this-book"
    context["theme_announcement"] = (
        f'New here? <a href="{href}">How to read this book</a>: the chapters, what each needs first, '
        "its time on a CPU, and a clinician\'s and an engineer\'s path through it."
    )


def execution_times(app) -> list[tuple[str, float | None, str]]:
    """(docname, seconds, how) for every notebook page of the build."""
    import nbformat
    from myst_nb.sphinx_ import NbMetadataCollector

    rows = []
    env = app.env
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb":
            continue
        data = NbMetadataCollector.get_exec_data(env, docname) or {}
        method = data.get("method")
        if method and method != "off":
            ok = "ok" if data.get("succeeded") else "FAILED"
            rows.append((docname, data.get("runtime"), f"executed by the build ({method}), {ok}"))
            continue
        run = nbformat.read(path, as_version=4).metadata.get("medimgkit_run")
        if run:
            how = f"nbval, {run.get('mode', '?')} mode, {run.get('status', '?')}"
            if run.get("cpu_seconds") is not None:
                how += f", kernel CPU {run['cpu_seconds']:.0f} s"
            rows.append((docname, run.get("seconds"), how))
        else:
            rows.append((docname, None, "not executed (stored outputs)"))
    return rows


def _build_finished(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    rows = execution_times(app)
    if not rows:
        return
    known = [s for _, s, _ in rows if s is not None]
    lines = [
        "| chapter | seconds | how |",
        "|---|---:|---|",
        *[f"| {d} | {'' if s is None else f'{s:.1f}'} | {how} |" for d, s, how in rows],
        f"| **all chapters** | **{sum(known):.1f}** | |",
    ]
    table = "\n".join(lines) + "\n"
    target = Path(app.outdir).parent / "execution_times.md"
    target.write_text("Execution time per chapter\n\n" + table)
    logger.info("execution time per chapter (also in %s):\n%s", target, table)


def setup(app):
    app.connect("config-inited", _config_inited)
    app.connect("doctree-resolved", _doctree_resolved)
    app.connect("html-page-context", _page_context)
    app.connect("build-finished", _build_finished)
    app.add_css_file(CSS)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
