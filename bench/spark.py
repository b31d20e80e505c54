"""Spark throughput: `local[2]`, warm, against the local batch with 2 workers on the same snapshots, timed in one run, interleaved.

The script generates N seeded snapshots (1% corrupted) as JSON Lines, starts one Spark
session as `diagnose batch --engine spark` would (`diagnose.cli.spark.session`), and then, round
after round so that a change of load on the shared machine hits every measure alike:

- the local batch with 2 workers (`diagnose batch IN -o OUT --workers 2 --summary`'s core, in
  this process): the baseline;
- Spark end to end: `diagnose batch --engine spark IN -o OUT --summary --format json`, run
  in-process on the warm session (one cold run first, not counted): number the lines, diagnose,
  write the JSON Lines reports, print the summary;
- the diagnosis alone on Spark, as `mapInArrow` (what diagnose.portfolio.spark uses) and as
  `mapInPandas` doing the same per-record work: a cached column of JSON text to the `noop`
  sink.

For each it prints the median and the spread (min-max) over the rounds of the wall time and
of the CPU time of every process involved (this one, the local workers, the Spark JVM and its
Python workers), and the ratios to the local batch: throughput (wall) and work (CPU). The
summary Spark prints is checked against the local one. It runs against any checkout: put it
first on PYTHONPATH (`PYTHONPATH=/old/checkout python bench/spark.py` for the before).

    python bench/spark.py              # N = 20,000, three rounds
    python bench/spark.py --quick      # N = 5,000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from snapshots import generate  # bench/snapshots.py, beside this script

if not os.environ.get("PYTHONPATH"):  # a checkout named on PYTHONPATH is the one measured; else this one, in Spark's workers too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)

_TICK = os.sysconf("SC_CLK_TCK")


def _descendants() -> dict[tuple[int, str], float]:
    """CPU seconds so far of every live descendant of this process (the JVM, its Python workers), by (pid, start time).

    With the CPU of the children each has reaped: the local batch's workers, started from this
    process (which has Spark's threads) by the forkserver, are its children, not this process's.
    """
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = {}, list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        f = stats[pid]
        # utime, stime, and cutime, cstime (its reaped children); start time tells a reused pid apart
        found[(pid, f[19])] = (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / _TICK
        todo.extend(children.get(pid, []))
    return found


def _python_workers_rss() -> list[int]:
    """Resident memory (bytes) of each of this run's Spark Python processes (its daemon and workers) now."""
    sizes = []
    for entry in (str(pid) for pid, _ in _descendants()):
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        if b"pyspark.daemon" in cmd or b"pyspark.worker" in cmd:
            sizes += [int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")]
    return sizes


def _own() -> float:
    """CPU seconds so far of this process and of its reaped children (the local batch's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``run``: this process, its reaped children, and what each live descendant spent meanwhile."""
    wall, cpu, before = time.perf_counter(), _own(), _descendants()
    out = run()
    after = _descendants()
    # a process that exits meanwhile counts once its parent here reaps it (a local worker, by the forkserver), else not
    spent = sum(t - before.get(key, 0.0) for key, t in after.items())
    return time.perf_counter() - wall, _own() - cpu + spent, out


def _cli(*args: str) -> str:
    """A `diagnose` command run in this process (the Spark one on the active session): its standard output."""
    from diagnose.cli import main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(list(args))
    if code != 0:
        raise SystemExit(f"diagnose {' '.join(args)} exited {code}: {stderr.getvalue()[-2000:]}")
    return stdout.getvalue()


def _local(path: Path, out: Path) -> str:
    """`diagnose batch IN -o OUT -e ERR --workers 2 --summary --format json`: the baseline."""
    return _cli("batch", str(path), "-o", str(out), "-e", f"{out}-err", "--workers", "2", "--summary", "--format", "json")


def _spark(path: Path, out: Path) -> str:
    """`diagnose batch --engine spark IN -o OUT -e ERR --summary --format json`, which takes the active session."""
    return _cli("batch", "--engine", "spark", str(path), "-o", str(out), "-e", f"{out}-err", "--summary", "--format", "json")


def _per_record(spark: Any) -> dict[str, Callable[[Any], Any]]:
    """The diagnosis alone behind the two Arrow APIs of PySpark: the same per-record work, results as Arrow or pandas."""
    import diagnose
    from diagnose.portfolio import spark as ds
    from diagnose.portfolio.batch import Source

    pack = diagnose.load_pack()
    plan = ds.Plan.make(spark, pack, kind="json")
    schema = ds._output_schema()

    def arrow(df: Any) -> Any:
        return ds.diagnose_dataframe(df, pack=pack, keep=[])

    def pandas(df: Any) -> Any:
        def run(frames: Iterator[Any]) -> Iterator[Any]:
            import pandas as pd

            rows = plan.compiled()
            for frame in frames:
                results = [rows.result(value, Source("", i + 1)) for i, value in enumerate(frame[ds.SNAPSHOT])]
                yield pd.DataFrame(results, columns=list(ds.RESULT_COLUMNS))

        return df.select(df[ds.SNAPSHOT].cast("binary").alias(ds.SNAPSHOT)).mapInPandas(run, schema)

    return {"diagnosis alone, mapInArrow": arrow, "diagnosis alone, mapInPandas": pandas}


def _line(name: str, n: int, walls: list[float], cpus: list[float], base: tuple[list[float], list[float]] | None) -> str:
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    text = (
        f"{name:<34} {n / wall:>7,.0f}/s  wall {wall:5.2f} s ({min(walls):.2f}-{max(walls):.2f})"
        f"  cpu {cpu:5.2f} s ({min(cpus):.2f}-{max(cpus):.2f})"
    )
    if base is not None:
        ratios = [b / w for b, w in zip(base[0], walls, strict=True)]
        work = [b / c for b, c in zip(base[1], cpus, strict=True)]
        text += (
            f"  ratio {statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            f", by cpu {statistics.median(work):.2f} ({min(work):.2f}-{max(work):.2f})"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="snapshots")
    parser.add_argument("--quick", action="store_true", help="N = 5,000")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of every measure")
    parser.add_argument("--skip-alone", action="store_true", help="only the local batch and Spark end to end")
    args = parser.parse_args()
    n = 5_000 if args.quick else args.n
    os.environ.setdefault("DIAGNOSE_CACHE_DIR", tempfile.mkdtemp(prefix="bench-spark-cache-"))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    import diagnose
    from diagnose.cli.spark import session

    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        out_dir = Path(tmp)
        path = out_dir / "snapshots.jsonl"
        generate(path, n, args.seed)
        print(
            f"diagnose from {Path(diagnose.__file__).resolve().parent.parent}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs;"
            f" {n:,} snapshots ({path.stat().st_size / 1e6:.0f} MB, 1% corrupted), {args.rounds} rounds, medians (min-max)"
        )
        # Spark's Python workers put their working folder first on the import path: not a checkout's
        os.chdir(out_dir)
        t0 = time.perf_counter()
        spark, _ = session("local[2]", progress=False)
        print(f"Spark {spark.version} local[2] session started in {time.perf_counter() - t0:.1f} s (not counted)")
        workers = spark.sparkContext.parallelize([0], 1).map(lambda _: str(Path(__import__("diagnose").__file__).resolve().parent.parent))
        print(f"Spark's Python workers run diagnose from {workers.collect()[0]}")
        try:
            seconds, cpu, _ = _timed(lambda: _spark(path, out_dir / "spark-cold"))
            print(f"Spark end to end, cold (Python workers start, the pack compiles): wall {seconds:.2f} s, cpu {cpu:.2f} s (not counted)")
            measures: dict[str, tuple[list[float], list[float]]] = {}

            def add(name: str, wall: float, cpu: float) -> None:
                walls, cpus = measures.setdefault(name, ([], []))
                walls.append(wall)
                cpus.append(cpu)

            alone = {} if args.skip_alone else _per_record(spark)
            df = None
            if alone:
                df = spark.read.text(str(path)).withColumnRenamed("value", "snapshot").persist()
                df.count()
            for r in range(args.rounds):
                wall, cpu, want = _timed(lambda r=r: _local(path, out_dir / f"local-{r}.jsonl"))  # type: ignore[misc]
                add("local batch, 2 workers (baseline)", wall, cpu)
                wall, cpu, shown = _timed(lambda r=r: _spark(path, out_dir / f"spark-{r}"))  # type: ignore[misc]
                add("Spark local[2] end to end, warm", wall, cpu)
                if shown != want:
                    print(f"  round {r + 1}: THE SPARK SUMMARY DIFFERS FROM THE LOCAL ONE")
                if r == 0:  # the same lines, reports and error report, in Spark's part files as in the local files
                    for local, spark_out in ((f"local-{r}.jsonl", f"spark-{r}"), (f"local-{r}.jsonl-err", f"spark-{r}-err")):
                        mine = sorted((out_dir / local).read_bytes().splitlines())
                        theirs = sorted(line for part in (out_dir / spark_out).glob("part-*") for line in part.read_bytes().splitlines())
                        print(f"  {spark_out}: {len(theirs):,} lines, {'the same as' if mine == theirs else 'DIFFERENT FROM'} {local}'s")
                for name, build in alone.items():
                    wall, cpu, _ = _timed(lambda build=build: build(df).write.format("noop").mode("overwrite").save())  # type: ignore[misc]
                    add(name, wall, cpu)
            rss = _python_workers_rss()
            if rss:
                print(f"Spark's Python processes: {len(rss)}, resident memory {min(rss) / 2**20:.0f}-{max(rss) / 2**20:.0f} MB each")
            base = measures["local batch, 2 workers (baseline)"]
            for name, (walls, cpus) in measures.items():
                print(_line(name, n, walls, cpus, None if name.startswith("local") else base))
            if df is not None:
                df.unpersist()
        finally:
            spark.stop()


if __name__ == "__main__":
    main()
