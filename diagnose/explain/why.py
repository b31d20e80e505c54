"""Why a rule did or did not fire: the tree of one rule with each condition's result, near misses, what would decide it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import lru_cache
from types import EllipsisType
from typing import Any, NamedTuple

from diagnose.engine.conditions import CAll, CLeaf, CNode, CNot, Tri, implied
from diagnose.pack import templates as textlib
from diagnose.records import NearMiss, Unmet
from diagnose.snapshot.facts import catalog
from diagnose.vocab import bracket

SYMPTOMS = {"line.limit_short", "line.restore_gap", "line.available", "request.outcome", "repayments.count"}
"""Facts that show the limit is short rather than why: clearing a cause never means hiding these."""


def show(value: Any, fact: str | None, lang: str) -> str:
    spec = catalog().get(fact) if fact else None
    if isinstance(value, list):
        return ", ".join(textlib.format_value(v, None, spec, lang) for v in value)
    if value is None:
        return textlib.UNKNOWN[lang if lang in textlib.UNKNOWN else "en"]
    return textlib.format_value(value, None, spec, lang)


_SAY = {
    "en": {
        "exists": "known", "missing": "unknown", "between": "between {lo} and {hi}", "outside": "outside {lo} to {hi}",
        "and": " and ", "held": "{held} of {total} conditions hold; fails on ", "none": "none of {total} alternatives holds; closest: ",
        "miss": "{fact}: needed {needed}, found {found}", "compare": "known, to compare with {fact}",
        "intersects": "one of {values}", "none of": "none of {values}",
    },
    "zh": {
        "exists": "已知", "missing": "未知", "between": "介于 {lo} 与 {hi} 之间", "outside": "不在 {lo} 至 {hi} 之间",
        "and": " 且 ", "held": "{total} 个条件中 {held} 个成立；未满足：", "none": "{total} 个备选条件均不成立；最接近的是：",
        "miss": "{fact}：需要 {needed}，实际 {found}", "compare": "已知，用于与 {fact} 比较",
        "intersects": "包含 {values} 之一", "none of": "不含 {values} 中任何一项",
    },
}  # fmt: skip


def _say(lang: str, key: str, **values: Any) -> str:
    return _SAY.get(lang, _SAY["en"])[key].format(**values)


def condition(op: str, expected: Any, fact: str, lang: str, param: str | None = None) -> str:
    """`<= 5%` or `between 1 and 3`, with the parameter it came from."""
    if textlib.said_once(expected):  # a rule's own threshold, mostly: said once
        return _said(op, expected, fact, lang, param)
    return _condition(op, expected, fact, lang, param)


@lru_cache(maxsize=4096, typed=True)
def _said(op: str, expected: Any, fact: str, lang: str, param: str | None) -> str:
    return _condition(op, expected, fact, lang, param)


def _condition(op: str, expected: Any, fact: str, lang: str, param: str | None = None) -> str:
    if op in ("exists", "missing"):
        return _say(lang, op)
    if op in ("intersects", "none of"):  # a list parameter is named, not spelled out: it may be long
        return _say(lang, op, values=param or show(expected, fact, lang))
    if op in ("between", "outside"):
        lo, hi = expected
        shown = _say(lang, op, lo=show(lo, fact, lang), hi=show(hi, fact, lang))
    else:
        shown = f"{op} {show(expected, fact, lang)}"
    return shown + (bracket(param, lang) if param else "")


# --- the tree of one rule -----------------------------------------------------------------


class WhyNode(NamedTuple):
    """One node of a rule's condition with its result; leaves carry the comparison and how far it is from holding."""

    kind: str
    result: Tri
    children: tuple[WhyNode, ...] = ()
    fact: str | None = None
    op: str | None = None
    expected: Any = None
    actual: Any = None
    param: str | None = None
    ref: str | None = None
    distance: float | None = None

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "result": self.result}
        if self.kind == "leaf":
            out |= {
                "fact": self.fact,
                "op": self.op,
                "expected": _plain(self.expected),
                "actual": _plain(self.actual),
                "param": self.param,
                "ref": self.ref,
                "distance": None if self.distance is None else round(self.distance, 4),
            }
        else:
            out["children"] = [c.to_dict(lang) for c in self.children]
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _room_below(fact: str, threshold: float, failing_below: bool) -> float:
    """The scale of a miss: for ratios and percentages the room on the failing side, else the threshold itself."""
    spec = catalog().get(fact)
    if spec is not None and spec.unit in ("ratio", "pct"):
        bound = spec.minimum if failing_below else spec.maximum
        if bound is not None and bound != threshold:
            return abs(threshold - bound)
    return abs(threshold) or 1.0


def leaf_distance(fact: str, op: str, expected: Any, actual: Any, result: Tri) -> float | None:
    """0 when the leaf holds; for a failed numeric comparison, the gap over the fact's room on that side (at most 1); else 1.

    A comparison with zero (`restore_gap > 0`, `overdue_days >= 1` at 0) asks whether something
    exists at all, so missing it is never "close".
    """
    if result is None:
        return None
    if result:
        return 0.0
    numeric = isinstance(actual, (int, float)) and not isinstance(actual, bool)
    if numeric and op in ("<", "<=", ">", ">=") and isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if expected == 0 or (expected == 1 and op == ">=" and actual == 0):
            return 1.0
        below = op in (">", ">=")
        gap = (expected - actual) if below else (actual - expected)
        return min(1.0, max(gap, 0.0) / _room_below(fact, float(expected), below)) or 1e-9
    if numeric and op == "between":
        lo, hi = expected
        gap = lo - actual if actual < lo else actual - hi
        return min(1.0, gap / max(abs(hi - lo), 1.0)) or 1e-9
    return 1.0


def why(node: CNode, f: Mapping[str, Any], known: Tri | EllipsisType = ...) -> WhyNode:
    """The whole tree with every node's result and every leaf's actual value (``known``: the node's result, if already had)."""
    if isinstance(node, CLeaf):
        r = node.test(f) if known is ... else known
        expected = f.get(node.ref) if node.ref is not None else node.expected
        actual = f.get(node.fact)
        distance = leaf_distance(node.fact, node.op, expected, actual, r)
        return _node(("leaf", r, (), node.fact, node.op, expected, actual, node.param, node.ref, distance))
    if isinstance(node, CNot):
        kid = why(node.child, f, implied(node, known))
        r = None if kid.result is None else not kid.result
        return _node(("not", r, (kid,), None, None, None, None, None, None, None if r is None else 0.0 if r else 1.0))
    each = implied(node, known)
    kids = tuple(why(c, f, each) for c in node.children)
    r = _kleene([k.result for k in kids], isinstance(node, CAll))
    distances = [k.distance for k in kids if k.distance is not None]
    if isinstance(node, CAll):
        dist = None if r is None else sum(distances)
        return _node(("all", r, kids, None, None, None, None, None, None, min(dist, 1.0) if dist is not None else None))
    dist = None if r is None else min(distances) if distances else 1.0
    return _node(("any", r, kids, None, None, None, None, None, None, dist))


def _node(fields: tuple[Any, ...]) -> WhyNode:
    """A WhyNode of all ten fields, without its __new__'s frame: a restriction no cause explains makes some hundred."""
    return tuple.__new__(WhyNode, fields)


def _kleene(results: list[Tri], every: bool) -> Tri:
    """`all` (``every``) or `any` of the children's results, as the junction's closure computes it from them."""
    decisive = not every
    if any(r is decisive for r in results):
        return decisive
    return None if any(r is None for r in results) else every


def leaves(node: WhyNode) -> list[WhyNode]:
    if node.kind == "leaf":
        return [node]
    return [leaf for child in node.children for leaf in leaves(child)]


def failing(node: WhyNode) -> list[WhyNode]:
    """The leaves that keep a false node false (for `any`, the closest alternative only)."""
    if node.result is not False:
        return []
    if node.kind == "leaf":
        return [node]
    if node.kind == "not":
        return [leaf for leaf in leaves(node.children[0]) if leaf.result is True]
    if node.kind == "all":
        return [leaf for child in node.children if child.result is False for leaf in failing(child)]
    closest = min((c for c in node.children if c.result is False), key=lambda c: c.distance if c.distance is not None else 1.0)
    return failing(closest)


def nearest_miss(root: WhyNode, lang: str = "en") -> str:
    """One line: how close a rule that did not fire came to firing."""
    parts = [
        _say(
            lang,
            "miss",
            fact=leaf.fact,
            needed=condition(leaf.op or "", leaf.expected, leaf.fact or "", lang, leaf.param),
            found=show(leaf.actual, leaf.fact, lang),
        )
        for leaf in failing(root)
    ]
    joined = "; ".join(parts)
    if root.kind == "all":
        held = sum(1 for c in root.children if c.result is True)
        return _say(lang, "held", held=held, total=len(root.children)) + joined
    if root.kind == "any":
        return _say(lang, "none", total=len(root.children)) + joined
    return joined


def would_fire_if(root: WhyNode, lang: str = "en") -> list[Unmet]:
    """For an undetermined rule: each unknown fact and the value that would make its condition hold."""
    needed: dict[str, list[str]] = {}
    for leaf in leaves(root):
        if leaf.result is None and leaf.fact is not None:
            if leaf.actual is None:
                needed.setdefault(leaf.fact, []).append(condition(leaf.op or "", leaf.expected, leaf.fact, lang, leaf.param))
            elif leaf.ref is not None:
                needed.setdefault(leaf.ref, []).append(_say(lang, "compare", fact=leaf.fact))
    return [Unmet(fact, _say(lang, "and").join(dict.fromkeys(conds))) for fact, conds in needed.items()]


def near_misses(
    rules: Sequence[tuple[str, Callable[[], str], WhyNode]], lang: str, threshold: float = 0.2, limit: int | None = None
) -> list[NearMiss]:
    """Rules that are false but within `threshold` of firing, closest first (the first ``limit``); ``rules``: (id, its title when asked, its tree).

    Only the misses kept are worded: a restriction no cause explains asks for the closest three of some forty rules.
    """
    close = sorted(
        (
            (round(root.distance, 4), rule_id, title, root)
            for rule_id, title, root in rules
            if root.result is False and root.distance is not None and root.distance <= threshold
        ),
        key=lambda miss: miss[:2],
    )
    return [NearMiss(rule_id, title() or rule_id, distance, nearest_miss(root, lang)) for distance, rule_id, title, root in close[:limit]]


def may_come_close(node: CNode) -> bool:
    """Whether ``node``, when false, can be nearer than 1 to holding (`why`'s distance): only a graded comparison makes it so.

    A leaf is graded when it compares a number with a bound other than zero (`leaf_distance`); any
    other false leaf is at distance 1, a `not` at 0 or 1, and an `all` or `any` of such children
    at 1 when false. A rule that cannot come close is never a near miss, whatever the snapshot.
    """
    if isinstance(node, CLeaf):
        if node.op == "between":
            return True
        if node.op not in ("<", "<=", ">", ">="):
            return False
        if node.ref is not None:
            return True
        expected = node.expected
        return isinstance(expected, (int, float)) and not isinstance(expected, bool) and expected != 0
    if isinstance(node, CNot):
        return False
    return any(may_come_close(child) for child in node.children)


def closest(
    rules: Sequence[tuple[str, Callable[[], str], CNode]], f: Mapping[str, Any], lang: str, threshold: float = 0.2, limit: int | None = None
) -> list[NearMiss]:
    """`near_misses` of rules that did not fire, given as their conditions: only the misses kept get their trees built.

    A restriction no cause explains asks for the three closest of some forty false rules; building
    every rule's tree to find them made such a report cost more than twice a healthy one. Each
    rule's distance is worked out first, without a tree, and an `all` stops adding up as soon as its
    distance is past the threshold; tests/test_explain.py holds `distance` to `why`'s.
    """
    cap = threshold + _MARGIN
    scored: list[tuple[float, str, Callable[[], str], CNode]] = []
    for rule_id, title, node in rules:
        dist = distance(node, f, cap, False)[1]
        if dist is not None and dist <= threshold and dist <= cap:  # past the cap a distance is not exact, and cannot be kept
            scored.append((round(dist, 4), rule_id, title, node))
            if limit is not None and len(scored) >= limit:  # only a rule as close as the last one kept can still be kept
                scored.sort(key=lambda miss: miss[:2])
                del scored[limit:]
                cap = min(cap, scored[-1][0] + _TIE)
    scored.sort(key=lambda miss: miss[:2])
    return near_misses([(rule_id, title, why(node, f, False)) for _, rule_id, title, node in scored[:limit]], lang, threshold, limit)


_TIE = 2e-4
"""How far past the last miss kept a distance may be and still round to it (misses are ranked by distance to 4 places, then by id)."""
_MARGIN = 1e-9
"""A rule is dropped only when its distance is this much past the threshold: a sum added up term by term may
differ in its last digit from `sum()` (which compensates its rounding on Python 3.12 and later)."""


def distance(node: CNode, f: Mapping[str, Any], cap: float = float("inf"), known: Tri | EllipsisType = ...) -> tuple[Tri, float | None]:
    """The result and distance of `why`'s tree of ``node``, without the tree; a distance past ``cap`` is only said to be past it.

    Exact up to ``cap``: a distance above it is some number above it, not always the distance itself.
    An `all` is false as soon as its children's distances add up to more than nothing (a child
    that holds is at distance 0, one that is not known has none), so stopping there keeps its result exact.
    """
    if isinstance(node, CLeaf):
        r = node.test(f) if known is ... else known
        if not r:  # false or not known: how far from holding, or no distance
            expected = f.get(node.ref) if node.ref is not None else node.expected
            return r, leaf_distance(node.fact, node.op, expected, f.get(node.fact), r)
        return r, 0.0
    if isinstance(node, CNot):
        inner = distance(node.child, f, cap, implied(node, known))[0]
        r = None if inner is None else not inner
        return r, None if r is None else 0.0 if r else 1.0
    each = implied(node, known)
    every = isinstance(node, CAll)
    results: list[Tri] = []
    distances: list[float] = []
    added = 0.0
    below = cap  # an `any` is as close as its closest child: one past the closest so far need not be worked out exactly
    for child in node.children:
        r, dist = distance(child, f, below, each)
        results.append(r)
        if dist is not None:
            distances.append(dist)
            if every:
                added += dist
                if added > cap:  # some child is false: so is the `all`, and it is past the cap
                    return False, added
            elif dist < below:
                below = dist + _MARGIN
    r = _kleene(results, every)
    if r is None:
        return None, None
    if every:
        return r, min(sum(distances), 1.0)
    return r, min(distances) if distances else 1.0
