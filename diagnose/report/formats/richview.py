"""The terminal view: header and line bar, ranked causes, evidence and remedies, then what is undecided."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from diagnose.pack import templates as textlib
from diagnose.report.formats import Options, clean
from diagnose.report.formats.labels import family, label, severity
from diagnose.snapshot import facts as factlib
from diagnose.vocab import AUDIENCES

if TYPE_CHECKING:
    from diagnose.records import Evidence, Finding, Report

_VERDICT_STYLE = {"blocked": "bold white on red", "restricted": "bold black on yellow", "healthy": "bold black on green"}
_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def show_value(value: Any, fact: str | None, lang: str) -> str:
    """A fact value as a reader sees it (money grouped, ratios as percent)."""
    if value is None:
        return label(lang, "unknown")
    spec = factlib.catalog().get(fact) if fact else None
    if isinstance(value, list):
        return ", ".join(textlib.format_value(v, None, spec, lang) for v in value)
    return textlib.format_value(value, None, spec, lang)


def expected_text(ev: Evidence, lang: str) -> str:
    if ev.op in ("exists", "missing"):
        return label(lang, f"op_{ev.op}")
    shown = f"{ev.op} {show_value(ev.expected, ev.fact, lang)}"
    if ev.param:
        shown += f" ({ev.param})"
    return shown


def _bar(report: Report, width: int, lang: str) -> Text:
    line = report.line
    bar = Text()
    # A redacted report may hold text in place of the amounts: then there is no bar to draw, only the legend.
    numeric = all(isinstance(v, (int, float)) for v in (line.total_limit, line.used, line.available, line.restore_gap))
    if numeric:
        # Shares of the largest amount first: near the float's end (1e308) a sum or a product overflows.
        scale = max(abs(line.total_limit), abs(line.used), abs(line.available), abs(line.restore_gap), 1e-9)
        total = max(line.total_limit / scale, (line.used / scale) + (line.available / scale) + (line.restore_gap / scale), 1e-9)
        cells = max(width, 10)
        used = round(cells * (line.used / scale) / total)
        avail = round(cells * (line.available / scale) / total)
        gap = max(0, cells - used - avail) if line.restore_gap > 0 else 0
        rest = max(0, cells - used - avail - gap)
        bar.append("█" * used, style="blue")
        bar.append("█" * avail, style="green")
        bar.append("▒" * gap, style="red")
        bar.append("░" * rest, style="dim")

    def money(value: Any) -> str:
        return clean(textlib.format_value(value, "money", None, lang), inline=True)

    legend = Text("\n")
    legend.append("█ ", style="blue")
    legend.append(f"{label(lang, 'used')} {money(line.used)}   ")
    legend.append("█ ", style="green")
    legend.append(f"{label(lang, 'available')} {money(line.available)}   ")
    if not numeric or line.restore_gap > 0:
        legend.append("▒ ", style="red")
        legend.append(f"{label(lang, 'gap')} {money(line.restore_gap)}   ")
    legend.append(f"{label(lang, 'limit')} {money(line.total_limit)} {clean(line.currency, inline=True)}")
    bar.append_text(legend)
    return bar


def _header(report: Report, options: Options) -> RenderableType:
    lang = options.lang
    head = Text()
    head.append(f"{label(lang, 'account')} ", style="bold")
    head.append(clean(report.snapshot.account_id, inline=True), style="bold")
    head.append(
        f"  ·  {label(lang, 'product')} {clean(report.snapshot.product, inline=True)}"
        f"  ·  {label(lang, 'as_of')} {clean(report.snapshot.as_of, inline=True)}\n"
    )
    head.append(f"{label(lang, 'verdict')}: ")
    head.append(f" {label(lang, report.verdict)} ", style=_VERDICT_STYLE.get(report.verdict, "bold"))
    head.append("\n\n")
    head.append_text(_bar(report, min(options.width - 8, 60), lang))
    return Panel(head, title=label(lang, "line"), title_align="left", box=box.ROUNDED)


def _table(findings: list[Finding], lang: str) -> Table:
    table = Table(box=box.SIMPLE_HEAVY, expand=False, title=label(lang, "findings"), title_justify="left", title_style="bold")
    for key, kw in (
        ("rank", {"justify": "right"}),
        ("cause", {"no_wrap": True}),
        ("family", {}),
        ("severity", {}),
        ("score", {"justify": "right"}),
        ("title", {"ratio": 1}),
    ):
        table.add_column(label(lang, key), **kw)
    for f in findings:
        sev = Text(severity(lang, f.severity), style=_SEVERITY_STYLE.get(f.severity, ""))
        title = Text(clean(f.title))
        if f.contributing:
            title.append(f" ({label(lang, 'contributing')})", style="dim")
        table.add_row(str(f.rank), Text(clean(f.rule_id), style="bold"), family(lang, f.family), sev, f"{f.score:.2f}", title)
    return table


def _finding(f: Finding, lang: str) -> RenderableType:
    parts: list[RenderableType] = [Text(clean(f.explanation))]
    links = []
    if f.explains:
        links.append(f"{label(lang, 'explains')}: {', '.join(f.explains)}")
    if f.explained_by:
        links.append(f"{label(lang, 'explained_by')}: {', '.join(f.explained_by)}")
    if links:
        parts.append(Text("  ".join(links), style="dim"))
    if f.evidence:
        ev = Table(box=box.MINIMAL, show_header=True, header_style="dim", pad_edge=False)
        for key in ("fact", "expected", "actual", "result"):
            ev.add_column(label(lang, key))
        for e in f.evidence:
            mark = {True: Text("✔", style="green"), False: Text("✘", style="red"), None: Text("?", style="yellow")}[e.result]
            ev.add_row(Text(clean(e.fact)), Text(clean(expected_text(e, lang))), Text(clean(show_value(e.actual, e.fact, lang))), mark)
        parts.append(Text(label(lang, "evidence"), style="bold"))
        parts.append(ev)
    if f.clears_when:
        parts.append(_bullets(label(lang, "clears"), [c.text for c in f.clears_when], "cyan"))
    for aud in AUDIENCES:
        items = getattr(f.remedies, aud)
        if items:
            parts.append(_bullets(label(lang, aud), items, "bold"))
    title = Text()
    title.append(f"{f.rank}. ")
    title.append(clean(f.rule_id), style="bold")
    title.append(f"  {clean(f.title)}")
    return Panel(Group(*parts), title=title, title_align="left", border_style=_SEVERITY_STYLE.get(f.severity, ""), box=box.ROUNDED)


def _bullets(heading: str, items: list[str], style: str) -> RenderableType:
    """A heading and a list whose wrapped lines stay indented under their bullet (also for Chinese)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(ratio=1)
    for item in items:
        grid.add_row("•", Text(clean(item)))
    return Group(Text(heading, style=style), grid)


def _timeline(report: Report, lang: str) -> RenderableType:
    table = Table(box=box.SIMPLE, title=label(lang, "timeline"), title_justify="left", title_style="bold", show_header=False)
    table.add_column(no_wrap=True, style="dim")
    table.add_column(width=2)
    table.add_column(ratio=1)
    for event in report.timeline:
        when = event.at[:16].replace("T", " ")
        if event.kind == "as_of":
            table.add_row(Text(when, style="bold"), Text("◆", style="bold magenta"), Text(clean(event.label, inline=True), style="bold"))
        else:
            table.add_row(when, "│", Text(clean(event.label, inline=True)))
    return table


def _near_misses(report: Report, lang: str) -> RenderableType:
    table = Table(box=box.SIMPLE, title=label(lang, "near_misses"), title_justify="left", title_style="bold")
    table.add_column(label(lang, "cause"), no_wrap=True)
    table.add_column(label(lang, "distance"), justify="right")
    table.add_column(label(lang, "summary"), ratio=1)
    for m in report.near_misses:
        table.add_row(Text(clean(m.rule_id)), f"{m.distance:.2f}", Text(clean(m.summary)))
    return table


def build(report: Report, options: Options) -> list[RenderableType]:
    lang = options.lang
    out: list[RenderableType] = [_header(report, options)]
    if report.timeline:
        out.append(_timeline(report, lang))
    findings = report.findings[: options.top] if options.top else report.findings
    if findings:
        out.append(_table(findings, lang))
        out.extend(_finding(f, lang) for f in findings)
        hidden = len(report.findings) - len(findings)
        if hidden > 0:
            out.append(Text(f"{hidden} {label(lang, 'more')}", style="dim"))
    else:
        out.append(Padding(Text(label(lang, "no_findings"), style="green"), (1, 0)))
    if report.near_misses:
        out.append(_near_misses(report, lang))
    if report.undetermined:
        table = Table(box=box.SIMPLE, title=label(lang, "undetermined"), title_justify="left", title_style="bold yellow")
        table.add_column(label(lang, "cause"), no_wrap=True)
        table.add_column(label(lang, "title"))
        table.add_column(label(lang, "missing"))
        decide = any(u.would_fire_if for u in report.undetermined)
        if decide:
            table.add_column(label(lang, "would_fire_if"))
        for u in report.undetermined:
            row = [Text(clean(u.rule_id)), Text(clean(u.title)), Text(clean(", ".join(u.missing)))]
            if decide:
                row.append(Text(clean("; ".join(f"{w.fact} {w.needed}" for w in u.would_fire_if))))
            table.add_row(*row)
        out.append(table)
    if report.disabled:
        lines = Text(label(lang, "disabled"), style="bold")
        for d in report.disabled:
            lines.append(f"\n  {clean(d.rule_id)}: {clean(d.reason)}")
        out.append(lines)
    for w in report.warnings:
        out.append(Text(f"{label(lang, 'warnings')}: {clean(w)}", style="yellow"))
    out.append(
        Text(
            f"{label(lang, 'ruleset')}: {clean(report.ruleset.name)} {clean(report.ruleset.version)} ({report.ruleset.digest[:19]})",
            style="dim",
        )
    )
    return out


def console(options: Options) -> tuple[Console, io.StringIO]:
    """A console writing to a buffer at the options' width and colour; markup, emoji and highlighting off (texts are literal)."""
    buffer = io.StringIO()
    return (
        Console(
            file=buffer,
            width=options.width,
            force_terminal=options.color,
            no_color=not options.color,
            color_system="standard" if options.color else None,
            highlight=False,
            emoji=False,
            markup=False,
        ),
        buffer,
    )


def render(report: Report, options: Options) -> str:
    out, buffer = console(options)
    for part in build(report, options):
        out.print(part)
    return buffer.getvalue()
