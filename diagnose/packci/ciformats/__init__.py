"""Output formats of `rules lint` and `rules test` for people and CI systems, one module each behind one interface."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from diagnose.packci.lint import LintResult
    from diagnose.packci.ruletest import TestRun


class CIFormat(str, Enum):
    """Every format of `rules lint` and `rules test`; each member has a module (a test checks)."""

    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    sarif = "sarif"


@dataclass(frozen=True)
class Options:
    """What a format needs beyond the result: whether warnings fail, colour, the coverage threshold."""

    strict: bool = False
    color: bool = False
    min_coverage: float | None = None
    tool_version: str = ""


class Formatter(Protocol):
    """A format module: two functions from a result to the text written out."""

    def lint(self, result: LintResult, options: Options) -> str: ...

    def test(self, run: TestRun, options: Options) -> str: ...


MODULES: dict[CIFormat, str] = {
    CIFormat.text: "text",
    CIFormat.json: "jsonfmt",
    CIFormat.junit: "junit",
    CIFormat.github: "github",
    CIFormat.sarif: "sarif",
}


def formatter(fmt: CIFormat) -> Formatter:
    """The module that renders ``fmt``."""
    return cast("Formatter", importlib.import_module(f".{MODULES[fmt]}", __name__))


def shown_path(path: str) -> str:
    """A path as CI systems want it: relative to the working folder (the repository) when inside it, with slashes."""
    if not path:
        return path
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return p.as_posix()


def lint_summary(result: LintResult, options: Options) -> str:
    """The one line that sums up a lint run: `2 errors, 1 warning`, and why it fails when only warnings do."""
    verdict = f"{plural(len(result.errors), 'error')}, {plural(len(result.warnings), 'warning')}"
    if options.strict and result.warnings and not result.errors:
        verdict += " (--strict: warnings fail)"
    return verdict


def repository(pack_root: str) -> Path:
    """The repository a pack is kept in: the nearest folder at or above it with `.git`, else the working folder
    when the pack is inside it, else the pack's own folder. CI views name files relative to it."""
    start = Path(pack_root or ".").resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    cwd = Path.cwd().resolve()
    return cwd if start == cwd or cwd in start.parents else start


def repository_path(path: str, root: Path) -> str | None:
    """A path relative to the repository, with slashes; None for a file outside it (a CI view cannot place one)."""
    if not path:
        return None
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def percent(value: float) -> str:
    """A coverage percentage as computed (already rounded down): 97.4%, 100%."""
    return f"{value:g}%"
