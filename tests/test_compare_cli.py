"""`diagnose diff` and `diagnose history` on the command line: exit codes, formats, and views that fit 80 columns."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len

from diagnose.compare.render import DiffFormat, HistoryFormat, render_diff, render_history
from diagnose.compare.render_portfolio import render_portfolio
from diagnose.report.formats import Options

from .conftest import EXAMPLES, ROOT, cli
from .test_compare import cured_overdue, limit_cut_with_policy_change, maintenance_ended, new_liquidity_cause


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    before, after = new_liquidity_cause()
    return write(tmp_path, "before.json", before), write(tmp_path, "after.json", after)


def test_a_snapshot_against_itself_says_no_change(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "diff", EXAMPLES / "healthy.json", EXAMPLES / "healthy.json")
    assert (code, err) == (0, "")
    assert "No change at 2024-03-05 14:20: the verdict stays healthy, and no cause holds." in out
    code, out, _ = cli(capsys, "diff", EXAMPLES / "healthy.json", EXAMPLES / "healthy.json", "--lang", "zh")
    assert code == 0 and "没有变化" in out


def test_diff_json_is_the_api_result(capsys: pytest.CaptureFixture[str], pack: Any, pair: tuple[Path, Path]) -> None:
    code, out, err = cli(capsys, "diff", *pair, "--format", "json")
    assert (code, err) == (0, "")
    expected = pack.diff(*new_liquidity_cause(), sources=(str(pair[0]), str(pair[1])))
    assert json.loads(out) == json.loads(expected.to_json())


def test_diff_views(capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]) -> None:
    code, out, _ = cli(capsys, "diff", *pair)
    assert code == 0
    assert "new  LIQ-FUNDER-QUOTA  The funding partner's quota for this period is used up" in out
    assert "funding.funder_quota_remaining_pct: 45% → 2.3%" in out
    assert "<= 5% (funder_quota_low_pct): ✘ → ✔" in out
    assert "Also changed, decided nothing (10)" in out
    code, out, _ = cli(capsys, "diff", *pair, "--all-facts")
    assert "request.error_code: unknown → QUOTA_UNAVAILABLE" in out
    code, out, _ = cli(capsys, "diff", *pair, "--format", "markdown")
    assert "## new: `LIQ-FUNDER-QUOTA`, The funding partner's quota for this period is used up" in out
    assert "| `funding.funder_quota_remaining_pct` | 45% | 2.3% | <= 5% (funder_quota_low_pct): ✘ → ✔ |" in out
    assert "<details><summary>Also changed, decided nothing (10)</summary>" in out
    code, out, _ = cli(capsys, "diff", *pair, "--format", "message", "--lang", "zh")
    assert out.startswith("您好，感谢您的耐心等待。\n我们对比了您的额度在 2024-05-07 与现在（2024-05-14）的情况。\n")
    assert "目前有新的原因影响您的额度：" in out
    assert "LIQ-FUNDER-QUOTA" not in out and "partner-bank" not in out  # no rule ids, no funder names for the customer


def test_two_accounts_exit_4_unless_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "diff", EXAMPLES / "healthy.json", EXAMPLES / "liq-funder-quota.json")
    assert (code, out) == (4, "")
    assert "is account acct-5c21e8" in err and "--cross-account" in err and "Traceback" not in err
    code, out, _ = cli(capsys, "diff", EXAMPLES / "healthy.json", EXAMPLES / "liq-funder-quota.json", "--cross-account")
    assert code == 0 and "a new cause, LIQ-FUNDER-QUOTA" in out


def test_after_older_than_before_warns(capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path]) -> None:
    code, out, err = cli(capsys, "diff", pair[1], pair[0], "--format", "json")
    assert code == 0 and json.loads(out)["swapped"] is True
    assert err.startswith("warning: AFTER (as of 2024-05-07T09:42:00+08:00) is older than BEFORE")


def test_usage_errors(capsys: pytest.CaptureFixture[str], pair: tuple[Path, Path], tmp_path: Path) -> None:
    assert cli(capsys, "diff", *pair, "--format", "html")[0] == 2
    assert cli(capsys, "diff", pair[0], tmp_path / "missing.json")[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1"}', encoding="utf-8")
    code, _, err = cli(capsys, "diff", pair[0], bad)
    assert code == 4 and "bad.json" in err


def test_history_of_a_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    before, after = cured_overdue()
    write(tmp_path, "2.json", after)
    write(tmp_path, "1.json", before)
    code, out, err = cli(capsys, "history", tmp_path)
    assert (code, err) == (0, "")
    assert "History of account acct-7c41d2" in out
    assert "BRW-OVERDUE" in out and "1 → 2" in out
    code, out, _ = cli(capsys, "history", tmp_path, "--format", "json")
    data = json.loads(out)
    assert [s["source"] for s in data["snapshots"]] == [str(tmp_path / "1.json"), str(tmp_path / "2.json")]
    assert [(c["rule_id"], c["states"]) for c in data["causes"]][:2] == [
        ("BRW-OVERDUE", ["holds", "no"]),
        ("POL-TIER-DOWNGRADE", ["holds", "holds"]),
    ]
    lines = tmp_path / "all.jsonl"
    lines.write_text(json.dumps(before) + "\n" + json.dumps(after) + "\n", encoding="utf-8")
    code, out, _ = cli(capsys, "history", lines, "--format", "markdown")
    assert code == 0 and "| 1 | 2024-06-18 09:45 | blocked |" in out
    code, _, err = cli(capsys, "history", EXAMPLES / "healthy.json", EXAMPLES / "liq-funder-quota.json")
    assert code == 4 and "a history follows one account" in err


def _report_file(pack: Any, path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("wb") as fh:
        for name, account in rows:
            snap = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
            snap["account"]["id"] = account
            fh.write(pack.diagnose(snap).to_json_bytes() + b"\n")
    return path


def test_portfolio_diff_formats(capsys: pytest.CaptureFixture[str], pack: Any, tmp_path: Path) -> None:
    day1 = _report_file(pack, tmp_path / "d1.jsonl", [("healthy", "a-1"), ("ops-maintenance", "a-2")])
    day2 = _report_file(pack, tmp_path / "d2.jsonl", [("liq-funder-quota", "a-1"), ("healthy", "a-3")])
    accounts = tmp_path / "accounts.jsonl"
    code, out, err = cli(capsys, "diff", "--reports", day1, day2, "--format", "json", "--accounts", accounts)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert (data["both"], data["only_before"], data["only_after"], data["reconciled"]) == (1, 1, 1, True)
    assert len(accounts.read_text(encoding="utf-8").splitlines()) == 3
    code, out, _ = cli(capsys, "diff", "--reports", day1, day2)
    assert "Accounts: 1 in both + 1 only before + 1 only after = 3: every account is in exactly one bucket" in out
    code, out, _ = cli(capsys, "diff", "--reports", day1, day2, "--format", "html", "--lang", "zh")
    assert out.startswith("<!doctype html>") and '<html lang="zh">' in out and "每个账户恰好归入一类" in out
    code, out, _ = cli(capsys, "diff", "--reports", day1, day2, "--format", "markdown")
    assert "| healthy | restricted | 1 | a-1 |" in out
    assert cli(capsys, "diff", "--reports", day1, day2, "--format", "message")[0] == 2
    assert cli(capsys, "diff", "--reports", day1, day2, "--accounts", day1)[0] == 2  # never overwrite an input
    assert day1.read_bytes().count(b"\n") == 2


# --- what people see: 80 columns, both languages, nothing cut or broken ----------------------


def _fits(text: str, words: list[str]) -> None:
    for line in text.splitlines():
        assert cell_len(line) <= 80, line
    assert "…" not in text
    flat = text.replace("\n", " ")
    for word in words:  # ids and fact paths are never broken across lines
        assert word in flat, word


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("build", [new_liquidity_cause, cured_overdue, maintenance_ended, limit_cut_with_policy_change])
def test_diff_view_fits_80_columns(pack: Any, lang: str, build: Any) -> None:
    d = pack.diff(*build(), lang=lang)
    words = [c.rule_id for c in d.causes] + [fc.fact for c in d.causes for fc in c.facts] + [fc.fact for fc in d.other_facts]
    _fits(render_diff(d, DiffFormat.rich, Options(lang=lang, width=80)), words)
    _fits(render_diff(d, DiffFormat.rich, Options(lang=lang, width=80), all_facts=True), words)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_history_views_fit_80_columns(pack: Any, lang: str) -> None:
    before, after = new_liquidity_cause()
    snaps = []
    for day in range(1, 16):  # more snapshots than one table holds
        snap = json.loads(json.dumps(before if day % 3 else after))
        snap["as_of"] = f"2024-06-{day:02d}T09:42:00+08:00"
        snap["request"]["at"] = f"2024-06-{day:02d}T09:35:00+08:00"
        snaps.append(snap)
    h = pack.history(snaps, lang=lang)
    assert len(h.snapshots) == 15
    rich = render_history(h, HistoryFormat.rich, Options(lang=lang, width=80))
    _fits(rich, ["LIQ-FUNDER-QUOTA", "funding.funder_quota_remaining_pct"])
    assert "13" in rich and "15" in rich  # the second table holds the last columns
    for line in render_history(h, HistoryFormat.markdown, Options(lang=lang)).splitlines():
        if line.startswith("| ") and "---" not in line and "LIQ" in line:
            assert cell_len(line) <= 80, line


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_portfolio_view_fits_80_columns(pack: Any, tmp_path: Path, lang: str) -> None:
    from diagnose.compare.portfolio import diff_reports

    day1 = _report_file(pack, tmp_path / "d1.jsonl", [("healthy", f"acct-{i:012x}") for i in range(5)] + [("brw-overdue", "acct-x")])
    day2 = _report_file(pack, tmp_path / "d2.jsonl", [("liq-funder-quota", f"acct-{i:012x}") for i in range(6)])
    r = diff_reports(str(day1), str(day2), lang=lang)
    _fits(
        render_portfolio(r, DiffFormat.rich, Options(lang=lang, width=80)), ["LIQ-FUNDER-QUOTA", "acct-000000000000", "acct-000000000002"]
    )


_SHOWN = re.compile(r"```\n\$ diagnose ((?:diff|history) [^\n]*)\n(.*?)```", re.S)


@pytest.mark.parametrize("doc", ["docs/diff.md", "README.md"])
def test_the_docs_show_real_output(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, doc: str) -> None:
    """Each `$ diagnose diff|history` block of the docs on the examples is what the command prints at 80 columns."""
    import diagnose.cli.diff as command

    monkeypatch.setattr(command, "width", lambda: 80)
    monkeypatch.chdir(ROOT)
    shown = [(line, body) for line, body in _SHOWN.findall((ROOT / doc).read_text(encoding="utf-8")) if "--reports" not in line]
    assert shown
    for line, body in shown:
        _, out, err = cli(capsys, *shlex.split(line))
        got = "\n".join(row.rstrip() for row in (out + err).splitlines()) + "\n"
        digest = re.compile(r"sha256:[0-9a-f]{12}")  # the pack's digest changes with any edit of its texts
        assert digest.sub("sha256:…", got) == digest.sub("sha256:…", body), line


def test_standard_input_holds_one_snapshot_or_a_history(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, pair: tuple[Path, Path]
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(pair[0].read_bytes())))
    code, out, _ = cli(capsys, "diff", "-", pair[1], "--format", "json")
    assert code == 0 and json.loads(out)["before"]["source"] == "<stdin>"
    lines = b"\n".join(json.dumps(json.loads(p.read_text(encoding="utf-8"))).encode() for p in pair) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(lines)))
    code, out, _ = cli(capsys, "history", "-", "--format", "json")
    assert code == 0 and [s["source"] for s in json.loads(out)["snapshots"]] == ["<stdin>:1", "<stdin>:2"]
    assert cli(capsys, "diff", "-", "-")[0] == 2
