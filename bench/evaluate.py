"""`diagnose eval` throughput and memory: labelled cases streamed through the local evaluation, against the batch on the same snapshots.

For each N (default 2,000 and 20,000) the script generates N seeded labelled cases
(`generate --labelled --label-noise 0.1`), then in a fresh process per run times `eval
--format json` over them and reads the process's peak memory. The baseline, timed in the same
run on the same machine, is `diagnose batch --workers 1` over the snapshots of the same cases
(read, diagnose, write every report): the ratio says what measuring costs beyond diagnosing.
Memory must not grow with N: eval keeps counts, never cases.

    python bench/evaluate.py              # N = 2,000 and 20,000
    python bench/evaluate.py --n 5000 50000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "DIAGNOSE_NO_CACHE": "1"}


def _run(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak memory (KB) of one `diagnose` process (the only child of the process that calls this)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "diagnose", *args], env=ENV, capture_output=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"diagnose {' '.join(args)} failed: {proc.stderr.decode()[-500:]}")
    return took, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _measure(args: list[str]) -> tuple[float, int]:
    """One run in a fresh interpreter, so that its peak memory is its own."""
    code = f"import bench.evaluate as b, json; print(json.dumps(b._run({args!r})))"
    out = subprocess.run([sys.executable, "-c", code], env=ENV, cwd=ROOT, capture_output=True, check=True, text=True).stdout
    took, peak = json.loads(out.strip().splitlines()[-1])
    return float(took), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[2_000, 20_000])
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for n in opts.n:
            cases = Path(tmp) / f"cases-{n}.jsonl"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "diagnose",
                    "generate",
                    "--labelled",
                    "--label-noise",
                    "0.1",
                    "-n",
                    str(n),
                    "--seed",
                    "1",
                    "-o",
                    str(cases),
                    "-q",
                ],
                env=ENV,
                check=True,
            )
            snaps = Path(tmp) / f"snaps-{n}.jsonl"
            with cases.open("rb") as src, snaps.open("wb") as dst:
                for line in src:
                    dst.write(json.dumps(json.loads(line)["snapshot"]).encode() + b"\n")
            ev = min(_measure(["eval", str(cases), "-f", "json"]) for _ in range(opts.repeat))
            bt = min(
                _measure(["batch", str(snaps), "-o", str(Path(tmp) / "out.jsonl"), "--workers", "1", "-q"]) for _ in range(opts.repeat)
            )
            rows.append((n, ev, bt))
        print(f"{'cases':>9}  {'eval/s':>8}  {'batch/s':>8}  {'eval÷batch':>10}  {'eval peak MB':>12}")
        for n, (et, em), (bt_, _) in rows:
            print(f"{n:>9,}  {n / et:>8,.0f}  {n / bt_:>8,.0f}  {bt_ / et:>10.2f}  {em / 1024:>12.1f}")
        if len(rows) > 1:
            print(f"peak memory, largest N over smallest: {rows[-1][1][1] / rows[0][1][1]:.2f} (flat is 1.00)")


if __name__ == "__main__":
    main()
