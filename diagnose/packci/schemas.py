"""JSON Schemas (draft 2020-12) generated from the models, one per kind of file: snapshot, pack files, case files, the JSON outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAMES = ("snapshot", "pack", "rules", "case", "report", "diff", "history", "portfolio-diff", "error")
BASE_ID = "urn:diagnose:schema:"
"""Each schema's `$id` is this and its name (`urn:diagnose:schema:rules`): stable names an editor's settings map to a file."""
FOLDER = Path(__file__).resolve().parents[2] / "schemas"
"""Where the repository keeps the generated files (a test fails when they drift from the models)."""


def _head(title: str, description: str, name: str) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": BASE_ID + name, "title": title, "description": description}


def snapshot() -> dict[str, Any]:
    """An account snapshot (docs/snapshot.md, schema version 1), from `snapshot.Snapshot`."""
    from diagnose.snapshot.model import Snapshot

    body = Snapshot.model_json_schema(mode="validation")
    body.pop("title", None)
    body.pop("description", None)
    title = "diagnose account snapshot"
    return _head(title, "One account snapshot as `diagnose run` reads it (docs/snapshot.md, schema version 1).", "snapshot") | body


def _model(model: type[BaseModel], schema_id: str, title: str, description: str) -> dict[str, Any]:
    """One model's schema, its definitions beside it, under the head every schema file shares."""
    body = model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    body.pop("title", None)
    body.pop("description", None)
    return _head(title, description, schema_id) | body


def pack() -> dict[str, Any]:
    """A pack's manifest, `pack.yaml`: name, version, `extends`, parameters, overrides."""
    from diagnose.pack.model import Manifest

    return _model(
        Manifest,
        "pack",
        "diagnose rule pack manifest (pack.yaml)",
        "The manifest of a diagnose rule pack: name, version, the pack it extends, parameters, overrides. See docs/rule-format.md (diagnose docs rules).",
    )


def rules() -> dict[str, Any]:
    """A rule file of a pack: `rules:` and `parameters:` (every *.yaml beside pack.yaml)."""
    from diagnose.pack.model import RuleFile

    body = _model(
        RuleFile,
        "rules",
        "diagnose rule file",
        "A rule file of a diagnose rule pack (every *.yaml beside pack.yaml): rules and parameters. See docs/rule-format.md (diagnose docs rules).",
    )
    body["$defs"]["Condition"] = _condition()
    return _one_condition(body)  # type: ignore[no-any-return]


_CONDITIONS = [{"$ref": f"#/$defs/{name}"} for name in ("AllOf", "AnyOf", "NotOf", "Leaf")]


def _condition() -> dict[str, Any]:
    """A condition picked by its key as the loader picks it (`all`, `any`, `not`, else a leaf), not `oneOf` the four.

    With `oneOf`, a validator's best match for a typo in a leaf is "not valid under any of the
    given schemas"; with `if`/`then` it is the typo.
    """
    out: dict[str, Any] = {"$ref": "#/$defs/Leaf"}
    for key, ref in (("not", "NotOf"), ("any", "AnyOf"), ("all", "AllOf")):
        out = {"if": {"type": "object", "required": [key]}, "then": {"$ref": f"#/$defs/{ref}"}, "else": out}
    return out


def _one_condition(node: Any) -> Any:
    """The schema with each `oneOf` of the four condition forms replaced by the one `Condition`."""
    if isinstance(node, list):
        return [_one_condition(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("oneOf") == _CONDITIONS:
        rest = {k: v for k, v in node.items() if k != "oneOf"}
        return rest | {"$ref": "#/$defs/Condition"}
    return {k: _one_condition(v) for k, v in node.items()}


def case() -> dict[str, Any]:
    """A golden case file of `rules test`: `cases:` (a list), or one case alone."""
    from diagnose.packci.ruletest import Case, CaseFile

    body = _model(
        CaseFile,
        "case",
        "diagnose golden case file",
        "Golden cases of `diagnose rules test`: a list under `cases:`, or one case alone. See docs/ci.md.",
    )
    one = Case.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    body["$defs"] |= one.pop("$defs", {})
    # `if`/`then`/`else` rather than `anyOf`: a validator's best match is then the error of the one form the file has
    whole = {key: body.pop(key) for key in ("type", "properties", "required", "additionalProperties") if key in body}
    return body | {"if": {"type": "object", "required": ["cases"]}, "then": whole, "else": {"$ref": "#/$defs/Case"}}


def report() -> dict[str, Any]:
    """The JSON report of `diagnose run --format json` (docs/report.md), from the `report.Report` dataclasses."""
    from diagnose.records import Report

    return _dataclass(
        Report, "report", "diagnose report", "One diagnosis as `diagnose run --format json` writes it (docs/report.md, schema version 1)."
    )


def _dataclass(model: Any, name: str, title: str, description: str) -> dict[str, Any]:
    """The serialization schema of a dataclass output, under the common head."""
    from pydantic import TypeAdapter

    body = TypeAdapter(model).json_schema(mode="serialization")
    body.pop("title", None)
    body.pop("description", None)
    return _head(title, description, name) | body


def diff() -> dict[str, Any]:
    """The JSON of `diagnose diff --format json` (docs/diff.md), from the `compare.model.Diff` dataclasses."""
    from diagnose.compare.model import Diff

    return _dataclass(
        Diff, "diff", "diagnose diff", "Two snapshots of one account compared, as `diagnose diff --format json` writes it (docs/diff.md)."
    )


def history() -> dict[str, Any]:
    """The JSON of `diagnose history --format json`, from `compare.model.History`."""
    from diagnose.compare.model import History

    return _dataclass(
        History, "history", "diagnose history", "One account over time, as `diagnose history --format json` writes it (docs/diff.md)."
    )


def portfolio_diff() -> dict[str, Any]:
    """The JSON of `diagnose diff --reports --format json`, from `compare.model.PortfolioDiff`."""
    from diagnose.compare.model import PortfolioDiff

    return _dataclass(
        PortfolioDiff,
        "portfolio-diff",
        "diagnose portfolio diff",
        "Two days of batch reports joined by account, as `diagnose diff --reports --format json` writes it (docs/diff.md).",
    )


def error() -> dict[str, Any]:
    """The error object that `--format json` writes on standard output when a command fails, from `errorobject.ErrorObject`."""
    from diagnose.errorobject import ErrorObject

    return _dataclass(
        ErrorObject, "error", "diagnose error", "What a failed command writes on standard output with --format json (docs/report.md)."
    )


def generate(name: str) -> dict[str, Any]:
    """The schema called ``name``: one of NAMES."""
    makers = {
        "snapshot": snapshot,
        "pack": pack,
        "rules": rules,
        "case": case,
        "report": report,
        "diff": diff,
        "history": history,
        "portfolio-diff": portfolio_diff,
        "error": error,
    }
    return makers[name]()


def dumps(schema: dict[str, Any]) -> str:
    """The text of a schema file: stable key order as generated, two-space indent, final newline."""
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def path(name: str, folder: Path = FOLDER) -> Path:
    return folder / f"{name}.schema.json"


def write_all(folder: Path = FOLDER) -> list[Path]:
    """Regenerate every schema file: `python -c "from diagnose.packci import schemas; schemas.write_all()"`."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in NAMES:
        target = path(name, folder)
        target.write_text(dumps(generate(name)), encoding="utf-8")
        out.append(target)
    return out
