"""Every word reaches the reader: each human view of each example shows every text of the report whole, at any width."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from diagnose.api import CompiledPack
from diagnose.records import Report
from diagnose.report.formats import Options, ReportFormat, renderer
from diagnose.report.formats.richview import show_value
from tests.conftest import EXAMPLES, load_json

WIDTHS = (60, 80, 100, 140)
SCREENS = Path(__file__).parent / "golden" / "screens"
SCREEN_EXAMPLES = ("ops-repayment-unposted", "liq-funder-quota")
# Borders, rules and bullets of the views, and all white space: what is left of a wrapped text is the text itself.
_FRAME = re.compile(r"[\s│┃║╭╮╰╯─━┼╷╵╶╴═╪┏┓┗┛┡┩╇╈┠┨▕▏]")


def joined(text: str) -> str:
    return _FRAME.sub("", text)


def _report(pack: CompiledPack, example: Path, lang: str, audience: str) -> Report:
    return pack.diagnose(load_json(example), lang=lang, source=example.name, explain=True, timeline=True, audience=audience)


def _assert_whole(view: str, texts: list[str], where: str) -> None:
    assert "…" not in view, f"{where}: a text is cut:\n{view}"
    flat = joined(view)
    for text in texts:
        assert joined(text) in flat, f"{where}: {text!r} is not whole in:\n{view}"


def _texts(report: Report, lang: str) -> list[str]:
    texts: list[str] = []
    for f in report.findings:
        texts += [f.title, f.explanation, *f.remedies.customer, *f.remedies.agent, *f.remedies.institution]
        for e in f.evidence:
            texts += [e.fact, show_value(e.actual, e.fact, lang)]
    for u in report.undetermined:
        texts += [u.rule_id, u.title, *u.missing]
    return texts


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_text_whole_in_every_view(pack: CompiledPack, example: Path, lang: str) -> None:
    report = _report(pack, example, lang, "agent")
    texts = _texts(report, lang)
    for width in WIDTHS:
        view = renderer(ReportFormat.rich)(report, Options(lang=lang, width=width))
        assert max(len(line) for line in view.splitlines()) <= width
        _assert_whole(view, texts, f"rich at {width}")
    # Markdown escapes are not part of the text a reader sees
    markdown = re.sub(r"\\(.)", r"\1", renderer(ReportFormat.markdown)(report, Options(lang=lang))).replace("`", "")
    _assert_whole(markdown, texts, "markdown")
    customer = _report(pack, example, lang, "customer")
    primary = [f for f in customer.findings if not f.contributing][:2]
    message = renderer(ReportFormat.message)(customer, Options(lang=lang))
    _assert_whole(message, [f.explanation for f in primary] + [r for f in primary[:1] for r in f.remedies.customer[:1]], "message")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", SCREEN_EXAMPLES)
def test_golden_screen_at_80_columns(pack: CompiledPack, name: str, lang: str) -> None:
    """What an agent sees in an 80-column terminal; UPDATE_GOLDEN=1 rewrites the screens after a reviewed change."""
    report = _report(pack, EXAMPLES / f"{name}.json", lang, "agent")
    screen = renderer(ReportFormat.rich)(report, Options(lang=lang, width=80))
    screen = "\n".join(line.rstrip() for line in screen.splitlines()) + "\n"
    golden = SCREENS / f"{name}.{lang}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1" or not golden.exists():
        SCREENS.mkdir(parents=True, exist_ok=True)
        golden.write_text(screen, encoding="utf-8")
        if os.environ.get("UPDATE_GOLDEN") != "1":
            pytest.fail(f"wrote a new golden screen {golden.name}; review and commit it")
    assert screen == golden.read_text(encoding="utf-8"), f"the screen of {name} ({lang}) changed; UPDATE_GOLDEN=1 after review"


def test_summary_numbers_whole_at_80_columns(pack: CompiledPack) -> None:
    from diagnose.portfolio.summary import Tally, render_rich, summarize

    tally = Tally()
    for example in sorted(EXAMPLES.glob("*.json")):
        report = pack.diagnose(load_json(example), source=example.name)
        for _ in range(173 if example.stem == "liq-funder-quota" else 3):  # counts of three digits, as the issue saw cut
            tally.add_report(report)
    summary = summarize(tally, rejected=12345)
    numbers = [f"{summary.counts.read:,}", f"{summary.counts.rejected:,}", f"{summary.no_cause:,}"]
    for rows in (summary.verdicts, summary.families, summary.causes):
        for r in rows:
            numbers += [r.name, f"{r.accounts:,}", f"{r.share * 100:.1f}%", f"{r.top:,}", f"{r.top_share * 100:.1f}%"]
    for lang in ("en", "zh"):
        for width in (60, 80):
            view = render_rich(summary, width=width, lang=lang)
            assert "…" not in view
            lines = view.splitlines()
            for n in numbers:
                if n in ("blocked", "restricted", "healthy") or n in ("liquidity", "policy", "product", "operations", "borrower"):
                    continue  # named in the language of the view
                assert any(re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d.,])", line) for line in lines), f"{n} not whole at {width} ({lang})"
