"""Cold start: `diagnose run EXAMPLE --format json` (or --format rich, ...) against `python -c "import typer, rich, pydantic, yaml"`.

Both are timed as fresh processes, alternated, in this one run; the median of each and their
ratio are printed. Issue 2 asks for a ratio of at most 1.2.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Installed packages have their bytecode compiled at install time; let the warm-up run write ours
# too (some shells set PYTHONDONTWRITEBYTECODE, which would make every run compile from source).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--example", default=str(ROOT / "examples" / "contract-example.json"))
    parser.add_argument("--format", default="json", help="the report format to time: json, rich, markdown or message")
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    baseline = [sys.executable, "-c", "import typer, rich, pydantic, yaml"]
    tool = [sys.executable, "-m", "diagnose", "run", args.example, "--format", args.format, "--lang", args.lang]
    _time(tool)  # warm the file system cache and any pack cache, as a user's second run would
    base_t, tool_t = [], []
    for _ in range(args.runs):
        base_t.append(_time(baseline))
        tool_t.append(_time(tool))
    b, t = statistics.median(base_t), statistics.median(tool_t)
    print(f"baseline (import typer, rich, pydantic, yaml): {b * 1000:.1f} ms")
    print(f"diagnose run --format {args.format} --lang {args.lang}: {t * 1000:.1f} ms")
    print(f"ratio: {t / b:.2f} (goal <= 1.20)")


if __name__ == "__main__":
    main()
