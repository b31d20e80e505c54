"""Diagnosis on Apache Spark (local[2]): the same reports, error records and summary as the local batch, and `batch --engine spark`.

What is compared, byte for byte: a line of the local batch is the report JSON of `run --format
json` with a last member `"source":{"file":F,"line":N}` added; Spark's `report_json` is the
report JSON alone. So for every record, local line == report_json[:-1] + ',"source":' + source
+ '}'; and the lines Spark writes for `--engine spark` (report_json plus the same source) equal
the local lines outright. Error records likewise, with `"source"` as their first member.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import cli

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed: Spark needs Java 17 or newer (java on the PATH, or JAVA_HOME)", allow_module_level=True)
pytest.importorskip("pyspark", reason="PySpark is not installed: pip install -e '.[spark]' to run the Spark tests")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install -e '.[spark]' to run the Spark tests")

from pyspark.sql import DataFrame, SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from diagnose.api import CompiledPack  # noqa: E402
from diagnose.portfolio import batch as core  # noqa: E402
from diagnose.portfolio import spark as ds  # noqa: E402
from diagnose.portfolio.generate import Generator, default_examples, load_templates  # noqa: E402
from diagnose.portfolio.segments import By  # noqa: E402
from diagnose.portfolio.summary import (  # noqa: E402
    Summary,
    pack_labels,
    render_json,
    summarize,
)

pytestmark = pytest.mark.xdist_group("spark")  # one Spark session for the module: its tests stay on one worker

MAX_BYTES = 50_000
"""Small enough that one test line is over it, large enough for every generated snapshot."""


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this Python, where diagnose is installed
    session = (
        SparkSession.builder.master("local[2,2]")  # a failed task is tried once more, as on a cluster
        .appName("diagnose tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.files.maxPartitionBytes", str(512 * 1024))  # several blocks per file: line numbers across blocks
        .config("spark.sql.session.timeZone", "Asia/Shanghai")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


class Local:
    """The local batch over the same inputs: report lines, error lines and the summary."""

    def __init__(self, pack: CompiledPack, inputs: list[str], by: By = By()) -> None:
        out, errs = io.BytesIO(), io.BytesIO()
        records = core.iter_records(core.check_inputs(inputs), max_bytes=MAX_BYTES)
        sinks = core.Sinks(out, errs)
        self.outcome = core.run(records, sinks, pack, workers=1, max_bytes=MAX_BYTES, summary=True, by=by)
        self.lines = out.getvalue().decode().splitlines()
        self.errors = errs.getvalue().decode().splitlines()
        assert self.outcome.tally is not None
        self.labels = pack_labels(pack, "en")
        self.summary: Summary = summarize(
            self.outcome.tally, read=self.outcome.read, rejected=self.outcome.rejected, reasons=sinks.reasons, labels=self.labels
        )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, pack: CompiledPack) -> dict[str, Any]:
    """2,000 generated snapshots (3% corrupted on purpose) and a few hand-made oddities, in a file and a folder."""
    generated = list(Generator(pack, load_templates(pack), seed=8).lines(2_000, corrupt_rate=0.03))
    assert sum(1 for line in generated if line.corrupt) == 60
    lines = [line.text for line in generated]
    clean = [line.text for line in generated if not line.corrupt]
    odd = [
        "",  # blank lines are counted and skipped
        "   ",
        clean[0] + "\r",  # CRLF
        '{"x": "' + "z" * (MAX_BYTES + 10) + '"}',  # over --max-bytes
        "null",
        '"just text"',
        '{"schema_version": "1", "as_of": "2024-01-15T10:30:00+08:00", "account": {"id": "ünï", "product": "p"}}',
    ]
    root = tmp_path_factory.mktemp("spark-in")
    day = root / "day.jsonl"
    day.write_bytes(("\n".join(lines[:1_200] + odd) + "\n").encode() + b'{"account": "caf\xe9"}\n' + lines[1_200].encode())
    folder = root / "more"
    folder.mkdir()
    (folder / "a.jsonl").write_text("\n".join(lines[1_201:1_700]) + "\n", encoding="utf-8")
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(("\n".join(lines[1_700:]) + "\n").encode()))
    (folder / "_SUCCESS").write_text("", encoding="utf-8")  # what Spark leaves: skipped by Spark
    inputs = [str(day), str(folder / "a.jsonl"), str(folder / "b.jsonl.gz")]
    local = Local(pack, inputs)
    return {"spark": [str(day), str(folder)], "local": local, "clean": clean[:50], "inputs": inputs}


@pytest.fixture(scope="module")
def results(spark: SparkSession, pack: CompiledPack, files: dict[str, Any]) -> Iterator[ds.FileResults]:
    found = ds.diagnose_files(spark, files["spark"], pack=pack, max_bytes=MAX_BYTES)
    frame = found.frame.persist()
    yield ds.FileResults(frame, found.files)
    frame.unpersist()


def _source(line: str) -> str:
    src = orjson.loads(line)["source"]
    return '"source":' + orjson.dumps(src).decode()


def _sorted(results: ds.FileResults, frame: DataFrame) -> DataFrame:
    return frame.orderBy(results.order())


# --- the same reports as the local batch -------------------------------------------------


def test_reports_equal_the_local_batch_record_for_record(results: ds.FileResults, files: dict[str, Any]) -> None:
    # The local run used this process's hash seed (random unless PYTHONHASHSEED is set), Spark's
    # Python workers PySpark's (0), and Spark read the files in several blocks: none of it may show.
    local: Local = files["local"]
    rows = _sorted(results, results.frame).collect()
    assert len(rows) == local.outcome.read == 2_000 + 6  # every record: 2,001 lines, the odd ones, minus 2 blank lines
    diagnosed = [r for r in rows if r["report_json"] is not None]
    rejected = [r for r in rows if r["error_json"] is not None]
    assert len(diagnosed) + len(rejected) == len(rows)  # exactly one of the two per row
    assert len(diagnosed) == local.outcome.diagnosed and len(rejected) == local.outcome.rejected
    assert len(local.lines) == len(diagnosed)
    for line, row in zip(local.lines, diagnosed, strict=True):
        # the comparable part: the local line is Spark's report JSON with one member, its source, added last
        assert line == row["report_json"][:-1] + "," + _source(line) + "}"
        report = json.loads(row["report_json"])
        assert json.loads(line)["source"] == {"file": row["source_file"], "line": row["source_line"]}
        assert (row["account_id"], row["verdict"]) == (report["snapshot"]["account_id"], report["verdict"])
        assert row["rule_ids"] == [f["rule_id"] for f in report["findings"]]
        top = report["findings"][0] if report["findings"] else {}
        assert (row["top_rule_id"], row["top_family"]) == (top.get("rule_id"), top.get("family"))
        assert row["error"] is None
    for line, row in zip(local.errors, rejected, strict=True):
        assert line == "{" + _source(line) + "," + row["error_json"][1:]
        assert row["error"] and row["verdict"] is None and row["rule_ids"] is None
    assert {r["source_file"] for r in rows} == {files["spark"][0], *(str(Path(files["spark"][1]) / n) for n in ("a.jsonl", "b.jsonl.gz"))}


def test_the_lines_spark_writes_are_the_local_batch_lines(results: ds.FileResults, files: dict[str, Any]) -> None:
    local: Local = files["local"]
    ordered = _sorted(results, results.frame)
    assert [r[0] for r in ordered.where("report_json is not null").select(ds.report_lines(results)).collect()] == local.lines
    assert [r[0] for r in ordered.where("error_json is not null").select(ds.error_lines(results)).collect()] == local.errors


def test_line_numbers_hold_across_blocks_and_odd_lines_are_rejected_as_locally(results: ds.FileResults, files: dict[str, Any]) -> None:
    day = files["spark"][0]
    blocks = results.frame.sparkSession.read.text(day).select("_metadata.file_block_start").distinct().count()
    assert blocks > 2  # the file was read in several blocks, in two tasks
    rows = {r["source_line"]: r for r in results.frame.where(F.col("source_file") == day).collect()}
    assert 1_201 not in rows and 1_202 not in rows  # the blank lines
    assert rows[1_203]["report_json"] is not None  # the CRLF line
    big = json.loads(rows[1_204]["error_json"])
    assert big["problems"][0]["message"].startswith(f"the record is {MAX_BYTES + 20:,} bytes") and big["raw_truncated"]
    assert json.loads(rows[1_208]["error_json"])["problems"][0]["message"].startswith("not UTF-8 text")
    assert max(rows) == 1_209


def test_line_numbers_from_the_files_bytes_are_sparks_own_block_by_block(spark: SparkSession, tmp_path: Path) -> None:
    # diagnose/portfolio/lines.py numbers a block from the newlines before it: held here to the first pass,
    # Spark's own count, on files cut into blocks of 97 bytes (blocks that start after a newline, inside a line, in blank lines)
    rnd = random.Random(5)
    paths = []
    for i in range(60):
        text = "\n".join(rnd.choice(["", "x" * rnd.randint(0, 200), "ab\r", "{}"]) for _ in range(rnd.randint(0, 30)))
        paths.append(tmp_path / f"f{i}.jsonl")
        paths[-1].write_bytes((text + rnd.choice(["", "\n", "\n\n"])).encode())
    before = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "97")
    try:
        raw = spark.read.option("lineSep", "\n").text([str(p) for p in paths])
        frame = raw.select(F.col("value"), F.col("_metadata.file_path").alias("f"), F.col("_metadata.file_block_start").alias("b"))
        counted = ds.block_lines(frame, "f", "b")
        index = ds.line_indexes(spark, raw.inputFiles())
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", before)
    assert index is not None and set(index) == {str(p) for p in paths}
    first = ds.first_lines(frame, "f", "b", counted)
    assert sum(len(blocks) for blocks in first.values()) > 200
    after_newline = 0
    for path, found in index.items():
        assert found.lines == sum(counted.get(path, {}).values())
        assert {b: found.first_line(b) for b in first.get(path, {})} == first.get(path, {})
        after_newline += sum(1 for b in first.get(path, {}) if b and Path(path).read_bytes()[b - 1 : b] == b"\n")
    assert after_newline > 3


def test_local_files_are_numbered_from_their_bytes_without_a_first_pass(
    spark: SparkSession, pack: CompiledPack, files: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    day, more = files["spark"][0], Path(files["spark"][1])
    local = Local(pack, [day, str(more / "a.jsonl")])

    def no_first_pass(*args: Any) -> None:
        raise AssertionError("the first pass ran")

    monkeypatch.setattr(ds, "block_lines", no_first_pass)
    found = ds.diagnose_files(spark, [day, str(more / "a.jsonl")], pack=pack, max_bytes=MAX_BYTES, count=By())
    ordered = _sorted(found, found.frame)
    assert [r[0] for r in ordered.where("report_json is not null").select(ds.report_lines(found)).collect()] == local.lines
    assert [r[0] for r in ordered.where("error_json is not null").select(ds.error_lines(found)).collect()] == local.errors
    totals = ds.tally_results(found, by=By())  # the tasks' counts are complete against the lines counted from the bytes
    assert (totals.read, totals.rejected) == (local.outcome.read, local.outcome.rejected)
    assert totals.summary(labels=local.labels) == local.summary
    # a compressed file, or Spark elsewhere than on this machine: the first pass numbers the lines
    assert ds.line_indexes(spark, [Path(day).as_uri(), (more / "b.jsonl.gz").as_uri()]) is None
    assert ds.line_indexes(spark, [Path(day).as_uri(), Path(day).with_suffix(".jsonl.bz2").as_uri()]) is None
    assert ds.line_indexes(spark, ["s3a://bucket/day.jsonl"]) is None


def test_odd_file_names_are_numbered_from_their_bytes_as_the_local_batch_numbers_them(
    spark: SparkSession, pack: CompiledPack, files: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "a b%20c"  # Spark writes these names as URIs: %20, %25, %5B
    folder.mkdir()
    odd = folder / "día 1 [x] %41.jsonl"
    odd.write_bytes(Path(files["spark"][0]).read_bytes())
    (folder / "two.jsonl").write_bytes(b"\n" + (Path(files["spark"][1]) / "a.jsonl").read_bytes())
    local = Local(pack, [str(odd), str(folder / "two.jsonl")])
    monkeypatch.setattr(ds, "block_lines", lambda *args: pytest.fail("the first pass ran"))
    found = ds.diagnose_files(spark, [str(folder)], pack=pack, max_bytes=MAX_BYTES)
    ordered = _sorted(found, found.frame)
    assert [r[0] for r in ordered.where("report_json is not null").select(ds.report_lines(found)).collect()] == local.lines
    assert [r[0] for r in ordered.where("error_json is not null").select(ds.error_lines(found)).collect()] == local.errors


def test_a_file_changed_after_its_lines_were_counted_stops_the_job_with_exit_4(
    spark: SparkSession, pack: CompiledPack, files: dict[str, Any], tmp_path: Path
) -> None:
    from pyspark.errors import PySparkException

    from diagnose.cli.spark import _spark_error

    day = tmp_path / "day.jsonl"
    day.write_bytes(Path(files["spark"][0]).read_bytes())
    found = ds.diagnose_files(spark, [str(day)], pack=pack, max_bytes=MAX_BYTES)
    day.write_bytes(b"\n" + day.read_bytes())  # a line more at the top: every later number would be off by one
    with pytest.raises(PySparkException) as caught:
        found.frame.select("source_line").collect()
    error = _spark_error(caught.value)
    assert error.exit_code == 4 and error.render().splitlines() == [
        f"invalid snapshot: {day}: 1 problem",
        "  (top level): the file changed while the batch read it: its lines were counted before the job, and differ from byte 524288",
        "  help: run the batch again on files that are not being written",
    ]


def test_summary_from_spark_aggregations_equals_the_local_summary(results: ds.FileResults, files: dict[str, Any]) -> None:
    local: Local = files["local"]
    totals = ds.tally_results(results)
    assert (totals.read, totals.diagnosed, totals.rejected, totals.internal) == (
        local.outcome.read,
        local.outcome.diagnosed,
        local.outcome.rejected,
        0,
    )
    assert totals.read == totals.diagnosed + totals.rejected
    summary = totals.summary(labels=local.labels)
    assert summary == local.summary  # every count, share, title and pair, the days, the packs, the rejection reasons
    assert render_json(summary) == render_json(local.summary)
    assert len(summary.causes) > 30 and summary.pairs
    assert ds.summarize_results(results, pairs=3).pairs == local.summary.pairs[:3]


def test_by_segments_from_spark_equal_the_local_ones_and_add_up(results: ds.FileResults, files: dict[str, Any], pack: CompiledPack) -> None:
    by = By.parse("region,tier,as_of:week")
    local = Local(pack, files["inputs"], by)
    totals = ds.tally_results(results, by=by)
    summary = totals.summary(labels=local.labels)
    assert summary.segments is not None and summary.segments.reconciled and len(summary.segments.segments) > 20
    assert summary == local.summary
    assert sum(s.accounts for s in summary.segments.segments) == summary.counts.diagnosed
    whole = {r.name: r.accounts for r in summary.causes}
    per: Counter[str] = Counter()
    for s in summary.segments.segments:
        per.update({c.name: c.accounts for c in s.causes})
    assert dict(per) == whole


def test_counts_of_the_tasks_give_the_local_summary_without_an_aggregation(
    spark: SparkSession, pack: CompiledPack, files: dict[str, Any]
) -> None:
    # each task tallies its blocks as a local worker tallies its chunks; the blocks merge in input order
    by = By.parse("region,as_of:month")
    local = Local(pack, files["inputs"], by)
    found = ds.diagnose_files(spark, files["spark"], pack=pack, max_bytes=MAX_BYTES, count=by).persist()
    try:
        assert found.counts() is None  # nothing has run yet
        assert found.frame.columns == [*ds.SOURCE_COLUMNS, *ds.RESULT_COLUMNS]
        assert found.frame.count() == local.outcome.read
        counted = found.counts()
        assert counted is not None and len(counted) > 3  # several blocks, in several tasks
        totals = ds.tally_results(found, by=by)
        assert (totals.read, totals.diagnosed, totals.rejected, totals.internal) == (
            local.outcome.read,
            local.outcome.diagnosed,
            local.outcome.rejected,
            0,
        )
        assert totals.summary(labels=local.labels) == local.summary  # the rejection reasons and the segments too
        assert render_json(totals.summary(labels=local.labels)) == render_json(local.summary)
        # sliced otherwise than the tasks counted: the aggregation over the reports, with the same result
        assert ds.tally_results(found).summary(labels=local.labels) == Local(pack, files["inputs"]).summary
        lines = [r[0] for r in found.frame.orderBy(found.order()).where("report_json is not null").select(ds.report_lines(found)).collect()]
        assert lines == local.lines
    finally:
        found.unpersist()


def test_counts_hold_when_spark_runs_a_task_again(spark: SparkSession, pack: CompiledPack, files: dict[str, Any], tmp_path: Path) -> None:
    # the tasks' counts travel in an accumulator: a block counted twice (a second job over the same
    # results, a task that failed after counting and ran again) must not count twice
    local = Local(pack, files["inputs"])
    found = ds.diagnose_files(spark, files["spark"], pack=pack, max_bytes=MAX_BYTES, count=By())
    schema = found.frame.schema
    marker = tmp_path / "failed"

    def fail_once(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        yield from batches  # the task above has read its blocks and added their counts
        if TaskContext.get().partitionId() == 0 and not marker.exists():  # type: ignore[union-attr]
            marker.write_text("once", encoding="utf-8")
            raise RuntimeError("a lost executor")

    found.frame.mapInArrow(fail_once, schema).write.format("noop").mode("overwrite").save()
    assert marker.exists()  # the task failed once and Spark ran it again
    found.frame.write.format("noop").mode("overwrite").save()  # and every block once more
    totals = ds.tally_results(found, by=By())
    assert (totals.read, totals.diagnosed, totals.rejected) == (local.outcome.read, local.outcome.diagnosed, local.outcome.rejected)
    assert totals.summary(labels=local.labels) == local.summary
    # the lines, written by the tasks, or from kept results: the local batch's, and the rejected records in input order
    kept = found.persist()
    try:
        for name, written in (("tasks", found), ("kept", kept)):
            rejected = ds.write_lines(written, str(tmp_path / name), str(tmp_path / f"{name}-errors"), rejected="all")
            assert sorted(_parts(tmp_path / name)) == sorted(local.lines)
            assert sorted(_parts(tmp_path / f"{name}-errors")) == sorted(local.errors)
            sources = [orjson.loads(e)["source"] for e in local.errors]
            assert [(f, n) for f, n, _ in rejected()] == [(s["file"], s["line"]) for s in sources]
            assert sorted(p.name for p in (tmp_path / name).iterdir() if not p.name.startswith((".", "part-"))) == ["_SUCCESS"]
    finally:
        kept.unpersist()
    # the accumulator keeps the first value of a block
    merge = ds._OnePerBlock()
    assert merge.addInPlace(merge.addInPlace(merge.zero({}), {("a", 0): (2, b"x")}), {("a", 0): (2, b"x"), ("a", 9): (1, b"y")}) == {
        ("a", 0): (2, b"x"),
        ("a", 9): (1, b"y"),
    }


def test_flat_export_from_spark_reads_back_with_the_documented_columns_and_types(
    results: ds.FileResults, pack: CompiledPack, tmp_path: Path
) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    from diagnose.portfolio.flat import ACCOUNT_COLUMNS, FINDING_COLUMNS, LIST_SEPARATOR, account_schema, finding_schema
    from diagnose.portfolio.spark_portfolio import write_flat

    segments = [n for n, _ in pack.segments]
    accounts, findings = write_flat(results.frame, str(tmp_path / "flat"), segments, results.order())
    table = pq.read_table(tmp_path / "flat" / "accounts.parquet")
    assert table.schema.remove_metadata().equals(account_schema(segments), check_metadata=False), table.schema
    assert table.num_rows == accounts
    ftable = pq.read_table(tmp_path / "flat" / "findings.parquet")
    assert ftable.schema.remove_metadata().equals(finding_schema(), check_metadata=False), ftable.schema
    assert ftable.num_rows == findings
    # the rows are the local export's: the same reports, the same values
    reports = [json.loads(x) for x in files_local_lines(results)]
    rows = sorted(table.to_pylist(), key=lambda r: (r["source_file"], r["source_line"]))
    assert len(rows) == len(reports)
    by_source = {(r["source"]["file"], r["source"]["line"]): r for r in reports}
    for row in rows:
        report = by_source[(row["source_file"], row["source_line"])]
        assert row["cause_ids"] == [f["rule_id"] for f in report["findings"]]
        assert row["as_of"] == pd.Timestamp(report["snapshot"]["as_of"]).to_pydatetime()
        assert {s: row[s] for s in segments} == {s: None if v is None else str(v) for s, v in report["segments"].items()}

    def csv(name: str, **kw: Any) -> Any:
        return pd.concat([pd.read_csv(p, **kw) for p in sorted((tmp_path / "flat" / name).glob("part-*.csv"))], ignore_index=True)

    frame = csv("accounts.csv", dtype={"account_id": "string", "cause_ids": "string"})
    assert list(frame.columns) == [n for n, _ in ACCOUNT_COLUMNS] + segments and len(frame) == accounts
    assert frame["causes"].dtype.kind == "i" and frame["top_score"].dtype.kind == "f"
    several = frame[frame["causes"] > 1]
    assert len(several) and all(v.count(LIST_SEPARATOR) == n - 1 for v, n in zip(several["cause_ids"], several["causes"], strict=True))
    found = csv("findings.csv")
    assert list(found.columns) == [n for n, _ in FINDING_COLUMNS] and found["contributing"].dtype == bool and len(found) == findings


def files_local_lines(results: ds.FileResults) -> list[str]:
    """The report lines the Spark results stand for, as the local batch writes them."""
    from pyspark.sql import functions as F

    return [r[0] for r in results.frame.where(F.col("report_json").isNotNull()).select(ds.report_lines(results)).collect()]


# --- DataFrames: a JSON column, a struct column -----------------------------------------


def _local_report(pack: CompiledPack, data: Any) -> str:
    return pack.diagnose(data).to_json(indent=False)


def _without_nulls(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_nulls(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_without_nulls(v) for v in node]
    return node


def test_a_column_of_json_text_keeps_the_other_columns(spark: SparkSession, pack: CompiledPack, files: dict[str, Any]) -> None:
    texts = [json.dumps(_without_nulls(json.loads(text))) for text in files["clean"]]
    df = spark.createDataFrame([(i, t, "x") for i, t in enumerate([*texts, "{broken", None])], "id long, snapshot string, note string")
    out = ds.diagnose_dataframe(df, pack=pack, keep=["id"])
    assert out.columns == ["id", *ds.RESULT_COLUMNS]
    rows = sorted(out.collect(), key=lambda r: r["id"])
    assert [r["id"] for r in rows] == list(range(52))
    for text, row in zip(texts, rows, strict=False):
        assert row["report_json"] == _local_report(pack, json.loads(text))
    assert "broken JSON" in rows[50]["error"] and json.loads(rows[50]["error_json"])["raw"] == "{broken"
    assert rows[51]["error"] == "(top level): no snapshot: the value is null"
    assert ds.diagnose_dataframe(df.select("snapshot", "note"), pack=pack).columns == ["note", *ds.RESULT_COLUMNS]


def test_a_struct_column_is_the_contract_object_with_dates_and_times_as_rfc3339(spark: SparkSession, pack: CompiledPack) -> None:
    examples = sorted(default_examples().glob("*.json"))
    originals = [json.loads(p.read_text(encoding="utf-8")) for p in examples]
    texts = spark.createDataFrame([(i, json.dumps(d)) for i, d in enumerate(originals)], "i long, text string")
    schema = spark.read.json(texts.rdd.map(lambda r: r["text"]), primitivesAsString=False, prefersDecimal=False).schema
    snap = F.from_json("text", schema)
    # typed as a data lake would store them: as_of a timestamp, dates as dates
    snap = snap.withField("as_of", F.to_timestamp(snap.getField("as_of")))
    snap = snap.withField("line.granted_on", F.to_date(snap.getField("line").getField("granted_on")))
    df = texts.select("i", snap.alias("snapshot"))
    assert dict(df.select("snapshot.as_of", "snapshot.line.granted_on").dtypes) == {"as_of": "timestamp", "granted_on": "date"}
    rows = sorted(ds.diagnose_dataframe(df, pack=pack).collect(), key=lambda r: r["i"])
    assert len(rows) == len(originals)
    for original, row in zip(originals, rows, strict=True):
        assert row["error"] is None, row["error"]
        # the inferred schema widens some whole numbers to doubles; the reports must not care
        assert json.loads(row["report_json"]) == json.loads(_local_report(pack, _without_nulls(original)))


def test_struct_values_become_the_json_the_contract_expects() -> None:
    t = pa.struct(
        [
            ("as_of", pa.timestamp("us", tz="Asia/Shanghai")),
            ("d", pa.date32()),
            ("n", pa.decimal128(10, 2)),
            ("gone", pa.string()),
            ("ext", pa.map_(pa.string(), pa.int64())),
            ("xs", pa.list_(pa.float64())),
        ]
    )
    value = {
        "as_of": datetime(2024, 1, 15, 2, 30, tzinfo=timezone.utc),
        "d": date(2024, 1, 2),
        "n": Decimal("12.00"),
        "gone": None,
        "ext": [],
        "xs": [1.5, None],
    }
    encode = ds.struct_encoder(t)
    arr = pa.array([value, None], type=t)
    first, second = (encode(v) for v in arr.to_pylist())
    assert first is not None and json.loads(first) == {
        "as_of": "2024-01-15T10:30:00+08:00",
        "d": "2024-01-02",
        "n": 12,
        "ext": {},
        "xs": [1.5, None],
    }
    assert second is None
    nan = encode(pa.array([{**value, "xs": [float("nan")]}], type=t).to_pylist()[0])
    assert nan is not None and b"NaN" in nan  # rejected by the reader, as NaN in a JSON Lines file is


def test_the_pack_travels_as_content_not_as_a_path(spark: SparkSession, tmp_path: Path, files: dict[str, Any]) -> None:
    import diagnose

    folder = tmp_path / "our-pack"
    shutil.copytree(Path(diagnose.__file__).resolve().parent.parent / "rules", folder)
    pack = diagnose.load_pack(folder)
    shutil.rmtree(folder)  # gone before any task runs: the executors get the pack's content from the broadcast
    df = spark.createDataFrame([(t,) for t in files["clean"][:5]], "snapshot string")
    rows = ds.diagnose_dataframe(df, pack=pack, lang="zh").collect()
    assert [json.loads(r["report_json"])["ruleset"]["digest"] for r in rows] == [pack.data["digest"]] * 5
    assert [r["report_json"] for r in rows] == [pack.diagnose(json.loads(t), lang="zh").to_json(indent=False) for t in files["clean"][:5]]


def test_sources_are_escaped_as_the_local_batch_escapes_them(spark: SparkSession) -> None:
    names = [
        "day.jsonl",
        'quo"te.jsonl',
        "back\\slash.jsonl",
        "café \u2028 日.jsonl",
        "tab\there.jsonl",
        "nl\nx\x01.jsonl",
        "del\x7f.jsonl",
    ]
    df = spark.createDataFrame([(n, i + 1) for i, n in enumerate(names)], "source_file string, source_line long")
    got = [r[0] for r in df.orderBy("source_line").select(ds._source_json(names)).collect()]
    assert got == [orjson.dumps({"file": n, "line": i + 1}).decode() for i, n in enumerate(names)]


def test_display_names_follow_the_local_batch() -> None:
    files = ["file:///data/b.jsonl", "file:/data/more/x%20y.jsonl", "s3a://bucket/k.jsonl", "file:/data/more/a.jsonl"]
    assert ds.display_names(files, []) == [
        ("/data/b.jsonl", "/data/b.jsonl"),
        ("/data/more/a.jsonl", "/data/more/a.jsonl"),
        ("/data/more/x y.jsonl", "/data/more/x y.jsonl"),
        ("s3a://bucket/k.jsonl", "s3a://bucket/k.jsonl"),
    ]


# --- the command line --------------------------------------------------------------------


def _parts(folder: Path) -> list[str]:
    return [line for p in sorted(folder.glob("part-*")) for line in p.read_text(encoding="utf-8").splitlines()]


def test_batch_engine_spark_writes_the_local_lines_and_prints_the_same_summary(
    spark: SparkSession, files: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local: Local = files["local"]
    out, errs = tmp_path / "reports", tmp_path / "errors"
    args = ["batch", "--engine", "spark", *files["spark"], "-o", out, "-e", errs, "--max-bytes", str(MAX_BYTES)]
    code, stdout, stderr = cli(capsys, *args, "--summary", "--format", "json")
    assert code == 0, stderr
    assert stdout == render_json(local.summary)
    assert (
        stderr.splitlines()[-1]
        == f"read {local.outcome.read:,} records = {local.outcome.diagnosed:,} diagnosed + {local.outcome.rejected:,} rejected"
    )
    assert sorted(_parts(out)) == sorted(local.lines)
    assert sorted(_parts(errs)) == sorted(local.errors)
    # without --errors, each rejected record is one line on standard error, in input order, as locally
    folder = files["spark"][1]
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", folder, "-o", tmp_path / "r2")
    assert code == 0
    shown = [line for line in stderr.splitlines() if line.startswith("rejected: ")]
    expected = [json.loads(e)["source"] for e in local.errors if json.loads(e)["source"]["file"].startswith(folder)]
    assert shown and [line.split(": ")[1] for line in shown] == [f"{e['file']}:{e['line']}" for e in expected]
    assert "help: use --errors FOLDER" in stderr
    for written in (out, errs, tmp_path / "r2"):  # as Spark's text writer leaves a folder: part files and _SUCCESS
        names = {p.name for p in written.iterdir() if not p.name.startswith(".")}
        assert "_SUCCESS" in names and all(n == "_SUCCESS" or re.fullmatch(r"part-\d{5}-[0-9a-f-]{36}-c000\.txt", n) for n in names)


def test_batch_engine_spark_writes_parquet_and_reads_parquet(
    spark: SparkSession, pack: CompiledPack, files: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local: Local = files["local"]
    out, folder = tmp_path / "reports.parquet", files["spark"][1]
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", folder, "-o", out, "--fail-on-rejects")
    assert code == 1 and "record(s) rejected (--fail-on-rejects)" in stderr  # the output is written all the same
    back = spark.read.parquet(str(out))
    assert back.columns == [*ds.SOURCE_COLUMNS, *ds.RESULT_COLUMNS]
    reports = [line for line in local.lines if json.loads(line)["source"]["file"].startswith(folder)]
    rejected = [line for line in local.errors if json.loads(line)["source"]["file"].startswith(folder)]
    assert back.count() == len(reports) + len(rejected) == 799 and back.where("error is not null").count() == len(rejected)
    # the Parquet rows hold the reports: each local line is its report_json with the source added
    assert sorted(
        r["report_json"][:-1] + "," + _source(line) + "}"
        for r, line in zip(back.where("error is null").orderBy("source_file", "source_line").collect(), reports, strict=True)
    ) == sorted(reports)
    # Parquet in: a column of snapshot JSON, or the contract's fields as columns
    texts = spark.createDataFrame([(t, "x") for t in files["clean"][:40]], "snapshot string, other string")
    texts.write.parquet(str(tmp_path / "json.parquet"))
    spark.read.json(texts.rdd.map(lambda r: r["snapshot"])).write.parquet(str(tmp_path / "columns.parquet"))
    want = sorted((json.loads(_local_report(pack, json.loads(t))) for t in files["clean"][:40]), key=lambda r: r["snapshot"]["account_id"])
    for name in ("json.parquet", "columns.parquet"):
        code, _, stderr = cli(capsys, "batch", "--engine", "spark", tmp_path / name, "-o", tmp_path / f"out-{name}")
        assert code == 0 and stderr.splitlines()[-1] == "read 40 records = 40 diagnosed + 0 rejected"
        rows = spark.read.parquet(str(tmp_path / f"out-{name}")).collect()
        assert len({(r["source_file"], r["source_line"]) for r in rows}) == 40 and min(r["source_line"] for r in rows) == 1
        got = sorted((json.loads(r["report_json"]) for r in rows), key=lambda r: r["snapshot"]["account_id"])
        assert got == want  # as data: the inferred schema of the columns may write whole numbers as doubles


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resume", "-o", "OUT"], "--resume is for the local engine"),
        (["--workers", "2", "-o", "OUT"], "--workers is for the local engine"),
        ([], "--engine spark needs --output"),
        (["-o", "EXISTING"], "already exists"),
    ],
)
def test_batch_engine_spark_usage_errors(
    files: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    (tmp_path / "EXISTING").mkdir()
    args = [str(tmp_path / a) if a in ("OUT", "EXISTING") else a for a in extra]
    code, stdout, stderr = cli(capsys, "batch", "--engine", "spark", files["spark"][0], *args)
    assert (code, stdout) == (2, "") and message in stderr


def test_batch_engine_spark_refuses_what_spark_cannot_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one = default_examples() / "healthy.json"
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", one, "-o", tmp_path / "o")
    assert code == 2 and "a .json file holds one snapshot: that is for the local engine" in stderr
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", "-", "-o", tmp_path / "o")
    assert code == 2 and "standard input is for the local engine" in stderr
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", tmp_path / "nothing.jsonl", "-o", tmp_path / "o")
    assert code == 2 and "no such file or folder" in stderr
    code, _, stderr = cli(capsys, "batch", one, "--master", "local[2]")
    assert code == 2 and "--master is for --engine spark" in stderr


def test_batch_engine_spark_by_and_flat(
    files: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str], pack: CompiledPack
) -> None:
    folder = files["spark"][1]
    args = ["batch", "--engine", "spark", folder, "-o", tmp_path / "r", "--summary", "-f", "json", "--by", "region,month"]
    code, stdout, stderr = cli(capsys, *args, "--flat", tmp_path / "flat", "--html", tmp_path / "s.html")
    assert code == 0, stderr
    data = json.loads(stdout)
    assert data["segments"]["reconciled"] and sum(s["accounts"] for s in data["segments"]["segments"]) == data["counts"]["diagnosed"]
    assert "flat export: " in stderr and {p.name for p in (tmp_path / "flat").iterdir()} == {
        "accounts.csv", "accounts.parquet", "findings.csv", "findings.parquet"
    }  # fmt: skip
    assert 'data-chart="heatmap"' in (tmp_path / "s.html").read_text(encoding="utf-8")
    code, _, stderr = cli(capsys, "batch", "--engine", "spark", folder, "-o", tmp_path / "r2", "--summary", "--by", "credit.score")
    assert code == 2 and "on Spark, --by takes the segments the reports echo" in stderr
