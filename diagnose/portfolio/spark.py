"""Diagnose snapshots inside Apache Spark: DataFrames in, one result row per snapshot out, and the portfolio summary from Spark aggregations.

The diagnosis itself is the local batch's (`batch.Diagnoser`: the same parsing, validation,
engine and report JSON), run per partition with `mapInArrow` in the executors' Python workers.
The pack travels as its content (the plain JSON of `CompiledPack.data`, broadcast once) and is
compiled once per Python worker, which Spark reuses for task after task. For files, each task
can also count its records as a local worker counts its chunk (`diagnose_files(count=...)`),
and hand the counts back in an accumulator, so that the summary needs no pass over the reports;
`write_lines` writes the reports and the error report in one job. Nothing depends on the
wall clock, hash seeds, partitioning or the order tasks run in: a record's row is a function of
the record and the pack alone.

A result row: `account_id`, `verdict`, `top_rule_id`, `top_family`, `rule_ids` (every fired
rule, best first), `report_json` (byte for byte what `diagnose batch` writes for the record,
without its `source`), and for a record that gives no report, `error` (one line) and
`error_json` (the local error report's record, without its `source`). Rejected records are
rows like the others: nothing is dropped. Source columns come first: the input's own columns
for a DataFrame, `source_file` and `source_line` for files.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote, urlparse

import orjson

from diagnose.errors import InvalidInput, Problem, UsageError
from diagnose.portfolio.batch import RAW_CHARS, Diagnoser, RawRecord, Rejected, Source, tune_gc
from diagnose.portfolio.lines import CHANGED, LineIndex
from diagnose.portfolio.segments import By
from diagnose.portfolio.summary import Summary, Tally, reject_reason, summarize
from diagnose.snapshot.reader import MAX_BYTES
from diagnose.userdocs import see

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from diagnose.api import CompiledPack
    from diagnose.records import Report

RESULT_COLUMNS = ("account_id", "verdict", "top_rule_id", "top_family", "rule_ids", "report_json", "error", "error_json")
SOURCE_COLUMNS = ("source_file", "source_line")
SNAPSHOT = "snapshot"
"""The default name of the snapshot column of a DataFrame (JSON text, binary JSON, or a struct)."""
INTERNAL_HINT = "this is a bug in diagnose; please report it with this record"

_FILE, _BLOCK, _ROW, _VALUE = "__diagnose_file", "__diagnose_block", "__diagnose_row", "__diagnose_snapshot"
_KIND = "diagnose_output"
"""The column (and the staging folders `reports/diagnose_output=...`) that tells `write_lines` which output a line goes to."""


class Result(NamedTuple):
    """One record's row: the report's headline and JSON, or why there is none."""

    account_id: str | None
    verdict: str | None
    top_rule_id: str | None
    top_family: str | None
    rule_ids: list[str] | None
    report_json: str | None
    error: str | None
    error_json: str | None


# --- one record (in an executor) ---------------------------------------------------------


def rejection(rejected: Rejected) -> Result:
    """The row of a record that gave no report: its one-line message and its error record without `source`."""
    return _rejection(rejected, rejected.to_dict())


def _rejection(rejected: Rejected, record: dict[str, Any]) -> Result:
    del record["source"]
    return Result(None, None, None, None, None, None, _message(rejected), orjson.dumps(record).decode())


def _message(rejected: Rejected) -> str:
    """Why a record gave no report, in one line (the column `error`)."""
    if rejected.kind == "internal_error":
        return "internal error: " + (rejected.problems[0].message if rejected.problems else "unknown")
    shown = "; ".join(str(p) for p in rejected.problems[:3]) or "invalid record"
    more = len(rejected.problems) - 3
    return shown + (f" (and {more} more)" if more > 0 else "")


class RowDiagnoser:
    """One snapshot (JSON bytes) to one `Result`, exactly as `diagnose batch` diagnoses a record."""

    def __init__(self, pack: CompiledPack, *, lang: str = "en", max_bytes: int = MAX_BYTES) -> None:
        self.diagnoser = Diagnoser(pack, lang=lang, max_bytes=max_bytes)

    def outcome(self, data: bytes | None, source: Source, size: int | None = None) -> Report | Rejected:
        """The record's report, or why there is none (a bug in diagnose included: it must not lose the other records)."""
        if data is None:
            return Rejected(source, (Problem("", "no snapshot: the value is null"),))
        rec = RawRecord(source.file, source.line, data, len(data) if size is None else size)
        try:
            out = self.diagnoser.one(rec)
        except Exception as exc:  # a bug on one record must not lose the others (as in the local batch)
            bug = InvalidInput([Problem("", f"{type(exc).__name__}: {exc}")], hint=INTERNAL_HINT)
            return replace(Rejected.from_error(rec, bug), kind="internal_error")
        if isinstance(out, InvalidInput):
            return Rejected.from_error(rec, out)
        return out

    def result(self, data: bytes | None, source: Source, size: int | None = None) -> Result:
        out = self.outcome(data, source, size)
        if isinstance(out, Rejected):
            return rejection(out)
        top = out.findings[0] if out.findings else None
        return Result(
            out.snapshot.account_id,
            out.verdict,
            top.rule_id if top else None,
            top.family if top else None,
            [f.rule_id for f in out.findings],
            out.to_json(indent=False),
            None,
            None,
        )


def line_record(line: bytes, max_bytes: int) -> tuple[bytes, int] | None:
    """A line of a JSON Lines file (without its newline) as the local batch reads it: data and size, None when blank.

    A line longer than the local reader's limit is kept short (its start, for the error report)
    with its full size, newline included, so that it is rejected with the same message.
    """
    if len(line) > max_bytes + 1:
        return line[: RAW_CHARS * 4], len(line) + 1
    data = line.strip()
    return (data, len(data)) if data else None


# --- a struct row as the JSON object of the contract -------------------------------------


def _plain_converter(t: pa.DataType, nonfinite: list[bool]) -> Callable[[Any], Any]:
    """A function from a value of Arrow type ``t`` (as pyarrow gives it) to JSON data: objects lose their nulls,
    dates become YYYY-MM-DD, times RFC 3339 with the offset of Spark's session time zone."""
    import pyarrow as pa

    if pa.types.is_struct(t):
        fields = [(t.field(i).name, _plain_converter(t.field(i).type, nonfinite)) for i in range(t.num_fields)]
        return lambda v: {name: conv(v[name]) for name, conv in fields if v[name] is not None}
    if pa.types.is_map(t):
        key, item = _plain_converter(t.key_type, nonfinite), _plain_converter(t.item_type, nonfinite)
        return lambda v: {str(key(k)): item(x) for k, x in v if x is not None}
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        elem = _plain_converter(t.value_type, nonfinite)
        return lambda v: [None if x is None else elem(x) for x in v]
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        return lambda v: v.isoformat()
    if pa.types.is_decimal(t):
        return lambda v: int(v) if v == v.to_integral_value() else float(v)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return lambda v: v.decode("utf-8", errors="replace")
    if pa.types.is_floating(t):

        def number(v: float) -> float:
            if not math.isfinite(v):
                nonfinite[0] = True
            return v

        return number
    return lambda v: v


def struct_encoder(t: pa.DataType) -> Callable[[Any], bytes | None]:
    """The JSON text of struct values of Arrow type ``t``, as the contract expects it (None for a null struct).

    NaN and infinities are written as such, so that they are rejected as in a JSON Lines file
    rather than silently becoming null.
    """
    nonfinite = [False]
    convert = _plain_converter(t, nonfinite)

    def encode(value: Any) -> bytes | None:
        if value is None:
            return None
        nonfinite[0] = False
        data = convert(value)
        if not nonfinite[0]:
            try:
                return orjson.dumps(data)
            except orjson.JSONEncodeError:  # a whole number beyond 64 bits: let the reader name it
                pass
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()

    return encode


# --- the task (in an executor's Python worker) -------------------------------------------


class _Shipped:
    """Data the driver sends to every task: broadcast once per executor when there is a SparkContext, else in the closure."""

    def __init__(self, session: SparkSession, value: Any) -> None:
        self.broadcast: Any = None
        self.inline: Any = None
        try:
            self.broadcast = session.sparkContext.broadcast(value)
        except Exception:  # Spark Connect has no SparkContext: the value goes with the function
            self.inline = value

    @property
    def value(self) -> Any:
        return self.inline if self.broadcast is None else self.broadcast.value


@dataclass(frozen=True)
class Plan:
    """What a task needs: the pack's content, the options, and how to read its input columns."""

    pack: _Shipped
    digest: str
    lang: str
    max_bytes: int
    kind: str
    """`json` (text or bytes of one snapshot), `struct` (the snapshot as a struct) or `lines` (lines of JSON Lines files)."""
    keep: tuple[str, ...] = ()
    files: _Shipped | None = None
    """Source file names by normalised path, and for `lines`, the first line number of each (file, block start)."""
    large: bool = False
    """Spark sends strings as large_string (spark.sql.execution.arrow.useLargeVarTypes)."""
    count: By | None = None
    """Count the summary in the tasks, sliced by this (files only), into `tallies`."""
    tallies: Any = None
    """The accumulator the tasks add their counts to: {(file name, where the block starts): (lines, counts)}."""
    outputs: frozenset[str] | None = None
    """For `write_lines`: rows of (`value`, `diagnose_output`) rather than results, the lines of these outputs
    (`report`, `error`, and `rejected` for every rejected record or `internal` for the internal errors only)."""

    @classmethod
    def make(
        cls,
        session: SparkSession,
        pack: CompiledPack,
        *,
        kind: str,
        lang: str = "en",
        max_bytes: int = MAX_BYTES,
        keep: Sequence[str] = (),
        files: Any = None,
        count: By | None = None,
        tallies: Any = None,
    ) -> Plan:
        """A plan whose pack content (and file names) are broadcast by ``session``."""
        return cls(
            _Shipped(session, orjson.dumps(pack.data)),
            str(pack.data["digest"]),
            lang,
            max_bytes,
            kind,
            tuple(keep),
            _Shipped(session, files) if files is not None else None,
            _large(session),
            count,
            tallies,
        )

    def compiled(self) -> RowDiagnoser:
        key = (self.digest, self.lang, self.max_bytes)
        found = _COMPILED.get(key)
        if found is None:
            from diagnose.api import CompiledPack

            found = _COMPILED[key] = RowDiagnoser(CompiledPack(orjson.loads(self.pack.value)), lang=self.lang, max_bytes=self.max_bytes)
            tune_gc()  # a Spark Python worker is a home for packs, as a local batch worker is: the same collector settings
        return found


# Spark reuses each Python worker for task after task (spark.python.worker.reuse, on by default):
# the compiled pack is kept here between them, so it is compiled once per worker, not per task.
_COMPILED: dict[tuple[str, str, int], RowDiagnoser] = {}


def normal_path(uri: str) -> str:
    """A file as Spark names it (`file:/x`, `file:///x`, `s3a://b/x`) in one form: local paths plain, others as given."""
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    return uri


class Sources:
    """Names and line numbers of the records of one task, as the local batch gives them."""

    def __init__(self, files: dict[str, Any] | None) -> None:
        self.names: dict[str, str] = files["names"] if files else {}
        self.first: dict[str, dict[int, int]] = files["first_lines"] if files else {}
        self.index: dict[str, LineIndex] = (files.get("index") or {}) if files else {}
        """Files whose blocks are numbered from their bytes (`lines.LineIndex`), not by a first pass."""
        self.seen: dict[str, str] = {}
        self.next_line: dict[tuple[str, int], int] = {}

    def name(self, uri: str) -> str:
        found = self.seen.get(uri)
        if found is None:
            path = normal_path(uri)
            found = self.seen[uri] = self.names.get(path, path)
        return found

    def line(self, uri: str, block: int) -> int:
        """The number of the next line of this file's block: rows of a block arrive in file order."""
        key = (uri, block)
        n = self.next_line.get(key)
        if n is None:
            path = normal_path(uri)
            blocks = self.first.setdefault(path, {})
            n = blocks.get(block)
            if n is None:
                index = self.index.get(path)
                if index is None:
                    raise RuntimeError(f"diagnose: {uri} (block at byte {block}) was not in the line count; {CHANGED}")
                n = blocks[block] = index.first_line(block)
        self.next_line[key] = n + 1
        return n


class _Columns:
    """The result columns of one Arrow batch, filled record by record: a report's JSON stays the bytes the engine wrote."""

    def __init__(self) -> None:
        self.columns: tuple[list[Any], ...] = tuple([] for _ in RESULT_COLUMNS)

    def add(self, out: Report | Rejected, source: Source | None = None) -> dict[str, Any] | None:
        """Add a record's row; for a rejected one, return its error record (without `source`), for its reason."""
        account, verdict, top_rule, top_family, rule_ids, report, error, error_json = self.columns
        if isinstance(out, Rejected):
            record = out.to_dict()
            row = _rejection(out, record)
            for column, value in zip(self.columns, row, strict=True):
                column.append(value)
            return record
        findings = out.findings
        account.append(out.snapshot.account_id)
        verdict.append(out.verdict)
        top_rule.append(findings[0].rule_id if findings else None)
        top_family.append(findings[0].family if findings else None)
        rule_ids.append([f.rule_id for f in findings])
        report.append(out.to_json_bytes())
        error.append(None)
        error_json.append(None)
        return None

    def arrays(self, large: bool) -> list[pa.Array]:
        import pyarrow as pa

        text = pa.large_string() if large else pa.string()
        types = [text, text, text, text, pa.list_(text), text, text, text]
        return [pa.array(col, type=t) for col, t in zip(self.columns, types, strict=True)]


class _Lines:
    """The lines `write_lines` writes, record by record, as the local batch writes them: rows of (line, output)."""

    def __init__(self, diagnoser: Diagnoser, outputs: frozenset[str]) -> None:
        self.diagnoser = diagnoser
        self.outputs = outputs
        self.columns: tuple[list[bytes], list[str]] = ([], [])

    def add(self, out: Report | Rejected, source: Source | None = None) -> dict[str, Any] | None:
        """Add the record's lines; for a rejected one, return its error record, for its reason."""
        assert source is not None
        values, outputs = self.columns
        if not isinstance(out, Rejected):
            values.append(self.diagnoser.line(RawRecord(source.file, source.line, b"", 0), out)[:-1])  # write.text adds the newline
            outputs.append("report")
            return None
        record = out.to_dict()
        if "error" in self.outputs:
            values.append(orjson.dumps(record))
            outputs.append("error")
        if "rejected" in self.outputs or ("internal" in self.outputs and out.kind == "internal_error"):
            values.append(orjson.dumps({"source_file": source.file, "source_line": source.line, "error": _message(out)}))
            outputs.append("rejected")
        return record

    def batch(self, large: bool) -> pa.RecordBatch:
        import pyarrow as pa

        text = pa.large_string() if large else pa.string()
        return pa.RecordBatch.from_arrays([pa.array(c, type=text) for c in self.columns], names=["value", _KIND])


class _Counts:
    """What one block of input gave, counted in the task as a local batch worker counts its chunk, so that the
    summary needs no second look at the reports: records, rejections and their reasons, the tally of the reports."""

    def __init__(self, file: str, at: int, by: By) -> None:
        self.file = file
        self.at = at
        """Where the block is in its file: its first byte (JSON Lines), or its first row's number (Parquet)."""
        self.lines = 0
        """Lines of the block, blank ones included (JSON Lines), or its rows (Parquet): what was counted before the job."""
        self.read = self.rejected = self.internal = 0
        self.tally = Tally(by=by)
        self.reasons: Counter[str] = Counter()

    def add(self, out: Report | Rejected, record: dict[str, Any] | None) -> None:
        self.read += 1
        if not isinstance(out, Rejected):
            self.tally.add_report(out)
            return
        self.rejected += 1
        self.internal += out.kind == "internal_error"
        self.reasons[reject_reason(record or {})] += 1

    def dump(self) -> bytes:
        data = (self.read, self.rejected, self.internal, self.tally, self.reasons)
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)


class _Task:
    """One task's state: the compiled pack, source names and line numbers, and the counts per block."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rows = plan.compiled()
        self.sources = Sources(plan.files.value if plan.files is not None else None)
        self.counts: dict[tuple[str, int], _Counts] = {}

    def counter(self, uri: str, block: int, at: int) -> _Counts | None:
        if self.plan.count is None:
            return None
        found = self.counts.get((uri, block))
        if found is None:
            found = self.counts[(uri, block)] = _Counts(self.sources.name(uri), at, self.plan.count)
        return found

    def collector(self) -> _Columns | _Lines:
        return _Columns() if self.plan.outputs is None else _Lines(self.rows.diagnoser, self.plan.outputs)

    def text(self) -> pa.DataType:
        import pyarrow as pa

        return pa.large_string() if self.plan.large else pa.string()

    def lines(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Lines of JSON Lines files: numbered, blank ones skipped, each diagnosed as the local batch reads it."""
        import pyarrow as pa

        names: list[str] = []
        numbers: list[int] = []
        out = self.collector()
        outcome, sources, max_bytes = self.rows.outcome, self.sources, self.plan.max_bytes
        key: tuple[str, int] | None = None
        counts: _Counts | None = None
        columns = (batch.column(_VALUE).to_pylist(), batch.column(_FILE).to_pylist(), batch.column(_BLOCK).to_pylist())
        for raw, uri, block in zip(*columns, strict=True):
            number = sources.line(uri, block)
            rec = line_record(raw, max_bytes)
            if rec is None:  # a blank line: counted, not a record
                continue
            source = Source(sources.name(uri), number)
            names.append(source.file)
            numbers.append(number)
            result = outcome(rec[0], source, rec[1])
            record = out.add(result, source)
            if key != (uri, block):
                key, counts = (uri, block), self.counter(uri, block, block)
            if counts is not None:
                counts.add(result, record)
        if isinstance(out, _Lines):
            return out.batch(self.plan.large)
        head = [pa.array(names, type=self.text()), pa.array(numbers, type=pa.int64())]
        return pa.RecordBatch.from_arrays([*head, *out.arrays(self.plan.large)], names=[*SOURCE_COLUMNS, *RESULT_COLUMNS])

    def rows_of(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Rows of a DataFrame (or a Parquet file): one snapshot each, as JSON or a struct; kept columns pass through as they are."""
        import pyarrow as pa

        values = batch.column(_VALUE)
        encode = struct_encoder(values.type) if self.plan.kind == "struct" else None
        data = [encode(v) for v in values.to_pylist()] if encode is not None else values.to_pylist()
        out = self.collector()
        head: list[pa.Array] = []
        out_names = [*self.plan.keep, *RESULT_COLUMNS]
        if _FILE in batch.schema.names:  # a Parquet file: its name, and the row's number in it
            uris = batch.column(_FILE).to_pylist()
            names = [self.sources.name(uri) for uri in uris]
            lines = [row + 1 for row in batch.column(_ROW).to_pylist()]
            for d, uri, name, line in zip(data, uris, names, lines, strict=True):
                source = Source(name, line)
                result = self.rows.outcome(d, source)
                record = out.add(result, source)
                counts = self.counter(uri, 0, line)
                if counts is not None:
                    counts.add(result, record)
            head = [pa.array(names, type=self.text()), pa.array(lines, type=pa.int64())]
            out_names = [*SOURCE_COLUMNS, *out_names]
        else:
            for i, d in enumerate(data):
                out.add(self.rows.outcome(d, Source("", i + 1)))
        if isinstance(out, _Lines):
            return out.batch(self.plan.large)
        keep = [batch.column(name) for name in self.plan.keep]
        return pa.RecordBatch.from_arrays([*head, *keep, *out.arrays(self.plan.large)], names=out_names)

    def hand_back(self) -> None:
        """Add the counts of every block the task read to the plan's accumulator: {(file, start): (lines, counts)}.

        Spark adds the accumulator updates of a task that succeeds, and may run a task again
        (a lost executor, speculation); the counts of a block are the same each time, and the
        accumulator keeps one value per block (`_OnePerBlock`), so a block never counts twice.
        """
        if self.plan.count is None or self.plan.tallies is None:
            return
        lines = self.plan.kind == "lines"
        for (uri, block), end in self.sources.next_line.items():  # blocks of blank lines too: their lines count
            counts = self.counter(uri, block, block)
            if counts is not None and lines:
                counts.lines = end - self.sources.first[normal_path(uri)][block]
        blocks = {}
        for c in self.counts.values():
            blocks[(c.file, c.at)] = (c.lines if lines else c.read, c.dump())
        self.plan.tallies.add(blocks)


def arrow_task(plan: Plan) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The function `mapInArrow` runs on each partition: record batches of input to record batches of results.

    With `plan.count`, the task's counts (per block of input) go to the accumulator `plan.tallies`
    when it has read its last batch, as the local batch's workers hand back a tally with each chunk.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        task = _Task(plan)
        convert = task.lines if plan.kind == "lines" else task.rows_of
        for batch in batches:
            yield convert(batch)
        task.hand_back()

    return run


# --- the driver side: DataFrames in, DataFrames out --------------------------------------


def _pack(pack: CompiledPack | str | Path | None) -> CompiledPack:
    if pack is None or isinstance(pack, (str, Path)):
        from diagnose import load_pack

        return load_pack(pack)
    return pack


def _output_schema(*, sources: bool = False, keep: StructType | None = None) -> StructType:
    """Source columns (`source_file`, `source_line`) or the kept ones, then the result columns."""
    from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType

    head = [StructField("source_file", StringType()), StructField("source_line", LongType())] if sources else []
    tail = [StructField(name, ArrayType(StringType()) if name == "rule_ids" else StringType()) for name in RESULT_COLUMNS]
    return StructType([*head, *(keep.fields if keep is not None else []), *tail])


def _large(session: SparkSession) -> bool:
    try:
        return (session.conf.get("spark.sql.execution.arrow.useLargeVarTypes") or "false").lower() == "true"
    except Exception:  # an older Spark without the setting
        return False


def snapshot_kind(df: DataFrame, column: str) -> str:
    """`json` for a string or binary column of snapshot JSON, `struct` for a struct column; UsageError otherwise."""
    from pyspark.sql.types import BinaryType, StringType, StructType

    if column not in df.columns:
        raise UsageError(
            f"the DataFrame has no column {column!r}",
            hint=f"its columns: {', '.join(df.columns) or '(none)'}; name the snapshot column with column=",
        )
    dtype = df.schema[column].dataType
    if isinstance(dtype, (StringType, BinaryType)):
        return "json"
    if isinstance(dtype, StructType):
        return "struct"
    raise UsageError(
        f"the column {column!r} is {dtype.simpleString()}",
        hint=f"a snapshot column holds JSON text (string or binary) or a struct that follows {see('snapshot')}",
    )


def diagnose_dataframe(
    df: DataFrame,
    column: str = SNAPSHOT,
    *,
    pack: CompiledPack | str | Path | None = None,
    lang: str = "en",
    max_bytes: int = MAX_BYTES,
    keep: Sequence[str] | None = None,
) -> DataFrame:
    """Diagnose every row of ``df``: its ``column`` holds one snapshot as JSON text (string or binary) or as a struct.

    The result has the ``keep`` columns (default: every other column of ``df``) followed by
    RESULT_COLUMNS, one row per input row. A struct row becomes the JSON object of the
    contract: null fields are left out, dates are written YYYY-MM-DD and timestamps RFC 3339
    with the offset of the session time zone (`spark.sql.session.timeZone`).
    """

    compiled = _pack(pack)
    kind = snapshot_kind(df, column)
    kept = [c for c in df.columns if c != column] if keep is None else list(keep)
    clash = sorted(set(kept) & set(RESULT_COLUMNS))
    if clash:
        raise UsageError(
            f"the kept columns {', '.join(clash)} would clash with the result columns", hint="rename them or leave them out of keep="
        )
    value = _col(column).cast("binary") if kind == "json" else _col(column)
    frame = df.select(value.alias(_VALUE), *[_col(c) for c in kept])
    plan = Plan.make(df.sparkSession, compiled, kind=kind, lang=lang, max_bytes=max_bytes, keep=kept)
    return frame.mapInArrow(arrow_task(plan), _output_schema(keep=frame.drop(_VALUE).schema))


def _col(name: str) -> Column:
    """A column by its name as it is (a dot in it is part of the name, not a field access)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


# --- files -------------------------------------------------------------------------------


def _has_scheme(name: str) -> bool:
    return "://" in name or name.startswith("file:")


def input_format(paths: Sequence[str]) -> str:
    """`parquet` or `jsonl`, from the names (a .parquet name, or a local folder of .parquet files); all must agree."""
    kinds = set()
    for name in paths:
        path = Path(name)
        if name.endswith(".parquet") or (not _has_scheme(name) and path.is_dir() and any(path.glob("*.parquet"))):
            kinds.add("parquet")
        else:
            kinds.add("jsonl")
    if len(kinds) > 1:
        raise UsageError("the inputs mix Parquet and JSON Lines", hint="run one batch per format")
    return kinds.pop() if kinds else "jsonl"


def check_paths(paths: Sequence[str]) -> None:
    """Inputs Spark can read as JSON Lines or Parquet: local ones must exist; single-snapshot .json files are refused."""
    if not paths:
        raise UsageError("no INPUT given", hint="pass JSON Lines or Parquet files or folders (any path Spark can read)")
    for name in paths:
        if name == "-":
            raise UsageError("standard input is for the local engine", hint="with --engine spark, pass files or folders Spark can read")
        if _has_scheme(name) or any(ch in name for ch in "*?["):
            continue
        path = Path(name)
        if not path.exists():
            raise UsageError("no such file or folder", source=name)
        whole = [path] if path.suffix == ".json" else sorted(path.glob("*.json")) if path.is_dir() else []
        if whole and (path.is_file() or not any(p.is_file() and p.suffix != ".json" and p.name[0] not in "._" for p in path.iterdir())):
            raise UsageError(
                "a .json file holds one snapshot: that is for the local engine",
                source=name,
                hint="Spark reads JSON Lines (one snapshot a line, any other name) or Parquet; run `diagnose batch` without --engine spark",
            )


def display_names(files: Iterable[str], paths: Sequence[str]) -> list[tuple[str, str]]:
    """(normalised path, name) of every input file, in the local batch's order: inputs as given, files of a folder by name.

    A file given by name keeps that name; a file inside a given folder is named folder/file,
    as the local batch names them; any other (a glob's match, a remote file) its full path.
    """
    roots = []
    for index, name in enumerate(paths):
        if _has_scheme(name):
            continue
        path = Path(name)
        if path.exists():
            roots.append((index, str(path.resolve()), name, path.is_dir()))
    named = []
    for uri in dict.fromkeys(files):
        local = normal_path(uri)
        rank, shown = len(paths), local
        for index, root, name, is_dir in roots:
            if not is_dir and local == root:
                rank, shown = index, name
                break
            if is_dir and local.startswith(root.rstrip(os.sep) + os.sep):
                rank, shown = index, str(Path(name) / os.path.relpath(local, root))
                break
        named.append((rank, shown, local))
    return [(local, shown) for _, shown, local in sorted(named)]


def block_lines(frame: DataFrame, file: str, block: str) -> dict[str, dict[int, int]]:
    """The lines of every block of every file (by normalised path), blank ones included: one JVM-only count."""
    found: dict[str, dict[int, int]] = {}
    for uri, start, n in frame.groupBy(file, block).count().collect():
        found.setdefault(normal_path(uri), {})[start] = n
    return found


def line_indexes(session: SparkSession, uris: Sequence[str]) -> dict[str, LineIndex] | None:
    """Every input file's `LineIndex` (by normalised path) when Spark runs on this machine and each is a local, uncompressed file; else None.

    On this machine the driver and the tasks read the same files; Hadoop's codec (by the file's
    name, as Spark's text reader picks it) says whether blocks are cut in the file's own bytes.
    Anything else (a cluster, another file system, Spark Connect, a compressed file) is numbered
    by the first pass, `block_lines`.
    """
    try:
        context: Any = session.sparkContext
        if not str(context.master).startswith("local"):
            return None
        jvm = context._jvm
        codecs = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(context._jsc.hadoopConfiguration())
        plain: dict[str, bool] = {}  # by the name's last suffix, which is what picks a codec: one call to the JVM for each
        for uri in uris:
            suffix = uri.rpartition("/")[2].rpartition(".")[2]
            if suffix not in plain:
                plain[suffix] = codecs.getCodec(jvm.org.apache.hadoop.fs.Path(uri)) is None
            if not uri.startswith("file:") or not plain[suffix]:
                return None
        return {normal_path(uri): LineIndex.of(normal_path(uri)) for uri in uris}
    except Exception:  # no SparkContext (Spark Connect), a file gone: the first pass tells
        return None


def first_lines(frame: DataFrame, file: str, block: str, counted: dict[str, dict[int, int]] | None = None) -> dict[str, dict[int, int]]:
    """The number of the first line of every block of every file (by normalised path), from `block_lines` (``counted``, else counted now)."""
    first: dict[str, dict[int, int]] = {}
    for path, blocks in (block_lines(frame, file, block) if counted is None else counted).items():
        line, first[path] = 1, {}
        for start in sorted(blocks):  # counts to first line numbers, block by block in file order
            first[path][start], line = line, line + blocks[start]
    return first


class _OnePerBlock:
    """The accumulator of the tasks' counts, {(file, start): (lines, counts)}: the first value of a block is kept.

    A task that Spark runs twice (a retry after a lost executor, a speculative copy, a job that
    computes the results again) gives the same counts for its blocks, so keeping one makes
    the sum exact however often a block was read.
    """

    def zero(self, value: dict[Any, Any]) -> dict[Any, Any]:
        return {}

    def addInPlace(self, into: dict[Any, Any], more: dict[Any, Any]) -> dict[Any, Any]:  # PySpark's name
        for key, value in more.items():
            into.setdefault(key, value)
        return into


def _accumulator(session: SparkSession) -> Any:
    """An accumulator of `_OnePerBlock`, or None on Spark Connect (no SparkContext: the summary is then aggregated)."""
    try:
        return session.sparkContext.accumulator({}, _OnePerBlock())  # type: ignore[arg-type]
    except Exception:
        return None


@dataclass(frozen=True)
class FileResults:
    """The results of files: the DataFrame, the name of every input file in input order, and what the tasks counted."""

    frame: DataFrame
    files: list[str] = field(default_factory=list)
    by: By | None = None
    """What the tasks' tallies are sliced by (`diagnose_files(count=...)`)."""
    tallies: Any = None
    """The accumulator the tasks add their counts to, as jobs compute `frame`."""
    lines: Mapping[str, int] | None = None
    """The lines (JSON Lines) or rows (Parquet) of every input file by name: what the counts of all its blocks add up to."""
    input: DataFrame | None = None
    """What the tasks read, and their plan: `write_lines` has them write lines rather than results."""
    plan: Plan | None = None

    def persist(self) -> FileResults:
        """Keep the results once computed, for the jobs that follow (`unpersist()` after)."""
        return replace(self, frame=self.frame.persist())

    def unpersist(self) -> None:
        self.frame.unpersist()

    def counts(self, *, run: bool = False) -> list[tuple[str, int, bytes]] | None:
        """The tasks' counts, block by block in input order: (file, where the block starts, counts).

        None when the tasks did not count, or when no job has read every block yet (with ``run``,
        one is run then, to the `noop` sink: a write of `frame` before counts them at no extra cost).
        """
        found = self._counted()
        if found is None and run and self.tallies is not None:
            self.frame.write.format("noop").mode("overwrite").save()
            found = self._counted()
        return found

    def _counted(self) -> list[tuple[str, int, bytes]] | None:
        if self.tallies is None or self.lines is None:
            return None
        blocks: dict[tuple[str, int], tuple[int, bytes]] = self.tallies.value
        seen: Counter[str] = Counter()
        for (name, _), (lines, _) in blocks.items():
            seen[name] += lines
        if +seen != +Counter(self.lines):  # a block not read yet
            return None
        rank = {name: i for i, name in enumerate(self.files)}
        found = [(name, at, data) for (name, at), (_, data) in blocks.items()]
        return sorted(found, key=lambda r: (rank.get(r[0], len(rank)), r[0], r[1]))

    def order(self) -> Column:
        """A column that sorts the rows in the local batch's input order (file, then line)."""
        from pyspark.sql import functions as F

        ranks = F.create_map(*[F.lit(x) for i, name in enumerate(self.files) for x in (name, i)]) if self.files else None
        rank = F.element_at(ranks, F.col("source_file")) if ranks is not None else F.lit(0)
        return F.struct(rank.alias("file"), F.col("source_file").alias("name"), F.col("source_line").alias("line"))


def diagnose_files(
    spark: SparkSession,
    paths: Sequence[str],
    *,
    pack: CompiledPack | str | Path | None = None,
    lang: str = "en",
    max_bytes: int = MAX_BYTES,
    fmt: str | None = None,
    column: str | None = None,
    count: By | None = None,
) -> FileResults:
    """Diagnose JSON Lines or Parquet files (any paths Spark reads: folders, globs, s3a://, .gz): `source_file`, `source_line`, RESULT_COLUMNS.

    Nothing is diagnosed until an action (a write, `write_lines`), which diagnoses afresh each
    time unless the results are kept (`persist()`). With ``count`` (a `By`), each task also
    counts what the local batch's workers count (records, rejections, the tally of its reports
    sliced by ``count``) into an accumulator, so that after a job that computed every row,
    `tally_results` needs no pass over the reports.

    JSON Lines: every non-blank line is a record, numbered as the local batch numbers it (on
    this machine, from the files' bytes, `line_indexes`; else a first, JVM-only pass counts the
    lines of each block of each file). Parquet: the snapshot
    is the column ``column`` (default: `snapshot`), or, when there is no such column and the
    file has the contract's top-level fields (`schema_version`...), the whole row; its line
    is the row's number in its file, from 1.
    """
    from pyspark.sql import functions as F

    compiled = _pack(pack)
    check_paths(paths)
    fmt = fmt or input_format(paths)
    if fmt == "parquet":
        raw = spark.read.parquet(*paths)
        name = column or SNAPSHOT
        if name in raw.columns or column is not None:
            value = _col(name)
            kind = snapshot_kind(raw, name)
        elif "schema_version" in raw.columns:
            value, kind = F.struct(*[_col(c) for c in raw.columns]), "struct"
        else:
            raise UsageError(
                "the Parquet input has no snapshot column",
                hint=f"its columns: {', '.join(raw.columns)}; name the snapshot column `snapshot`, or store the contract's fields as columns",
            )
        if kind == "json":
            value = value.cast("binary")
        frame = raw.select(value.alias(_VALUE), F.col("_metadata.file_path").alias(_FILE), F.col("_metadata.row_index").alias(_ROW))
        names = display_names(raw.inputFiles(), paths)
        files: dict[str, Any] = {"names": dict(names), "first_lines": {}}
        # the rows of each file (read from the footers), to tell when the tasks' counts are complete
        counted = {normal_path(uri): {0: n} for uri, n in frame.groupBy(_FILE).count().collect()} if count is not None else {}
    else:
        raw = spark.read.option("lineSep", "\n").text(list(paths))
        frame = raw.select(
            F.col("value").cast("binary").alias(_VALUE),
            F.col("_metadata.file_path").alias(_FILE),
            F.col("_metadata.file_block_start").alias(_BLOCK),
        )
        kind = "lines"
        names = display_names(raw.inputFiles(), paths)
        index = line_indexes(spark, raw.inputFiles())
        if index is not None:  # the lines counted from the files' bytes (diagnose/portfolio/lines.py), with no first pass
            counted = {path: {0: found.lines} for path, found in index.items()}
            files = {"names": dict(names), "first_lines": {}, "index": index}
        else:
            counted = block_lines(frame, _FILE, _BLOCK)
            files = {"names": dict(names), "first_lines": first_lines(frame, _FILE, _BLOCK, counted)}
    tallies = _accumulator(spark) if count is not None else None
    plan = Plan.make(spark, compiled, kind=kind, lang=lang, max_bytes=max_bytes, files=files, count=count, tallies=tallies)
    shown = dict(names)
    lines = {shown.get(path, path): sum(blocks.values()) for path, blocks in counted.items()}
    results = frame.mapInArrow(arrow_task(plan), _output_schema(sources=True))
    return FileResults(results, [name for _, name in names], count, tallies, lines if tallies is not None else None, frame, plan)


# --- the summary, by Spark aggregations --------------------------------------------------

_FINDINGS = "verdict string, findings array<struct<rule_id:string,family:string,title:string>>"


@dataclass(frozen=True)
class Totals:
    """What a Spark run counted: read = diagnosed + rejected, internal errors among the rejected, and the tally of reports."""

    read: int
    diagnosed: int
    rejected: int
    internal: int
    tally: Tally
    reasons: Counter[str] = field(default_factory=Counter)
    """Rejected records per reason."""

    def summary(self, pairs: int = 10, *, labels: Mapping[str, str] | None = None) -> Summary:
        """The same summary as the local batch's (`summary.summarize`), from these counts."""
        return summarize(self.tally, read=self.read, rejected=self.rejected, pairs=pairs, reasons=self.reasons, labels=labels)


def _items(results: DataFrame, order: Column | None) -> DataFrame:
    """One row per thing to count: (kind, key, key2, family, title) and the result row's order ``o``.

    Built in steps, each a column of the one before, so that Spark parses each report once and
    does not repeat the array functions for every place their result is used.
    """
    from pyspark.sql import Column
    from pyspark.sql import functions as F

    def text(value: Column | str | None) -> Column:
        return value if isinstance(value, Column) else F.lit(value).cast("string")

    def item(
        kind: str, key: Column | str | None = None, key2: Column | None = None, family: Column | None = None, title: Column | None = None
    ) -> Column:
        return F.struct(
            F.lit(kind).alias("kind"),
            text(key).alias("key"),
            text(key2).alias("key2"),
            text(family).alias("family"),
            text(title).alias("title"),
        )

    none = F.filter(F.array(item("none")), lambda _: F.lit(False))
    step = results.select(
        F.from_json(F.col("report_json"), _FINDINGS).alias("r"),
        F.col("error_json").isNotNull().alias("rejected"),
        (F.get_json_object(F.col("error_json"), "$.error") == "internal_error").alias("internal"),
        (order if order is not None else F.lit(None)).alias("o"),
    )
    findings = F.col("r.findings")
    # a malformed report may repeat a cause: count an account once per cause, with its first finding (as Tally.add)
    step = step.select(
        "*", F.filter(findings, lambda f, i: F.array_position(findings.getField("rule_id"), f.getField("rule_id")) == i + 1).alias("d")
    )
    step = step.select(
        "*",
        F.array_sort(F.transform("d", lambda f: f.getField("rule_id"))).alias("ids"),
        F.array_distinct(F.transform("d", lambda f: f.getField("family"))).alias("fams"),
    )
    ids = F.col("ids")
    top = F.element_at(findings, 1)
    reported = F.concat(
        F.array(item("verdict", F.col("r.verdict"))),
        F.when(F.size(findings) == 0, F.array(item("no_cause"))).otherwise(
            F.array(item("top_cause", top.getField("rule_id")), item("top_family", top.getField("family")))
        ),
        F.transform("d", lambda f: item("cause", f.getField("rule_id"), None, f.getField("family"), f.getField("title"))),
        F.transform("fams", lambda fam: item("family", fam)),
        F.flatten(F.transform(ids, lambda a, i: F.transform(F.slice(ids, i + 2, F.size(ids)), lambda b: item("pair", a, b)))),
    )
    items = F.concat(
        F.array(item("read")),
        F.when(F.col("r").isNotNull(), reported).otherwise(none),
        F.when(F.col("rejected"), F.array(item("rejected"))).otherwise(none),
        F.when(F.col("internal"), F.array(item("internal"))).otherwise(none),
    )
    return step.select(F.explode(items).alias("it"), "o").select("it.*", "o")


def tally_results(results: DataFrame | FileResults, *, order: Column | None = None, by: By | None = None) -> Totals:
    """Count a result DataFrame with one Spark aggregation (only a few hundred rows reach the driver).

    `FileResults` whose tasks counted (`diagnose_files(count=by)`, and no other ``order``) need no
    aggregation: the tasks' counts are merged in input order, as the local batch merges its chunks'
    (when no job has computed every row yet, one runs first, to the `noop` sink).
    Otherwise, per family and cause: accounts, times top; verdicts; pairs of causes; read, diagnosed,
    rejected. The title shown for a cause is that of its first report in ``order`` (for
    `FileResults`, the input order, as in the local batch; otherwise the smallest). ``by``
    also counts each segment (`--by`), in one more aggregation.
    """
    from pyspark.sql import functions as F

    from diagnose.portfolio.spark_portfolio import add_context, reasons

    if isinstance(results, FileResults):
        if order is None and results.by == (by or By()):
            counted = results.counts(run=True)
            if counted is not None:
                return _counted(counted, results.by)
        order = order if order is not None else results.order()
        results = results.frame
    exploded = _items(results, order)
    first = F.struct("family", "title")
    pick = F.min_by(first, "o") if order is not None else F.min(first)
    rows = exploded.groupBy("kind", "key", "key2").agg(F.count(F.lit(1)).alias("n"), pick.alias("first")).collect()
    tally = Tally()
    counts: Counter[str] = Counter()
    for row in sorted(rows, key=lambda r: (r["kind"], r["key"] or "", r["key2"] or "")):
        kind, key, n = row["kind"], row["key"], int(row["n"])
        if kind == "verdict":
            tally.verdicts[key] += n
        elif kind == "cause":
            tally.causes[key] += n
            tally.family_of[key] = row["first"]["family"] or ""
            tally.title_of[key] = row["first"]["title"] or ""
        elif kind == "top_cause":
            tally.top_causes[key] += n
        elif kind == "family":
            tally.families[key] += n
        elif kind == "top_family":
            tally.top_families[key] += n
        elif kind == "pair":
            tally.pairs[(key, row["key2"])] += n
        else:
            counts[kind] += n
    tally.diagnosed = sum(tally.verdicts.values())
    tally.no_cause = counts["no_cause"]
    add_context(tally, results, by or By())
    return Totals(
        counts["read"],
        tally.diagnosed,
        counts["rejected"],
        counts["internal"],
        tally,
        reasons(results) if counts["rejected"] else Counter(),
    )


def _counted(blocks: Iterable[tuple[str, int, bytes]], by: By) -> Totals:
    """The totals from the tasks' counts, merged block by block in input order as the local batch merges its chunks."""
    tally = Tally(by=by)
    reasons: Counter[str] = Counter()
    read = rejected = internal = 0
    for _, _, data in blocks:
        n, bad, bugs, part, why = pickle.loads(data)  # written by this module's tasks (arrow_task), never by a user
        read, rejected, internal = read + n, rejected + bad, internal + bugs
        tally.merge(part)
        reasons.update(why)
    return Totals(read, tally.diagnosed, rejected, internal, tally, reasons)


def summarize_results(results: DataFrame | FileResults, *, pairs: int = 10, order: Column | None = None) -> Summary:
    """The portfolio summary of a result DataFrame: the structure every view of `diagnose.summary` renders."""
    return tally_results(results, order=order).summary(pairs)


# --- JSON Lines like the local batch -----------------------------------------------------


def _source_json(files: Sequence[str]) -> Column:
    """`{"file":...,"line":N}` of a row, with the file name escaped exactly as the local batch's orjson does."""
    from pyspark.sql import functions as F

    # Most names need no escaping: quoted as they are. Others Spark's JSON escapes, as orjson does but for
    # control characters: names with those (rarely any) are looked up in a map, which Spark searches key by key.
    file = F.col("source_file")
    escaped = F.regexp_extract(F.to_json(F.struct(file.alias("f"))), r'^\{"f":(.*)\}$', 1)
    odd = [name for name in files if any(ch < " " for ch in name)]
    if odd:
        known = F.create_map(*[F.lit(x) for name in odd for x in (name, orjson.dumps(name).decode())])
        escaped = F.coalesce(F.element_at(known, file), escaped)
    name = F.when(file.rlike(r'["\\\x00-\x1f]'), escaped).otherwise(F.concat(F.lit('"'), file, F.lit('"')))
    return F.concat(F.lit('{"file":'), name, F.lit(',"line":'), F.col("source_line").cast("string"), F.lit("}"))


def report_lines(results: FileResults) -> Column:
    """Each report as the line `diagnose batch` writes for it: the report JSON with its `source` (null for rejected records)."""
    from pyspark.sql import functions as F

    # Speed: spliced as the local batch splices its lines (bench/tricks.py "spliced line", about 3.5% of a
    # record there), with no from_json/to_json round trip of every report inside Spark.
    body = F.expr("substring(report_json, 1, length(report_json) - 1)")
    return F.concat(body, F.lit(',"source":'), _source_json(results.files), F.lit("}"))


def error_lines(results: FileResults) -> Column:
    """Each rejected record as the line of the local batch's error report (null for diagnosed records)."""
    from pyspark.sql import functions as F

    return F.concat(F.lit('{"source":'), _source_json(results.files), F.lit(","), F.expr("substring(error_json, 2)"))


# --- the reports, the error report and the rejected records in one job -------------------


class _Folders:
    """Folders of part files through Hadoop's FileSystem API, as the Spark writers see them (local, hdfs://, s3a://)."""

    def __init__(self, session: SparkSession) -> None:
        jvm: Any = session._jvm
        self.conf = session._jsc.hadoopConfiguration()
        self.path = jvm.org.apache.hadoop.fs.Path

    def fs(self, path: str) -> Any:
        return self.path(path).getFileSystem(self.conf)

    def exists(self, path: str) -> bool:
        return bool(self.fs(path).exists(self.path(path)))

    def delete(self, path: str) -> None:
        self.fs(path).delete(self.path(path), True)

    def rename(self, path: str, to: str) -> None:
        if self.exists(path):
            self.fs(path).rename(self.path(path), self.path(to))

    def move_parts(self, staged: str, folder: str) -> None:
        """The part files of ``staged`` into the new ``folder``, named as `write.text` names them; `_SUCCESS` last, as Spark writes it."""
        fs = self.fs(folder)
        fs.mkdirs(self.path(folder))
        fs.delete(self.path(f"{folder}/_SUCCESS"), False)  # the staging job's (in --output): a folder is done when all is moved
        source = self.path(staged)
        parts = [s.getPath() for s in fs.listStatus(source)] if fs.exists(source) else []
        moved = 0
        for part in parts:
            name = part.getName()
            if name.startswith("part-"):  # partitioned writes name them part-N-UUID.c000.txt, plain ones part-N-UUID-c000.txt
                fs.rename(part, self.path(folder + "/" + re.sub(r"\.(c\d{3})", r"-\1", name, count=1)))
                moved += 1
        if not moved:  # no line: one empty part file, as Spark writes an empty DataFrame
            fs.create(self.path(f"{folder}/part-00000-{uuid.uuid4()}-c000.txt")).close()
        fs.delete(source, True)
        fs.create(self.path(f"{folder}/_SUCCESS")).close()


def rejected_rows(results: FileResults, *, internal: bool = False) -> Callable[[], Iterator[tuple[str, int, str]]]:
    """(file, line, message) of each rejected record (with ``internal``, the internal errors only) in input order, streamed a
    partition at a time when the function returned is called."""

    def rows() -> Iterator[tuple[str, int, str]]:
        found = results.frame.where(_rejected(internal)).orderBy(results.order()).select("source_file", "source_line", "error")
        for row in found.toLocalIterator():
            yield row["source_file"], row["source_line"], row["error"]

    return rows


def _rejected(internal: bool) -> Column:
    from pyspark.sql import functions as F

    kept = F.col("error").isNotNull()
    return kept & (F.get_json_object("error_json", "$.error") == "internal_error") if internal else kept


def write_lines(
    results: FileResults, reports: str, errors: str | None = None, *, rejected: str | None = None
) -> Callable[[], Iterator[tuple[str, int, str]]]:
    """Write the lines of the reports into the new folder ``reports`` and those of the error report into ``errors``, in one job.

    The lines are `report_lines` and `error_lines`, in part files named as `write.text` names
    them. With ``rejected`` (`all`, or `internal` for the internal errors only), the same job
    keeps (file, line, message) of those rejected records aside; the function returned reads
    them back in input order (a job, run only when called) and removes them: call it once.
    The results are diagnosed once, without keeping them: the lines are written to a staging
    folder per output inside ``reports``, whose part files are then moved into place (on Spark
    Connect, with no Hadoop FileSystem on the driver: a job per output, each diagnosing again).
    """
    from pyspark.sql import functions as F

    from diagnose.portfolio.spark_portfolio import session_conf

    frame = results.frame
    try:
        folders = _Folders(frame.sparkSession)
    except Exception:
        frame.where(F.col("report_json").isNotNull()).select(report_lines(results)).write.text(reports)
        if errors is not None:
            frame.where(F.col("error_json").isNotNull()).select(error_lines(results)).write.text(errors)
        return rejected_rows(results, internal=rejected == "internal")
    if errors is not None and folders.exists(errors):
        raise UsageError(
            "already exists", source=errors, hint="Spark writes a new folder of part files and does not replace one: remove it first"
        )
    kept = {"all": ["rejected"], "internal": ["internal"], None: []}[rejected]
    wanted = frozenset(["report", *(["error"] if errors is not None else []), *kept])
    if results.input is not None and results.plan is not None and not frame.is_cached:
        # the tasks write the lines themselves, as the local batch's workers do: no result columns, no splicing in the JVM
        plan = replace(results.plan, outputs=wanted)
        lines = results.input.mapInArrow(arrow_task(plan), f"value string, {_KIND} string")
    else:  # kept results: the lines from their columns
        outputs = [F.struct(F.lit("report").alias("k"), report_lines(results).alias("v"))]
        if errors is not None:
            outputs.append(F.struct(F.lit("error").alias("k"), error_lines(results).alias("v")))
        if rejected is not None:
            line = F.to_json(F.struct("source_file", "source_line", "error"))
            outputs.append(F.struct(F.lit("rejected").alias("k"), F.when(_rejected(rejected == "internal"), line).alias("v")))
        found = frame.select(F.explode(F.filter(F.array(*outputs), lambda o: o["v"].isNotNull())).alias("o"))
        lines = found.select(F.col("o.v").alias("value"), F.col("o.k").alias(_KIND))
    # a task keeps a writer open per output, rather than sort its rows by output first
    writers = max(len(wanted), int(frame.sparkSession.conf.get("spark.sql.maxConcurrentOutputFileWriters", None) or 0))
    with session_conf(frame.sparkSession, "spark.sql.maxConcurrentOutputFileWriters", str(writers)):
        lines.write.partitionBy(_KIND).text(reports)
    staged = f"{reports}/_diagnose_rejected"  # a name readers of the folder skip, as they skip Spark's own _temporary
    folders.rename(f"{reports}/{_KIND}=rejected", staged)
    folders.move_parts(f"{reports}/{_KIND}=report", reports)
    if errors is not None:
        folders.move_parts(f"{reports}/{_KIND}=error", errors)

    def read_back() -> Iterator[tuple[str, int, str]]:
        try:
            if rejected is not None and folders.exists(staged):
                back = frame.sparkSession.read.schema("source_file string, source_line long, error string").json(staged)
                for row in back.orderBy(results.order()).toLocalIterator():
                    yield row["source_file"], row["source_line"], row["error"]
        finally:
            folders.delete(staged)

    return read_back
