"""Views of a diff and of a history: rich (terminal), json, markdown, and a reply to the customer; every text escaped."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import TYPE_CHECKING

from diagnose.compare import texts
from diagnose.compare.diff import when_pair
from diagnose.compare.texts import say
from diagnose.report.formats import Options, clean
from diagnose.vocab import bracket

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

    from diagnose.compare.model import CauseChange, Diff, FactChange, History, Standing, Turn


class DiffFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"
    message = "message"
    html = "html"
    """The portfolio diff only (--reports)."""


class HistoryFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"


_MARK = {True: "✔", False: "✘", None: "?"}
_CELL = {"holds": "●", "no": "·", "undetermined": "?"}
_VERDICT_STYLE = {"blocked": "bold white on red", "restricted": "bold black on yellow", "healthy": "bold black on green"}
_CHANGE_STYLE = {"appeared": "bold red", "cleared": "bold green", "changed": "bold yellow"}
GRID_COLUMNS = 12
"""Snapshots per table of a history: with the cause column, twelve fit in 80 columns."""


def _when(as_of: str) -> str:
    return as_of[:16].replace("T", " ")


def standing(s: Standing, lang: str) -> str:
    text = say(lang, f"s_{s.status}")
    if s.status == "holds" and s.rank is not None and s.score is not None:
        text += f" (#{s.rank}, {s.score:.2f})" if lang != "zh" else f"（第 {s.rank} 位，{s.score:.2f}）"
    return text


def _turns_of(fact: str, conditions: Iterable[Turn]) -> list[Turn]:
    return [t for t in conditions if t.fact == fact]


# --- rich ------------------------------------------------------------------------------------

_OPENING = frozenset("（《“‘【「")
_CLOSING = frozenset("，。；：、）》”’】」！？")


def _may_break(plain: str, i: int) -> bool:
    """Whether a line may break before ``plain[i]``: at a space, and around Chinese text but never inside a number,
    an id or a code, never between a number and the unit after it (`2,850 个`), never before closing punctuation."""
    from rich.cells import cell_len

    before, after = plain[i - 1], plain[i]
    if before == " ":
        return not (cell_len(after) == 2 and i >= 2 and plain[i - 2].isdigit())
    if after == " " or after in _CLOSING or before in _OPENING:
        return False
    if before in _CLOSING or after in _OPENING:
        return True
    return cell_len(before) == 2 and (cell_len(after) == 2 or after.isalnum())


def fit(text: Text, width: int) -> Text:
    """The text broken into lines of at most ``width`` cells where `_may_break` allows (rich alone breaks at spaces
    only, and folds a longer run of Chinese text at any cell, ids and numbers inside it too); styles are kept."""
    from rich.cells import cell_len
    from rich.text import Text

    plain = text.plain
    cuts: list[int] = []
    start, col, chance = 0, 0, -1
    for i, ch in enumerate(plain):
        if ch == "\n":
            start, col, chance = i + 1, 0, -1
            continue
        if i > start and _may_break(plain, i):
            chance = i
        col += cell_len(ch)
        if col > width and ch != " ":
            cut = chance if chance > start else i
            cuts.append(cut)
            start, chance = cut, -1
            col = cell_len(plain[cut : i + 1])
    if not cuts:
        return text
    lines = text.divide(cuts)
    for line in lines:
        line.rstrip()
    return Text("\n").join(lines)


def para(value: str, width: int, style: str = "") -> Text:
    """Plain text from a snapshot, a pack or a template, made inert and fitted to ``width`` cells."""
    from rich.text import Text

    return fit(Text(clean(value), style=style), width)


def _indent(block: RenderableType, cells: int) -> RenderableType:
    from rich.padding import Padding

    return Padding(block, (0, 0, 0, cells))


def _fact_line(fc: FactChange, lang: str) -> RenderableType:
    from rich.text import Text

    line = Text()
    line.append(clean(fc.fact, inline=True), style="bold")
    line.append(say(lang, "colon"))
    line.append(clean(fc.before_text, inline=True), style="dim")
    line.append(" → ")
    line.append(clean(fc.after_text, inline=True))
    return _indent(line, 2)


def _turn_line(t: Turn, lang: str) -> RenderableType:
    from rich.text import Text

    line = Text()
    line.append(clean(t.condition, inline=True))
    line.append(say(lang, "colon"))
    line.append(_MARK[t.before], style="dim")
    line.append(" → ")
    line.append(_MARK[t.after], style={True: "green", False: "red", None: "yellow"}[t.after])
    return _indent(line, 6)


def _cause_block(c: CauseChange, lang: str) -> list[RenderableType]:
    from rich.text import Text

    head = Text()
    head.append(f"{say(lang, 'c_' + c.change)}  ", style=_CHANGE_STYLE[c.change])
    head.append(clean(c.rule_id, inline=True), style="bold")
    head.append(f"  {clean(c.title, inline=True)}")
    out: list[RenderableType] = [head]
    colon = say(lang, "colon")
    states = f"{say(lang, 'before')}{colon}{standing(c.before, lang)}   {say(lang, 'after')}{colon}{standing(c.after, lang)}"
    out.append(_indent(Text(states, style="dim"), 2))
    for fc in c.facts:
        out.append(_fact_line(fc, lang))
        out.extend(_turn_line(t, lang) for t in _turns_of(fc.fact, c.conditions))
    return out


def diff_blocks(d: Diff, options: Options, *, all_facts: bool = False) -> list[RenderableType]:
    from rich import box
    from rich.cells import cell_len
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    lang = options.lang
    head = Text()
    head.append(f"{clean(d.after.account_id, inline=True)}\n", style="bold")
    room = max(cell_len(say(lang, key)) for key in ("before", "after"))
    for key, side in (("before", d.before), ("after", d.after)):
        head.append(say(lang, key) + say(lang, "colon") + " " * (room - cell_len(say(lang, key))), style="bold")
        head.append(f"{_when(side.as_of)}  ")
        head.append(f" {texts.verdict(lang, side.verdict)} ", style=_VERDICT_STYLE.get(side.verdict, "bold"))
        causes = ", ".join(clean(c, inline=True) for c in side.causes)
        head.append(f"  {causes}\n" if causes else "\n")
    head.append("\n")
    head.append(clean(d.summary))
    panel = Panel(fit(head, options.width - 4), title=say(lang, "diff_title"), title_align="left", box=box.ROUNDED)
    out: list[RenderableType] = [panel]
    if d.verdict_facts:
        moved = say(lang, "verdict_moved", vb=texts.verdict(lang, d.before.verdict), va=texts.verdict(lang, d.after.verdict))
        out.append(Group(Text(moved, style="bold"), *(_fact_line(fc, lang) for fc in d.verdict_facts)))
        out.append(Text(""))
    if d.causes:
        for c in d.causes:
            out.append(Group(*_cause_block(c, lang)))
            out.append(Text(""))
    else:
        out.append(Text(say(lang, "no_cause_change"), style="green"))
        out.append(Text(""))
    if d.other_facts:
        out.append(Text(say(lang, "other_facts", n=len(d.other_facts)), style="bold"))
        if all_facts:
            out.extend(_fact_line(fc, lang) for fc in d.other_facts)
        else:
            out.append(_indent(Text(", ".join(clean(fc.fact, inline=True) for fc in d.other_facts), style="dim"), 2))
            out.append(_indent(Text(say(lang, "show_all"), style="dim"), 2))
    for w in d.warnings:
        out.append(Text(say(lang, "warnings") + say(lang, "colon") + clean(w), style="yellow"))
    rs = d.ruleset
    out.append(
        Text(f"{say(lang, 'ruleset')}{say(lang, 'colon')}{clean(rs.name)} {clean(rs.version)}{bracket(rs.digest[:19], lang)}", style="dim")
    )
    return out


def _fitted(block: RenderableType, width: int) -> RenderableType:
    """Text blocks, also inside groups and paddings, broken into lines where `_may_break` allows."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.text import Text

    if isinstance(block, Text):
        return fit(block, width)
    if isinstance(block, Group):
        return Group(*(_fitted(r, width) for r in block.renderables))
    if isinstance(block, Padding):
        inner = _fitted(block.renderable, width - block.left - block.right)
        return Padding(inner, (block.top, block.right, block.bottom, block.left))
    return block


def _print(blocks: Iterable[RenderableType], options: Options) -> str:
    from diagnose.report.formats.richview import console as make_console

    console, buffer = make_console(options)
    for block in blocks:
        console.print(_fitted(block, options.width))
    return buffer.getvalue()


# --- markdown -------------------------------------------------------------------------------


def _md_fact_rows(facts: Iterable[FactChange], conditions: Iterable[Turn] | None, lang: str) -> list[str]:
    """A table of facts before and after; with ``conditions``, a column of the conditions each one turned."""
    from diagnose.report.formats.markdown import code, md

    heads = [say(lang, "fact"), say(lang, "before"), say(lang, "after")]
    kept = None if conditions is None else list(conditions)
    if kept is not None:
        heads.append(say(lang, "conditions_turned"))
    rows = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for fc in facts:
        cells = [code(fc.fact), md(fc.before_text), md(fc.after_text)]
        if kept is not None:
            cells.append("; ".join(f"{md(t.condition)}: {_MARK[t.before]} → {_MARK[t.after]}" for t in _turns_of(fc.fact, kept)))
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def diff_markdown(d: Diff, options: Options, *, level: int = 1) -> str:
    from diagnose.report.formats.markdown import code, md

    lang = options.lang
    h = "#" * level
    colon = say(lang, "colon")
    out = [f"{h} {say(lang, 'diff_title')}{colon}{md(d.after.account_id)}", ""]
    for key, side in (("before", d.before), ("after", d.after)):
        causes = ", ".join(code(c, cell=False) for c in side.causes)
        verdict = md(texts.verdict(lang, side.verdict))
        out.append(f"- **{say(lang, key)}** {md(_when(side.as_of))}{colon}**{verdict}**" + (say(lang, "paren", n=causes) if causes else ""))
    out += ["", md(d.summary), ""]
    if d.verdict_facts:
        moved = say(lang, "verdict_moved", vb=texts.verdict(lang, d.before.verdict), va=texts.verdict(lang, d.after.verdict))
        out += [f"{h}# {md(moved)}", "", *_md_fact_rows(d.verdict_facts, None, lang), ""]
    if not d.causes:
        out += [say(lang, "no_cause_change"), ""]
    for c in d.causes:
        out += [
            f"{h}# {md(say(lang, 'c_' + c.change))}{colon}{code(c.rule_id, cell=False)}{say(lang, 'list')}{md(c.title)}",
            "",
            f"{say(lang, 'before')}{colon}{md(standing(c.before, lang))}{say(lang, 'semicolon')}{say(lang, 'after')}{colon}{md(standing(c.after, lang))}",
            "",
        ]
        if c.facts:
            out += [*_md_fact_rows(c.facts, c.conditions, lang), ""]
    if d.other_facts:
        out += [f"<details><summary>{md(say(lang, 'other_facts', n=len(d.other_facts)))}</summary>", ""]
        out += [*_md_fact_rows(d.other_facts, None, lang), "", "</details>", ""]
    if d.warnings:
        out += [f"{h}# {say(lang, 'warnings')}", ""] + [f"- {md(w)}" for w in d.warnings] + [""]
    out.append(
        f"_{say(lang, 'ruleset')}{say(lang, 'colon')}{md(d.ruleset.name)} {md(d.ruleset.version)}{bracket(md(d.ruleset.digest), lang)}_"
    )
    return "\n".join(out) + "\n"


# --- the reply to the customer ------------------------------------------------------------


def diff_message(d: Diff, options: Options) -> str:
    """A short reply: what is new, what no longer applies, what to do; no rule ids, no evidence."""
    lang = options.lang
    before, after = when_pair(d.before.as_of, d.after.as_of)
    lines = [say(lang, "m_hello"), say(lang, "m_since", before=before, after=after)]
    new = [c for c in d.causes if c.change == "appeared"]
    gone = [c for c in d.causes if c.change == "cleared"]
    if not new and not gone:
        lines.append(say(lang, "m_same_ok" if d.after.verdict == "healthy" else "m_same"))
    if new:
        lines += ["", say(lang, "m_new")] + [clean(c.explanation) for c in new[:2]]
    if gone:
        lines += ["", say(lang, "m_gone" if len(gone) == 1 else "m_gone_many")] + [f"- {clean(c.title)}" for c in gone]
    if d.after.verdict == "healthy" and (new or gone):
        lines += ["", say(lang, "m_healthy")]
    todo = list(dict.fromkeys(r for c in new[:2] for r in c.customer))[:4]
    if todo:
        lines += ["", say(lang, "m_todo")] + [f"{i}. {clean(r)}" for i, r in enumerate(todo, start=1)]
    lines += ["", say(lang, "m_bye")]
    return "\n".join(lines) + "\n"


def render_diff(d: Diff, fmt: DiffFormat, options: Options, *, all_facts: bool = False) -> str:
    """The diff in a format; ``all_facts`` shows the values of the facts that decided nothing in the terminal view too."""
    if fmt is DiffFormat.json:
        return d.to_json() + "\n"
    if fmt is DiffFormat.markdown:
        return diff_markdown(d, options)
    if fmt is DiffFormat.message:
        return diff_message(d, options)
    return _print(diff_blocks(d, options, all_facts=all_facts), options)


# --- history ---------------------------------------------------------------------------------


def _chunks(n: int, size: int = GRID_COLUMNS) -> list[range]:
    return [range(i, min(i + size, n)) for i in range(0, n, size)] or [range(0)]


def _cell(h: History, row: int, col: int) -> str:
    track = h.causes[row]
    state = track.states[col]
    rank = track.ranks[col]
    return f"{_CELL[state]}{rank}" if state == "holds" and rank is not None else _CELL[state]


def _step_lines(h: History, lang: str) -> list[tuple[str, str]]:
    """Each step that changed something: `2 → 3` and its summary."""
    return [(f"{i + 1} → {i + 2}", step.summary) for i, step in enumerate(h.steps) if step.changed]


def history_blocks(h: History, options: Options) -> list[RenderableType]:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    lang = options.lang
    out: list[RenderableType] = [Text(say(lang, "history_title", id=clean(h.account_id, inline=True)), style="bold")]
    snaps = Table(box=box.SIMPLE, title=say(lang, "snapshots"), title_justify="left", title_style="bold")
    snaps.add_column(say(lang, "n"), justify="right", no_wrap=True)
    snaps.add_column(say(lang, "as_of"), no_wrap=True)
    snaps.add_column(say(lang, "verdict"), no_wrap=True)
    snaps.add_column(say(lang, "causes"), ratio=1)
    for i, m in enumerate(h.snapshots, start=1):
        snaps.add_row(
            str(i),
            _when(m.as_of),
            Text(texts.verdict(lang, m.verdict), style=_VERDICT_STYLE.get(m.verdict, "")),
            Text(", ".join(clean(c, inline=True) for c in m.causes) or "-"),
        )
    out.append(snaps)
    if h.causes:
        for cols in _chunks(len(h.snapshots)):
            out.append(Text(say(lang, "grid"), style="bold"))  # a line of its own: a table's title wraps to the table's width
            grid = Table(box=box.SIMPLE, pad_edge=False)
            grid.add_column(say(lang, "cause"), no_wrap=True)
            for col in cols:
                grid.add_column(str(col + 1), justify="center", no_wrap=True)
            for row, track in enumerate(h.causes):
                grid.add_row(Text(clean(track.rule_id, inline=True)), *(_cell(h, row, col) for col in cols))
            out.append(grid)
    steps = _step_lines(h, lang)
    out.append(Text(say(lang, "steps"), style="bold"))
    if not steps:
        out.append(_indent(Text(say(lang, "no_steps"), style="green"), 2))
    else:
        first = max(len(where) for where, _ in steps)
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, style="bold", width=first)
        table.add_column()
        for where, text in steps:  # fitted here: a table cell is not a block `_print` fits
            table.add_row(where, para(text, options.width - first - 1))
        out.append(table)
    for w in h.warnings:
        out.append(Text(say(lang, "warnings") + say(lang, "colon") + clean(w), style="yellow"))
    return out


def history_markdown(h: History, options: Options) -> str:
    from diagnose.report.formats.markdown import code, md

    lang = options.lang
    out = [f"# {md(say(lang, 'history_title', id=h.account_id))}", "", f"## {say(lang, 'snapshots')}", ""]
    out += [f"| {say(lang, 'n')} | {say(lang, 'as_of')} | {say(lang, 'verdict')} | {say(lang, 'causes')} |", "|---:|---|---|---|"]
    for i, m in enumerate(h.snapshots, start=1):
        causes = ", ".join(code(c) for c in m.causes) or "-"
        out.append(f"| {i} | {md(_when(m.as_of))} | {md(texts.verdict(lang, m.verdict))} | {causes} |")
    out.append("")
    if h.causes:
        out += [f"## {md(say(lang, 'grid'))}", ""]
        for cols in _chunks(len(h.snapshots)):
            out.append(f"| {say(lang, 'cause')} | " + " | ".join(str(c + 1) for c in cols) + " |")
            out.append("|---|" + ":-:|" * len(cols))
            for row, track in enumerate(h.causes):
                out.append(f"| {code(track.rule_id)} | " + " | ".join(_cell(h, row, col) for col in cols) + " |")
            out.append("")
    out += [f"## {say(lang, 'steps')}", ""]
    steps = _step_lines(h, lang)
    out += [f"- **{where}**: {md(text)}" for where, text in steps] or [say(lang, "no_steps")]
    out.append("")
    if h.warnings:
        out += [f"## {say(lang, 'warnings')}", ""] + [f"- {md(w)}" for w in h.warnings] + [""]
    return "\n".join(out)


def render_history(h: History, fmt: HistoryFormat, options: Options) -> str:
    if fmt is HistoryFormat.json:
        return h.to_json() + "\n"
    if fmt is HistoryFormat.markdown:
        return history_markdown(h, options)
    return _print(history_blocks(h, options), options)
