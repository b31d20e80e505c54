"""The same snapshot and pack give byte-identical JSON whatever the time zone, locale, hash seed and wall clock.

Each run is a fresh `python -m diagnose run X --format json` process, so that TZ, the locale and
PYTHONHASHSEED take effect the way they do for a user. The wall clock cannot be moved for one
process here (no libfaketime), so the modules that build a report are checked not to read it.
"""

from __future__ import annotations

import ast
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

import diagnose
from tests.conftest import EXAMPLES, ROOT

ZONES = ("UTC", "Asia/Shanghai")
LOCALES = ("C.UTF-8", "C")  # the locales every Linux has; Python reads both as UTF-8 (PEP 538, PEP 540)
SEEDS = ("0", "4242")
CASES = [
    ("contract-example.json", "en"),  # many findings: the ranking's order and its ties
    ("ops-maintenance.json", "zh"),  # times and windows against as_of, in Chinese
    ("pol-tightening.json", "en"),
]


def _run(snapshot: str, lang: str, **env: str) -> bytes:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "TZ", "PYTHONHASHSEED"))}
    proc = subprocess.run(
        [sys.executable, "-m", "diagnose", "run", str(EXAMPLES / snapshot), "--format", "json", "--lang", lang],
        capture_output=True,
        cwd=ROOT,
        env={**base, **env},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    assert proc.stderr == b""
    return proc.stdout


@pytest.mark.parametrize(("snapshot", "lang"), CASES)
def test_json_is_byte_identical_across_zones_locales_and_hash_seeds(snapshot: str, lang: str) -> None:
    outputs = {
        (tz, loc, seed): _run(snapshot, lang, TZ=tz, LC_ALL=loc, LANG=loc, PYTHONHASHSEED=seed)
        for tz, loc, seed in itertools.product(ZONES, LOCALES, SEEDS)
    }
    first = next(iter(outputs.values()))
    assert first.startswith(b"{") and b'"schema_version": "1"' in first
    differ = [key for key, out in outputs.items() if out != first]
    assert not differ, f"output differs under {differ}"


def test_json_in_process_matches_a_fresh_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The in-process API and a fresh process with another zone agree: nothing hangs on the test process's state."""
    from diagnose.cli import main

    assert main(["run", str(EXAMPLES / "contract-example.json"), "--format", "json"]) == 0
    here = capsys.readouterr().out.encode("utf-8")
    assert here == _run("contract-example.json", "en", TZ="America/St_Johns", LC_ALL="C.UTF-8", PYTHONHASHSEED="7")


def test_json_is_utf8_even_when_standard_output_is_not() -> None:
    want = _run("ops-maintenance.json", "zh", LC_ALL="C.UTF-8")
    assert _run("ops-maintenance.json", "zh", LC_ALL="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0") == want
    assert _run("ops-maintenance.json", "zh", LC_ALL="C.UTF-8", PYTHONIOENCODING="latin-1") == want


# Modules that build or write a report; what they compute must come from the snapshot's as_of, never the clock.
_CLOCK_CALLS = {"now", "today", "utcnow", "time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "monotonic", "perf_counter"}
_NOT_ON_THE_REPORT_PATH = {"portfolio/batch.py", "pack/cache.py"}  # progress timing; cache freshness by file times


def test_no_module_on_the_report_path_reads_the_wall_clock() -> None:
    package = Path(diagnose.__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.relative_to(package).as_posix() in _NOT_ON_THE_REPORT_PATH or "cli" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CLOCK_CALLS:
                owner = node.func.value  # time.time(), datetime.now(), datetime.datetime.now(); not as_of.time()
                name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
                if name in ("time", "datetime", "date"):
                    found.append(f"{path.relative_to(package)}:{node.lineno}: {name}.{node.func.attr}()")
    assert not found, "the report would depend on when it runs:\n" + "\n".join(found)
