"""The typed results of comparing snapshots: a diff of two, the history of many, a portfolio from one day to the next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from diagnose.records import Ruleset, dumps
from diagnose.vocab import Verdict

Status = Literal["holds", "undetermined", "no"]
"""What a rule made of one snapshot: it holds (a finding), it could not be decided, or it does not hold."""
Change = Literal["appeared", "cleared", "changed"]
"""How a cause moved: it newly holds, it no longer holds, or it holds both times at another rank, score or severity."""
Direction = Literal["rose", "fell", "changed", "known", "unknown"]
"""How a fact moved: a number or a time up or down, another value changed, or it became known or unknown."""

SCHEMA_VERSION = "1"


class _Json:
    """Frozen results that know how to become JSON (orjson writes slotted dataclasses natively)."""

    __slots__ = ()

    def to_json(self, *, indent: bool = True) -> str:
        return dumps(self, indent=indent)


@dataclass(frozen=True, slots=True)
class FactChange(_Json):
    """A fact whose value differs: before and after as data, and as the report shows them."""

    fact: str
    direction: Direction
    before: Any
    after: Any
    before_text: str
    after_text: str


@dataclass(frozen=True, slots=True)
class Turn(_Json):
    """A condition of a rule whose result changed: the comparison, its threshold as shown, and the result each time."""

    fact: str
    op: str
    condition: str
    before: bool | None
    after: bool | None


@dataclass(frozen=True, slots=True)
class Standing(_Json):
    """A rule on one snapshot: its status, and its rank and score when it holds."""

    status: Status
    rank: int | None
    score: float | None
    severity: str


@dataclass(frozen=True, slots=True)
class CauseChange(_Json):
    """A cause that appeared, cleared or changed, with the facts that changed and the conditions they turned."""

    rule_id: str
    change: Change
    family: str
    severity: str
    title: str
    explanation: str
    before: Standing
    after: Standing
    facts: tuple[FactChange, ...]
    conditions: tuple[Turn, ...]
    customer: tuple[str, ...] = ()
    """The customer's remedies where it holds last (for a reply to the customer)."""


@dataclass(frozen=True, slots=True)
class Side(_Json):
    """One of the two snapshots: which account, when, the verdict and the causes that hold, best first."""

    source: str
    account_id: str
    as_of: str
    verdict: Verdict
    causes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Diff(_Json):
    """Two snapshots of one account compared: what changed, and which change did it (`diagnose diff --format json`)."""

    schema_version: str
    lang: str
    audience: str
    ruleset: Ruleset
    before: Side
    after: Side
    changed: bool
    """The verdict or a cause changed (facts that decided nothing do not count)."""
    verdict_changed: bool
    verdict_facts: tuple[FactChange, ...]
    """When the verdict changed: the facts it reads besides the causes (available, status, restore gap, limit cut, request) that changed."""
    causes: tuple[CauseChange, ...]
    other_facts: tuple[FactChange, ...]
    """Facts that changed but decided nothing (no condition of a cause that changed, nor the verdict): listed apart."""
    summary: str
    warnings: tuple[str, ...] = ()
    swapped: bool = False
    """AFTER was older than BEFORE, so the two were compared the other way round."""

    def cause(self, rule_id: str) -> CauseChange:
        for c in self.causes:
            if c.rule_id == rule_id:
                return c
        raise KeyError(rule_id)


@dataclass(frozen=True, slots=True)
class Moment(_Json):
    """One snapshot of a history: a column of the table."""

    source: str
    as_of: str
    verdict: Verdict
    causes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Track(_Json):
    """One cause over the snapshots of a history: a row of the table (its status and rank at each snapshot)."""

    rule_id: str
    family: str
    title: str
    states: tuple[Status, ...]
    ranks: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class History(_Json):
    """One account over time (`diagnose history --format json`): the snapshots in time order, each cause, each step's diff."""

    schema_version: str
    lang: str
    ruleset: Ruleset
    account_id: str
    snapshots: tuple[Moment, ...]
    causes: tuple[Track, ...]
    steps: tuple[Diff, ...]
    """The diff of each snapshot against the one before it: len(snapshots) - 1 of them."""
    warnings: tuple[str, ...] = ()


# --- a portfolio from one day to the next ------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileCounts(_Json):
    """One report file: lines read, the accounts they hold, and the lines of an account seen again (the latest one counts)."""

    file: str
    lines: int
    accounts: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Transition(_Json):
    """Accounts in both files that went from one verdict to another (or kept it), and the first few of them."""

    before: str
    after: str
    accounts: int
    sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CauseMove(_Json):
    """One cause across the portfolio: accounts in both files where it appeared or cleared, and where it held each day."""

    rule_id: str
    family: str
    title: str
    appeared: int
    cleared: int
    held_before: int
    held_after: int
    appeared_sample: tuple[str, ...]
    cleared_sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Presence(_Json):
    """Accounts in only one of the files, by their verdict there, and the first few of them."""

    verdict: str
    accounts: int
    sample: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PortfolioDiff(_Json):
    """Two days of batch reports joined by account (`diagnose diff --reports --format json`)."""

    schema_version: str
    lang: str
    before: FileCounts
    after: FileCounts
    both: int
    only_before: int
    only_after: int
    reconciled: bool
    """Every account of either file is in exactly one bucket: both + only_before and both + only_after are the files' accounts."""
    transitions: tuple[Transition, ...]
    causes: tuple[CauseMove, ...]
    gone: tuple[Presence, ...]
    new: tuple[Presence, ...]
    summary: str
    warnings: tuple[str, ...] = ()
    """E.g. the two files were diagnosed with different rule packs."""
