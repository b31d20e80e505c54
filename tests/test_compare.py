"""Diffs, histories and portfolio diffs on pairs built from the bundled examples: exact facts, turned conditions, summaries."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from diagnose.compare.model import Diff, FactChange, Turn
from diagnose.compare.portfolio import diff_reports
from diagnose.errors import InvalidInput, UsageError

from .conftest import EXAMPLES, load_json

# --- pairs of snapshots of one account, built from the examples ----------------------------


def example(name: str) -> dict[str, Any]:
    return load_json(EXAMPLES / f"{name}.json")  # type: ignore[no-any-return]


def new_liquidity_cause() -> tuple[dict[str, Any], dict[str, Any]]:
    """A week before the example, the funding partner still had 45% of its quota and the draw went through."""
    after = example("liq-funder-quota")
    before = copy.deepcopy(after)
    before["as_of"] = "2024-05-07T09:42:00+08:00"
    before["funding"]["funder_quota_remaining_pct"] = 45.0
    before["request"] |= {"at": "2024-05-07T09:35:00+08:00", "outcome": "approved", "error_code": None}
    before["line"]["available"] = 46000
    return before, after


def cured_overdue() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two days after the example the overdue draw is repaid in full: the cooling-off period starts."""
    before = example("brw-overdue")
    after = copy.deepcopy(before)
    after["as_of"] = "2024-06-20T10:00:00+08:00"
    after["loans"][0] |= {"outstanding": 0, "overdue_days": 0, "overdue_amount": 0, "fees_outstanding": 0}
    after["line"]["used"] = 7500
    after["credit"]["days_since_cure"] = 1
    after["request"] |= {"at": "2024-06-20T09:50:00+08:00"}
    return before, after


def maintenance_ended() -> tuple[dict[str, Any], dict[str, Any]]:
    """Half an hour after maintenance MNT-2024-041 ended (07:00), the repayment made during it has posted."""
    before = example("ops-maintenance")
    after = copy.deepcopy(before)
    after["as_of"] = "2024-04-13T07:30:00+08:00"
    after["repayments"][0] |= {
        "status": "posted",
        "posted_at": "2024-04-13T07:02:00+08:00",
        "applied_to_principal": 8000,
        "applied_to_fees": 0,
    }
    after["line"] |= {"used": 10000, "available": 40000}
    return before, after


def limit_cut_with_policy_change() -> tuple[dict[str, Any], dict[str, Any]]:
    """Before the credit policy tightened (2024-03-01) and the limit was cut from 50,000 to 35,000."""
    after = example("pol-tightening")
    before = copy.deepcopy(after)
    before["as_of"] = "2024-02-20T16:40:00+08:00"
    before["line"] |= {"total_limit": 50000, "available": 38000, "limit_changed_on": "2023-06-01", "last_draw_on": "2024-01-28"}
    before["policy"] |= {"version": "2023.12", "previous_version": "2023.09", "changed_on": "2023-12-01", "direction": "neutral"}
    before["policy"]["segment_cut_share"] = 0.0
    before["request"] |= {"at": "2024-02-20T16:31:00+08:00", "outcome": "approved", "error_code": None}
    return before, after


def fact(d: Diff, rule_id: str, name: str) -> FactChange:
    return next(fc for fc in d.cause(rule_id).facts if fc.fact == name)


# --- the five pairs of the issue -------------------------------------------------------------


def test_a_new_liquidity_cause(pack: Any) -> None:
    d = pack.diff(*new_liquidity_cause())
    assert (d.before.verdict, d.after.verdict, d.changed, d.verdict_changed) == ("healthy", "restricted", True, True)
    assert [(c.rule_id, c.change) for c in d.causes] == [("LIQ-FUNDER-QUOTA", "appeared")]
    cause = d.cause("LIQ-FUNDER-QUOTA")
    assert (cause.before.status, cause.after.status, cause.after.rank) == ("no", "holds", 1)
    assert fact(d, "LIQ-FUNDER-QUOTA", "funding.funder_quota_remaining_pct") == FactChange(
        "funding.funder_quota_remaining_pct", "fell", 45.0, 2.3, "45%", "2.3%"
    )
    assert cause.conditions == (
        Turn("funding.funder_quota_remaining_pct", "<=", "<= 5% (funder_quota_low_pct)", False, True),
        Turn("line.limit_short", "==", "== yes", False, True),
    )
    # the verdict's own facts, and apart from them what changed but decided nothing
    assert [fc.fact for fc in d.verdict_facts] == ["line.available", "line.restore_gap", "request.outcome"]
    others = {fc.fact for fc in d.other_facts}
    assert {"request.error_code", "calendar.date"} <= others
    assert not others & {fc.fact for fc in cause.facts + d.verdict_facts}
    assert d.summary == (
        "The verdict went from healthy to restricted between 2024-05-07 and 2024-05-14. "
        "funding.funder_quota_remaining_pct fell from 45% to 2.3%: a new cause, LIQ-FUNDER-QUOTA. "
        "10 facts changed but decided nothing."
    )
    zh = pack.diff(*new_liquidity_cause(), lang="zh")
    assert zh.summary == (
        "2024-05-07 至 2024-05-14，结论由正常变为受限。"
        "funding.funder_quota_remaining_pct 由 45% 降至 2.3%：新增原因 LIQ-FUNDER-QUOTA。"
        "另有 10 项数据变化，但未改变任何判断。"
    )


def test_a_cured_overdue(pack: Any) -> None:
    d = pack.diff(*cured_overdue())
    assert [(c.rule_id, c.change) for c in d.causes] == [
        ("BRW-COOLING-OFF", "appeared"),
        ("BRW-OVERDUE", "cleared"),
    ]
    overdue = d.cause("BRW-OVERDUE")
    assert (overdue.before.rank, overdue.after.status) == (1, "no")
    assert overdue.facts == (FactChange("loans.max_overdue_days", "fell", 12, 0, "12", "0"),)
    assert overdue.conditions == (Turn("loans.max_overdue_days", ">=", ">= 1", True, False),)
    cooling = d.cause("BRW-COOLING-OFF")
    assert cooling.before.status == "undetermined"  # days_since_cure was unknown before the cure
    assert cooling.facts == (FactChange("credit.days_since_cure", "known", None, 1, "unknown", "1"),)
    assert cooling.conditions == (Turn("credit.days_since_cure", "<=", "<= 90 (cooling_off_days)", None, True),)
    assert d.summary == (
        "The verdict stayed blocked between 2024-06-18 and 2024-06-20. "
        "credit.days_since_cure became known (1): a new cause, BRW-COOLING-OFF. "
        "loans.max_overdue_days fell from 12 to 0: BRW-OVERDUE cleared. "
        "16 facts changed but decided nothing."
    )
    assert "loans.overdue_amount" in {fc.fact for fc in d.other_facts}


def test_a_maintenance_window_that_ended(pack: Any) -> None:
    d = pack.diff(*maintenance_ended())
    assert (d.before.verdict, d.after.verdict) == ("restricted", "healthy")
    assert [(c.rule_id, c.change) for c in d.causes] == [("OPS-MAINTENANCE", "cleared"), ("OPS-REPAYMENT-UNPOSTED", "cleared")]
    maint = d.cause("OPS-MAINTENANCE")
    assert maint.facts[0] == FactChange("system.maintenance_active", "changed", True, False, "yes", "no")
    assert Turn("system.maintenance_active", "==", "== yes", True, False) in maint.conditions
    assert d.summary.startswith(
        "The verdict went from restricted to healthy between 2024-04-13 03:10 and 07:30. "
        "system.maintenance_active changed from yes to no: OPS-MAINTENANCE cleared."
    )


def test_a_limit_cut_with_a_policy_change(pack: Any) -> None:
    d = pack.diff(*limit_cut_with_policy_change())
    assert (d.before.verdict, d.after.verdict) == ("healthy", "restricted")
    assert [(c.rule_id, c.change) for c in d.causes] == [("POL-TIGHTENING", "appeared")]
    cause = d.cause("POL-TIGHTENING")
    assert cause.facts == (
        FactChange("policy.direction", "changed", "neutral", "tightening", "neutral", "tightening"),
        FactChange("policy.segment_cut_share", "rose", 0.0, 0.23, "0%", "23%"),
    )
    assert cause.conditions == (
        Turn("policy.direction", "==", "== tightening", False, True),
        Turn("policy.segment_cut_share", ">=", ">= 10% (tightening_segment_cut_share)", False, True),
    )
    # the cut itself decided the verdict (a limit below the previous one is restricted), not the cause
    assert d.verdict_facts == (
        FactChange("line.available", "fell", 38000.0, 23000.0, "38,000.00", "23,000.00"),
        FactChange("line.limit_cut_pct", "rose", 0.0, 0.3, "0%", "30%"),
        FactChange("request.outcome", "changed", "approved", "refused", "approved", "refused"),
    )
    assert "line.total_limit" in {fc.fact for fc in d.other_facts}
    assert d.summary == (
        "The verdict went from healthy to restricted between 2024-02-20 and 2024-04-18. "
        "policy.direction changed from neutral to tightening and policy.segment_cut_share rose from 0% to 23%: "
        "a new cause, POL-TIGHTENING. 18 facts changed but decided nothing."
    )


def test_no_change_at_all(pack: Any) -> None:
    snap = example("healthy")
    d = pack.diff(snap, copy.deepcopy(snap))
    assert (d.changed, d.causes, d.other_facts, d.swapped) == (False, (), (), False)
    assert d.summary == "No change at 2024-03-05 14:20: the verdict stays healthy, and no cause holds."
    assert pack.diff(snap, snap, lang="zh").summary == "2024-03-05 14:20，没有变化：结论仍为正常，没有成立的原因。"
    quota = example("liq-funder-quota")
    assert pack.diff(quota, quota).summary == (
        "No change at 2024-05-14 09:42: the verdict stays restricted, and the same causes hold: LIQ-FUNDER-QUOTA."
    )


# --- rules of comparing ------------------------------------------------------------------


def test_two_accounts_are_an_error_unless_allowed(pack: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        pack.diff(example("healthy"), example("liq-funder-quota"))
    assert caught.value.exit_code == 4
    assert "acct-5c21e8" in caught.value.render() and "--cross-account" in caught.value.render()
    d = pack.diff(example("healthy"), example("liq-funder-quota"), allow_different_accounts=True)
    assert (d.before.account_id, d.after.account_id) == ("acct-5c21e8", "acct-3e9b20")


def test_after_older_than_before_is_swapped_with_a_warning(pack: Any) -> None:
    before, after = new_liquidity_cause()
    d = pack.diff(after, before)
    assert d.swapped
    assert (d.before.as_of, d.after.as_of) == ("2024-05-07T09:42:00+08:00", "2024-05-14T09:42:00+08:00")
    assert d.warnings[0].startswith("AFTER (as of 2024-05-07T09:42:00+08:00) is older than BEFORE")
    assert d.causes == pack.diff(before, after).causes


def test_a_rank_change_names_the_facts_that_moved_the_score(pack: Any) -> None:
    _, after = new_liquidity_cause()
    later = copy.deepcopy(after)
    later["as_of"] = "2024-05-21T09:42:00+08:00"
    later["funding"]["funder_quota_remaining_pct"] = 1.5
    d = pack.diff(after, later)
    cause = d.cause("LIQ-FUNDER-QUOTA")
    assert cause.change == "changed" and cause.conditions == ()
    assert (cause.before.score, cause.after.score) == (55.17, 58.24)
    assert "LIQ-FUNDER-QUOTA's score went from 55.17 to 58.24: funding.funder_quota_remaining_pct fell from 2.3% to 1.5%." in d.summary


def test_the_json_follows_the_published_schema(pack: Any) -> None:
    from jsonschema import Draft202012Validator

    from diagnose.packci import schemas

    for name, data in (
        ("diff", json.loads(pack.diff(*cured_overdue()).to_json())),
        ("history", json.loads(pack.history(list(cured_overdue())).to_json())),
    ):
        schema = json.loads(schemas.path(name).read_text(encoding="utf-8"))
        assert [e.message for e in Draft202012Validator(schema).iter_errors(data)] == []


# --- history ---------------------------------------------------------------------------------


def test_history_follows_causes_over_time(pack: Any) -> None:
    before, after = new_liquidity_cause()
    cured = copy.deepcopy(after)
    cured["as_of"] = "2024-05-28T09:42:00+08:00"
    cured["funding"]["funder_quota_remaining_pct"] = 38.0
    cured["request"] |= {"outcome": "approved", "error_code": None}
    cured["line"]["available"] = 46000
    h = pack.history([("c.json", cured), ("a.json", after), ("b.json", before)])  # any order: sorted by as_of
    assert [m.source for m in h.snapshots] == ["b.json", "a.json", "c.json"]
    assert [m.verdict for m in h.snapshots] == ["healthy", "restricted", "healthy"]
    quota = next(t for t in h.causes if t.rule_id == "LIQ-FUNDER-QUOTA")
    assert (quota.states, quota.ranks) == (("no", "holds", "no"), (None, 1, None))
    assert [[(c.rule_id, c.change) for c in s.causes] for s in h.steps] == [
        [("LIQ-FUNDER-QUOTA", "appeared")],
        [("LIQ-FUNDER-QUOTA", "cleared")],
    ]
    assert h.steps[1].cause("LIQ-FUNDER-QUOTA").facts[0] == FactChange(
        "funding.funder_quota_remaining_pct", "rose", 2.3, 38.0, "2.3%", "38%"
    )


def test_history_of_two_accounts_is_an_error(pack: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        pack.history([example("healthy"), example("liq-funder-quota")])
    assert caught.value.exit_code == 4
    with pytest.raises(UsageError):
        pack.history([])


# --- the portfolio from one day to the next -----------------------------------------------------


def _report_line(pack: Any, name: str, account: str) -> bytes:
    snap = example(name)
    snap["account"]["id"] = account
    return pack.diagnose(snap).to_json_bytes() + b"\n"


def test_portfolio_diff_counts_each_account_once(pack: Any, tmp_path: Path) -> None:
    day1 = tmp_path / "day1.jsonl"
    day2 = tmp_path / "day2.jsonl"
    day1.write_bytes(
        _report_line(pack, "healthy", "a-1")
        + _report_line(pack, "brw-overdue", "a-2")
        + _report_line(pack, "ops-maintenance", "a-3")
        + _report_line(pack, "healthy", "a-4")
    )
    day2.write_bytes(
        _report_line(pack, "liq-funder-quota", "a-1")  # healthy -> restricted: LIQ-FUNDER-QUOTA appeared
        + _report_line(pack, "healthy", "a-3")  # restricted -> healthy: two causes cleared
        + _report_line(pack, "brw-overdue", "a-2")
        + b"\n"
        + _report_line(pack, "healthy", "a-5")  # new
        + _report_line(pack, "healthy", "a-2")  # a-2 seen again, later in the file but an older snapshot: it does not count
    )
    accounts = tmp_path / "accounts.jsonl"
    r = diff_reports(str(day1), str(day2), accounts=accounts)
    assert (r.before.lines, r.before.accounts, r.before.duplicates) == (4, 4, 0)
    assert (r.after.lines, r.after.accounts, r.after.duplicates) == (5, 4, 1)
    assert (r.both, r.only_before, r.only_after, r.reconciled) == (3, 1, 1, True)
    assert {(t.before, t.after): (t.accounts, t.sample) for t in r.transitions} == {
        ("healthy", "restricted"): (1, ("a-1",)),
        ("restricted", "healthy"): (1, ("a-3",)),
        ("blocked", "blocked"): (1, ("a-2",)),
    }
    moves = {c.rule_id: (c.appeared, c.cleared, c.appeared_sample, c.cleared_sample) for c in r.causes}
    assert moves == {
        "LIQ-FUNDER-QUOTA": (1, 0, ("a-1",), ()),
        "OPS-MAINTENANCE": (0, 1, (), ("a-3",)),
        "OPS-REPAYMENT-UNPOSTED": (0, 1, (), ("a-3",)),
    }
    assert [(p.verdict, p.accounts, p.sample) for p in r.gone] == [("healthy", 1, ("a-4",))]
    assert [(p.verdict, p.accounts, p.sample) for p in r.new] == [("healthy", 1, ("a-5",))]
    rows = [orjson.loads(line) for line in accounts.read_bytes().splitlines()]
    assert [(row["account_id"], row["bucket"]) for row in rows] == [
        ("a-1", "both"),
        ("a-2", "both"),
        ("a-3", "both"),
        ("a-4", "only_before"),
        ("a-5", "only_after"),
    ]
    assert r.summary == (
        "2 of 3 accounts in both files changed verdict (1 worse, 1 better); most often appeared: LIQ-FUNDER-QUOTA (1); "
        "most often cleared: OPS-MAINTENANCE (1), OPS-REPAYMENT-UNPOSTED (1); accounts only in the first file: 1, only in the second: 1."
    )


def test_portfolio_diff_of_generated_days_reconciles(pack: Any, tmp_path: Path) -> None:
    from diagnose.portfolio.generate import Generator, load_templates

    templates = load_templates(pack)
    files = []
    for seed in (1, 2):
        path = tmp_path / f"day{seed}.jsonl"
        with path.open("wb") as fh:
            for i, line in enumerate(Generator(pack, templates, seed=seed).lines(300)):
                data = orjson.loads(line.text)
                data["account"]["id"] = f"acct-{i + (seed - 1) * 50:04d}"  # day 2: 50 accounts left, 50 new
                fh.write(pack.diagnose(data).to_json_bytes() + b"\n")
        files.append(str(path))
    r = diff_reports(*files)
    assert (r.both, r.only_before, r.only_after, r.reconciled) == (250, 50, 50, True)
    assert sum(t.accounts for t in r.transitions) == 250
    assert sum(p.accounts for p in r.gone) == 50 == sum(p.accounts for p in r.new)


def test_portfolio_diff_refuses_a_line_that_is_not_a_report(pack: Any, tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_bytes(_report_line(pack, "healthy", "a-1"))
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(_report_line(pack, "healthy", "a-1") + b'{"verdict": "healthy"\n')
    with pytest.raises(InvalidInput) as caught:
        diff_reports(str(good), str(bad))
    assert caught.value.source == f"{bad}:2"
    assert "not a report" in caught.value.render()


def test_portfolio_diff_reads_gzip_and_standard_input(pack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip
    import io
    import sys

    day1 = tmp_path / "day1.jsonl.gz"
    with gzip.open(day1, "wb") as fh:
        fh.write(_report_line(pack, "healthy", "a-1") + _report_line(pack, "healthy", "a-2"))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(_report_line(pack, "liq-funder-quota", "a-2"))))
    r = diff_reports(str(day1), "-")
    assert (r.before.file, r.after.file, r.both, r.only_before, r.only_after) == (str(day1), "<stdin>", 1, 1, 0)
    assert [(t.before, t.after, t.sample) for t in r.transitions] == [("healthy", "restricted", ("a-2",))]
    with pytest.raises(UsageError):
        diff_reports("-", "-")


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_every_example_against_itself_is_no_change(pack: Any, path: Path) -> None:
    snap = load_json(path)
    d = pack.diff(snap, snap)
    assert (d.changed, d.causes, d.other_facts, d.verdict_facts) == (False, (), (), ())
    assert d.summary.startswith("No change at ")
    assert pack.diff(snap, snap, lang="zh").summary.endswith("。")


def test_portfolio_diff_warns_when_the_days_used_other_rule_packs(pack: Any, tmp_path: Path) -> None:
    day1 = tmp_path / "day1.jsonl"
    day1.write_bytes(_report_line(pack, "healthy", "a-1"))
    report = orjson.loads(_report_line(pack, "healthy", "a-1"))
    report["ruleset"] |= {"version": "1.1.0", "digest": "sha256:0123456789abcdef0123"}
    day2 = tmp_path / "day2.jsonl"
    day2.write_bytes(orjson.dumps(report) + b"\n")
    r = diff_reports(str(day1), str(day2))
    assert r.warnings == (
        f"the two files were diagnosed with different rule packs (before: default 1.0.0 ({pack.ruleset.digest[:19]}); "
        "after: default 1.1.0 (sha256:0123456789ab)): some changes may come from the rules, not from the accounts",
    )
    assert diff_reports(str(day1), str(day1)).warnings == ()


def test_causes_that_moved_are_the_set_differences_and_each_names_what_turned(pack: Any) -> None:
    """Across every example and the next one (two accounts, compared on purpose): the diff's causes are exactly the
    findings that came and went, each with a turned condition and the changed facts it reads."""
    paths = sorted(EXAMPLES.glob("*.json"))
    for first, second in zip(paths, paths[1:] + paths[:1], strict=True):
        a, b = load_json(first), load_json(second)
        d = pack.diff(a, b, allow_different_accounts=True)
        held_before, held_after = set(d.before.causes), set(d.after.causes)
        moved = {c.rule_id: c.change for c in d.causes}
        assert {r for r, c in moved.items() if c == "appeared"} == held_after - held_before, (first.stem, second.stem)
        assert {r for r, c in moved.items() if c == "cleared"} == held_before - held_after, (first.stem, second.stem)
        for cause in d.causes:
            if cause.change != "changed":
                assert cause.conditions and cause.facts, (first.stem, second.stem, cause.rule_id)
                assert {t.fact for t in cause.conditions} <= {f.fact for f in cause.facts} | {"line.limit_short"} | {
                    t.fact for t in cause.conditions if t.op in ("exists", "missing")
                }
        decided = {f.fact for f in d.verdict_facts} | {f.fact for c in d.causes for f in c.facts}
        assert not decided & {f.fact for f in d.other_facts}, "a fact that decided something is not listed as deciding nothing"
