"""The portfolio summary: counting, shares, pairs, reconciliation, and its four views (rich, JSON, Markdown, HTML)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from diagnose.cli import main
from diagnose.portfolio.summary import Counts, SummaryFormat, Tally, bar, render, render_markdown, render_rich, summarize
from diagnose.portfolio.summary_html import render_page as render_html


def report(verdict: str, *causes: tuple[str, str], title: str = "") -> dict[str, Any]:
    return {
        "schema_version": "1",
        "verdict": verdict,
        "findings": [
            {"rank": i, "rule_id": rid, "family": fam, "title": title or f"title of {rid}"} for i, (rid, fam) in enumerate(causes, 1)
        ],
    }


QUOTA = ("LIQ-FUNDER-QUOTA", "liquidity")
POOL = ("LIQ-REGIONAL-POOL", "liquidity")
OVERDUE = ("BRW-OVERDUE", "borrower")
TIER = ("POL-TIER-DOWNGRADE", "policy")

PORTFOLIO = [
    report("restricted", QUOTA, POOL),
    report("restricted", QUOTA),
    report("blocked", OVERDUE, TIER),
    report("blocked", OVERDUE, TIER, QUOTA),
    report("healthy"),
    report("healthy"),
    report("restricted", POOL, QUOTA),
    report("blocked", OVERDUE),
]


def tally_of(reports: list[dict[str, Any]]) -> Tally:
    t = Tally()
    for r in reports:
        t.add_dict(r)
    return t


def test_counts_per_cause_family_verdict_and_pair() -> None:
    s = summarize(tally_of(PORTFOLIO), rejected=2)
    assert s.counts == Counts(read=10, diagnosed=8, rejected=2) and s.counts.reconciled
    assert [(r.name, r.accounts) for r in s.verdicts] == [("blocked", 3), ("restricted", 3), ("healthy", 2)]
    causes = {r.name: r for r in s.causes}
    assert (causes["LIQ-FUNDER-QUOTA"].accounts, causes["LIQ-FUNDER-QUOTA"].top) == (4, 2)
    assert causes["LIQ-FUNDER-QUOTA"].share == 0.5 and causes["LIQ-FUNDER-QUOTA"].top_share == 0.25
    assert (causes["BRW-OVERDUE"].accounts, causes["BRW-OVERDUE"].top) == (3, 3)
    assert (causes["POL-TIER-DOWNGRADE"].accounts, causes["POL-TIER-DOWNGRADE"].top) == (2, 0)
    assert causes["LIQ-REGIONAL-POOL"].family == "liquidity" and causes["LIQ-REGIONAL-POOL"].title == "title of LIQ-REGIONAL-POOL"
    assert [r.name for r in s.causes] == ["LIQ-FUNDER-QUOTA", "BRW-OVERDUE", "LIQ-REGIONAL-POOL", "POL-TIER-DOWNGRADE"]
    families = {r.name: (r.accounts, r.top) for r in s.families}
    # an account with two liquidity causes counts once for the family
    assert families == {"liquidity": (4, 3), "borrower": (3, 3), "policy": (2, 0)}
    assert s.no_cause == 2
    assert [(p.first, p.second, p.accounts) for p in s.pairs] == [
        ("BRW-OVERDUE", "POL-TIER-DOWNGRADE", 2),
        ("LIQ-FUNDER-QUOTA", "LIQ-REGIONAL-POOL", 2),
        ("BRW-OVERDUE", "LIQ-FUNDER-QUOTA", 1),
        ("LIQ-FUNDER-QUOTA", "POL-TIER-DOWNGRADE", 1),
    ]
    assert len(summarize(tally_of(PORTFOLIO), pairs=1).pairs) == 1


def test_counts_that_do_not_add_up_are_shown_as_such() -> None:
    s = summarize(tally_of(PORTFOLIO), read=11, rejected=2)
    assert not s.counts.reconciled and s.to_dict()["counts"]["reconciled"] is False
    assert "read 11 ≠ diagnosed 8 + rejected 2" in render_markdown(s)


def test_merging_chunk_tallies_equals_counting_in_one_go() -> None:
    whole = tally_of(PORTFOLIO)
    merged = Tally()
    for part in (PORTFOLIO[:3], PORTFOLIO[3:5], PORTFOLIO[5:]):
        merged.merge(tally_of(part))
    assert merged == whole


def test_a_cause_repeated_in_one_report_counts_once() -> None:
    s = summarize(tally_of([report("blocked", OVERDUE, OVERDUE)]))
    assert [(r.name, r.accounts) for r in s.causes] == [("BRW-OVERDUE", 1)] and s.pairs == []


@pytest.mark.parametrize("bad", [[], {"verdict": "healthy"}, {"verdict": "blocked", "findings": [{"family": "x"}]}])
def test_what_is_not_a_report_is_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="not a report"):
        Tally().add_dict(bad)


def test_bars_scale_to_the_largest_row() -> None:
    assert bar(10, 10, 8) == "█" * 8
    assert bar(5, 10, 8) == "█" * 4
    assert bar(1, 16, 8) == "▌"
    assert bar(0, 10) == "" and bar(3, 0) == ""


def test_json_view_holds_every_table() -> None:
    data = json.loads(render(summarize(tally_of(PORTFOLIO), rejected=2), SummaryFormat.json))
    assert data["counts"] == {"read": 10, "diagnosed": 8, "rejected": 2, "reconciled": True}
    assert data["causes"][0] == {
        "name": "LIQ-FUNDER-QUOTA",
        "accounts": 4,
        "share": 0.5,
        "top": 2,
        "top_share": 0.25,
        "family": "liquidity",
        "title": "title of LIQ-FUNDER-QUOTA",
    }
    assert set(data) == {"counts", "no_cause", "verdicts", "families", "causes", "pairs", "days", "packs", "rejected_reasons", "segments"}
    assert data["segments"] is None and data["days"] == [] and data["rejected_reasons"] == []


HOSTILE = report(
    "blocked", ("X-<script>alert(1)</script>", "fam|<b>ily"), title="*bold* | <img src=x onerror=alert(1)> [link](http://evil)"
)


def test_markdown_view_escapes_report_text() -> None:
    text = render_markdown(summarize(tally_of([*PORTFOLIO, HOSTILE])))
    assert "# Portfolio summary" in text and "| LIQ-FUNDER-QUOTA | liquidity |" in text
    row = next(line for line in text.splitlines() if "onerror" in line)
    cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)]
    assert len(cells) == 10  # 8 columns between the outer pipes: the title's own | did not open a column
    assert cells[1] == "X-\\<script\\>alert(1)\\</script\\>" and cells[2] == "fam\\|\\<b\\>ily"
    assert cells[3] == "\\*bold\\* \\| \\<img src=x onerror=alert(1)\\> \\[link\\](http://evil)"
    assert "| BRW-OVERDUE + POL-TIER-DOWNGRADE | 2 | 22.2% |" in text


def test_rich_view_shows_tables_with_bars_and_keeps_markup_literal() -> None:
    text = render_rich(summarize(tally_of([*PORTFOLIO, HOSTILE]), rejected=2), width=100)
    assert "read 11 = diagnosed 9 + rejected 2" in text
    for heading in ("Verdicts", "Families", "Causes", "Most common pairs of causes"):
        assert heading in text
    assert "█" in text and "LIQ-FUNDER-QUOTA" in text and "44.4%" in text
    assert "\x1b[" not in text  # no colour when not asked for
    assert "X-<script>alert(1)</script>" in text  # shown literally, not interpreted
    wide = render_rich(summarize(tally_of(PORTFOLIO)), width=150)
    assert "title of BRW-OVERDUE" in wide  # titles shown when there is room
    assert "\x1b[" in render_rich(summarize(tally_of(PORTFOLIO)), color=True)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_page_is_self_contained_and_escapes_everything() -> None:
    page = render_html(summarize(tally_of([*PORTFOLIO, HOSTILE]), rejected=2))
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "link" not in parsed.tags
    assert not [a for a in parsed.attrs if a[0] in ("src", "href") or a[0].startswith("on")]
    assert "http:" not in page.replace("http://evil", "")  # no external asset; the one URL is the escaped title
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    text = "".join(parsed.text)
    assert "read 11 = diagnosed 9 + rejected 2" in text
    for heading in ("Verdicts", "Causes by family", "All causes", "Most common pairs of causes"):
        assert heading in text
    assert page.startswith("<!doctype html>") and "<style>" in page
    # bars to scale: the biggest verdict (4 of 9 accounts) fills 44.4% of its 160-pixel track, not all of it
    assert '<rect class="fill" width="71.11"' in page and "width:100.0%" not in page


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_summarize_command_formats_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = _write_jsonl(tmp_path / "reports.jsonl", PORTFOLIO)
    errors = _write_jsonl(tmp_path / "errors.jsonl", [{"source": {"file": "x", "line": 1}}, {"source": {"file": "x", "line": 2}}])
    page = tmp_path / "summary.html"
    assert main(["summarize", str(reports), "--errors", str(errors), "--format", "json", "--html", str(page)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    data = json.loads(out)
    assert data["counts"] == {"read": 10, "diagnosed": 8, "rejected": 2, "reconciled": True}
    assert "LIQ-FUNDER-QUOTA" in page.read_text(encoding="utf-8")
    assert main(["summarize", str(reports), "-f", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Portfolio summary\n\n**read 8 = diagnosed 8 + rejected 0**")
    assert main(["summarize", str(reports)]) == 0
    assert "Most common pairs of causes" in capsys.readouterr().out


def test_summarize_command_refuses_a_line_that_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports.jsonl"
    reports.write_text(json.dumps(PORTFOLIO[0]) + "\n" + '{"verdict": "blocked", "findi', encoding="utf-8")
    assert main(["summarize", str(reports)]) == 4
    out, err = capsys.readouterr()
    assert out == ""
    assert f"invalid snapshot: {reports}:2: 1 problem" in err and "not a report" in err and "--resume" in err
    assert main(["summarize", str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
