"""The engine: three-valued logic, every operator, parameters, facts against facts, evidence and ranking."""

from __future__ import annotations

import copy
import itertools
from datetime import date
from typing import Any

import pytest

from diagnose.api import CompiledPack
from diagnose.engine import ranking
from diagnose.engine.conditions import compile_condition, trace
from diagnose.records import Evidence

T, F, U = True, False, None
LEAF = {T: {"fact": "x", "op": "==", "value": 1}, F: {"fact": "x", "op": "==", "value": 2}, U: {"fact": "nope", "op": "==", "value": 1}}
FACTS = {"x": 1}


def run(cond: dict[str, Any], facts: dict[str, Any] | None = None, params: dict[str, Any] | None = None) -> bool | None:
    return compile_condition(cond, params or {}).test(FACTS if facts is None else facts)


def kleene_and(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if None in (a, b) else True


def kleene_or(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if None in (a, b) else False


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, U], repeat=2)))
def test_all_and_any_follow_kleene_logic(a: bool | None, b: bool | None) -> None:
    assert run({"all": [LEAF[a], LEAF[b]]}) is kleene_and(a, b)
    assert run({"any": [LEAF[a], LEAF[b]]}) is kleene_or(a, b)


@pytest.mark.parametrize(("a", "expected"), [(T, F), (F, T), (U, U)])
def test_not_swaps_true_and_false_and_keeps_unknown(a: bool | None, expected: bool | None) -> None:
    assert run({"not": LEAF[a]}) is expected


@pytest.mark.parametrize(
    ("op", "value", "actual", "expected"),
    [
        ("==", 5, 5, T), ("==", 5, 6, F), ("!=", 5, 6, T), ("!=", 5, 5, F),
        ("<", 5, 4, T), ("<", 5, 5, F), ("<=", 5, 5, T), ("<=", 5, 6, F),
        (">", 5, 6, T), (">", 5, 5, F), (">=", 5, 5, T), (">=", 5, 4, F),
        ("in", ["a", "b"], "a", T), ("in", ["a", "b"], "c", F),
        ("not in", ["a", "b"], "c", T), ("not in", ["a", "b"], "a", F),
        ("between", [1, 3], 1, T), ("between", [1, 3], 3, T), ("between", [1, 3], 3.01, F), ("between", [1, 3], 0, F),
        ("==", True, True, T), ("==", True, False, F),
    ],
)  # fmt: skip
def test_every_operator(op: str, value: Any, actual: Any, expected: bool) -> None:
    assert run({"fact": "x", "op": op, "value": value}, {"x": actual}) is expected
    assert run({"fact": "x", "op": op, "value": value}, {}) is None  # unknown fact: unknown


def test_exists_and_missing_are_never_unknown() -> None:
    assert run({"fact": "x", "op": "exists"}, {"x": 0}) is True
    assert run({"fact": "x", "op": "exists"}, {}) is False
    assert run({"fact": "x", "op": "missing"}, {}) is True
    assert run({"fact": "x", "op": "missing"}, {"x": False}) is False


def test_fact_against_fact() -> None:
    cond = {"fact": "account.region", "op": "!=", "ref": "funding.funder_region"}
    assert run(cond, {"account.region": "CN-GD", "funding.funder_region": "CN-ZJ"}) is True
    assert run(cond, {"account.region": "CN-GD", "funding.funder_region": "CN-GD"}) is False
    assert run(cond, {"account.region": "CN-GD"}) is None
    due = {"fact": "line.first_draw_due_on", "op": "<", "ref": "calendar.date"}
    assert run(due, {"line.first_draw_due_on": date(2024, 1, 1), "calendar.date": date(2024, 1, 2)}) is True


def test_parameters_are_resolved_once_at_compile_time() -> None:
    cond = {"fact": "funding.funder_quota_remaining_pct", "op": "<=", "param": "low"}
    node = compile_condition(cond, {"low": 5})
    assert node.test({"funding.funder_quota_remaining_pct": 5}) is True
    assert compile_condition(cond, {"low": 4.9}).test({"funding.funder_quota_remaining_pct": 5}) is False
    between = compile_condition({"fact": "x", "op": "between", "param": ["lo", "hi"]}, {"lo": 1, "hi": 2})
    assert between.test({"x": 2}) is True


def test_date_literals_compare_with_date_facts() -> None:
    assert run({"fact": "line.expires_on", "op": "<=", "value": "2024-01-15"}, {"line.expires_on": date(2024, 1, 15)}) is True


def test_a_type_mismatch_at_run_time_is_unknown_not_a_crash() -> None:
    assert run({"fact": "extensions.x", "op": ">", "value": 5}, {"extensions.x": "text"}) is None


def test_trace_gives_evidence_for_true_and_missing_facts_for_unknown() -> None:
    cond = {
        "all": [
            {"fact": "a", "op": ">", "value": 1},
            {"any": [{"fact": "b", "op": "==", "value": 1}, {"fact": "c", "op": "==", "value": 1}]},
        ]
    }
    node = compile_condition(cond, {})
    fired = trace(node, {"a": 2, "b": 1, "c": 0})
    assert fired.result is True
    assert [(e.fact, e.actual, e.result) for e in fired.evidence] == [("a", 2, True), ("b", 1, True)]
    unknown = trace(node, {"a": 2, "c": 0})
    assert unknown.result is None and unknown.missing == ("b",)


def test_missing_derived_fact_names_the_snapshot_fields_to_collect(pack: CompiledPack, base: dict[str, Any]) -> None:
    del base["credit"]["monthly_income"]
    report = pack.diagnose(base)
    dti = next(u for u in report.undetermined if u.rule_id == "BRW-HIGH-DTI")
    assert dti.missing == ["credit.monthly_income"]


def test_strength_and_score() -> None:
    ev = [Evidence("funding.funder_quota_remaining_pct", "<=", 5, 1.5, True)]
    assert ranking.strength(ev) == pytest.approx(0.7)
    assert ranking.base_score("high", 0.8, ev) == pytest.approx(100 * 0.8 * 0.8 * (0.7 + 0.3 * 0.7))
    assert ranking.strength([Evidence("x", "==", True, True, True)]) == 1.0


def test_bounded_ratios_measure_strength_against_the_room_left() -> None:
    ev = [Evidence("funding.regional_pool_utilization", ">=", 0.95, 0.98, True)]
    assert ranking.strength(ev) == pytest.approx(0.6)


def test_explained_findings_rank_below_their_cause_and_contributing_last() -> None:
    cands = [
        ranking.Candidate("SYMPTOM", 90.0, False, ()),
        ranking.Candidate("ROOT", 50.0, False, ("SYMPTOM",)),
        ranking.Candidate("CONTRIB", 99.0, True, ()),
        ranking.Candidate("OTHER", 70.0, False, ()),
    ]
    ordered, explained_by = ranking.rank(cands)
    assert [c.rule_id for c in ordered] == ["OTHER", "ROOT", "SYMPTOM", "CONTRIB"]
    assert explained_by["SYMPTOM"] == ["ROOT"]
    assert ordered[2].score == 49.99


def test_ranking_is_deterministic_and_ties_break_by_id() -> None:
    def fresh() -> list[ranking.Candidate]:
        return [ranking.Candidate(i, 40.0, False, ()) for i in ("B-2", "A-1", "C-3")]

    orders = {tuple(c.rule_id for c in ranking.rank(list(p))[0]) for p in itertools.permutations(fresh())}
    assert orders == {("A-1", "B-2", "C-3")}


def test_same_snapshot_same_report(pack: CompiledPack, contract_example: dict[str, Any]) -> None:
    first = pack.diagnose(copy.deepcopy(contract_example)).to_json()
    assert all(pack.diagnose(copy.deepcopy(contract_example)).to_json() == first for _ in range(3))


def test_diagnose_many_keeps_order_and_yields_errors(pack: CompiledPack, base: dict[str, Any]) -> None:
    from diagnose.errors import InvalidInput

    out = list(pack.diagnose_many([base, {"schema_version": "1"}, base]))
    assert [type(o).__name__ for o in out] == ["Report", "InvalidInput", "Report"]
    assert isinstance(out[1], InvalidInput) and out[1].source == "record 2"
