"""Outputs never overwrite inputs, one run per output set, inputs pinned while read, and failed writes are exit 5."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from diagnose.errors import ExitCode, InvalidInput
from diagnose.outputs import atomic, check_targets
from diagnose.portfolio import batch as core
from diagnose.portfolio.generate import default_examples
from tests.conftest import ROOT, cli

EXAMPLE = default_examples() / "liq-funder-quota.json"
HEALTHY = default_examples() / "healthy.json"


def _jsonl(path: Path, n: int = 40) -> Path:
    line = json.dumps(json.loads(EXAMPLE.read_text(encoding="utf-8")), separators=(",", ":"))
    path.write_text("".join(line + "\n" for _ in range(n)), encoding="utf-8")
    return path


def _run(*args: str | Path, stdin: object = None, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "diagnose", *map(str, args)], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=60
    )  # type: ignore[call-overload, no-any-return]


# --- 1. no output over an input ------------------------------------------------------------


def test_html_equal_to_output_is_refused_before_anything_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl")
    out = tmp_path / "reports.jsonl"
    out.write_bytes(b"keep me\n")
    code, _, err = cli(capsys, "batch", inp, "-o", out, "--summary", "--html", out)
    assert code == 2 and "--output and --html are the same file" in err
    assert out.read_bytes() == b"keep me\n"


def test_summarize_html_equal_to_its_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 3)
    out = tmp_path / "reports.jsonl"
    assert cli(capsys, "batch", inp, "-o", out)[0] == 0
    before = out.read_bytes()
    code, _, err = cli(capsys, "summarize", out, "--html", out)
    assert code == 2 and "would overwrite an input" in err
    assert out.read_bytes() == before


def test_a_hard_link_to_the_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 3)
    link = tmp_path / "other-name.jsonl"
    os.link(inp, link)
    before = inp.read_bytes()
    for option in ("-o", "-e"):
        code, _, err = cli(capsys, "batch", inp, option, link)
        assert code == 2 and "would overwrite an input" in err, err
    assert inp.read_bytes() == before


def test_output_naming_the_file_fed_on_standard_input_is_refused(tmp_path: Path) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 3)
    before = inp.read_bytes()
    with inp.open("rb") as fh:
        proc = _run("batch", "-", "-o", inp, stdin=fh)
    assert proc.returncode == 2 and b"is standard input" in proc.stderr
    assert inp.read_bytes() == before


def test_rules_outputs_into_a_file_of_the_pack_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "packs" / "minimal", pack)  # a copy: the code before the fix wrote over it
    for target in (pack / "pack.yaml", pack / "rules.yaml"):
        before = target.read_bytes()
        for command in (["lint"], ["test"], ["doc"]):
            code, _, err = cli(capsys, "rules", *command, pack, "-o", target)
            assert code == 2 and "would overwrite an input" in err, err
            assert target.read_bytes() == before


def test_atomic_write_leaves_the_old_file_when_the_write_fails(tmp_path: Path) -> None:
    target = tmp_path / "page.html"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic(target) as fh:
        fh.write(b"new, half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]  # no temporary file left
    with atomic(target) as fh:
        fh.write(b"new")
    assert target.read_bytes() == b"new"


def test_check_targets_compares_files_not_names(tmp_path: Path) -> None:
    a = tmp_path / "a.jsonl"
    a.write_bytes(b"")
    os.symlink(a, tmp_path / "b.jsonl")
    with pytest.raises(Exception, match="would overwrite an input"):
        check_targets([str(a)], [("--output", tmp_path / "sub" / ".." / "b.jsonl")])
    with pytest.raises(Exception, match="same file"):
        check_targets([], [("--output", tmp_path / "new.jsonl"), ("--html", tmp_path / "." / "new.jsonl")])
    check_targets([str(a)], [("--output", tmp_path / "c.jsonl")])


# --- 2. inputs pinned -----------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_an_input_replaced_while_workers_read_its_spans_stops_the_batch(tmp_path: Path, workers: int) -> None:
    import diagnose

    inp = _jsonl(tmp_path / "day.jsonl", 200)
    items = list(core.iter_items(core.check_inputs([str(inp)]), lines=16, workers=2))
    assert sum(isinstance(i, core.Span) for i in items) > 4
    other = _jsonl(tmp_path / "other.jsonl", 200)
    text = other.read_text(encoding="utf-8").replace('"CNY"', '"USD"')  # same size, other content
    other.write_text(text, encoding="utf-8")
    os.replace(other, inp)  # replaced under the batch: the spans' offsets now point into another file
    import io

    out = io.BytesIO()
    with pytest.raises(InvalidInput, match="changed while"):
        core.run(iter(items), core.Sinks(out), diagnose.load_pack(), workers=workers, chunk_size=16)
    assert out.getvalue().count(b"\n") < 200


def test_an_input_written_to_during_the_batch_stops_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import diagnose

    inp = _jsonl(tmp_path / "day.jsonl", 100)
    inputs = core.check_inputs([str(inp)])
    pins = core.pin_inputs(inputs)
    records = core.iter_records(inputs)
    first = [next(records) for _ in range(10)]
    with inp.open("ab") as fh:
        fh.write(b"{}\n")
    import io

    with pytest.raises(InvalidInput, match="written to"):
        core.run(iter([*first, *records]), core.Sinks(io.BytesIO()), diagnose.load_pack(), chunk_size=5, pins=pins)


def test_resume_checks_the_inputs_are_those_of_the_first_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 30)
    out, errs = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    assert cli(capsys, "batch", inp, "-o", out, "-e", errs)[0] == 0
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:10]))
    text = inp.read_text(encoding="utf-8")
    inp.write_text(text.replace('"CNY"', '"USD"', 1), encoding="utf-8")  # the same records' count, another content
    code, _, err = cli(capsys, "batch", inp, "-o", out, "-e", errs, "--resume")
    assert code == 2 and "changed since the first run" in err, err
    assert out.read_bytes() == b"".join(lines[:10])


# --- 3. one run per output set ----------------------------------------------------------------


def _held(path: Path, option: str) -> subprocess.Popen[bytes]:
    """Another process holding the lock of an output, as a running batch does (a lock is per process)."""
    code = f"from pathlib import Path; from diagnose.outputs import OutputLock; l = OutputLock(Path({str(path)!r}), {option!r}).acquire(); print('held', flush=True); input()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"held\n"
    return proc


def test_a_second_batch_or_resume_on_the_same_outputs_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 5)
    out, errs = tmp_path / "out.jsonl", tmp_path / "err.jsonl"
    out.write_bytes(b"")
    holder = _held(out, "--output")
    try:
        for extra in ([], ["--resume"]):
            code, _, err = cli(capsys, "batch", inp, "-o", out, *extra)
            assert code == 2 and "another `diagnose batch` is writing --output" in err, err
    finally:
        holder.communicate(b"\n")
    holder = _held(errs, "--errors")
    try:
        code, _, err = cli(capsys, "batch", inp, "-o", tmp_path / "x.jsonl", "-e", errs)
        assert code == 2 and "--errors" in err
    finally:
        holder.communicate(b"\n")
    assert out.read_bytes() == b""
    assert cli(capsys, "batch", inp, "-o", out)[0] == 0  # the lock went with its holder


# --- 7. failed writes --------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_an_output_error_not_a_bug(tmp_path: Path) -> None:
    if not Path("/dev/full").exists():  # Linux has it; elsewhere there is no full disk to borrow
        return
    with open("/dev/full", "wb") as full:
        proc = _run("run", HEALTHY, "--format", "json", stdout=full)
    assert proc.returncode == ExitCode.OUTPUT == 5, proc.stderr
    assert proc.stderr.decode().strip().splitlines()[0] == "output error: <stdout>: cannot write: No space left on device"
    inp = _jsonl(tmp_path / "day.jsonl", 3)
    for args in (["batch", inp, "-o", "/dev/full"], ["batch", inp, "--summary", "--html", "/dev/full", "-o", tmp_path / "o.jsonl"]):
        proc = _run(*args)
        assert proc.returncode == 5, proc.stderr
        assert b"output error: /dev/full: cannot write: No space left on device" in proc.stderr
        assert b"internal error" not in proc.stderr and b"Traceback" not in proc.stderr


def test_a_folder_that_cannot_be_written_is_an_output_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 3)
    code, _, err = cli(capsys, "batch", inp, "-o", tmp_path / "no-such-folder" / "out.jsonl")
    assert code == 5 and "output error:" in err and "No such file or directory" in err
    code, _, err = cli(capsys, "schema", "report", "-o", tmp_path / "no-such-folder" / "s.json")
    assert code == 5 and "output error:" in err


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    inp = _jsonl(tmp_path / "day.jsonl", 300)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (f"batch {inp} -w 1 -q", f"run {HEALTHY} --format markdown"):
        proc = subprocess.run(
            f"{sys.executable} -m diagnose {args} | head -c 10 >/dev/null; exit ${{PIPESTATUS[0]}}",
            shell=True,
            executable="/bin/bash",
            capture_output=True,
            env=env,
            timeout=60,
        )
        assert proc.stderr == b"", proc.stderr
        assert proc.returncode == 0


def test_a_failure_whose_error_object_meets_a_closed_pipe_keeps_its_message_and_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1"}', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in ([str(bad), "--format", "json"], [str(tmp_path / "missing.json"), "-f", "json"]):
        proc = subprocess.Popen([sys.executable, "-m", "diagnose", "run", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the error object is written
        stderr = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
        assert "Traceback" not in stderr and stderr.startswith(("invalid snapshot:", "usage error:")), stderr
        assert code in (2, 4)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failure_whose_error_object_meets_a_full_disk_keeps_its_exit_code_and_says_so(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1"}', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open("/dev/full", "wb") as full:
        proc2 = subprocess.run(
            [sys.executable, "-m", "diagnose", "run", str(bad), "-f", "json"],
            stdout=full,
            capture_output=False,
            stderr=subprocess.PIPE,
            env=env,
            timeout=60,
        )
    assert proc2.returncode == 4 and "Traceback" not in proc2.stderr.decode()
    assert "output error: <stdout>" in proc2.stderr.decode()


def _started_without(fd: int, *args: str) -> tuple[int, str]:
    """The command run with descriptor ``fd`` closed from the start (the shell's `>&-` or `2>&-`); its exit code and stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r, w = os.pipe()
    target = 2 if fd == 1 else None

    def close() -> None:  # in the child, before Python starts
        os.close(fd)
        if target is not None:
            os.dup2(w, target)

    proc = subprocess.Popen(
        [sys.executable, "-m", "diagnose", *args], stdout=subprocess.DEVNULL if fd == 2 else None, preexec_fn=close, env=env
    )
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        stderr = fh.read().decode()
    return proc.wait(timeout=60), stderr


def test_a_command_started_without_standard_output_says_so_and_exits_5(tmp_path: Path) -> None:
    code, stderr = _started_without(1, "run", str(HEALTHY))
    assert code == 5 and "output error: <stdout>: cannot write: standard output is closed" in stderr, stderr
    code, stderr = _started_without(1, "batch", str(HEALTHY), "-o", str(tmp_path / "o.jsonl"))
    assert code == 0 and "Traceback" not in stderr and (tmp_path / "o.jsonl").read_bytes().count(b"\n") == 1  # it needs none


def test_a_failure_started_without_standard_error_keeps_its_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1"}', encoding="utf-8")
    assert _started_without(2, "run", str(bad))[0] == 4
    assert _started_without(2, "run", str(bad), "-f", "json")[0] == 4
