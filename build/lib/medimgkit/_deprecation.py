"""Deprecated names and import paths, kept working for one release with a ``DeprecationWarning``.

Version 0.2 regrouped the package (see the README's layout table and the API
reference). Old module paths such as ``medimgkit.conv`` are served by the
small alias modules in ``medimgkit/_moved/``; renamed keyword arguments by
``renamed_kwargs``. Both go in version 0.3.
"""

from __future__ import annotations

import functools
import importlib
import sys
import warnings

REMOVED_IN = "0.3"


def alias_module(old: str, new: str) -> None:
    """Make the module being imported as ``old`` the module ``new``, with a warning."""
    warnings.warn(
        f"{old} moved to {new} in medimgkit 0.2; import it from there "
        f"(the old path goes in {REMOVED_IN})",
        DeprecationWarning,
        stacklevel=3,
    )
    sys.modules[old] = importlib.import_module(new)


def renamed_kwargs(**renames: str):
    """Decorator: accept each old keyword ``old=new`` as an alias of ``new``, warning once per call."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(
                            f"{func.__name__}() got both {old}= (deprecated) and {new}=; pass only {new}="
                        )
                    warnings.warn(
                        f"{func.__name__}({old}=...) is deprecated; use {new}= "
                        f"(the old name goes in {REMOVED_IN})",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def deprecated_alias(func, old_name: str):
    """``old_name`` as a deprecated alias of ``func`` (same signature, warns on each call)."""

    @functools.wraps(func)
    def alias(*args, **kwargs):
        warnings.warn(
            f"{old_name}() is renamed {func.__name__}() (the old name goes in {REMOVED_IN})",
            DeprecationWarning,
            stacklevel=2,
        )
        return func(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = f"Deprecated alias of :func:`{func.__module__}.{func.__name__}`."
    return alias
