"""The engine: rules compiled once into closures, evaluated in three-valued logic, turned into reports."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from diagnose.engine import ranking
from diagnose.errors import DiagnoseError, InvalidInput
from diagnose.pack import templates as text
from diagnose.report.model import Disabled, Evidence, Finding, LineSummary, Remedies, Report, Ruleset, SnapshotRef, Undetermined, Verdict
from diagnose.snapshot import facts as factlib
from diagnose.snapshot.contract import checked

if TYPE_CHECKING:
    from diagnose.pack.loader import Pack

Tri = bool | None
Test = Callable[[Mapping[str, Any]], Tri]
_AUDIENCES = ("customer", "agent", "institution")
_RemedyTemplates = tuple[tuple["str | tuple[text.Part, ...]", ...], ...]

_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

# --- compiled condition nodes -----------------------------------------------------------


class CLeaf(NamedTuple):
    fact: str
    op: str
    expected: Any
    ref: str | None
    param: str | None
    test: Test


class CAll(NamedTuple):
    children: tuple[CNode, ...]
    test: Test


class CAny(NamedTuple):
    children: tuple[CNode, ...]
    test: Test


class CNot(NamedTuple):
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


def _junction(kids: tuple[CNode, ...], decisive: bool) -> Test:
    """`all` (decided by a false child) or `any` (by a true one) in Kleene logic: an unknown child
    makes the result unknown unless another child decides it.

    One child is its own result. Children that are all plain comparisons (no `ref`, `in`, `between`,
    `exists`) are tested in one loop over (fact, operator, expected), which gives exactly what their
    leaf closures give without a call for each: most rules are such.
    """
    if len(kids) == 1:
        return kids[0].test
    undecided = not decisive
    if all(isinstance(k, CLeaf) and k.ref is None and k.op in _CMP for k in kids):
        plain = tuple((k.fact, _CMP[k.op], k.expected) for k in kids if isinstance(k, CLeaf))

        def comparisons(f: Mapping[str, Any]) -> Tri:
            unknown = False
            for fact, cmp, expected in plain:
                a = f.get(fact)
                if a is None:
                    unknown = True
                    continue
                try:
                    if cmp(a, expected) is decisive:
                        return decisive
                except TypeError:
                    unknown = True
            return None if unknown else undecided

        return comparisons
    tests = tuple(k.test for k in kids)

    def junction(f: Mapping[str, Any]) -> Tri:
        unknown = False
        for t in tests:
            r = t(f)
            if r is decisive:
                return decisive
            if r is None:
                unknown = True
        return None if unknown else undecided

    return junction


def _not_test(test: Test) -> Test:
    def not_(f: Mapping[str, Any]) -> Tri:
        r = test(f)
        return None if r is None else not r

    return not_


def compile_condition(cond: Mapping[str, Any], params: Mapping[str, Any]) -> CNode:
    """Turn a validated condition tree (plain data) into closures; parameters are resolved here, once."""
    if "all" in cond:
        kids = tuple(compile_condition(c, params) for c in cond["all"])
        return CAll(kids, _junction(kids, False))
    if "any" in cond:
        kids = tuple(compile_condition(c, params) for c in cond["any"])
        return CAny(kids, _junction(kids, True))
    if "not" in cond:
        kid = compile_condition(cond["not"], params)
        return CNot(kid, _not_test(kid.test))
    fact, op, ref, param = cond["fact"], cond["op"], cond.get("ref"), cond.get("param")
    expected = resolve_operand(cond, params)
    shown = param if isinstance(param, str) else ",".join(param) if param else None
    return CLeaf(fact, op, expected, ref, shown, _leaf_test(fact, op, expected, ref))


def resolve_operand(leaf: Mapping[str, Any], params: Mapping[str, Any]) -> Any:
    param = leaf.get("param")
    if param is not None:
        value: Any = [params[p] for p in param] if isinstance(param, list) else params[param]
    else:
        value = leaf.get("value")
    if isinstance(value, list):
        return [coerce_literal(v, leaf["fact"]) for v in value]
    return coerce_literal(value, leaf["fact"])


# --- explaining one rule: evidence and missing facts ------------------------------------


class Trace(NamedTuple):
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
    deciding = isinstance(node, CAny)  # one false child decides an `all`, one true child an `any`
    decided = [k for k in kids if k.result is deciding]
    if decided:
        return Trace(deciding, tuple(e for k in decided for e in k.evidence), ())
    unknown = [k for k in kids if k.result is None]
    if unknown:
        evidence = tuple(e for k in kids if k.result is not None for e in k.evidence)
        return Trace(None, evidence, tuple(dict.fromkeys(m for k in unknown for m in k.missing)))
    return Trace(not deciding, tuple(e for k in kids for e in k.evidence), ())


# --- the compiled pack ------------------------------------------------------------------


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
            remedies={aud: tuple(LangText(**t) for t in d["remedies"][aud]) for aud in _AUDIENCES},
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


class CompiledPack:
    """A pack ready to diagnose: conditions compiled to closures and templates parsed, once.

    Built from the pack's plain data (`Pack.to_data()`, or the pack cache), so that diagnosing
    needs neither YAML nor pydantic models. `source` is the full Pack when it was loaded here.
    """

    def __init__(self, data: Mapping[str, Any], source: Pack | None = None) -> None:
        self.data = data
        self.source = source
        self.params: dict[str, Any] = dict(data["parameters"])
        self.rules: tuple[CompiledRule, ...] = tuple(self._compile(RuleSpec.from_data(r)) for r in data["rules"])
        self.tests: tuple[tuple[CompiledRule, Test], ...] = tuple((cr, cr.node.test) for cr in self.rules)
        self.ruleset = Ruleset(data["name"], data["version"], data["digest"])
        self.disabled = [Disabled(rid, why) for rid, why in sorted(data.get("disabled", {}).items())]
        self._remedy_templates: dict[tuple[str, str], _RemedyTemplates] = {}

    @classmethod
    def from_pack(cls, pack: Pack) -> CompiledPack:
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

    # -- the API scripts use --

    def diagnose(
        self,
        snapshot: Mapping[str, Any],
        *,
        lang: str = "en",
        source: str | None = None,
        explain: bool = False,
        timeline: bool = False,
        audience: str = "all",
        parsed: bool = False,
    ) -> Report:
        """Diagnose one snapshot: a parsed JSON object (or a `snapshot.Snapshot` model).

        ``parsed=True`` says the data came from `inputs.parse`, which has checked its shape (nesting,
        sizes, whole numbers, valid Unicode); other data is checked here.

        ``explain`` adds near misses and, for undetermined rules, the values that would decide
        them; ``timeline`` adds the snapshot's dated events; ``audience`` (customer, agent,
        institution, all) keeps only what that reader may see.
        """
        if hasattr(snapshot, "model_dump"):
            snapshot = snapshot.model_dump(mode="json", exclude_unset=True)
        if not parsed:
            from diagnose.snapshot.reader import check_shape

            check_shape(snapshot, source or "snapshot")
        data, extra = checked(snapshot, source=source)
        warnings = []
        if extra:
            shown = ", ".join(extra[:20]) + (f" (and {len(extra) - 20} more)" if len(extra) > 20 else "")
            warnings.append(f"ignored unknown fields: {shown}")
        return self.diagnose_facts(
            data, factlib.derive(data), lang=lang, warnings=warnings, explain=explain, timeline=timeline, audience=audience
        )

    def diagnose_many(self, snapshots: Iterable[Mapping[str, Any]], *, lang: str = "en") -> Iterator[Report | DiagnoseError]:
        """Reports in input order; an invalid snapshot yields its InvalidInput error instead of stopping."""
        for i, snap in enumerate(snapshots):
            try:
                yield self.diagnose(snap, lang=lang, source=f"record {i + 1}")
            except InvalidInput as exc:
                yield exc

    def evaluate(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri]]:
        """The truth value of every rule on one set of facts (the fast path)."""
        return [(cr, test(f)) for cr, test in self.tests]

    def diagnose_facts(
        self,
        snapshot: Mapping[str, Any],
        f: Mapping[str, Any],
        *,
        lang: str = "en",
        warnings: list[str] | None = None,
        explain: bool = False,
        timeline: bool = False,
        audience: str = "all",
    ) -> Report:
        ex = _explain()
        fired: list[tuple[CompiledRule, Trace]] = []
        undetermined: list[Undetermined] = []
        misses: list[tuple[str, str, Any]] = []
        for cr, test in self.tests:
            r = test(f)
            if r is False:
                if explain:
                    misses.append((cr.rule.id, cr.render("title", f, self.params, lang) or cr.rule.id, ex.why(cr.node, f)))
                continue
            tr = trace(cr.node, f)
            if r is True:
                fired.append((cr, tr))
            else:
                title = cr.render("title", f, self.params, lang) or cr.rule.id
                unmet = ex.would_fire_if(ex.why(cr.node, f), lang) if explain else []
                undetermined.append(Undetermined(cr.rule.id, cr.rule.family, title, list(tr.missing), unmet))
        findings = self._findings(fired, f, lang)
        line = snapshot["line"]
        summary = LineSummary(
            line.get("currency") or "CNY", line.get("status"), line["total_limit"], line["used"], line["available"], f["line.restore_gap"]
        )
        account = snapshot["account"]
        report = Report(
            schema_version="1",
            snapshot=SnapshotRef(account["id"], snapshot["as_of"].isoformat(), account["product"]),
            ruleset=self.ruleset,
            lang=lang,
            verdict=verdict(snapshot, f, bool(findings)),
            line=summary,
            findings=findings,
            undetermined=undetermined,
            warnings=list(warnings or []),
            disabled=list(self.disabled),
            near_misses=ex.near_misses(misses, lang) if explain else [],
            timeline=ex.timeline(snapshot, lang) if timeline else [],
        )
        return ex.for_audience(report, audience, f) if audience != "all" else report

    def _findings(self, fired: list[tuple[CompiledRule, Trace]], f: Mapping[str, Any], lang: str) -> list[Finding]:
        clears_when = _explain().clears_when

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
                    title=cr.render("title", f, self.params, lang) or rule.id,
                    explanation=cr.render("explanation", f, self.params, lang),
                    evidence=list(tr.evidence),
                    remedies=self._remedies(cr, f, lang),
                    explains=sorted(t for t in rule.explains if t in present),
                    explained_by=explained_by.get(rule.id, []),
                    clears_when=clears_when(cr.node, f, lang),
                )
            )
        return out

    def _remedies(self, cr: CompiledRule, f: Mapping[str, Any], lang: str) -> Remedies:
        templates = self._remedy_templates.get((cr.rule.id, lang)) or self._parse_remedies(cr.rule, lang)
        params, render = self.params, text.render
        groups: list[list[str]] = []
        for group in templates:
            said: list[str] = []
            for template in group:
                if isinstance(template, str):
                    said.append(template)
                else:
                    filled = render(template, f, params, lang, strict=True)
                    if filled:
                        said.append(filled)
            groups.append(said)
        return Remedies(*groups)

    def _parse_remedies(self, rule: RuleSpec, lang: str) -> _RemedyTemplates:
        """Per audience, each remedy as its text when it has no fields (an empty one dropped), else its parsed template."""

        def prepared(template: str) -> tuple[str | tuple[text.Part, ...], ...]:
            parts = text.parse(template)
            if not parts:
                return ()
            return (parts[0],) if len(parts) == 1 and type(parts[0]) is str else (parts,)

        templates = tuple(tuple(t for item in rule.remedies[aud] for t in prepared(item.get(lang))) for aud in _AUDIENCES)
        self._remedy_templates[(rule.id, lang)] = templates
        return templates


def verdict(snapshot: Mapping[str, Any], f: Mapping[str, Any], has_findings: bool) -> Verdict:
    """REPORT.md: blocked when nothing can be drawn; restricted when less than the terms allow; else healthy.

    A finding on a line that is otherwise unrestricted also makes it `restricted`: the contract
    calls a line healthy only when there is no finding.
    """
    line = snapshot["line"]
    status = line.get("status")
    if line["available"] <= 0 or (status is not None and status != "active"):
        return "blocked"
    refused = (snapshot.get("request") or {}).get("outcome") == "refused"
    if f.get("line.restore_gap", 0) > 0 or f.get("line.limit_cut_pct", 0) > 0 or refused or has_findings:
        return "restricted"
    return "healthy"


@lru_cache(maxsize=1)
def _explain() -> Any:
    """The explain module (it builds on this one, so it is imported on first use, once)."""
    from diagnose.explain import why as explain

    return explain
