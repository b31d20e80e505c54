"""Batches killed at random points and resumed give the uninterrupted files, byte for byte, and read = diagnosed + rejected.

Each trial kills `diagnose batch` with SIGKILL at a random moment (sometimes again while it
resumes), then resumes it to the end, with one worker and with two. The README's quick `pytest`
runs one trial; set DIAGNOSE_FAULT_TRIALS (.ci/run sets 6) for that many trials per worker count.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from diagnose.portfolio.generate import Generator, load_templates
from tests.conftest import ROOT

TRIALS = int(os.environ.get("DIAGNOSE_FAULT_TRIALS", "0"))
RECORDS = 1200
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _batch(inp: Path, out: Path, errs: Path, workers: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "diagnose",
        "batch",
        str(inp),
        "-o",
        str(out),
        "-e",
        str(errs),
        "-w",
        str(workers),
        "--chunk-size",
        "16",
        "-q",
        *extra,
    ]


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def _kill_at_random(argv: list[str], out: Path, errs: Path, rng: random.Random) -> None:
    """Start the run and SIGKILL it once a random share of the records is written (or at once, or never)."""
    target = rng.randrange(0, RECORDS)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline and _lines(out) + _lines(errs) < target:
        time.sleep(rng.uniform(0.001, 0.02))
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, bytes]:
    """An input with some broken records, and the files an uninterrupted run writes."""
    import diagnose

    folder = tmp_path_factory.mktemp("faults")
    pack = diagnose.load_pack()
    inp = folder / "day.jsonl"
    inp.write_text("".join(line.text + "\n" for line in Generator(pack, load_templates(pack), seed=14).lines(RECORDS, corrupt_rate=0.03)))
    out, errs = folder / "full.jsonl", folder / "full-err.jsonl"
    done = subprocess.run(_batch(inp, out, errs, 2), capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    return inp, out.read_bytes(), errs.read_bytes()


def _trials() -> list[tuple[int, int]]:
    if TRIALS <= 0:
        return [(2, 0)]  # the quick run: one trial, two workers
    return [(workers, n) for workers in (1, 2) for n in range(TRIALS)]


@pytest.mark.parametrize(("workers", "trial"), _trials())
def test_a_batch_killed_at_random_points_resumes_to_the_same_bytes(
    tmp_path: Path, day: tuple[Path, bytes, bytes], workers: int, trial: int
) -> None:
    inp, full_out, full_err = day
    rng = random.Random(f"{workers}-{trial}")
    out, errs = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    _kill_at_random(_batch(inp, out, errs, workers), out, errs, rng)
    if out.exists() and rng.random() < 0.5:  # killed again, while it resumes
        _kill_at_random(_batch(inp, out, errs, workers, "--resume"), out, errs, rng)
    args = _batch(inp, out, errs, workers, "--resume") if out.exists() else _batch(inp, out, errs, workers)
    done = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == full_out
    assert errs.read_bytes() == full_err
    counts = re.search(r"read ([\d,]+) records = ([\d,]+) diagnosed \+ ([\d,]+) rejected", done.stderr)
    assert counts is not None, done.stderr
    read, diagnosed, rejected = (int(g.replace(",", "")) for g in counts.groups())
    assert read == diagnosed + rejected == RECORDS
    assert (diagnosed, rejected) == (full_out.count(b"\n"), full_err.count(b"\n"))
