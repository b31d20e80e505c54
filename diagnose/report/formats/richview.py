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

from diagnose.explain import why
from diagnose.pack import templates as textlib
from diagnose.report.formats import Options, clean
from diagnose.report.formats.labels import family, label, severity, verdict_line
from diagnose.report.formats.wrap import Bullets, Wrapped, keep_breaks, rows_or_stack
from diagnose.snapshot import facts as factlib
from diagnose.vocab import AUDIENCES, bracket

if TYPE_CHECKING:
    from diagnose.records import Evidence, Finding, Report, Unexplained

_VERDICT_STYLE = {"blocked": "bold white on red", "restricted": "bold black on yellow", "healthy": "bold black on green"}
BAR_MIN = 70
"""Narrower than this, the line bar is left out (its legend keeps every number)."""
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
    if ev.op == "intersects":
        return why.condition(ev.op, ev.expected, ev.fact, lang, ev.param)
    shown = f"{ev.op} {show_value(ev.expected, ev.fact, lang)}"
    if ev.param:
        shown += bracket(ev.param, lang)
    return shown


def _bar(report: Report, width: int, lang: str) -> tuple[Text, RenderableType]:
    """The line bar (empty when there are no amounts to draw) and its legend, which breaks only between its items."""
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

    items = [
        ("█ ", "blue", f"{label(lang, 'used')} {money(line.used)}"),
        ("█ ", "green", f"{label(lang, 'available')} {money(line.available)}"),
    ]
    if not numeric or line.restore_gap > 0:
        items.append(("▒ ", "red", f"{label(lang, 'gap')} {money(line.restore_gap)}"))
    items.append(("", "", f"{label(lang, 'limit')} {money(line.total_limit)} {clean(line.currency, inline=True)}"))
    legend = Text()
    points = []
    for mark, style, text in items:
        if legend.plain:
            legend.append("   ")
            points.append(len(legend.plain))
        legend.append(mark, style=style)
        legend.append(text)
    return bar, Wrapped(legend, only=points)


def _header(report: Report, options: Options) -> RenderableType:
    lang = options.lang
    head = Text()
    head.append(f"{label(lang, 'account')} ", style="bold")
    head.append(clean(report.snapshot.account_id, inline=True), style="bold")
    head.append(
        f"  ·  {label(lang, 'product')} {clean(report.snapshot.product, inline=True)}"
        f"  ·  {label(lang, 'as_of')} {clean(report.snapshot.as_of, inline=True)}\n"
    )
    head.append(f"{label(lang, 'verdict')}{label(lang, 'colon')}")
    head.append(f" {verdict_line(lang, report.verdict, len(report.findings))} ", style=_VERDICT_STYLE.get(report.verdict, "bold"))
    head.append("\n")
    bar, legend = _bar(report, min(options.width - 8, 60), lang)
    parts: list[RenderableType] = [Wrapped(head)]
    # The bar is decoration: below BAR_MIN columns it goes, and the legend (the numbers) stays.
    if bar.plain and options.width >= BAR_MIN:
        parts.append(bar)
    parts.append(legend)
    return Panel(Group(*parts), title=Text(label(lang, "line")), title_align="left", box=box.ROUNDED)


def _table(findings: list[Finding], lang: str) -> RenderableType:
    heads = [label(lang, k) for k in ("rank", "cause", "family", "severity", "score", "title")]
    rows: list[list[Text | str]] = []
    for f in findings:
        title = Text(clean(f.title))
        if f.contributing:
            title.append(bracket(label(lang, "contributing"), lang), style="dim")
        rows.append(
            [
                str(f.rank),
                Text(clean(f.rule_id), style="bold"),
                family(lang, f.family),
                Text(severity(lang, f.severity), style=_SEVERITY_STYLE.get(f.severity, "")),
                f"{f.score:.2f}",
                title,
            ]
        )
    return rows_or_stack(
        heads, rows, title=label(lang, "findings"), right=(0, 4), lead=5, colon=label(lang, "colon"), box=box.SIMPLE_HEAVY, show_edge=False
    )


def _finding(f: Finding, lang: str) -> RenderableType:
    title = Text(clean(f.title), style="bold")
    if f.contributing:
        title.append(bracket(label(lang, "contributing"), lang), style="dim")
    parts: list[RenderableType] = [Wrapped(title), Wrapped(clean(f.explanation))]
    if f.explanatory:  # said in the panel, where it has the width: the table's title column is narrow
        parts.append(Wrapped(Text(label(lang, "explanatory"), style="bold green")))
    links = []
    if f.explains:
        links.append(f"{label(lang, 'explains')}{label(lang, 'colon')}{', '.join(f.explains)}")
    if f.explained_by:
        links.append(f"{label(lang, 'explained_by')}{label(lang, 'colon')}{', '.join(f.explained_by)}")
    if links:
        parts.append(Wrapped(Text("  ".join(links), style="dim")))
    if f.evidence:
        rows = []
        for e in f.evidence:
            mark = {True: Text("✔", style="green"), False: Text("✘", style="red"), None: Text("?", style="yellow")}[e.result]
            rows.append([Text(clean(e.fact)), Text(clean(expected_text(e, lang))), Text(clean(show_value(e.actual, e.fact, lang))), mark])
        parts.append(Text(label(lang, "evidence"), style="bold"))
        heads = [label(lang, k) for k in ("fact", "expected", "actual", "result")]
        parts.append(
            rows_or_stack(heads, rows, last_min=1, colon=label(lang, "colon"), box=box.MINIMAL, header_style="dim", pad_edge=False)
        )
    if f.clears_when:
        parts.append(_bullets(label(lang, "clears"), [c.text for c in f.clears_when], "cyan"))
    for aud in AUDIENCES:
        items = getattr(f.remedies, aud)
        if items:
            parts.append(_bullets(label(lang, aud), items, "bold"))
    head = Text()
    head.append(f"{f.rank}. ")
    head.append(clean(f.rule_id), style="bold")
    return Panel(Group(*parts), title=head, title_align="left", border_style=_SEVERITY_STYLE.get(f.severity, ""), box=box.ROUNDED)


def _bullets(heading: str, items: list[str], style: str) -> RenderableType:
    """A heading and a list whose wrapped lines stay indented under their bullet (also for Chinese)."""
    return Group(Text(heading, style=style), Bullets(clean(item) for item in items))


def _timeline(report: Report, lang: str) -> RenderableType:
    table = Table(box=box.SIMPLE, title=label(lang, "timeline"), title_justify="left", title_style="bold", show_header=False)
    table.add_column(no_wrap=True, style="dim")
    table.add_column(width=1)
    table.add_column(ratio=1)
    for event in report.timeline:
        when = event.at[:16].replace("T", " ")
        if event.kind == "as_of":
            table.add_row(Text(when, style="bold"), Text("◆", style="bold magenta"), Wrapped(Text(clean(event.label), style="bold")))
        else:
            table.add_row(when, "│", Wrapped(clean(event.label)))
    return table


def _near_misses(report: Report, lang: str) -> RenderableType:
    heads = [label(lang, k) for k in ("cause", "distance", "summary")]
    rows: list[list[Text | str]] = [[Text(clean(m.rule_id)), f"{m.distance:.2f}", Text(clean(m.summary))] for m in report.near_misses]
    return rows_or_stack(heads, rows, title=label(lang, "near_misses"), right=(1,), colon=label(lang, "colon"), box=box.SIMPLE)


def _undetermined(report: Report, lang: str) -> RenderableType:
    """The open undetermined rules only: the collapsed ones are counted after the table."""
    opened = [u for u in report.undetermined if u.status == "open"]
    decide = any(u.would_fire_if for u in opened)
    keys = ["cause", "title", "missing"] + (["would_fire_if"] if decide else [])
    rows: list[list[Text | str]] = []
    for u in opened:
        row: list[Text | str] = [Text(clean(u.rule_id)), Text(clean(u.title)), Text(clean(", ".join(u.missing)))]
        if decide:
            row.append(Text(clean("; ".join(f"{w.fact} {w.needed}" for w in u.would_fire_if))))
        rows.append(row)
    heads = [label(lang, k) for k in keys]
    return rows_or_stack(
        heads, rows, title=label(lang, "undetermined"), title_style="bold yellow", colon=label(lang, "colon"), box=box.SIMPLE
    )


def _unexplained(u: Unexplained, lang: str) -> RenderableType:
    """The statement in a red panel, then what came closest, what could explain it and the agent's steps."""
    parts: list[RenderableType] = [Wrapped(Text(clean(u.statement), style="bold"))]
    if u.near_misses:
        colon = label(lang, "colon")
        parts.append(_bullets(label(lang, "nearest"), [f"{m.rule_id}{colon}{m.summary}" for m in u.near_misses], "bold"))
    if u.could_explain:
        parts.append(_bullets(label(lang, "could_explain"), u.could_explain, "bold"))
    parts.append(_bullets(label(lang, "agent_steps"), u.agent_steps, "bold"))
    return Panel(Group(*parts), title=Text(label(lang, "unexplained")), title_align="left", border_style="red")


def _coverage(report: Report, lang: str) -> list[RenderableType]:
    """How much was decided, a warning when a healthy verdict rests on little data, and what to ask next."""
    cov = report.coverage
    if cov is None:
        return []
    out: list[RenderableType] = []
    if cov.low and report.verdict == "healthy":
        out.append(
            Padding(
                Wrapped(Text(label(lang, "low_coverage").format(decided=cov.decided, applicable=cov.applicable), style="bold yellow")),
                (0, 0, 1, 0),
            )
        )
    out.append(Wrapped(Text(label(lang, "coverage").format(decided=cov.decided, applicable=cov.applicable), style="dim")))
    if report.questions:
        out.append(
            _bullets(label(lang, "ask_next"), [f"{q.fact}{bracket(', '.join(q.rules), lang)}" for q in report.questions[:5]], "bold")
        )
    return out


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
            out.append(Wrapped(Text(f"{hidden} {label(lang, 'more')}", style="dim")))
    elif report.unexplained is not None:
        out.append(_unexplained(report.unexplained, lang))
    else:
        out.append(Padding(Wrapped(Text(label(lang, "no_findings"), style="green")), (1, 0)))
    if report.near_misses:
        out.append(_near_misses(report, lang))
    out.extend(_coverage(report, lang))
    if any(u.status == "open" for u in report.undetermined):
        out.append(_undetermined(report, lang))
    rest = [u.rule_id for u in report.undetermined if u.status != "open"]
    if rest:  # collapsed: nothing known points to them
        out.append(Wrapped(Text(label(lang, "not_assessed").format(n=len(rest)), style="dim")))
    if report.disabled:
        lines = Text(label(lang, "disabled"), style="bold")
        for d in report.disabled:
            lines.append(f"\n  {clean(d.rule_id)}{label(lang, 'colon')}{clean(d.reason)}")
        out.append(Wrapped(lines))
    for w in report.warnings:
        out.append(Wrapped(Text(f"{label(lang, 'warnings')}{label(lang, 'colon')}{clean(w)}", style="yellow")))
    out.append(
        Wrapped(
            Text(
                f"{label(lang, 'ruleset')}{label(lang, 'colon')}{clean(report.ruleset.name)} {clean(report.ruleset.version)}"
                f"{bracket(report.ruleset.digest[:19], lang)}",
                style="dim",
            )
        )
    )
    return out


def console(options: Options) -> tuple[Console, io.StringIO]:
    """A console writing to a buffer at the options' width and colour (see `buffer_console`)."""
    return buffer_console(options.width, options.color)


def buffer_console(width: int, color: bool) -> tuple[Console, io.StringIO]:
    """A console writing to a buffer at ``width``, coloured or not; markup, emoji and highlighting off (texts are literal)."""
    buffer = io.StringIO()
    return (
        Console(
            file=buffer,
            width=width,
            force_terminal=color,
            no_color=not color,
            color_system="standard" if color else None,
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
    keep_breaks()
    return buffer.getvalue()
