"""`diagnose batch`: inputs, sources, order with several workers, the error report, counts, resume, and the Python API."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import diagnose
from diagnose.api import CompiledPack
from diagnose.errors import InvalidInput
from diagnose.portfolio import batch as core
from diagnose.portfolio.generate import Generator, Line, default_examples, load_templates
from tests.conftest import cli, examples

EXAMPLE = default_examples() / "liq-funder-quota.json"


@pytest.fixture(scope="module")
def gen(pack: CompiledPack) -> Generator:
    return Generator(pack, load_templates(pack), seed=21)


@pytest.fixture(scope="module")
def lines(gen: Generator) -> list[Line]:
    return list(gen.lines(600, corrupt_rate=0.03))


def write(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    return path


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def compact(path: Path) -> str:
    return json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False, separators=(",", ":"))


# --- reports, sources and counts ---------------------------------------------------------


def test_one_report_a_line_in_input_order_with_its_source(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]) -> None:
    sample = lines[:200]
    bad = [i + 1 for i, line in enumerate(sample) if line.corrupt]
    assert bad  # the sample holds corrupted lines
    inp = write(tmp_path / "in.jsonl", [line.text for line in sample])
    code, out, err = cli(capsys, "batch", inp, "-o", tmp_path / "out.jsonl", "-e", tmp_path / "err.jsonl", "-w", "1")
    assert (code, out) == (0, "")
    assert err == f"read 200 records = {200 - len(bad)} diagnosed + {len(bad)} rejected\n"  # no progress bar: not a terminal
    reports = jsonl(tmp_path / "out.jsonl")
    good = [i + 1 for i, line in enumerate(sample) if not line.corrupt]
    assert [r["source"] for r in reports] == [{"file": str(inp), "line": n} for n in good]
    assert [r["snapshot"]["account_id"] for r in reports] == [json.loads(sample[n - 1].text)["account"]["id"] for n in good]
    assert [e["source"]["line"] for e in jsonl(tmp_path / "err.jsonl")] == bad


def test_a_batch_line_is_the_run_report_plus_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, single, _ = cli(capsys, "run", EXAMPLE, "--format", "json")
    assert code == 0
    code, out, err = cli(capsys, "batch", EXAMPLE)
    assert code == 0 and err == "read 1 record = 1 diagnosed + 0 rejected\n"
    line = json.loads(out)
    expected = json.loads(single)
    assert list(line) == [*expected, "source"]
    assert line.pop("source") == {"file": str(EXAMPLE), "line": 1}
    assert line == expected


def test_gzip_folders_standard_input_and_several_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt][:7]
    gz = tmp_path / "day.jsonl.gz"
    gz.write_bytes(gzip.compress("".join(t + "\n" for t in clean[:3]).encode()))
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "b.json").write_text(json.dumps(json.loads(clean[3]), indent=2), encoding="utf-8")
    (folder / "a.json").write_text(json.dumps(json.loads(clean[4]), indent=2), encoding="utf-8")
    (folder / "notes.txt").write_text("not a snapshot", encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("".join(t + "\n" for t in clean[5:]).encode())))
    code, out, err = cli(capsys, "batch", gz, folder, "-", "-w", "2")
    assert code == 0 and err == "read 7 records = 7 diagnosed + 0 rejected\n"
    sources = [(r["source"]["file"], r["source"]["line"]) for r in map(json.loads, out.splitlines())]
    assert sources == [
        (str(gz), 1),
        (str(gz), 2),
        (str(gz), 3),
        (str(folder / "a.json"), 1),
        (str(folder / "b.json"), 1),
        ("<stdin>", 1),
        ("<stdin>", 2),
    ]
    ids = [json.loads(out.splitlines()[i])["snapshot"]["account_id"] for i in range(7)]
    assert ids == [json.loads(clean[i])["account"]["id"] for i in (0, 1, 2, 4, 3, 5, 6)]


def test_blank_lines_crlf_and_a_byte_order_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]) -> None:
    clean = [line.text for line in lines if not line.corrupt][:3]
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(b"\xef\xbb\xbf" + clean[0].encode() + b"\r\n\r\n   \n" + clean[1].encode() + b"\r\n" + clean[2].encode())
    code, out, err = cli(capsys, "batch", inp)
    assert code == 0 and err == "read 3 records = 3 diagnosed + 0 rejected\n"
    assert [json.loads(x)["source"]["line"] for x in out.splitlines()] == [1, 4, 5]


# --- rejected records ---------------------------------------------------------------------


def test_rejected_records_go_to_the_error_report_with_source_problems_and_raw_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    negative = json.loads(clean[1])
    negative["line"]["used"] = -5
    long_garbage = '{"x": "' + "z" * 5000
    inp = tmp_path / "in.jsonl"
    inp.write_bytes(
        b"\n".join(
            [
                clean[0].encode(),
                b'{"schema_version": "1", "as_of": }',
                clean[2].encode(),
                json.dumps(negative).encode(),
                b'{"account": "caf\xe9"}',
                long_garbage.encode(),
                b"[1, 2]",
                clean[3].encode(),
            ]
        )
        + b"\n"
    )
    code, out, err = cli(capsys, "batch", inp, "-o", tmp_path / "out.jsonl", "-e", tmp_path / "err.jsonl")
    assert (code, out) == (0, "")
    assert err == "read 8 records = 3 diagnosed + 5 rejected\n"
    assert [r["source"]["line"] for r in jsonl(tmp_path / "out.jsonl")] == [1, 3, 8]
    errors = {e["source"]["line"]: e for e in jsonl(tmp_path / "err.jsonl")}
    assert list(errors) == [2, 4, 5, 6, 7]
    assert all(e["source"]["file"] == str(inp) and e["error"] == "invalid_input" for e in errors.values())
    broken = errors[2]
    assert broken["problems"] == [{"path": "", "message": "broken JSON: Expecting value", "line": 1, "column": 34}]
    assert broken["raw"] == '{"schema_version": "1", "as_of": }' and broken["raw_truncated"] is False
    assert [p["path"] for p in errors[4]["problems"]] == ["line.used"]
    assert "must be >= 0" in errors[4]["problems"][0]["message"] and "-5" in errors[4]["problems"][0]["message"]
    assert errors[5]["problems"][0]["message"].startswith("not UTF-8 text: invalid byte 0xe9")
    assert errors[5]["raw"] == '{"account": "caf\ufffd"}'
    assert errors[6]["raw"] == long_garbage[:2000] and errors[6]["raw_truncated"] is True
    assert "must be a JSON object" in errors[7]["problems"][0]["message"]
    assert "hint" in errors[7]


def test_without_an_error_file_each_rejected_record_is_one_line_on_standard_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    inp = write(tmp_path / "in.jsonl", [clean[0], "{broken", clean[1]])
    code, out, err = cli(capsys, "batch", inp)
    assert code == 0 and len(out.splitlines()) == 2
    assert err.splitlines() == [
        f"rejected: {inp}:2: line 1, column 2: broken JSON: Expecting property name enclosed in double quotes",
        "read 3 records = 2 diagnosed + 1 rejected",
        "  help: use --errors FILE to keep the rejected records with their raw text",
    ]


def test_fail_on_rejects_exits_1_only_when_a_record_was_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    bad = write(tmp_path / "bad.jsonl", [clean[0], "nope"])
    code, _, err = cli(capsys, "batch", bad, "--fail-on-rejects", "-e", tmp_path / "e.jsonl")
    assert code == 1 and err.endswith("check failed: 1 record(s) rejected (--fail-on-rejects)\n")
    good = write(tmp_path / "good.jsonl", clean[:2])
    assert cli(capsys, "batch", good, "--fail-on-rejects")[0] == 0


def test_a_record_larger_than_max_bytes_is_rejected_and_read_past(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    huge = '{"pad": "' + "x" * 30_000 + '"}'
    inp = tmp_path / "in.jsonl"
    inp.write_text(clean[0] + "\n" + huge + "\n" + clean[1] + "\n" + huge, encoding="utf-8")
    code, out, err = cli(capsys, "batch", inp, "--max-bytes", "20000", "-e", tmp_path / "e.jsonl")
    assert code == 0 and err.startswith("read 4 records = 2 diagnosed + 2 rejected")
    assert [json.loads(x)["source"]["line"] for x in out.splitlines()] == [1, 3]
    errors = jsonl(tmp_path / "e.jsonl")
    assert [e["source"]["line"] for e in errors] == [2, 4]
    assert errors[0]["problems"][0]["message"] == f"the record is {len(huge) + 1:,} bytes; at most 20,000 are accepted"
    assert errors[1]["problems"][0]["message"] == f"the record is {len(huge):,} bytes; at most 20,000 are accepted"
    assert len(errors[0]["raw"]) == 2000 and errors[0]["raw_truncated"] is True


def test_a_bug_on_one_record_is_reported_and_the_others_are_diagnosed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lines: list[Line]
) -> None:
    clean = [line.text for line in lines if not line.corrupt][:3]
    victim = json.loads(clean[1])["account"]["id"]
    original = core.Diagnoser.one

    def flaky(self: core.Diagnoser, rec: core.RawRecord) -> Any:
        if victim.encode() in rec.data:
            raise RuntimeError("boom")
        return original(self, rec)

    monkeypatch.setattr(core.Diagnoser, "one", flaky)
    inp = write(tmp_path / "in.jsonl", clean)
    code, out, err = cli(capsys, "batch", inp, "-e", tmp_path / "e.jsonl", "-w", "1")
    assert code == 70
    assert len(out.splitlines()) == 2
    assert f"internal error: {inp}:2: RuntimeError: boom\n" in err
    assert "read 3 records = 2 diagnosed + 1 rejected" in err
    assert "batch failed: 1 record(s) hit a bug in diagnose" in err
    (record,) = jsonl(tmp_path / "e.jsonl")
    assert record["error"] == "internal_error" and record["source"]["line"] == 2
    assert record["problems"] == [{"path": "", "message": "RuntimeError: boom"}]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_input_that_breaks_off_keeps_every_record_before_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line], workers: str
) -> None:
    clean = [line.text for line in lines if not line.corrupt][:400]
    whole = gzip.compress("".join(t + "\n" for t in clean).encode())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out.jsonl"
    code, _, err = cli(capsys, "batch", cut, "-o", out, "-w", workers, "--chunk-size", "16")
    assert code == 4
    found = re.search(rf"invalid snapshot: {re.escape(str(cut))}: 1 problem\n  \(top level\): cannot read line (\d+): ", err)
    assert found is not None
    assert [r["source"]["line"] for r in jsonl(out)] == list(range(1, int(found.group(1))))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope.jsonl"], "usage error: nope.jsonl: no such file or folder"),
        (["{ex}", "--resume"], "usage error: --resume needs --output"),
        (["{ex}", "-o", "{ex}"], "would overwrite an input"),
        (["{empty}"], "the folder holds no .json files"),
        (["{ex}", "--workers", "0"], "--workers"),
        (["-", "-"], "standard input (-) given more than once"),
        (["{ex}", "-o", "{tmp}/a.jsonl", "-e", "{tmp}/a.jsonl"], "--output and --errors are the same file"),
        ([], "Missing argument 'INPUT...'"),
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    argv = [a.format(ex=EXAMPLE, empty=tmp_path / "empty", tmp=tmp_path) for a in args]
    code, out, err = cli(capsys, "batch", *argv)
    assert (code, out) == (2, "")
    assert message in err
    assert "Traceback" not in err


# --- workers --------------------------------------------------------------------------------


def test_two_workers_give_the_same_bytes_in_the_same_order(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines])
    for w in ("1", "2"):
        code, _, err = cli(
            capsys, "batch", inp, "-o", tmp_path / f"out{w}.jsonl", "-e", tmp_path / f"err{w}.jsonl", "-w", w, "--chunk-size", "16"
        )
        assert code == 0 and err.startswith("read 600 records = 582 diagnosed + 18 rejected")
    assert (tmp_path / "out1.jsonl").read_bytes() == (tmp_path / "out2.jsonl").read_bytes()
    assert (tmp_path / "err1.jsonl").read_bytes() == (tmp_path / "err2.jsonl").read_bytes()
    numbers = [r["source"]["line"] for r in jsonl(tmp_path / "out2.jsonl")]
    assert numbers == sorted(numbers) and len(numbers) == 582


def _die_on_third_chunk(items: list[core.Item]) -> core.ChunkResult:
    first = items[0]
    if (first.first_line if isinstance(first, core.Span) else first.line) > 32:
        os._exit(3)  # a worker killed mid-run, as the out-of-memory killer would
    return core._WORKER[0].chunk(items)


def test_a_worker_that_dies_stops_the_batch_with_a_resumable_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lines: list[Line]
) -> None:
    monkeypatch.setattr(core, "_work", _die_on_third_chunk)
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines[:100]])
    out = tmp_path / "out.jsonl"
    code, _, err = cli(capsys, "batch", inp, "-o", out, "-e", tmp_path / "e.jsonl", "-w", "2", "--chunk-size", "16")
    assert code == 70
    found = re.search(r"batch failed: a worker process died \(out of memory\?\) after (\d+) records\n", err)
    # the chunks before the broken one are written if their results arrived before the pool broke
    assert found is not None and int(found.group(1)) in (0, 16, 32)
    assert "help: every record before it is in the output: rerun with --resume" in err
    assert [r["source"]["line"] for r in jsonl(out)] == list(range(1, int(found.group(1)) + 1))
    monkeypatch.undo()
    code, _, err = cli(capsys, "batch", inp, "-o", out, "-e", tmp_path / "e.jsonl", "-w", "2", "--chunk-size", "16", "--resume")
    assert code == 0 and [r["source"]["line"] for r in jsonl(out)] == list(range(1, 101))


# --- spans: with several workers, each reads its lines of a plain file itself ----------------

_LINE = st.one_of(
    st.sampled_from([b"", b"   ", b"\r", b"\t \r", b'{"a": 1}', b'{"a": 1}\r', b"\xef\xbb\xbf{}", b"not json"]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b" ")),
    st.integers(30, 200).map(lambda n: b'{"pad": "' + b"x" * n + b'"}'),  # longer than --max-bytes below
)


@examples(300)
@example([b"\x1f\x8b", b""], False, 1, 8, 24)  # a file that starts like gzip is read as one by both
@given(
    st.lists(_LINE, max_size=25),
    st.booleans(),
    st.sampled_from([1, 2, 5, 256]),
    st.sampled_from([8, 64, 1 << 20]),
    st.sampled_from([24, 100, 10_000]),
)
def test_spans_give_the_records_that_reading_line_by_line_gives(
    tmp_path_factory: pytest.TempPathFactory, body: list[bytes], newline_at_end: bool, lines: int, span_bytes: int, max_bytes: int
) -> None:
    path = tmp_path_factory.mktemp("spans") / "in.jsonl"
    path.write_bytes(b"\n".join(body) + (b"\n" if newline_at_end and body else b""))
    inputs = core.check_inputs([str(path)])

    def read(records: Any) -> Any:  # the records, or the error that stopped the reading (a file that starts like gzip)
        try:
            return list(records)
        except InvalidInput as exc:
            return str(exc)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(core, "SPAN_BYTES", span_bytes)
        items = read(core.iter_items(inputs, max_bytes=max_bytes, lines=lines))
    if isinstance(items, str):
        assert items == read(core.iter_records(inputs, max_bytes=max_bytes))
        return
    assert read(core._records(items, max_bytes)) == read(core.iter_records(inputs, max_bytes=max_bytes))
    spans = [i for i in items if isinstance(i, core.Span)]
    assert all(s.length <= 2 * span_bytes + max_bytes + 2 for s in spans)  # a line past max_bytes is never held whole
    assert all(len(i.data) <= max_bytes + 2 for i in items if isinstance(i, core.RawRecord))


def test_a_huge_line_is_read_past_by_the_reader_not_handed_to_a_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core, "SPAN_BYTES", 4096)
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n' + b"x" * 3_000_000 + b'\n{"b": 2}\n')
    items = list(core.iter_items(core.check_inputs([str(path)]), max_bytes=10_000, lines=256))
    assert [type(i).__name__ for i in items] == ["Span", "RawRecord", "Span"]
    long = items[1]
    assert isinstance(long, core.RawRecord) and (long.line, long.size, len(long.data)) == (2, 3_000_001, 8_000)
    assert [r.line for r in core._records(items, 10_000)] == [1, 2, 3]


def test_two_workers_read_spans_of_the_chunk_size_and_smaller_ones_at_the_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines[:300]])
    items = list(core.iter_items(core.check_inputs([str(inp)]), lines=16, workers=2))
    spans = [i for i in items if isinstance(i, core.Span)]
    assert len(spans) == len(items) and spans[0].first_line == 1
    data = inp.read_bytes()
    sizes = [data[s.offset : s.offset + s.length].count(b"\n") for s in spans]
    assert [s.first_line for s in spans] == [1 + sum(sizes[:k]) for k in range(len(spans))] and sum(sizes) == 300
    # the last 2 x 2 chunks' worth (about 64 lines) come in quarters, so that both workers finish together
    assert sizes[:10] == [16] * 10 and sizes[-12:] == [4] * 12 and set(sizes) == {16, 4}
    code, _, err = cli(capsys, "batch", inp, "-o", tmp_path / "out.jsonl", "-w", "2", "--chunk-size", "16", "--summary", "--format", "json")
    assert code == 0 and "read 300 records" in err
    assert [r["source"]["line"] for r in jsonl(tmp_path / "out.jsonl")] == [n for n, line in enumerate(lines[:300], 1) if not line.corrupt]


# --- resume ---------------------------------------------------------------------------------


def _cut(full: Path, upto: int, target: Path, partial: bool) -> None:
    """What a run killed after ``upto`` records leaves: their lines, and maybe half of the next one."""
    keep, rest = [], []
    for raw in full.read_bytes().splitlines(keepends=True):
        (keep if json.loads(raw)["source"]["line"] <= upto else rest).append(raw)
    tail = rest[0][: len(rest[0]) // 2] if partial and rest else b""
    target.write_bytes(b"".join(keep) + tail)


@pytest.mark.parametrize("upto", [0, 1, 37, 64, 150, 200])
def test_resume_after_any_prefix_gives_the_uninterrupted_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line], upto: int
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines[:200]])
    full_out, full_err, out, err_file = (tmp_path / n for n in ("full.jsonl", "full-err.jsonl", "out.jsonl", "err.jsonl"))
    assert cli(capsys, "batch", inp, "-o", full_out, "-e", full_err, "--chunk-size", "32")[0] == 0
    _cut(full_out, upto, out, partial=True)
    _cut(full_err, upto, err_file, partial=upto % 2 == 0)
    code, stdout, stderr = cli(capsys, "batch", inp, "-o", out, "-e", err_file, "--resume", "-w", "2", "--chunk-size", "32")
    assert (code, stdout) == (0, "")
    assert stderr.startswith(f"resuming after {upto:,} records")
    assert stderr.splitlines()[-1].startswith("read 200 records = ")
    assert out.read_bytes() == full_out.read_bytes()
    assert err_file.read_bytes() == full_err.read_bytes()


def test_resume_without_an_error_file_continues_after_the_last_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    sample = [line.text for line in lines[:120]]
    inp = write(tmp_path / "in.jsonl", sample)
    full, out = tmp_path / "full.jsonl", tmp_path / "out.jsonl"
    code, _, err = cli(capsys, "batch", inp, "-o", full)
    assert code == 0
    final = err.splitlines()[-2] if "help:" in err else err.splitlines()[-1]
    _cut(full, 90, out, partial=True)
    code, _, err = cli(capsys, "batch", inp, "-o", out, "--resume")
    assert code == 0
    assert out.read_bytes() == full.read_bytes()
    assert f"{final} (resumed after " in err


def test_resume_into_the_output_of_other_inputs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    first = write(tmp_path / "first.jsonl", clean[:5])
    other = write(tmp_path / "other.jsonl", clean[:5])
    out = tmp_path / "out.jsonl"
    assert cli(capsys, "batch", first, "-o", out)[0] == 0
    code, _, err = cli(capsys, "batch", other, "-o", out, "--resume")
    assert code == 2 and f"the last report in the output comes from {first}:5, which is not in these inputs" in err
    code, _, err = cli(capsys, "batch", other, "-o", out, "-e", tmp_path / "none.jsonl", "--resume")
    assert code == 2 and "do not match the start of these inputs" in err


def test_a_killed_run_resumed_gives_the_same_output_as_an_uninterrupted_one(
    tmp_path: Path, gen: Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in gen.lines(2000, corrupt_rate=0.01)])
    out, err_file = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    argv = [sys.executable, "-m", "diagnose", "batch", str(inp), "-o", str(out), "-e", str(err_file), "-w", "2", "--chunk-size", "8"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 100:
            break
        time.sleep(0.005)
    proc.kill()
    proc.wait()
    assert proc.returncode == -9  # killed half way, not finished
    written = out.read_bytes().count(b"\n") + err_file.read_bytes().count(b"\n")
    assert 100 <= written < 2000
    code, _, err = cli(capsys, "batch", inp, "-o", out, "-e", err_file, "--resume")
    assert code == 0 and err.startswith(f"resuming after {written:,} records")
    assert cli(capsys, "batch", inp, "-o", tmp_path / "full.jsonl", "-e", tmp_path / "full-err.jsonl", "-w", "2")[0] == 0
    assert out.read_bytes() == (tmp_path / "full.jsonl").read_bytes()
    assert err_file.read_bytes() == (tmp_path / "full-err.jsonl").read_bytes()
    assert err.splitlines()[-1] == f"read 2,000 records = {2000 - 20:,} diagnosed + 20 rejected (resumed after {written:,})"


# --- summary and progress ---------------------------------------------------------------


def test_summary_of_a_batch_equals_summarize_over_its_files_also_when_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines[:150]])
    out, errs, page = tmp_path / "out.jsonl", tmp_path / "err.jsonl", tmp_path / "s.html"
    code, summary_json, err = cli(capsys, "batch", inp, "-o", out, "-e", errs, "--summary", "-f", "json", "--html", page)
    assert code == 0 and err.startswith("read 150 records = ")
    data = json.loads(summary_json)
    rejected = sum(1 for line in lines[:150] if line.corrupt)
    assert data["counts"] == {"read": 150, "diagnosed": 150 - rejected, "rejected": rejected, "reconciled": True}
    assert sum(r["accounts"] for r in data["verdicts"]) == 150 - rejected
    assert "<h2>All causes</h2>" in page.read_text(encoding="utf-8")
    assert cli(capsys, "summarize", out, "-e", errs, "-f", "json")[1] == summary_json
    _cut(out, 70, out, partial=True)
    _cut(errs, 70, errs, partial=False)
    code, resumed_json, _ = cli(
        capsys, "batch", inp, "-o", out, "-e", errs, "--resume", "--summary", "-f", "json", "-w", "2", "--chunk-size", "16"
    )
    assert code == 0 and resumed_json == summary_json


def test_summary_goes_to_standard_error_when_the_reports_use_standard_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines if not line.corrupt][:20])
    code, out, err = cli(capsys, "batch", inp, "--summary", "-f", "markdown")
    assert code == 0
    assert all(json.loads(x)["schema_version"] == "1" for x in out.splitlines()) and len(out.splitlines()) == 20
    assert "# Portfolio summary" in err and "**read 20 = diagnosed 20 + rejected 0**" in err


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lines: list[Line]
) -> None:
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines if not line.corrupt][:40])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, _, err = cli(capsys, "batch", inp, "-o", tmp_path / "o.jsonl", "--chunk-size", "8")
    assert code == 0 and "40 records" in err and "/s" in err and "100%" in err
    assert err.rstrip().endswith("read 40 records = 40 diagnosed + 0 rejected")
    code, _, err = cli(capsys, "batch", inp, "-o", tmp_path / "o.jsonl", "--quiet")
    assert err == "read 40 records = 40 diagnosed + 0 rejected\n"


# --- the Python API -------------------------------------------------------------------------


def test_diagnose_files_yields_reports_and_errors_in_order_with_sources(tmp_path: Path, pack: CompiledPack, lines: list[Line]) -> None:
    clean = [line.text for line in lines if not line.corrupt]
    inp = write(tmp_path / "in.jsonl", [clean[0], '{"schema_version": "1"}', clean[1]])
    results = list(core.diagnose_files(pack, [inp, EXAMPLE]))
    assert [s for s, _ in results] == [(str(inp), 1), (str(inp), 2), (str(inp), 3), (str(EXAMPLE), 1)]
    first, bad, third, example = (r for _, r in results)
    assert isinstance(first, diagnose.Report) and first.snapshot.account_id == json.loads(clean[0])["account"]["id"]
    assert isinstance(bad, InvalidInput) and bad.source == f"{inp}:2"
    assert {p.path for p in bad.problems} >= {"as_of", "account", "line"}
    assert isinstance(third, diagnose.Report) and isinstance(example, diagnose.Report)
    assert example.to_json(indent=False) == pack.diagnose(json.loads(EXAMPLE.read_text(encoding="utf-8"))).to_json(indent=False)


def test_pack_diagnose_many_yields_reports_and_errors_in_order(pack: CompiledPack) -> None:
    good = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    results = list(pack.diagnose_many([good, {"schema_version": "1"}, good]))
    assert [type(r).__name__ for r in results] == ["Report", "InvalidInput", "Report"]
    assert isinstance(results[1], InvalidInput) and results[1].source == "record 2"


# --- the documentation -----------------------------------------------------------------------

DOC = Path(__file__).resolve().parent.parent / "docs" / "batch.md"


def test_the_documented_help_is_the_real_help(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    code, out, _ = cli(capsys, "batch", "--help")
    assert code == 0
    body = "\n".join(line.rstrip() for line in out.strip("\n").splitlines()).strip("\n")
    block = re.compile(r"(<!-- batch-help:start -->\n```\n)(.*?)(\n```\n<!-- batch-help:end -->)", re.S)
    if os.environ.get("UPDATE_DOCS") == "1":
        DOC.write_text(block.sub(lambda m: m.group(1) + body + m.group(3), DOC.read_text(encoding="utf-8")), encoding="utf-8")
    found = block.search(DOC.read_text(encoding="utf-8"))
    assert found is not None and found.group(2) == body, (
        "docs/batch.md shows a stale `diagnose batch --help`: UPDATE_DOCS=1 pytest tests/test_batch.py"
    )


def test_the_documented_python_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[Line]
) -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert code is not None
    sample = lines[105:115]
    bad = [i for i, line in enumerate(sample) if line.corrupt]
    assert bad  # the sample holds a corrupted line
    (tmp_path / "day.jsonl.gz").write_bytes(gzip.compress("\n".join(line.text for line in sample).encode()))
    monkeypatch.chdir(tmp_path)
    snapshots = [json.loads(EXAMPLE.read_text(encoding="utf-8")), {"schema_version": "1"}]
    exec(compile(code.group(1), str(DOC), "exec"), {"snapshots": snapshots})
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("acct-3e9b20 restricted LIQ-FUNDER-QUOTA")
    assert out[1].startswith("rejected: record 2 [")
    assert len(out) == 2 + 10
    for i, printed in enumerate(out[2:]):
        assert printed.startswith(f"day.jsonl.gz:{i + 1}: " if i in bad else f"{i + 1} {{")


def _run_core(pack: CompiledPack, inp: Path, out_dir: Path, workers: int) -> tuple[bytes, bytes]:
    out, err = out_dir / f"out-{workers}-{id(pack)}.jsonl", out_dir / f"err-{workers}-{id(pack)}.jsonl"
    with out.open("wb") as o, err.open("wb") as e:
        core.run(core.iter_records(core.check_inputs([str(inp)])), core.Sinks(o, e), pack, workers=workers, chunk_size=16)
    return out.read_bytes(), err.read_bytes()


def test_workers_started_from_a_process_with_threads_are_not_forked_and_get_its_pack(tmp_path: Path, lines: list[Line]) -> None:
    """A fork copies only the forking thread, so a lock held by another can hang the child: a caller with threads gets workers that start afresh."""
    import threading
    import warnings

    default = diagnose.load_pack()
    data = dict(default.data)
    data["parameters"] = {**data["parameters"], "risk_model_max_age_days": 1}  # a pack of the caller's own, not on disk
    custom = CompiledPack(data)
    inp = write(tmp_path / "in.jsonl", [line.text for line in lines[:120]])
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        assert core._context().get_start_method() != "fork"
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Python 3.12 and later warn of a fork from a process with threads
            two = _run_core(custom, inp, tmp_path, 2)
    finally:
        stop.set()
        other.join()
    assert two == _run_core(custom, inp, tmp_path, 1)
    mine, theirs = (
        two[0].count(b'"rule_id":"OPS-STALE-RISK-MODEL"'),
        _run_core(default, inp, tmp_path, 1)[0].count(b'"rule_id":"OPS-STALE-RISK-MODEL"'),
    )
    assert mine > theirs + 20  # the workers diagnosed with the caller's pack
