"""Accuracy of a pack on labelled cases: one small record per case, counts that merge, and the measures made from them.

A case's answer is the cause ranked first (none when nothing fires). It is right at top-1 when
it is the ticket's main cause (any confirmed cause when the ticket names no main one; no
finding when the ticket confirmed none), right at top-3 when that cause is among the first
three. Per cause, precision, recall and F1 count the first-ranked answer against the true main
cause (the confusion table's rows and columns); `found` counts the cases labelled with the
cause on which its rule fired at any rank. Counts only: a million cases take the memory of one.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.evaluate.labels import Label
from diagnose.records import Report

NONE = "(none)"
"""The answer and the true class of a case without a cause."""
Z95 = 1.959963984540054
"""The normal quantile of a two-sided 95% interval."""


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion: sound for small counts and rates near 0 or 1 (None when n is 0)."""
    if n <= 0:
        return None
    p = hits / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, round(centre - half, 6)), min(1.0, round(centre + half, 6)))


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a pack answered on one case, with its label: all that the measures and a backtest need."""

    source: str
    account: str
    label: Label
    ranked: tuple[str, ...]
    """The fired rules, most likely first."""
    undetermined: tuple[str, ...]
    tied: bool = False
    """The first two findings have the same score: the rule id decided which is first."""

    @classmethod
    def of(cls, source: str, label: Label, report: Report) -> Outcome:
        f = report.findings
        tied = len(f) > 1 and f[0].score == f[1].score and f[0].contributing == f[1].contributing
        return cls(
            source, report.snapshot.account_id, label, tuple(x.rule_id for x in f), tuple(u.rule_id for u in report.undetermined), tied
        )

    @property
    def first(self) -> str | None:
        return self.ranked[0] if self.ranked else None

    @property
    def top1(self) -> bool:
        return self.label.is_right(self.first)

    @property
    def top3(self) -> bool:
        if not self.label.causes:
            return not self.ranked
        wanted = (self.label.main,) if self.label.main else self.label.causes
        return any(c in self.ranked[:3] for c in wanted)

    @property
    def truth(self) -> str:
        """The true main cause: the ticket's main one; else the first-ranked one if confirmed, else the first listed."""
        lab = self.label
        if not lab.causes:
            return NONE
        if lab.main:
            return lab.main
        return self.first if self.first in lab.causes and self.first is not None else lab.causes[0]

    @property
    def answer(self) -> str:
        return self.first or NONE

    @property
    def unexplained(self) -> str | None:
        """For a case with a confirmed cause and no finding: `undetermined` when an undetermined rule is a confirmed cause, else `nothing`."""
        if not self.label.causes or self.ranked:
            return None
        return "undetermined" if set(self.label.causes) & set(self.undetermined) else "nothing"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "account": self.account,
            "label": self.label.to_dict(),
            "ranked": list(self.ranked),
            "undetermined": list(self.undetermined),
            "tied": self.tied,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Outcome:
        lab = d["label"]
        return cls(
            d["source"],
            d["account"],
            Label(tuple(lab["causes"]), lab.get("main"), lab.get("ticket")),
            tuple(d["ranked"]),
            tuple(d["undetermined"]),
            bool(d["tied"]),
        )


_COUNTS = ("cases", "top1", "top3", "tied", "tied_wrong", "with_cause", "nothing", "undetermined_only")


@dataclass
class Tally:
    """Counts over outcomes; tallies of parts of the cases merge into the tally of all of them."""

    cases: int = 0
    top1: int = 0
    top3: int = 0
    tied: int = 0
    tied_wrong: int = 0
    with_cause: int = 0
    nothing: int = 0
    undetermined_only: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)

    def add(self, o: Outcome) -> None:
        self.cases += 1
        right = o.top1
        self.top1 += right
        self.top3 += o.top3
        if o.tied:
            self.tied += 1
            self.tied_wrong += not right
        if o.label.causes:
            self.with_cause += 1
            kind = o.unexplained
            if kind == "nothing":
                self.nothing += 1
            elif kind == "undetermined":
                self.undetermined_only += 1
        self.confusion[(o.truth, o.answer)] += 1
        fired = set(o.ranked)
        for cause in o.label.causes:
            self.labelled[cause] += 1
            self.found[cause] += cause in fired

    def add_all(self, outcomes: Iterable[Outcome]) -> Tally:
        for o in outcomes:
            self.add(o)
        return self

    def merge(self, other: Tally) -> Tally:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.confusion.update(other.confusion)
        self.labelled.update(other.labelled)
        self.found.update(other.found)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for a Spark partition's partial counts): `from_dict` gives the same tally back."""
        plain = {k: getattr(self, k) for k in _COUNTS}
        return plain | {
            "confusion": [[t, a, n] for (t, a), n in sorted(self.confusion.items())],
            "labelled": dict(sorted(self.labelled.items())),
            "found": dict(sorted(self.found.items())),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Tally:
        t = cls()
        for name in _COUNTS:
            setattr(t, name, int(d[name]))
        t.confusion = Counter({(a, b): int(n) for a, b, n in d["confusion"]})
        t.labelled = Counter({k: int(v) for k, v in d["labelled"].items()})
        t.found = Counter({k: int(v) for k, v in d["found"].items()})
        return t


@dataclass(frozen=True)
class Rate:
    """A proportion with its counts and its 95% Wilson interval."""

    hits: int
    n: int
    value: float | None
    ci: tuple[float, float] | None

    @classmethod
    def of(cls, hits: int, n: int) -> Rate:
        return cls(hits, n, round(hits / n, 6) if n else None, wilson(hits, n))

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "hits": self.hits, "n": self.n, "ci95": list(self.ci) if self.ci else None}


@dataclass(frozen=True)
class CauseStats:
    """One cause: how often it was the true main cause (support), ranked first (predicted), both (tp)."""

    cause: str
    support: int
    predicted: int
    tp: int
    labelled: int
    found: int

    @property
    def precision(self) -> Rate:
        return Rate.of(self.tp, self.predicted)

    @property
    def recall(self) -> Rate:
        return Rate.of(self.tp, self.support)

    @property
    def f1(self) -> float | None:
        p, r = self.precision.value, self.recall.value
        if p is None or r is None:
            return None
        return round(2 * p * r / (p + r), 6) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "support": self.support,
            "ranked_first": self.predicted,
            "right": self.tp,
            "precision": self.precision.to_dict(),
            "recall": self.recall.to_dict(),
            "f1": self.f1,
            "labelled": self.labelled,
            "found": Rate.of(self.found, self.labelled).to_dict(),
        }


@dataclass(frozen=True)
class Metrics:
    """The measures of one pack on one set of cases, made from its tally."""

    pack: str
    tally: Tally
    where: str | None = None
    """The pack's folder or revision as the user named it (a backtest's two packs may share a name)."""

    @property
    def cases(self) -> int:
        return self.tally.cases

    @property
    def top1(self) -> Rate:
        return Rate.of(self.tally.top1, self.tally.cases)

    @property
    def top3(self) -> Rate:
        return Rate.of(self.tally.top3, self.tally.cases)

    @property
    def nothing(self) -> Rate:
        return Rate.of(self.tally.nothing, self.tally.with_cause)

    @property
    def undetermined_only(self) -> Rate:
        return Rate.of(self.tally.undetermined_only, self.tally.with_cause)

    def causes(self) -> list[CauseStats]:
        """Every cause that was a true main cause, ranked first or labelled, by id; `(none)` last."""
        t = self.tally
        support: Counter[str] = Counter()
        predicted: Counter[str] = Counter()
        for (truth, answer), n in t.confusion.items():
            support[truth] += n
            predicted[answer] += n
        names = sorted(set(support) | set(predicted) | set(t.labelled), key=lambda c: (c == NONE, c))
        return [CauseStats(c, support[c], predicted[c], t.confusion[(c, c)], t.labelled[c], t.found[c]) for c in names]

    def cause(self, cause: str) -> CauseStats:
        for stats in self.causes():
            if stats.cause == cause:
                return stats
        return CauseStats(cause, 0, 0, 0, 0, 0)

    def confusions(self) -> list[tuple[str, str, int]]:
        """The wrong answers: (true main cause, ranked first, cases), most frequent first."""
        wrong = [(t, a, n) for (t, a), n in self.tally.confusion.items() if t != a]
        return sorted(wrong, key=lambda x: (-x[2], x[0], x[1]))

    def to_dict(self) -> dict[str, Any]:
        t = self.tally
        return {
            "pack": self.pack,
            **({"where": self.where} if self.where else {}),
            "cases": t.cases,
            "top1": self.top1.to_dict(),
            "top3": self.top3.to_dict(),
            "with_cause": t.with_cause,
            "nothing_explains": self.nothing.to_dict(),
            "undetermined_only": self.undetermined_only.to_dict(),
            "ties_at_top": {"cases": t.tied, "wrong": t.tied_wrong},
            "causes": [c.to_dict() for c in self.causes()],
            "confusion": [{"true": a, "first": b, "cases": n} for (a, b), n in sorted(t.confusion.items())],
        }


# --- gates ------------------------------------------------------------------------------

MEASURES = ("recall", "precision", "f1")


@dataclass(frozen=True)
class Floor:
    """A floor a measure must reach for CI: top-1 or top-3 accuracy, or a cause's recall, precision or F1."""

    measure: str
    value: float
    cause: str | None = None

    def name(self) -> str:
        return f"{self.measure} {self.cause}" if self.cause else self.measure

    def actual(self, m: Metrics) -> float | None:
        if self.cause is None:
            return (m.top1 if self.measure == "top1" else m.top3).value
        stats = m.cause(self.cause)
        return stats.f1 if self.measure == "f1" else getattr(stats, self.measure).value

    def met(self, m: Metrics) -> bool:
        got = self.actual(m)
        return got is not None and got >= self.value


def parse_floor(measure: str, text: str) -> Floor:
    """`CAUSE=0.8` for --min-recall, --min-precision and --min-f1; raises ValueError with what is wrong."""
    cause, sep, value = text.partition("=")
    if not sep or not cause.strip():
        raise ValueError(f"write CAUSE=VALUE, e.g. LIQ-FUNDER-QUOTA=0.8 (got {text!r})")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number (write CAUSE=0.8)") from None
    if not 0 <= number <= 1:
        raise ValueError(f"{number} is not between 0 and 1")
    return Floor(measure, number, cause.strip())
