"""What a cold run does not need made at import: packages' `__init__` (run when first read), and regular expressions (compiled when first used).

Two libraries spend most of their import on a package file the cold path never reads from:
- pydantic-core's `__init__` builds `core_schema`, hundreds of TypedDicts for writing schemas
  (about 6 ms, a twentieth of a cold `diagnose run`); the run only validates, with the compiled
  `_pydantic_core` module;
- uniseg's `__init__` reads its own version from the installed metadata, which imports
  importlib.metadata (40-60 ms); the views only break lines, with `uniseg.linebreak`.

`bare(name)` puts the package in `sys.modules` with its path set, so its submodules import as
usual, and runs the package's own code the first time anything reads a name the package has not
set yet (`pydantic_core.__version__`, `dir(uniseg)`, a `from pydantic_core import X` of pydantic's
own): for every reader the package ends up what it would have been. A package already imported
is left as it is.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any


def bare(name: str) -> None:
    """Import package ``name`` without running its `__init__` until one of its names is read (see the module's text)."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        return  # not installed, or not a package: the import that follows says so as it would have
    package = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def whole() -> None:
        for hook in ("__getattr__", "__dir__"):
            package.__dict__.pop(hook, None)
        loader.exec_module(package)

    def attribute(attr: str) -> Any:
        whole()
        try:
            return package.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    def names() -> list[str]:
        whole()
        return sorted(package.__dict__)

    package.__dict__["__getattr__"] = attribute
    package.__dict__["__dir__"] = names
    sys.modules[name] = package


class Pattern:
    """A regular expression compiled the first time one of its methods is read, then as fast as `re.compile`'s own.

    Speed (bench/coldstart.py --instructions): compiling a pattern at import takes 0.5 M to 2.6 M
    instructions (a class of Unicode ranges costs the most), and ten of them that a cold
    `diagnose run` never uses (lone surrogates, unsafe characters, breaks in a value, the names of
    a template's fields, calendar text) took 12 M, a fortieth of the baseline it is measured against.
    The first read of a method compiles the pattern and keeps its bound methods on this object, so
    that later calls find them as plain attributes: a hot loop pays nothing for the deferral.
    """

    search: Callable[..., re.Match[str] | None]
    match: Callable[..., re.Match[str] | None]
    fullmatch: Callable[..., re.Match[str] | None]
    sub: Callable[..., str]
    finditer: Callable[..., Iterator[re.Match[str]]]

    _METHODS = ("search", "match", "fullmatch", "sub", "finditer")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> Any:  # only for a name not found: before the first use
        if name not in self._METHODS:
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")
        compiled = re.compile(self.pattern, self.flags)
        for method in self._METHODS:
            self.__dict__[method] = getattr(compiled, method)
        return self.__dict__[name]
