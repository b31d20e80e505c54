"""The engine: rules compiled once into closures, evaluated in three-valued logic, turned into reports."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from . import facts as factlib
from . import ranking, text
from .errors import DiagnoseError, InvalidInput
from .report import (
    Disabled,
    Evidence,
    Finding,
    LineSummary,
    Remedies,
    Report,
    Ruleset,
    SnapshotRef,
    Undetermined,
    Verdict,
)
from .rulepack import AllOf, AnyOf, Leaf, NotOf, Pack, Rule
from .snapshot import Snapshot, unknown_fields, validate

Tri = bool | None
Test = Callable[[Mapping[str, Any]], Tri]

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# --- compiled condition nodes -----------------------------------------------------------


@dataclass(frozen=True)
class CLeaf:
    fact: str
    op: str
    expected: Any
    ref: str | None
    param: str | None
    test: Test


@dataclass(frozen=True)
class CAll:
    children: tuple[CNode, ...]
    test: Test


@dataclass(frozen=True)
class CAny:
    children: tuple[CNode, ...]
    test: Test


@dataclass(frozen=True)
class CNot:
    child: CNode
    test: Test


CNode = CLeaf | CAll | CAny | CNot


def coerce_literal(value: Any, fact: str) -> Any:
    """A literal as the fact's own type: YAML text "2024-01-15" against a date fact is a date."""
    spec = factlib.catalog().get(fact)
    if spec is None or not isinstance(value, str):
        return value
    try:
        if spec.kind == "date":
            return date.fromisoformat(value)
        if spec.kind == "datetime":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return value


def _leaf_test(fact: str, op: str, expected: Any, ref: str | None) -> Test:
    """One specialised closure per leaf: the hot path does a dict lookup and one comparison."""
    if op == "exists":
        return lambda f: fact in f
    if op == "missing":
        return lambda f: fact not in f
    if ref is not None:
        cmp = _CMP[op]

        def against_fact(f: Mapping[str, Any]) -> Tri:
            a = f.get(fact)
            b = f.get(ref)
            if a is None or b is None:
                return None
            try:
                return cmp(a, b)
            except TypeError:
                return None

        return against_fact
    if op in ("in", "not in"):
        choices = tuple(expected)
        want = op == "in"

        def member(f: Mapping[str, Any]) -> Tri:
            a = f.get(fact)
            if a is None:
                return None
            return (a in choices) is want

        return member
    if op == "between":
        lo, hi = expected

        def between(f: Mapping[str, Any]) -> Tri:
            a = f.get(fact)
            if a is None:
                return None
            try:
                return bool(lo <= a <= hi)
            except TypeError:
                return None

        return between
    cmp = _CMP[op]

    def compare(f: Mapping[str, Any]) -> Tri:
        a = f.get(fact)
        if a is None:
            return None
        try:
            return cmp(a, expected)
        except TypeError:
            return None

    return compare


def _all_test(tests: tuple[Test, ...]) -> Test:
    def all_(f: Mapping[str, Any]) -> Tri:
        unknown = False
        for t in tests:
            r = t(f)
            if r is False:
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return all_


def _any_test(tests: tuple[Test, ...]) -> Test:
    def any_(f: Mapping[str, Any]) -> Tri:
        unknown = False
        for t in tests:
            r = t(f)
            if r is True:
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return any_


def _not_test(test: Test) -> Test:
    def not_(f: Mapping[str, Any]) -> Tri:
        r = test(f)
        return None if r is None else not r

    return not_


def compile_condition(cond: Any, params: Mapping[str, Any]) -> CNode:
    """Turn a validated condition tree into closures; parameters are resolved here, once."""
    if isinstance(cond, AllOf):
        kids = tuple(compile_condition(c, params) for c in cond.all)
        return CAll(kids, _all_test(tuple(k.test for k in kids)))
    if isinstance(cond, AnyOf):
        kids = tuple(compile_condition(c, params) for c in cond.any)
        return CAny(kids, _any_test(tuple(k.test for k in kids)))
    if isinstance(cond, NotOf):
        kid = compile_condition(cond.not_, params)
        return CNot(kid, _not_test(kid.test))
    assert isinstance(cond, Leaf)
    expected = resolve_operand(cond, params)
    param = cond.param if isinstance(cond.param, str) else ",".join(cond.param) if cond.param else None
    return CLeaf(cond.fact, cond.op, expected, cond.ref, param, _leaf_test(cond.fact, cond.op, expected, cond.ref))


def resolve_operand(leaf: Leaf, params: Mapping[str, Any]) -> Any:
    if leaf.param is not None:
        value: Any = [params[p] for p in leaf.param] if isinstance(leaf.param, list) else params[leaf.param]
    else:
        value = leaf.value
    if isinstance(value, list):
        return [coerce_literal(v, leaf.fact) for v in value]
    return coerce_literal(value, leaf.fact)


# --- explaining one rule: evidence and missing facts ------------------------------------


@dataclass(frozen=True)
class Trace:
    """The result of one node with what decided it (evidence) or would decide it (missing)."""

    result: Tri
    evidence: tuple[Evidence, ...]
    missing: tuple[str, ...]


def _leaf_evidence(node: CLeaf, f: Mapping[str, Any], result: Tri) -> Evidence:
    expected = node.expected if node.ref is None else f.get(node.ref)
    if node.op in ("exists", "missing"):
        expected = None
    shown = node.ref if node.ref is not None else node.param
    return Evidence(node.fact, node.op, expected, f.get(node.fact), result, shown)


def trace(node: CNode, f: Mapping[str, Any]) -> Trace:
    """Evaluate with bookkeeping: which leaves decided a true result, which facts an unknown one lacks."""
    if isinstance(node, CLeaf):
        r = node.test(f)
        missing: tuple[str, ...] = ()
        if r is None:
            missing = tuple(m for p in (node.fact, node.ref) if p is not None and f.get(p) is None for m in factlib.to_collect(p, f))
        return Trace(r, (_leaf_evidence(node, f, r),), missing)
    if isinstance(node, CNot):
        inner = trace(node.child, f)
        return Trace(None if inner.result is None else not inner.result, inner.evidence, inner.missing)
    kids = [trace(c, f) for c in node.children]
    results = [k.result for k in kids]
    if isinstance(node, CAll):
        if False in results:
            decided = [k for k in kids if k.result is False]
            return Trace(False, tuple(e for k in decided for e in k.evidence), ())
        outcome: Tri = None if None in results else True
    else:
        if True in results:
            decided = [k for k in kids if k.result is True]
            return Trace(True, tuple(e for k in decided for e in k.evidence), ())
        outcome = None if None in results else False
    evidence = tuple(e for k in kids if k.result is not None for e in k.evidence)
    missing = tuple(dict.fromkeys(m for k in kids if k.result is None for m in k.missing))
    return Trace(outcome, evidence, missing)


# --- the compiled pack ------------------------------------------------------------------


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    node: CNode
    title: dict[str, tuple[text.Part, ...]]
    explanation: dict[str, tuple[text.Part, ...]]
    remedies: dict[str, dict[str, tuple[tuple[text.Part, ...], ...]]]


def _parts(t: Any) -> dict[str, tuple[text.Part, ...]]:
    return {"en": text.parse(t.en), "zh": text.parse(t.zh)}


class CompiledPack:
    """A pack ready to diagnose: conditions compiled to closures and templates parsed, once."""

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.params: dict[str, Any] = {name: p.value for name, p in pack.parameters.items()}
        self.rules: tuple[CompiledRule, ...] = tuple(self._compile(r) for r in pack.rules)
        self.tests: tuple[tuple[CompiledRule, Test], ...] = tuple((cr, cr.node.test) for cr in self.rules)
        self.ruleset = Ruleset(pack.name, pack.version, pack.digest)
        self.disabled = [Disabled(rid, why) for rid, why in sorted(pack.disabled.items())]

    def _compile(self, rule: Rule) -> CompiledRule:
        remedies = {
            aud: {lang: tuple(text.parse(item.get(lang)) for item in getattr(rule.remedies, aud)) for lang in ("en", "zh")}
            for aud in ("customer", "agent", "institution")
        }
        return CompiledRule(rule, compile_condition(rule.when, self.params), _parts(rule.title), _parts(rule.explanation), remedies)

    @property
    def name(self) -> str:
        return self.pack.name

    def rule(self, rule_id: str) -> CompiledRule:
        for cr in self.rules:
            if cr.rule.id == rule_id:
                return cr
        raise KeyError(rule_id)

    # -- the API scripts use --

    def diagnose(self, snapshot: Snapshot | Mapping[str, Any], *, lang: str = "en", source: str | None = None) -> Report:
        """Diagnose one snapshot (a validated Snapshot or a parsed JSON object)."""
        if not isinstance(snapshot, Snapshot):
            snapshot = validate(snapshot, source=source)
        warnings = []
        extra = unknown_fields(snapshot)
        if extra:
            warnings.append(
                f"ignored unknown fields: {', '.join(extra[:20])}" + (f" (and {len(extra) - 20} more)" if len(extra) > 20 else "")
            )
        return self.diagnose_facts(snapshot, factlib.derive(snapshot), lang=lang, warnings=warnings)

    def diagnose_many(self, snapshots: Iterable[Snapshot | Mapping[str, Any]], *, lang: str = "en") -> Iterator[Report | DiagnoseError]:
        """Reports in input order; an invalid snapshot yields its InvalidInput error instead of stopping."""
        for i, snap in enumerate(snapshots):
            try:
                yield self.diagnose(snap, lang=lang, source=f"record {i + 1}")
            except InvalidInput as exc:
                yield exc

    def evaluate(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri]]:
        """The truth value of every rule on one set of facts (the fast path)."""
        return [(cr, test(f)) for cr, test in self.tests]

    def diagnose_facts(self, snapshot: Snapshot, f: Mapping[str, Any], *, lang: str = "en", warnings: list[str] | None = None) -> Report:
        fired: list[tuple[CompiledRule, Trace]] = []
        undetermined: list[Undetermined] = []
        for cr, test in self.tests:
            r = test(f)
            if r is False:
                continue
            tr = trace(cr.node, f)
            if r is True:
                fired.append((cr, tr))
            else:
                title = text.render(cr.title[lang], f, self.params, lang) or cr.rule.id
                undetermined.append(Undetermined(cr.rule.id, cr.rule.family, title, list(tr.missing)))
        findings = self._findings(fired, f, lang)
        line = snapshot.line
        summary = LineSummary(line.currency or "CNY", line.status, line.total_limit, line.used, line.available, f["line.restore_gap"])
        return Report(
            schema_version="1",
            snapshot=SnapshotRef(snapshot.account.id, snapshot.as_of.isoformat(), snapshot.account.product),
            ruleset=self.ruleset,
            lang=lang,
            verdict=verdict(snapshot, f, bool(findings)),
            line=summary,
            findings=findings,
            undetermined=undetermined,
            warnings=list(warnings or []),
            disabled=list(self.disabled),
        )

    def _findings(self, fired: list[tuple[CompiledRule, Trace]], f: Mapping[str, Any], lang: str) -> list[Finding]:
        cands = [
            ranking.Candidate(
                cr.rule.id, ranking.base_score(cr.rule.severity, cr.rule.weight, tr.evidence), cr.rule.contributing, tuple(cr.rule.explains)
            )
            for cr, tr in fired
        ]
        ordered, explained_by = ranking.rank(cands)
        by_id = {cr.rule.id: (cr, tr) for cr, tr in fired}
        present = set(by_id)
        out = []
        for rank_no, cand in enumerate(ordered, start=1):
            cr, tr = by_id[cand.rule_id]
            rule = cr.rule
            out.append(
                Finding(
                    rank=rank_no,
                    rule_id=rule.id,
                    family=rule.family,
                    severity=rule.severity,
                    score=cand.score,
                    contributing=rule.contributing,
                    title=text.render(cr.title[lang], f, self.params, lang) or rule.id,
                    explanation=text.render(cr.explanation[lang], f, self.params, lang) or "",
                    evidence=list(tr.evidence),
                    remedies=self._remedies(cr, f, lang),
                    explains=sorted(t for t in rule.explains if t in present),
                    explained_by=explained_by.get(rule.id, []),
                )
            )
        return out

    def _remedies(self, cr: CompiledRule, f: Mapping[str, Any], lang: str) -> Remedies:
        def items(aud: str) -> list[str]:
            rendered = (text.render(parts, f, self.params, lang, strict=True) for parts in cr.remedies[aud][lang])
            return [r for r in rendered if r]

        return Remedies(items("customer"), items("agent"), items("institution"))


def verdict(snapshot: Snapshot, f: Mapping[str, Any], has_findings: bool) -> Verdict:
    """REPORT.md: blocked when nothing can be drawn; restricted when less than the terms allow; else healthy.

    A finding on a line that is otherwise unrestricted also makes it `restricted`: the contract
    calls a line healthy only when there is no finding.
    """
    line = snapshot.line
    if line.available <= 0 or (line.status is not None and line.status != "active"):
        return "blocked"
    refused = snapshot.request is not None and snapshot.request.outcome == "refused"
    if f.get("line.restore_gap", 0) > 0 or f.get("line.limit_cut_pct", 0) > 0 or refused or has_findings:
        return "restricted"
    return "healthy"
