"""Portfolio summary of many reports: how many accounts each family and cause hits, verdicts, common pairs, and its views."""

from __future__ import annotations

import html
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from itertools import combinations
from typing import TYPE_CHECKING, Any

import orjson

from diagnose.vocab import VERDICTS

if TYPE_CHECKING:
    from diagnose.records import Report

BAR_CELLS = 24


class SummaryFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"


# --- counting ---------------------------------------------------------------------------


@dataclass
class Tally:
    """Counts over reports, added one at a time and merged chunk by chunk (in input order, so titles are stable)."""

    diagnosed: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    top_causes: Counter[str] = field(default_factory=Counter)
    families: Counter[str] = field(default_factory=Counter)
    top_families: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)
    family_of: dict[str, str] = field(default_factory=dict)
    title_of: dict[str, str] = field(default_factory=dict)
    no_cause: int = 0

    def add(self, verdict: str, findings: Sequence[tuple[str, str, str]]) -> None:
        """One report: its verdict and its findings as (rule_id, family, title), best first."""
        self.diagnosed += 1
        self.verdicts[verdict] += 1
        if not findings:
            self.no_cause += 1
            return
        top_id, top_family, _ = findings[0]
        self.top_causes[top_id] += 1
        self.top_families[top_family] += 1
        ids = []
        fams = set()
        for rule_id, fam, title in findings:
            if rule_id in ids:  # a malformed report may repeat a cause; count an account once
                continue
            ids.append(rule_id)
            fams.add(fam)
            self.causes[rule_id] += 1
            self.family_of.setdefault(rule_id, fam)
            self.title_of.setdefault(rule_id, title)
        self.families.update(fams)
        if len(ids) > 1:
            self.pairs.update(combinations(sorted(ids), 2))

    def add_report(self, report: Report) -> None:
        self.add(report.verdict, [(f.rule_id, f.family, f.title) for f in report.findings])

    def add_dict(self, data: Any) -> None:
        """A report as parsed JSON (a line of `diagnose batch` output); raises ValueError when it is not one."""
        if not isinstance(data, Mapping):
            raise ValueError("not a report: expected a JSON object")
        verdict = data.get("verdict")
        findings = data.get("findings")
        if not isinstance(verdict, str) or not isinstance(findings, list):
            raise ValueError("not a report: `verdict` and `findings` are missing")
        rows = []
        for f in findings:
            if not isinstance(f, Mapping) or not isinstance(f.get("rule_id"), str):
                raise ValueError("not a report: a finding without `rule_id`")
            rows.append((f["rule_id"], str(f.get("family", "")), str(f.get("title", ""))))
        self.add(verdict, rows)

    def merge(self, other: Tally) -> None:
        """Add another tally; merged in input order, the first title seen of each cause is kept."""
        self.diagnosed += other.diagnosed
        self.no_cause += other.no_cause
        for mine, theirs in (
            (self.verdicts, other.verdicts),
            (self.causes, other.causes),
            (self.top_causes, other.top_causes),
            (self.families, other.families),
            (self.top_families, other.top_families),
        ):
            mine.update(theirs)
        self.pairs.update(other.pairs)
        for rule_id, fam in other.family_of.items():
            self.family_of.setdefault(rule_id, fam)
        for rule_id, title in other.title_of.items():
            self.title_of.setdefault(rule_id, title)


# --- the summary: what every view renders -----------------------------------------------


@dataclass(frozen=True)
class Row:
    """One family, cause or verdict: accounts it hits and how often it is the top cause, with shares of the portfolio."""

    name: str
    accounts: int
    share: float
    top: int = 0
    top_share: float = 0.0
    family: str = ""
    title: str = ""


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    accounts: int
    share: float


@dataclass(frozen=True)
class Counts:
    """Records read, reports written and records rejected: read = diagnosed + rejected when nothing was lost."""

    read: int
    diagnosed: int
    rejected: int

    @property
    def reconciled(self) -> bool:
        return self.read == self.diagnosed + self.rejected


@dataclass(frozen=True)
class Summary:
    counts: Counts
    no_cause: int
    verdicts: list[Row]
    families: list[Row]
    causes: list[Row]
    pairs: list[Pair]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"]["reconciled"] = self.counts.reconciled
        return data


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def summarize(tally: Tally, *, read: int | None = None, rejected: int = 0, pairs: int = 10) -> Summary:
    """The summary of a tally; shares are of the diagnosed accounts. Rows sort by accounts, then name."""
    total = tally.diagnosed
    counts = Counts(tally.diagnosed + rejected if read is None else read, total, rejected)
    verdicts = [Row(v, tally.verdicts[v], _share(tally.verdicts[v], total)) for v in VERDICTS]
    verdicts += [Row(v, n, _share(n, total)) for v, n in sorted(tally.verdicts.items()) if v not in VERDICTS]
    families = [
        Row(fam, n, _share(n, total), tally.top_families[fam], _share(tally.top_families[fam], total))
        for fam, n in sorted(tally.families.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    causes = [
        Row(
            rule_id,
            n,
            _share(n, total),
            tally.top_causes[rule_id],
            _share(tally.top_causes[rule_id], total),
            tally.family_of.get(rule_id, ""),
            tally.title_of.get(rule_id, ""),
        )
        for rule_id, n in sorted(tally.causes.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    common = sorted(tally.pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:pairs]
    return Summary(counts, tally.no_cause, verdicts, families, causes, [Pair(a, b, n, _share(n, total)) for (a, b), n in common])


# --- views ------------------------------------------------------------------------------


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def bar(value: float, largest: float, cells: int = BAR_CELLS) -> str:
    """An inline bar of block characters, scaled so the largest row of its table fills ``cells``."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = max(1, round(cells * 8 * value / largest))
    full, part = divmod(eighths, 8)
    return "█" * full + ("▏▎▍▌▋▊▉"[part - 1] if part else "")


def _largest(rows: Iterable[Row | Pair]) -> int:
    return max((r.accounts for r in rows), default=0)


def render_json(summary: Summary) -> str:
    return orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"


def _counts_line(c: Counts) -> str:
    sign = "=" if c.reconciled else "≠"
    return f"read {c.read:,} {sign} diagnosed {c.diagnosed:,} + rejected {c.rejected:,}"


def render_markdown(summary: Summary) -> str:
    from diagnose.report.formats.markdown import md

    def table(head: list[str], rows: list[list[str]]) -> list[str]:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return [*out, ""]

    c = summary.counts
    out = ["# Portfolio summary", "", f"**{_counts_line(c)}**", ""]
    biggest = _largest(summary.verdicts)
    out += ["## Verdicts", ""]
    out += table(
        ["Verdict", "Accounts", "Share", ""],
        [[md(r.name), f"{r.accounts:,}", _pct(r.share), bar(r.accounts, biggest)] for r in summary.verdicts],
    )
    out += ["## Families", ""]
    biggest = _largest(summary.families)
    out += table(
        ["Family", "Accounts", "Share", "", "Top cause", "Top share"],
        [
            [md(r.name), f"{r.accounts:,}", _pct(r.share), bar(r.accounts, biggest), f"{r.top:,}", _pct(r.top_share)]
            for r in summary.families
        ],
    )
    out += ["## Causes", ""]
    biggest = _largest(summary.causes)
    out += table(
        ["Cause", "Family", "Title", "Accounts", "Share", "", "Top cause", "Top share"],
        [
            [
                md(r.name),
                md(r.family),
                md(r.title),
                f"{r.accounts:,}",
                _pct(r.share),
                bar(r.accounts, biggest),
                f"{r.top:,}",
                _pct(r.top_share),
            ]
            for r in summary.causes
        ],
    )
    out.append(f"Accounts with no cause: {summary.no_cause:,}")
    out.append("")
    out += ["## Most common pairs of causes", ""]
    if summary.pairs:
        out += table(
            ["Causes", "Accounts", "Share"],
            [[f"{md(p.first)} \\+ {md(p.second)}", f"{p.accounts:,}", _pct(p.share)] for p in summary.pairs],
        )
    else:
        out += ["No account has more than one cause.", ""]
    return "\n".join(out)


def render_rich(summary: Summary, *, color: bool = False, width: int = 100) -> str:
    """Tables with inline bars for the terminal; every text from the reports is shown literally."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from diagnose.report.formats import clean

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    c = summary.counts
    console.print(Text(_counts_line(c), style="bold" if c.reconciled else "bold red"))

    def table(title: str, heads: list[str], caption: str | None = None) -> Table:
        t = Table(box=box.SIMPLE, title=title, title_justify="left", title_style="bold", caption=caption, caption_justify="left")
        for h in heads:
            numeric = h in ("Accounts", "Share", "Top", "Top share")
            t.add_column(h, justify="right" if numeric else "left", no_wrap=h != "Title", overflow="fold")
        return t

    verdict_style = {"blocked": "red", "restricted": "yellow", "healthy": "green"}
    t = table("Verdicts", ["Verdict", "Accounts", "Share", ""])
    biggest = _largest(summary.verdicts)
    for r in summary.verdicts:
        style = verdict_style.get(r.name, "cyan")
        t.add_row(Text(clean(r.name), style=style), f"{r.accounts:,}", _pct(r.share), Text(bar(r.accounts, biggest), style=style))
    console.print(t)

    top_note = "Top: accounts where it is the most likely cause. Bars are scaled to the largest row."
    t = table("Families", ["Family", "Accounts", "Share", "", "Top", "Top share"])
    biggest = _largest(summary.families)
    for r in summary.families:
        t.add_row(
            Text(clean(r.name)),
            f"{r.accounts:,}",
            _pct(r.share),
            Text(bar(r.accounts, biggest), style="cyan"),
            f"{r.top:,}",
            _pct(r.top_share),
        )
    console.print(t)

    titled = width >= 140  # the titles need room; the cause ids alone fit a 100-column terminal
    heads = ["Cause", "Family", *(["Title"] if titled else []), "Accounts", "Share", "", "Top", "Top share"]
    t = table("Causes", heads, top_note)
    biggest = _largest(summary.causes)
    for r in summary.causes:
        t.add_row(
            Text(clean(r.name)),
            Text(clean(r.family)),
            *([Text(clean(r.title))] if titled else []),
            f"{r.accounts:,}",
            _pct(r.share),
            Text(bar(r.accounts, biggest, 12), style="cyan"),
            f"{r.top:,}",
            _pct(r.top_share),
        )
    console.print(t)
    console.print(Text(f"Accounts with no cause: {summary.no_cause:,}"))

    if summary.pairs:
        t = table("Most common pairs of causes", ["Causes", "Accounts", "Share", ""])
        biggest = _largest(summary.pairs)
        for p in summary.pairs:
            t.add_row(
                Text(f"{clean(p.first)} + {clean(p.second)}"),
                f"{p.accounts:,}",
                _pct(p.share),
                Text(bar(p.accounts, biggest), style="magenta"),
            )
        console.print(t)
    return buffer.getvalue()


def render(summary: Summary, fmt: SummaryFormat, *, color: bool = False, width: int = 100) -> str:
    if fmt is SummaryFormat.json:
        return render_json(summary)
    if fmt is SummaryFormat.markdown:
        return render_markdown(summary)
    return render_rich(summary, color=color, width=width)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #e3e6eb;vertical-align:middle}
th{font-weight:600;background:#f5f7fa}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.bar{width:28%}.track{background:#eef1f5;height:.8rem;border-radius:2px}
.fill{height:100%;border-radius:2px;background:#3b82c4}
.blocked .fill{background:#c8423b}.restricted .fill{background:#d49a1e}.healthy .fill{background:#3f9b57}
.pair .fill{background:#8e5cc2}code{font-size:.92em}.ok{color:#3f9b57}.bad{color:#c8423b}
"""


def render_html(summary: Summary, *, title: str = "Portfolio summary") -> str:
    """A self-contained page (inline CSS, no scripts, no external assets); every text is HTML-escaped."""

    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    def bar_cell(accounts: int, largest: int, css: str = "") -> str:
        width = 100.0 * accounts / largest if largest else 0.0
        return f'<td class="bar {css}"><div class="track"><div class="fill" style="width:{width:.1f}%"></div></div></td>'

    def num(value: str) -> str:
        return f'<td class="n">{e(value)}</td>'

    def counted(accounts: int, share: float, largest: int, css: str = "") -> str:
        """The accounts, their share and the bar: the three cells every table has."""
        return f"{num(f'{accounts:,}')}{num(_pct(share))}{bar_cell(accounts, largest, css)}"

    def table(heading: str, columns: list[str], rows: list[str]) -> list[str]:
        head = "".join(f"<th>{name}</th>" for name in columns)
        return [f"{heading}<table><thead><tr>{head}</tr></thead><tbody>", *rows, "</tbody></table>"]

    c = summary.counts
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="{"ok" if c.reconciled else "bad"}"><strong>{e(_counts_line(c))}</strong></p>',
    ]
    biggest = _largest(summary.verdicts)
    parts += table(
        "<h2>Verdicts</h2>",
        ["Verdict", "Accounts", "Share", ""],
        [
            f"<tr><td>{e(r.name)}</td>{counted(r.accounts, r.share, biggest, r.name if r.name in VERDICTS else '')}</tr>"
            for r in summary.verdicts
        ],
    )
    biggest = _largest(summary.families)
    parts += table(
        "<h2>Families</h2>",
        ["Family", "Accounts", "Share", "", "Top cause", "Top share"],
        [
            f"<tr><td>{e(r.name)}</td>{counted(r.accounts, r.share, biggest)}{num(f'{r.top:,}')}{num(_pct(r.top_share))}</tr>"
            for r in summary.families
        ],
    )
    biggest = _largest(summary.causes)
    parts += table(
        "<h2>Causes</h2>",
        ["Cause", "Family", "Title", "Accounts", "Share", "", "Top cause", "Top share"],
        [
            f"<tr><td><code>{e(r.name)}</code></td><td>{e(r.family)}</td><td>{e(r.title)}</td>"
            f"{counted(r.accounts, r.share, biggest)}{num(f'{r.top:,}')}{num(_pct(r.top_share))}</tr>"
            for r in summary.causes
        ],
    )
    parts.append(f"<p>Accounts with no cause: {summary.no_cause:,}</p>")
    parts.append("<h2>Most common pairs of causes</h2>")
    if summary.pairs:
        biggest = _largest(summary.pairs)
        parts += table(
            "",
            ["Causes", "Accounts", "Share", ""],
            [
                f"<tr><td><code>{e(p.first)}</code> + <code>{e(p.second)}</code></td>{counted(p.accounts, p.share, biggest, 'pair')}</tr>"
                for p in summary.pairs
            ],
        )
    else:
        parts.append("<p>No account has more than one cause.</p>")
    parts.append("<p><small>Shares are of the diagnosed accounts; bars are scaled to the largest row of each table.</small></p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
