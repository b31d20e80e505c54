"""The generated rule reference (docs/rules.md) and the rule views stay in sync with the rule files."""

from __future__ import annotations

import os

from diagnose.pack.loader import load
from diagnose.packci import ruledoc
from tests.conftest import ROOT

REFERENCE = ROOT / "docs" / "rules.md"


def test_docs_rules_md_is_generated_from_the_rules() -> None:
    text = ruledoc.render(load())
    if os.environ.get("UPDATE_DOCS") == "1":
        REFERENCE.write_text(text, encoding="utf-8")
    assert REFERENCE.read_text(encoding="utf-8") == text, "docs/rules.md is stale: UPDATE_DOCS=1 pytest tests/test_ruledoc.py"


def test_reference_lists_every_rule_with_its_thresholds_and_remedies() -> None:
    pack = load()
    text = ruledoc.render(pack)
    for rule in pack.rules:
        assert f"### {rule.id}:" in text
    assert "threshold `funder_quota_low_pct` = 5 pct (heuristic)" in text
    assert "**Institution**" in text and "**Customer**" in text and "**Support agent**" in text


def test_show_renders_one_rule_in_chinese() -> None:
    text = ruledoc.show(load(), "LIQ-FUNDER-QUOTA", "zh")
    assert text.startswith("LIQ-FUNDER-QUOTA：")
    assert "类别：资金流动性" in text and "严重程度：高" in text
    flat = text.replace("\n  ", "")
    assert "触发条件：全部满足（`funding.funder_quota_remaining_pct` <= `funder_quota_low_pct` (5)；`line.limit_short` == true）" in flat
