"""What would clear a finding: the smallest change to the facts, said plainly, with its time when known."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import EllipsisType
from typing import Any, NamedTuple

from diagnose.engine.conditions import CAll, CLeaf, CNode, CNot, Tri, implied
from diagnose.explain.why import SYMPTOMS, condition
from diagnose.pack import templates as textlib
from diagnose.records import ClearStep
from diagnose.snapshot.derived import DERIVED, FIELD_CLEAR
from diagnose.snapshot.facts import shift
from diagnose.vocab import NEGATE

# --- what would clear a finding ---------------------------------------------------------

_GROWING_DAYS = {
    "credit.days_since_cure",
    "policy.days_since_change",
    "line.temporary_limit.days_since_expiry",
    "line.days_since_last_draw",
}
_DUE = {
    "system.maintenance_active": "system.maintenance_ends_at",
    "system.batch_active": "system.batch_ends_at",
    "repayments.unposted_hours_instant": "repayments.unposted_due_at",
    "repayments.unposted_hours_interbank": "repayments.unposted_due_at",
    "repayments.oldest_unposted_hours": "repayments.unposted_due_at",
}

_TIMED = frozenset({*_DUE, *_GROWING_DAYS, "calendar.days_to_quarter_end"})


def _eta(fact: str, op: str, expected: Any, f: Mapping[str, Any]) -> datetime | date | None:
    """When the condition stops holding by itself, if the snapshot says."""
    if fact not in _TIMED:  # most facts: nothing says when they change
        return None
    if fact in _DUE:
        due = f.get(_DUE[fact])
        return due if isinstance(due, datetime) else None
    today = f.get("calendar.date")
    actual = f.get(fact)
    if not isinstance(today, date) or not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
        return None
    if fact in _GROWING_DAYS and op in ("<=", "<"):
        days = int(expected - actual) + (1 if op == "<=" else 0)
        return shift(today, timedelta(days=max(days, 0)))
    if fact == "calendar.days_to_quarter_end" and op in ("<=", "<"):
        return shift(today, timedelta(days=int(actual) + 1))
    return None


class _Change(NamedTuple):
    """A change of one fact: the comparison it must come to meet, said in words only once it is chosen."""

    fact: str
    op: str
    expected: Any
    label: str | None
    eta: datetime | date | None


def _clear(node: CNode, f: Mapping[str, Any], want: bool, known: Tri | EllipsisType = ...) -> list[_Change] | None:
    """The smallest set of changes that makes ``node`` evaluate to ``want`` (None if the snapshot cannot say); ``known``: its result, if already had."""
    current = node.test(f) if known is ... else known
    if current is want:
        return []
    if isinstance(node, CLeaf):
        expected = f.get(node.ref) if node.ref is not None else node.expected
        op = node.op if want else NEGATE.get(node.op, node.op)
        if node.op == "between" and not want:
            op = "outside"
        shown = expected
        if isinstance(expected, bool) and op == "!=":  # "!= yes" reads better as "== no"
            op, shown = "==", not expected
        eta = _eta(node.fact, node.op, expected, f) if not want else None
        return [tuple.__new__(_Change, (node.fact, op, shown, node.param or node.ref, eta))]  # _Change(...) without its __new__'s frame
    if isinstance(node, CNot):
        return _clear(node.child, f, not want, implied(node, current))
    kids = node.children
    need_every = isinstance(node, CAll) == want  # all->true and any->false need every child changed
    each = implied(node, current)
    options = [_clear(k, f, want, each) for k in kids]
    if need_every:
        steps: list[_Change] = []
        for opt in options:
            if opt is None:
                return None
            steps += opt
        return steps
    viable = [o for o in options if o]
    if len(viable) < 2:
        return viable[0] if viable else None
    return min(viable, key=_cost)


def _cost(steps: list[_Change]) -> tuple[int, int, int]:
    symptom = no_eta = 0
    for step in steps:
        symptom += step.fact in SYMPTOMS
        no_eta += step.eta is None
    return (symptom, no_eta, len(steps))


def clears_when(
    node: CNode, f: Mapping[str, Any], lang: str, words: Mapping[str, tuple[str, str]] | None = None, known: Tri | EllipsisType = ...
) -> list[ClearStep]:
    """What would clear a finding: the fewest fact changes, preferring causes with a known time (``known``: the rule's result, if already had)."""
    out = []
    for step in _clear(node, f, False, known) or ():
        needed = condition(step.op, step.expected, step.fact, lang, step.label)
        out.append(ClearStep(step.fact, needed, _iso(step.eta), plain_step(step, needed, f, lang, words)))
    return out


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


_WORDS: dict[str, tuple[str, str]] = {**FIELD_CLEAR, **{d.path: d.clear for d in DERIVED if d.clear is not None}}
"""How each built-in fact's clearing change is said (snapshot/derived.py declares them); a pack's clear_steps come first."""


def plain_step(step: _Change, needed: str, f: Mapping[str, Any], lang: str, words: Mapping[str, tuple[str, str]] | None = None) -> str:
    """One change said plainly (in the pack's words for the fact, else the built-in ones), with its time when the snapshot gives one."""
    zh = lang == "zh"
    phrase = (words or {}).get(step.fact) or _WORDS.get(step.fact)
    said = textlib.fill(textlib.plan(phrase[1] if zh else phrase[0]), f, {}, lang, strict=True) if phrase else None
    if said is None:
        said = f"{step.fact} {needed}"
    if step.eta is not None:
        as_of = f.get("as_of")
        if isinstance(step.eta, datetime) and isinstance(as_of, datetime):
            when = textlib.relative_time(step.eta, as_of, lang)
            passed = step.eta < as_of
        else:
            when = step.eta.strftime("%Y-%m-%d %H:%M") if isinstance(step.eta, datetime) else step.eta.isoformat()
            passed = isinstance(as_of, datetime) and not isinstance(step.eta, datetime) and step.eta < as_of.date()
        # a time already gone at as_of is overdue, never a promise
        if passed:
            said += (
                f"{textlib.closer('（本应在 ', when)}{when} 前完成，我们正在加急跟进）"
                if zh
                else f" (it was due by {when}; we are escalating it)"
            )
        else:
            said += f"{textlib.closer('（预计 ', when)}{when}）" if zh else f" (expected by {when})"
    return said
