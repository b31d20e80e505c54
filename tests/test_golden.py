"""Golden reports: every example's JSON report, byte for byte. UPDATE_GOLDEN=1 rewrites them after a reviewed change."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from diagnose.api import CompiledPack
from tests.conftest import EXAMPLES, load_json

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_report_matches_golden(pack: CompiledPack, example: Path) -> None:
    report = pack.diagnose(load_json(example), source=example.name)
    text = report.to_json() + "\n"
    golden = GOLDEN / example.name
    if os.environ.get("UPDATE_GOLDEN") == "1" or not golden.exists():
        golden.write_text(text, encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") != "1":
            pytest.fail(f"wrote a new golden file {golden.name}; review and commit it")
    assert text == golden.read_text(encoding="utf-8"), f"report of {example.name} changed; UPDATE_GOLDEN=1 after review"
