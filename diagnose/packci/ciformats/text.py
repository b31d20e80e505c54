"""Plain text for a person at a terminal: each problem with its source line and a caret, errors before warnings."""

from __future__ import annotations

import unicodedata

from diagnose.errors import PackProblem
from diagnose.packci.ciformats import Options, lint_summary, percent, plural, shown_path
from diagnose.packci.lint import LintResult
from diagnose.packci.ruletest import TestRun
from diagnose.report.formats import clean

_COLORS = {"error": "31", "warning": "33", "ok": "32", "dim": "2", "bold": "1"}


def _paint(text: str, what: str, options: Options) -> str:
    return f"\x1b[{_COLORS[what]}m{text}\x1b[0m" if options.color else text


def _width(text: str) -> int:
    """Columns a text takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _where(file: str, line: int | None, column: int | None = None) -> str:
    out = shown_path(file)
    if line:
        out += f":{line}"
        if column:
            out += f":{column}"
    return out


def _end(p: PackProblem, shown: str) -> int:
    """Where the caret line stops: the end of the bad key or value, or of the line when the value goes on below it."""
    if p.end_line is None or p.end_column is None:
        return p.column or 0  # a position only: one caret
    if p.end_line == p.line:
        return p.end_column - 1
    return len(shown.rstrip())


def _problem(p: PackProblem, result: LintResult, options: Options) -> list[str]:
    level = _paint(p.level, "error" if p.level == "error" else "warning", options)
    rule = f"  [{p.rule_id}]" if p.rule_id else ""
    out = [f"{level}[{p.code}]: {clean(p.message)}", f"  --> {_where(p.file, p.line, p.column)}{rule}"]
    source = result.lines.get((p.file, p.line)) if p.line else None
    if source is not None:
        number = str(p.line)
        pad = " " * len(number)
        shown = clean(source.expandtabs(4))
        out += [f"{pad} |", f"{number} | {shown}"]
        if p.column:
            start = p.column - 1
            out.append(f"{pad} | {' ' * _width(shown[:start])}{'^' * max(1, _width(shown[start : _end(p, shown)]))}")
    if p.hint:
        out.append(f"  help: {clean(p.hint)}")
    return out


def lint(result: LintResult, options: Options) -> str:
    lines: list[str] = []
    for group in (result.errors, result.warnings):
        for p in group:
            lines += [*_problem(p, result, options), ""]
    errors, warnings = len(result.errors), len(result.warnings)
    where = shown_path(result.root) or "the default pack"
    read = (
        f" ({plural(result.rules, 'rule')} in {plural(len(result.files), 'file')}"
        + (f", {result.inherited} of them from the default pack" if result.inherited else "")
        + ")"
        if result.loaded
        else " (the pack could not be loaded)"
    )
    if not errors and not warnings:
        lines.append(_paint(f"{where}: no problems", "ok", options) + read)
    else:
        lines.append(f"{where}: {lint_summary(result, options)}{read}")
    return "\n".join(lines) + "\n"


def test(run: TestRun, options: Options) -> str:
    lines: list[str] = []
    for r in run.results:
        if r.skipped is not None:
            lines.append(f"{_paint('SKIP', 'dim', options)} {_where(r.file, r.line)}  {clean(r.name)}")
            lines.append(f"     {clean(r.skipped)}")
        elif not r.passed:
            lines.append(f"{_paint('FAIL', 'error', options)} {_where(r.file, r.line)}  {clean(r.name)}")
            lines.append(f"     expected {clean(r.expected)}, got {clean(r.actual)}")
            lines += [f"     {clean(d)}" for d in r.details]
    if lines:
        lines.append("")
    cov = run.coverage
    lines.append("Coverage")
    lines.append(f"  rules: {len(cov.covered())} of {len(cov.rules)} both fired and stayed quiet ({percent(cov.rule_percent())})")
    for title, ids in (("never fired", cov.never_fired()), ("never quiet", cov.never_quiet())):
        for rid in ids:
            file, line = cov.where.get(rid, ("", None))
            lines.append(f"    {title}: {rid}  {_where(file, line)}")
    decided = len(cov.decided_leaves & cov.all_leaves)
    lines.append(f"  conditions: {decided} of {len(cov.all_leaves)} decided a result at least once ({percent(cov.condition_percent())})")
    for c in cov.undecided():
        lines.append(f"    never decided: {c.rule_id}: {clean(c.text)}  {_where(c.file, c.line)}")
    if options.min_coverage is not None and not cov.meets(options.min_coverage):
        lines.append(
            _paint(f"  rule coverage {percent(cov.rule_percent())} is below --min-coverage {options.min_coverage:g}%", "error", options)
        )
    lines.append("")
    counts = f"{len(run.passed)} passed, {len(run.failed)} failed"
    if run.skipped:
        counts += f", {len(run.skipped)} skipped"
    cases = sum(1 for r in run.results if r.kind == "case")
    counts += f" ({plural(len(run.results) - cases, 'rule example')}, {plural(cases, 'golden case')})"
    lines.append(_paint(counts, "error" if run.failed else "ok", options))
    return "\n".join(lines) + "\n"
