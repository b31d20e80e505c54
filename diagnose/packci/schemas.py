"""JSON Schemas (draft 2020-12) generated from the models, for editors and validators: snapshot, rule files, the JSON outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAMES = ("snapshot", "rules", "report", "diff", "history", "portfolio-diff")
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
    from diagnose.records import Report

    return _dataclass(Report, "diagnose report", "One diagnosis as `diagnose run --format json` writes it (REPORT.md, schema version 1).")


def _dataclass(model: Any, title: str, description: str) -> dict[str, Any]:
    """The serialization schema of a dataclass output, under the common head."""
    from pydantic import TypeAdapter

    body = TypeAdapter(model).json_schema(mode="serialization")
    body.pop("title", None)
    body.pop("description", None)
    return _head(title, description) | body


def diff() -> dict[str, Any]:
    """The JSON of `diagnose diff --format json` (docs/diff.md), from the `compare.model.Diff` dataclasses."""
    from diagnose.compare.model import Diff

    return _dataclass(
        Diff, "diagnose diff", "Two snapshots of one account compared, as `diagnose diff --format json` writes it (docs/diff.md)."
    )


def history() -> dict[str, Any]:
    """The JSON of `diagnose history --format json`, from `compare.model.History`."""
    from diagnose.compare.model import History

    return _dataclass(History, "diagnose history", "One account over time, as `diagnose history --format json` writes it (docs/diff.md).")


def portfolio_diff() -> dict[str, Any]:
    """The JSON of `diagnose diff --reports --format json`, from `compare.model.PortfolioDiff`."""
    from diagnose.compare.model import PortfolioDiff

    return _dataclass(
        PortfolioDiff,
        "diagnose portfolio diff",
        "Two days of batch reports joined by account, as `diagnose diff --reports --format json` writes it (docs/diff.md).",
    )


def generate(name: str) -> dict[str, Any]:
    """The schema called ``name``: one of NAMES."""
    makers = {"snapshot": snapshot, "rules": rules, "report": report, "diff": diff, "history": history, "portfolio-diff": portfolio_diff}
    return makers[name]()


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
