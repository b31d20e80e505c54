"""A report as one reader may see it: customer, agent or institution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# --- audiences --------------------------------------------------------------------------


def _internal_terms(f: Mapping[str, Any]) -> list[str]:
    """Names a customer must not read: the funder's id and the lender's incident ids."""
    terms = [f.get("funding.funder"), f.get("funding.funder_pause_reason")]
    terms += [i.get("id") for i in f.get("system.incidents") or [] if isinstance(i, dict)]
    return sorted({t for t in terms if isinstance(t, str) and len(t) >= 3}, key=len, reverse=True)


def _scrub(text: str, terms: list[str], lang: str) -> str:
    for term in terms:
        text = text.replace(term, "资金方" if lang == "zh" else "our partner")
    return text


def for_audience(report: Any, audience: str, f: Mapping[str, Any]) -> Any:
    """The report as one reader may see it.

    customer: explanations and the customer's remedies only, no evidence, no undecided rules,
    internal names replaced; agent: everything but the institution's remedies; institution:
    evidence and the institution's remedies.
    """
    from dataclasses import replace

    from diagnose.records import Remedies

    if audience == "all":
        return report
    lang = report.lang
    terms = _internal_terms(f) if audience == "customer" else []
    findings = []
    for finding in report.findings:
        rem = finding.remedies
        if audience == "customer":
            customer_safe = True
            remedies = Remedies([_scrub(t, terms, lang) for t in rem.customer], [], [])
            said = [replace(c, text=_scrub(c.text, terms, lang)) for c in finding.clears_when if c.fact not in c.text]
            finding = replace(
                finding,
                title=_scrub(finding.title, terms, lang),
                explanation=_scrub(finding.explanation, terms, lang) if customer_safe else "",
                evidence=[],
                remedies=remedies,
                clears_when=said,
            )
        elif audience == "agent":
            finding = replace(finding, remedies=Remedies(rem.customer, rem.agent, []))
        else:
            finding = replace(finding, remedies=Remedies([], [], rem.institution))
        findings.append(finding)
    if audience == "customer":
        # segments name the funder and the risk tier: internal, not for the customer
        return replace(report, findings=findings, undetermined=[], near_misses=[], warnings=[], audience=audience, segments={})
    return replace(report, findings=findings, audience=audience)
