"""The report's JSON escapes the characters a terminal would obey, in Chinese text too, and leaves the rest as it is."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import orjson
import pytest

from diagnose.records import dump_bytes
from tests.conftest import EXAMPLES, cli, load_json


@pytest.mark.parametrize("char", ["\x85", "\x9b", "\u061c", "\u200e", "\u200f", "\u2028", "\u2029", "\u202a", "\u202e", "\u2066", "\u2069"])
def test_each_unsafe_character_is_escaped_among_chinese_text(char: str) -> None:
    out = dump_bytes({"t": f"资金方（额度）：{char}已暂停。"}, indent=False)
    assert char.encode() not in out
    assert f"\\u{ord(char):04x}".encode() in out
    assert orjson.loads(out) == {"t": f"资金方（额度）：{char}已暂停。"}  # the same data


def test_delete_is_escaped_whether_the_rest_is_ascii_or_not() -> None:
    assert dump_bytes({"t": "资金方\x7f"}, indent=False) == b'{"t":"\xe8\xb5\x84\xe9\x87\x91\xe6\x96\xb9\\u007f"}'
    assert dump_bytes({"t": "acct\x7f", "u": "\x7f"}, indent=False) == b'{"t":"acct\\u007f","u":"\\u007f"}'


@pytest.mark.parametrize("text", ["资金方（额度）：已暂停；请稍后。", "…“引号”", "café"])
def test_safe_text_is_written_as_it_is(text: str) -> None:
    assert dump_bytes({"t": text}, indent=False) == orjson.dumps({"t": text})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_report_quoting_delete_escapes_it(lang: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = load_json(EXAMPLES / "healthy.json")
    snapshot["account"]["id"] = "acct\x7f1"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snapshot), encoding="utf-8")
    code, out, _ = cli(capsys, "run", path, "--format", "json", "--lang", lang)
    assert code == 0 and "\x7f" not in out
    assert json.loads(out)["snapshot"]["account_id"] == "acct\x7f1"


@pytest.mark.parametrize("indent", [False, True])
def test_keys_that_are_not_text_are_written_as_text(indent: bool) -> None:
    # Text keys take orjson's fast path; any other key the OPT_NON_STR_KEYS one, as every key did before.
    data = {"a": {1: "x", date(2024, 1, 2): [{2.5: None}], False: "资金方"}, "b": [{"c": 1}]}
    option = (orjson.OPT_INDENT_2 if indent else 0) | orjson.OPT_NON_STR_KEYS
    assert dump_bytes(data, indent=indent) == orjson.dumps(data, option=option)
    with pytest.raises(TypeError):
        dump_bytes({"a": object()}, indent=indent)  # what cannot be written still says so
