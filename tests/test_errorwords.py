"""Error messages in Chinese: with --lang zh (or DIAGNOSE_LANG=zh) a support agent reads what is wrong with a snapshot in Chinese.

The catalog (`diagnose.errorwords`) is checked pair by pair; the hostile corpus runs through the
real CLI in both languages: the same exit code, an English message of record unchanged, and
Chinese lines with none of the English templates' words left in them.
"""

from __future__ import annotations

import json
import pickle
import re
import string
from pathlib import Path

import pytest

from diagnose.errors import InvalidInput, problem
from diagnose.errorwords import TEXTS, say
from tests.conftest import EXAMPLES, cli
from tests.test_hostile import CASES, HOSTILE, _build
from tests.test_json_errors import error_of

_CJK = re.compile("[\u3400-\u9fff]")
_ENGLISH = re.compile(r"[A-Za-z]{3,}")
_NAMES = {
    "JSON",
    "Lines",
    "UTF",
    "RFC",
    "IANA",
    "NUL",
    "GBK",
    "Unicode",
    "NaN",
    "Infinity",
    "uXXXX",
    "true",
    "false",
    "null",
    "max",
    "bytes",
}
"""Names that a Chinese message writes as they are (formats, standards, JSON's own words, a flag)."""
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|“[^”]*”|`[^`]*`|\([^()]*\)|（docs/[^）]*）")
"""Values, commands and quoted text: shown as they are in both languages."""


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_each_message_takes_the_same_fields_in_both_languages(key: str) -> None:
    en, zh = TEXTS[key]
    renamed = {"expected": "expected_zh"}  # a list of values, joined as each language joins one
    assert {renamed.get(name, name) for name in _fields(en)} == _fields(zh)
    assert _CJK.search(zh), f"{key}: no Chinese in {zh!r}"


def test_say_fills_both_languages_and_a_field_may_be_said_in_each() -> None:
    message = say("field.type", what=say("field.type.number"), got="'x'")
    assert message.en == "must be a number (got 'x')"
    assert message.zh == "必须是数值（实际值：'x'）"


def _snapshot_cases() -> list[object]:
    return [pytest.param(case, id=str(case.get("file") or case["name"])) for case in CASES["snapshots"] if case["exit"] in (2, 4)]


def _target(case: dict[str, object], tmp_path: Path) -> Path:
    if "build" not in case:
        return HOSTILE / "snapshots" / str(case["file"])
    path = tmp_path / f"{case['name']}.json"
    path.write_bytes(_build(case["build"]))  # type: ignore[arg-type]
    return path


def _chinese_lines(err: str, source: Path) -> list[str]:
    """Each line of a Chinese error, with its source, values, commands and field paths taken out."""
    out = []
    for line in err.replace(str(source), "").splitlines():
        text = _QUOTED.sub("", line)
        text = re.sub(r"^\s*[A-Za-z0-9_.\[\]-]+：", "", text)  # a field path before its colon
        text = re.sub(r"实际值：[^）]*", "实际值：", text)  # the bad value, as the snapshot has it
        text = re.sub(r"\b0x[0-9a-f]+\b", "", text)  # a byte
        out.append(text)
    return out


@pytest.mark.parametrize("case", _snapshot_cases())
def test_every_hostile_snapshot_is_explained_in_chinese(
    case: dict[str, object], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = _target(case, tmp_path)
    extra = [str(a) for a in case.get("args", [])]  # type: ignore[attr-defined]
    code_en, out_en, err_en = cli(capsys, "run", target, "--format", "json", *extra)
    code_zh, out_zh, err_zh = cli(capsys, "run", target, "--format", "json", "--lang", "zh", *extra)
    assert code_zh == code_en == case["exit"], err_zh
    assert err_zh.splitlines()[0].startswith(("快照无效：", "用法错误：")), err_zh
    for line in _chinese_lines(err_zh, target):
        assert _CJK.search(line), f"a line without Chinese: {line!r} in\n{err_zh}"
        assert set(_ENGLISH.findall(line)) <= _NAMES, f"English left in {line!r} in\n{err_zh}"
    en, zh = error_of(out_en), error_of(out_zh)
    assert (zh["exit_code"], zh["kind"], zh["source"]) == (en["exit_code"], en["kind"], en["source"])
    assert [(p["path"], p["line"], p["column"]) for p in zh["problems"]] == [(p["path"], p["line"], p["column"]) for p in en["problems"]]
    assert all(_CJK.search(p["message"]) for p in zh["problems"]), zh["problems"]
    assert "快照无效" not in err_en and not _CJK.search(en["message"])  # English stays English


def test_the_language_comes_from_the_environment_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DIAGNOSE_LANG", "zh")
    code, _, err = cli(capsys, "run", tmp_path / "nowhere.json")
    assert code == 2 and err.strip() == f"用法错误：{tmp_path / 'nowhere.json'}：文件不存在"
    code, _, err = cli(capsys, "run", tmp_path / "nowhere.json", "--lang", "en")
    assert code == 2 and err.strip() == f"usage error: {tmp_path / 'nowhere.json'}: no such file"


def test_a_field_error_reads_as_a_chinese_agent_would_say_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = json.loads((EXAMPLES / "healthy.json").read_text(encoding="utf-8"))
    bad["line"].update(used=-5, status="weird")
    del bad["account"]["id"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    code, _, err = cli(capsys, "run", path, "--lang", "zh")
    assert code == 4
    assert err.splitlines()[0] == f"快照无效：{path}：共 3 处问题"
    assert "  account.id：缺少此必填字段" in err.splitlines()
    assert "  line.used：必须大于或等于 0（实际值：-5）" in err.splitlines()
    assert any(
        line.startswith("  line.status：必须是以下之一：'active'、") and line.endswith("（实际值：'weird'）") for line in err.splitlines()
    )


def test_a_line_and_column_and_a_hint_in_chinese(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"a": 1,\n "b": }', encoding="utf-8")
    code, _, err = cli(capsys, "run", path, "--lang", "zh")
    assert code == 4 and "  第 2 行第 7 列：JSON 格式错误：此处缺少值" in err.splitlines()
    code, _, err = cli(capsys, "run", HOSTILE / "snapshots" / "duplicate-key.json", "--lang", "zh")
    assert code == 4 and "  提示：每个对象里同一个键只能出现一次" in err.splitlines()


def test_the_chinese_words_travel_with_an_error_between_processes() -> None:
    exc = InvalidInput([problem("line.used", say("field.missing"))], source="x.json", hint=say("file.reexport"))
    back = pickle.loads(pickle.dumps(exc))
    assert (
        back.render("zh")
        == exc.render("zh")
        == "快照无效：x.json：共 1 处问题\n  line.used：缺少此必填字段\n  提示：请把快照重新导出为 UTF-8"
    )
    assert (
        back.render()
        == "invalid snapshot: x.json: 1 problem\n  line.used: is required but missing\n  help: re-export the snapshot as UTF-8"
    )


def test_a_batch_rejects_records_in_chinese_on_standard_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = (EXAMPLES / "healthy.json").read_text(encoding="utf-8").replace("\n", " ")
    records = tmp_path / "in.jsonl"
    records.write_text(good + "\n" + '{"as_of": 5}\n', encoding="utf-8")
    code, _, err = cli(capsys, "batch", records, "--output", tmp_path / "out.jsonl", "--lang", "zh", "--quiet", "--flat", tmp_path / "flat")
    lines = err.splitlines()
    assert f"扁平导出：1 个账户、0 个原因，已写入 {tmp_path / 'flat'}" in lines, err
    rejected = [line for line in lines if line.startswith("已拒收：")]
    assert code == 0 and len(rejected) == 1 and rejected[0].startswith(f"已拒收：{records}:2：account：缺少此必填字段；"), err
    assert "读取 2 条记录 = 已诊断 1 + 已拒收 1" in lines and "  提示：加 --errors FILE 可以保留已拒收的记录及其原文" in lines
    code, _, err = cli(capsys, "batch", records, "--output", tmp_path / "out.jsonl", "--errors", tmp_path / "errors.jsonl", "--quiet")
    assert code == 0 and "read 2 records = 1 diagnosed + 1 rejected" in err.splitlines()
    report = json.loads((tmp_path / "errors.jsonl").read_text(encoding="utf-8"))
    assert all(not _CJK.search(p["message"]) for p in report["problems"])  # the error report is the message of record: English


def test_the_warning_for_unknown_fields_is_in_the_reports_language(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "healthy.json").read_text(encoding="utf-8"))
    data["line"]["colour"] = "red"
    data["exporter_note"] = "x"
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = cli(capsys, "run", path, "--format", "json", "--lang", "zh")
    assert code == 0 and json.loads(out)["warnings"] == ["已忽略未知字段：exporter_note、line.colour"]
    assert err.strip() == f"警告：{path}：已忽略未知字段：exporter_note、line.colour"
    code, out, err = cli(capsys, "run", path, "--format", "json")
    assert json.loads(out)["warnings"] == ["ignored unknown fields: exporter_note, line.colour"]
    assert err.strip() == f"warning: {path}: ignored unknown fields: exporter_note, line.colour"


def test_diff_warns_in_the_language_it_was_asked_for(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = json.loads((EXAMPLES / "healthy.json").read_text(encoding="utf-8"))
    data["exporter_note"] = "x"
    path = tmp_path / "unknown.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, err = cli(capsys, "diff", path, EXAMPLES / "healthy.json", "--lang", "zh")
    assert code == 0 and err.strip() == f"警告：{path}：已忽略未知字段：exporter_note"
    code, _, err = cli(capsys, "diff", path, EXAMPLES / "healthy.json")
    assert code == 0 and err.strip() == f"warning: {path}: ignored unknown fields: exporter_note"


def test_why_diff_and_history_refuse_in_chinese(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "why", "BRW-OVERDU", EXAMPLES / "healthy.json", "--lang", "zh")
    assert code == 2 and err.splitlines() == ["用法错误：规则包 default 中没有规则 'BRW-OVERDU'", "  提示：您要找的是不是 BRW-OVERDUE？"]
    code, _, err = cli(capsys, "diff", EXAMPLES / "healthy.json", EXAMPLES / "brw-overdue.json", "--lang", "zh")
    assert code == 4 and "account.id：" in err and "是账户 acct-7c41d2" in err and "--cross-account" in err, err
    code, _, err = cli(capsys, "history", tmp_path / "none.json", "--lang", "zh")
    assert code == 2 and err.strip() == f"用法错误：{tmp_path / 'none.json'}：文件不存在"


def test_the_public_key_warning_in_chinese(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIAGNOSE_REDACT_KEY", raising=False)
    code, _, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--redact", "--lang", "zh")
    assert code == 0 and err.startswith("警告：--redact 未设密钥，使用的是公开的默认密钥"), err
