"""With --format json a failure writes one JSON error object on standard output, valid by schemas/error.schema.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import EXAMPLES, ROOT, cli

SCHEMA = Draft202012Validator(json.loads((ROOT / "schemas" / "error.schema.json").read_text(encoding="utf-8")))


def error_of(out: str) -> dict[str, Any]:
    lines = out.splitlines()
    assert len(lines) == 1, f"one JSON object on standard output, got {out!r}"
    data = json.loads(lines[0])
    assert not list(SCHEMA.iter_errors(data)), list(SCHEMA.iter_errors(data))
    return data["error"]  # type: ignore[no-any-return]


def test_a_missing_rule_pack_is_a_usage_error_with_its_object(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--rules", tmp_path / "nowhere", "--format", "json")
    assert code == 2 and "no such rule pack folder" in err
    error = error_of(out)
    assert (error["exit_code"], error["kind"], error["source"]) == (2, "usage", str(tmp_path / "nowhere"))


def test_an_invalid_snapshot_lists_every_problem_with_its_path(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = json.loads((EXAMPLES / "healthy.json").read_text(encoding="utf-8"))
    bad["line"]["total_limit"] = "lots"
    del bad["as_of"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    code, out, err = cli(capsys, "run", path, "-f", "json")
    error = error_of(out)
    assert code == 4 and error["exit_code"] == 4 and error["kind"] == "invalid_input"
    paths = {p["path"] for p in error["problems"]}
    assert {"as_of", "line.total_limit"} <= paths and all(p["message"] for p in error["problems"])
    assert "as_of" in err  # standard error keeps the message for people


def test_a_broken_pack_names_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("name: broken\nversion: '1'\nrules: [oops.yaml]\n", encoding="utf-8")
    (tmp_path / "oops.yaml").write_text("rules:\n  - id: X\n    when: {fact: nope, op: '==', value: 1}\n", encoding="utf-8")
    code, out, _ = cli(capsys, "run", EXAMPLES / "healthy.json", "--rules", tmp_path, "--format=json")
    error = error_of(out)
    assert code == 3 and error["kind"] == "invalid_pack" and error["problems"]
    assert all(p["path"] for p in error["problems"]) and any(p["line"] for p in error["problems"])


def test_a_failed_check_after_its_report_and_a_bad_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", EXAMPLES / "liq-funder-quota.json", "--format", "json", "--fail-on", "high")
    assert code == 1 and json.loads(out)["findings"] and "check failed" in err  # the report stays the one JSON text
    code, out, _ = cli(capsys, "run", EXAMPLES / "healthy.json", "--format", "json", "--no-such-flag")
    assert code == 2 and error_of(out)["kind"] == "usage"


def test_without_json_standard_output_stays_empty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--rules", tmp_path / "nowhere")
    assert (code, out) == (2, "") and "no such rule pack folder" in err


def test_schema_command_prints_the_error_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "schema", "error")
    assert code == 0 and json.loads(out)["title"] == "diagnose error"
