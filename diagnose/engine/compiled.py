"""The compiled rules of a pack: each rule's condition compiled once, its texts parsed on first use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

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
    explains: tuple[str, ...]
    title: LangText
    explanation: LangText
    rationale: LangText | None
    remedies: dict[str, tuple[LangText, ...]]
    when: dict[str, Any]
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
            explains=tuple(d.get("explains") or ()),
            title=LangText(**d["title"]),
            explanation=LangText(**d["explanation"]),
            rationale=LangText(**rationale) if rationale else None,
            remedies={aud: tuple(LangText(**t) for t in d["remedies"][aud]) for aud in AUDIENCES},
            when=d["when"],
            metadata=dict(d.get("metadata") or {}),
        )


class CompiledRule(NamedTuple):
    """A rule with its condition compiled; its texts are parsed on first use (text.parse caches)."""

    rule: RuleSpec
    node: CNode

    def render(self, which: str, f: Mapping[str, Any], params: Mapping[str, Any], lang: str) -> str:
        """The rule's title or explanation in ``lang`` with facts filled in."""
        template: LangText = getattr(self.rule, which)
        return text.render(text.parse(template.get(lang)), f, params, lang) or ""


class CompiledRules:
    """A pack's rules ready to evaluate: conditions compiled to closures, parameters resolved, once.

    Built from the pack's plain data (`Pack.to_data()`, or the pack cache), so that evaluating
    needs neither YAML nor pydantic models. `source` is the full Pack when it was loaded here.
    The API's `CompiledPack` adds what turns an evaluation into a report.
    """

    def __init__(self, data: Mapping[str, Any], source: Pack | None = None) -> None:
        self.data = data
        self.source = source
        self.params: dict[str, Any] = dict(data["parameters"])
        self.rules: tuple[CompiledRule, ...] = tuple(self._compile(RuleSpec.from_data(r)) for r in data["rules"])
        self.tests: tuple[tuple[CompiledRule, Test], ...] = tuple((cr, cr.node.test) for cr in self.rules)
        self.ruleset = Ruleset(data["name"], data["version"], data["digest"])
        self.disabled = [Disabled(rid, why) for rid, why in sorted(data.get("disabled", {}).items())]
        self.clear_steps: dict[str, tuple[str, str]] = {fact: (t["en"], t["zh"]) for fact, t in (data.get("clear_steps") or {}).items()}
        """The pack's own words for clearing a condition on a fact, over the built-in ones."""

    @classmethod
    def from_pack(cls, pack: Pack) -> Self:
        return cls(pack.to_data(), source=pack)

    def _compile(self, rule: RuleSpec) -> CompiledRule:
        return CompiledRule(rule, compile_condition(rule.when, self.params))

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

    def evaluate(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri]]:
        """The truth value of every rule on one set of facts (the fast path)."""
        return [(cr, test(f)) for cr, test in self.tests]
