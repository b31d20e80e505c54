"""JSON Schemas generated from the models: valid draft 2020-12, true to the files they describe, and not drifted from schemas/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

import diagnose
from diagnose.cli import main
from diagnose.pack.yamlpos import load as load_yaml
from diagnose.packci import schemas
from tests.conftest import EXAMPLES, ROOT, load_json

FOLDER = ROOT / "schemas"
RULE_FILES = sorted((ROOT / "rules").glob("*.yaml")) + sorted((ROOT / "tests" / "packs").glob("*/*.yaml"))


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schemas.path(name, FOLDER).read_text(encoding="utf-8")))


def messages(name: str, data: Any) -> list[str]:
    return [e.message for e in validator(name).iter_errors(data)]


@pytest.mark.parametrize("name", schemas.NAMES)
def test_committed_schema_matches_the_models(name: str) -> None:
    committed = json.loads(schemas.path(name, FOLDER).read_text(encoding="utf-8"))
    assert committed == schemas.generate(name), (
        f"schemas/{name}.schema.json is out of date: run `diagnose schema {name} -o schemas/{name}.schema.json` "
        'or `python -c "from diagnose.packci import schemas; schemas.write_all()"`'
    )
    assert schemas.path(name, FOLDER).read_text(encoding="utf-8") == schemas.dumps(committed)


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads(schemas.path(name, FOLDER).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_example_snapshots_follow_the_snapshot_schema(path: Path) -> None:
    assert messages("snapshot", load_json(path)) == []


def test_snapshot_schema_rejects_what_the_contract_rejects() -> None:
    snap = load_json(EXAMPLES / "healthy.json")
    del snap["account"]
    assert messages("snapshot", snap) == ["'account' is a required property"]
    snap = load_json(EXAMPLES / "healthy.json")
    snap["line"]["used"] = -5
    assert messages("snapshot", snap) == ["-5 is less than the minimum of 0"]


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pack_files_follow_their_schema(path: Path) -> None:
    kind = "pack" if path.name == "pack.yaml" else "rules"
    assert messages(kind, load_yaml(path.read_text(encoding="utf-8")).data) == []


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "packs").glob("*/cases/*.yaml")), ids=lambda p: p.name)
def test_golden_case_files_follow_the_case_schema(path: Path) -> None:
    assert messages("case", load_yaml(path.read_text(encoding="utf-8")).data) == []


def test_each_schema_has_its_own_id() -> None:
    ids = [schemas.generate(name)["$id"] for name in schemas.NAMES]
    assert ids == [f"urn:diagnose:schema:{name}" for name in schemas.NAMES]


RULE = {
    "id": "T-X",
    "family": "liquidity",
    "severity": "high",
    "title": {"en": "t", "zh": "标题"},
    "explanation": {"en": "e", "zh": "说明"},
    "when": {"fact": "line.used", "op": ">", "value": 0},
    "remedies": {a: [{"en": "r", "zh": "办法"}] for a in ("customer", "agent", "institution")},
}


@pytest.mark.parametrize(
    ("name", "data", "path", "message"),
    [
        ("rules", {"rules": [RULE | {"severity": "urgent"}]}, ["rules", 0, "severity"], "'urgent' is not one of"),
        ("rules", {"rules": [RULE | {"severty": "high"}]}, ["rules", 0], "('severty' was unexpected)"),
        (
            "rules",
            {"rules": [RULE | {"when": {"all": [{"fact": "line.used", "op": ">", "valu": 0}]}}]},
            ["rules", 0, "when", "all", 0],
            "('valu' was unexpected)",
        ),
        (
            "rules",
            {"rules": [RULE | {"when": {"not": {"fact": "line.used", "op": "=~", "value": 0}}}]},
            ["rules", 0, "when", "not", "op"],
            "'=~' is not one of",
        ),
        ("pack", {"name": "acme", "version": "1", "extend": "default"}, [], "('extend' was unexpected)"),
        (
            "pack",
            {"name": "acme", "version": "1", "overrides": {"disable": [{"id": "T-X"}]}},
            ["overrides", "disable", 0],
            "'reason' is a required property",
        ),
        (
            "case",
            {"cases": [{"snapshot": "a.json", "expect": {"verdict": "fine"}}]},
            ["cases", 0, "expect", "verdict"],
            "'fine' is not one of",
        ),
        ("case", {"snapshot": "a.json", "expects": {}}, [], "('expects' was unexpected)"),
    ],
)
def test_best_match_is_the_real_error(name: str, data: Any, path: list[Any], message: str) -> None:
    """What check-jsonschema and editors show first (jsonschema's best match) names the bad key, not a branch of an anyOf."""
    error = best_match(validator(name).iter_errors(data))
    assert error is not None
    assert (list(error.absolute_path), message in error.message) == (path, True), error.message


@pytest.mark.parametrize("folder", ["unknown-key", "missing-key", "invalid-value", "missing-text", "missing-remedy"])
def test_rules_schema_rejects_what_the_loader_rejects(folder: str) -> None:
    data = load_yaml((ROOT / "tests" / "broken_packs" / folder / "rules.yaml").read_text(encoding="utf-8")).data
    assert messages("rules", data)
    error = best_match(validator("rules").iter_errors(data))
    assert error is not None and list(error.absolute_path)[:2] == ["rules", 0]


def test_reports_follow_the_report_schema() -> None:
    pack = diagnose.load_pack()
    for path in sorted(EXAMPLES.glob("*.json")):
        assert messages("report", pack.diagnose(load_json(path)).to_dict()) == [], path.name
    report = pack.diagnose(load_json(EXAMPLES / "liq-funder-quota.json")).to_dict()
    report["verdict"] = "fine"
    assert messages("report", report) == ["'fine' is not one of ['blocked', 'restricted', 'healthy']"]


@pytest.mark.parametrize("name", schemas.NAMES)
def test_schema_command_prints_the_committed_file(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["schema", name]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out == schemas.path(name, FOLDER).read_text(encoding="utf-8")
    target = tmp_path / f"{name}.json"
    assert main(["schema", name, "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == out


def test_unknown_schema_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "packs"]) == 2
    assert "'packs' is not one of" in capsys.readouterr().err


def test_the_cli_imports_the_schema_generator_only_when_asked() -> None:
    code = "import sys, diagnose.cli; print('diagnose.schemas' in sys.modules, 'pydantic.json_schema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.split()[0] == "False"
