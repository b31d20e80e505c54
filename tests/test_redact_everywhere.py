"""`--redact` on every command that prints snapshot data: run's errors, why, batch reports and error reports, summarize."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, cli, sensitive_pack

SENSITIVE = ["credit.monthly_income", "credit.dti", "repayments.id", "system.maintenance.notice"]


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    return sensitive_pack(tmp_path / "pack", SENSITIVE)


def _snapshot(**changes: Any) -> dict[str, Any]:
    data = json.loads((EXAMPLES / "brw-high-dti.json").read_text(encoding="utf-8"))
    data["account"]["id"] = "acct-SECRET-7788"
    for i, rep in enumerate(data.get("repayments") or [], start=1):
        rep["id"] = f"rp-SECRET-{i:02d}"
    data["credit"]["monthly_income"] = 9532  # with 6,270 of debt service: a DTI of 65.78%, above the pack's 50%
    for path, value in changes.items():
        head, _, tail = path.partition("__")
        data[head][tail] = value
    return data


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _clean(text: str) -> None:
    assert "SECRET" not in text and "9532" not in text and "9,532" not in text and "65.78" not in text and "0.6577" not in text, text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_run_redacts_a_bad_value_at_a_sensitive_path_in_its_error(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str], lang: str
) -> None:
    bad = _write(tmp_path, "bad.json", _snapshot(credit__monthly_income="SECRET-income"))
    code, out, err = cli(capsys, "run", bad, "--rules", pack, "--redact", "--lang", lang, "--format", "json")
    assert code == 4 and "credit.monthly_income" in err and "redacted:" in err and "redacted:" in out
    assert ("实际值：" in err) is (lang == "zh")  # the Chinese words are kept, with the value's token in them
    _clean(err + out)
    bad_id = _snapshot()
    bad_id["account"]["id"] = 987654321987  # the account id is always sensitive; a number is the wrong type
    code, out, err = cli(
        capsys, "run", _write(tmp_path, "id.json", bad_id), "--rules", pack, "--redact", "--lang", lang, "--format", "json"
    )
    assert code == 4 and "account.id" in err and "987654321987" not in err + out
    code, _, err = cli(capsys, "run", bad, "--rules", pack, "--lang", lang)  # without --redact the value is shown, as before
    assert code == 4 and "SECRET-income" in err


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_why_redacts_the_values_in_its_tree_and_texts(tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    snap = _write(tmp_path, "s.json", _snapshot())
    code, out, _ = cli(capsys, "why", "BRW-HIGH-DTI", snap, "--rules", pack, "--format", fmt)
    assert code == 0 and ("65.78" in out or "0.6577" in out)  # the value is there to hide
    code, out, err = cli(capsys, "why", "BRW-HIGH-DTI", snap, "--rules", pack, "--format", fmt, "--redact")
    assert code == 0 and "redacted:" in out
    _clean(out + err)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_batch_redacts_reports_errors_and_the_raw_text(
    tmp_path: Path, pack: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    good = json.dumps(_snapshot())
    bad = json.dumps(_snapshot(credit__monthly_income="SECRET-income", line__used=-5))
    broken = '{"account": {"id": "acct-SECRET-1"'  # not JSON: nothing of it can be shown
    inp = tmp_path / "day.jsonl"
    inp.write_text("\n".join([good, bad, broken] * 200) + "\n", encoding="utf-8")
    out, errs = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    code, _, err = cli(capsys, "batch", inp, "-o", out, "-e", errs, "--rules", pack, "--redact", "-w", workers, "--chunk-size", "16")
    assert code == 0, err
    reports, rejected = out.read_text(encoding="utf-8"), errs.read_text(encoding="utf-8")
    assert reports.count("\n") == 200 and rejected.count("\n") == 400
    assert "redacted:" in reports and "redacted:" in rejected
    _clean(reports + rejected + err)
    first = json.loads(rejected.splitlines()[0])
    assert '"used":-5' in first["raw"]  # the rest of the record is kept for the fix
    code, _, err = cli(capsys, "batch", inp, "--rules", pack, "--redact", "-w", workers)
    assert code == 0 and "rejected:" in err
    _clean(err)


def test_summarize_redact_names_causes_by_rule_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _write(tmp_path, "one.json", _snapshot())
    out = tmp_path / "out.jsonl"
    assert cli(capsys, "batch", inp, "-o", out)[0] == 0
    title = json.loads(out.read_text(encoding="utf-8"))["findings"][0]["title"]
    code, shown, _ = cli(capsys, "summarize", out, "--format", "json")
    assert code == 0 and "BRW-HIGH-DTI" in shown and title not in shown  # the summary names causes by the pack's labels
    code, shown, _ = cli(capsys, "summarize", out, "--format", "json", "--redact")
    assert code == 0 and title not in shown and "BRW-HIGH-DTI" in shown
