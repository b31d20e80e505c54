"""`rules list`, `rules show` and `rules doc`: the rules of a pack for a reader, in either language, from any pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import diagnose
from tests.conftest import ROOT, cli

EXTENDS = ROOT / "tests" / "packs" / "extends-default"


def test_list_is_a_table_of_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    pack = diagnose.load_pack()
    code, out, err = cli(capsys, "rules", "list")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "Family", "Severity", "Title"]
    assert [r.split()[0] for r in lines[2:]] == [cr.rule.id for cr in pack.rules]
    quota = next(r for r in lines if r.startswith("LIQ-FUNDER-QUOTA "))
    assert quota.split()[1:3] == ["liquidity", "high"] and quota.endswith(pack.rule("LIQ-FUNDER-QUOTA").rule.title.en)


def test_list_in_chinese_and_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "list", "--lang", "zh")
    assert code == 0 and "规则" in out.splitlines()[0] and "资金流动性" in out
    code, out, _ = cli(capsys, "rules", "list", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and rows[0].keys() == {"id", "family", "severity", "title"}


def test_list_of_an_extending_pack_by_argument_or_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "list", "--rules", str(EXTENDS))
    assert code == 0 and "ACME-FRIDAY-CUTOFF" in out and "OPS-STALE-RISK-MODEL" not in out
    code, out2, _ = cli(capsys, "rules", "list", str(EXTENDS))
    assert out2 == out


def test_show_renders_the_whole_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "show", "LIQ-FUNDER-QUOTA")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "LIQ-FUNDER-QUOTA: The funding partner's quota for this period is used up"
    assert "fires when: all of (`funding.funder_quota_remaining_pct` <= `funder_quota_low_pct` (5); `line.limit_short` == true)" in lines
    assert "  threshold funder_quota_low_pct = 5 pct (heuristic)" in lines
    for heading in ("For the customer:", "For the support agent:", "For the institution:", "examples:"):
        assert heading in lines
    assert "  fires: quota at 1.5% and a refused request" in lines


def test_show_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "show", "liq-funder-quota", "--lang", "zh")
    assert code == 0
    assert out.splitlines()[0].startswith("LIQ-FUNDER-QUOTA：")
    assert "触发条件：全部满足（" in out and "给客户的建议：" in out and "类别：资金流动性" in out


def test_show_as_json_and_from_an_extending_pack(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "show", "LIQ-FUNDER-QUOTA", "--rules", str(EXTENDS), "--format", "json")
    data = json.loads(out)
    assert code == 0 and data["id"] == "LIQ-FUNDER-QUOTA"
    assert data["parameters"]["funder_quota_low_pct"]["value"] == 2  # the extending pack's threshold
    assert data["defined_at"].split(":")[0].endswith("rules/liquidity.yaml")
    code, out, _ = cli(capsys, "rules", "show", "ACME-FRIDAY-CUTOFF", str(EXTENDS))
    assert code == 0 and 'threshold acme_friday_cutoff = "16:00" time (Acme treasury agreement, section 4.2)' in out


def test_show_unknown_or_disabled_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "show", "LIQ-FUNDER-QOUTA")
    assert (code, out) == (2, "")
    assert err == "usage error: no rule LIQ-FUNDER-QOUTA in pack default\n  help: did you mean LIQ-FUNDER-QUOTA?\n"
    code, _, err = cli(capsys, "rules", "show", "OPS-STALE-RISK-MODEL", "--rules", str(EXTENDS))
    assert code == 2 and "disabled by this pack: our risk model is retrained every week" in err


def test_show_makes_control_characters_visible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: p\nversion: '1'\n", encoding="utf-8")
    source = (ROOT / "tests" / "packs" / "minimal" / "rules.yaml").read_text(encoding="utf-8")
    (pack / "rules.yaml").write_text(source.replace("Please try again tomorrow morning.", '"Retry \\e[2J now."'), encoding="utf-8")
    (pack / "pack.yaml").write_text((ROOT / "tests" / "packs" / "minimal" / "pack.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = cli(capsys, "rules", "show", "T-QUOTA", str(pack))
    assert code == 0 and "\x1b" not in out and "Retry \\x1b[2J now." in out


def test_doc_prints_the_reference(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = cli(capsys, "rules", "doc")
    assert code == 0 and out == (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    target = tmp_path / "acme.md"
    code, _, _ = cli(capsys, "rules", "doc", str(EXTENDS), "-o", str(target))
    assert code == 0 and "### ACME-FRIDAY-CUTOFF:" in target.read_text(encoding="utf-8")
