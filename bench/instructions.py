"""Instructions a batch record costs, counted by valgrind: a measure that a busy shared machine does not disturb.

CPU time per record varies by a third to a half from run to run on a shared two-core machine, more
than most single changes are worth. The instructions the interpreter executes do not: valgrind's
cachegrind counts them exactly (repeat runs agree to 0.01%, with PYTHONHASHSEED fixed).

The script generates N seeded snapshots (1% corrupted, as bench/batch.py) and runs, each under
cachegrind in a fresh process:

- the batch core with one worker (`portfolio.batch.run`: read, parse, validate, diagnose, write
  the reports and the error report to files) over the first record and over all N;
- the floor, an orjson `loads` + `dumps` pass over the same lines, likewise.

With `--spark-tasks` (needs `pip install -e '.[spark]'`), also the Python side of a Spark task
over the same lines as one Arrow batch, without Spark: the `mapInArrow` task diagnose uses
(`portfolio.spark._Task.rows_of`) and the same diagnosis as a `mapInPandas` function would run it
(a pandas frame of results, back to Arrow), the comparison docs/spark.md gives.

A record's cost is the difference of the two runs divided by N - 1, so that the start-up (imports,
loading the pack) drops out. Each kind runs once untimed first: a checkout whose bytecode is stale
(just edited, or never run) compiles it there, not in the first counted run. It prints both, and their ratio. valgrind runs sha256 without the CPU's
SHA instructions, so the input digest weighs a little more here than in CPU time.

    python bench/instructions.py            # N = 2,000
    python bench/instructions.py -n 500     # quicker
    python bench/instructions.py --steady   # also a record past the first N (runs over N and 2N snapshots)
    PYTHONPATH=/path/to/other/checkout python bench/instructions.py   # another version, the same way

It needs valgrind (`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
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


def _task(kind: str, inp: str) -> None:
    """The Python side of one Spark task over the lines of ``inp`` as one Arrow batch: `mapInArrow`'s or `mapInPandas`'s."""
    import pandas as pd
    import pyarrow as pa

    import diagnose
    from diagnose.portfolio import spark as ds
    from diagnose.portfolio.batch import Source

    lines = Path(inp).read_bytes().splitlines()
    plan = ds.Plan.make(None, diagnose.load_pack(), kind="json")  # type: ignore[arg-type]  # no session: the pack goes inline
    if kind == "arrow":
        ds._Task(plan).rows_of(pa.RecordBatch.from_arrays([pa.array(lines, type=pa.binary())], names=[ds._VALUE]))
        return
    rows = plan.compiled()
    frame = pd.DataFrame({ds.SNAPSHOT: lines})
    results = [rows.result(value, Source("", i + 1)) for i, value in enumerate(frame[ds.SNAPSHOT])]
    pa.RecordBatch.from_pandas(pd.DataFrame(results, columns=list(ds.RESULT_COLUMNS)))


def _instructions(kind: str, inp: Path) -> int:
    """The instructions one fresh process executes doing ``kind`` over ``inp``, under cachegrind."""
    return valgrind.instructions([sys.executable, __file__, "--child", kind, str(inp)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2_000, help="snapshots (default 2,000)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--spark-tasks", action="store_true", help="also a Spark task's Python side, mapInArrow and mapInPandas")
    parser.add_argument("--steady", action="store_true", help="also a record past the first N: runs over N and 2N snapshots")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, inp = args.child
        if kind in ("arrow", "pandas"):
            _task(kind, inp)
        else:
            {"batch": _batch, "floor": _floor}[kind](inp)
        return
    if not valgrind.available():
        raise SystemExit("bench/instructions.py needs valgrind on the PATH (apt-get install valgrind)")
    import diagnose

    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        every, first, twice = Path(tmp) / "all.jsonl", Path(tmp) / "first.jsonl", Path(tmp) / "twice.jsonl"
        if args.steady:  # the first N of 2N snapshots, so that the second run reads the first one's lines and N more
            generate(twice, 2 * args.n, args.seed)
            with twice.open("rb") as fh:
                every.write_bytes(b"".join(itertools.islice(fh, args.n)))
        else:
            generate(every, args.n, args.seed)
        with every.open("rb") as fh:
            first.write_bytes(fh.readline())
        print(
            f"diagnose from {Path(diagnose.__file__).resolve().parent.parent}; {args.n:,} snapshots, 1% corrupted; counting...", flush=True
        )
        per = {}
        for kind in ("batch", "floor", *(("arrow", "pandas") if args.spark_tasks else ())):
            # Untimed, without valgrind: a checkout whose bytecode is stale compiles it now, not in the first counted run
            # (where it would count as some 60 K instructions a record).
            subprocess.run([sys.executable, __file__, "--child", kind, str(first)], check=True)
            per[kind] = (_instructions(kind, every) - _instructions(kind, first)) / (args.n - 1)
        print(f"one batch worker, a record:      {per['batch'] / 1000:8,.0f} K instructions")
        print(f"orjson loads + dumps, a line:    {per['floor'] / 1000:8,.0f} K instructions")
        print(f"ratio:                           {per['batch'] / per['floor']:8.1f} x")
        if args.steady:  # past the first N: the generated walk, rules and size check are all in use
            steady = {kind: (_instructions(kind, twice) - _instructions(kind, every)) / args.n for kind in ("batch", "floor")}
            print(f"past the first {args.n:,} records:  {steady['batch'] / 1000:8,.0f} K instructions a record")
            print(
                f"  the orjson pass there:         {steady['floor'] / 1000:8,.0f} K a line, ratio {steady['batch'] / steady['floor']:.1f} x"
            )
        if args.spark_tasks:
            print(f"Spark task, mapInArrow, a record:  {per['arrow'] / 1000:6,.0f} K instructions")
            print(f"Spark task, mapInPandas, a record: {per['pandas'] / 1000:6,.0f} K instructions ({per['pandas'] / per['arrow']:.3f} x)")


if __name__ == "__main__":
    main()
