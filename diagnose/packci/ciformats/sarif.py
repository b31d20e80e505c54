"""SARIF 2.1.0: lint problems (and failed rule tests) as static-analysis results that code-scanning tools show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diagnose.packci.ciformats import Options, percent, shown_path
from diagnose.packci.lint import CHECKS, LintResult
from diagnose.packci.ruletest import TestRun

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning"}


def _uri(path: str) -> str:
    shown = shown_path(path)
    return Path(shown).as_uri() if Path(shown).is_absolute() else shown


def _location(file: str, line: int | None, column: int | None = None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(file)}}
    if line:
        physical["region"] = {"startLine": line} | ({"startColumn": column} if column else {})
    return {"physicalLocation": physical}


def _log(name: str, rules: list[dict[str, Any]], results: list[dict[str, Any]], options: Options, properties: dict[str, Any]) -> str:
    run = {
        "tool": {"driver": {"name": name, "version": options.tool_version or "0", "rules": rules}},
        "results": results,
        "properties": properties,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, ensure_ascii=False, indent=2) + "\n"


def lint(result: LintResult, options: Options) -> str:
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
            "locations": [_location(p.file, p.line, p.column)],
        }
        if p.rule_id:
            item["locations"][0]["logicalLocations"] = [{"name": p.rule_id, "kind": "rule"}]
            item["properties"] = {"rule": p.rule_id}
        results.append(item)
    props = {"pack": shown_path(result.root), "loaded": result.loaded, "rules": result.rules}
    return _log("diagnose rules lint", rules, results, options, props)


_TEST_RULES = [
    {"id": "rule-test-failed", "shortDescription": {"text": "A rule example or golden case does not hold"}},
    {"id": "rule-test-skipped", "shortDescription": {"text": "A rule example was not run"}},
    {"id": "rule-never-fired", "shortDescription": {"text": "No example or case makes the rule fire"}},
    {"id": "rule-never-quiet", "shortDescription": {"text": "No example or case keeps the rule quiet"}},
    {"id": "coverage-below-minimum", "shortDescription": {"text": "Rule coverage is below --min-coverage"}},
]


def test(run: TestRun, options: Options) -> str:
    results: list[dict[str, Any]] = []
    for r in run.results:
        if r.skipped is not None:
            results.append(
                {
                    "ruleId": "rule-test-skipped",
                    "level": "note",
                    "message": {"text": f"{r.name}: {r.skipped}"},
                    "locations": [_location(r.file, r.line)],
                }
            )
        elif not r.passed:
            text = "\n".join([f"{r.name}: expected {r.expected}, got {r.actual}", *r.details])
            results.append(
                {"ruleId": "rule-test-failed", "level": "error", "message": {"text": text}, "locations": [_location(r.file, r.line)]}
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
                item["locations"] = [_location(file, line)]
            results.append(item)
    if options.min_coverage is not None and not cov.meets(options.min_coverage):
        text = f"rule coverage {percent(cov.rule_percent())} is below --min-coverage {options.min_coverage:g}%"
        results.append({"ruleId": "coverage-below-minimum", "level": "error", "message": {"text": text}})
    props = {"pack": shown_path(run.root), "rule_coverage": cov.rule_percent(), "condition_coverage": cov.condition_percent()}
    return _log("diagnose rules test", _TEST_RULES, results, options, props)
