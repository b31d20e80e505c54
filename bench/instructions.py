"""Instructions a batch record costs, counted by valgrind: a measure that a busy shared machine does not disturb.

CPU time per record varies by a third to a half from run to run on a shared two-core machine, more
than most single changes are worth. The instructions the interpreter executes do not: valgrind's
cachegrind counts them exactly (repeat runs agree to 0.01%, with PYTHONHASHSEED fixed).

The script generates N seeded snapshots (1% corrupted, as bench/batch.py) and runs, each under
cachegrind in a fresh process:

- the batch core with one worker (`portfolio.batch.run`: read, parse, validate, diagnose, write
  the reports and the error report to files) over the first record and over all N;
- the floor, an orjson `loads` + `dumps` pass over the same lines, likewise.

A record's cost is the difference of the two runs divided by N - 1, so that the start-up (imports,
loading the pack) drops out. It prints both, and their ratio. valgrind runs sha256 without the CPU's
SHA instructions, so the input digest weighs a little more here than in CPU time.

    python bench/instructions.py            # N = 2,000
    python bench/instructions.py -n 500     # quicker
    PYTHONPATH=/path/to/other/checkout python bench/instructions.py   # another version, the same way

It needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import valgrind  # bench/valgrind.py, beside this script
from snapshots import generate  # bench/snapshots.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH chooses the code measured (e.g. an older checkout for "before")
    sys.path.insert(0, str(ROOT))
    os.environ["PYTHONPATH"] = str(ROOT)


def _batch(inp: str) -> None:
    import diagnose
    from diagnose.portfolio import batch as core

    pack = diagnose.load_pack()
    with tempfile.TemporaryDirectory() as tmp, open(f"{tmp}/out", "wb") as out, open(f"{tmp}/err", "wb") as err:
        core.run(core.iter_records(core.check_inputs([inp])), core.Sinks(out, err), pack, workers=1)


def _floor(inp: str) -> None:
    import orjson

    with open(inp, "rb") as fh, open(os.devnull, "wb") as out:
        for line in fh:
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            out.write(orjson.dumps(data) + b"\n")


def _instructions(kind: str, inp: Path) -> int:
    """The instructions one fresh process executes doing ``kind`` over ``inp``, under cachegrind."""
    return valgrind.instructions([sys.executable, __file__, "--child", kind, str(inp)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2_000, help="snapshots (default 2,000)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"batch": _batch, "floor": _floor}[args.child[0]](args.child[1])
        return
    if not valgrind.available():
        raise SystemExit("bench/instructions.py needs valgrind on the PATH (apt-get install valgrind)")
    import diagnose

    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        every, first = Path(tmp) / "all.jsonl", Path(tmp) / "first.jsonl"
        generate(every, args.n, args.seed)
        with every.open("rb") as fh:
            first.write_bytes(fh.readline())
        print(
            f"diagnose from {Path(diagnose.__file__).resolve().parent.parent}; {args.n:,} snapshots, 1% corrupted; counting...", flush=True
        )
        per = {}
        for kind in ("batch", "floor"):
            per[kind] = (_instructions(kind, every) - _instructions(kind, first)) / (args.n - 1)
        print(f"one batch worker, a record:      {per['batch'] / 1000:8,.0f} K instructions")
        print(f"orjson loads + dumps, a line:    {per['floor'] / 1000:8,.0f} K instructions")
        print(f"ratio:                           {per['batch'] / per['floor']:8.1f} x")


if __name__ == "__main__":
    main()
