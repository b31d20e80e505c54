"""Spark throughput: `local[2]` against the local batch with 2 workers on the same snapshots, and mapInArrow against the alternatives.

The script generates N seeded snapshots (1% corrupted) as JSON Lines, then measures, each end
to end from the file to output files and the counts of the summary:

- the baseline: the local batch (`diagnose batch --workers 2`'s core), in this process, before
  Spark starts (it forks its workers);
- Spark `local[2]`, what `diagnose batch --engine spark` does: number the lines, diagnose,
  write the JSON Lines reports, count the summary with Spark aggregations; a cold run (Python
  workers start and compile the pack) and a warm one;
- the per-partition strategies on the same DataFrame (a column of JSON text, cached, results
  to Spark's `noop` sink): mapInArrow (what diagnose.spark uses), mapInPandas, and the RDD's
  mapPartitions, interleaved, the best of three runs each.

It prints snapshots per second, the ratio of Spark to the local batch, and so what one core
of a cluster does. Keep it short on a shared machine: `--quick` runs N = 5,000.

    python bench/spark.py              # N = 20,000
    python bench/spark.py --quick
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _generate(path: Path, n: int, seed: int) -> None:
    import diagnose
    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    gen = Generator(pack, load_templates(pack), seed=seed)
    with path.open("wb") as fh:
        for line in gen.lines(n, corrupt_rate=0.01):
            fh.write(line.text.encode() + b"\n")


def _local(path: Path, workers: int, out_dir: Path) -> tuple[float, Any]:
    import diagnose
    from diagnose.portfolio import batch as core

    pack = diagnose.load_pack()
    with (out_dir / f"local-{workers}.jsonl").open("wb") as out, (out_dir / f"local-err-{workers}.jsonl").open("wb") as err:
        start = time.perf_counter()
        inputs = core.check_inputs([str(path)])
        items = core.iter_items(inputs, workers=workers) if workers > 1 else core.iter_records(inputs)  # as `diagnose batch` reads them
        outcome = core.run(items, core.Sinks(out, err), pack, workers=workers, summary=True)
        return time.perf_counter() - start, outcome


def _spark_batch(spark: Any, path: Path, out: Path) -> tuple[float, Any]:
    """What `diagnose batch --engine spark IN -o OUT --summary` does, timed from the file to the counts."""
    from pyspark.sql import functions as F

    import diagnose
    from diagnose.portfolio import spark as ds

    pack = diagnose.load_pack()
    start = time.perf_counter()
    found = ds.diagnose_files(spark, [str(path)], pack=pack)
    frame = found.frame.persist()
    results = ds.FileResults(frame, found.files)
    frame.where(F.col("report_json").isNotNull()).select(ds.report_lines(results)).write.text(str(out))
    totals = ds.tally_results(results)
    seconds = time.perf_counter() - start
    frame.unpersist()
    return seconds, totals


def _strategies(spark: Any) -> dict[str, Callable[[Any], Any]]:
    """The same per-record work (`RowDiagnoser.result`) behind the three per-partition APIs of PySpark."""
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
                results = [rows.result(value, Source("", 0)) for value in frame[ds.SNAPSHOT]]
                yield pd.DataFrame(results, columns=list(ds.RESULT_COLUMNS))

        return df.select(df[ds.SNAPSHOT].cast("binary").alias(ds.SNAPSHOT)).mapInPandas(run, schema)

    def rdd(df: Any) -> Any:
        def run(records: Iterator[Any]) -> Iterator[tuple[Any, ...]]:
            rows = plan.compiled()
            for record in records:
                yield tuple(rows.result(bytes(record[0]), Source("", 0)))

        return spark.createDataFrame(df.select(df[ds.SNAPSHOT].cast("binary")).rdd.mapPartitions(run), schema)

    return {"mapInArrow": arrow, "mapInPandas": pandas, "mapPartitions (RDD)": rdd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=20_000, help="snapshots")
    parser.add_argument("--quick", action="store_true", help="N = 5,000")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--skip-strategies", action="store_true", help="only the local batch and the Spark batch")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each per-partition strategy")
    args = parser.parse_args()
    n = 5_000 if args.quick else args.n
    os.environ.setdefault("DIAGNOSE_CACHE_DIR", tempfile.mkdtemp(prefix="bench-spark-cache-"))
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        out_dir = Path(tmp)
        path = out_dir / "snapshots.jsonl"
        t0 = time.perf_counter()
        _generate(path, n, args.seed)
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {n:,} snapshots, {path.stat().st_size / 1e6:.0f} MB, generated in {time.perf_counter() - t0:.1f} s"
        )

        local_one, _ = _local(path, 1, out_dir)
        local_two, outcome = _local(path, 2, out_dir)  # before Spark starts: the local batch forks its workers
        print(f"local batch, 1 worker : {n / local_one:>8,.0f} snapshots/s ({local_one:.2f} s)")
        print(f"local batch, 2 workers: {n / local_two:>8,.0f} snapshots/s ({local_two:.2f} s)   <- the baseline")

        from pyspark.sql import SparkSession

        t0 = time.perf_counter()
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("bench diagnose")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        print(f"Spark {spark.version} local[2] session started in {time.perf_counter() - t0:.1f} s (not counted below)")

        runs = []
        for i, label in enumerate(("cold", "warm")):
            seconds, totals = _spark_batch(spark, path, out_dir / f"spark-{i}")
            ok = (totals.read, totals.diagnosed, totals.rejected) == (outcome.read, outcome.diagnosed, outcome.rejected)
            runs.append(seconds)
            print(
                f"Spark local[2], batch ({label}): {n / seconds:>8,.0f} snapshots/s ({seconds:.2f} s)"
                + ("" if ok else "   COUNTS DIFFER FROM THE LOCAL BATCH")
            )
        best = min(runs)
        print(f"ratio Spark local[2] / local batch 2 workers: {local_two / best:.2f} (warm), {local_two / runs[0]:.2f} (cold)")
        print(f"per core: Spark {n / best / 2:,.0f} snapshots/s, local batch {n / local_two / 2:,.0f} snapshots/s")

        if not args.skip_strategies:
            df = spark.read.text(str(path)).withColumnRenamed("value", "snapshot").persist()
            df.count()
            print(f"per-partition strategies (a cached column of JSON text, results to the noop sink, best of {args.rounds}, interleaved):")
            strategies = _strategies(spark)
            times: dict[str, list[float]] = {name: [] for name in strategies}
            for _ in range(args.rounds):  # round-robin, so that a change of load on the machine hits every strategy
                for name, build in strategies.items():
                    t0 = time.perf_counter()
                    build(df).write.format("noop").mode("overwrite").save()
                    times[name].append(time.perf_counter() - t0)
            for name, seconds in times.items():
                print(
                    f"  {name:<20} {n / min(seconds):>8,.0f} snapshots/s ({min(seconds):.2f} s; runs {', '.join(f'{t:.2f}' for t in seconds)})"
                )
            df.unpersist()
        spark.stop()


if __name__ == "__main__":
    main()
