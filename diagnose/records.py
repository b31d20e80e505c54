"""The records a diagnosis produces, from one piece of evidence to the whole report (docs/report.md, schema version 1).

Plain data that every stage fills (the engine its evidence, explain its steps, report.build the
report) and every format renders; with the one deterministic JSON encoding of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import orjson

from diagnose import _record_inits, deferred
from diagnose.vocab import Verdict

_R = TypeVar("_R", bound=type)

if TYPE_CHECKING:
    from dataclasses import dataclass as record  # for mypy: a dataclass, whose __init__ it reads off the fields
else:

    def record(*, eq: bool, repr: bool) -> Callable[[_R], _R]:
        """`dataclass(eq=..., repr=...)`, with the `__init__` it would write taken ready-made from _record_inits.py.

        Speed (bench/coldstart.py --instructions): `dataclass` writes and compiles an `__init__` for
        each class as a module is imported, 14.6 M of the 26.8 M instructions that importing this
        module took, about 3% of the baseline a cold `diagnose run` is measured against. The same
        functions, written out once, load from the bytecode cache instead. tests/test_records.py
        holds _record_inits.py to what `dataclass` writes from each class's fields (UPDATE_GOLDEN=1
        rewrites it).
        """

        def make(cls: _R) -> _R:
            init = getattr(_record_inits, cls.__name__, None)
            if init is not None:  # a record's fields are its own annotations (records inherit none)
                code = init.__code__
                if code.co_varnames[1 : code.co_argcount] != tuple(inspect.get_annotations(cls)):
                    init = None  # a stale file never builds a record: dataclass writes it, and the test says to write the file again
            made = dataclass(eq=eq, repr=repr, init=init is None)(cls)
            if init is not None:
                init.__qualname__ = f"{cls.__qualname__}.__init__"
                made.__init__ = init
            return made

        return make


Tri = Literal[True, False] | None


def jsonable(value: Any) -> Any:
    """A fact value as JSON data: dates and times as ISO text, models as their fields."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", exclude_none=True)
    return str(value)


def _default(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json", exclude_none=True)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# JSON escapes only C0 controls. These pass through raw, yet a terminal showing the report obeys them (C1 controls)
# or shows text in reverse (bidi overrides), and JavaScript before ES2019 cannot hold U+2028/9 in a string.
# They can stand only inside strings, where an escape means the same character: the data is unchanged.
_UNSAFE = deferred.Pattern("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dump_bytes(data: Any, *, indent: bool = True) -> bytes:
    """Deterministic JSON as UTF-8 (orjson: dataclasses, dates and times natively; key order as declared), terminal-safe."""
    option = orjson.OPT_INDENT_2 if indent else 0
    try:
        raw = orjson.dumps(data, default=_default, option=option)
    except TypeError:  # a key that is not text: what OPT_NON_STR_KEYS writes, which slows every object down (a fifth of a dump)
        raw = orjson.dumps(data, default=_default, option=option | orjson.OPT_NON_STR_KEYS)
    if raw.isascii():  # of the characters escaped below only DEL is ASCII
        return raw if b"\x7f" not in raw else _escaped(raw.decode())
    # In UTF-8 each of them starts with one of these bytes; Chinese text mostly has none of them, and
    # looking for four bytes is a fraction of decoding the report and searching it (a fifth of a zh
    # report's serialisation).
    if b"\xe2" not in raw and b"\xc2" not in raw and b"\xd8" not in raw and b"\x7f" not in raw:
        return raw
    text = raw.decode()
    return _escaped(text) if _UNSAFE.search(text) else raw


def _escaped(text: str) -> bytes:
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text).encode()


def dumps(data: Any, *, indent: bool = True) -> str:
    """The same JSON as text."""
    return dump_bytes(data, indent=indent).decode()


class _Data:
    """Records that know how to become plain JSON data.

    Plain dataclasses, not frozen ones: a report builds a dozen of them, and a frozen dataclass
    takes four times as long to build (each field is set through object.__setattr__). Treat them
    as values all the same: change a report with dataclasses.replace, as `limited` does.

    Not slotted either. Speed (bench/instructions.py): orjson writes a dataclass that has an
    instance dict straight from that dict, and a slotted one by reading each field in turn. A
    report's serialisation took 103 K instructions slotted and takes 45 K now, while building the
    records costs about 4 K more: a record 1,603 K before, 1,543 K after. orjson writes every key
    of the dict that does not start with an underscore, so nothing may set an attribute that is
    not a field: mypy refuses one, and tests/test_records.py holds every record of the examples'
    reports to its fields.

    Equality and repr are these two, for all of them, rather than the two that `dataclass` writes
    and compiles for each class: the same results, and a third less of a cold start's 8 ms of
    building these classes.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = self.__dataclass_fields__  # type: ignore[attr-defined]
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    def __repr__(self) -> str:
        names = self.__dataclass_fields__  # type: ignore[attr-defined]
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    def to_dict(self) -> dict[str, Any]:
        return orjson.loads(dumps(self, indent=False))  # type: ignore[no-any-return]


@record(eq=False, repr=False)
class Evidence(_Data):
    """One condition that decided: the fact, the comparison, what was expected and what was found."""

    fact: str
    op: str
    expected: Any
    actual: Any
    result: bool | None
    param: str | None = None
    decided_by: str | None = None
    """When a side was not known exactly but its known part decided: which part, and what is not known."""


@record(eq=False, repr=False)
class Remedies(_Data):
    """What to do about a finding, for each audience: the customer, the support agent and the institution."""

    customer: list[str]
    agent: list[str]
    institution: list[str]


@record(eq=False, repr=False)
class ClearStep(_Data):
    """One change of facts that would clear a finding, and when it is expected if the snapshot says."""

    fact: str
    needed: str
    eta: str | None
    text: str


@record(eq=False, repr=False)
class Unmet(_Data):
    """An unknown fact and the value of it that would make an undetermined rule's condition hold."""

    fact: str
    needed: str


@record(eq=False, repr=False)
class NearMiss(_Data):
    """A rule that did not fire but came close: its distance (0..1) and where it fell short."""

    rule_id: str
    title: str
    distance: float
    summary: str


@record(eq=False, repr=False)
class Event(_Data):
    """A dated event of the snapshot, for the timeline."""

    at: str
    kind: str
    label: str


@record(eq=False, repr=False)
class Finding(_Data):
    """A cause that holds: its rank, family, severity and score, what it means, the evidence, the remedies, and the findings it explains."""

    rank: int
    rule_id: str
    family: str
    severity: str
    score: float
    contributing: bool
    title: str
    explanation: str
    evidence: list[Evidence]
    remedies: Remedies
    explains: list[str] = field(default_factory=list)
    explained_by: list[str] = field(default_factory=list)
    clears_when: list[ClearStep] = field(default_factory=list)
    explanatory: bool = False
    """It explains normal behaviour on a line that is otherwise fine; it does not restrict the line."""


@record(eq=False, repr=False)
class Undetermined(_Data):
    """A rule the snapshot could not decide: the facts it lacks, and the values of them that would make it hold."""

    rule_id: str
    family: str
    title: str
    missing: list[str]
    would_fire_if: list[Unmet] = field(default_factory=list)
    status: Literal["open", "not_assessed"] = "not_assessed"
    """`open`: the conditions that are known already hold, the missing facts decide; `not_assessed`: nothing known points to it."""
    impact: float = 0.0
    """How much the most telling of its missing facts would change the diagnosis (the scores of the open rules it decides)."""


@record(eq=False, repr=False)
class Question(_Data):
    """A missing fact worth asking for: the open rules it would decide, and how much they weigh."""

    fact: str
    impact: float
    rules: list[str]


@record(eq=False, repr=False)
class Decision(_Data):
    """What decided a report: the same record gives the same bytes (`diagnose run --verify` proves it)."""

    tool_version: str
    pack_digest: str
    input_digest: str
    """sha256 of the validated snapshot as canonical JSON (sorted keys, no spaces; unknown fields left out)."""
    lang: str
    audience: str
    explain: bool = False
    timeline: bool = False
    top: int | None = None
    redacted: bool = False


@record(eq=False, repr=False)
class Unexplained(_Data):
    """A blocked or restricted line with no finding: said plainly, with what came closest and what to do."""

    statement: str
    near_misses: list[NearMiss]
    could_explain: list[str]
    """Undetermined rules that could explain it once their missing facts are known (open ones when there are)."""
    agent_steps: list[str]
    customer: list[str] = field(default_factory=list)
    """What the customer may be told, when the report knows it (a repayment still within its posting time); else
    empty, and the customer's reply says the case is passed on."""


@record(eq=False, repr=False)
class Coverage(_Data):
    """How much of the pack the snapshot let the engine decide."""

    applicable: int
    decided: int
    fired: int
    open: int
    not_assessed: int
    not_applicable: int
    low: bool
    """Fewer than half the rules that apply were decided: a healthy verdict rests on little data."""


@record(eq=False, repr=False)
class SnapshotRef(_Data):
    """The snapshot a report is about: the account, the time of the snapshot, the product."""

    account_id: str
    as_of: str
    product: str


@record(eq=False, repr=False)
class Ruleset(_Data):
    """The rule pack that made a report: its name, its version and the digest of its content."""

    name: str
    version: str
    digest: str


@record(eq=False, repr=False)
class LineSummary(_Data):
    """The credit line at the snapshot; `restore_gap` is the limit that should be drawable but is not."""

    currency: str
    status: str | None
    total_limit: float
    used: float
    available: float
    restore_gap: float


@record(eq=False, repr=False)
class Disabled(_Data):
    """A rule the pack switches off, and why."""

    rule_id: str
    reason: str


@record(eq=False, repr=False)
class Report(_Data):
    """One diagnosis. Field order is the JSON order; scripts rely on the docs/report.md fields."""

    schema_version: str
    snapshot: SnapshotRef
    ruleset: Ruleset
    lang: str
    verdict: Verdict
    line: LineSummary
    findings: list[Finding]
    undetermined: list[Undetermined]
    warnings: list[str]
    disabled: list[Disabled] = field(default_factory=list)
    audience: str = "all"
    near_misses: list[NearMiss] = field(default_factory=list)
    timeline: list[Event] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    """Rules whose `applies_when` is false on this snapshot: neither a finding nor undetermined."""
    coverage: Coverage | None = None
    questions: list[Question] = field(default_factory=list)
    """The missing facts that would change the diagnosis most, most telling first: what to ask next."""
    unexplained: Unexplained | None = None
    """Set when the line is blocked or restricted and no finding holds."""
    decision: Decision | None = None
    segments: dict[str, Any] = field(default_factory=dict)
    """The segment fields of the account a team groups by (product, region, funder ...; docs/batch.md)."""

    def to_json(self, *, indent: bool = True) -> str:
        """Deterministic JSON: fixed key order, no locale, no wall clock."""
        return dumps(self, indent=indent)

    def to_json_bytes(self, *, indent: bool = False) -> bytes:
        """The same JSON as UTF-8 bytes, for writers of JSON Lines."""
        return dump_bytes(self, indent=indent)

    def limited(self, top: int) -> Report:
        """The same report with only the ``top`` most likely findings (the decision record says so)."""
        decision = replace(self.decision, top=top) if self.decision is not None else None
        return replace(self, findings=self.findings[:top], decision=decision)

    @property
    def top(self) -> Finding | None:
        return self.findings[0] if self.findings else None
