"""The pack's compiled evaluation against a hand-written function of the same 12 rules, in CPU time.

Twelve rules of the default pack, from all five families, with `any` conditions, fact-to-fact
(`ref`) comparisons, a `missing` test, a list parameter (`intersects`) and nested junctions, are
written below by hand the way one would write them without the engine: each fact looked up once,
three-valued (None when a fact it needs is unknown), the pack's thresholds read once. The pack
has no `not` condition (tests/test_codegen.py covers it). None of these rules reads a fact with
bounds (only `loans.*` facts have them), so the hand-written function needs none and is exactly
the pack's semantics on these rules.

The compiled side is a sub-pack of exactly those 12 rules, evaluated by `evaluate()` (its
generated function where the engine has one: `program()` is feature-detected, so that the same
script measures an older tree: `PYTHONPATH=/path/to/old python bench/engine.py`). The tree-walking
baseline interprets each rule's data on every snapshot. All three must give the same fired and
undetermined rules on every document: the examples, generated snapshots, and both again with
facts dropped at random (seeded). For scale: the whole pack's evaluation, its report stage
(`ReportBuilder.build` on validated facts) and the whole `pack.diagnose`, per snapshot.

Timing is CPU time of this process, in interleaved rounds; each line gives the median of the
rounds and their spread (lowest-highest). The ratio compiled/hand-written is the rate of the
compiled sub-pack over the rate of the hand-written function (target >= 0.6x).

    python bench/engine.py                  # 9 rounds
    python bench/engine.py --rounds 15 --seconds 0.3
"""

from __future__ import annotations

import argparse
import operator
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # run from the repository: the tree beside this script
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

import diagnose  # noqa: E402
from diagnose.engine.compiled import CompiledRules  # noqa: E402
from diagnose.engine.conditions import coerce_literal  # noqa: E402
from diagnose.portfolio.generate import Generator, load_templates  # noqa: E402
from diagnose.snapshot import contract, facts  # noqa: E402

RULES = (
    "LIQ-CROSS-REGION",
    "LIQ-FUNDER-PAUSED",
    "LIQ-PERIOD-END",
    "POL-AGE-RANGE",
    "POL-TIGHTENING",
    "POL-REGULATORY-CAP",
    "PRD-LOW-USAGE-CUT",
    "PRD-NO-FIRST-DRAW",
    "OPS-INCIDENT",
    "OPS-REPAYMENT-UNPOSTED",
    "BRW-KYC-INVALID",
    "BRW-COOLING-OFF",
)
Tri = bool | None


def hand_written(params: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], tuple[Tri, ...]]:
    """The 12 rules as one would write them by hand: the results in the order of RULES."""
    pause_rate = params["funder_delinquency_pause_rate"]
    window_days = params["period_end_window_days"]
    quota_pct = params["period_end_quota_pct"]
    recent_days = params["tightening_recent_days"]
    cut_share = params["tightening_segment_cut_share"]
    idle_days = params["low_usage_idle_days"]
    early_payoffs = params["low_usage_early_payoffs"]
    components = frozenset(params["incident_components"])
    instant_hours = params["repayment_posting_instant_hours"]
    interbank_hours = params["repayment_posting_interbank_hours"]
    cooling_days = params["cooling_off_days"]

    def rules(f: Mapping[str, Any]) -> tuple[Tri, ...]:
        # Each leaf is None when a fact it needs is unknown; `all` is false on a false leaf, else
        # unknown on an unknown one, else true; `any` the other way round (Kleene logic, inline).
        g = f.get
        local, region, home = g("funding.funder_local_only"), g("funding.funder_region"), g("account.region")
        a = None if local is None else local == True  # noqa: E712 (the pack compares with ==: 1 is true too)
        b = None if region is None or home is None else region != home
        cross_region = False if a is False or b is False else None if a is None or b is None else True

        paused, rate = g("funding.funder_paused"), g("funding.funder_delinquency_rate")
        a = None if paused is None else paused == True  # noqa: E712
        b = None if rate is None else rate >= pause_rate
        funder_paused = True if a is True or b is True else None if a is None or b is None else False

        to_end, quota = g("calendar.days_to_quarter_end"), g("funding.funder_quota_remaining_pct")
        a = None if to_end is None else to_end <= window_days
        b = None if quota is None else quota <= quota_pct
        period_end = False if a is False or b is False else None if a is None or b is None else True

        age, lo, hi = g("account.age_years"), g("policy.min_age"), g("policy.max_age")
        a = None if age is None or lo is None else age < lo
        b = None if age is None or hi is None else age > hi
        age_range = True if a is True or b is True else None if a is None or b is None else False

        direction, since, share = g("policy.direction"), g("policy.days_since_change"), g("policy.segment_cut_share")
        a = None if direction is None else direction == "tightening"
        b = None if since is None else since <= recent_days
        c = None if share is None else share >= cut_share
        tightening = False if a is False or b is False or c is False else None if a is None or b is None or c is None else True

        owed, cap = g("credit.total_online_outstanding"), g("policy.regulatory_cap")
        regulatory_cap = None if owed is None or cap is None else owed >= cap

        cut, idle, payoffs = g("line.limit_cut_pct"), g("line.days_since_last_draw"), g("line.early_payoffs_12m")
        b = None if idle is None else idle >= idle_days
        c = None if payoffs is None else payoffs >= early_payoffs
        b = True if b is True or c is True else None if b is None or c is None else False
        a = None if cut is None else cut > 0
        low_usage = False if a is False or b is False else None if a is None or b is None else True

        due, today = g("line.first_draw_due_on"), g("calendar.date")
        a = "line.first_draw_on" not in f
        b = None if due is None or today is None else due < today
        no_first_draw = False if a is False or b is False else None if b is None else True

        down, unscoped = g("system.open_incident_components"), g("system.open_incidents_unscoped")
        a = None if down is None else not components.isdisjoint(down)
        b = None if unscoped is None else unscoped >= 1
        incident = True if a is True or b is True else None if a is None or b is None else False

        instant, interbank = g("repayments.unposted_hours_instant"), g("repayments.unposted_hours_interbank")
        a = None if instant is None else instant > instant_hours
        b = None if interbank is None else interbank > interbank_hours
        unposted = True if a is True or b is True else None if a is None or b is None else False

        kyc, days_left, phone = g("account.kyc.status"), g("account.id_days_left"), g("account.kyc.phone_status")
        a = None if kyc is None else kyc != "verified"
        b = None if days_left is None else days_left <= 0
        c = None if phone is None else phone != "active"
        kyc_invalid = True if a is True or b is True or c is True else None if a is None or b is None or c is None else False

        cure, overdue = g("credit.days_since_cure"), g("credit.max_overdue_days_12m")
        a = None if cure is None else cure <= cooling_days
        b = None if overdue is None else overdue >= 1
        cooling = False if a is False or b is False else None if a is None or b is None else True

        return (
            cross_region, funder_paused, period_end, age_range, tightening, regulatory_cap,
            low_usage, no_first_draw, incident, unposted, kyc_invalid, cooling,
        )  # fmt: skip

    return rules


OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


def walk(cond: Mapping[str, Any], f: Mapping[str, Any], params: Mapping[str, Any]) -> Tri:
    """Three-valued evaluation straight from the rule's data, as an interpreter would do it (no bounds)."""
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
        if op == "intersects":
            return bool(set(actual) & set(expected))
        if op == "not in":
            return actual not in expected
        if op == "between":
            return bool(expected[0] <= actual <= expected[1])
        return OPS[op](actual, expected)
    except TypeError:
        return None


def documents(pack: Any, generated: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The example snapshots and ``generated`` more (seeded), and the facts of each, then each again with facts dropped at random."""
    snapshots = [orjson.loads(p.read_bytes()) for p in sorted((ROOT / "examples").glob("*.json"))]
    snapshots += [orjson.loads(line.text) for line in Generator(pack, load_templates(pack), seed=seed).lines(generated)]
    whole = [facts.derive(contract.validate(s)) for s in snapshots]
    rng = random.Random(seed)
    dropped = [{k: v for k, v in f.items() if k == facts.BOUNDS or rng.random() >= 0.3} for f in whole]
    return snapshots, whole + dropped


def sub_pack(pack: Any, ids: Sequence[str]) -> CompiledRules:
    """The pack restricted to ``ids``, in that order, compiled the way the engine compiles any pack."""
    by_id = {r["id"]: r for r in pack.data["rules"]}
    sub = CompiledRules(dict(pack.data) | {"rules": [by_id[i] for i in ids]})
    generate = getattr(sub, "program", None)  # the generated function, where the engine has one
    if generate is not None:
        generate()
    return sub


def outcome(results: Sequence[Tri]) -> tuple[frozenset[int], frozenset[int]]:
    """Which rules fired and which are undetermined (by position)."""
    return frozenset(i for i, r in enumerate(results) if r is True), frozenset(i for i, r in enumerate(results) if r is None)


def check(sub: CompiledRules, hand: Callable[[Mapping[str, Any]], tuple[Tri, ...]], pack: Any, fact_sets: list[dict[str, Any]]) -> None:
    rules = [cr.rule for cr in sub.rules]
    everyone = [cr.rule for cr in pack.rules]
    for n, f in enumerate(fact_sets):
        compiled = outcome([r for _, r in sub.evaluate(f)])
        if compiled != outcome(hand(f)) or compiled != outcome([walk(r.when, f, sub.params) for r in rules]):
            raise SystemExit(f"document {n}: the compiled rules, the hand-written function and the tree walk disagree")
        # the whole pack too: compiled against its closures (where it has a generated function) and the walk
        whole = [r for _, r in pack.evaluate(f)]
        if not f.get(facts.BOUNDS) and whole != [walk(r.when, f, pack.params) for r in everyone]:
            raise SystemExit(f"document {n}: the whole pack's evaluation and the tree walk disagree")
        if whole != [cr.node.test(f) for cr in pack.rules]:
            raise SystemExit(f"document {n}: the whole pack's evaluation and its closures disagree")


def cpu(fn: Callable[[], object], seconds: float) -> float:
    """CPU seconds per call of ``fn``, over about ``seconds``."""
    n, start = 0, time.process_time()
    while True:
        fn()
        n += 1
        spent = time.process_time() - start
        if spent >= seconds:
            return spent / n


def spread(values: Sequence[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default 9)")
    parser.add_argument("--seconds", type=float, default=0.2, help="CPU time per measurement and round (default 0.2)")
    parser.add_argument("--generated", type=int, default=400, help="generated snapshots besides the examples (default 400)")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()

    pack = diagnose.load_pack()
    if getattr(pack, "program", None) is not None:
        pack.program()  # what a batch runs once warm
    snapshots, fact_sets = documents(pack, args.generated, args.seed)
    sub = sub_pack(pack, RULES)
    hand = hand_written(sub.params)
    rules = [cr.rule for cr in sub.rules]
    check(sub, hand, pack, fact_sets)
    fired = sum(1 for f in fact_sets for r in hand(f) if r is True)
    unknown = sum(1 for f in fact_sets for r in hand(f) if r is None)

    def run_hand() -> None:
        for f in fact_sets:
            hand(f)

    def run_compiled() -> None:
        for f in fact_sets:
            sub.evaluate(f)

    def run_walk() -> None:
        for f in fact_sets:
            for rule in rules:
                walk(rule.when, f, sub.params)

    def run_pack() -> None:
        for f in fact_sets:
            pack.evaluate(f)

    def run_diagnose() -> None:
        for s in snapshots:
            pack.diagnose(s)

    prepared = [pack.prepare(s) for s in snapshots]

    def run_report() -> None:
        for data, f, warnings in prepared:
            pack.builder.build(data, f, warnings=warnings)

    contenders = {
        "hand": run_hand, "compiled": run_compiled, "walk": run_walk, "pack": run_pack, "report": run_report, "diagnose": run_diagnose,
    }  # fmt: skip
    times: dict[str, list[float]] = {k: [] for k in contenders}
    order = list(contenders)
    for i in range(args.rounds):
        for name in order[i % len(order) :] + order[: i % len(order)]:  # each contender in turn goes first
            per = len(snapshots) if name in ("diagnose", "report") else len(fact_sets)
            times[name].append(cpu(contenders[name], args.seconds) / per * 1e6)
    ratio = [h / c for h, c in zip(times["hand"], times["compiled"], strict=True)]
    walked = [h / w for h, w in zip(times["hand"], times["walk"], strict=True)]
    engine = "generated function" if getattr(sub, "program", None) is not None else "closures"
    print(f"{diagnose.__file__}: {engine}")
    print(
        f"{len(RULES)} rules, {len(fact_sets)} documents ({len(snapshots)} snapshots, then with facts dropped), {fired} fired, {unknown} undetermined: all agree"
    )
    print(f"CPU us per document, median of {args.rounds} interleaved rounds (lowest-highest):")
    print(f"  hand-written function:   {spread(times['hand'], '.2f')}")
    print(f"  compiled sub-pack:       {spread(times['compiled'], '.2f')}")
    print(f"  tree-walking baseline:   {spread(times['walk'], '.2f')}")
    print(f"ratio compiled/hand-written:      {spread(ratio, '.2f')}x  (target >= 0.6x)")
    print(f"ratio tree-walking/hand-written:  {spread(walked, '.2f')}x")
    print(f"whole pack ({len(pack.rules)} rules) evaluate: {spread(times['pack'], '.2f')} us per document")
    print(f"report stage of the whole pack (evaluate, rank, word, explain): {spread(times['report'], '.1f')} us per snapshot")
    per_second = [1e6 / t for t in times["diagnose"]]
    print(
        f"whole pack.diagnose (validate, facts, evaluate, report): {spread(times['diagnose'], '.1f')} us per snapshot, {spread(per_second, ',.0f')} snapshots/s"
    )


if __name__ == "__main__":
    main()
