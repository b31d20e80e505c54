"""What compiling the hand-written hot modules with mypyc would buy: a batch record's CPU, pure Python against compiled, same bytes.

The rules and the snapshot walk are already generated Python; what is left on a record's path is
hand-written: the report's assembly, clearing, texts, ranking, the derived facts, the digest's
canonical form. mypyc (part of mypy, which the test extra installs) compiles such typed modules
to C extensions. This script measures what that would give, without changing the package:

1. it copies this checkout (or the one PYTHONPATH names) into a temporary folder and compiles
   ``--modules`` there with mypyc, in place (``setup.py build_ext --inplace``; a C compiler and
   Python's headers are needed, and setuptools);
2. it generates N seeded snapshots (1% corrupted, as bench/batch.py) and runs the batch core with
   one worker (`portfolio.batch.run`, reports and error report to files) over them in a fresh
   process per run, alternating the pure copy and the compiled one for ``--rounds`` rounds (after
   one round not counted, in which each copy writes its bytecode);
3. it prints each one's CPU per record (the whole run, start-up excluded: the pack loads before
   the clock starts), the median and spread over the rounds, the ratio of compiled to pure, and
   whether both wrote the same report and error bytes;
4. with ``--tests``, it runs the test suite against the compiled copy and names the tests that
   fail there.

A compiled build is not what the package ships: mypyc checks annotations at run time and binds
calls between compiled functions early, so code that passes other types than it declares, or tests
that replace an internal function, behave differently. This is the measurement behind that product
decision.

    python bench/compiled.py                  # N = 10,000, three rounds, the default modules
    python bench/compiled.py -n 4000 --rounds 5
    python bench/compiled.py --modules diagnose/report/build.py,diagnose/explain/clearing.py
    python bench/compiled.py -n 2000 --rounds 1 --tests     # what fails when the modules are compiled
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from snapshots import generate  # bench/snapshots.py, beside this script

ROOT = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0]) if os.environ.get("PYTHONPATH") else Path(__file__).resolve().parent.parent

MODULES = (
    "diagnose/report/build.py",
    "diagnose/report/segments.py",
    "diagnose/explain/clearing.py",
    "diagnose/explain/why.py",
    "diagnose/engine/conditions.py",
    "diagnose/engine/ranking.py",
    "diagnose/pack/templates.py",
    "diagnose/snapshot/facts.py",
    "diagnose/snapshot/canonical.py",
    "diagnose/snapshot/contract.py",
    "diagnose/portfolio/batch.py",
)
"""The hand-written modules on a record's path that mypyc compiles as they are (records.py does not: its import-time
`record` decorator trips mypyc; reader.py subclasses a builtin type)."""

_SETUP = """\
import json
import sys
from setuptools import setup
from mypyc.build import mypycify
setup(name="diagnose-compiled", packages=[], ext_modules=mypycify(json.loads(sys.argv.pop()), opt_level="3"), script_args=["build_ext", "--inplace", "-q"])
"""


def _copy(src: Path, dest: Path) -> None:
    """The checkout's files as git sees them (tracked, and new ones not ignored), as they are now: no bytecode, no built extension."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=src, capture_output=True, check=False
    )
    if listed.returncode != 0:  # not a git checkout: what a run needs
        skip = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc")
        for name in ("diagnose", "rules", "examples", "schemas", "docs", "tests"):
            if (src / name).is_dir():
                shutil.copytree(src / name, dest / name, ignore=skip)
        for name in ("pyproject.toml", "README.md"):
            if (src / name).is_file():
                shutil.copy2(src / name, dest / name)
        return
    for name in filter(None, listed.stdout.decode().split("\0")):
        if (src / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / name, dest / name)


def _tests(root: Path) -> tuple[str, list[str]]:
    """The test suite run against the copy at ``root``: pytest's summary line and the tests that failed."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return (lines[-1] if lines else done.stderr.strip()[-300:]), failed


def _compile(dest: Path, modules: list[str]) -> float:
    """Compile ``modules`` in ``dest``, in place; the seconds it took."""
    started = time.perf_counter()
    (dest / "_compile.py").write_text(_SETUP)
    done = subprocess.run(
        [sys.executable, "_compile.py", json.dumps(modules)], cwd=dest, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": ""}
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"mypyc could not compile the modules:\n{tail}")
    return time.perf_counter() - started


def _child(inp: str, out_dir: str) -> None:
    """One run in a fresh process: the pack loaded, then the batch core timed by this process's CPU."""
    import diagnose
    from diagnose.portfolio import batch as core
    from diagnose.report import build

    pack = diagnose.load_pack()
    out, err = Path(out_dir) / "out.jsonl", Path(out_dir) / "err.jsonl"
    with out.open("wb") as fo, err.open("wb") as fe:
        t0 = time.process_time()
        result = core.run(core.iter_records(core.check_inputs([inp])), core.Sinks(fo, fe), pack, workers=1)
        cpu = time.process_time() - t0
    digest = hashlib.sha256(out.read_bytes() + b"\0" + err.read_bytes()).hexdigest()
    compiled = not build.__file__.endswith(".py")
    json.dump({"cpu": cpu, "read": result.read, "digest": digest, "compiled": compiled}, sys.stdout)


def _run(root: Path, inp: Path, out_dir: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(inp), str(out_dir)], env=env, cwd=out_dir, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"a run from {root} failed:\n{done.stderr[-2000:]}")
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=10_000, help="snapshots (default 10,000)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of each (default 3)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--modules", default=",".join(MODULES), help="comma-separated module files to compile")
    parser.add_argument("--tests", action="store_true", help="also run the test suite against the compiled copy (a few minutes)")
    parser.add_argument("--child", nargs=2, metavar=("FILE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    with tempfile.TemporaryDirectory(prefix="bench-compiled-") as tmp:
        base = Path(tmp)
        pure, compiled = base / "pure", base / "compiled"
        for dest in (pure, compiled):
            dest.mkdir()
            _copy(ROOT, dest)
        print(f"diagnose from {ROOT}; compiling {len(modules)} modules with mypyc...", flush=True)
        seconds = _compile(compiled, modules)
        inp = base / "snapshots.jsonl"
        generate(inp, args.n, args.seed)
        print(f"compiled in {seconds:.0f} s; {args.n:,} snapshots, 1% corrupted; {args.rounds} rounds, alternating", flush=True)
        runs: dict[str, list[dict[str, Any]]] = {"pure": [], "compiled": []}
        for rnd in range(-1, args.rounds):  # round -1, not counted: each copy writes its bytecode and the pack cache fills
            for name, root in (("pure", pure), ("compiled", compiled)):
                out = base / f"out-{name}"
                out.mkdir(exist_ok=True)
                found = _run(root, inp, out)
                if rnd >= 0:
                    runs[name].append(found)
        if not all(r["compiled"] for r in runs["compiled"]) or any(r["compiled"] for r in runs["pure"]):
            raise SystemExit("the compiled copy did not load its extensions (or the pure one did)")
        per = {name: [1e6 * r["cpu"] / r["read"] for r in rs] for name, rs in runs.items()}
        for name, values in per.items():
            print(f"{name:9s} one worker, CPU per record: {statistics.median(values):6.1f} us ({min(values):.1f}-{max(values):.1f})")
        ratios = [c / p for p, c in zip(per["pure"], per["compiled"], strict=True)]
        print(
            f"compiled vs pure: {statistics.median(ratios):.2f} x ({min(ratios):.2f}-{max(ratios):.2f}), the median of the rounds' ratios"
        )
        digests = {r["digest"] for rs in runs.values() for r in rs}
        print("reports and error report: " + ("the same bytes in every run" if len(digests) == 1 else "DIFFERENT between runs"))
        if args.tests:
            print("the test suite against the compiled copy...", flush=True)
            summary, failed = _tests(compiled)
            print(f"  {summary}")
            for name in failed:
                print(f"  failed: {name}")
        if len(digests) != 1:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
