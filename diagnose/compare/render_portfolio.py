"""Views of a portfolio diff, in the summary's formats: rich (terminal), json, markdown and a self-contained HTML page."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from diagnose.compare import texts
from diagnose.compare.render import DiffFormat, _print
from diagnose.compare.texts import say
from diagnose.report.formats import Options, clean

if TYPE_CHECKING:
    from rich.console import RenderableType

    from diagnose.compare.model import PortfolioDiff, Presence


def _n(value: int) -> str:
    return f"{value:,}"


def _buckets(r: PortfolioDiff, lang: str) -> str:
    total = r.both + r.only_before + r.only_after
    line = say(lang, "p_buckets", both=_n(r.both), ob=_n(r.only_before), oa=_n(r.only_after), total=_n(total))
    return f"{line}{say(lang, 'colon')}{say(lang, 'p_reconciled' if r.reconciled else 'p_not_reconciled')}"


def _counts(r: PortfolioDiff, lang: str) -> list[str]:
    return [
        say(lang, "p_counts", file=c.file, lines=_n(c.lines), accounts=_n(c.accounts), dups=_n(c.duplicates)) for c in (r.before, r.after)
    ]


def _sample(ids: tuple[str, ...]) -> str:
    return ", ".join(ids)


def _tables(r: PortfolioDiff, lang: str) -> list[tuple[str, list[str], list[list[str]]]]:
    """Every table of the views as (title, column heads, rows of plain text): the formats differ only in markup."""
    v = texts.verdict
    out = [
        (
            say(lang, "p_transitions"),
            [say(lang, "p_from"), say(lang, "p_to"), say(lang, "p_accounts"), say(lang, "p_examples")],
            [[v(lang, t.before), v(lang, t.after), _n(t.accounts), _sample(t.sample)] for t in r.transitions],
        ),
        (
            say(lang, "p_causes"),
            [say(lang, "cause"), say(lang, "p_appeared"), say(lang, "p_cleared"), say(lang, "p_held_before"), say(lang, "p_held_after")],
            [[c.rule_id, _n(c.appeared), _n(c.cleared), _n(c.held_before), _n(c.held_after)] for c in r.causes],
        ),
    ]

    def presence(title: str, rows: tuple[Presence, ...]) -> tuple[str, list[str], list[list[str]]]:
        heads = [say(lang, "verdict"), say(lang, "p_accounts"), say(lang, "p_examples")]
        return title, heads, [[v(lang, p.verdict), _n(p.accounts), _sample(p.sample)] for p in rows]

    out.append(presence(say(lang, "p_gone"), r.gone))
    out.append(presence(say(lang, "p_new"), r.new))
    return out


TERMINAL_CAUSES = 10
"""Causes whose sample accounts the terminal view lists (the most moved first); the other formats list every one."""


def _examples(r: PortfolioDiff, lang: str, limit: int | None = None) -> list[tuple[str, str, str]]:
    """The sample accounts of each cause that appeared or cleared, apart: they do not fit its table's row at 80 columns."""
    rows = []
    for c in r.causes[:limit]:
        if c.appeared_sample:
            rows.append((c.rule_id, say(lang, "p_appeared"), _sample(c.appeared_sample)))
        if c.cleared_sample:
            rows.append((c.rule_id, say(lang, "p_cleared"), _sample(c.cleared_sample)))
    return rows


def _rich(r: PortfolioDiff, options: Options) -> list[RenderableType]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    lang = options.lang
    out: list[RenderableType] = [Text(say(lang, "p_title"), style="bold")]
    out += [Text(clean(line)) for line in _counts(r, lang)]
    out.append(Text(_buckets(r, lang), style="bold" if r.reconciled else "bold red"))
    out.append(Text(""))
    out.append(Text(clean(r.summary)))
    for title, heads, rows in _tables(r, lang):
        table = Table(box=box.SIMPLE, title=title, title_justify="left", title_style="bold")
        for i, head in enumerate(heads):
            numeric = head in (say(lang, "p_accounts"), say(lang, "p_appeared"), say(lang, "p_cleared"))
            numeric = numeric or head in (say(lang, "p_held_before"), say(lang, "p_held_after"))
            table.add_column(head, justify="right" if numeric else "left", no_wrap=i < len(heads) - 1 or numeric, ratio=None)
        for row in rows:
            table.add_row(*(Text(clean(cell)) for cell in row))
        out.append(table if rows else Text(f"{title}{say(lang, 'colon')}{say(lang, 'p_none')}"))
    examples = _examples(r, lang, TERMINAL_CAUSES)
    if examples:
        table = Table(box=box.SIMPLE, title=say(lang, "p_examples"), title_justify="left", title_style="bold", show_header=False)
        table.add_column(no_wrap=True)
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for example in examples:
            table.add_row(*(Text(clean(cell)) for cell in example))
        out.append(table)
    for w in r.warnings:
        out.append(Text(say(lang, "warnings") + say(lang, "colon") + clean(w), style="yellow"))
    note = say(lang, "p_note") + (say(lang, "p_note_more", n=TERMINAL_CAUSES) if len(r.causes) > TERMINAL_CAUSES else "")
    out.append(Text(note, style="dim"))
    return out


def _markdown(r: PortfolioDiff, options: Options) -> str:
    from diagnose.report.formats.markdown import md

    lang = options.lang
    out = [f"# {say(lang, 'p_title')}", ""] + [f"- {md(line)}" for line in _counts(r, lang)]
    out += [f"- **{md(_buckets(r, lang))}**", "", md(r.summary), ""]
    for title, heads, rows in _tables(r, lang):
        out += [f"## {md(title)}", ""]
        if not rows:
            out += [say(lang, "p_none"), ""]
            continue
        out += ["| " + " | ".join(md(h) for h in heads) + " |", "|" + "---|" * len(heads)]
        out += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
        out.append("")
    examples = _examples(r, lang)
    if examples:
        out += [f"## {say(lang, 'p_examples')}", ""] + [f"- {md(a)} ({md(b)}): {md(c)}" for a, b, c in examples] + [""]
    if r.warnings:
        out += [f"## {say(lang, 'warnings')}", ""] + [f"- {md(w)}" for w in r.warnings] + [""]
    out += [f"_{md(say(lang, 'p_note'))}_", ""]
    return "\n".join(out)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e6eb}th{font-weight:600;background:#f5f7fa}
.ok{color:#3f9b57}.bad{color:#c8423b}code{font-size:.92em}
"""


def _html(r: PortfolioDiff, options: Options) -> str:
    """A self-contained page (inline CSS, no scripts); every text is HTML-escaped."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    lang = options.lang
    title = say(lang, "p_title")
    parts = [
        "<!doctype html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<ul>" + "".join(f"<li>{e(line)}</li>" for line in _counts(r, lang)) + "</ul>",
        f'<p class="{"ok" if r.reconciled else "bad"}"><strong>{e(_buckets(r, lang))}</strong></p>',
        f"<p>{e(r.summary)}</p>",
    ]
    for heading, heads, rows in _tables(r, lang):
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append(f"<p>{e(say(lang, 'p_none'))}</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr></thead><tbody>")
        parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</tbody></table>")
    examples = _examples(r, lang)
    if examples:
        parts.append(f"<h2>{e(say(lang, 'p_examples'))}</h2><ul>")
        parts += [f"<li><code>{e(a)}</code> ({e(b)}): {e(c)}</li>" for a, b, c in examples]
        parts.append("</ul>")
    parts += [f'<p class="bad">{e(say(lang, "warnings"))}{e(say(lang, "colon"))}{e(w)}</p>' for w in r.warnings]
    parts += [f"<p><small>{e(say(lang, 'p_note'))}</small></p>", "</body></html>"]
    return "\n".join(parts) + "\n"


def render_portfolio(r: PortfolioDiff, fmt: DiffFormat, options: Options) -> str:
    if fmt is DiffFormat.json:
        return r.to_json() + "\n"
    if fmt is DiffFormat.markdown:
        return _markdown(r, options)
    if fmt is DiffFormat.html:
        return _html(r, options)
    return _print(_rich(r, options), options)
