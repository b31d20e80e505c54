"""SARIF 2.1.0: lint problems (and failed rule tests) as static-analysis results that code-scanning tools show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from diagnose.packci.ciformats import Options, percent, repository, repository_path
from diagnose.packci.lint import CHECKS, LintResult
from diagnose.packci.ruletest import TestRun

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning"}


SRCROOT = "%SRCROOT%"
"""The base every artifact URI is relative to: the root of the pack's repository (GitHub code scanning's convention)."""


def _location(
    root: Path, file: str, line: int | None, column: int | None = None, end: tuple[int | None, int | None] = (None, None)
) -> list[dict[str, Any]]:
    """A result's locations: one relative to the repository, or none for a file outside it (no absolute path is written)."""
    uri = repository_path(file, root)
    if uri is None:
        return []
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(uri), "uriBaseId": SRCROOT}}
    if line:
        physical["region"] = {"startLine": line} | ({"startColumn": column} if column else {})
        if column and end[0] == line and end[1]:
            physical["region"]["endColumn"] = end[1]  # SARIF's end column, like the parser's, is just after the value
    return [{"physicalLocation": physical}]


def _log(name: str, rules: list[dict[str, Any]], results: list[dict[str, Any]], options: Options, properties: dict[str, Any]) -> str:
    run = {
        "tool": {"driver": {"name": name, "version": options.tool_version or "0", "rules": rules}},
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the repository the rule pack is kept in."}}},
        "results": results,
        "properties": properties,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, ensure_ascii=False, indent=2) + "\n"


def lint(result: LintResult, options: Options) -> str:
    root = repository(result.root)
    codes = sorted({p.code for p in result.problems} | set(CHECKS))
    rules = []
    for code in codes:
        check = CHECKS.get(code)
        descriptor: dict[str, Any] = {"id": code, "name": code.replace("-", " ").title().replace(" ", "")}
        if check is not None:
            descriptor |= {
                "shortDescription": {"text": check.title},
                "help": {"text": check.help},
                "defaultConfiguration": {"level": _LEVEL[check.level]},
            }
        rules.append(descriptor)
    index = {code: i for i, code in enumerate(codes)}
    results = []
    for p in result.problems:
        level = "error" if p.level == "error" or options.strict else "warning"
        item: dict[str, Any] = {
            "ruleId": p.code,
            "ruleIndex": index[p.code],
            "level": level,
            "message": {"text": p.message + (f" (help: {p.hint})" if p.hint else "")},
            "locations": _location(root, p.file, p.line, p.column, (p.end_line, p.end_column)),
        }
        if p.rule_id:
            if item["locations"]:
                item["locations"][0]["logicalLocations"] = [{"name": p.rule_id, "kind": "rule"}]
            item["properties"] = {"rule": p.rule_id}
        results.append(item)
    props = {"pack": repository_path(result.root, root) or ".", "loaded": result.loaded, "rules": result.rules}
    return _log("diagnose rules lint", rules, results, options, props)


_TEST_RULES = [
    {"id": "rule-test-failed", "shortDescription": {"text": "A rule example or golden case does not hold"}},
    {"id": "rule-test-skipped", "shortDescription": {"text": "A rule example was not run"}},
    {"id": "rule-never-fired", "shortDescription": {"text": "No example or case makes the rule fire"}},
    {"id": "rule-never-quiet", "shortDescription": {"text": "No example or case keeps the rule quiet"}},
    {"id": "coverage-below-minimum", "shortDescription": {"text": "Rule coverage is below --min-coverage"}},
]


def test(run: TestRun, options: Options) -> str:
    root = repository(run.root)
    results: list[dict[str, Any]] = []
    for r in run.results:
        if r.skipped is not None:
            results.append(
                {
                    "ruleId": "rule-test-skipped",
                    "level": "note",
                    "message": {"text": f"{r.name}: {r.skipped}"},
                    "locations": _location(root, r.file, r.line),
                }
            )
        elif not r.passed:
            text = "\n".join([f"{r.name}: expected {r.expected}, got {r.actual}", *r.details])
            results.append(
                {"ruleId": "rule-test-failed", "level": "error", "message": {"text": text}, "locations": _location(root, r.file, r.line)}
            )
    cov = run.coverage
    for code, ids, what in (("rule-never-fired", cov.never_fired(), "fired"), ("rule-never-quiet", cov.never_quiet(), "stayed quiet")):
        for rid in ids:
            file, line = cov.where.get(rid, ("", None))
            item: dict[str, Any] = {
                "ruleId": code,
                "level": "warning",
                "message": {"text": f"{rid} never {what} in any example or golden case"},
            }
            if file:
                item["locations"] = _location(root, file, line)
            results.append(item)
    if options.min_coverage is not None and not cov.meets(options.min_coverage):
        text = f"rule coverage {percent(cov.rule_percent())} is below --min-coverage {options.min_coverage:g}%"
        results.append({"ruleId": "coverage-below-minimum", "level": "error", "message": {"text": text}})
    props = {
        "pack": repository_path(run.root, root) or ".",
        "rule_coverage": cov.rule_percent(),
        "condition_coverage": cov.condition_percent(),
    }
    return _log("diagnose rules test", _TEST_RULES, results, options, props)
