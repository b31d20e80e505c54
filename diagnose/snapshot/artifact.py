"""Compile the snapshot models into `_contract.json`: the validator's typed-dict schema, the object layout, the field catalog.

Development time only (and the drift test in tests/test_snapshot.py): run
`python -c 'from diagnose.snapshot import artifact; artifact.write_artifact()'` after changing
`snapshot/model.py`. `build_artifact()` turns the models' core schema into one of typed dicts
(same checks, same error types and paths, no classes) and lists every field with its kind and unit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from diagnose.snapshot import scalars
from diagnose.snapshot.contract import _FUNCTIONS, ARTIFACT
from diagnose.snapshot.facts import unwrap, walk_model
from diagnose.snapshot.model import Snapshot

# The scalar parsers of the models, as native pydantic-core schemas: a pattern gate, then the
# library's own date and time parsing (which rejects impossible dates, times and offsets).
_NATIVE: dict[str, dict[str, Any]] = {
    "parse_datetime": {
        "type": "chain",
        "steps": [{"type": "str", "pattern": scalars.DATETIME_PATTERN}, {"type": "datetime", "strict": False}],
    },
    "parse_date": {"type": "chain", "steps": [{"type": "str", "pattern": scalars.DATE_PATTERN}, {"type": "date", "strict": False}]},
    "parse_hhmm": {"type": "str", "pattern": scalars.HHMM_PATTERN},
}

# --- run time -----------------------------------------------------------------------------


def _typed(node: Any) -> Any:
    """A model core schema rewritten as typed dicts: the same validation, plain dicts out."""
    if isinstance(node, list):
        return [_typed(n) for n in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "model":
        fields = node["schema"]["fields"]
        config = node.get("config") or {}
        return {
            "type": "typed-dict",
            "fields": {name: _field(f) for name, f in fields.items()},
            "extra_behavior": "ignore",
            "config": {"strict": bool(config.get("strict")), "allow_inf_nan": bool(config.get("allow_inf_nan", True))},
        }
    if kind == "function-before" and node["function"]["function"].__name__ in _NATIVE:
        return _NATIVE[node["function"]["function"].__name__]  # the same check, in Rust
    if kind in ("function-before", "function-after", "function-plain", "function-wrap"):
        fn = node["function"]["function"]
        if fn.__module__ != scalars.__name__ or fn.__name__ not in _FUNCTIONS:
            raise ValueError(f"validator {fn.__module__}.{fn.__name__} must live in diagnose.scalars and be listed in _FUNCTIONS")
        out = {"type": kind, "function": {"type": node["function"]["type"], "function": f"scalars:{fn.__name__}"}}
        if "schema" in node:
            out["schema"] = _typed(node["schema"])
        return out
    return {k: _typed(v) for k, v in node.items() if k not in ("metadata", "ref", "cls", "serialization")}


def _field(field: dict[str, Any]) -> dict[str, Any]:
    schema = field["schema"]
    required = schema.get("type") != "default"
    if not required:
        schema = schema["schema"]  # absent stays absent: unknown is not the same as null-filled
    return {"type": "typed-dict-field", "schema": _typed(schema), "required": required}


def build_artifact() -> dict[str, Any]:
    """The compiled contract: a typed-dict core schema, the object layout, and the field catalog."""

    Snapshot.model_rebuild()
    objects: dict[str, list[str]] = {}
    _objects(Snapshot, "", objects)
    fields = [spec._asdict() | {"values": list(spec.values)} for spec in walk_model(Snapshot, "")]
    return {"core_schema": _typed(Snapshot.__pydantic_core_schema__), "objects": objects, "fields": fields}


def _objects(model: Any, prefix: str, out: dict[str, list[str]]) -> None:
    import typing

    out[prefix] = list(model.model_fields)
    for name, field in model.model_fields.items():
        if name == "extensions":
            continue
        bare, _ = unwrap(field.annotation)
        path = f"{prefix}.{name}" if prefix else name
        if typing.get_origin(bare) is list:
            bare, _ = unwrap(typing.get_args(bare)[0])
            path += "[]"
        if isinstance(bare, type) and hasattr(bare, "model_fields"):
            _objects(bare, path, out)


def write_artifact(path: Path = ARTIFACT) -> None:
    path.write_bytes(orjson.dumps(build_artifact(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
