"""The one step that assembles a report: evaluate the rules, rank what fired, word it, explain it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from diagnose._version import __version__
from diagnose.engine import ranking
from diagnose.engine.codegen import NotApplicable
from diagnose.engine.compiled import CompiledRule, CompiledRules, RuleSpec
from diagnose.engine.conditions import CNode, Trace, trace
from diagnose.explain import audience as audiences
from diagnose.explain import clearing, why
from diagnose.explain.timeline import timeline as timeline_of
from diagnose.explain.unexplained import unexplained as unexplained_of
from diagnose.pack import templates as text
from diagnose.records import Coverage, Decision, Finding, LineSummary, Question, Remedies, Report, SnapshotRef, Undetermined
from diagnose.report.segments import segment_fields
from diagnose.report.segments import values as segment_values
from diagnose.snapshot import canonical
from diagnose.snapshot.facts import fields
from diagnose.vocab import AUDIENCES, Verdict

_RemedyTemplates = tuple[tuple["str | text.Plan", ...], ...]


class ReportBuilder:
    """Turns one snapshot's facts into a Report with a pack's rules; keeps the remedy templates it parses."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self._remedy_templates: dict[tuple[str, Any, str], _RemedyTemplates] = {}
        self._close: dict[int, tuple[CompiledRules, tuple[bool, ...]]] = {}
        """Which rules of each era of the pack can ever be near misses, by the era's id(); the era is kept beside it, so that the id is not reused."""
        self.segments = segment_fields(rules.data.get("sensitive") or (), rules.data.get("segments") or ())
        """The segments each report echoes (name, fact path): see diagnose/report/segments.py."""

    def build(
        self,
        snapshot: Mapping[str, Any],
        f: Mapping[str, Any],
        *,
        lang: str = "en",
        warnings: list[str] | None = None,
        explain: bool = False,
        timeline: bool = False,
        audience: str = "all",
        echo: tuple[str, ...] = (),
        input_digest: str | None = None,
    ) -> Report:
        """The report of one validated snapshot and its facts (`facts.derive`), by the rules in force on as_of's date.

        ``echo``: more fact paths for its segments; ``input_digest``: the snapshot's `canonical.digest`, when the caller has it already.
        """
        pack = self.rules.at(f["calendar.date"])
        params = pack.params
        fired: list[tuple[CompiledRule, Trace]] = []
        undetermined: list[Undetermined] = []
        misses: list[tuple[str, Callable[[], str], CNode]] = []
        not_applicable: list[str] = []
        outcomes = pack.outcomes(f)
        for cr, r in outcomes:
            if r is False:
                continue
            if isinstance(r, NotApplicable):
                not_applicable.append(cr.rule.id)
                continue
            tr = trace(cr.node, f, r)  # the leaves its result implies are not evaluated again
            if r is True:
                fired.append((cr, tr))
            else:
                title = cr.render("title", f, params, lang) or cr.rule.id
                unmet = why.would_fire_if(why.why(cr.node, f, None), lang) if explain else []
                u = Undetermined(cr.rule.id, cr.rule.family, title, list(tr.missing), unmet)
                if any(e.result is True and e.op not in ("exists", "missing") for e in tr.evidence):  # absence alone is no sign
                    u.status = "open"
                    u.impact = ranking.base_score(cr.rule.severity, cr.rule.weight, ())
                undetermined.append(u)
        plain = verdict(snapshot, f, False)  # the verdict without causes; a cause turns healthy into restricted
        findings = self._findings(fired, f, lang, line_fine=bool(fired) and plain == "healthy", params=params)
        undetermined, questions = rank_undetermined(undetermined)
        applicable = len(pack.tests) - len(not_applicable)
        decided = applicable - len(undetermined)
        opened = sum(1 for u in undetermined if u.status == "open")
        coverage = Coverage(
            applicable, decided, len(fired), opened, len(undetermined) - opened, len(not_applicable), decided < LOW_COVERAGE * applicable
        )
        line = snapshot["line"]
        summary = LineSummary(
            line.get("currency") or "CNY", line.get("status"), line["total_limit"], line["used"], line["available"], f["line.restore_gap"]
        )
        account = snapshot["account"]
        said: Verdict = "restricted" if plain == "healthy" and any(not x.explanatory for x in findings) else plain
        lost = said != "healthy" and not findings
        if explain or lost:  # the near misses are worked out only when someone reads them
            misses = [
                (cr.rule.id, partial(cr.render, "title", f, params, lang), cr.node)
                for (cr, r), close in zip(outcomes, self._may_come_close(pack), strict=True)
                if close and r is False
            ]
        report = Report(
            schema_version="1",
            snapshot=SnapshotRef(account["id"], snapshot["as_of"].isoformat(), account["product"]),
            ruleset=pack.ruleset,
            lang=lang,
            verdict=said,
            line=summary,
            findings=findings,
            undetermined=undetermined,
            warnings=list(warnings or []),
            not_applicable=not_applicable,
            coverage=coverage,
            questions=questions,
            decision=Decision(
                __version__, pack.ruleset.digest, input_digest or canonical.digest(snapshot), lang, audience, explain, timeline
            ),
            unexplained=unexplained_of(said, why.closest(misses, f, lang, 0.99, limit=3), undetermined, lang, f) if lost else None,
            disabled=list(pack.disabled),
            near_misses=why.closest(misses, f, lang) if explain else [],
            timeline=timeline_of(snapshot, lang) if timeline else [],
            segments=segment_values(snapshot, f, self.segments + tuple((p, p) for p in echo) if echo else self.segments),
        )
        return audiences.for_audience(report, audience, f) if audience != "all" else report

    def _may_come_close(self, pack: CompiledRules) -> tuple[bool, ...]:
        """`why.may_come_close` of each rule's condition, in the pack's order: worked out once for each era of the pack."""
        known = self._close.get(id(pack))
        if known is None or known[0] is not pack:
            known = self._close[id(pack)] = (pack, tuple(why.may_come_close(cr.node) for cr in pack.rules))
        return known[1]

    def _findings(
        self, fired: list[tuple[CompiledRule, Trace]], f: Mapping[str, Any], lang: str, *, line_fine: bool, params: Mapping[str, Any]
    ) -> list[Finding]:
        """The fired rules ranked and worded; on a line that is otherwise fine an explanatory rule is an explanation."""
        if not fired:  # a third of a portfolio's reports: nothing to rank
            return []
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
                    title=cr.render("title", f, params, lang) or rule.id,
                    explanation=cr.render("explanation", f, params, lang),
                    evidence=list(tr.evidence),
                    remedies=self._remedies(cr, f, lang, params),
                    explains=sorted(t for t in rule.explains if t in present),
                    explained_by=explained_by.get(rule.id, []),
                    clears_when=clearing.clears_when(cr.node, f, lang, self.rules.clear_steps, True),
                    explanatory=line_fine and rule.explanatory,
                )
            )
        return out

    def _remedies(self, cr: CompiledRule, f: Mapping[str, Any], lang: str, params: Mapping[str, Any]) -> Remedies:
        templates = self._remedy_templates.get((cr.rule.id, cr.rule.in_force, lang)) or self._parse_remedies(cr.rule, lang)
        fill = text.fill
        groups: list[list[str]] = []
        for group in templates:
            said: list[str] = []
            for template in group:
                if isinstance(template, str):
                    said.append(template)
                else:
                    filled = fill(template, f, params, lang, strict=True)
                    if filled:
                        said.append(filled)
            groups.append(said)
        return Remedies(*groups)

    def _parse_remedies(self, rule: RuleSpec, lang: str) -> _RemedyTemplates:
        """Per audience, each remedy as its text when it has no fields (an empty one dropped), else its template's plan."""

        def prepared(template: str) -> tuple[str | text.Plan, ...]:
            plan = text.plan(template)
            if not plan:
                return ()
            return (plan[0],) if len(plan) == 1 and type(plan[0]) is str else (plan,)

        templates = tuple(tuple(t for item in rule.remedies[aud] for t in prepared(item.get(lang))) for aud in AUDIENCES)
        self._remedy_templates[(rule.id, rule.in_force, lang)] = templates
        return templates


LOW_COVERAGE = 0.5
"""A report that decided fewer than this share of the rules that apply says its verdict rests on little data."""


def rank_undetermined(undetermined: list[Undetermined]) -> tuple[list[Undetermined], list[Question]]:
    """Open rules first, by how much their most telling missing fact would change the diagnosis; then the rest.

    A missing fact weighs the sum of the scores (severity x weight) of the open rules it would
    decide: asking for it settles the most. Each open rule's `impact` is its heaviest missing
    fact's weight; the rules not assessed keep the pack's order.
    """
    if not undetermined:  # most reports: every rule decided
        return [], []
    weight: dict[str, float] = {}
    rules: dict[str, list[str]] = {}
    for u in undetermined:
        if u.status == "open":
            for m in u.missing:
                weight[m] = weight.get(m, 0.0) + u.impact
                rules.setdefault(m, []).append(u.rule_id)
    opened = [u for u in undetermined if u.status == "open"]
    for u in opened:
        u.impact = round(max((weight[m] for m in u.missing), default=u.impact), 2)
    opened.sort(key=lambda u: (-u.impact, u.rule_id))
    questions = [Question(m, round(w, 2), sorted(rules[m])) for m, w in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))]
    return opened + [u for u in undetermined if u.status != "open"], questions


VERDICT_FACTS = ("line.available", "line.status", "line.restore_gap", "line.limit_cut_pct", "request.outcome")
"""The facts `verdict` reads besides the findings: a diff names those that changed when the verdict did."""


def verdict(snapshot: Mapping[str, Any], f: Mapping[str, Any], has_causes: bool) -> Verdict:
    """docs/report.md: blocked when nothing can be drawn; restricted when less than the terms allow; else healthy.

    A cause on a line that is otherwise unrestricted also makes it `restricted`: the contract calls
    a line healthy only when no finding other than an explanation holds (`has_causes` counts the
    findings of rules that are not `explanatory`).
    """
    line = snapshot["line"]
    status = line.get("status")
    if line["available"] <= 0 or (status is not None and status != "active"):
        return "blocked"
    refused = fields(snapshot.get("request")).get("outcome") == "refused"
    if f.get("line.restore_gap", 0) > 0 or f.get("line.limit_cut_pct", 0) > 0 or refused or has_causes:
        return "restricted"
    return "healthy"
