"""The customer message: remedies that ask for the same thing are said once, and a time already passed is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from diagnose.api import CompiledPack
from diagnose.pack.templates import relative_time
from diagnose.report.formats import Options, ReportFormat, renderer
from diagnose.report.formats.message import intent, merged
from tests.conftest import EXAMPLES, load_json


def message(pack: CompiledPack, name: str, lang: str) -> str:
    report = pack.diagnose(load_json(EXAMPLES / f"{name}.json"), lang=lang, audience="customer")
    return renderer(ReportFormat.message)(report, Options(lang=lang))


@pytest.mark.parametrize(("lang", "retry", "kept"), [("en", "try again", "has not been"), ("zh", "再试", "额度")])
def test_two_causes_that_both_say_try_again_say_it_once(pack: CompiledPack, lang: str, retry: str, kept: str) -> None:
    text = message(pack, "contract-example", lang)
    todo = text.split("\n\n")[3]
    assert todo.count(retry) == 1, text
    assert (
        sum(
            1
            for line in todo.splitlines()
            if kept in line and ("cancelled" in line or "reduced" in line or "取消" in line or "降低" in line)
        )
        == 1
    )


def test_merging_keeps_each_causes_own_remedies() -> None:
    first = ["Please try again tomorrow.", "Do not pay twice."]
    second = ["Please try again in a day or two.", "Keep your receipt.", "Do not repay again: it is recorded."]
    assert merged([first, second]) == ["Please try again tomorrow.", "Do not pay twice.", "Keep your receipt."]
    assert intent("Your limit of 50,000.00 has not been cancelled: no need to repay") == "limit_kept"  # 50,000.00 ends no sentence


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_time_passed_at_as_of_is_overdue_in_every_view(pack: CompiledPack, lang: str) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "ops-repayment-unposted.json"), lang=lang, audience="customer", timeline=True)
    step = report.findings[0].clears_when[0].text
    assert ("escalating" in step and "expected by" not in step) if lang == "en" else ("加急" in step and "预计" not in step)
    yesterday = "15:30 yesterday" if lang == "en" else "昨天 15:30"
    assert yesterday in step and yesterday in report.findings[0].explanation
    for fmt in (ReportFormat.message, ReportFormat.markdown, ReportFormat.rich):
        assert yesterday in renderer(fmt)(report, Options(lang=lang, width=100)).replace("\n", " ")


def test_relative_time() -> None:
    now = datetime(2024, 3, 5, 10, 0, tzinfo=timezone(timedelta(hours=8)))
    assert relative_time(now - timedelta(hours=20), now, "en") == "14:00 yesterday"
    assert relative_time(now + timedelta(hours=3), now, "zh") == "今天 13:00"
    assert relative_time(now + timedelta(days=1), now, "zh") == "明天 10:00"
    assert relative_time(now - timedelta(days=3), now, "en") == "2024-03-02 10:00"


def test_a_day_said_in_chinese_takes_no_space_after_a_chinese_word(pack: CompiledPack) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "ops-repayment-unposted.json"), lang="zh", audience="customer")
    texts = [report.findings[0].explanation, report.findings[0].clears_when[0].text, *report.findings[0].remedies.customer]
    assert all("在 昨天" not in t for t in texts) and sum("本应在昨天 15:30 前" in t for t in texts) >= 3, texts
    from diagnose.pack.templates import closer

    assert closer("本应在 ", "昨天 15:30") == "本应在" and closer("本应在 ", "2024-03-04 15:30") == "本应在 "
    assert closer("due by ", "15:30 yesterday") == "due by " and closer("", "昨天") == ""


def test_an_expected_time_said_as_a_day_takes_no_space_either(pack: CompiledPack) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "ops-batch-window.json"), lang="zh")
    steps = [c.text for f in report.findings for c in f.clears_when]
    assert any("（预计明天 02:00）" in t for t in steps) and not any("预计 明天" in t for t in steps), steps
