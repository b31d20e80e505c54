"""`diagnose batch --engine spark`: the batch on Apache Spark, JSON Lines or Parquet in, Parquet or JSON Lines out, the same summary."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.cli.output import closing_checks, closing_counts, flat_done, show_summary
from diagnose.cli.plain import Engine, err
from diagnose.errors import DiagnoseError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from pyspark.sql import SparkSession

    from diagnose.portfolio.segments import By
    from diagnose.portfolio.summary import SummaryFormat


def spark_path(path: Path) -> str:
    """An --output given as a URI: the Path type folds `s3a://bucket/x` into `s3a:/bucket/x`; put the authority back."""
    text = str(path)
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)", r"\1://", text) if not text.startswith("file:") else text


def _is_local(path: str) -> bool:
    return "://" not in path and not path.startswith("file:")


def session(master: str | None, *, progress: bool) -> tuple[SparkSession, bool]:
    """The active Spark session (spark-submit's, or a caller's), else a new one; True when it was made here."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError(
            "--engine spark needs PySpark, which is not installed", hint="pip install 'diagnose[spark]' (Spark also needs Java 17 or newer)"
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # started by spark-submit, which set the master
    if (master.startswith("local") if master else not submitted) and "PYSPARK_PYTHON" not in os.environ:
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers run this Python, where diagnose is installed
    builder = SparkSession.builder.appName("diagnose batch").config("spark.ui.showConsoleProgress", str(progress).lower())
    if master:
        builder = builder.master(master)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise UsageError(
            f"cannot start Spark: {_first_line(exc)}", hint="Spark needs Java 17 or newer: put java on the PATH or set JAVA_HOME"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True


def _first_line(exc: BaseException) -> str:
    """What went wrong in one line: the exception's own line, or for a Python worker's traceback, its last line."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    return lines[0]


def _changed() -> re.Pattern[str]:
    from diagnose.portfolio.lines import CHANGED

    return re.compile(
        r"diagnose: (?P<file>.+?) (?:changed after its lines were counted \(block at byte (?P<at>\d+)\)"
        r"|\(block at byte (?P<at2>\d+)\) was not in the line count); " + re.escape(CHANGED)
    )


def _spark_error(exc: Exception) -> DiagnoseError:
    """An error Spark raised, as one of ours: a usage error for paths, else a failed batch."""
    from diagnose.portfolio.batch import BatchFailed

    message = _first_line(exc)
    if "PATH_NOT_FOUND" in message or "Path does not exist" in message:
        return UsageError(f"Spark cannot read an input: {message}")
    if "PATH_ALREADY_EXISTS" in message or "already exists" in message:
        return UsageError(f"Spark will not write over an existing folder: {message}", hint="remove it or choose another --output")
    changed = _changed().search(message)
    if changed is not None:  # a task found a file other than the one counted (portfolio/spark.py, portfolio/lines.py): exit 4, as locally
        from diagnose.outputs import changed as file_changed

        at = changed["at"] or changed["at2"]
        return file_changed(
            changed["file"],
            f"its lines were counted before the job, and differ from byte {at}",
            "run the batch again on files that are not being written",
        )
    return BatchFailed(f"the Spark job failed: {message}", hint="the Spark driver's log has the details")


def batch_on_spark(
    inputs: list[str],
    *,
    output: Path | None,
    errors: Path | None,
    master: str | None,
    engine: Engine,
    workers: int | None,
    resume: bool,
    fail_on_rejects: bool,
    summary: bool,
    fmt: SummaryFormat,
    html: Path | None,
    pairs: int,
    lang: str,
    rules: Path | None,
    max_bytes: int,
    quiet: bool,
    by: By,
    flat: Path | None,
) -> None:
    """Run `diagnose batch` on Spark and print what the local batch prints: rejections, counts, the summary."""
    from diagnose import load_pack
    from diagnose.cli.output import slices
    from diagnose.portfolio.summary import pack_labels

    if engine is not Engine.spark:
        raise UsageError("--master is for --engine spark")
    if resume:
        raise UsageError("--resume is for the local engine", hint="a Spark job writes its output when it succeeds; rerun it whole")
    if workers is not None:
        raise UsageError(
            "--workers is for the local engine",
            hint="on Spark the cluster sets the parallelism: --master local[N], or spark-submit's --num-executors and --executor-cores",
        )
    if output is None:
        raise UsageError(
            "--engine spark needs --output: the folder Spark writes", hint="name it *.parquet for Parquet, else JSON Lines is written"
        )
    out, errs = spark_path(output), spark_path(errors) if errors is not None else None
    if errs is not None and errs == out:
        raise UsageError("--output and --errors are the same folder")
    flat_out = spark_path(flat) if flat is not None else None
    for target in (out, errs, flat_out):
        if target is not None and _is_local(target) and Path(target).exists():
            raise UsageError(
                "already exists", source=target, hint="Spark writes a new folder of part files and does not replace one: remove it first"
            )
    from diagnose.portfolio.spark import check_paths

    check_paths(inputs)
    pack = load_pack(rules)
    by.check(n for n, _ in pack.segments)
    if by.echoed(pack.segments):
        raise UsageError(
            f"--by {', '.join(by.echoed(pack.segments))}: on Spark, --by takes the segments the reports echo and the as_of periods",
            hint=f"the pack's segments: {', '.join(n for n, _ in pack.segments)}; a pack adds facts to them under `segments` in pack.yaml",
        )
    asked, by = bool(by), slices(by, html, pack.segments)
    spark, created = session(master, progress=not quiet and sys.stderr.isatty())
    kept: Any = None
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import functions as F

        from diagnose.portfolio.spark import FileResults, diagnose_files, error_lines, rejected_rows, tally_results, write_lines

        try:
            # each task counts the summary as a local worker does, into an accumulator: the results are diagnosed once, by the write
            results = diagnose_files(spark, inputs, pack=pack, lang=lang, max_bytes=max_bytes, count=by)
            if out.endswith(".parquet"):
                results.frame.write.parquet(out)
                # the rest reads the Parquet written: the error report's columns of the rejected rows
                written = FileResults(spark.read.parquet(out), results.files)
                if errs is not None:
                    written.frame.where(F.col("error_json").isNotNull()).select(error_lines(written)).write.text(errs)
                rejected = rejected_rows(written, internal=errs is not None)
            else:
                if flat_out is not None:  # the flat export reads the results again
                    results = kept = results.persist()
                written = results
                rejected = write_lines(results, out, errs, rejected="internal" if errs is not None else "all")
            totals = tally_results(results, by=by)
            if flat_out is not None:
                from diagnose.portfolio.spark_portfolio import write_flat

                accounts, findings = write_flat(written.frame, flat_out, [n for n, _ in pack.segments], written.order())
            if totals.internal if errs is not None else totals.rejected:  # a job only for lines there are
                for line in _rejections(rejected()):
                    err(line)
        except PySparkException as exc:
            raise _spark_error(exc) from None
    finally:
        if kept is not None:
            kept.unpersist()
        if created:
            spark.stop()

    closing_counts(
        totals.read,
        totals.diagnosed,
        totals.rejected,
        resumed_after=None,
        errors_kept=errs is not None,
        errors_flag="FOLDER",
        lang="zh" if lang == "zh" else "en",
    )
    if flat_out is not None:
        flat_done(accounts, findings, flat_out, "zh" if lang == "zh" else "en")
    if summary:
        made = totals.summary(pairs, labels=pack_labels(pack, lang))
        show_summary(made, fmt, html, to_stdout=True, lang=lang, inputs=inputs, asked=asked)
    closing_checks(totals.internal, totals.rejected, fail_on_rejects=fail_on_rejects)


def _rejections(rows: Iterable[tuple[str, int, str]]) -> Iterator[str]:
    """The local batch's standard-error line of each rejected record."""
    for file, line, text in rows:
        if text.startswith("internal error: "):
            yield f"internal error: {file}:{line}: {text.removeprefix('internal error: ')}"
        else:
            yield f"rejected: {file}:{line}: {text}"
