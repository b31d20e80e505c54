"""Compiled evaluator against a tree-walking baseline, in one process, on the same facts.

The baseline walks each rule's condition tree as plain data on every snapshot: it looks the
operator up by name, resolves parameters and coerces literals each time. The compiled pack
turned each tree into closures once. Both give the same truth values (checked here); the
ratio of their rates is what compiling buys. Also reported: the whole `pack.diagnose` per
snapshot (validation, facts, evaluation, report), for scale.
"""

from __future__ import annotations

import argparse
import json
import operator
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import diagnose
from diagnose.engine.conditions import coerce_literal
from diagnose.snapshot import contract, facts

ROOT = Path(__file__).resolve().parent.parent
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def walk(cond: Mapping[str, Any], f: Mapping[str, Any], params: Mapping[str, Any]) -> bool | None:
    """Three-valued evaluation straight from the rule's data, as an interpreter would do it."""
    if "all" in cond:
        results = [walk(c, f, params) for c in cond["all"]]
        return False if False in results else None if None in results else True
    if "any" in cond:
        results = [walk(c, f, params) for c in cond["any"]]
        return True if True in results else None if None in results else False
    if "not" in cond:
        r = walk(cond["not"], f, params)
        return None if r is None else not r
    op, fact = cond["op"], cond["fact"]
    if op == "exists":
        return f.get(fact) is not None
    if op == "missing":
        return f.get(fact) is None
    actual = f.get(fact)
    if actual is None:
        return None
    if cond.get("ref") is not None:
        expected = f.get(cond["ref"])
        if expected is None:
            return None
    elif cond.get("param") is not None:
        p = cond["param"]
        expected = [params[x] for x in p] if isinstance(p, list) else params[p]
    else:
        expected = cond.get("value")
    expected = [coerce_literal(v, fact) for v in expected] if isinstance(expected, list) else coerce_literal(expected, fact)
    try:
        if op == "in":
            return actual in expected
        if op == "not in":
            return actual not in expected
        if op == "between":
            return bool(expected[0] <= actual <= expected[1])
        return OPS[op](actual, expected)
    except TypeError:
        return None


def rate(fn: Callable[[], object], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    pack = diagnose.load_pack()
    snapshots = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*.json"))]
    fact_sets = [facts.derive(contract.validate(s)) for s in snapshots]
    rules = [cr.rule for cr in pack.rules]

    for f in fact_sets:  # the two evaluators agree on every rule of every example
        assert [r for _, r in pack.evaluate(f)] == [walk(rule.when, f, pack.params) for rule in rules]

    def compiled() -> None:
        for f in fact_sets:
            pack.evaluate(f)

    def baseline() -> None:
        for f in fact_sets:
            for rule in rules:
                walk(rule.when, f, pack.params)

    def whole() -> None:
        for s in snapshots:
            pack.diagnose(s)

    n = len(fact_sets)
    base = rate(baseline, args.seconds) * n
    comp = rate(compiled, args.seconds) * n
    full = rate(whole, args.seconds) * n
    print(f"{len(rules)} rules, {n} example snapshots")
    print(f"tree-walking baseline: {base:10,.0f} snapshots/s (all rules evaluated)")
    print(f"compiled closures:     {comp:10,.0f} snapshots/s (all rules evaluated)")
    print(f"ratio compiled/baseline: {comp / base:.2f}x")
    print(f"whole diagnosis (validate, facts, evaluate, report): {full:,.0f} snapshots/s")


if __name__ == "__main__":
    main()
