"""`diagnose eval` on Apache Spark: each partition tallies its labelled cases as the local run does, the driver merges the tallies.

Every task parses, checks and diagnoses its lines with the local code (labels.parse_line,
run.outcome) and adds each outcome to a Tally; it returns one row, its tally and problems as
JSON. Tallies are sums, so merging them gives the local numbers exactly, whatever the
partitioning; memory is one tally per task. Lines are numbered as locally (as `batch --engine
spark` numbers them: from the files' bytes on this machine, else by a first, JVM-only pass that
counts the lines of each block of each file), so a bad case is named by file:line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from diagnose.errors import UsageError
from diagnose.evaluate.labels import HINT, Problems, parse_line
from diagnose.evaluate.metrics import Metrics, Tally
from diagnose.evaluate.run import known_causes, outcome, pack_name

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import SparkSession

    from diagnose.api import CompiledPack

_COMPILED: dict[str, CompiledPack] = {}
"""The pack compiled once per Python worker (Spark reuses workers from task to task)."""


def _task(pack_json: Any, digest: str, known: Any, files: Any) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa

        from diagnose.api import CompiledPack
        from diagnose.portfolio.spark import Sources

        pack = _COMPILED.get(digest)
        if pack is None:
            pack = _COMPILED[digest] = CompiledPack(orjson.loads(pack_json.value))
        causes = frozenset(known.value)
        sources = Sources(files.value)
        tally, problems = Tally(), Problems()
        for batch in batches:
            columns = (batch.column(0).to_pylist(), batch.column(1).to_pylist(), batch.column(2).to_pylist())
            for raw, uri, block in zip(*columns, strict=True):
                line = sources.line(uri, block)
                data = raw.strip()
                if not data:
                    continue
                source = f"{sources.name(uri)}:{line}"
                case, found = parse_line(data, source, causes)
                for p in found:
                    problems.add(source, p)
                if case is not None and (o := outcome(pack, case, problems)) is not None:
                    tally.add(o)
        found_json = [[src, list(p)] for src, p in problems.found]
        yield pa.RecordBatch.from_arrays(
            [pa.array([orjson.dumps(tally.to_dict()).decode()]), pa.array([orjson.dumps(found_json).decode()]), pa.array([problems.count])],
            names=["tally", "problems", "count"],
        )

    return run


def evaluate_on_spark(spark: SparkSession, paths: Sequence[str], pack: CompiledPack) -> Metrics:
    """The measures of ``pack`` on JSON Lines files read by Spark: the same as `run.evaluate` gives locally."""
    from pyspark.sql import functions as F

    from diagnose.errors import Problem
    from diagnose.portfolio.spark import check_paths, display_names, first_lines, line_indexes

    if not paths or "-" in paths:
        raise UsageError("--engine spark reads files: no standard input", hint=HINT)
    check_paths(paths)
    raw = spark.read.option("lineSep", "\n").text(list(paths))
    frame = raw.select(
        F.col("value").cast("binary"), F.col("_metadata.file_path").alias("file"), F.col("_metadata.file_block_start").alias("block")
    )
    names = dict(display_names(raw.inputFiles(), paths))
    index = line_indexes(spark, raw.inputFiles())  # on this machine, the lines counted from the files' bytes, with no first pass
    first = first_lines(frame, "file", "block") if index is None else {}
    sc = spark.sparkContext
    task = _task(
        sc.broadcast(orjson.dumps(pack.data)),
        str(pack.data["digest"]),
        sc.broadcast(sorted(known_causes(pack))),
        sc.broadcast({"names": names, "first_lines": first, "index": index or {}}),
    )
    rows = frame.mapInArrow(task, "tally string, problems string, count long").collect()
    tally, problems = Tally(), Problems()
    for row in rows:
        tally.merge(Tally.from_dict(orjson.loads(row["tally"])))
        for src, p in orjson.loads(row["problems"]):
            problems.add(src, Problem(*p))
        problems.count += row["count"] - len(orjson.loads(row["problems"]))
    problems.found.sort(key=lambda sp: _order(sp[0]))
    problems.raise_any()
    return Metrics(pack_name(pack), tally)


def _order(source: str) -> tuple[str, int]:
    file, _, line = source.rpartition(":")
    return (file, int(line)) if line.isdigit() else (source, 0)
