"""CI output of lint and test: every format wired, JUnit read back by junitparser, SARIF valid against the 2.1.0 schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped

from diagnose.errors import PackProblem
from diagnose.packci.ciformats import MODULES, CIFormat, Options, formatter
from diagnose.packci.lint import LintResult, lint
from diagnose.packci.ruletest import CaseResult, Coverage, TestRun, run
from tests.conftest import EXAMPLES, ROOT, SHARED, cli

BROKEN = ROOT / "tests" / "broken_packs"
SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


def sample_lint() -> LintResult:
    problems = (
        PackProblem("rules/x.yaml", "unknown fact `line.usd`", 12, 18, "T-ONE", "did you mean `line.used`?", "unknown-fact"),
        PackProblem(
            "rules/x.yaml",
            "no `quiet` example: nothing shows when the rule stays quiet",
            2,
            5,
            "T-ONE",
            "add one",
            "missing-example",
            "warning",
        ),
    )
    lines = {("rules/x.yaml", 12): "        - {fact: line.usd, op: '>', value: 5}", ("rules/x.yaml", 2): "  - id: T-ONE"}
    return LintResult("rules", problems, ("rules/pack.yaml", "rules/x.yaml"), 1, True, lines, (("T-ONE", "rules/x.yaml", 2),))


def sample_run() -> TestRun:
    results = [
        CaseResult("T-ONE fires: high", "T-ONE", "rules/x.yaml", 20, True, "fires", "fires"),
        CaseResult(
            "T-ONE quiet: low, 50%",
            "T-ONE",
            "rules/x.yaml",
            24,
            False,
            "quiet",
            "fires",
            ["line.used > 5: actual 9 (holds)"],
        ),
        CaseResult("T-TWO fires: x", "T-TWO", "rules/x.yaml", 40, False, "fires", "skipped", [], "example", "parameter overridden"),
    ]
    cov = Coverage(
        fired={"T-ONE"}, quiet=set(), rules=["T-ONE", "T-TWO"], where={"T-ONE": ("rules/x.yaml", 2), "T-TWO": ("rules/x.yaml", 30)}
    )
    return TestRun(results, cov, "sample", "rules")


@pytest.fixture(autouse=True)
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths are shown relative to the working folder


def test_every_format_is_wired() -> None:
    assert set(MODULES) == set(CIFormat)
    for fmt in CIFormat:
        module = formatter(fmt)
        for text in (module.lint(sample_lint(), Options()), module.test(sample_run(), Options(min_coverage=100))):
            assert isinstance(text, str) and text.endswith("\n") and len(text) > 40, fmt


def test_every_format_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in CIFormat:
        code, out, err = cli(capsys, "rules", "lint", str(BROKEN / "missing-example"), "--format", fmt.value)
        assert code == 0 and out, fmt
        assert err == "", fmt  # on standard output the report ends with its summary: it is not repeated


# --- text ------------------------------------------------------------------------------


def test_text_lint_exactly() -> None:
    assert formatter(CIFormat.text).lint(sample_lint(), Options(strict=True)) == (
        "error[unknown-fact]: unknown fact `line.usd`\n"
        "  --> rules/x.yaml:12:18  [T-ONE]\n"
        "   |\n"
        "12 |         - {fact: line.usd, op: '>', value: 5}\n"
        "   |                  ^\n"
        "  help: did you mean `line.used`?\n"
        "\n"
        "warning[missing-example]: no `quiet` example: nothing shows when the rule stays quiet\n"
        "  --> rules/x.yaml:2:5  [T-ONE]\n"
        "  |\n"
        "2 |   - id: T-ONE\n"
        "  |     ^\n"
        "  help: add one\n"
        "\n"
        "rules: 1 error, 1 warning (1 rule in 2 files)\n"
    )


def test_text_caret_counts_wide_characters() -> None:
    p = PackProblem("r.yaml", "bad", 1, 9, None, None, "template")
    result = LintResult("r", (p,), (), 0, True, {("r.yaml", 1): "  zh: 额度{x}"})
    assert "1 |   zh: 额度{x}\n  |           ^\n" in formatter(CIFormat.text).lint(result, Options())


def test_text_test_exactly() -> None:
    assert formatter(CIFormat.text).test(sample_run(), Options(min_coverage=50)) == (
        "FAIL rules/x.yaml:24  T-ONE quiet: low, 50%\n"
        "     expected quiet, got fires\n"
        "     line.used > 5: actual 9 (holds)\n"
        "SKIP rules/x.yaml:40  T-TWO fires: x\n"
        "     parameter overridden\n"
        "\n"
        "Coverage\n"
        "  rules: 0 of 2 both fired and stayed quiet (0%)\n"
        "    never fired: T-TWO  rules/x.yaml:30\n"
        "    never quiet: T-ONE  rules/x.yaml:2\n"
        "    never quiet: T-TWO  rules/x.yaml:30\n"
        "  conditions: 0 of 0 decided a result at least once (100%)\n"
        "  rule coverage 0% is below --min-coverage 50%\n"
        "\n"
        "1 passed, 1 failed, 1 skipped (3 rule examples, 0 golden cases)\n"
    )


def test_text_colours_only_when_asked() -> None:
    assert "\x1b[" not in formatter(CIFormat.text).lint(sample_lint(), Options())
    assert "\x1b[31merror\x1b[0m[unknown-fact]" in formatter(CIFormat.text).lint(sample_lint(), Options(color=True))


# --- json -------------------------------------------------------------------------------


def test_json_lint_and_test() -> None:
    data = json.loads(formatter(CIFormat.json).lint(sample_lint(), Options()))
    assert data["version"] == 1 and data["kind"] == "lint"
    assert data["summary"] == {"errors": 1, "warnings": 1, "strict": False, "failed": True}
    assert data["problems"][0] == {
        "level": "error",
        "code": "unknown-fact",
        "file": "rules/x.yaml",
        "line": 12,
        "column": 18,
        "rule_id": "T-ONE",
        "message": "unknown fact `line.usd`",
        "help": "did you mean `line.used`?",
    }
    data = json.loads(formatter(CIFormat.json).test(sample_run(), Options(min_coverage=50)))
    assert data["summary"] == {"total": 3, "passed": 1, "failed": 1, "skipped": 1}
    assert data["coverage"]["rules"] == {
        "percent": 0.0,
        "covered": 0,
        "total": 2,
        "never_fired": ["T-TWO"],
        "never_quiet": ["T-ONE", "T-TWO"],
    }
    assert data["coverage"]["meets_min_coverage"] is False
    assert [r["status"] for r in data["results"]] == ["passed", "failed", "skipped"]


# --- junit ------------------------------------------------------------------------------


def test_junit_lint_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "lint.xml"
    path.write_text(formatter(CIFormat.junit).lint(sample_lint(), Options()), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    [suite] = list(xml)
    cases = list(suite)
    assert (suite.tests, suite.failures, suite.errors) == (1, 1, 0)
    [case] = cases
    assert (case.classname, case.name) == ("rules/x.yaml", "T-ONE")
    [failure] = case.result
    assert isinstance(failure, Failure)
    assert failure.message == "unknown fact `line.usd`" and failure.type == "unknown-fact"
    assert "error[unknown-fact] rules/x.yaml:12:18: unknown fact `line.usd`\nhelp: did you mean `line.used`?" in (failure.text or "")
    assert "warning[missing-example]" in (case.system_out or "")


def test_junit_lint_of_the_default_pack_is_one_passing_test_per_rule(tmp_path: Path) -> None:
    result = lint()
    path = tmp_path / "lint.xml"
    path.write_text(formatter(CIFormat.junit).lint(result, Options(strict=True)), encoding="utf-8")
    [suite] = list(JUnitXml.fromfile(str(path)))
    assert suite.tests == result.rules and suite.failures == 0
    assert {c.name for c in suite} == {r for r, _, _ in result.rule_places}


def test_junit_test_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "test.xml"
    path.write_text(formatter(CIFormat.junit).test(sample_run(), Options(min_coverage=50)), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = {s.name: s for s in xml}
    assert set(suites) == {"rules/x.yaml", "coverage"}
    examples = suites["rules/x.yaml"]
    assert (examples.tests, examples.failures, examples.skipped) == (3, 1, 1)
    by_name = {c.name: c for c in examples}
    assert by_name["T-ONE fires: high"].is_passed
    [failure] = by_name["T-ONE quiet: low, 50%"].result
    assert failure.message == "expected quiet, got fires"
    assert (failure.text or "").splitlines() == [
        "rules/x.yaml:24: T-ONE quiet: low, 50%",
        "expected quiet, got fires",
        "line.used > 5: actual 9 (holds)",
    ]
    [skipped] = by_name["T-TWO fires: x"].result
    assert isinstance(skipped, Skipped) and skipped.message == "parameter overridden"
    [coverage] = list(suites["coverage"])
    [failure] = coverage.result
    assert failure.message == "rule coverage 0% is below 50%"


def test_junit_of_a_real_run_with_cases(tmp_path: Path) -> None:
    case = tmp_path / "c.yaml"
    case.write_text(f"snapshot: {EXAMPLES / 'liq-funder-quota.json'}\nexpect: {{top: OPS-INCIDENT}}\n", encoding="utf-8")
    result = run(None, [case])
    path = tmp_path / "test.xml"
    path.write_text(formatter(CIFormat.junit).test(result, Options(min_coverage=100)), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    total = sum(s.tests for s in xml)
    failures = sum(s.failures for s in xml)
    assert total == len(result.results) + 1 and failures == 1
    [suite] = [s for s in xml if s.name.endswith("c.yaml")]
    [tc] = list(suite)
    assert tc.result[0].message.startswith("expected top OPS-INCIDENT, got verdict restricted")


def test_junit_strips_characters_xml_cannot_hold(tmp_path: Path) -> None:
    p = PackProblem("r.yaml", "bad \x07 bell \x1b[31m", 1, 1, "T-1", None, "template")
    text = formatter(CIFormat.junit).lint(LintResult("r", (p,)), Options())
    path = tmp_path / "x.xml"
    path.write_text(text, encoding="utf-8")
    [suite] = list(JUnitXml.fromfile(str(path)))
    assert next(iter(suite)).result[0].message == "bad \ufffd bell \ufffd[31m"


# --- github -----------------------------------------------------------------------------


def test_github_annotations_exactly() -> None:
    p = PackProblem("rules/a,b.yaml", "50% off: line one\nline two", 3, 7, "T-1", "fix: it", "unknown-fact")
    assert formatter(CIFormat.github).lint(LintResult("rules", (p,)), Options()) == (
        "::error file=rules/a%2Cb.yaml,line=3,col=7,title=diagnose lint unknown-fact [T-1]::50%25 off: line one%0Aline two%0Ahelp: fix: it\n"
        "diagnose rules lint: 1 error, 0 warnings\n"
    )
    lines = formatter(CIFormat.github).test(sample_run(), Options(min_coverage=50)).splitlines()
    assert (
        lines[0]
        == "::error file=rules/x.yaml,line=24,title=rule test failed%3A T-ONE quiet%3A low%2C 50%25::expected quiet, got fires%0Aline.used > 5: actual 9 (holds)"
    )
    assert lines[1].startswith("::notice file=rules/x.yaml,line=40,title=rule test skipped")
    assert (
        "::warning file=rules/x.yaml,line=30,title=rule coverage%3A T-TWO::T-TWO never fired in any example or golden case; add one"
        in lines
    )
    assert "::error title=rule coverage::rule coverage 0%25 (0 of 2 rules fired and stayed quiet) is below --min-coverage 50%25" in lines


def test_github_warnings_are_errors_with_strict() -> None:
    text = formatter(CIFormat.github).lint(sample_lint(), Options(strict=True))
    assert text.count("::error ") == 2 and "::warning" not in text


# --- sarif ------------------------------------------------------------------------------


def sarif_validator():  # type: ignore[no-untyped-def]
    if not SARIF_SCHEMA.parent.is_dir():
        pytest.skip("../shared/schemas is not beside the repository")
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.mark.parametrize("folder", ["unknown-fact", "never-true", "missing-example", "override-unknown", "yaml"])
def test_sarif_lint_is_valid_sarif(folder: str) -> None:
    validator = sarif_validator()
    result = lint(BROKEN / folder)
    log = json.loads(formatter(CIFormat.sarif).lint(result, Options(tool_version="9.9")))
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    assert log["version"] == "2.1.0"
    [run_] = log["runs"]
    assert run_["tool"]["driver"]["version"] == "9.9"
    rules = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert len(run_["results"]) == len(result.problems)
    for res, problem in zip(run_["results"], result.problems, strict=True):
        assert res["ruleId"] == problem.code and rules[res["ruleIndex"]] == problem.code
        assert res["level"] == problem.level
        region = res["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region.get("startColumn")) == (problem.line, problem.column)
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri.startswith(f"tests/broken_packs/{folder}/")


def test_sarif_of_a_clean_pack_and_of_tests_is_valid() -> None:
    validator = sarif_validator()
    clean = json.loads(formatter(CIFormat.sarif).lint(lint(), Options()))
    assert not list(validator.iter_errors(clean)) and clean["runs"][0]["results"] == []
    tested = json.loads(formatter(CIFormat.sarif).test(sample_run(), Options(min_coverage=50)))
    assert not list(validator.iter_errors(tested))
    assert [r["ruleId"] for r in tested["runs"][0]["results"]] == [
        "rule-test-failed",
        "rule-test-skipped",
        "rule-never-fired",
        "rule-never-quiet",
        "rule-never-quiet",
        "coverage-below-minimum",
    ]


def test_output_file_and_summary_on_standard_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "reports" / "lint.sarif"
    code, out, err = cli(capsys, "rules", "lint", str(BROKEN / "cycle"), "--format", "sarif", "--output", str(target))
    assert code == 1 and out == ""
    assert err == "rules lint: 1 error, 0 warnings\n"  # once
    assert json.loads(target.read_text(encoding="utf-8"))["runs"][0]["results"][0]["ruleId"] == "cycle"
