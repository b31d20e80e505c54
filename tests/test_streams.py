"""Blank input is skipped at stream speed (one worker or two), and pipes and devices get an honest message, never a hang."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from diagnose.portfolio import batch as core
from diagnose.portfolio.generate import default_examples
from tests.conftest import ROOT, cli

RECORD = json.dumps(json.loads((default_examples() / "healthy.json").read_text(encoding="utf-8")), separators=(",", ":")).encode()


class Counting(io.BytesIO):
    """A stream that counts how often it is asked for bytes: a step per blank line is what made newlines slow."""

    calls = 0

    def read(self, size: int | None = -1) -> bytes:
        self.calls += 1
        return super().read(size)

    def readline(self, size: int | None = -1) -> bytes:
        self.calls += 1
        return super().readline(size)


def test_a_stream_of_newlines_is_read_in_blocks_not_line_by_line() -> None:
    data = b"\n" * 2_000_000 + RECORD + b"\n" + b" \r\n\t\n" * 100_000 + RECORD
    stream = Counting(data)
    records = list(core._jsonl(stream, "x.jsonl", 1 << 20))
    assert [r.line for r in records] == [2_000_001, 2_200_002]
    assert stream.calls < 50, stream.calls


def test_two_workers_get_no_spans_of_blank_lines(tmp_path: Path) -> None:
    inp = tmp_path / "blank.jsonl"
    inp.write_bytes(RECORD + b"\n" + b"\n" * 3_000_000 + RECORD + b"\n")
    items = list(core.iter_items(core.check_inputs([str(inp)]), lines=256, workers=2))
    assert len(items) <= 3, len(items)
    records = [r for item in items for r in (item.records(1 << 20) if isinstance(item, core.Span) else [item])]
    assert [r.line for r in records] == [1, 3_000_002]


def test_a_gzip_of_newlines_gives_no_records_and_the_counts_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = tmp_path / "newlines.jsonl.gz"
    inp.write_bytes(gzip.compress(b"\n" * 5_000_000 + RECORD + b"\n"))
    for workers in ("1", "2"):
        code, out, err = cli(capsys, "batch", inp, "-w", workers)
        assert code == 0 and out.count("\n") == 1
        assert "read 1 record = 1 diagnosed + 0 rejected" in err


@pytest.mark.parametrize("max_bytes", [100, 3000])
def test_long_blank_lines_are_blank_and_long_records_rejected_the_same_with_spans(tmp_path: Path, max_bytes: int) -> None:
    text = b"\n".join([RECORD, b" " * 5000, b"", b"\t" * 200 + b"\r", RECORD[:50], b"x" * 5000, b"  ", RECORD]) + b"\n"
    inp = tmp_path / "mixed.jsonl"
    inp.write_bytes(text)
    inputs = core.check_inputs([str(inp)])
    by_line = [(r.line, r.data, r.size) for r in core.iter_records(inputs, max_bytes=max_bytes)]
    items = core.iter_items(inputs, max_bytes=max_bytes, lines=2, workers=2)
    by_span = [(r.line, r.data, r.size) for item in items for r in (item.records(max_bytes) if isinstance(item, core.Span) else [item])]
    assert by_span == by_line
    assert [line for line, _, _ in by_line] == [1, 5, 6, 8]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_with_no_writer_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for command in (["run", str(fifo)], ["batch", str(fifo)], ["why", "LIQ-FUNDER-QUOTA", str(fifo)]):
        proc = subprocess.run([sys.executable, "-m", "diagnose", *command], capture_output=True, text=True, env=env, timeout=30)
        assert proc.returncode == 2, proc.stderr
        assert "is not a regular file (a pipe, a device or a socket)" in proc.stderr
        assert "no such file" not in proc.stderr
        assert f"- < {fifo}" in proc.stderr


def test_a_device_is_refused_by_name_and_bounded_on_standard_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "run", "/dev/zero")
    assert code == 2 and "is not a regular file" in err
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(
            [sys.executable, "-m", "diagnose", "run", "-", "--max-bytes", "1000"],
            stdin=zero,
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
        )
    assert proc.returncode == 4 and "larger than 1,000 bytes" in proc.stderr
