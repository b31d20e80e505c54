"""The portfolio summary as one HTML page a manager can be shown: charts as inline SVG, the run's metadata, print-ready."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from diagnose.portfolio import charts
from diagnose.portfolio.charts import PALETTE, e, pct
from diagnose.portfolio.segments import period
from diagnose.portfolio.summary_views import fields_text, key_text, verdict_word, words
from diagnose.vocab import VERDICTS, word

if TYPE_CHECKING:
    from diagnose.portfolio.summary import Breakdown, Row, Summary

HEAT_SEGMENTS = 12
"""Segments (columns) of the heat map: the biggest; the JSON summary has them all."""
TREND_POINTS = 62
"""At most this many points on the trend: beyond, days are summed by week, then by month."""
HEAT_CAUSES = 10
"""Causes (rows) of the heat map: the most common in the whole portfolio."""

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.5rem;margin-bottom:.3rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
section{margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:middle}
th{font-weight:600;background:#f5f7fa}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.meta th{width:14rem;background:none}
code{font-size:.92em;overflow-wrap:anywhere}.ok{color:#3f9b57}.bad{color:#c8423b}
.figure{overflow-x:auto}svg.chart{display:block;max-width:100%;height:auto}td svg.chart{display:inline-block;vertical-align:middle}
.note{color:#5b6472;font-size:.9em}
@media print{
@page{size:A4;margin:14mm}
body{margin:0;max-width:none;font-size:10.5pt;print-color-adjust:exact;-webkit-print-color-adjust:exact}
section{break-inside:avoid}h2{break-after:avoid}tr{break-inside:avoid}.figure{overflow:visible}
}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The page may load nothing: no script, no font, no image from anywhere."""


def _family(name: str, lang: str) -> str:
    return word("family", name, lang) if name else name


def _num(value: str) -> str:
    return f'<td class="n">{e(value)}</td>'


def _table(columns: Sequence[str], rows: Sequence[str], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{e(c)}</th>" for i, c in enumerate(columns))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _shared(accounts: int, share: float, color: str = charts.BAR) -> str:
    return f"{_num(f'{accounts:,}')}{_num(pct(share))}<td>{charts.inline_bar(share, color=color)}</td>"


def _meta(summary: Summary, lang: str, inputs: Sequence[str]) -> str:
    w = words(lang)
    c = summary.counts
    rows = []
    for p in summary.packs or []:
        rows.append(f"<tr><th>{e(w['pack'])}</th><td>{e(p.name)}</td></tr>")
        rows.append(f"<tr><th>{e(w['version'])}</th><td>{e(p.version)}</td></tr>")
        rows.append(f"<tr><th>{e(w['digest'])}</th><td><code>{e(p.digest)}</code></td></tr>")
    shown = [w["stdin"] if i in ("-", "<stdin>") else i for i in inputs]
    if shown:
        rows.append(f"<tr><th>{e(w['inputs'])}</th><td>{'<br>'.join(f'<code>{e(i)}</code>' for i in shown)}</td></tr>")
    line = (w["counts_line"] if c.reconciled else w["counts_bad"]).format(
        read=f"{c.read:,}", diagnosed=f"{c.diagnosed:,}", rejected=f"{c.rejected:,}"
    )
    rows.append(f'<tr><th>{e(w["counts"])}</th><td class="{"ok" if c.reconciled else "bad"}"><strong>{e(line)}</strong></td></tr>')
    if summary.days:
        first, last = summary.days[0].day, summary.days[-1].day
        rows.append(f"<tr><th>{e(w['period'])}</th><td>{e(first if first == last else f'{first} – {last}')}</td></tr>")
    return f'<section><table class="meta"><tbody>{"".join(rows)}</tbody></table></section>'


def _verdicts(summary: Summary, lang: str) -> str:
    w = words(lang)
    parts = [(verdict_word(r.name, lang), r.share, PALETTE.get(r.name, charts.BAR)) for r in summary.verdicts]
    chart = charts.stacked_bar("verdicts", parts, label=w["verdicts"])
    rows = [
        f"<tr><td>{e(verdict_word(r.name, lang))}</td>{_shared(r.accounts, r.share, PALETTE.get(r.name, charts.BAR))}</tr>"
        for r in summary.verdicts
    ]
    table = _table([w["verdict"], w["accounts"], w["share"], ""], rows, (1, 2))
    return f'<section><h2>{e(w["verdicts"])}</h2><div class="figure">{chart}</div>{table}</section>'


def _families(summary: Summary, lang: str) -> str:
    w = words(lang)
    rows = [(_family(r.name, lang), r.share, f"{r.accounts:,} · {pct(r.share)}") for r in summary.families]
    chart = charts.bars("families", rows, label=w["families"]) if rows else f"<p>{e(w['none'])}</p>"
    return f'<section><h2>{e(w["families"])}</h2><div class="figure">{chart}</div></section>'


def _causes(summary: Summary, lang: str) -> str:
    w = words(lang)
    rows = [
        f"<tr><td><code>{e(r.name)}</code></td><td>{e(r.title)}</td><td>{e(_family(r.family, lang))}</td>"
        f"{_shared(r.accounts, r.share)}{_num(f'{r.top:,}')}{_num(pct(r.top_share))}</tr>"
        for r in summary.causes
    ]
    table = _table([w["cause"], "", w["family"], w["accounts"], w["share"], "", w["top"], w["top_share"]], rows, (3, 4, 6, 7))
    note = f'<p class="note">{e(w["no_cause"].format(n=f"{summary.no_cause:,}"))}</p>'
    return f"<section><h2>{e(w['all_causes'])}</h2>{table}{note}</section>"


def _heat(b: Breakdown, causes: Sequence[Row], lang: str) -> str:
    w = words(lang)
    segments = b.segments[:HEAT_SEGMENTS]
    shown = [c.name for c in causes[:HEAT_CAUSES]]
    values = []
    for rule_id in shown:
        values.append([next((c.accounts for c in s.causes if c.name == rule_id), 0) / s.accounts if s.accounts else 0.0 for s in segments])
    columns = [f"{key_text(s, lang)} ({s.accounts:,})" for s in segments]
    title = w["heat"].format(fields=fields_text(b.by, lang))
    chart = charts.heatmap("heatmap", shown, columns, values, label=title) if shown and segments else f"<p>{e(w['none'])}</p>"
    notes = [w["reconciled"] if b.reconciled else w["not_reconciled"]]
    if len(causes) > HEAT_CAUSES:
        notes.append(w["more_causes"].format(n=HEAT_CAUSES))
    if len(b.segments) > HEAT_SEGMENTS:
        notes.append(w["more_segments"].format(n=f"{len(b.segments) - HEAT_SEGMENTS:,}"))
    return f'<section><h2>{e(title)}</h2><div class="figure">{chart}</div><p class="note">{e(("" if lang == "zh" else " ").join(notes))}</p></section>'


def _periods(summary: Summary) -> tuple[str, list[tuple[str, Counter[str]]]]:
    """The days of the input, or its weeks or months when there are more than TREND_POINTS of them."""
    for unit in ("day", "week", "month"):
        per: dict[str, Counter[str]] = {}
        for d in summary.days:
            per.setdefault(period(d.day, unit) or d.day, Counter()).update(d.verdicts)
        if len(per) <= TREND_POINTS or unit == "month":
            return unit, sorted(per.items())
    raise AssertionError("unreachable")


def _trend(summary: Summary, lang: str) -> str:
    w = words(lang)
    if len(summary.days) < 2:
        return ""
    unit, points = _periods(summary)
    series = [
        (verdict_word(v, lang), PALETTE[v], [c[v] / total if (total := sum(c.values())) else 0.0 for _, c in points]) for v in VERDICTS
    ]
    title = w[f"trend_{unit}"]
    chart = charts.trend("trend", [p for p, _ in points], series, label=title)
    return f'<section><h2>{e(title)}</h2><div class="figure">{chart}</div></section>'


def _pairs(summary: Summary, lang: str) -> str:
    w = words(lang)
    if not summary.pairs:
        return f"<section><h2>{e(w['pairs'])}</h2><p>{e(w['no_pairs'])}</p></section>"
    rows = [
        f"<tr><td><code>{e(p.first)}</code> + <code>{e(p.second)}</code></td>{_shared(p.accounts, p.share, '#8e5cc2')}</tr>"
        for p in summary.pairs
    ]
    return f"<section><h2>{e(w['pairs'])}</h2>{_table([w['causes'], w['accounts'], w['share'], ''], rows, (1, 2))}</section>"


def _rejected(summary: Summary, lang: str) -> str:
    w = words(lang)
    if not summary.rejected_reasons:
        text = w["no_rejected"] if not summary.counts.rejected else ""
        return f"<section><h2>{e(w['rejected'])}</h2><p>{e(text)}</p></section>" if text else ""
    rows = [f"<tr><td>{e(r.name)}</td>{_shared(r.accounts, r.share, PALETTE['blocked'])}</tr>" for r in summary.rejected_reasons]
    return f"<section><h2>{e(w['rejected'])}</h2>{_table([w['reason'], w['records'], w['share'], ''], rows, (1, 2))}</section>"


def render_page(summary: Summary, *, lang: str = "en", inputs: Sequence[str] = (), title: str | None = None) -> str:
    """A self-contained page: inline CSS and SVG, no script, a policy that forbids loading anything; every text escaped."""
    w = words(lang)
    heading = title or w["title"]
    parts = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(heading)}</h1>",
        _meta(summary, lang, inputs),
        _verdicts(summary, lang),
        _families(summary, lang),
        _heat(summary.segments, summary.causes, lang) if summary.segments is not None else "",
        _trend(summary, lang),
        _causes(summary, lang),
        _pairs(summary, lang),
        _rejected(summary, lang),
        f'<p class="note">{e(w["scale"])}</p>',
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
