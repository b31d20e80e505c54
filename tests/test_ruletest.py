"""`rules test`: rule examples and golden cases pass or fail with the evidence that differs; coverage; extending packs."""

from __future__ import annotations

import json
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import diagnose
from diagnose.packci.ruletest import Coverage, floor_percent, run
from tests.conftest import EXAMPLES, ROOT, cli, examples, load_json

MINIMAL = ROOT / "tests" / "packs" / "minimal"
EXTENDS = ROOT / "tests" / "packs" / "extends-default"
QUOTA = EXAMPLES / "liq-funder-quota.json"


def copy_pack(tmp_path: Path, source: Path = MINIMAL) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(source, target)
    manifest = target / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("../../../rules/", str(ROOT / "rules") + "/"), encoding="utf-8")
    return target


def write_case(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- the default pack -------------------------------------------------------------------


def test_default_pack_passes_with_full_rule_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    result = run()
    assert result.failed == [] and result.skipped == []
    cov = result.coverage
    assert cov.rule_percent() == 100.0 and cov.never_fired() == [] and cov.never_quiet() == []
    code, out, err = cli(capsys, "rules", "test", "--min-coverage", "100")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "Coverage"
    assert lines[1] == f"  rules: {len(cov.rules)} of {len(cov.rules)} both fired and stayed quiet (100%)"
    assert lines[-1] == f"{len(result.results)} passed, 0 failed ({len(result.results)} rule examples, 0 golden cases)"


# --- golden case files ------------------------------------------------------------------


def test_golden_cases_pass(tmp_path: Path) -> None:
    case = write_case(
        tmp_path,
        f"""cases:
  - name: quota at 2.3% ranks first
    snapshot: {QUOTA}
    expect:
      top: LIQ-FUNDER-QUOTA
      present: [LIQ-FUNDER-QUOTA]
      absent: [OPS-INCIDENT, LIQ-REGIONAL-POOL]
      verdict: restricted
  - name: healthy
    snapshot: {EXAMPLES / "healthy.json"}
    expect: {{no_findings: true, verdict: healthy}}
""",
    )
    result = run(None, [case])
    cases = [r for r in result.results if r.kind == "case"]
    assert [(r.name, r.passed, r.line) for r in cases] == [("case: quota at 2.3% ranks first", True, 2), ("case: healthy", True, 9)]


def test_a_failing_case_shows_the_evidence_that_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = write_case(
        tmp_path,
        f"""cases:
  - name: wrong on purpose
    snapshot: {QUOTA}
    expect:
      top: OPS-INCIDENT
      present: [LIQ-REGIONAL-POOL]
      absent: [LIQ-FUNDER-QUOTA]
      undetermined: [LIQ-FUNDR-QUOTA]
      verdict: healthy
""",
    )
    code, out, err = cli(capsys, "rules", "test", str(case))
    assert code == 1 and err == ""  # the report's last line says it, once
    at = out.index("FAIL ")
    assert out[at:].splitlines()[:14] == [
        f"FAIL {case}:2  case: wrong on purpose",
        "     expected top OPS-INCIDENT; present LIQ-REGIONAL-POOL; absent LIQ-FUNDER-QUOTA; undetermined LIQ-FUNDR-QUOTA; verdict healthy, "
        "got verdict restricted; findings: LIQ-FUNDER-QUOTA",
        "     LIQ-FUNDR-QUOTA is not a rule of this pack; did you mean LIQ-FUNDER-QUOTA?",
        "     top: expected OPS-INCIDENT, got LIQ-FUNDER-QUOTA; OPS-INCIDENT did not fire:",
        "         system.open_incidents >= 1: actual 0 (fails)",
        "     present: LIQ-REGIONAL-POOL did not fire (quiet):",
        "         funding.regional_pool_utilization >= regional_pool_high_utilization (0.95): actual 0.74 (fails)",
        "     absent: LIQ-FUNDER-QUOTA fired:",
        "         funding.funder_quota_remaining_pct <= funder_quota_low_pct (5): actual 2.3 (holds)",
        "         line.limit_short == true: actual true (holds)",
        "     verdict: expected healthy, got restricted (status active, available 34000, restore gap 12000, 1 finding(s))",
        "",
        "Coverage",
        out[at:].splitlines()[13],
    ]


def test_single_case_file_and_patch_onto_the_example_base(tmp_path: Path) -> None:
    case = write_case(
        tmp_path,
        """name: funder paused
patch:
  funding: {funder_paused: true, funder_pause_reason: delinquency}
  request: {outcome: refused}
expect: {present: [LIQ-FUNDER-PAUSED], verdict: restricted}
""",
    )
    [result] = [r for r in run(None, [case]).results if r.kind == "case"]
    assert result.passed, result.details
    assert result.line == 1


def test_an_invalid_case_file_is_a_failed_case_with_its_line(tmp_path: Path) -> None:
    case = write_case(tmp_path, "cases:\n  - snapshot: x.json\n    expct: {}\n")
    [result] = run(None, [case]).failed
    assert (result.line, result.actual) == (2, "invalid case file")
    assert result.details[:4] == [
        "line 2: missing required key `expect`",
        "line 3: unknown key `expct`",
        "  help: did you mean `expect`? allowed keys here: name, snapshot, patch, expect",
        "a case needs `snapshot` (or `patch`) and `expect`; see docs/ci.md",
    ]


def test_a_missing_or_invalid_snapshot_fails_its_case(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"schema_version": "1"}', encoding="utf-8")
    case = write_case(
        tmp_path,
        "cases:\n  - snapshot: nope.json\n    expect: {verdict: healthy}\n  - snapshot: bad.json\n    expect: {verdict: healthy}\n",
    )
    first, second = run(None, [case]).failed
    assert first.actual == "unreadable snapshot" and first.details == ["nope.json: No such file or directory"]
    assert second.actual == "invalid snapshot" and any("as_of" in d for d in second.details)


def test_case_folders_are_searched_and_missing_paths_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    write_case(folder, f"snapshot: {QUOTA}\nexpect: {{top: LIQ-FUNDER-QUOTA}}\n", "a.yaml")
    write_case(folder, f"snapshot: {EXAMPLES / 'healthy.json'}\nexpect: {{verdict: healthy}}\n", "b.yml")
    assert [r.name for r in run(None, [folder]).results if r.kind == "case"] == [f"a: {QUOTA}", f"b: {EXAMPLES / 'healthy.json'}"]
    code, _, err = cli(capsys, "rules", "test", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such case file or folder" in err


# --- coverage ---------------------------------------------------------------------------


def three_rules(tmp_path: Path) -> Path:
    """A pack of three rules: two with both examples, one that never stays quiet."""
    pack = copy_pack(tmp_path)
    text = (pack / "rules.yaml").read_text(encoding="utf-8")
    body = text.split("rules:\n", 1)[1]
    second = body.replace("T-QUOTA", "T-SECOND")
    third = body.replace("T-QUOTA", "T-THIRD").split("      quiet:")[0]
    (pack / "rules.yaml").write_text(text + second + third, encoding="utf-8")
    return pack


def test_min_coverage_is_never_rounded_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = three_rules(tmp_path)
    result = run(pack)
    cov = result.coverage
    assert cov.rule_fraction() == Fraction(2, 3) and cov.rule_percent() == 66.6
    assert cov.never_fired() == [] and cov.never_quiet() == ["T-THIRD"]
    code, out, err = cli(capsys, "rules", "test", str(pack), "--min-coverage", "66.6")
    assert code == 0 and "  rules: 2 of 3 both fired and stayed quiet (66.6%)" in out
    assert f"    never quiet: T-THIRD  {pack}/rules.yaml:" in out
    code, out, err = cli(capsys, "rules", "test", str(pack), "--min-coverage", "66.7")
    assert code == 1 and err == ""
    assert "  rule coverage 66.6% is below --min-coverage 66.7%" in out


def test_percentages_round_down() -> None:
    assert floor_percent(Fraction(9999, 10000)) == 99.9
    assert floor_percent(Fraction(1, 3)) == 33.3
    cov = Coverage(fired={"A"}, quiet={"A"}, rules=["A"] + [f"R{i}" for i in range(2000)])
    cov.fired |= set(cov.rules)
    cov.quiet |= set(cov.rules) - {"R7"}
    assert cov.rule_percent() == 99.9 and not cov.meets(100) and cov.meets(99.9)


def test_conditions_that_never_decided_are_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = copy_pack(tmp_path)
    rules = pack / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            '        - {fact: line.limit_short, op: "==", value: true}\n',
            '        - any:\n          - {fact: line.limit_short, op: "==", value: true}\n          - {fact: line.utilization, op: ">", value: 0.99}\n',
        ),
        encoding="utf-8",
    )
    cov = run(pack).coverage
    [never] = cov.undecided()
    assert (never.rule_id, never.text, never.line) == ("T-QUOTA", "line.utilization > 0.99", 16)
    code, out, _ = cli(capsys, "rules", "test", str(pack))
    assert code == 0
    assert "  conditions: 2 of 3 decided a result at least once (66.6%)" in out
    assert f"    never decided: T-QUOTA: line.utilization > 0.99  {rules}:16" in out


def test_a_failing_example_shows_the_conditions_that_decided(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = copy_pack(tmp_path)
    rules = pack / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("funder_quota_remaining_pct: 1.5", "funder_quota_remaining_pct: 7.5"), encoding="utf-8"
    )
    code, out, _ = cli(capsys, "rules", "test", str(pack))
    assert code == 1
    assert out.splitlines()[:3] == [
        f"FAIL {rules}:24  T-QUOTA fires: quota at 1.5% and a refused draw",
        "     expected fires, got quiet",
        "     funding.funder_quota_remaining_pct <= quota_low_pct (5): actual 7.5 (fails)",
    ]
    assert "    never fired: T-QUOTA" in out


# --- packs that extend the default ------------------------------------------------------


def test_extending_pack_changes_the_diagnosis_and_lists_disabled_rules() -> None:
    snapshot = load_json(QUOTA)
    default = diagnose.load_pack().diagnose(snapshot)
    custom = diagnose.load_pack(EXTENDS).diagnose(snapshot)
    assert [f.rule_id for f in default.findings] == ["LIQ-FUNDER-QUOTA"]
    assert custom.findings == [] and custom.verdict == "restricted"
    assert [(d.rule_id, d.reason) for d in custom.disabled] == [
        ("OPS-STALE-RISK-MODEL", "our risk model is retrained every week, so its age never explains a decision")
    ]
    assert default.disabled == []
    # the threshold moved, it did not vanish: 1.5% still fires
    lower = json.loads(json.dumps(snapshot))
    lower["funding"]["funder_quota_remaining_pct"] = 1.5
    assert diagnose.load_pack(EXTENDS).diagnose(lower).top.rule_id == "LIQ-FUNDER-QUOTA"  # type: ignore[union-attr]


def test_extending_pack_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(QUOTA), "--rules", str(EXTENDS), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["findings"] == [] and report["ruleset"]["name"] == "acme-bank"
    assert report["disabled"] == [
        {"rule_id": "OPS-STALE-RISK-MODEL", "reason": "our risk model is retrained every week, so its age never explains a decision"}
    ]


def test_extending_pack_tests_its_overrides_with_its_cases(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(EXTENDS, [EXTENDS / "cases"])
    assert result.failed == []
    assert {r.rule_id for r in result.skipped} == {"LIQ-FUNDER-QUOTA"}
    assert all("overrides funder_quota_low_pct" in (r.skipped or "") for r in result.skipped)
    assert "OPS-STALE-RISK-MODEL" not in result.coverage.rules and "ACME-FRIDAY-CUTOFF" in result.coverage.rules
    assert result.coverage.rule_percent() == 100.0
    # PACK/cases is found without naming it
    code, out, err = cli(capsys, "rules", "test", str(EXTENDS), "--min-coverage", "100")
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[-1]
        == f"{len(result.passed)} passed, 0 failed, 5 skipped ({len(result.results) - 3} rule examples, 3 golden cases)"
    )


def test_extending_pack_without_its_cases_does_not_reach_full_coverage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "acme"
    shutil.copytree(EXTENDS, pack, ignore=shutil.ignore_patterns("cases"))
    manifest = pack / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("../../../rules/", str(ROOT / "rules") + "/"), encoding="utf-8")
    code, out, err = cli(capsys, "rules", "test", str(pack), "--min-coverage", "100")
    assert code == 1 and "    never fired: LIQ-FUNDER-QUOTA" in out and "below --min-coverage 100%" in out and err == ""


def test_a_pack_may_disable_a_rule_another_rule_explains(tmp_path: Path) -> None:
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.yaml").write_text(
        "name: p\nversion: '1'\nextends: default\noverrides:\n  disable:\n    - {id: OPS-LEDGER-SYNC-LAG, reason: we post in real time}\n",
        encoding="utf-8",
    )
    compiled = diagnose.load_pack(pack)
    assert "OPS-LEDGER-SYNC-LAG" not in {cr.rule.id for cr in compiled.rules}
    assert [d.rule_id for d in compiled.disabled] == ["OPS-LEDGER-SYNC-LAG"]


# --- no case file crashes the runner -----------------------------------------------------

PACK = diagnose.load_pack()  # the fast path: compiled from plain data, without the full pack
CASE_TEXT = st.text(alphabet=st.sampled_from(list("abc:-{}[]\n  '\"#&*!|>1.%")), max_size=120)


@examples(60)
@given(CASE_TEXT)
def test_any_case_file_is_a_result_never_a_crash(text: str) -> None:
    import tempfile

    from diagnose.packci.ruletest import run_cases

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.yaml"
        path.write_text(text, encoding="utf-8")
        result = run_cases(PACK, [path])
    assert all(r.kind == "case" for r in result.results)
    assert all(r.passed or r.details or r.actual for r in result.results)


def test_a_pack_without_example_base_fails_its_examples_not_the_run(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    manifest = pack / "pack.yaml"
    manifest.write_text(
        "\n".join(line for line in manifest.read_text(encoding="utf-8").splitlines() if "example_base" not in line), encoding="utf-8"
    )
    result = run(pack)
    assert len(result.failed) == 2
    assert all(r.actual == "unreadable example" and "names no `example_base`" in r.details[0] for r in result.failed)


def test_the_pack_may_be_named_twice_if_both_agree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "test", str(EXTENDS), "--rules", str(EXTENDS))
    assert code == 0 and "3 golden cases" in out.splitlines()[-1]
    code, _, err = cli(capsys, "rules", "test", "--min-coverage", "101")
    assert code == 2 and "101" in err
