"""The compiled rules of a pack: each rule's condition compiled once, its texts parsed on first use."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from datetime import date
from itertools import pairwise
from typing import TYPE_CHECKING, Any, NamedTuple

from diagnose.engine import codegen
from diagnose.engine.conditions import CNode, Test, Tri, compile_condition
from diagnose.pack import templates as text
from diagnose.records import Disabled, Ruleset
from diagnose.vocab import AUDIENCES

if TYPE_CHECKING:
    from typing_extensions import Self

    from diagnose.pack.loader import Pack


class LangText(NamedTuple):
    """A text in both languages."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class RuleSpec(NamedTuple):
    """A validated rule as plain data: what the engine needs at run time (no pydantic)."""

    id: str
    family: str
    severity: str
    weight: float
    contributing: bool
    explanatory: bool
    explains: tuple[str, ...]
    title: LangText
    explanation: LangText
    rationale: LangText | None
    remedies: dict[str, tuple[LangText, ...]]
    when: dict[str, Any]
    applies_when: dict[str, Any] | None
    in_force: tuple[date | None, date | None] | None
    metadata: dict[str, Any]

    @classmethod
    def from_data(cls, d: Mapping[str, Any]) -> RuleSpec:
        rationale = d.get("rationale")
        return cls(
            id=d["id"],
            family=d["family"],
            severity=d["severity"],
            weight=float(d.get("weight", 1.0)),
            contributing=bool(d.get("contributing", False)),
            explanatory=bool(d.get("explanatory", False)),
            explains=tuple(d.get("explains") or ()),
            title=LangText(**d["title"]),
            explanation=LangText(**d["explanation"]),
            rationale=LangText(**rationale) if rationale else None,
            remedies={aud: tuple(LangText(**t) for t in d["remedies"][aud]) for aud in AUDIENCES},
            when=d["when"],
            applies_when=d.get("applies_when"),
            in_force=_range(d["in_force"]) if d.get("in_force") else None,
            metadata=dict(d.get("metadata") or {}),
        )


def _range(d: Mapping[str, Any]) -> tuple[date | None, date | None]:
    f, u = d.get("from"), d.get("until")
    return (date.fromisoformat(f) if f else None), (date.fromisoformat(u) if u else None)


def _covers(in_force: Mapping[str, Any] | None, day: date) -> bool:
    if in_force is None:
        return True
    lo, hi = _range(in_force)
    return (lo is None or lo <= day) and (hi is None or day < hi)


def _changes(data: Mapping[str, Any]) -> list[date]:
    ranges = [r["in_force"] for r in data["rules"] if r.get("in_force")]
    ranges += [dv["in_force"] for values in (data.get("dated_parameters") or {}).values() for dv in values]
    return sorted({d for r in ranges for d in _range(r) if d is not None})


def _in_force(data: Mapping[str, Any], day: date) -> dict[str, Any]:
    """The pack's data with only the rules in force on ``day`` and each parameter's value on that day."""
    params = dict(data["parameters"])
    for name, values in (data.get("dated_parameters") or {}).items():
        params[name] = next((dv["value"] for dv in values if _covers(dv["in_force"], day)), params[name])
    rules = [r for r in data["rules"] if _covers(r.get("in_force"), day)]
    return dict(data) | {"parameters": params, "rules": rules, "dated_parameters": {}}


class CompiledRule(NamedTuple):
    """A rule with its condition compiled; its texts are parsed on first use (text.parse caches)."""

    rule: RuleSpec
    node: CNode
    applies: CNode | None = None
    """The compiled `applies_when`; None: the rule always applies."""

    def applicable(self, f: Mapping[str, Any]) -> bool:
        """False only when `applies_when` is known to be false: an unknown applicability is decided by the rule itself."""
        return self.applies is None or self.applies.test(f) is not False

    def render(self, which: str, f: Mapping[str, Any], params: Mapping[str, Any], lang: str) -> str:
        """The rule's title or explanation in ``lang`` with facts filled in."""
        template: LangText = getattr(self.rule, which)
        return text.fill(text.plan(template.get(lang)), f, params, lang) or ""


class CompiledRules:
    """A pack's rules ready to evaluate: conditions compiled to closures, parameters resolved, once.

    `evaluate` and `outcomes` run all the rules in one generated function (engine/codegen.py) once
    GENERATE_AFTER evaluations would repay compiling it; the closures stay for explanations.
    Built from the pack's plain data (`Pack.to_data()`, or the pack cache), so that evaluating
    needs neither YAML nor pydantic models. `source` is the full Pack when it was loaded here.
    The API's `CompiledPack` adds what turns an evaluation into a report.
    """

    def __init__(self, data: Mapping[str, Any], source: Pack | None = None) -> None:
        self.data = data
        self.source = source
        self.params: dict[str, Any] = dict(data["parameters"])
        self._changes = _changes(data)
        """The days on which a dated rule or parameter value comes into or out of force (sorted); none: one pack for all days."""
        self._eras: dict[int, CompiledRules] = {}
        self.rules: tuple[CompiledRule, ...] = tuple(self._compile(RuleSpec.from_data(r)) for r in data["rules"])
        self.tests: tuple[tuple[CompiledRule, Test], ...] = tuple((cr, cr.node.test) for cr in self.rules)
        self._program: codegen.Program | None = None
        self._calls = 0
        self._run: codegen.Run = self._by_closures
        """Every rule's result at once: by the closures until GENERATE_AFTER evaluations, then by the generated function."""
        self.ruleset = Ruleset(data["name"], data["version"], data["digest"])
        self.disabled = [Disabled(rid, why) for rid, why in sorted(data.get("disabled", {}).items())]
        self.clear_steps: dict[str, tuple[str, str]] = {fact: (t["en"], t["zh"]) for fact, t in (data.get("clear_steps") or {}).items()}
        """The pack's own words for clearing a condition on a fact, over the built-in ones."""

    @classmethod
    def from_pack(cls, pack: Pack) -> Self:
        return cls(pack.to_data(), source=pack)

    def _compile(self, rule: RuleSpec) -> CompiledRule:
        applies = compile_condition(rule.applies_when, self.params) if rule.applies_when is not None else None
        return CompiledRule(rule, compile_condition(rule.when, self.params), applies)

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    def rule(self, rule_id: str) -> CompiledRule:
        for cr in self.rules:
            if cr.rule.id == rule_id:
                return cr
        raise KeyError(rule_id)

    def at(self, day: date) -> CompiledRules:
        """The rules and parameter values in force on ``day`` (as_of's date): itself when nothing in the pack is dated.

        The days between two changes form one era, compiled once on first use.
        """
        if not self._changes:
            return self
        era = bisect_right(self._changes, day)
        found = self._eras.get(era)
        if found is None:
            found = self._eras[era] = CompiledRules(_in_force(self.data, self._changes[era - 1] if era else date.min), self.source)
        return found

    def evaluate(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri]]:
        """The truth value of every rule's condition on one set of facts (the fast path; `applies_when` aside)."""
        return self._run(f, False)

    def outcomes(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri | codegen.NotApplicable]]:
        """Every rule with its truth value, NOT_APPLICABLE for a rule whose `applies_when` is false (its condition is not evaluated)."""
        return self._run(f, True)

    def program(self) -> codegen.Program:
        """The generated evaluator of these rules (`diagnose rules compiled` shows it), built on first use."""
        if self._program is None:
            self._program = codegen.build([(cr.node, cr.applies) for cr in self.rules], self.rules)
            self._run = self._program.run
        return self._program

    def eras(self) -> list[tuple[date | None, date | None, CompiledRules]]:
        """The rules in force between each two days the pack changes on: (from, until, rules); one era for a pack with nothing dated."""
        bounds: list[date | None] = [None, *self._changes, None]
        return [(lo, hi, self.at(lo or date.min)) for lo, hi in pairwise(bounds)]

    def review(self, day: date | None = None) -> str:
        """The generated function of the rules in force on ``day`` (default: of every era in turn), with its constant table, for a reviewer."""
        eras = [(None, None, self.at(day))] if day is not None else self.eras()
        out = []
        for lo, hi, era in eras:
            when = f" in force on {day.isoformat()}" if day is not None else _span(lo, hi)
            out.append(f"# pack {self.name} {self.version}: {len(era.rules)} rule{'s' * (len(era.rules) != 1)}{when}\n")
            out.append(codegen.listing(era.program(), [cr.rule.id for cr in era.rules]))
        return "\n".join(out)

    def _by_closures(self, f: Mapping[str, Any], gate: bool) -> list[tuple[CompiledRule, Tri | codegen.NotApplicable]]:
        """What the generated function computes, by the closures: for the first evaluations, which would not repay compiling."""
        self._calls += 1
        if self._calls >= GENERATE_AFTER:
            self.program()
        na = codegen.NOT_APPLICABLE
        return [(cr, na if gate and cr.applies is not None and cr.applies.test(f) is False else test(f)) for cr, test in self.tests]


def _span(lo: date | None, hi: date | None) -> str:
    if lo is None and hi is None:
        return ", in force on every day"
    return "".join((f" in force from {lo.isoformat()}" if lo else " in force", f" until {hi.isoformat()}" if hi else ""))


GENERATE_AFTER = 750
"""Evaluations by the closures before a pack's function is generated. Compiling it costs what it
saves over some 600 to 900 evaluations (measured for the default pack, 7-11 ms, and for one of
3,900 rules, about 1 s): waiting until about that break-even point means a run too short to repay
the compile never pays it, and a longer one spends at most twice the least it could have (the
argument of renting skis before buying). A command that diagnoses a few snapshots never
compiles; a batch worker compiles once, after its first few chunks."""
