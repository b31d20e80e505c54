"""Speed of `pack.diff` and `pack.history` against their baseline: diagnosing the same snapshots with `pack.diagnose`.

A diff diagnoses each snapshot once with the pack's compiled rules and then compares facts and
condition trees; the baseline, timed in the same run on the same snapshots, is two calls of
`pack.diagnose`. The ratio is what comparing adds. Pairs: each example snapshot against a copy
a week later with its money halved (so that facts, and often causes, change).

    python bench/diff.py               # best of 5 rounds
    python bench/diff.py --rounds 9
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _later(snap: dict[str, Any]) -> dict[str, Any]:
    from diagnose.portfolio.generate import _scale_money, _shift_dates

    moved = _shift_dates(copy.deepcopy(snap), 7)
    moved["line"]["available"] = moved["line"]["available"] // 2
    return _scale_money(moved, 1)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import diagnose

    pack = diagnose.load_pack()
    pairs = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        snap = json.loads(path.read_text(encoding="utf-8"))
        pairs.append((snap, _later(snap)))

    def baseline() -> None:
        for a, b in pairs:
            pack.diagnose(a)
            pack.diagnose(b)

    def diffs() -> None:
        for a, b in pairs:
            pack.diff(a, b)

    def history() -> None:
        pack.history([p for pair in pairs[:1] for p in pair] * 5)

    def history_baseline() -> None:
        for snap in [p for pair in pairs[:1] for p in pair] * 5:
            pack.diagnose(snap)

    best: dict[str, float] = {}
    for _ in range(args.rounds):  # interleaved: a shared machine drifts from one second to the next
        for name, fn in (("baseline", baseline), ("diff", diffs), ("history baseline", history_baseline), ("history", history)):
            start = time.perf_counter()
            fn()
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
    n = len(pairs)
    print(f"{n} pairs, best of {args.rounds} rounds")
    print(f"2 x diagnose  {best['baseline'] / n * 1e6:8.0f} µs a pair")
    print(f"diff          {best['diff'] / n * 1e6:8.0f} µs a pair   ratio {best['diff'] / best['baseline']:.2f}")
    print(f"history of 10 snapshots: ratio {best['history'] / best['history baseline']:.2f} against diagnosing them")


if __name__ == "__main__":
    main()
