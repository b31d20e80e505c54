"""The words of the portfolio views in each language, and the terminal and Markdown views of the `--by` breakdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diagnose.portfolio.summary import SummaryFormat
from diagnose.vocab import VERDICTS, word

if TYPE_CHECKING:
    from diagnose.portfolio.summary import Breakdown, Segment, Summary

SHOWN_SEGMENTS = 20
"""Segments the terminal and Markdown views list (the JSON holds all)."""
SHOWN_CAUSES = 3
"""Causes listed per segment in those views."""

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Portfolio summary",
        "by": "By {fields}",
        "segment": "Segment",
        "accounts": "Accounts",
        "share": "Share",
        "share_in": "Share in segment",
        "cause": "Cause",
        "causes": "Causes",
        "family": "Family",
        "top": "Top cause",
        "top_share": "Top share",
        "verdict": "Verdict",
        "verdicts": "Verdicts",
        "unknown": "unknown",
        "top_causes": "Top causes per segment",
        "reconciled": "The segments add up to the whole portfolio.",
        "not_reconciled": "The segments do NOT add up to the whole portfolio.",
        "more_segments": "{n} more segments in the JSON summary (--format json).",
        "none": "none",
        "families": "Causes by family",
        "heat": "Causes by segment ({fields}): share of the segment's accounts",
        "trend_day": "Verdicts by day",
        "trend_week": "Verdicts by week",
        "trend_month": "Verdicts by month",
        "rejected": "Rejected records by reason",
        "no_rejected": "No record was rejected.",
        "reason": "Reason",
        "records": "Records",
        "about": "About this summary",
        "pack": "Rule pack",
        "version": "Version",
        "digest": "Digest",
        "inputs": "Inputs",
        "period": "Period (as_of)",
        "counts": "Records",
        "counts_line": "read {read} = diagnosed {diagnosed} + rejected {rejected}",
        "counts_bad": "read {read} ≠ diagnosed {diagnosed} + rejected {rejected}",
        "pairs": "Most common pairs of causes",
        "no_pairs": "No account has more than one cause.",
        "no_cause": "Accounts with no cause: {n}",
        "day": "Day",
        "scale": "Shares are of the diagnosed accounts; bars are drawn to scale (a 100% bar fills its track).",
        "all_causes": "All causes",
        "stdin": "standard input",
        "single_day": "The input covers one day: {day}.",
        "more_causes": "Causes outside the {n} most common are not in the heat map; the table below lists all.",
        "product": "product",
        "region": "region",
        "funder": "funding partner",
        "funding_model": "funding model",
        "tier": "risk tier",
        "channel": "channel of the last repayment",
        "currency": "currency",
        "as_of:day": "day",
        "as_of:week": "week",
        "as_of:month": "month",
    },
    "zh": {
        "title": "资产组合汇总",
        "by": "按{fields}分组",
        "segment": "分组",
        "accounts": "账户数",
        "share": "占比",
        "share_in": "分组内占比",
        "cause": "原因",
        "causes": "原因",
        "family": "类别",
        "top": "首要原因",
        "top_share": "首要原因占比",
        "verdict": "结论",
        "verdicts": "结论分布",
        "unknown": "未知",
        "top_causes": "各分组的主要原因",
        "reconciled": "各分组合计与整个资产组合一致。",
        "not_reconciled": "各分组合计与整个资产组合不一致。",
        "more_segments": "另有 {n} 个分组见 JSON 汇总（--format json）。",
        "none": "无",
        "families": "各类别的原因",
        "heat": "各分组的原因（{fields}）：占该分组账户的比例",
        "trend_day": "每日结论",
        "trend_week": "每周结论",
        "trend_month": "每月结论",
        "rejected": "已拒收的记录（按原因）",
        "no_rejected": "没有已拒收的记录。",
        "reason": "原因",
        "records": "记录数",
        "about": "关于本汇总",
        "pack": "规则包",
        "version": "版本",
        "digest": "摘要值",
        "inputs": "输入",
        "period": "时间范围（快照时间）",
        "counts": "记录",
        "counts_line": "读取 {read} = 已诊断 {diagnosed} + 已拒收 {rejected}",
        "counts_bad": "读取 {read} ≠ 已诊断 {diagnosed} + 已拒收 {rejected}",
        "pairs": "最常同时出现的两个原因",
        "no_pairs": "没有账户同时有两个以上的原因。",
        "no_cause": "未发现原因的账户：{n}",
        "day": "日期",
        "scale": "占比均以已诊断账户为基数；条形按实际比例绘制（100% 占满整条）。",
        "all_causes": "全部原因",
        "stdin": "标准输入",
        "single_day": "输入只涵盖一天：{day}。",
        "more_causes": "热力图只列出最常见的 {n} 个原因；下表列出全部原因。",
        "product": "产品",
        "region": "地区",
        "funder": "资金方",
        "funding_model": "资金模式",
        "tier": "风险等级",
        "channel": "最近一笔还款的渠道",
        "currency": "币种",
        "as_of:day": "日",
        "as_of:week": "周",
        "as_of:month": "月",
    },
}


def words(lang: str) -> dict[str, str]:
    return WORDS.get(lang, WORDS["en"])


def verdict_word(verdict: str, lang: str) -> str:
    """A verdict as a heading or label: the vocabulary's word, capitalised in English."""
    text = word("verdict", verdict, lang)
    return text[:1].upper() + text[1:] if lang == "en" else text


def field_name(name: str, lang: str) -> str:
    """A --by field as people read it: the segment's name in ``lang``, a fact path as itself."""
    return words(lang).get(name, name) if name in WORDS["en"] else name


def fields_text(by: list[str], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(field_name(f, lang) for f in by)


def key_text(segment: Segment, lang: str) -> str:
    return " / ".join(v if v is not None else words(lang)["unknown"] for v in segment.key)


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _verdict_share(segment: Segment, verdict: str) -> str:
    return next((_pct(r.share) for r in segment.verdicts if r.name == verdict), "0.0%")


def render_segments(summary: Summary, fmt: SummaryFormat, *, lang: str = "en", color: bool = False, width: int = 100) -> str:
    """The breakdown of `--by` after the summary's own view; nothing for JSON (it is in the summary) or without --by."""
    b = summary.segments
    if b is None or fmt is SummaryFormat.json:
        return ""
    if fmt is SummaryFormat.markdown:
        return _markdown(b, lang)
    return _rich(b, lang, color, width)


def _rows(b: Breakdown, lang: str) -> list[list[str]]:
    return [
        [key_text(s, lang), f"{s.accounts:,}", _pct(s.share), *(_verdict_share(s, v) for v in VERDICTS)]
        for s in b.segments[:SHOWN_SEGMENTS]
    ]


def _cause_rows(b: Breakdown, lang: str) -> list[list[str]]:
    out = []
    for s in b.segments[:SHOWN_SEGMENTS]:
        causes = s.causes[:SHOWN_CAUSES]
        if not causes:
            out.append([key_text(s, lang), words(lang)["none"], "", ""])
        for i, c in enumerate(causes):
            out.append([key_text(s, lang) if i == 0 else "", c.name, f"{c.accounts:,}", _pct(c.share)])
    return out


def _notes(b: Breakdown, lang: str) -> list[str]:
    w = words(lang)
    notes = [w["reconciled"] if b.reconciled else w["not_reconciled"]]
    if len(b.segments) > SHOWN_SEGMENTS:
        notes.append(w["more_segments"].format(n=f"{len(b.segments) - SHOWN_SEGMENTS:,}"))
    return notes


def _heads(lang: str) -> tuple[list[str], list[str]]:
    w = words(lang)
    return (
        [w["segment"], w["accounts"], w["share"], *(verdict_word(v, lang) for v in VERDICTS)],
        [w["segment"], w["cause"], w["accounts"], w["share_in"]],
    )


def _markdown(b: Breakdown, lang: str) -> str:
    from diagnose.report.formats.markdown import md

    w = words(lang)

    def table(head: list[str], rows: list[list[str]]) -> list[str]:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return [*out, *("| " + " | ".join(md(c) for c in r) + " |" for r in rows), ""]

    heads, cause_heads = _heads(lang)
    out = ["", f"## {md(w['by'].format(fields=fields_text(b.by, lang)))}", ""]
    out += table(heads, _rows(b, lang))
    out += [f"### {md(w['top_causes'])}", ""]
    out += table(cause_heads, _cause_rows(b, lang))
    out += [*(md(n) for n in _notes(b, lang)), ""]
    return "\n".join(out)


def _rich(b: Breakdown, lang: str, color: bool, width: int) -> str:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from diagnose.report.formats import clean

    w = words(lang)
    from diagnose.report.formats.richview import buffer_console

    console, buffer = buffer_console(width, color)

    def table(title: str, heads: list[str], rows: list[list[str]], numeric_from: int) -> Table:
        t = Table(box=box.SIMPLE, title=title, title_justify="left", title_style="bold")
        for i, h in enumerate(heads):
            # text columns wrap (fold) rather than cut: a long segment value or cause id is shown whole
            t.add_column(h, justify="right" if i >= numeric_from else "left", overflow="fold", no_wrap=i >= numeric_from)
        for r in rows:
            t.add_row(*(Text(clean(c)) for c in r))
        return t

    heads, cause_heads = _heads(lang)
    console.print(table(w["by"].format(fields=fields_text(b.by, lang)), heads, _rows(b, lang), 1))
    console.print(table(w["top_causes"], cause_heads, _cause_rows(b, lang), 2))
    for note in _notes(b, lang):
        console.print(Text(note, style="bold" if b.reconciled else "bold red"))
    return buffer.getvalue()
