"""`rules lint`: one broken pack per check gives its message at its file, line and column; the default pack is clean."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnose.packci.lint import CHECKS, LintResult, lint
from tests.conftest import ROOT, cli, examples

BROKEN = ROOT / "tests" / "broken_packs"
MINIMAL = ROOT / "tests" / "packs" / "minimal"
EXTENDS = ROOT / "tests" / "packs" / "extends-default"
FOLDERS = sorted(p for p in BROKEN.iterdir() if p.is_dir())

# The checks the lint brief names, each with the broken pack that shows it.
BRIEF = {
    "YAML syntax": "yaml",
    "unknown key": "unknown-key",
    "missing key": "missing-key",
    "duplicate id across files": "duplicate-id",
    "unknown fact path, with did you mean": "unknown-fact",
    "a string against a number fact": "type-mismatch",
    "an enum value the contract does not allow": "enum-value",
    "unknown pack parameter": "unknown-param",
    "template naming an unknown fact": "template-fact",
    "condition that can never be true": "never-true",
    "condition that is always true": "always-true",
    "rule missing zh or en text": "missing-text",
    "rule missing an audience's remedy": "missing-remedy",
    "explains link to a missing rule": "unknown-rule",
    "explains cycle": "cycle",
    "rule without a firing or quiet example": "missing-example",
}
NOT_REPRODUCIBLE = {"too-large", "unreadable", "encoding", "invalid"}
"""Checks about the file system, not the text of a pack (tests/test_cli.py and the loader's tests cover them)."""


def as_expected(result: LintResult, folder: Path) -> list[dict[str, Any]]:
    """Problems as expected.json writes them: file names within the folder, no machine-specific paths."""
    out = []
    for p in result.problems:
        message = p.message.replace(f"{folder}/", "")
        out.append(
            {
                "file": Path(p.file).name,
                "line": p.line,
                "column": p.column,
                "level": p.level,
                "code": p.code,
                "rule_id": p.rule_id,
                "message": message,
                "help": p.hint,
            }
        )
    return out


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_broken_pack_gives_the_expected_problems(folder: Path) -> None:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    result = lint(folder)
    assert as_expected(result, folder) == expected["problems"]


def test_every_check_of_the_brief_has_a_broken_pack() -> None:
    names = {p.name for p in FOLDERS}
    assert set(BRIEF.values()) <= names
    for check, folder in BRIEF.items():
        problems = json.loads((BROKEN / folder / "expected.json").read_text(encoding="utf-8"))["problems"]
        assert problems, check


def test_every_lint_code_is_shown_by_a_broken_pack() -> None:
    shown = {p["code"] for f in FOLDERS for p in json.loads((f / "expected.json").read_text(encoding="utf-8"))["problems"]}
    assert set(CHECKS) - NOT_REPRODUCIBLE <= shown
    assert shown <= set(CHECKS)


def test_each_broken_pack_breaks_a_valid_one() -> None:
    """The broken packs are copies of tests/packs/minimal with one thing wrong; the original is clean."""
    result = lint(MINIMAL)
    assert result.loaded and result.problems == () and result.rules == 1


def test_default_pack_lints_clean_with_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "lint", "--strict")
    assert (code, err) == (0, "")
    assert out.startswith("rules: no problems (") or "no problems" in out
    result = lint()
    assert result.problems == () and result.rules >= 39


def test_extending_pack_lints_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "lint", str(EXTENDS), "--strict")
    assert (code, err) == (0, "")
    assert "no problems" in out


def test_cli_shows_file_line_column_rule_message_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    folder = BROKEN / "unknown-fact"
    code, out, err = cli(capsys, "rules", "lint", str(folder))
    assert code == 1
    assert out.splitlines()[:7] == [
        "error[unknown-fact]: unknown fact `funding.funder_quota_remainig_pct`",
        "  --> tests/broken_packs/unknown-fact/rules.yaml:13:18  [T-QUOTA]",
        "   |",
        '13 |         - {fact: funding.funder_quota_remainig_pct, op: "<=", param: quota_low_pct}',
        "   |                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "  help: did you mean `funding.funder_quota_remaining_pct`?",
        "",
    ]
    assert out.splitlines()[-1] == "tests/broken_packs/unknown-fact: 1 error, 0 warnings (the pack could not be loaded)"
    assert err == ""  # the summary is the report's last line, printed once


def test_errors_come_before_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = copy_pack(tmp_path, MINIMAL)
    text = (pack / "rules.yaml").read_text(encoding="utf-8")
    second = text.split("rules:\n", 1)[1].replace("T-QUOTA", "T-OTHER").split("    examples:")[0]
    second = second.replace('op: "<=", param: quota_low_pct', 'op: "<", value: 0')
    (pack / "rules.yaml").write_text(text + second, encoding="utf-8")
    code, out, _ = cli(capsys, "rules", "lint", str(pack))
    assert code == 1
    heads = [line.split(":", 1)[0] for line in out.splitlines() if line.startswith(("error", "warning"))]
    assert heads == ["error[never-true]", "warning[missing-example]", "warning[missing-example]"]


def test_an_unknown_key_lists_the_keys_of_its_own_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`rules:` in pack.yaml is told apart from a rule file by the file, not by its keys: the hint lists the manifest's keys."""
    pack = copy_pack(tmp_path, MINIMAL)
    with (pack / "pack.yaml").open("a", encoding="utf-8") as fh:
        fh.write("rules:\n  - id: T-X\n")
    code, out, _ = cli(capsys, "rules", "lint", str(pack))
    assert code == 1 and "unknown key `rules`" in out
    hint = next(line for line in out.splitlines() if "help: " in line and "allowed keys here" in line)
    assert "did you mean" not in hint and "name, version" in hint


def test_warnings_fail_only_with_strict(capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(BROKEN / "missing-example")
    code, out, err = cli(capsys, "rules", "lint", folder)
    assert code == 0 and err == "" and "0 errors, 1 warning" in out
    code, out, err = cli(capsys, "rules", "lint", folder, "--strict")
    assert code == 1 and out.count("(--strict: warnings fail)") == 1 and err == ""


def test_a_missing_folder_is_a_usage_error_not_a_crash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "lint", str(tmp_path / "nope"))
    assert code == 2
    assert (
        "no such rule pack folder" in err
        and "help: a rule pack is a folder with a pack.yaml: `diagnose docs rules` (docs/rule-format.md)" in err
    )
    assert "Traceback" not in out + err


def test_pack_argument_and_rules_option_must_agree(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "rules", "lint", str(MINIMAL), "--rules", str(EXTENDS))
    assert code == 2 and "two packs named" in err
    code, out, _ = cli(capsys, "rules", "lint", "--rules", str(MINIMAL))
    assert code == 0 and "no problems (1 rule in 2 files)" in out


# --- conditions that can never be true or are always true ------------------------------


def copy_pack(tmp_path: Path, source: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(source, target)
    (target / "pack.yaml").write_text(
        (target / "pack.yaml").read_text(encoding="utf-8").replace("../../../rules/", str(ROOT / "rules") + "/"), encoding="utf-8"
    )
    return target


WHEN = """    when:
      all:
        - {fact: funding.funder_quota_remaining_pct, op: "<=", param: quota_low_pct}
        - {fact: line.limit_short, op: "==", value: true}
"""


def lint_when(tmp_path: Path, when: str) -> list[tuple[str, str, str]]:
    pack = copy_pack(tmp_path, MINIMAL)
    text = (pack / "rules.yaml").read_text(encoding="utf-8")
    assert WHEN in text
    (pack / "rules.yaml").write_text(text.replace(WHEN, "    when:\n" + when), encoding="utf-8")
    result = lint(pack)
    assert result.loaded, [p.render() for p in result.problems]
    return [(p.level, p.code, p.message) for p in result.problems if p.code != "unused-param"]


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        # contradictory bounds under `all`, also through a parameter
        (
            '      all:\n        - {fact: line.used, op: ">", value: 5}\n        - {fact: line.used, op: "<", value: 3}\n',
            [("error", "never-true")],
        ),
        ('      all:\n        - {fact: line.used, op: ">=", value: 5}\n        - {fact: line.used, op: "<=", value: 5}\n', []),
        (
            '      all:\n        - {fact: line.used, op: ">", value: 5}\n        - {fact: line.used, op: "<=", value: 5}\n',
            [("error", "never-true")],
        ),
        # a count takes whole numbers: nothing lies strictly between 0 and 1
        (
            '      all:\n        - {fact: loans.overdue_count, op: ">", value: 0}\n        - {fact: loans.overdue_count, op: "<", value: 1}\n',
            [("error", "never-true")],
        ),
        ('      all:\n        - {fact: line.utilization, op: ">", value: 0}\n        - {fact: line.utilization, op: "<", value: 1}\n', []),
        # the catalog's range of a fact
        ('      all:\n        - {fact: line.used, op: ">=", value: 0}\n', [("error", "always-true")]),
        ('      all:\n        - {fact: line.used, op: "<", value: 0}\n', [("error", "never-true")]),
        ('      all:\n        - {fact: funding.regional_pool_utilization, op: ">", value: 1}\n', [("error", "never-true")]),
        ('      all:\n        - {fact: funding.regional_pool_utilization, op: "<=", value: 1}\n', [("error", "always-true")]),
        ('      all:\n        - {fact: line.days_to_expiry, op: "<", value: 0}\n', []),
        ('      all:\n        - {fact: line.used, op: "between", value: [10, 5]}\n', [("error", "never-true")]),
        # enums and booleans
        ('      all:\n        - {fact: request.outcome, op: "in", value: [refused, approved, error]}\n', [("error", "always-true")]),
        ('      all:\n        - {fact: request.outcome, op: "not in", value: [refused, approved, error]}\n', [("error", "never-true")]),
        (
            '      all:\n        - {fact: line.limit_short, op: "==", value: true}\n        - {fact: line.limit_short, op: "==", value: false}\n',
            [("error", "never-true")],
        ),
        # `any` of bounds that cover every value
        (
            '      any:\n        - {fact: line.used, op: "<", value: 5}\n        - {fact: line.used, op: ">=", value: 5}\n',
            [("error", "always-true")],
        ),
        ('      any:\n        - {fact: line.used, op: "<", value: 5}\n        - {fact: line.used, op: ">", value: 5}\n', []),
        # only a branch is constant: a warning, the rule still decides
        (
            '      all:\n        - {fact: line.limit_short, op: "==", value: true}\n        - {fact: line.used, op: ">=", value: 0}\n',
            [("warning", "always-true")],
        ),
        (
            '      any:\n        - {fact: line.limit_short, op: "==", value: true}\n        - {fact: line.used, op: "<", value: 0}\n',
            [("warning", "never-true")],
        ),
        # `not` turns a never-true leaf into an always-true rule
        ('      not: {fact: line.used, op: "<", value: 0}\n', [("error", "never-true")]),
        # facts compared with other facts or dates are not judged
        ('      all:\n        - {fact: line.used, op: ">", ref: line.total_limit}\n', []),
        ('      all:\n        - {fact: line.expires_on, op: "<", value: "2024-01-01"}\n', []),
    ],
)
def test_constant_conditions(tmp_path: Path, when: str, expected: list[tuple[str, str]]) -> None:
    found = [(level, code) for level, code, _ in lint_when(tmp_path, when)]
    assert found == expected


def test_never_true_names_both_bounds_and_the_parameter_value(tmp_path: Path) -> None:
    when = '      all:\n        - {fact: funding.funder_quota_remaining_pct, op: "<=", param: quota_low_pct}\n        - {fact: funding.funder_quota_remaining_pct, op: ">", value: 20}\n'
    [(level, code, message)] = lint_when(tmp_path, when)
    assert (level, code) == ("error", "never-true")
    assert message == (
        "`funding.funder_quota_remaining_pct > 20` contradicts `funding.funder_quota_remaining_pct <= quota_low_pct` (5) "
        "under `all`: no value satisfies both; so the rule can never fire"
    )


# --- lint never raises -------------------------------------------------------------------


@examples(60)
@given(st.text(alphabet=st.sampled_from(list("abc:-{}[]\n  '\"#&*!|>?1.%@`\t")), max_size=200))
def test_lint_reports_any_text_instead_of_raising(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    pack = tmp_path_factory.mktemp("fuzz")
    (pack / "pack.yaml").write_text("name: fuzz\nversion: '1'\n", encoding="utf-8")
    (pack / "rules.yaml").write_text(text, encoding="utf-8")
    result = lint(pack)
    assert all(p.file and p.message for p in result.problems)


@examples(40)
@given(st.integers(min_value=0, max_value=2000))
def test_lint_reports_a_truncated_rule_file_instead_of_raising(tmp_path_factory: pytest.TempPathFactory, cut: int) -> None:
    pack = copy_pack(tmp_path_factory.mktemp("cut"), MINIMAL)
    text = (pack / "rules.yaml").read_text(encoding="utf-8")
    (pack / "rules.yaml").write_text(text[:cut], encoding="utf-8")
    result = lint(pack)
    assert all(p.level in ("error", "warning") for p in result.problems)


@pytest.mark.parametrize(
    ("old", "new", "code", "message"),
    [
        (
            "      customer:\n        - {en: Please try again tomorrow morning., zh: 请明天上午再试。}\n",
            "      customer: []\n",
            "missing-remedy",
            "no remedy for the `customer` audience (`remedies.customer` is empty)",
        ),
        (
            "      zh: 合作资金方本期额度已用完\n",
            '      zh: ""\n',
            "missing-text",
            "`title.zh` is empty",
        ),
    ],
)
def test_empty_texts_and_remedy_lists_count_as_missing(tmp_path: Path, old: str, new: str, code: str, message: str) -> None:
    pack = copy_pack(tmp_path, MINIMAL)
    text = (pack / "rules.yaml").read_text(encoding="utf-8")
    assert old in text
    (pack / "rules.yaml").write_text(text.replace(old, new), encoding="utf-8")
    [problem] = lint(pack).problems
    assert (problem.code, problem.message, problem.rule_id) == (code, message, "T-QUOTA")


def test_one_run_reports_five_kinds_of_problem_in_three_files(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A schema error no longer stops lint: the other rules, files and pack-wide checks are judged in the same run."""
    monkeypatch.chdir(ROOT)  # paths are shown relative to the working folder
    folder = BROKEN / "five-kinds"
    code, out, err = cli(capsys, "rules", "lint", str(folder))
    assert (code, err) == (1, "")
    assert out == (folder / "expected.txt").read_text(encoding="utf-8")
    kinds = {(p.file.rsplit("/", 1)[-1], p.code) for p in lint(folder).problems}
    assert kinds == {
        ("a.yaml", "invalid-value"),
        ("a.yaml", "unknown-fact"),
        ("b.yaml", "never-true"),
        ("b.yaml", "unknown-rule"),
        ("pack.yaml", "missing-text"),
    }
    assert "Input should" not in out and "rules.0." not in out  # the tool's own words, not pydantic's


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        ("rules: [\n", [("other.yaml", "yaml")]),  # a file that does not parse
        (  # a rule that does not validate: its own problems are the only ones
            "rules:\n  - {id: T-OTHER, severity: urgent}\n",
            [("other.yaml", "missing-key")] * 5 + [("other.yaml", "invalid-value")],
        ),
    ],
    ids=["yaml-error", "invalid-rule"],
)
def test_a_link_to_a_rule_that_did_not_parse_is_not_called_unknown(tmp_path: Path, other: str, expected: list[tuple[str, str]]) -> None:
    pack = copy_pack(tmp_path, MINIMAL)
    rules = pack / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("    severity: high\n", "    severity: high\n    explains: [T-OTHER]\n"), encoding="utf-8"
    )
    (pack / "other.yaml").write_text(other, encoding="utf-8")
    assert sorted((Path(p.file).name, p.code) for p in lint(pack).problems) == sorted(expected)


def test_a_parameter_that_did_not_validate_is_one_problem_and_not_unknown(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path, MINIMAL)
    manifest = pack / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("    value: 5\n", "    value: [5, {x: 1}]\n"), encoding="utf-8")
    [problem] = lint(pack).problems
    assert (problem.code, problem.line, problem.column) == ("invalid-value", 7, 16)
    assert problem.message == "`parameters.quota_low_pct.value.1` must be true or false, a number or text"
