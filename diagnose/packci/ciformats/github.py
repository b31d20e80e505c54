"""GitHub Actions workflow commands: `::error file=...,line=...::` annotations on the lines of a pull request."""

from __future__ import annotations

from diagnose.packci.ciformats import Options, percent, plural, repository, repository_path
from diagnose.packci.lint import LintResult
from diagnose.packci.ruletest import TestRun


def _data(text: str) -> str:
    """Escape a message the way the runner unescapes it (%, CR and LF); other control characters are made visible."""
    from diagnose.report.formats import clean

    lines = text.replace("%", "%25").split("\n")
    return "%0A".join("%0D".join(clean(part) for part in line.split("\r")) for line in lines)


def _prop(text: str) -> str:
    """Escape a property value: as a message, plus the separators `:` and `,`."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str, message: str, *, file: str | None = None, line: int | None = None, col: int | None = None, title: str | None = None
) -> str:
    """One workflow command: level is error, warning or notice; ``file`` is relative to the repository."""
    props = []
    if file:
        props.append(f"file={_prop(file)}")
    if line and file:
        props.append(f"line={line}")
    if col and file:
        props.append(f"col={col}")
    if title:
        props.append(f"title={_prop(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{_data(message)}"


def lint(result: LintResult, options: Options) -> str:
    root = repository(result.root)
    lines = []
    for p in result.problems:
        level = "error" if p.level == "error" or options.strict else "warning"
        title = f"diagnose lint {p.code}" + (f" [{p.rule_id}]" if p.rule_id else "")
        message = p.message + (f"\nhelp: {p.hint}" if p.hint else "")
        lines.append(annotation(level, message, file=repository_path(p.file, root), line=p.line, col=p.column, title=title))
    lines.append(f"diagnose rules lint: {plural(len(result.errors), 'error')}, {plural(len(result.warnings), 'warning')}")
    return "\n".join(lines) + "\n"


def test(run: TestRun, options: Options) -> str:
    root = repository(run.root)
    lines = []
    for r in run.results:
        if r.skipped is not None:
            lines.append(
                annotation(
                    "notice", f"skipped: {r.skipped}", file=repository_path(r.file, root), line=r.line, title=f"rule test skipped: {r.name}"
                )
            )
        elif not r.passed:
            message = "\n".join([f"expected {r.expected}, got {r.actual}", *r.details])
            lines.append(annotation("error", message, file=repository_path(r.file, root), line=r.line, title=f"rule test failed: {r.name}"))
    cov = run.coverage
    for what, ids in (("fired", cov.never_fired()), ("stayed quiet", cov.never_quiet())):
        for rid in ids:
            file, line = cov.where.get(rid, ("", None))
            message = f"{rid} never {what} in any example or golden case; add one"
            lines.append(annotation("warning", message, file=repository_path(file, root), line=line, title=f"rule coverage: {rid}"))
    shown = f"rule coverage {percent(cov.rule_percent())} ({len(cov.covered())} of {len(cov.rules)} rules fired and stayed quiet)"
    if options.min_coverage is not None and not cov.meets(options.min_coverage):
        lines.append(annotation("error", f"{shown} is below --min-coverage {options.min_coverage:g}%", title="rule coverage"))
    else:
        lines.append(annotation("notice", shown, title="rule coverage"))
    lines.append(f"diagnose rules test: {len(run.passed)} passed, {len(run.failed)} failed, {len(run.skipped)} skipped")
    return "\n".join(lines) + "\n"
