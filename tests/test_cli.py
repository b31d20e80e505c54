"""`diagnose run` in-process: exit code, standard output and standard error together."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from diagnose.cli import main
from tests.conftest import EXAMPLES, ROOT, SHARED, cli


def write(tmp_path: Path, text: str, name: str = "s.json") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_json_report_has_every_contract_field(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "--format", "json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["schema_version"] == "1"
    assert report["snapshot"] == {"account_id": "acct-7f3a91", "as_of": "2024-01-15T10:30:00+08:00", "product": "jiebei"}
    assert set(report["ruleset"]) == {"name", "version", "digest"} and report["ruleset"]["digest"].startswith("sha256:")
    assert report["verdict"] == "blocked"
    top = report["findings"][0]
    assert top["family"] == "liquidity" and top["rule_id"] == "LIQ-FUNDER-QUOTA" and top["rank"] == 1
    for finding in report["findings"]:
        assert set(finding) >= {"rank", "rule_id", "family", "severity", "score", "title", "explanation", "evidence", "remedies"}
        assert set(finding["remedies"]) == {"customer", "agent", "institution"}
        for ev in finding["evidence"]:
            assert set(ev) >= {"fact", "op", "expected", "actual", "result"}
    assert [f["rank"] for f in report["findings"]] == list(range(1, len(report["findings"]) + 1))
    assert all(set(u) >= {"rule_id", "missing"} and u["missing"] for u in report["undetermined"])
    assert isinstance(report["warnings"], list)


@pytest.mark.skipif(not (SHARED / "contract").is_dir(), reason="../shared/contract is not beside the repository")
def test_the_contract_example_ranks_a_liquidity_cause_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(SHARED / "contract" / "snapshot.example.json"), "--format", "json")
    assert code == 0
    assert json.loads(out)["findings"][0]["family"] == "liquidity"


def test_standard_input(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    raw = (EXAMPLES / "healthy.json").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    code, out, _ = cli(capsys, "run", "-", "--format", "json")
    assert code == 0 and json.loads(out)["verdict"] == "healthy"


def test_rich_view_without_a_terminal_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", str(EXAMPLES / "contract-example.json"))
    assert code == 0 and err == ""
    assert "\x1b[" not in out
    assert "Verdict:  BLOCKED" in out
    assert "LIQ-FUNDER-QUOTA" in out and "For the customer" in out


def test_markdown_and_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "--format", "markdown", "--lang", "zh")
    assert code == 0
    assert out.startswith("# 账户 acct-7f3a91")  # no escape that CommonMark does not need
    assert "结论" in out and "给客户的建议" in out and "资金" in out


def test_language_from_the_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIAGNOSE_LANG", "zh")
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "-f", "json")
    assert code == 0 and json.loads(out)["lang"] == "zh"


def test_top_limits_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "-f", "json", "--top", "1")
    assert code == 0 and len(json.loads(out)["findings"]) == 1


def test_fail_on_exits_1_with_the_report_still_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "-f", "json", "--fail-on", "high")
    assert code == 1 and json.loads(out)["findings"]
    assert "LIQ-FUNDER-QUOTA" in err
    code, _, _ = cli(capsys, "run", str(EXAMPLES / "contract-example.json"), "-f", "json", "--fail-on", "critical")
    assert code == 0


def test_unknown_fields_warn_on_stderr_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data: dict[str, Any] = json.loads((EXAMPLES / "healthy.json").read_text())
    data["line"]["colour"] = "blue"
    code, out, err = cli(capsys, "run", write(tmp_path, json.dumps(data)), "-f", "json")
    assert code == 0
    assert json.loads(out)["warnings"] == ["ignored unknown fields: line.colour"]
    assert "warning:" in err and "line.colour" in err


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "the file is empty"),
        ("{\n  \"schema_version\": \"1\",\n  oops\n}", "line 3, column 3: broken JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"schema_version": "2"}', "schema_version: must be one of '1'"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": 1, "used": 0, "available": 1}}', "as_of: time '2024-01-15T10:30:00' has no UTC offset"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": -5, "used": 0, "available": 1}}', "line.total_limit: must be >= 0 (got -5)"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": NaN, "used": 0, "available": 1}}', "numbers must be finite"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": 1e999, "used": 0, "available": 1}}', "line.total_limit: must be a finite number"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p", "student": "no"}, '
         '"line": {"total_limit": 1, "used": 0, "available": 1}}', "account.student: must be true or false (got 'no')"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": 1, "used": 0, "available": 1, "expires_on": "2024-02-30"}}', "line.expires_on: '2024-02-30' is not a real calendar date"),
        ('{"schema_version": "1", "as_of": "2024-01-15T10:30:00Z", "account": {"id": "a", "product": "p"}, '
         '"line": {"total_limit": 1, "used": 0, "available": 1, "type": "forever"}}', "line.type: must be one of 'revolving' or 'one_time'"),
    ],
)  # fmt: skip
def test_bad_input_exits_4_with_the_field_and_no_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, words: str
) -> None:
    path = write(tmp_path, text)
    code, out, err = cli(capsys, "run", path, "-f", "json")
    assert code == 4, err
    assert json.loads(out)["error"]["kind"] == "invalid_input"
    assert words in err and path in err
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli(capsys, "run", str(tmp_path / "missing.json"))[0] == 2
    code, _, err = cli(capsys, "run", str(EXAMPLES / "healthy.json"), "--format", "xml")
    assert code == 2 and "--format" in err
    assert cli(capsys, "run")[0] == 2
    assert cli(capsys, "frobnicate")[0] == 2


def test_an_invalid_pack_exits_3_naming_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: t\nversion: '1'\n")
    (pack / "r.yaml").write_text("rules:\n  - id: T-1\n    family: policy\n    severty: high\n")
    code, out, err = cli(capsys, "run", str(EXAMPLES / "healthy.json"), "--rules", str(pack))
    assert code == 3 and out == ""
    assert "r.yaml:4:5" in err and "unknown key `severty`" in err and "did you mean `severity`" in err


def test_internal_errors_are_one_line_unless_debug(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import diagnose.api

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(diagnose.api.CompiledPack, "diagnose", boom)
    code, _, err = cli(capsys, "run", str(EXAMPLES / "healthy.json"))
    assert code == 70 and "internal error: RuntimeError: kaput" in err and "Traceback" not in err
    with pytest.raises(RuntimeError):
        main(["run", str(EXAMPLES / "healthy.json"), "--debug"])


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "run" in out and "rules" in out


def test_readme_shows_the_real_help_of_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's `diagnose run --help` block is the real output; UPDATE_README=1 rewrites it."""
    import os
    import re

    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    code, out, _ = cli(capsys, "run", "--help")
    assert code == 0
    body = "\n".join(line.rstrip() for line in out.strip("\n").splitlines()).strip("\n")
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    block = re.compile(r"(<!-- run-help:start -->\n```\n)(.*?)(\n```\n<!-- run-help:end -->)", re.S)
    if os.environ.get("UPDATE_README") == "1":
        readme_path.write_text(block.sub(lambda m: m.group(1) + body + m.group(3), readme), encoding="utf-8")
        readme = readme_path.read_text(encoding="utf-8")
    found = block.search(readme)
    assert found is not None, "README lacks the run-help block"
    assert found.group(2) == body, "the README's `diagnose run --help` block is stale: UPDATE_README=1 pytest tests/test_cli.py"
