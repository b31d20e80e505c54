"""Cold start: `diagnose run EXAMPLE` in the rich view (en, zh) and as JSON against `python -c "import typer, rich, pydantic, yaml"`.

Every command runs as a fresh process, in turn with the baseline (baseline, json, rich en, rich zh,
then again), for ``--runs`` rounds in this one run. A process is timed by the CPU it used (user +
system, from the kernel's accounting of the finished child), which a busy shared machine disturbs
far less than the wall clock; the wall clock is printed beside it. For each command the median and
the spread (min-max) are printed, and the ratio to the baseline: the median of the per-round
ratios, so a drift of the machine's speed during the run cancels out.

The pack cache is warm (the normal case from a user's second run on): one untimed run of each
command fills it first, and writes the bytecode of the checkout. `--cold-cache` instead gives
each run a new, empty cache folder (the first run after an install or a pack edit). The line
breaker's store of answers is warm too, as for an account viewed before; "zh, new" is the Chinese
view with that store emptied before each run, as for a customer seen for the first time, whose
amounts, dates and ids the store has not met.

`--instructions` counts instead what each command executes, once each under valgrind (the
instructions of the whole process, hash seeds fixed): repeat runs agree to about 0.1%, where CPU
time on a busy shared machine wanders by a third from round to round. On this machine the CPU
ratios have come out 0.02-0.05 above the instruction ones: the target is set on CPU time.

It imports nothing from diagnose: PYTHONPATH picks the checkout under test, so that
`PYTHONPATH=/path/to/other/checkout python bench/coldstart.py` times another version. The runs start in
an empty folder, since `python -m` puts the current folder first on the path, ahead of PYTHONPATH.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import valgrind  # bench/valgrind.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "import typer, rich, pydantic, yaml"
TARGETS = {"json": 1.0, "rich en": 1.25, "rich zh": 1.25}
NEW_ACCOUNT = "zh, new"
"""The Chinese view of an account the line breaker's store has not met: its answers are forgotten before each run."""

# Installed packages have their bytecode compiled at install time; let the warm-up run write ours
# too (some shells set PYTHONDONTWRITEBYTECODE, which would make every run compile from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(cmd: list[str], env: dict[str, str], cwd: str) -> tuple[float, float]:
    """CPU seconds (user + system) and wall seconds of one run of ``cmd``."""
    cpu, wall = _cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=cwd)
    return _cpu() - cpu, time.perf_counter() - wall


def _commands(example: str) -> dict[str, list[str]]:
    run = [sys.executable, "-m", "diagnose", "run", example]
    return {
        "baseline": [sys.executable, "-c", BASELINE],
        "json": [*run, "--format", "json"],
        "rich en": [*run, "--format", "rich", "--lang", "en"],
        "rich zh": [*run, "--format", "rich", "--lang", "zh"],
        NEW_ACCOUNT: [*run, "--format", "rich", "--lang", "zh"],
    }


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:6.1f} ms (min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f})"


def _forget_breaks(env: dict[str, str]) -> None:
    for stored in Path(env["DIAGNOSE_CACHE_DIR"]).glob("breaks-*.json"):
        stored.unlink()


def _count(names: list[str], commands: dict[str, list[str]], env: dict[str, str], cwd: str) -> None:
    """Each command's instructions under valgrind, and their ratios to the baseline's."""
    counts = {}
    for name in names:
        if name == NEW_ACCOUNT:
            _forget_breaks(env)
        counts[name] = valgrind.instructions(commands[name], env=env, cwd=cwd)
    source = os.environ.get("PYTHONPATH") or "the installed package"
    print(f"cold start of `diagnose run` from {source}, a warm pack cache: instructions of the whole process (valgrind)")
    for name in names:
        print(f"{name:10} {counts[name] / 1e6:8.1f} M")
    for name in names[1:]:
        target = f"  (target <= {TARGETS[name]:.2f})" if name in TARGETS else "  (no target)"
        print(f"ratio {name:8} vs `{BASELINE}`: instructions {counts[name] / counts['baseline']:.3f}{target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21, help="rounds; each runs every command once (default 21)")
    parser.add_argument("--example", default=str(ROOT / "examples" / "contract-example.json"))
    parser.add_argument("--only", action="append", choices=[*TARGETS, NEW_ACCOUNT], help="time only these views (repeatable)")
    parser.add_argument("--cold-cache", action="store_true", help="an empty pack cache for every run instead of a warm one")
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind, one run each, instead of timing")
    args = parser.parse_args()
    if args.instructions and not valgrind.available():
        raise SystemExit("--instructions needs valgrind on the PATH (apt-get install valgrind)")
    commands = _commands(args.example)
    names = ["baseline", *(args.only or [*TARGETS, NEW_ACCOUNT])]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(ENV, DIAGNOSE_CACHE_DIR=str(Path(tmp) / "warm"))
        for name in names:  # fill the pack cache and write bytecode, as a user's earlier run would
            _time(commands[name], env, tmp)
        if args.instructions:
            _count(names, commands, env, tmp)
            return
        cpu: dict[str, list[float]] = {n: [] for n in names}
        wall: dict[str, list[float]] = {n: [] for n in names}
        for i in range(args.runs):
            for name in names:
                if args.cold_cache:  # every run its own empty folder: none fills the cache for the next
                    env = dict(ENV, DIAGNOSE_CACHE_DIR=str(Path(tmp) / f"cold-{i}-{name.replace(' ', '-')}"))
                if name == NEW_ACCOUNT:
                    _forget_breaks(env)
                c, w = _time(commands[name], env, tmp)
                cpu[name].append(c)
                wall[name].append(w)
    source = os.environ.get("PYTHONPATH") or "the installed package"
    cache = "an empty pack cache each run" if args.cold_cache else "a warm pack cache"
    print(f"cold start of `diagnose run {Path(args.example).name}` from {source}, {cache}; {args.runs} rounds")
    print(f"{'':10} {'CPU (user+sys)':38} {'wall':38}")
    for name in names:
        print(f"{name:10} {_spread(cpu[name]):38} {_spread(wall[name]):38}")
    for name in names[1:]:
        ratios = [t / b for t, b in zip(cpu[name], cpu["baseline"], strict=True)]
        walls = [t / b for t, b in zip(wall[name], wall["baseline"], strict=True)]
        print(
            f"ratio {name:8} vs `{BASELINE}`: CPU {statistics.median(ratios):.2f}"
            f" (min {min(ratios):.2f}, max {max(ratios):.2f}), wall {statistics.median(walls):.2f}"
            + (f"  (target <= {TARGETS[name]:.2f})" if name in TARGETS else "  (the real first view of a customer; no target)")
        )


if __name__ == "__main__":
    main()
