"""Deprecated: moved to :mod:`medimgkit.scratch.filters` in medimgkit 0.2 (this alias goes in 0.3)."""

from medimgkit._deprecation import alias_module

alias_module(__name__, "medimgkit.scratch.filters")
