"""Flat export of reports for pandas, DuckDB or a BI tool: one row per account and one per finding, as CSV and Parquet."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from diagnose.errors import UsageError
from diagnose.portfolio.segments import segment_text

if TYPE_CHECKING:
    from diagnose.records import Report

ACCOUNT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_id", "string"),
    ("as_of", "timestamp"),
    ("verdict", "string"),
    ("top_cause", "string"),
    ("top_family", "string"),
    ("top_score", "float64"),
    ("causes", "int32"),
    ("cause_ids", "list<string>"),
    ("source_file", "string"),
    ("source_line", "int64"),
)
"""Columns of accounts.csv / accounts.parquet before the segment columns (each a string), with their Parquet types."""
FINDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("account_id", "string"),
    ("as_of", "timestamp"),
    ("rank", "int32"),
    ("rule_id", "string"),
    ("family", "string"),
    ("severity", "string"),
    ("score", "float64"),
    ("contributing", "bool"),
)
"""Columns of findings.csv / findings.parquet."""
LIST_SEPARATOR = ";"
"""How cause_ids is written in CSV (rule ids never hold it)."""
FILES = ("accounts.csv", "findings.csv", "accounts.parquet", "findings.parquet")
_ROW_GROUP = 65_536


class FlatRows(NamedTuple):
    """Rows of some reports: accounts (their segments as a mapping last) and findings, in the column order above."""

    accounts: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]


def new_rows() -> FlatRows:
    return FlatRows([], [])


def add_report(rows: FlatRows, report: Report, file: str | None, line: int | None) -> None:
    aid, as_of = report.snapshot.account_id, report.snapshot.as_of
    found = report.findings
    top = found[0] if found else None
    rows.accounts.append(
        (
            aid,
            as_of,
            report.verdict,
            top.rule_id if top else None,
            top.family if top else None,
            top.score if top else None,
            len(found),
            [f.rule_id for f in found],
            file,
            line,
            report.segments,
        )
    )
    rows.findings.extend((aid, as_of, f.rank, f.rule_id, f.family, f.severity, f.score, f.contributing) for f in found)


def add_dict(rows: FlatRows, data: Mapping[str, Any]) -> None:
    """A report as parsed JSON (a line of `diagnose batch` output); what it lacks is left empty."""
    snap = _mapping(data.get("snapshot"))
    source = _mapping(data.get("source"))
    found = [f for f in data.get("findings") or [] if isinstance(f, Mapping)]
    aid, as_of = snap.get("account_id"), snap.get("as_of")
    top: Mapping[str, Any] = found[0] if found else {}
    segments = data.get("segments")
    rows.accounts.append(
        (
            aid,
            as_of,
            data.get("verdict"),
            top.get("rule_id"),
            top.get("family"),
            top.get("score"),
            len(found),
            [str(f.get("rule_id")) for f in found],
            source.get("file"),
            source.get("line"),
            segments if isinstance(segments, Mapping) else {},
        )
    )
    rows.findings.extend(
        (aid, as_of, f.get("rank"), f.get("rule_id"), f.get("family"), f.get("severity"), f.get("score"), f.get("contributing"))
        for f in found
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return value


def _timestamp(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


class FlatWriter:
    """Writes accounts and findings to DIR as CSV, and as Parquet when pyarrow is installed (the `parquet` extra)."""

    def __init__(self, folder: Path, segments: Sequence[str], *, parquet: bool | None = None) -> None:
        self.folder = folder
        self.segments = list(segments)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the --flat folder: {exc.strerror or exc}", source=str(folder)) from None
        self.parquet = parquet if parquet is not None else _has_pyarrow()
        self._files: list[IO[str]] = []
        self._accounts = self._csv("accounts.csv", [n for n, _ in ACCOUNT_COLUMNS] + self.segments)
        self._findings = self._csv("findings.csv", [n for n, _ in FINDING_COLUMNS])
        self._pending = new_rows()
        self._writers: dict[str, Any] = {}
        self.accounts = self.findings = 0

    def _csv(self, name: str, header: list[str]) -> Any:
        try:
            fh = (self.folder / name).open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(self.folder / name)) from None
        self._files.append(fh)
        writer = csv.writer(fh)
        writer.writerow(header)
        return writer

    def write(self, rows: FlatRows) -> None:
        seg = self.segments
        for row in rows.accounts:
            values = row[-1]
            self._accounts.writerow([_csv_cell(v) for v in row[:-1]] + [_csv_cell(segment_text(values.get(s))) for s in seg])
        for frow in rows.findings:
            self._findings.writerow([_csv_cell(v) for v in frow])
        self.accounts += len(rows.accounts)
        self.findings += len(rows.findings)
        if self.parquet:
            self._pending.accounts.extend(rows.accounts)
            self._pending.findings.extend(rows.findings)
            if len(self._pending.accounts) >= _ROW_GROUP or len(self._pending.findings) >= _ROW_GROUP:
                self._flush()

    def _flush(self) -> None:
        import pyarrow.parquet as pq

        pending, self._pending = self._pending, new_rows()
        tables = {
            "accounts.parquet": _accounts_table(pending.accounts, self.segments),
            "findings.parquet": _findings_table(pending.findings),
        }
        for name, table in tables.items():
            writer = self._writers.get(name)
            if writer is None:
                writer = self._writers[name] = pq.ParquetWriter(str(self.folder / name), table.schema)
            if table.num_rows:
                writer.write_table(table)

    def close(self) -> None:
        if self.parquet:
            self._flush()
            for writer in self._writers.values():
                writer.close()
        for fh in self._files:
            fh.close()


def _has_pyarrow() -> bool:
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "float64": pa.float64(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "bool": pa.bool_(),
        "list<string>": pa.list_(pa.string()),
    }[kind]


def account_schema(segments: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.schema([(n, arrow_type(k)) for n, k in ACCOUNT_COLUMNS] + [(s, pa.string()) for s in segments])


def finding_schema() -> Any:
    import pyarrow as pa

    return pa.schema([(n, arrow_type(k)) for n, k in FINDING_COLUMNS])


def _accounts_table(rows: list[tuple[Any, ...]], segments: Sequence[str]) -> Any:
    import pyarrow as pa

    n = len(ACCOUNT_COLUMNS)
    columns: list[list[Any]] = [[r[i] for r in rows] for i in range(n)]
    columns[1] = [_timestamp(v) for v in columns[1]]
    columns += [[segment_text(r[-1].get(s)) for r in rows] for s in segments]
    return pa.Table.from_arrays(
        [pa.array(c, type=f.type) for c, f in zip(columns, account_schema(segments), strict=True)], schema=account_schema(segments)
    )


def _findings_table(rows: list[tuple[Any, ...]]) -> Any:
    import pyarrow as pa

    columns: list[list[Any]] = [[r[i] for r in rows] for i in range(len(FINDING_COLUMNS))]
    columns[1] = [_timestamp(v) for v in columns[1]]
    schema = finding_schema()
    return pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema)
