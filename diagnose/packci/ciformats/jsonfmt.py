"""JSON output of lint and test, versioned: what scripts and dashboards read."""

from __future__ import annotations

import json
from typing import Any

from diagnose.packci.ciformats import Options, shown_path
from diagnose.packci.lint import LintResult
from diagnose.packci.ruletest import CaseResult, TestRun

VERSION = 1


def lint(result: LintResult, options: Options) -> str:
    data = {
        "version": VERSION,
        "kind": "lint",
        "pack": shown_path(result.root),
        "loaded": result.loaded,
        "rules": result.rules,
        "inherited_rules": result.inherited,
        "files": [shown_path(f) for f in result.files],
        "summary": {
            "errors": len(result.errors),
            "warnings": len(result.warnings),
            "strict": options.strict,
            "failed": result.failed(options.strict),
        },
        "problems": [
            {
                "level": p.level,
                "code": p.code,
                "file": shown_path(p.file),
                "line": p.line,
                "column": p.column,
                "rule_id": p.rule_id,
                "message": p.message,
                "help": p.hint,
            }
            for p in result.problems
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _case(r: CaseResult) -> dict[str, Any]:
    status = "skipped" if r.skipped is not None else "passed" if r.passed else "failed"
    return {
        "name": r.name,
        "kind": r.kind,
        "rule_id": r.rule_id,
        "file": shown_path(r.file),
        "line": r.line,
        "status": status,
        "expected": r.expected,
        "actual": r.actual,
        "details": list(r.details),
        "reason": r.skipped,
    }


def test(run: TestRun, options: Options) -> str:
    cov = run.coverage
    data = {
        "version": VERSION,
        "kind": "test",
        "pack": shown_path(run.root),
        "summary": {"total": len(run.results), "passed": len(run.passed), "failed": len(run.failed), "skipped": len(run.skipped)},
        "coverage": {
            "rules": {
                "percent": cov.rule_percent(),
                "covered": len(cov.covered()),
                "total": len(cov.rules),
                "never_fired": cov.never_fired(),
                "never_quiet": cov.never_quiet(),
            },
            "conditions": {
                "percent": cov.condition_percent(),
                "decided": len(cov.decided_leaves & cov.all_leaves),
                "total": len(cov.all_leaves),
                "never_decided": [
                    {"rule_id": c.rule_id, "condition": c.text, "file": shown_path(c.file), "line": c.line} for c in cov.undecided()
                ],
            },
            "min_coverage": options.min_coverage,
            "meets_min_coverage": None if options.min_coverage is None else cov.meets(options.min_coverage),
        },
        "results": [_case(r) for r in run.results],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
