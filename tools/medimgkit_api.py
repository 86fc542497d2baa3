"""Sphinx extension: the book's API reference, generated from medimgkit's docstrings.

The reference is one page per tier of the package (the kit, medical files,
evaluation and explanation, from scratch, the book's experiments; see
``TIERS``), each holding one directive with the tier's name (``SLUGS``)::

    ```{eval-rst}
    .. medimgkit-api:: kit
    ```

It expands to the tier's sentence and one section per public module of
``medimgkit`` in that tier, found by walking the package at build time, so a
module added later appears in the reference without anyone editing a page (a
module that fits no tier fails the build). ``book/api.md``, the reference's
first page, holds ``.. medimgkit-api:: index``: the list of tiers, each linked
to its page. ``.. medimgkit-api::`` with no argument gives every tier on one
page. The deprecated 0.1 import paths (``medimgkit._moved``) are left out. A
name a package re-exports (``medimgkit.data.load_medmnist``, defined in
``medimgkit.data.medmnist``) is documented once, under the package, the path
users import it from; the submodule's section documents only what the package
does not re-export.

Loaded by ``_config.yml`` (``sphinx: local_extensions: {medimgkit_api: tools/}``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

PACKAGE = "medimgkit"

# (title, one sentence, module prefixes): every public module belongs to the
# tier of its longest matching prefix.
TIERS: list[tuple[str, str, tuple[str, ...]]] = [
    ("The kit",
     "What a course can reuse: settings, data with checksums, transforms, the book's models, "
     "seeded training, cross-validation, measurement from masks, export and plots.",
     ("medimgkit", "medimgkit.config", "medimgkit.data", "medimgkit.transforms", "medimgkit.models",
      "medimgkit.train", "medimgkit.crossval", "medimgkit.measure", "medimgkit.export", "medimgkit.plots")),
    ("Medical files",
     "DICOM files and series, NIfTI volumes and de-identification, each file checked before it is decoded.",
     ("medimgkit.io",)),
    ("Evaluation and explanation",
     "Clinical metrics with confidence intervals, calibration and paired comparisons, segmentation and "
     "agreement with a reference; Grad-CAM, "
     "saliency maps and their sanity check.",
     ("medimgkit.metrics", "medimgkit.explain")),
    ("From scratch",
     "Written by hand to teach one idea each; in coursework use Keras or scikit-learn instead.",
     ("medimgkit.scratch",)),
    ("The book's experiments",
     "One chapter's experiment each, kept so its numbers can be reproduced; not an API to build on.",
     ("medimgkit.experiments",)),
]


# Each tier's page is book/api/<slug>.md, holding ``.. medimgkit-api:: <slug>``.
SLUGS: dict[str, str] = {
    "The kit": "kit",
    "Medical files": "medical_files",
    "Evaluation and explanation": "evaluation",
    "From scratch": "scratch",
    "The book's experiments": "experiments",
}


def tier_of(modname: str) -> str:
    """The title of the tier ``modname`` belongs to (longest matching prefix)."""
    best, length = None, -1
    for title, _, prefixes in TIERS:
        for prefix in prefixes:
            if (modname == prefix or modname.startswith(prefix + ".")) and len(prefix) > length:
                best, length = title, len(prefix)
    if best is None or (best == TIERS[0][0] and length == len(PACKAGE) and modname != PACKAGE):
        raise ValueError(f"{modname} belongs to no tier of tools/medimgkit_api.py TIERS; add it to one")
    return best


def public_modules(package: str = PACKAGE) -> list[str]:
    """Every importable module of ``package`` whose dotted path has no ``_private`` part."""
    pkg = importlib.import_module(package)
    names = [package]
    moved = importlib.import_module(f"{package}._moved").MOVED
    for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}."):
        if info.name in moved:
            continue
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _public_names(module: ModuleType) -> list[str]:
    """``__all__`` when the module declares it, else the functions and classes it defines."""
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("_")]
    return [
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and obj.__module__ == module.__name__
    ]


def _documented_elsewhere(module: ModuleType, name: str) -> str | None:
    """The ancestor package that re-exports ``module.name`` (the same object), if any."""
    obj = getattr(module, name)
    parts = module.__name__.split(".")
    for i in range(1, len(parts)):
        parent = importlib.import_module(".".join(parts[:i]))
        if name in getattr(parent, "__all__", ()) and getattr(parent, name, None) is obj:
            return parent.__name__
    return None


def _directive_for(module: ModuleType, name: str) -> list[str]:
    obj = getattr(module, name)
    target = f"{module.__name__}.{name}"
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return [f".. autoexception:: {target}", ""]
    if inspect.isclass(obj):
        return [f".. autoclass:: {target}", "   :members:", "   :show-inheritance:", ""]
    if callable(obj):
        return [f".. autofunction:: {target}", ""]
    # a constant: show its value when it is short enough to read
    lines = [f".. autodata:: {target}"]
    if len(repr(obj)) > 70 or "://" in repr(obj):  # long values and URLs (unbreakable on a phone) are not shown
        lines.append("   :no-value:")
    return [*lines, ""]


def module_rst(modname: str) -> list[str]:
    """reStructuredText for one module: a section, its docstring, its own public names."""
    module = importlib.import_module(modname)
    own, elsewhere = [], {}
    for name in _public_names(module):
        home = _documented_elsewhere(module, name)
        if home is None:
            own.append(name)
        else:
            elsewhere.setdefault(home, []).append(name)
    title = f"``{modname}``"
    lines = [title, "~" * len(title), "", f".. automodule:: {modname}", "   :no-members:", ""]
    for home, names in elsewhere.items():
        refs = ", ".join(f":py:obj:`~{home}.{n}`" for n in names)
        lines += [f"Documented under :py:mod:`{home}`: {refs}.", ""]
    if own:
        lines += [".. autosummary::", "   :nosignatures:", ""]
        lines += [f"   {n}" for n in own] + [""]
        for name in own:
            lines += _directive_for(module, name)
    return lines


class MedimgkitAPI(SphinxDirective):
    """``.. medimgkit-api:: [tier]``: one tier's modules, the index of tiers, or (no argument) all of them."""

    has_content = False
    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        which = self.arguments[0] if self.arguments else None
        if which is not None and which != "index" and which not in SLUGS.values():
            raise self.error(f"medimgkit-api: unknown tier {which!r}; expected 'index' or one of {sorted(SLUGS.values())}")
        lines: list[str] = []
        modules = public_modules()
        tiers = {title: [m for m in modules if tier_of(m) == title] for title, _, _ in TIERS}
        for title, sentence, _ in TIERS:
            if which == "index":
                names = ", ".join(f"``{m}``" for m in tiers[title])
                lines += [f"- :doc:`{title} <api/{SLUGS[title]}>`: {sentence} ({names})", ""]
                continue
            if which is None:
                lines += [title, "-" * len(title), ""]
            elif SLUGS[title] != which:
                continue
            lines += [sentence, ""]
            for modname in tiers[title]:
                lines += module_rst(modname)
        source = self.get_source_info()[0]
        content = StringList(lines, source=f"{source} (generated by tools/medimgkit_api.py)")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app):
    app.add_directive("medimgkit-api", MedimgkitAPI)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
