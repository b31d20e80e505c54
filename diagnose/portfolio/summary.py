"""Portfolio summary of many reports: accounts per family and cause, verdicts, pairs, segments, days, rejections; its views."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum
from itertools import combinations
from typing import TYPE_CHECKING, Any

import orjson

from diagnose.portfolio.segments import By
from diagnose.vocab import VERDICTS

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
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
        verdict_rows(tally.verdicts, total),
        families,
        cause_rows(tally, title_of),
        [Pair(a, b, n, _share(n, total)) for (a, b), n in common],
        days(tally),
        packs(tally),
        reason_rows(reasons or {}),
        breakdown(tally, title_of),
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


def _counts_line(c: Counts, lang: str = "en") -> str:
    from diagnose.report.formats.labels import label

    sign = "=" if c.reconciled else "≠"
    read, diagnosed, rejected = (label(lang, k) for k in ("sum_read", "sum_diagnosed", "sum_rejected"))
    return f"{read} {c.read:,} {sign} {diagnosed} {c.diagnosed:,} + {rejected} {c.rejected:,}"


def render_markdown(summary: Summary, lang: str = "en") -> str:
    from diagnose.report.formats.labels import family, label, verdict
    from diagnose.report.formats.markdown import md

    def table(head: list[str], rows: list[list[str]]) -> list[str]:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return [*out, ""]

    accounts, share, top, top_share = (label(lang, k) for k in ("sum_accounts", "sum_share", "sum_top_cause", "sum_top_share"))
    c = summary.counts
    out = [f"# {label(lang, 'sum_title')}", "", f"**{_counts_line(c, lang)}**", ""]
    biggest = _largest(summary.verdicts)
    out += [f"## {label(lang, 'sum_verdicts')}", ""]
    out += table(
        [label(lang, "verdict"), accounts, share, ""],
        [[md(verdict(lang, r.name), cell=True), f"{r.accounts:,}", _pct(r.share), bar(r.accounts, biggest)] for r in summary.verdicts],
    )
    out += [f"## {label(lang, 'sum_families')}", ""]
    biggest = _largest(summary.families)
    out += table(
        [label(lang, "family"), accounts, share, "", top, top_share],
        [
            [
                md(family(lang, r.name), cell=True),
                f"{r.accounts:,}",
                _pct(r.share),
                bar(r.accounts, biggest),
                f"{r.top:,}",
                _pct(r.top_share),
            ]
            for r in summary.families
        ],
    )
    out += [f"## {label(lang, 'sum_causes')}", ""]
    biggest = _largest(summary.causes)
    out += table(
        [label(lang, "cause"), label(lang, "family"), label(lang, "title"), accounts, share, "", top, top_share],
        [
            [
                md(r.name, cell=True),
                md(family(lang, r.family), cell=True),
                md(r.title, cell=True),
                f"{r.accounts:,}",
                _pct(r.share),
                bar(r.accounts, biggest),
                f"{r.top:,}",
                _pct(r.top_share),
            ]
            for r in summary.causes
        ],
    )
    out.append(f"{label(lang, 'sum_no_cause')}{label(lang, 'colon')}{summary.no_cause:,}")
    out.append("")
    out += [f"## {label(lang, 'sum_pairs')}", ""]
    if summary.pairs:
        out += table(
            [label(lang, "sum_pair"), accounts, share],
            [[f"{md(p.first, cell=True)} + {md(p.second, cell=True)}", f"{p.accounts:,}", _pct(p.share)] for p in summary.pairs],
        )
    else:
        out += [label(lang, "sum_no_pairs"), ""]
    return "\n".join(out)


def render_rich(summary: Summary, *, color: bool = False, width: int = 100, lang: str = "en") -> str:
    """Tables with inline bars for the terminal; every text from the reports is shown literally.

    Where a table does not fit, its bars go first, then its rows stack: a number is never cropped.
    """
    from rich import box
    from rich.console import RenderableType
    from rich.text import Text

    from diagnose.report.formats import clean
    from diagnose.report.formats.labels import family, label, verdict
    from diagnose.report.formats.richview import buffer_console
    from diagnose.report.formats.wrap import Either, Wrapped, rows_or_stack

    console, buffer = buffer_console(width, color)
    c = summary.counts
    console.print(Wrapped(Text(_counts_line(c, lang), style="bold" if c.reconciled else "bold red")))
    colon = label(lang, "colon")

    def view(title: str, heads: list[str], rows: list[list[Text | str]], bar_at: int, numbers: int, lead: int = 1) -> RenderableType:
        """With bars where they fit; without bars (decoration) next; stacked last."""
        right = tuple(range(len(heads) - numbers, len(heads)))

        def stack(heads: list[str], rows: list[list[Text | str]], right: Sequence[int]) -> RenderableType:
            return rows_or_stack(heads, rows, title=title, colon=colon, last_min=1, inline=True, lead=lead, right=right, box=box.SIMPLE)

        barred = stack(heads, rows, right)
        bare = stack(
            [h for i, h in enumerate(heads) if i != bar_at],
            [[v for i, v in enumerate(r) if i != bar_at] for r in rows],
            [i - 1 for i in right],
        )
        assert isinstance(barred, Either) and isinstance(bare, Either)
        return Either(barred.wide, bare, surely=barred.surely)

    share, accounts, top, top_share = (label(lang, k) for k in ("sum_share", "sum_accounts", "sum_top", "sum_top_share"))
    verdict_style = {"blocked": "red", "restricted": "yellow", "healthy": "green"}
    biggest = _largest(summary.verdicts)
    rows: list[list[Text | str]] = []
    for r in summary.verdicts:
        style = verdict_style.get(r.name, "cyan")
        name = verdict(lang, clean(r.name))
        rows.append([Text(name, style=style), Text(bar(r.accounts, biggest), style=style), f"{r.accounts:,}", _pct(r.share)])
    heads = [label(lang, "verdict"), "", accounts, share]
    console.print(view(label(lang, "sum_verdicts"), heads, rows, 1, 2))

    biggest = _largest(summary.families)
    rows = [
        [
            Text(family(lang, clean(r.name))),
            Text(bar(r.accounts, biggest), style="cyan"),
            f"{r.accounts:,}",
            _pct(r.share),
            f"{r.top:,}",
            _pct(r.top_share),
        ]
        for r in summary.families
    ]
    console.print(view(label(lang, "sum_families"), [label(lang, "family"), "", accounts, share, top, top_share], rows, 1, 4))

    titled = width >= 140  # the titles need room; the cause ids alone fit a 100-column terminal
    biggest = _largest(summary.causes)
    rows = [
        [
            Text(clean(r.name)),
            Text(family(lang, clean(r.family))),
            *([Text(clean(r.title))] if titled else []),
            Text(bar(r.accounts, biggest, 12), style="cyan"),
            f"{r.accounts:,}",
            _pct(r.share),
            f"{r.top:,}",
            _pct(r.top_share),
        ]
        for r in summary.causes
    ]
    heads = [label(lang, "cause"), label(lang, "family"), *([label(lang, "title")] if titled else []), "", accounts, share, top, top_share]
    console.print(view(label(lang, "sum_causes"), heads, rows, 3 if titled else 2, 4, lead=2))
    console.print(Wrapped(Text(label(lang, "sum_top_note"), style="dim")))
    console.print(Wrapped(f"{label(lang, 'sum_no_cause')}{colon}{summary.no_cause:,}"))

    if summary.pairs:
        biggest = _largest(summary.pairs)
        rows = [
            [
                Text(f"{clean(p.first)} + {clean(p.second)}"),
                Text(bar(p.accounts, biggest), style="magenta"),
                f"{p.accounts:,}",
                _pct(p.share),
            ]
            for p in summary.pairs
        ]
        console.print(view(label(lang, "sum_pairs"), [label(lang, "sum_pair"), "", accounts, share], rows, 1, 2))
    return buffer.getvalue()


def render(summary: Summary, fmt: SummaryFormat, *, color: bool = False, width: int = 100, lang: str = "en") -> str:
    if fmt is SummaryFormat.json:
        return render_json(summary)
    if fmt is SummaryFormat.markdown:
        return render_markdown(summary, lang)
    return render_rich(summary, color=color, width=width, lang=lang)


# --- per segment (`--by`), per day, per pack; rejections by reason ---------------------------


@dataclass(frozen=True)
class Segment:
    """One segment of `--by`: its key (a value per field, None when unknown), its accounts, verdicts and causes."""

    key: list[str | None]
    accounts: int
    share: float
    """Of the whole portfolio's diagnosed accounts."""
    verdicts: list[Row]
    causes: list[Row]
    """Every cause of the segment, most accounts first; shares are of the segment's accounts."""
    no_cause: int


@dataclass(frozen=True)
class Breakdown:
    """The summary per segment, with whether the segments add up to the whole (they always should)."""

    by: list[str]
    segments: list[Segment]
    reconciled: bool


@dataclass(frozen=True)
class Day:
    """Accounts whose as_of falls on one day, per verdict."""

    day: str
    accounts: int
    verdicts: dict[str, int]


@dataclass(frozen=True)
class PackUsed:
    name: str
    version: str
    digest: str
    accounts: int


def verdict_rows(verdicts: Counter[str], total: int) -> list[Row]:
    """The three verdicts in their order, then any other a report carried."""
    rows = [Row(v, verdicts[v], _share(verdicts[v], total)) for v in VERDICTS]
    return rows + [Row(v, n, _share(n, total)) for v, n in sorted(verdicts.items()) if v not in VERDICTS]


def cause_rows(tally: Tally, title_of: Mapping[str, str], family_of: Mapping[str, str] | None = None) -> list[Row]:
    """Causes most accounts first; ``family_of`` (a segment's: the whole portfolio's) names each one's family."""
    total = tally.diagnosed
    family_of = tally.family_of if family_of is None else family_of
    return [
        Row(
            rule_id,
            n,
            _share(n, total),
            tally.top_causes[rule_id],
            _share(tally.top_causes[rule_id], total),
            family_of.get(rule_id, ""),
            title_of.get(rule_id, ""),
        )
        for rule_id, n in sorted(tally.causes.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _sum(counters: Iterable[Counter[Any]]) -> Counter[Any]:
    out: Counter[Any] = Counter()
    for c in counters:
        out.update(c)
    return out


def reconciles(tally: Tally) -> bool:
    """The segments hold every account once: their accounts, verdicts, causes and top causes add up to the whole's."""
    parts = list(tally.parts.values())
    return (
        sum(p.diagnosed for p in parts) == tally.diagnosed
        and sum(p.no_cause for p in parts) == tally.no_cause
        and all(
            +_sum(getattr(p, name) for p in parts) == +getattr(tally, name)
            for name in ("verdicts", "causes", "top_causes", "families", "top_families")
        )
    )


def _order(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((k is None, k or "") for k in key)


def breakdown(tally: Tally, title_of: Mapping[str, str]) -> Breakdown | None:
    """The summary per segment of `tally.by`, biggest first (None without `--by`)."""
    if not tally.by:
        return None
    total = tally.diagnosed
    segments = [
        Segment(
            list(key),
            part.diagnosed,
            _share(part.diagnosed, total),
            verdict_rows(part.verdicts, part.diagnosed),
            cause_rows(part, title_of, tally.family_of),
            part.no_cause,
        )
        for key, part in sorted(tally.parts.items(), key=lambda kv: (-kv[1].diagnosed, _order(kv[0])))
    ]
    return Breakdown(list(tally.by.fields), segments, reconciles(tally))


def days(tally: Tally) -> list[Day]:
    per: dict[str, Counter[str]] = {}
    for (day, verdict), n in tally.days.items():
        if day:
            per.setdefault(day, Counter())[verdict] += n
    return [Day(day, sum(c.values()), {v: c[v] for v in (*VERDICTS, *sorted(set(c) - set(VERDICTS)))}) for day, c in sorted(per.items())]


def packs(tally: Tally) -> list[PackUsed]:
    return [PackUsed(*key, n) for key, n in sorted(tally.rulesets.items(), key=lambda kv: (-kv[1], kv[0])) if any(key)]


# --- rejected records ------------------------------------------------------------------

_GOT = re.compile(r"\s*\(got [^)]*\)")
_QUOTED = re.compile(r"\s*'[^']*'|\s*\"[^\"]*\"")
_NUMBER = re.compile(r"\d[\d,.]*")


def reject_reason(record: Mapping[str, Any]) -> str:
    """What kind of rejection a record of the error report is: its field and the shape of its message, without values.

    `line.used: must be >= 0 (got -5)` and `(got -9000)` are one reason, `line.used: must be >= N`.
    """
    if record.get("error") == "internal_error":
        return "internal error"
    problems = record.get("problems")
    first = problems[0] if isinstance(problems, list) and problems and isinstance(problems[0], Mapping) else {}
    path = str(first.get("path") or "")
    message = _QUOTED.sub("", _GOT.sub("", str(first.get("message") or "invalid record")))
    message = message.split(";")[0] if path else re.split("[:;]", message)[0]
    message = " ".join(_NUMBER.sub("N", message).split()) or "invalid record"
    return f"{path}: {message}" if path else message


def reason_rows(reasons: Mapping[str, int]) -> list[Row]:
    """Rejections per reason, most first; shares are of the rejected records."""
    total = sum(reasons.values())
    return [Row(r, n, _share(n, total)) for r, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]


def pack_labels(pack: CompiledPack, lang: str) -> dict[str, str]:
    """Each rule's institution-facing name (its `label`) in ``lang``; rules without one keep their reports' titles."""
    out = {}
    for rule in pack.data["rules"]:
        label = rule.get("label")
        if isinstance(label, Mapping):
            out[str(rule["id"])] = str(label.get(lang) or label.get("en") or rule["id"])
    return out
