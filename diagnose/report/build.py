"""The one step that assembles a report: evaluate the rules, rank what fired, word it, explain it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnose.engine import ranking
from diagnose.engine.compiled import CompiledRule, CompiledRules, RuleSpec
from diagnose.engine.conditions import Trace, trace
from diagnose.explain import audience as audiences
from diagnose.explain import clearing, why
from diagnose.explain.timeline import timeline as timeline_of
from diagnose.pack import templates as text
from diagnose.records import Finding, LineSummary, Remedies, Report, SnapshotRef, Undetermined
from diagnose.report.segments import segment_fields
from diagnose.report.segments import values as segment_values
from diagnose.vocab import AUDIENCES, Verdict

_RemedyTemplates = tuple[tuple["str | tuple[text.Part, ...]", ...], ...]


class ReportBuilder:
    """Turns one snapshot's facts into a Report with a pack's rules; keeps the remedy templates it parses."""

    def __init__(self, rules: CompiledRules) -> None:
        self.rules = rules
        self._remedy_templates: dict[tuple[str, str], _RemedyTemplates] = {}
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
    ) -> Report:
        """The report of one validated snapshot and its facts (`facts.derive`); ``echo``: more fact paths for its segments."""
        pack = self.rules
        params = pack.params
        fired: list[tuple[CompiledRule, Trace]] = []
        undetermined: list[Undetermined] = []
        misses: list[tuple[str, str, Any]] = []
        for cr, test in pack.tests:
            r = test(f)
            if r is False:
                if explain:
                    misses.append((cr.rule.id, cr.render("title", f, params, lang) or cr.rule.id, why.why(cr.node, f)))
                continue
            tr = trace(cr.node, f)
            if r is True:
                fired.append((cr, tr))
            else:
                title = cr.render("title", f, params, lang) or cr.rule.id
                unmet = why.would_fire_if(why.why(cr.node, f), lang) if explain else []
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
            ruleset=pack.ruleset,
            lang=lang,
            verdict=verdict(snapshot, f, bool(findings)),
            line=summary,
            findings=findings,
            undetermined=undetermined,
            warnings=list(warnings or []),
            disabled=list(pack.disabled),
            near_misses=why.near_misses(misses, lang) if explain else [],
            timeline=timeline_of(snapshot, lang) if timeline else [],
            segments=segment_values(snapshot, f, self.segments + tuple((p, p) for p in echo) if echo else self.segments),
        )
        return audiences.for_audience(report, audience, f) if audience != "all" else report

    def _findings(self, fired: list[tuple[CompiledRule, Trace]], f: Mapping[str, Any], lang: str) -> list[Finding]:
        params = self.rules.params
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
                    remedies=self._remedies(cr, f, lang),
                    explains=sorted(t for t in rule.explains if t in present),
                    explained_by=explained_by.get(rule.id, []),
                    clears_when=clearing.clears_when(cr.node, f, lang, self.rules.clear_steps),
                )
            )
        return out

    def _remedies(self, cr: CompiledRule, f: Mapping[str, Any], lang: str) -> Remedies:
        templates = self._remedy_templates.get((cr.rule.id, lang)) or self._parse_remedies(cr.rule, lang)
        params, render = self.rules.params, text.render
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

        templates = tuple(tuple(t for item in rule.remedies[aud] for t in prepared(item.get(lang))) for aud in AUDIENCES)
        self._remedy_templates[(rule.id, lang)] = templates
        return templates


VERDICT_FACTS = ("line.available", "line.status", "line.restore_gap", "line.limit_cut_pct", "request.outcome")
"""The facts `verdict` reads besides the findings: a diff names those that changed when the verdict did."""


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
