"""JSON Schemas (draft 2020-12) generated from the models, for editors and validators: snapshot, rule files, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAMES = ("snapshot", "rules", "report")
FOLDER = Path(__file__).resolve().parents[2] / "schemas"
"""Where the repository keeps the generated files (a test fails when they drift from the models)."""


def _head(title: str, description: str) -> dict[str, Any]:
    return {"$schema": DIALECT, "title": title, "description": description}


def snapshot() -> dict[str, Any]:
    """An account snapshot (SNAPSHOT.md, schema version 1), from `snapshot.Snapshot`."""
    from diagnose.snapshot.model import Snapshot

    body = Snapshot.model_json_schema(mode="validation")
    body.pop("title", None)
    body.pop("description", None)
    return _head("diagnose account snapshot", "One account snapshot as `diagnose run` reads it (SNAPSHOT.md, schema version 1).") | body


def rules() -> dict[str, Any]:
    """A file of a rule pack: a rule file (`rules:` and `parameters:`) or the manifest `pack.yaml`."""
    from pydantic.json_schema import models_json_schema

    from diagnose.pack.loader import Manifest, RuleFile

    refs, defs = models_json_schema([(RuleFile, "validation"), (Manifest, "validation")], ref_template="#/$defs/{model}")
    return _head(
        "diagnose rule pack file",
        "A rule file of a diagnose rule pack (rules and parameters), or its manifest pack.yaml. See docs/rule-format.md.",
    ) | {
        "anyOf": [refs[(RuleFile, "validation")], refs[(Manifest, "validation")]],
        "$defs": defs["$defs"],
    }


def report() -> dict[str, Any]:
    """The JSON report of `diagnose run --format json` (REPORT.md), from the `report.Report` dataclasses."""
    from pydantic import TypeAdapter

    from diagnose.records import Report

    body = TypeAdapter(Report).json_schema(mode="serialization")
    body.pop("title", None)
    body.pop("description", None)
    return _head("diagnose report", "One diagnosis as `diagnose run --format json` writes it (REPORT.md, schema version 1).") | body


def generate(name: str) -> dict[str, Any]:
    """The schema called ``name``: snapshot, rules or report."""
    return {"snapshot": snapshot, "rules": rules, "report": report}[name]()


def dumps(schema: dict[str, Any]) -> str:
    """The text of a schema file: stable key order as generated, two-space indent, final newline."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def path(name: str, folder: Path = FOLDER) -> Path:
    return folder / f"{name}.schema.json"


def write_all(folder: Path = FOLDER) -> list[Path]:
    """Regenerate every schema file: `python -c "from diagnose import schemas; schemas.write_all()"`."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in NAMES:
        target = path(name, folder)
        target.write_text(dumps(generate(name)), encoding="utf-8")
        out.append(target)
    return out
