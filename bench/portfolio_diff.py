"""Portfolio diff memory and counts: two generated days of N accounts through `diagnose batch`, then `diagnose diff --reports`.

Day 1 is N seeded snapshots. Day 2 keeps 85% of them as they were, gives the next 10% of the
accounts a new snapshot (another template: their verdicts and causes move), drops the last 5%
and adds as many new accounts, and repeats a few of its lines (an account seen twice in one
file: the latest report counts). Both days go through `diagnose batch` (all CPUs), and the two
report files through `diagnose diff --reports --format json --accounts FILE`, each command in a
fresh process under /usr/bin/time -v (or the resource module where that is missing), so that
each peak resident set size is its own; the diff runs once more on a tenth of each file, to
show that its memory does not grow with the number of lines.

It checks that the counts reconcile (every account of either file in exactly one bucket, and
the buckets as built into day 2) and that the --accounts file has one line per account, and
prints each command's seconds and peak RSS. The baseline, measured in the same run, is the
batch over the same day: the portfolio diff should stay within the batch's memory.

    python bench/portfolio_diff.py                # N = 200,000
    python bench/portfolio_diff.py --count 20000  # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEEP, MOVE, DROP = 0.85, 0.10, 0.05
DUPLICATES = 100


def days(folder: Path, n: int, seed: int) -> dict[str, int]:
    """Write day1.jsonl and day2.jsonl; return the buckets as built."""
    import diagnose
    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    templates = load_templates(pack)
    first = Generator(pack, templates, seed=seed).lines(n)
    second = Generator(pack, templates, seed=seed + 1).lines(n)
    keep, move = int(n * KEEP), int(n * MOVE)
    with (folder / "day1.jsonl").open("wb") as d1, (folder / "day2.jsonl").open("wb") as d2:
        repeat: list[bytes] = []
        for i, (a, b) in enumerate(zip(first, second, strict=True)):
            text = a.text.encode()
            d1.write(text + b"\n")
            if i < keep:
                out = text
            elif i < keep + move:  # the same account, another snapshot: its verdict and causes move
                data = orjson.loads(b.text)
                data["account"]["id"] = orjson.loads(text)["account"]["id"]
                out = orjson.dumps(data)
            else:  # a new account in place of one that left
                out = b.text.encode()
            d2.write(out + b"\n")
            if len(repeat) < DUPLICATES and i % 997 == 0:
                repeat.append(out)
        for out in repeat:
            d2.write(out + b"\n")
    gone = n - keep - move
    return {"both": keep + move, "only_before": gone, "only_after": gone, "lines_after": n + len(repeat)}


_WRAP = """
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
print(code, time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(cmd: list[str]) -> tuple[float, float]:
    """Run a command in a fresh process: its seconds and its peak RSS in MB (the largest of its processes)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    time_v = shutil.which("time") and Path("/usr/bin/time").exists()
    start = time.perf_counter()
    if time_v:
        done = subprocess.run(["/usr/bin/time", "-v", *cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
        peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
        return seconds, peak / 1024
    out = subprocess.run([sys.executable, "-c", _WRAP, *cmd], env=env, capture_output=True, text=True, check=True).stdout.split()
    if out[0] != "0":
        sys.exit(f"failed ({out[0]}): {' '.join(cmd)}")
    return float(out[1]), int(out[2]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n = args.count
    diagnose_cmd = [sys.executable, "-m", "diagnose"]
    with tempfile.TemporaryDirectory(prefix="bench-pdiff-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        built = days(folder, n, args.seed)
        print(f"generated two days of {n:,} accounts in {time.perf_counter() - t:.1f} s")
        rows = []
        for day in ("day1", "day2"):
            cmd = [*diagnose_cmd, "batch", str(folder / f"{day}.jsonl"), "-o", str(folder / f"{day}.reports.jsonl"), "-q"]
            rows.append((f"batch {day}", *measure(cmd)))
        accounts = folder / "accounts.jsonl"
        out = folder / "diff.json"
        cmd = [
            sys.executable,
            "-c",
            "import sys; from diagnose.cli import main; sys.stdout = open(sys.argv[1], 'w'); sys.exit(main(sys.argv[2:]))",
            str(out),
            "diff",
            "--reports",
            str(folder / "day1.reports.jsonl"),
            str(folder / "day2.reports.jsonl"),
            "--format",
            "json",
            "--accounts",
            str(accounts),
        ]
        rows.append(("diff --reports", *measure(cmd)))
        result = json.loads(out.read_text(encoding="utf-8"))
        # the same on a tenth of each file: the diff's memory should not grow with the number of lines
        for day in ("day1", "day2"):
            with (folder / f"{day}.reports.jsonl").open("rb") as src, (folder / f"{day}.tenth.jsonl").open("wb") as dst:
                for i, line in enumerate(src):
                    if i >= n // 10:
                        break
                    dst.write(line)
        tenth = [*cmd[:6], str(folder / "day1.tenth.jsonl"), str(folder / "day2.tenth.jsonl"), "--format", "json"]
        rows.append((f"diff, {n // 10:,}", *measure(tenth)))
        with accounts.open("rb") as fh:
            listed = sum(1 for _ in fh)
    print(f"\n{'command':<20} {'seconds':>8} {'peak MB':>8}")
    for name, seconds, peak in rows:
        print(f"{name:<20} {seconds:>8.1f} {peak:>8.1f}")
    baseline = max(peak for name, _, peak in rows if name.startswith("batch"))
    full, tenth = rows[2][2], rows[3][2]
    print(f"\npeak RSS of the diff / peak RSS of the batch: {full / baseline:.2f}")
    print(f"peak RSS of the diff, {n:,} lines / {n // 10:,} lines: {full / tenth:.2f}")
    got = {k: result[k] for k in ("both", "only_before", "only_after")}
    want = {k: built[k] for k in got}
    union = got["both"] + got["only_before"] + got["only_after"]
    checks = {
        "reconciled (every account in exactly one bucket)": result["reconciled"],
        f"buckets as built {want}": got == want,
        f"day 2 lines {built['lines_after']:,} = accounts + seen again": result["after"]["lines"]
        == built["lines_after"]
        == result["after"]["accounts"] + result["after"]["duplicates"],
        f"--accounts lists each of the {union:,} accounts once": listed == union,
        "transitions add up to the accounts in both": sum(t["accounts"] for t in result["transitions"]) == got["both"],
    }
    for what, ok in checks.items():
        print(f"{'ok ' if ok else 'FAIL'} {what}")
    print(f"\n{result['summary']}")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
