"""Ranking: one explicit, deterministic score per finding, and the order findings are shown in.

    score = 100 x severity x weight x (0.7 + 0.3 x strength)

severity is critical 1.0, high 0.8, medium 0.6, low 0.4, info 0.2; weight is the rule's (0..1);
strength (0..1) is how far the numeric evidence lies past its thresholds: for each decided
comparison `<`, `<=`, `>`, `>=`, the gap |actual - threshold| over the room the fact has on that
side (up to its maximum for `>`, down to its minimum for `<`, for ratios and percentages;
otherwise max(|threshold|, 1)), capped at 1 and averaged; 1 when the evidence has no numeric
comparison. A finding explained by another finding
(root cause over symptom) is capped just below its explainer. The order is then: primary causes
before contributing ones, higher score first, rule id as the last tie-breaker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.records import Evidence
from diagnose.snapshot.facts import catalog
from diagnose.vocab import SEVERITIES

SEVERITY: dict[str, float] = dict(zip(SEVERITIES, (1.0, 0.8, 0.6, 0.4, 0.2), strict=True))
SEVERITY_ORDER = SEVERITIES


def strength(evidence: Iterable[Evidence]) -> float:
    margins: list[float] = []
    specs = catalog()
    for ev in evidence:
        if ev.result is not True or ev.op not in _ORDERED:
            continue
        a, t = ev.actual, ev.expected
        if (type(a) not in _NUMBERS or type(t) not in _NUMBERS) and not (_number(a) and _number(t)):  # the type alone, mostly
            continue
        above = ev.op in (">", ">=")
        gap = (a - t) if above else (t - a)
        spec = specs.get(ev.fact)
        bounded = spec is not None and spec.unit in ("ratio", "pct")
        bound = (spec.maximum if above else spec.minimum) if bounded and spec is not None else None
        room = abs(bound - t) if bound is not None and bound != t else max(abs(t), 1.0)
        margins.append(min(1.0, max(0.0, gap / room)))
    return sum(margins) / len(margins) if margins else 1.0


_ORDERED = frozenset({"<", "<=", ">", ">="})
_NUMBERS = frozenset({int, float})


def _number(value: Any) -> bool:
    """A number that a margin is measured on: an int or a float, never a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def score(severity: str, weight: float, strength_: float) -> float:
    """The score before `explains` caps, from a strength already measured (calibration tries many weights on one)."""
    return 100.0 * SEVERITY[severity] * weight * (0.7 + 0.3 * strength_)


def base_score(severity: str, weight: float, evidence: Sequence[Evidence]) -> float:
    return score(severity, weight, strength(evidence))


@dataclass
class Candidate:
    """A rule that fired, as the ranking sees it: its score, whether it only contributes, the rules it explains."""

    rule_id: str
    score: float
    contributing: bool
    explains: tuple[str, ...]


def rank(candidates: list[Candidate]) -> tuple[list[Candidate], dict[str, list[str]]]:
    """Apply `explains` caps, then sort. Returns the order and, per finding, who explains it."""
    if len(candidates) == 1 and candidates[0].rule_id not in candidates[0].explains:  # most reports: one finding, nothing to cap
        only = candidates[0]
        only.score = round(only.score, 2)
        return [only], {only.rule_id: []}
    by_id = {c.rule_id: c for c in candidates}
    explained_by: dict[str, list[str]] = {c.rule_id: [] for c in candidates}
    for c in candidates:
        for target in c.explains:
            if target in by_id:
                explained_by[target].append(c.rule_id)
    # Cap symptoms below their causes, roots first; the pack has no cycles (the loader checks).
    done: set[str] = set()

    def settle(rid: str, seen: frozenset[str]) -> float:
        if rid in done or rid in seen:
            return by_id[rid].score
        cand = by_id[rid]
        for parent in explained_by[rid]:
            cap = settle(parent, seen | {rid}) - 0.01
            cand.score = min(cand.score, max(cap, 0.0))
        done.add(rid)
        return cand.score

    if any(explained_by.values()):
        for rid in sorted(by_id):
            settle(rid, frozenset())
    for c in candidates:
        c.score = round(c.score, 2)
    ordered = sorted(candidates, key=lambda c: (c.contributing, -c.score, c.rule_id))
    return ordered, {k: sorted(v) for k, v in explained_by.items()}
