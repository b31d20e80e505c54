"""Portfolio summary of many reports: how many accounts each family and cause hits, verdicts, common pairs, and its views."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from itertools import combinations
from typing import TYPE_CHECKING, Any

import orjson

from .segments import By

if TYPE_CHECKING:
    from .breakdown import Breakdown, Day, PackUsed
    from .report import Report

VERDICTS = ("blocked", "restricted", "healthy")
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
    days: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Accounts per (as_of day, verdict): the trend and the period."""
    rulesets: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Accounts per rule pack (name, version, digest) that diagnosed them."""
    by: By = field(default_factory=By)
    parts: dict[tuple[str | None, ...], Tally] = field(default_factory=dict)
    """With `by`: a tally (without pairs) per segment key."""
    count_pairs: bool = True

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
        if len(ids) > 1 and self.count_pairs:
            self.pairs.update(combinations(sorted(ids), 2))

    def add_report(self, report: Report) -> None:
        findings = [(f.rule_id, f.family, f.title) for f in report.findings]
        self.add(report.verdict, findings)
        rs = report.ruleset
        self._context(report.verdict, findings, report.snapshot.as_of, (rs.name, rs.version, rs.digest), report.segments)

    def _context(
        self, verdict: str, findings: Sequence[tuple[str, str, str]], as_of: str, ruleset: tuple[str, str, str], segments: Mapping[str, Any]
    ) -> None:
        """What the counts of `add` do not say: the day, the pack, and the segment of `by`."""
        self.days[(as_of[:10], verdict)] += 1
        self.rulesets[ruleset] += 1
        if self.by:
            key = self.by.key(as_of, segments)
            part = self.parts.get(key)
            if part is None:
                part = self.parts[key] = Tally(count_pairs=False)
            part.add(verdict, findings)

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
        snap, rs, segments = data.get("snapshot"), data.get("ruleset"), data.get("segments")
        as_of = snap.get("as_of") if isinstance(snap, Mapping) else None
        rs = rs if isinstance(rs, Mapping) else {}
        self._context(
            verdict,
            rows,
            as_of if isinstance(as_of, str) else "",
            (str(rs.get("name", "")), str(rs.get("version", "")), str(rs.get("digest", ""))),
            segments if isinstance(segments, Mapping) else {},
        )

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
        self.days.update(other.days)
        self.rulesets.update(other.rulesets)
        for key, part in other.parts.items():
            if key in self.parts:
                self.parts[key].merge(part)
            else:
                self.parts[key] = part
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
    days: list[Day] = field(default_factory=list)
    packs: list[PackUsed] = field(default_factory=list)
    rejected_reasons: list[Row] = field(default_factory=list)
    segments: Breakdown | None = None
    """Per segment of `--by` (diagnose/breakdown.py)."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"]["reconciled"] = self.counts.reconciled
        return data


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


def summarize(
    tally: Tally,
    *,
    read: int | None = None,
    rejected: int = 0,
    pairs: int = 10,
    reasons: Mapping[str, int] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Summary:
    """The summary of a tally; shares are of the diagnosed accounts. Rows sort by accounts, then name.

    ``reasons`` counts the rejected records per reason (`breakdown.reject_reason`); ``labels`` are
    the institution-facing names of causes, shown instead of the reports' titles.
    """
    from . import breakdown as bd

    total = tally.diagnosed
    counts = Counts(tally.diagnosed + rejected if read is None else read, total, rejected)
    families = [
        Row(fam, n, _share(n, total), tally.top_families[fam], _share(tally.top_families[fam], total))
        for fam, n in sorted(tally.families.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    title_of = {**tally.title_of, **(labels or {})}
    common = sorted(tally.pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:pairs]
    return Summary(
        counts,
        tally.no_cause,
        bd.verdict_rows(tally.verdicts, total),
        families,
        bd.cause_rows(tally, title_of),
        [Pair(a, b, n, _share(n, total)) for (a, b), n in common],
        bd.days(tally),
        bd.packs(tally),
        bd.reason_rows(reasons or {}),
        bd.breakdown(tally, title_of),
    )


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
    from .formats.markdown import md

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

    from .formats import clean

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


def render_html(summary: Summary, *, title: str | None = None, lang: str = "en") -> str:
    """The summary as one self-contained page with charts (diagnose/summary_html.py)."""
    from .summary_html import render_page

    return render_page(summary, lang=lang, title=title)
