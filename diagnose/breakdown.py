"""The parts of a portfolio summary beyond its counts: per segment (`--by`), per day, per rule pack, rejections by reason."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .summary import VERDICTS, Row

if TYPE_CHECKING:
    from .engine import CompiledPack
    from .summary import Tally


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


def _share(n: int, total: int) -> float:
    return n / total if total else 0.0


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
