"""What the data supports: local time, incidents that touch lending, explanations, applicability, partial knowledge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from diagnose.errors import InvalidInput
from tests.conftest import EXAMPLES, load_json


def _fired(pack: Any, snapshot: dict[str, Any]) -> set[str]:
    return {f.rule_id for f in pack.diagnose(snapshot).findings}


def _undetermined(pack: Any, snapshot: dict[str, Any]) -> set[str]:
    return {u.rule_id for u in pack.diagnose(snapshot).undetermined}


# --- local time (system.timezone) ---------------------------------------------------------


@pytest.fixture
def batch() -> dict[str, Any]:
    return load_json(EXAMPLES / "ops-batch-window.json")  # type: ignore[no-any-return]


def test_a_utc_export_sees_the_batch_running_in_beijing(pack: Any, batch: dict[str, Any]) -> None:
    """23:35 in Beijing exported as 15:35Z: read in the offset it was written in, the batch seemed idle."""
    batch["as_of"] = "2024-05-20T15:35:00Z"
    assert "OPS-BATCH-WINDOW" in _fired(pack, batch)  # the CNY default, Asia/Shanghai
    report = pack.diagnose(batch)
    finding = next(f for f in report.findings if f.rule_id == "OPS-BATCH-WINDOW")
    assert "02:00" in finding.explanation


def test_the_snapshot_names_the_lenders_zone(pack: Any, batch: dict[str, Any]) -> None:
    batch["as_of"] = "2024-05-20T15:35:00Z"
    batch["system"]["timezone"] = "Europe/London"  # 16:35 there: outside 22:00-02:00
    assert "OPS-BATCH-WINDOW" not in _fired(pack, batch)
    batch["system"]["timezone"] = "Asia/Shanghai"
    assert "OPS-BATCH-WINDOW" in _fired(pack, batch)


def test_without_a_zone_clock_times_are_unknown_not_as_of_offset(pack: Any, batch: dict[str, Any]) -> None:
    batch["line"]["currency"] = "EUR"  # no documented default: do not guess from the offset
    assert "OPS-BATCH-WINDOW" in _undetermined(pack, batch)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../etc/passwd", "", 8])
def test_a_bad_zone_is_an_input_error(pack: Any, batch: dict[str, Any], bad: Any) -> None:
    batch["system"]["timezone"] = bad
    with pytest.raises(InvalidInput) as err:
        pack.diagnose(batch)
    assert err.value.problems[0].path == "system.timezone"
    assert "IANA" in err.value.problems[0].message


def test_model_and_compiled_contract_agree_on_zones(batch: dict[str, Any]) -> None:
    from diagnose.snapshot import contract, model

    batch["system"]["timezone"] = "Asia/Shanghai"
    assert contract.validate(copy.deepcopy(batch))["system"]["timezone"] == model.validate(batch).system.timezone == "Asia/Shanghai"  # type: ignore[union-attr]


# --- incidents count only when they touch lending, limits or repayments --------------------


@pytest.fixture
def incident() -> dict[str, Any]:
    return load_json(EXAMPLES / "ops-incident.json")  # type: ignore[no-any-return]


def test_an_incident_of_push_and_banner_does_not_tell_the_customer_of_a_fault(pack: Any, incident: dict[str, Any]) -> None:
    assert "OPS-INCIDENT" in _fired(pack, incident)  # limit-restore, repayment-gateway
    incident["system"]["incidents"][0]["components"] = ["app-push", "marketing-banner"]
    assert "OPS-INCIDENT" not in _fired(pack, incident)  # any open incident fired it before


def test_an_incident_without_components_counts_and_the_evidence_says_so(pack: Any, incident: dict[str, Any]) -> None:
    for missing in (None, []):
        incident["system"]["incidents"][0]["components"] = missing
        finding = next(f for f in pack.diagnose(incident).findings if f.rule_id == "OPS-INCIDENT")
        (ev,) = finding.evidence
        assert (ev.fact, ev.actual, ev.result) == ("system.open_incidents_unscoped", 1, True)


def test_the_components_that_touch_lending_are_a_pack_parameter(incident: dict[str, Any]) -> None:
    import diagnose

    incident["system"]["incidents"][0]["components"] = ["app-push"]
    pack = diagnose.load_pack()
    rules = pack.data["rules"]
    params = dict(pack.data["parameters"]) | {"incident_components": ["app-push"]}
    widened = type(pack)(dict(pack.data) | {"parameters": params, "rules": rules})
    assert "OPS-INCIDENT" in _fired(widened, incident)
    assert "OPS-INCIDENT" not in _fired(pack, incident)


def test_intersects_needs_a_list_to_compare_with() -> None:
    from diagnose.pack.loader import Leaf

    with pytest.raises(ValueError, match="needs a list"):
        Leaf(fact="system.open_incident_components", op="intersects", value="limit")


# --- explanatory findings keep a healthy line healthy --------------------------------------


def _split_repayment(snapshot: dict[str, Any], posted: str) -> dict[str, Any]:
    snapshot["repayments"] = [
        {"id": "rp-1", "amount": 5000, "channel": "balance", "submitted_at": posted, "posted_at": posted, "status": "posted",
         "applied_to_principal": 3600, "applied_to_fees": 1400}
    ]  # fmt: skip
    return snapshot


def test_a_repayment_that_went_partly_to_fees_is_explained_on_a_healthy_line(pack: Any, base: dict[str, Any]) -> None:
    before = pack.diagnose(base)
    assert before.verdict == "healthy" and not before.findings
    report = pack.diagnose(_split_repayment(base, "2024-03-04T20:15:00+08:00"))
    assert report.verdict == "healthy"
    (finding,) = report.findings
    assert (finding.rule_id, finding.explanatory) == ("PRD-PAYMENT-ALLOCATION", True)
    assert "3,600.00" in finding.explanation and "1,400.00" in finding.explanation
    assert report.to_dict()["findings"][0]["explanatory"] is True


def test_outside_the_recent_window_a_healthy_line_hears_nothing(pack: Any, base: dict[str, Any]) -> None:
    report = pack.diagnose(_split_repayment(base, "2024-02-14T20:15:00+08:00"))  # 20 days before as_of
    assert report.verdict == "healthy" and not report.findings


def test_on_a_short_line_the_explanation_is_a_cause_as_before(pack: Any) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "prd-payment-allocation.json"))
    assert report.verdict == "restricted"
    top = report.findings[0]
    assert (top.rule_id, top.explanatory) == ("PRD-PAYMENT-ALLOCATION", False)


def test_a_rule_that_is_not_explanatory_still_restricts_a_fine_line(pack: Any, base: dict[str, Any]) -> None:
    base["credit"]["bureau"]["hard_inquiries_1m"] = 9
    report = pack.diagnose(base)
    assert report.findings and not any(f.explanatory for f in report.findings)
    assert report.verdict == "restricted"


@pytest.mark.parametrize("fmt", ["rich", "markdown", "message"])
def test_views_say_the_finding_only_explains(capsys: pytest.CaptureFixture[str], base: dict[str, Any], tmp_path: Any, fmt: str) -> None:
    import json

    from tests.conftest import cli

    path = tmp_path / "s.json"
    path.write_text(json.dumps(_split_repayment(base, "2024-03-04T20:15:00+08:00")), encoding="utf-8")
    code, out, _ = cli(capsys, "run", path, "-f", fmt)
    assert code == 0
    if fmt == "message":
        assert "nothing is holding it back" in out and "looks normal" not in out and "3,600.00" in out
    else:
        assert "explains normal behaviour; not a restriction" in " ".join(out.split())
        assert "nothing restricts the line (an explanation follows)" in " ".join(out.split()) and "no cause found" not in out


# --- applicability, and "none" distinct from "not known" ------------------------------------


def test_no_temporary_limit_is_not_applicable_rather_than_undetermined(pack: Any, base: dict[str, Any]) -> None:
    base["line"]["temporary_limit"] = None  # not known: as every bundled example was before
    report = pack.diagnose(base)
    assert [u.rule_id for u in report.undetermined] == ["PRD-TEMP-LIMIT-EXPIRED"]
    base["line"]["temporary_limit"] = {"present": False}  # known: there is none
    report = pack.diagnose(base)
    assert report.undetermined == [] and "PRD-TEMP-LIMIT-EXPIRED" in report.not_applicable
    assert report.to_dict()["not_applicable"] == report.not_applicable


def test_no_draw_attempted_is_not_applicable_for_the_single_draw_cap(pack: Any, base: dict[str, Any]) -> None:
    base.pop("request")
    assert "PRD-SINGLE-DRAW-CAP" in _undetermined(pack, base)
    base["request"] = {"present": False}
    report = pack.diagnose(base)
    assert "PRD-SINGLE-DRAW-CAP" in report.not_applicable
    assert "PRD-SINGLE-DRAW-CAP" not in {u.rule_id for u in report.undetermined} | {f.rule_id for f in report.findings}


def test_a_rule_that_applies_is_decided_as_before(pack: Any) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "prd-single-draw-cap.json"))
    assert report.findings[0].rule_id == "PRD-SINGLE-DRAW-CAP" and "PRD-SINGLE-DRAW-CAP" not in report.not_applicable


def test_on_the_bundled_examples_no_rule_is_undetermined_for_want_of_an_optional_object(pack: Any) -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        missing = {m for u in pack.diagnose(load_json(path)).undetermined for m in u.missing}
        assert not {m for m in missing if m.startswith(("line.temporary_limit", "request"))}, path.name


@pytest.mark.parametrize("bad", ["none", "no", 0])
def test_present_is_true_or_false(pack: Any, base: dict[str, Any], bad: Any) -> None:
    base["request"] = {"present": bad}
    with pytest.raises(InvalidInput) as err:
        pack.diagnose(base)
    (problem,) = err.value.problems
    assert problem.path == "request.present" and "true or false" in problem.message


def test_an_empty_list_says_there_are_none(pack: Any, base: dict[str, Any]) -> None:
    base["system"]["incidents"] = []
    report = pack.diagnose(base)
    assert "OPS-INCIDENT" not in {u.rule_id for u in report.undetermined} | {f.rule_id for f in report.findings}


# --- partial knowledge: a derived value's known part decides where it can -------------------


@pytest.fixture
def capped() -> dict[str, Any]:
    snapshot: dict[str, Any] = load_json(EXAMPLES / "pol-regulatory-cap.json")
    snapshot["credit"].pop("income_avg_3y")
    snapshot["credit"]["total_online_outstanding"] = 205000
    snapshot["policy"]["per_borrower_cap"] = 200000
    return snapshot


def test_above_the_per_borrower_cap_whatever_the_income(pack: Any, capped: dict[str, Any]) -> None:
    """The cap is the lower of 200,000 and a third of income: 205,000 is above it, income or not."""
    finding = next(f for f in pack.diagnose(capped).findings if f.rule_id == "POL-REGULATORY-CAP")
    (ev,) = finding.evidence
    assert (ev.actual, ev.expected, ev.result) == (205000, 200000, True)
    assert ev.decided_by is not None and "policy.per_borrower_cap" in ev.decided_by and "credit.income_avg_3y not known" in ev.decided_by
    assert "at most 200,000.00" in finding.explanation


def test_below_the_known_part_the_unknown_part_still_decides(pack: Any, capped: dict[str, Any]) -> None:
    capped["credit"]["total_online_outstanding"] = 150000  # a third of income might be lower: not known
    report = pack.diagnose(capped)
    assert [(u.rule_id, u.missing) for u in report.undetermined if u.rule_id == "POL-REGULATORY-CAP"] == [
        ("POL-REGULATORY-CAP", ["credit.income_avg_3y"])
    ]


def test_bounds_follow_three_valued_logic() -> None:
    from diagnose.engine.conditions import compile_condition
    from diagnose.snapshot.facts import bound

    f: dict[str, Any] = {"credit.total_online_outstanding": 205000.0}
    bound(f, "policy.regulatory_cap", 0.0, 200000.0, "at most 200,000")
    cases = {">=": True, ">": True, "<": False, "<=": False, "==": None, "!=": None}
    for op, want in cases.items():
        node = compile_condition({"fact": "credit.total_online_outstanding", "op": op, "ref": "policy.regulatory_cap"}, {})
        assert node.test(f) is want, op
        negated = compile_condition({"not": {"fact": "credit.total_online_outstanding", "op": op, "ref": "policy.regulatory_cap"}}, {})
        assert negated.test(f) is (None if want is None else not want), op
    at_least: dict[str, Any] = {}
    bound(at_least, "loans.overdue_amount", 800.0, None, "at least 800")
    for value, want in ((500, True), (800, True), (900, None)):
        leaf = compile_condition(
            {"all": [{"fact": "loans.overdue_amount", "op": ">=", "value": value}, {"fact": "x", "op": "==", "value": 1}]}, {}
        )
        assert compile_condition({"fact": "loans.overdue_amount", "op": ">=", "value": value}, {}).test(at_least) is want
        assert leaf.test(at_least | {"x": 1}) is want  # the one-loop path of plain comparisons agrees


def test_a_sum_with_an_unknown_part_is_at_least_its_known_part(pack: Any) -> None:
    snapshot = load_json(EXAMPLES / "brw-overdue.json")
    snapshot["loans"].append({"id": "ln-x", "overdue_days": 0})  # overdue_amount not known
    from diagnose.snapshot import contract, facts

    f = facts.derive(contract.validate(snapshot))
    assert "loans.overdue_amount" not in f and f[facts.BOUNDS]["loans.overdue_amount"].low > 0


# --- undetermined, ranked; coverage -------------------------------------------------------

MINIMAL = {
    "schema_version": "1",
    "as_of": "2024-03-05T14:20:00+08:00",
    "account": {"id": "a-1", "product": "jiebei"},
    "line": {"total_limit": 50000, "used": 10000, "available": 40000},
}


def test_a_healthy_verdict_on_little_data_says_so(pack: Any, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    import json

    from tests.conftest import cli

    report = pack.diagnose(copy.deepcopy(MINIMAL))
    cov = report.coverage
    assert report.verdict == "healthy" and cov is not None and cov.low
    assert (cov.applicable, cov.decided + cov.open + cov.not_assessed) == (39, 39)
    assert all(u.status == "not_assessed" for u in report.undetermined)
    path = tmp_path / "minimal.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8")
    for fmt in ("rich", "markdown"):
        _, out, _ = cli(capsys, "run", path, "-f", fmt)
        flat = " ".join(out.replace("\\", "").split())
        assert f"only {cov.decided} of 39 rules could be decided" in flat
        assert f"Not assessed for want of data: {cov.not_assessed} rules" in flat
        assert "BRW-BUREAU-DELINQUENCY" not in out  # collapsed
    full = pack.diagnose(load_json(EXAMPLES / "healthy.json"))
    assert full.coverage is not None and not full.coverage.low


def test_open_rules_come_first_with_the_fact_to_ask_for(pack: Any) -> None:
    snapshot = load_json(EXAMPLES / "liq-funder-quota.json")
    del snapshot["funding"]["funder_quota_remaining_pct"]
    snapshot["credit"].pop("days_since_cure", None)
    report = pack.diagnose(snapshot)
    first = report.undetermined[0]
    assert (first.rule_id, first.status, first.missing) == ("LIQ-FUNDER-QUOTA", "open", ["funding.funder_quota_remaining_pct"])
    assert report.questions[0].fact == "funding.funder_quota_remaining_pct" and report.questions[0].rules == ["LIQ-FUNDER-QUOTA"]


def test_a_fact_that_decides_more_open_rules_is_asked_first() -> None:
    from diagnose.records import Undetermined
    from diagnose.report.build import rank_undetermined

    def u(rid: str, missing: list[str], impact: float) -> Undetermined:
        return Undetermined(rid, "x", rid, missing, [], "open" if impact else "not_assessed", impact)

    ordered, questions = rank_undetermined([u("Z-NONE", ["c"], 0), u("A-ONE", ["a"], 50), u("B-TWO", ["b"], 40), u("C-TWO", ["b"], 30)])
    assert [x.rule_id for x in ordered] == ["B-TWO", "C-TWO", "A-ONE", "Z-NONE"]
    assert [(q.fact, q.impact, q.rules) for q in questions] == [("b", 70.0, ["B-TWO", "C-TWO"]), ("a", 50.0, ["A-ONE"])]


# --- an unexplained restriction is said as one ---------------------------------------------


@pytest.fixture
def lost() -> dict[str, Any]:
    snapshot: dict[str, Any] = load_json(EXAMPLES / "liq-funder-quota.json")
    del snapshot["funding"]["funder_quota_remaining_pct"]  # restricted (a restore gap), and no cause can be shown
    return snapshot


def test_a_restricted_line_without_a_finding_is_said_to_be_unexplained(pack: Any, lost: dict[str, Any]) -> None:
    report = pack.diagnose(lost)
    assert report.verdict == "restricted" and not report.findings
    u = report.unexplained
    assert u is not None and "no cause this rule pack knows explains it" in u.statement
    assert u.could_explain == ["LIQ-FUNDER-QUOTA"] and u.near_misses and u.near_misses[0].rule_id == "LIQ-REGIONAL-POOL"
    assert "funding.funder_quota_remaining_pct" in u.agent_steps[0] and "Escalate" in u.agent_steps[-1]
    assert report.to_dict()["unexplained"]["could_explain"] == ["LIQ-FUNDER-QUOTA"]
    assert pack.diagnose(load_json(EXAMPLES / "liq-funder-quota.json")).unexplained is None  # a cause holds
    assert pack.diagnose(load_json(EXAMPLES / "healthy.json")).unexplained is None  # nothing to explain


def test_a_blocked_line_without_a_finding_is_said_to_be_unexplained(pack: Any, base: dict[str, Any]) -> None:
    base["line"]["available"] = 0
    base["line"]["used"] = base["line"]["total_limit"]
    report = pack.diagnose(base)
    assert report.verdict == "blocked" and not report.findings
    assert report.unexplained is not None and report.unexplained.statement.startswith("The line is blocked")


@pytest.mark.parametrize(("fmt", "lang", "said"), [
    ("rich", "en", "No known cause explains this"), ("markdown", "en", "What the agent does now"),
    ("message", "en", "passed your case to our specialist team"), ("json", "en", '"unexplained": {'),
    ("rich", "zh", "没有已知原因能解释这一情况"), ("message", "zh", "转交专业团队"),
])  # fmt: skip
def test_every_view_says_it(
    capsys: pytest.CaptureFixture[str], lost: dict[str, Any], tmp_path: Any, fmt: str, lang: str, said: str
) -> None:
    import json

    from tests.conftest import cli

    path = tmp_path / "lost.json"
    path.write_text(json.dumps(lost), encoding="utf-8")
    code, out, _ = cli(capsys, "run", path, "-f", fmt, "--lang", lang)
    assert code == 0 and said in " ".join(out.split()).replace("\\", "")
    assert "No cause holds." not in out


# --- dated rules and parameter values, judged against as_of ---------------------------------

DATED = EXAMPLES.parent / "tests" / "packs" / "dated"


def _quota(as_of: str, pct: float, short: bool) -> dict[str, Any]:
    snapshot: dict[str, Any] = load_json(EXAMPLES.parent / "rules" / "fixtures" / "base.json")
    snapshot["as_of"] = as_of
    snapshot["funding"]["funder_quota_remaining_pct"] = pct
    if not short:
        snapshot["request"] = {"present": False}
    else:
        snapshot["request"] = {"amount": 5000, "outcome": "refused"}
    return snapshot


def test_a_rule_and_a_threshold_change_on_their_date() -> None:
    import diagnose

    pack = diagnose.load_pack(DATED)
    before, after = "2025-09-30T12:00:00+08:00", "2025-10-01T00:30:00+08:00"
    assert _fired(pack, _quota(before, 8, short=True)) == set()  # 8% > 5%, the threshold until 2025-10-01
    assert _fired(pack, _quota(after, 8, short=True)) == {"T-QUOTA"}  # 10% from that day
    assert _fired(pack, _quota(before, 3, short=False)) == set()  # the old variant needs a short line
    assert _fired(pack, _quota(after, 3, short=False)) == {"T-QUOTA"}  # the new one does not
    assert _fired(pack, _quota("2025-09-30T17:00:00Z", 3, short=False)) == {"T-QUOTA"}  # 01:00 on 10-01 in Beijing


def test_rules_show_lists_the_dated_variants(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import cli

    code, out, _ = cli(capsys, "rules", "show", "T-QUOTA", DATED)
    assert code == 0
    assert "dated variants:" in out and "from the start until 2025-10-01" in out and "from 2025-10-01 until further notice" in out
    assert "10 from 2025-10-01 until further notice" in out


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("in_force: {until: 2025-10-01}", "in_force: {until: 2025-10-02}", "in-force-overlap"),
        ("in_force: {until: 2025-10-01}", "in_force: {from: 2025-10-01, until: 2025-10-01}", "in-force-empty"),
    ],
)
def test_lint_refuses_overlapping_or_empty_date_ranges(
    capsys: pytest.CaptureFixture[str], tmp_path: Any, old: str, new: str, code: str
) -> None:
    import shutil

    from tests.conftest import cli

    pack = tmp_path / "pack"
    shutil.copytree(DATED, pack)
    (pack / "pack.yaml").write_text((DATED / "pack.yaml").read_text().replace("../../../rules", str(EXAMPLES.parent / "rules")))
    rules = pack / "rules.yaml"
    rules.write_text(rules.read_text().replace(old, new))
    status, out, err = cli(capsys, "rules", "lint", pack)
    assert status != 0 and f"[{code}]" in out + err


# --- a decision record in every report, and --verify -----------------------------------------


def test_every_report_records_what_decided_it(pack: Any, base: dict[str, Any]) -> None:
    import diagnose
    from diagnose._version import __version__

    report = pack.diagnose(copy.deepcopy(base), lang="zh", audience="agent")
    d = report.decision
    assert d is not None and (d.tool_version, d.pack_digest, d.lang, d.audience) == (__version__, report.ruleset.digest, "zh", "agent")
    assert d.input_digest.startswith("sha256:") and len(d.input_digest) == 71
    reordered = dict(reversed(list(copy.deepcopy(base).items())))
    assert diagnose.load_pack().diagnose(reordered, lang="zh", audience="agent").to_json() == report.to_json()  # same input, same bytes
    base["line"]["used"] += 1
    assert pack.diagnose(base).decision.input_digest != d.input_digest  # type: ignore[union-attr]


def test_verify_proves_a_report_and_names_what_differs(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from tests.conftest import cli

    snapshot = EXAMPLES / "liq-funder-quota.json"
    code, report, _ = cli(capsys, "run", snapshot, "-f", "json", "--lang", "zh", "--top", "1", "--explain")
    saved = tmp_path / "report.json"
    saved.write_text(report, encoding="utf-8")
    code, out, err = cli(capsys, "run", snapshot, "--verify", saved)
    assert (code, err) == (0, "") and "verified:" in out
    code, out, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--verify", saved)
    assert code == 1 and "decision.input_digest: recorded" in err and "verdict: differs" in err
    saved.write_text(report.replace('"verdict": "restricted"', '"verdict": "healthy"'), encoding="utf-8")
    code, out, err = cli(capsys, "run", snapshot, "--verify", saved)
    assert code == 1 and "verdict: differs" in err and "input_digest" not in err
    saved.write_text("not json", encoding="utf-8")
    code, out, err = cli(capsys, "run", snapshot, "--verify", saved)
    assert code == 4 and "cannot read the report to verify" in err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_repayment_still_within_its_posting_time_is_what_the_agent_is_told(pack: Any, lang: str) -> None:
    import json

    from tests.conftest import EXAMPLES

    snapshot = json.loads((EXAMPLES / "ops-repayment-unposted.json").read_text(encoding="utf-8"))
    snapshot["as_of"] = "2024-03-04T10:00:00+08:00"  # the interbank transfer of 03-01 15:30 is 66.5 h old: due by 72 h
    snapshot["request"]["at"] = "2024-03-04T09:50:00+08:00"
    report = pack.diagnose(snapshot, lang=lang)
    assert report.findings == [] and report.unexplained is not None
    first, last = report.unexplained.agent_steps[0], report.unexplained.agent_steps[-1]
    assert report.unexplained.statement.endswith(
        "a repayment is still within its posting time." if lang == "en" else "有一笔还款仍在正常入账时效内。"
    )
    if lang == "en":
        assert first.startswith("Repayment rp-20240301-07 of 20,000.00 (interbank) is still within its normal posting time")
        assert "should post by 15:30 today" in first and "do not tell the customer a cause" not in " ".join(report.unexplained.agent_steps)
        assert last.startswith("If it has not posted by 15:30 today")
        assert report.unexplained.customer == [
            "Your repayment of 20,000.00 is still being processed: it should post by 15:30 today, and the limit it frees"
            " then comes back. There is no need to pay again."
        ]
    else:
        assert first.startswith("还款 rp-20240301-07（跨行转账，金额 20,000.00）仍在正常入账时效内：应在今天 15:30 前入账")
        assert last.startswith("如到今天 15:30 仍未入账")
        assert report.unexplained.customer == [
            "您的这笔还款（20,000.00）仍在处理中：应在今天 15:30 前入账，入账后对应的额度会恢复，无需重复还款。"
        ]
    from diagnose.report.formats import Options, ReportFormat, renderer

    reply = renderer(ReportFormat.message)(report, Options(lang=lang, width=100))
    assert report.unexplained.customer[0] in reply and "specialist" not in reply and "专业团队" not in reply
    snapshot["request"]["amount"] = 60_000  # no repayment waits: the reply says the case is passed on, as before
    snapshot["repayments"] = [r for r in snapshot["repayments"] if r["status"] != "pending"]
    passed_on = pack.diagnose(snapshot, lang=lang)
    if passed_on.unexplained is not None:
        assert passed_on.unexplained.customer == []
    snapshot = json.loads((EXAMPLES / "ops-repayment-unposted.json").read_text(encoding="utf-8"))
    snapshot["as_of"] = "2024-03-05T10:00:00+08:00"  # 90.5 h: past its time, the cause holds
    assert [f.rule_id for f in pack.diagnose(snapshot, lang=lang).findings] == ["OPS-REPAYMENT-UNPOSTED"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_posting_whose_split_is_not_known_is_said_without_a_question_mark(pack: Any, base: dict[str, Any], lang: str) -> None:
    from diagnose.explain.timeline import timeline

    base["repayments"] = [
        {"id": "rp-9", "amount": 5000, "channel": "bank_card", "status": "posted"}
        | {"submitted_at": base["as_of"], "posted_at": base["as_of"]}
    ]
    data, _, _ = pack.prepare(base)
    said = [e.label for e in timeline(data, lang) if e.kind == "repayment"]
    assert said[-1] == ("repayment rp-9 posted" if lang == "en" else "还款 rp-9 入账") and not any("?" in s for s in said)
