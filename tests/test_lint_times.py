"""Lint flags a time fact compared with a value that is not a time with an offset: such a comparison is never decided."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from diagnose.packci.lint import lint
from tests.conftest import ROOT, cli

MINIMAL = ROOT / "tests" / "packs" / "minimal"


def _pack_with(tmp_path: Path, condition: str) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(MINIMAL, root)
    rules = root / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace("        - {fact: line.limit_short", f"        - {condition}\n        - {{fact: line.limit_short", 1), encoding="utf-8"
    )
    return root


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ('{fact: request.at, op: ">=", value: 2024-03-05T14:20:00}', "a time without an offset"),
        ('{fact: request.at, op: "<", value: "2024-03-05"}', "a date, not a time"),
        ('{fact: request.at, op: "<", value: 2024-03-05}', "a date, not a time"),
        ('{fact: system.maintenance_ends_at, op: ">", value: "2024-03-05 14:20"}', "a time without an offset"),
        ('{fact: request.at, op: "<", value: "soon"}', "not a time"),
    ],
)
def test_a_time_compared_with_what_is_not_a_time_with_an_offset_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], condition: str, why: str
) -> None:
    result = lint(_pack_with(tmp_path, condition))
    found = [p for p in result.problems if p.code == "type-mismatch"]
    assert len(found) == 1, result.problems
    assert why in found[0].message and "never decided" in found[0].message
    assert found[0].rule_id == "T-QUOTA" and found[0].line == 14
    code, out, _ = cli(capsys, "rules", "lint", tmp_path / "pack")
    assert code == 1 and "never decided" in out


@pytest.mark.parametrize(
    "condition",
    [
        '{fact: request.at, op: ">=", value: "2024-03-05T14:20:00+08:00"}',
        '{fact: request.at, op: ">=", value: 2024-03-05T14:20:00Z}',
        '{fact: line.expires_on, op: "<", value: "2024-03-05"}',
    ],
)
def test_a_time_with_an_offset_and_a_date_against_a_date_pass(tmp_path: Path, condition: str) -> None:
    result = lint(_pack_with(tmp_path, condition))
    assert not [p for p in result.problems if p.code == "type-mismatch"], result.problems
