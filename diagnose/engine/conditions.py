"""Conditions compiled once into closures, evaluated in three-valued (Kleene) logic, and traced for evidence."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from types import EllipsisType
from typing import Any, NamedTuple

from diagnose.records import Evidence
from diagnose.snapshot import facts as factlib

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


_ORDERED = ("<", "<=", ">", ">=")


def _span(f: Mapping[str, Any], path: str) -> tuple[Any, Any] | None:
    """The values a fact may have: its value twice when known, else the bound its known inputs give, else None."""
    value = f.get(path)
    if value is not None:
        return value, value
    bounds = f.get(factlib.BOUNDS)
    found = bounds.get(path) if bounds else None
    return (found.low, found.high) if found is not None else None


def decide_partly(f: Mapping[str, Any], fact: str, op: str, expected: Any, ref: str | None) -> Tri:
    """An ordered comparison with an unknown side that its bounds decide anyway (three-valued: else None).

    `a >= b` holds whatever the unknown values when the least `a` can be is at least the most `b`
    can be, and fails when the most `a` can be is below the least `b` can be; likewise for the others.
    """
    if op not in _ORDERED or not f.get(factlib.BOUNDS):
        return None
    a = _span(f, fact)
    b = _span(f, ref) if ref is not None else (expected, expected)
    if a is None or b is None:
        return None
    (alo, ahi), (blo, bhi) = a, b
    try:
        if op in (">=", ">"):
            strict = op == ">"
            if alo is not None and bhi is not None and (alo > bhi if strict else alo >= bhi):
                return True
            if ahi is not None and blo is not None and (ahi <= blo if strict else ahi < blo):
                return False
        else:
            strict = op == "<"
            if ahi is not None and blo is not None and (ahi < blo if strict else ahi <= blo):
                return True
            if alo is not None and bhi is not None and (alo >= bhi if strict else alo > bhi):
                return False
    except TypeError:
        return None
    return None


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
                return decide_partly(f, fact, op, None, ref)
            try:
                return cmp(a, b)
            except TypeError:
                return None

        return against_fact
    if op == "intersects":
        wanted = frozenset(expected)

        def intersects(f: Mapping[str, Any]) -> Tri:
            a = f.get(fact)
            if a is None:
                return None
            return not wanted.isdisjoint(a)

        return intersects
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
            return decide_partly(f, fact, op, expected, None)
        try:
            return cmp(a, expected)
        except TypeError:
            return None

    return compare


def _junction(kids: tuple[CNode, ...], decisive: bool) -> Test:
    """`all` (decided by a false child) or `any` (by a true one) in Kleene logic: an unknown child
    makes the result unknown unless another child decides it. One child is its own result.

    (A loop fusing plain comparisons into one closure was measured with bench/tricks.py at 2.4-2.7%
    of a batch record, under the 3% a trick must buy to stay on the hot path, and was removed.)
    """
    if len(kids) == 1:
        return kids[0].test
    return leafwise_junction(kids, decisive)


def leafwise_junction(kids: tuple[CNode, ...], decisive: bool) -> Test:
    """`all` or `any` that asks each child's closure in turn."""
    tests = tuple(k.test for k in kids)
    undecided = not decisive

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


def leaves(node: CNode) -> Iterator[CLeaf]:
    """The comparisons of a compiled condition tree, in order."""
    if isinstance(node, CLeaf):
        yield node
    elif isinstance(node, CNot):
        yield from leaves(node.child)
    else:
        for child in node.children:
            yield from leaves(child)


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


def _trace(result: Tri, evidence: tuple[Evidence, ...], missing: tuple[str, ...]) -> Trace:
    return tuple.__new__(Trace, (result, evidence, missing))  # Trace(...) without its __new__'s frame: a report makes several a finding


def _leaf_evidence(node: CLeaf, f: Mapping[str, Any], result: Tri) -> Evidence:
    expected = node.expected if node.ref is None else f.get(node.ref)
    if node.op in ("exists", "missing"):
        expected = None
    shown = node.ref if node.ref is not None else node.param
    actual = f.get(node.fact)
    if result is None or (actual is not None and expected is not None) or node.op not in _ORDERED:
        return Evidence(node.fact, node.op, expected, actual, result, shown)
    # Decided by a bound: show the bound that decided and say which known part gives it.
    bounds = f[factlib.BOUNDS]
    above = node.op in (">", ">=")
    notes = []
    if actual is None:
        b = bounds[node.fact]
        actual = b.low if above == bool(result) else b.high
        notes.append(f"{node.fact} {b.note}")
    if expected is None and node.ref is not None:
        b = bounds[node.ref]
        expected = b.high if above == bool(result) else b.low
        notes.append(f"{node.ref} {b.note}")
    return Evidence(node.fact, node.op, expected, actual, result, shown, "; ".join(notes))


def implied(node: CNode, result: Tri | EllipsisType) -> Tri | EllipsisType:
    """What a node's known result says of each of its children: a true `all` has only true
    children, a false `any` only false ones, a `not` the opposite of its own, a lone child its
    parent's; else nothing (`...`)."""
    if result is ... or isinstance(node, CLeaf):
        return ...
    if isinstance(node, CNot):
        return None if result is None else not result
    if len(node.children) == 1:
        return result
    if isinstance(node, CAll) and result is True:
        return True
    if isinstance(node, CAny) and result is False:
        return False
    return ...


def trace(node: CNode, f: Mapping[str, Any], known: Tri | EllipsisType = ...) -> Trace:
    """Evaluate with bookkeeping: which leaves decided a true result, which facts an unknown one lacks.

    ``known``: the node's result when the caller has it already (from `CompiledRules.results`);
    the leaves it implies are not evaluated again.
    """
    if isinstance(node, CLeaf):
        r = node.test(f) if known is ... else known
        missing: tuple[str, ...] = ()
        if r is None:
            missing = tuple(m for p in (node.fact, node.ref) if p is not None and f.get(p) is None for m in factlib.to_collect(p, f))
        return _trace(r, (_leaf_evidence(node, f, r),), missing)
    if isinstance(node, CNot):
        inner = trace(node.child, f, implied(node, known))
        return _trace(None if inner.result is None else not inner.result, inner.evidence, inner.missing)
    each = implied(node, known)
    deciding = isinstance(node, CAny)  # one false child decides an `all`, one true child an `any`
    decided: list[Evidence] = []
    known_evidence: list[Evidence] = []
    missing_facts: dict[str, None] = {}
    unknown = False
    for child in node.children:
        k = trace(child, f, each)
        if k.result is deciding:
            decided += k.evidence
        elif k.result is None:
            unknown = True
            missing_facts.update(dict.fromkeys(k.missing))
        else:
            known_evidence += k.evidence
    if decided:
        return _trace(deciding, tuple(decided), ())
    if unknown:
        return _trace(None, tuple(known_evidence), tuple(missing_facts))
    return _trace(not deciding, tuple(known_evidence), ())
