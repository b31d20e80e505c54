"""Explanations: `why` trees and nearest misses, what would clear a finding, timelines, audiences and chat messages."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest

import diagnose
from diagnose.api import CompiledPack
from diagnose.explain import why as explain
from diagnose.snapshot import contract, facts
from tests.conftest import EXAMPLES, cli, load_json

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_why_on_a_rule_that_fires(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "why", "LIQ-FUNDER-QUOTA", str(EXAMPLES / "contract-example.json"))
    assert code == 0
    assert out == (
        "LIQ-FUNDER-QUOTA: The funding partner's quota for this period is used up\n"
        "result: fires\n"
        "\n"
        "✔ ALL (2 of 2 hold)\n"
        "├── ✔ funding.funder_quota_remaining_pct <= 5% (funder_quota_low_pct): actual 1.5%\n"
        "└── ✔ line.limit_short == yes: actual yes\n"
        "\n"
        "would clear when:\n"
        "  the funding partner's quota is replenished\n"
    )


def test_why_on_a_rule_that_does_not_fire_gives_the_nearest_miss(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "why", "LIQ-FUNDER-PAUSED", str(EXAMPLES / "contract-example.json"))
    assert code == 0
    assert out == (
        "LIQ-FUNDER-PAUSED: The funding partner has paused new lending\n"
        "result: does not fire\n"
        "\n"
        "✘ ANY (0 of 2 hold)\n"
        "├── ✘ funding.funder_paused == yes: actual no\n"
        "└── ✘ funding.funder_delinquency_rate >= 5% (funder_delinquency_pause_rate): actual 2.1%\n"
        "\n"
        "nearest miss: none of 2 alternatives holds; closest: funding.funder_delinquency_rate: "
        "needed >= 5% (funder_delinquency_pause_rate), found 2.1%\n"
    )


def test_why_on_an_all_rule_counts_what_holds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "why", "POL-TIGHTENING", str(EXAMPLES / "contract-example.json"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["result"] is False
    assert data["nearest_miss"].startswith("1 of 3 conditions hold; fails on policy.direction: needed == tightening, found neutral;")
    assert [c["result"] for c in data["tree"]["children"]] == [False, True, False]


def test_why_on_an_undetermined_rule_says_what_would_decide_it(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "why", "PRD-TEMP-LIMIT-EXPIRED", str(EXAMPLES / "contract-example.json"), "-f", "json")
    assert code == 0
    data = json.loads(out)
    assert data["result"] is None
    assert data["would_fire_if"] == [
        {"fact": "line.temporary_limit.days_since_expiry", "needed": ">= 0 and <= 30 (temp_limit_recent_days)"}
    ]


def test_why_names_an_unknown_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "why", "LIQ-QUOTA", str(EXAMPLES / "healthy.json"))
    assert code == 2 and "did you mean LIQ-FUNDER-QUOTA?" in err


@pytest.mark.parametrize("path", [p for p in EXAMPLE_FILES if p.stem not in ("healthy",)], ids=lambda p: p.stem)
def test_why_for_every_example_top_rule_and_a_quiet_rule(pack: CompiledPack, path: Path) -> None:
    f = facts.derive(contract.validate(load_json(path)))
    report = pack.diagnose(load_json(path))
    top = pack.rule(report.findings[0].rule_id)
    assert explain.why(top.node, f).result is True
    quiet = next(cr for cr, r in pack.evaluate(f) if r is False)
    root = explain.why(quiet.node, f)
    assert root.result is False
    summary = explain.nearest_miss(root)
    assert "needed" in summary and "found" in summary


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_every_finding_says_what_would_clear_it(pack: CompiledPack, path: Path) -> None:
    report = pack.diagnose(load_json(path))
    for finding in report.findings:
        assert finding.clears_when, finding.rule_id
        assert all(step.fact and step.needed and step.text for step in finding.clears_when)


@pytest.mark.parametrize(
    ("example", "rule", "fact", "eta"),
    [
        ("ops-maintenance", "OPS-MAINTENANCE", "system.maintenance_active", "2024-04-13T07:00:00+08:00"),
        ("ops-repayment-unposted", "OPS-REPAYMENT-UNPOSTED", "repayments.unposted_hours_interbank", "2024-03-04T15:30:00+08:00"),
        ("brw-cooling-off", "BRW-COOLING-OFF", "credit.days_since_cure", "2024-09-08"),
        ("ops-batch-window", "OPS-BATCH-WINDOW", "system.batch_active", "2024-05-21T02:00:00+08:00"),
        ("liq-period-end", "LIQ-PERIOD-END", "calendar.days_to_quarter_end", "2025-01-01"),
    ],
)
def test_clears_when_gives_the_time_the_snapshot_allows(pack: CompiledPack, example: str, rule: str, fact: str, eta: str) -> None:
    report = pack.diagnose(load_json(EXAMPLES / f"{example}.json"))
    finding = next(f for f in report.findings if f.rule_id == rule)
    step = next(s for s in finding.clears_when if s.fact == fact)
    assert step.eta == eta


def test_cooling_off_eta_is_cure_plus_the_period(pack: CompiledPack) -> None:
    data = load_json(EXAMPLES / "brw-cooling-off.json")
    as_of = data["as_of"][:10]
    from datetime import date, timedelta

    cure_days = data["credit"]["days_since_cure"]
    expected = date.fromisoformat(as_of) + timedelta(days=90 - cure_days + 1)
    finding = next(f for f in pack.diagnose(data).findings if f.rule_id == "BRW-COOLING-OFF")
    assert finding.clears_when[0].eta == expected.isoformat()


def test_explain_adds_near_misses_and_deciding_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "liq-period-end.json"), "-f", "json", "--explain")
    assert code == 0
    report = json.loads(out)
    misses = {m["rule_id"]: m for m in report["near_misses"]}
    assert "LIQ-FUNDER-QUOTA" in misses and 0 < misses["LIQ-FUNDER-QUOTA"]["distance"] <= 0.2
    assert all(u["would_fire_if"] for u in report["undetermined"])
    code, plain, _ = cli(capsys, "run", str(EXAMPLES / "liq-period-end.json"), "-f", "json")
    assert json.loads(plain)["near_misses"] == []


def test_rich_view_has_a_timeline_with_now_marked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"))
    assert code == 0
    assert "Timeline" in out
    lines = out.splitlines()
    paid = next(i for i, line in enumerate(lines) if "rp-20240114-01 of 20,000.00 submitted" in line)
    posted = next(i for i, line in enumerate(lines) if "rp-20240114-01 posted" in line)
    now = next(i for i, line in enumerate(lines) if "◆" in line)
    assert paid < posted < now
    assert "38,000.00 should be available" in lines[now]


INTERNAL = re.compile(r"\b[a-z_]+\.[a-z_][a-z0-9_.]*\b")


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_customer_message_has_nothing_internal(capsys: pytest.CaptureFixture[str], pack: CompiledPack, path: Path, lang: str) -> None:
    code, out, err = cli(capsys, "run", str(path), "--audience", "customer", "--format", "message", "--lang", lang)
    assert code == 0, err
    assert not INTERNAL.findall(out), INTERNAL.findall(out)
    data: dict[str, Any] = load_json(path)
    funder = (data.get("funding") or {}).get("funder")
    if funder:
        assert funder not in out
    for incident in (data.get("system") or {}).get("incidents") or []:
        assert incident["id"] not in out
    full = pack.diagnose(data, lang=lang)
    for finding in full.findings:
        for remedy in finding.remedies.institution + finding.remedies.agent:
            assert remedy not in out
    if lang == "zh":
        assert "您好" in out


def test_customer_audience_in_json_keeps_the_keys_and_drops_internals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "liq-funder-paused.json"), "-f", "json", "--audience", "customer")
    assert code == 0
    report = json.loads(out)
    assert report["audience"] == "customer" and report["undetermined"] == []
    for f in report["findings"]:
        assert f["evidence"] == [] and f["remedies"]["agent"] == [] and f["remedies"]["institution"] == []
        assert f["remedies"]["customer"]
    funder = load_json(EXAMPLES / "liq-funder-paused.json")["funding"]["funder"]
    assert funder not in out


def test_agent_view_hides_institution_remedies_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"))
    assert code == 0 and "For the support agent" in out and "For the institution" not in out
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "--audience", "all")
    assert "For the institution" in out


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


_NAMES = re.compile(r"[A-Z]{2,}(-[A-Z0-9]+)*|[a-z_]+(\[\d*\])?(\.[a-z_0-9\[\]]+)+|\b[a-z0-9]+(_[a-z0-9]+)+\b|sha256:[0-9a-f]+")
_TEXT_KEYS = {"title", "explanation", "customer", "agent", "institution", "text", "summary", "needed", "label", "warnings"}


def _texts(value: Any, key: str = "") -> list[str]:
    """The human texts of a JSON report (not its codes, facts and values)."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _texts(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _texts(v, key)]
    return [value] if isinstance(value, str) and key in _TEXT_KEYS else []


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_chinese_output_has_no_english_prose(capsys: pytest.CaptureFixture[str], path: Path, fmt: str) -> None:
    """--lang zh: Chinese throughout, except ids, field and parameter names, and the snapshot's own data."""
    code, out, _ = cli(capsys, "run", str(path), "--lang", "zh", "--audience", "all", "--explain", "-f", fmt)
    assert code == 0
    if fmt == "json":
        out = "\n".join(_texts(json.loads(out)))
    else:
        out = re.sub(r"\\(.)", r"\1", out)  # Markdown escapes
        out = "\n".join(line for line in out.splitlines() if not line.startswith("_"))  # the rule pack line
    data = sorted(_strings(load_json(path)), key=len, reverse=True)
    for value in (v for v in data if " " in v):  # multi-word data first (notices, reasons), then names, then codes
        out = out.replace(value, " ")
    out = _NAMES.sub(" ", out)
    for value in data:
        out = out.replace(value, " ")
    english = re.findall(r"\b[a-z]{3,}\b", _NAMES.sub(" ", out))
    assert not english, sorted(set(english))


def test_a_condition_said_once_is_said_again_the_same_and_equal_values_of_other_types_apart() -> None:
    """why.condition keeps the words of a rule's scalar thresholds: True, 1 and 1.0 are equal keys, yet read differently."""
    said = [explain.condition("==", value, "account.student", "en") for value in (True, 1, 1.0, True, 1)]
    assert said == ["== yes", "== 1", "== 1", "== yes", "== 1"]
    assert explain.condition(">=", 0.5, "line.utilization", "zh", "high_use") == explain.condition(
        ">=", 0.5, "line.utilization", "zh", "high_use"
    )
    assert explain.condition("between", [1, 3], "credit.tier_drop", "en") == "between 1 and 3"  # a list is said each time, never kept
    zeros = [explain.condition(">=", value, "loans.overdue_amount", "en") for value in (0.0, -0.0, 0.0)]
    assert zeros == [">= 0.00", ">= -0.00", ">= 0.00"]  # equal keys that read differently: never kept
    kept = explain._said.cache_info().currsize
    assert explain.condition("==", "x" * 100_000, "account.region", "en").startswith("== x")  # a snapshot's long text: never kept
    assert explain._said.cache_info().currsize == kept


def test_near_misses_word_only_those_kept() -> None:
    """A restriction no cause explains keeps the closest three: only those are titled and worded, in the order of all of them."""
    pack = diagnose.load_pack()
    snap = load_json(EXAMPLES / "healthy.json")
    snap["line"]["status"] = "suspended"
    _, f, _ = pack.prepare(snap)
    asked: list[str] = []

    def titled(rule_id: str) -> Callable[[], str]:
        def title() -> str:
            asked.append(rule_id)
            return f"title of {rule_id}"

        return title

    misses = [(cr.rule.id, titled(cr.rule.id), explain.why(cr.node, f, False)) for cr, r in pack.outcomes(f) if r is False]
    every = explain.near_misses(misses, "en", 0.99)
    asked.clear()
    first = explain.near_misses(misses, "en", 0.99, limit=3)
    assert len(every) > 3 and first == every[:3]
    assert asked == [m.rule_id for m in first]
    assert [(m.distance, m.rule_id) for m in every] == sorted((m.distance, m.rule_id) for m in every)
    report = pack.diagnose(snap)
    assert report.unexplained is not None and [m.rule_id for m in report.unexplained.near_misses] == [m.rule_id for m in first]


def _facts_to_try() -> list[dict[str, Any]]:
    """Facts of real-looking accounts: the examples and generated snapshots, each also suspended, and with facts dropped."""
    import random

    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    snaps = [load_json(p) for p in EXAMPLE_FILES]
    snaps += [json.loads(line.text) for line in Generator(pack, load_templates(pack), seed=9).lines(120)]
    rng = random.Random(4)
    out = []
    for snap in snaps:
        _, f, _ = pack.prepare(snap)
        out.append(f)
        suspended = json.loads(json.dumps(snap))
        suspended["line"]["status"] = "suspended"
        out.append(pack.prepare(suspended)[1])
        out.append({k: v for k, v in f.items() if rng.random() > 0.3 or k == "calendar.date"})
    return out


FACTS_TO_TRY = _facts_to_try()


def test_the_distance_without_a_tree_is_the_trees() -> None:
    """why.distance gives why's result and distance on every rule; past a cap it says only that it is past it, the result exact."""
    pack = diagnose.load_pack()
    past = 0
    for f in FACTS_TO_TRY:
        for cr, r in pack.outcomes(f):
            for known in (..., r):
                tree = explain.why(cr.node, f, known)
                assert explain.distance(cr.node, f, known=known) == (tree.result, tree.distance), cr.rule.id
                for cap in (0.0, 0.2, 0.5, 0.99):
                    result, dist = explain.distance(cr.node, f, cap, known)
                    assert result == tree.result, cr.rule.id
                    if tree.distance is None or tree.distance <= cap:
                        assert dist == tree.distance, (cr.rule.id, cap)
                    else:
                        assert dist is not None and dist > cap, (cr.rule.id, cap)
                        past += dist != tree.distance
    assert past > 100  # the cap did stop some sums early


def test_a_rule_that_cannot_come_close_is_always_at_distance_one_when_false() -> None:
    pack = diagnose.load_pack()
    never = [cr for cr in pack.rules if not explain.may_come_close(cr.node)]
    assert 3 <= len(never) < len(pack.rules)
    false = 0
    for f in FACTS_TO_TRY:
        for cr in never:
            tree = explain.why(cr.node, f)
            if tree.result is False:
                false += 1
                assert tree.distance == 1.0, cr.rule.id
    assert false > 200
    from diagnose.engine.conditions import compile_condition

    def close(cond: dict[str, Any]) -> bool:
        return explain.may_come_close(compile_condition(cond, {"cap": 0.5, "none": 0}))

    assert close({"fact": "line.utilization", "op": ">=", "value": 0.5})
    assert close({"fact": "line.utilization", "op": ">=", "param": "cap"})
    assert close({"fact": "line.used", "op": "<", "ref": "line.total_limit"})
    assert close(
        {"any": [{"fact": "account.student", "op": "==", "value": True}, {"fact": "credit.score", "op": "between", "value": [1, 3]}]}
    )
    assert not close({"fact": "loans.overdue_amount", "op": ">", "param": "none"})  # a comparison with zero: is there any at all
    assert not close({"fact": "account.student", "op": "==", "value": True})
    assert not close({"not": {"fact": "line.utilization", "op": ">=", "value": 0.5}})
    assert not close({"all": [{"fact": "account.student", "op": "==", "value": True}, {"fact": "credit.tier", "op": "exists"}]})


@pytest.mark.parametrize(("threshold", "limit"), [(0.2, None), (0.99, 3), (0.99, 1), (0.99, None), (0.5, 2)])
def test_the_closest_misses_are_the_near_misses_of_every_tree(threshold: float, limit: int | None) -> None:
    """why.closest, which builds trees only for the misses it keeps, gives near_misses over every false rule's tree."""
    pack = diagnose.load_pack()
    kept = 0
    for f in FACTS_TO_TRY:
        false = [cr for cr, r in pack.outcomes(f) if r is False]
        for lang in ("en", "zh"):
            titles = [partial(cr.render, "title", f, pack.params, lang) for cr in false]
            trees = [(cr.rule.id, title, explain.why(cr.node, f, False)) for cr, title in zip(false, titles, strict=True)]
            nodes = [(cr.rule.id, title, cr.node) for cr, title in zip(false, titles, strict=True)]
            expected = explain.near_misses(trees, lang, threshold, limit)
            assert explain.closest(nodes, f, lang, threshold, limit) == expected
            kept += len(expected)
    assert kept > 50


def test_misses_at_the_same_distance_are_kept_by_rule_id() -> None:
    """Misses are ranked by distance to four places, then by id: one a hair further than the last kept may still come before it."""
    from diagnose.engine.conditions import compile_condition

    f = {"line.utilization": 0.4, "credit.score": 600}
    rules = [
        (rule_id, lambda rule_id=rule_id: rule_id, compile_condition(cond, {}))
        for rule_id, cond in [
            ("C", {"fact": "line.utilization", "op": ">=", "value": 0.5}),
            ("A", {"fact": "line.utilization", "op": ">=", "value": 0.5}),
            ("B", {"all": [{"fact": "line.utilization", "op": ">=", "value": 0.50001}, {"fact": "credit.score", "op": "exists"}]}),
            ("D", {"fact": "credit.score", "op": ">=", "value": 2000}),
            ("E", {"fact": "line.utilization", "op": ">=", "value": 0.5002}),
        ]
    ]
    closest = [(m.rule_id, m.distance) for m in explain.closest(rules, f, "en", 0.99)]
    assert closest == [("A", 0.2), ("B", 0.2), ("C", 0.2), ("E", 0.2003), ("D", 0.7)]  # B is 0.20002: the same to four places
    for limit in range(1, 6):
        assert [m.rule_id for m in explain.closest(rules, f, "en", 0.99, limit)] == [rule_id for rule_id, _ in closest[:limit]]


def test_the_distance_of_nested_conditions_is_the_trees() -> None:
    """Shapes the default pack does not have: an `any` of `all`s, where a child past the closest so far is cut short."""
    from diagnose.engine.conditions import compile_condition

    f = {"line.utilization": 0.4, "credit.score": 600, "credit.dti": 0.3}
    util = {"fact": "line.utilization", "op": ">=", "value": 0.8}  # 0.5 away
    score = {"fact": "credit.score", "op": ">=", "value": 1000}  # 0.4 away
    dti = {"fact": "credit.dti", "op": ">=", "value": 0.6}  # 0.5 away
    unknown = {"fact": "credit.tier", "op": "==", "value": "A"}
    shapes = [
        {"any": [util, {"all": [score, dti]}, {"all": [score, score]}]},
        {"any": [{"all": [util, dti]}, score, {"all": [dti, unknown]}]},
        {"all": [{"any": [util, score]}, {"not": util}, {"any": [{"all": [score, unknown]}, dti]}]},
        {"any": [{"any": [dti, {"all": [score, util]}]}, {"all": [util, score, dti]}]},
        {"all": [unknown, score]},
    ]
    for shape in shapes:
        node = compile_condition(shape, {})
        for known in (..., node.test(f)):
            tree = explain.why(node, f, known)
            for cap in (float("inf"), 0.99, 0.6, 0.45, 0.1):
                result, dist = explain.distance(node, f, cap, known)
                assert result == tree.result, shape
                assert dist == tree.distance if tree.distance is None or tree.distance <= cap else dist is not None and dist > cap, (
                    shape,
                    cap,
                )


def test_a_value_filled_once_is_filled_again_the_same_and_equal_values_of_other_types_apart() -> None:
    """templates.fill keeps the words of scalar values: True, 1 and 1.0 are equal keys, yet read differently; 0.0 and -0.0 too."""
    from diagnose.pack import templates

    spec = facts.catalog()["line.utilization"]
    plan = templates.plan("{params.x} / {line.utilization}")
    for lang in ("en", "zh", "en"):
        for value in (True, 1, 1.0, 0.0, -0.0, 0.0, True, "frozen", 0.25, 1, -0.0):
            filled = templates.fill(plan, {"line.utilization": value}, {"x": value}, lang)
            plain = templates.format_value(value, None, None, lang) + " / " + templates.format_value(value, None, spec, lang)
            assert filled == plain, (value, lang)
    assert templates.fill(plan, {"line.utilization": True}, {"x": 1}, "en") != templates.fill(
        plan, {"line.utilization": 1}, {"x": True}, "en"
    )
    kept = templates._formatted.cache_info().currsize
    long_text = "备注" * 5_000  # a snapshot's free text: worded, never kept
    assert templates.fill(templates.plan("{params.x}"), {}, {"x": long_text}, "zh") == templates.format_value(long_text, None, None, "zh")
    assert templates._formatted.cache_info().currsize == kept
