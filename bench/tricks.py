"""What each speed trick on the batch's hot path buys, as a share of the batch's cost per record.

A trick stays only where it buys 3% or more of a record's cost (the rule the code follows): each
one's comment names this script and its figure. For generated snapshots, in this process:

- record: one batch record as the batch does it (read the bytes, diagnose, write the report line)
  with every trick on: the baseline the shares are of;
- fast read: `reader.load` (orjson, made exact by the `:` count and the digit/bracket fold)
  against the careful parser that the fast path falls back to;
- spliced line: the report's JSON with `"source"` spliced in before its closing brace, against
  building the record as data and serialising it again. Spark writes its lines the same way
  (in SQL: `substring` and `concat` instead of `from_json` and `to_json`), so this figure
  stands for both.

Times are CPU time of this process, best of interleaved rounds, so other work on a shared machine
moves them little. Measured and removed under the 3% rule: the loop that fused an `all`/`any` of
plain comparisons (2.4-2.7%), and rank's shortcut for a single finding (well under 1%).

    python bench/tricks.py            # 400 snapshots, best of 5 interleaved rounds
    python bench/tricks.py --n 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _best(fns: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """The fastest of ``rounds`` runs of each, interleaved (a round runs every one once), so a slow spell of the machine hits all alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.process_time()  # CPU time: what another process on the machine cannot inflate
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    import diagnose
    from diagnose.portfolio.batch import Diagnoser, RawRecord
    from diagnose.portfolio.generate import Generator, load_templates
    from diagnose.snapshot import reader

    pack = diagnose.load_pack()
    gen = Generator(pack, load_templates(pack), seed=7)
    lines = [line.text.encode() for line in gen.lines(args.n, corrupt_rate=0.0)]
    diagnoser = Diagnoser(pack)
    records = [RawRecord("day.jsonl", i, raw, len(raw)) for i, raw in enumerate(lines, start=1)]
    reports = [pack.diagnose(reader.load(raw, "x"), parsed=True) for raw in lines]

    def record() -> None:
        for rec in records:
            result = diagnoser.one(rec)
            diagnoser.line(rec, result)  # type: ignore[arg-type]

    def fast_read() -> None:
        for raw in lines:
            reader.load(raw, "x")

    def careful_read() -> None:
        for raw in lines:
            reader._parse_exactly(raw.decode(), "x")

    def spliced() -> None:
        for rec, report in zip(records, reports, strict=True):
            diagnoser.line(rec, report)

    def rebuilt() -> None:
        for rec, report in zip(records, reports, strict=True):
            orjson.dumps({**report.to_dict(), "source": {"file": rec.file, "line": rec.line}}) + b"\n"

    fns = {"record": record, "fast read": fast_read, "careful read": careful_read, "spliced line": spliced, "rebuilt line": rebuilt}
    per = {name: seconds / args.n * 1e6 for name, seconds in _best(fns, args.rounds).items()}
    base = per["record"]
    print(f"batch record, every trick on: {base:8.1f} us (the baseline)")
    for trick, on, off in (
        ("fast read", "fast read", "careful read"),
        ("spliced line", "spliced line", "rebuilt line"),
    ):
        saved = per[off] - per[on]
        print(
            f"{trick:>13}: {per[on]:7.1f} us against {per[off]:7.1f} us without it: saves {saved:6.1f} us = {saved / base:6.1%} of a record"
        )


if __name__ == "__main__":
    main()
