"""Many snapshots at once: read JSON Lines and folders as a stream, diagnose in worker processes, write in input order.

The pipeline: `iter_records` reads raw records (file, line, bytes) without parsing them;
chunks of records go to workers that parse, validate and diagnose each one and return the
report lines as JSON text, or a `Rejected` record; the main process writes the chunks back
in input order. With several workers, `iter_items` hands a plain JSON Lines file on as
`Span`s (where each chunk's lines lie), which the workers read themselves. Every record yields exactly one line, in the output or in the error report,
and lines are written so that the records in the two files always form a prefix of the input:
a killed run can be resumed by counting lines (`count_done`, `skip_done`).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import io
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
import zlib
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, NamedTuple

import orjson

from diagnose.errors import DiagnoseError, ExitCode, InvalidInput, Problem, UsageError
from diagnose.errorwords import say, word
from diagnose.outputs import Pin, span_digest, writing
from diagnose.portfolio.flat import FlatRows, new_rows
from diagnose.portfolio.flat import add_report as add_flat
from diagnose.portfolio.segments import By
from diagnose.portfolio.summary import Tally, reject_reason
from diagnose.snapshot.reader import MAX_BYTES, load, not_regular
from diagnose.vocab import Lang, colon

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
    from diagnose.records import Report

RAW_CHARS = 2_000
"""The raw text kept in an error record, in characters."""
CHUNK = 256
STDIN = "-"
STDIN_NAME = "<stdin>"
_GZIP_MAGIC = b"\x1f\x8b"


class BatchFailed(DiagnoseError):
    """The batch could not finish (a worker died) or hit a bug on some records: exit 70, output kept."""

    exit_code = ExitCode.INTERNAL
    words = "label.batch_failed"


# --- records ----------------------------------------------------------------------------


class Source(NamedTuple):
    """Where a record came from: the file as given (or <stdin>) and its line (1 for a file holding one snapshot)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


class RawRecord(NamedTuple):
    """One record as read: its bytes (cut short when oversized), its full size, or why it could not be read."""

    file: str
    line: int
    data: bytes
    size: int
    unreadable: str | None = None


class Span(NamedTuple):
    """Whole lines of a plain JSON Lines file, by where they lie: a worker reads them for itself.

    With several workers the main process only finds where each chunk's lines end (`iter_items`);
    sending the records themselves through the pool's pipe cost it more than reading them.
    """

    file: str
    """The name the records are reported by (the INPUT as given)."""
    path: str
    offset: int
    length: int
    first_line: int
    digest: bytes = b""
    """Of the bytes the reader saw there: a worker that reads others (the file was replaced or written to) stops."""

    def records(self, max_bytes: int) -> Iterator[RawRecord]:
        """The records of these lines, exactly as reading the file line by line gives them."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                block = fh.read(self.length)
        except OSError as exc:
            raise InvalidInput([Problem("", f"cannot read line {self.first_line}: {exc.strerror or exc}")], source=self.file) from None
        if len(block) != self.length or (self.digest and span_digest(block) != self.digest):
            raise InvalidInput(
                [Problem("", f"the file changed while the batch read it (at line {self.first_line})")],
                source=self.file,
                hint="the output holds the records read before the change; run the batch again (without --resume) on a file that is not being written",
            )
        yield from _jsonl(io.BytesIO(block), self.file, max_bytes, first_line=self.first_line)


Item = RawRecord | Span
"""What the reader hands on: one record, or a span of lines that the worker reads."""


@dataclass(frozen=True)
class Rejected:
    """A record that gave no report: where it is, what is wrong with it, and the start of its text."""

    source: Source
    problems: tuple[Problem, ...]
    hint: str | None = None
    raw: str = ""
    raw_truncated: bool = False
    kind: str = "invalid_input"
    """`invalid_input` (the record breaks the contract) or `internal_error` (a bug in diagnose)."""

    @classmethod
    def from_error(cls, rec: RawRecord, exc: InvalidInput) -> Rejected:
        return cls(Source(rec.file, rec.line), tuple(exc.problems), exc.hint, *_raw_text(rec))

    def to_dict(self) -> dict[str, Any]:
        problems = []
        for p in self.problems:
            item: dict[str, Any] = {"path": p.path, "message": p.message}
            if p.line is not None:
                item["line"] = p.line
            if p.column is not None:
                item["column"] = p.column
            problems.append(item)
        out: dict[str, Any] = {"source": self.source.to_dict(), "error": self.kind, "problems": problems}
        if self.hint:
            out["hint"] = self.hint
        out["raw"] = self.raw
        out["raw_truncated"] = self.raw_truncated
        return out

    def to_json(self) -> bytes:
        """One line of the error report (JSON Lines), with its newline."""
        return orjson.dumps(self.to_dict()) + b"\n"

    def render(self, lang: Lang = "en") -> str:
        """One line for standard error (in Chinese with ``lang="zh"``, where the problems have words)."""
        if self.kind == "internal_error":
            return f"internal error: {self.source}: {self.problems[0].message if self.problems else 'unknown'}"
        shown = ("；" if lang == "zh" else "; ").join(p.text(lang) for p in self.problems[:3]) or "invalid record"
        more = say("frame.and_more", count=len(self.problems) - 3).text(lang) if len(self.problems) > 3 else ""
        return colon(lang).join((word("label.rejected", lang), str(self.source), shown + more))


def _raw_text(rec: RawRecord) -> tuple[str, bool]:
    """The start of a record's text for the error report, and whether there was more."""
    text = rec.data[: RAW_CHARS * 4].decode("utf-8", errors="replace")  # 4 bytes at most per character
    cut = len(text) > RAW_CHARS or len(rec.data) > RAW_CHARS * 4 or rec.size > len(rec.data)
    return (text[:RAW_CHARS], cut)


# --- reading inputs ---------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    """One INPUT argument, checked: standard input, a JSON Lines file (maybe gzip), one snapshot file, or a folder."""

    name: str
    kind: Literal["stdin", "jsonl", "json", "folder"]
    files: tuple[Path, ...] = ()
    size: int | None = None
    """Bytes to read when known (plain files and folders), for the progress bar."""


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def check_inputs(names: Sequence[str]) -> list[Input]:
    """Every INPUT exists and is readable as what it looks like, before any work starts (usage errors otherwise)."""
    if not names:
        raise UsageError("no INPUT given", hint="pass JSON Lines files, folders of .json files, or - for standard input")
    if list(names).count(STDIN) > 1:
        raise UsageError("standard input (-) given more than once")
    out = []
    for name in names:
        if name == STDIN:
            out.append(Input(STDIN_NAME, "stdin"))
            continue
        path = Path(name)
        try:
            if path.is_dir():
                files = tuple(sorted((p for p in path.iterdir() if p.suffix == ".json" and p.is_file()), key=lambda p: p.name))
                if not files:
                    raise UsageError(
                        "the folder holds no .json files", source=name, hint="a folder input is read as one snapshot per .json file"
                    )
                out.append(Input(name, "folder", files, sum(p.stat().st_size for p in files)))
            elif path.is_file():
                kind: Literal["json", "jsonl"] = "json" if path.suffix == ".json" else "jsonl"
                size = None if kind == "jsonl" and _is_gzip(path) else path.stat().st_size
                out.append(Input(name, kind, (path,), size))
            elif path.exists():  # a pipe, a device, a socket: read only as standard input, which says what it is
                raise not_regular(name, "diagnose batch - <")
            else:
                raise UsageError("no such file or folder", source=name)
        except PermissionError:
            raise UsageError("permission denied", source=name) from None
    return out


def pin_inputs(inputs: Sequence[Input]) -> dict[str, Pin]:
    """The identity of each input file given by name (JSON Lines and .json), by the name records carry."""
    try:
        return {i.name: Pin.of(i.name, i.files[0]) for i in inputs if i.kind in ("jsonl", "json")}
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", source=str(exc.filename)) from None


def input_records(inputs: Sequence[Input], pins: dict[str, Pin]) -> list[dict[str, Any]]:
    """What a run records of its inputs for `--resume` to compare: each file's size, time and start; a folder's files."""
    out: list[dict[str, Any]] = []
    for inp in inputs:
        if inp.name in pins:
            out.append(pins[inp.name].record())
        elif inp.kind == "folder":
            stats = [p.stat() for p in inp.files]
            out.append({"name": inp.name, "files": [[p.name, st.st_size, st.st_mtime_ns] for p, st in zip(inp.files, stats, strict=True)]})
        else:
            out.append({"name": inp.name})
    return out


def total_size(inputs: Sequence[Input]) -> int | None:
    """Bytes all inputs hold, or None when one is a stream or compressed."""
    sizes = [i.size for i in inputs]
    return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


def _open_lines(path: Path) -> IO[bytes]:
    if _is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]  # GzipFile is a binary file object
    return path.open("rb")


_WHITE = b" \t\r\n\x0b\x0c"
"""What bytes.strip() strips: a line of these only is blank."""
_WHITE_SET = frozenset(_WHITE)
READ_BYTES = 1 << 20


def _blank_end(buf: bytes, pos: int) -> int:
    """Where the run of whitespace at ``pos`` ends: found by stripping windows that double in size, so that
    a single blank line costs a few hundred bytes' work and a run of a million newlines a few copies."""
    if pos >= len(buf) or buf[pos] not in _WHITE_SET:
        return pos
    end, step = pos, 256
    while end < len(buf):
        window = buf[end : end + step]
        kept = window.lstrip(_WHITE)
        if kept:
            return end + len(window) - len(kept)
        end, step = end + len(window), min(step * 2, READ_BYTES)
    return end


def _jsonl(fh: IO[bytes], name: str, max_bytes: int, *, first_line: int = 1) -> Iterator[RawRecord]:
    """Non-blank lines of a JSON Lines stream; a line longer than max_bytes is kept short and read past in pieces.

    The stream is read in blocks; runs of blank lines (whitespace only, of any length) are skipped
    without a step per line, so a file of newlines reads as fast as it streams.
    """
    limit = max_bytes + 2  # room for the line's own \r\n
    lineno = first_line - 1  # lines before `pos`
    buf, pos, eof = b"", 0, False

    def more() -> bool:
        nonlocal buf, pos, eof
        try:
            block = fh.read(READ_BYTES)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise InvalidInput([Problem("", f"cannot read line {lineno + 1}: {exc}")], source=name) from None
        if not block:
            eof = True
            return False
        buf, pos = buf[pos:] + block, 0
        return True

    while True:
        run = _blank_end(buf, pos)
        if run > pos:
            cut = buf.rfind(b"\n", pos, run)
            if cut != -1:  # whole blank lines: counted, not visited
                lineno += buf.count(b"\n", pos, cut + 1)
                pos = cut + 1
            if run == len(buf) and not eof and len(buf) - pos <= limit:
                more()
                continue
        newline = buf.find(b"\n", pos)
        if newline == -1 and not eof and len(buf) - pos < limit:
            more()
            continue
        if newline != -1 and newline + 1 - pos <= limit:  # a whole line
            data = buf[pos : newline + 1].strip()
            lineno, pos = lineno + 1, newline + 1
            if data:
                yield RawRecord(name, lineno, data, len(data))
            continue
        if newline == -1 and eof and len(buf) - pos < limit:  # the last line, without a newline
            data = buf[pos:].strip()
            if data:
                yield RawRecord(name, lineno + 1, data, len(data))
            return
        # A line longer than the limit: keep its head, read past the rest, count its size.
        head, size, blank = buf[pos : pos + min(limit, RAW_CHARS * 4)], 0, True
        while True:
            newline = buf.find(b"\n", pos)
            piece_end = newline + 1 if newline != -1 else len(buf)
            blank = blank and not buf[pos:piece_end].strip()
            size, pos = size + piece_end - pos, piece_end
            if newline != -1 or not more():
                break
        lineno += 1
        if not blank:
            yield RawRecord(name, lineno, head, size)


def _whole_file(path: Path, max_bytes: int) -> RawRecord:
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
            size = len(data) if len(data) <= max_bytes else path.stat().st_size
    except OSError as exc:
        return RawRecord(name, 1, b"", 0, f"cannot read: {exc.strerror or exc}")
    return RawRecord(name, 1, data if size <= max_bytes else data[: RAW_CHARS * 4], size)


SPAN_BYTES = 1 << 20
"""A span ends at the newline that takes it past this many bytes, if it has not got its lines by then."""


def _spans(path: Path, name: str, max_bytes: int, lines: int, workers: int) -> Iterator[Item]:
    """A plain JSON Lines file as Spans of ``lines`` lines each (fewer when they pass SPAN_BYTES).

    The last ``2 x workers`` spans' worth of the file (estimated from the first block's lines)
    comes in spans a quarter the size, so that the workers finish together rather than one
    waiting for the other's last big chunk; a small file is all tail.

    A line longer than max_bytes that is not yet whole when a span would need it is read past
    here, as `_jsonl` does, and handed on as its short record: no process holds it whole.
    """
    limit = max_bytes + 2
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        tail = -1  # where the smaller spans begin, in bytes from the end: set from the first block
        buf, pos = b"", 0  # what was read, and where in it the next span begins
        start, first = 0, 1  # that place's file offset and line number
        while True:
            block = fh.read(SPAN_BYTES)
            if tail < 0:
                tail = 2 * workers * lines * len(block) // max(1, block.count(b"\n"))
            buf, pos = buf[pos:] + block, 0
            while True:  # cut every span that `buf` holds whole (blank ones are passed over, not sent)
                want = lines if size - start > tail else max(1, lines // 4)
                end, n, records = _whole_lines(buf, pos, want)
                if records < want and end - pos < SPAN_BYTES:
                    break
                if not _is_blank(buf, pos, end):
                    yield Span(name, str(path), start, end - pos, first, span_digest(buf[pos:end]))
                start, first, pos = start + end - pos, first + n, end
            if not block:  # the end of the file: what is left, its last line without a newline
                if not _is_blank(buf, pos, len(buf)):
                    yield Span(name, str(path), start, len(buf) - pos, first, span_digest(buf[pos:]))
                return
            if len(buf) - end > limit:  # the line after the whole ones is too long: hand those on, then read past it
                if n:
                    if not _is_blank(buf, pos, end):
                        yield Span(name, str(path), start, end - pos, first, span_digest(buf[pos:end]))
                    start, first, pos = start + end - pos, first + n, end
                head, size = buf[pos : pos + min(limit, RAW_CHARS * 4)], len(buf) - pos  # what _jsonl keeps of it
                blank = _is_blank(buf, pos, len(buf))
                buf, pos = b"", 0
                while more := fh.read(SPAN_BYTES):
                    newline = more.find(b"\n")
                    if newline != -1:
                        size += newline + 1
                        blank = blank and _is_blank(more, 0, newline + 1)
                        buf = more[newline + 1 :]
                        break
                    size += len(more)
                    blank = blank and _is_blank(more, 0, len(more))
                if not blank:  # a line of whitespace only is blank, however long: skipped as _jsonl skips it
                    yield RawRecord(name, first, head, size)
                start, first = start + size, first + 1


def _whole_lines(buf: bytes, pos: int, lines: int) -> tuple[int, int, int]:
    """Where the first ``lines`` non-blank whole lines from ``pos`` end (fewer: those up to SPAN_BYTES, or all there are),
    how many lines that is (blank ones too: they number the lines after them) and how many of them are not blank."""
    end = pos
    n = records = 0
    while records < lines and end - pos < SPAN_BYTES:
        run = _blank_end(buf, end)
        if run > end:
            cut = buf.rfind(b"\n", end, run)
            if cut != -1:
                n += buf.count(b"\n", end, cut + 1)
                end = cut + 1
        newline = buf.find(b"\n", end)
        if newline == -1:
            break
        end, n, records = newline + 1, n + 1, records + 1
    return end, n, records


def _is_blank(buf: bytes, start: int, end: int) -> bool:
    return min(_blank_end(buf, start), end) == end


def iter_records(inputs: Sequence[Input], *, max_bytes: int = MAX_BYTES, stdin: IO[bytes] | None = None) -> Iterator[RawRecord]:
    """Every record of every input, in order, as raw bytes: streamed, never a whole file in memory."""
    for inp in inputs:
        if inp.kind == "stdin":
            yield from _jsonl(stdin if stdin is not None else sys.stdin.buffer, inp.name, max_bytes)
        elif inp.kind == "jsonl":
            try:
                fh = _open_lines(inp.files[0])
            except OSError as exc:
                raise InvalidInput([Problem("", f"cannot read: {exc.strerror or exc}")], source=inp.name) from None
            with fh:
                yield from _jsonl(fh, inp.name, max_bytes)
        else:
            for path in inp.files:
                rec = _whole_file(path, max_bytes)
                # A file given by name is reported by that name; files of a folder by their path.
                yield rec._replace(file=inp.name) if inp.kind == "json" else rec


def iter_items(inputs: Sequence[Input], *, max_bytes: int = MAX_BYTES, lines: int = CHUNK, workers: int = 2) -> Iterator[Item]:
    """As `iter_records`, with each plain (not compressed) JSON Lines file as Spans of ``lines`` lines, for ``workers`` to read."""
    for inp in inputs:
        if inp.kind == "jsonl" and inp.size is not None:
            try:
                yield from _spans(inp.files[0], inp.name, max_bytes, lines, workers)
            except OSError as exc:
                raise InvalidInput([Problem("", f"cannot read: {exc.strerror or exc}")], source=inp.name) from None
        else:
            yield from iter_records([inp], max_bytes=max_bytes)


# --- diagnosing one chunk (in a worker, or in-process) ----------------------------------


class ChunkResult(NamedTuple):
    """What one chunk gave, in input order: runs of report lines (bytes) and rejected records."""

    runs: list[bytes | Rejected]
    diagnosed: int
    rejected: int
    internal: int
    tally: Tally | None
    flat: FlatRows | None = None


def _source_suffix(file: str) -> bytes:
    return b',"source":{"file":' + orjson.dumps(file) + b',"line":'


class Diagnoser:
    """Parses, validates and diagnoses raw records with one compiled pack; turns each into a report line or a Rejected."""

    def __init__(
        self,
        pack: CompiledPack,
        *,
        lang: str = "en",
        max_bytes: int = MAX_BYTES,
        tally: bool = False,
        by: By = By(),
        flat: bool = False,
        redact_key: bytes | None = None,
    ) -> None:
        self.pack = pack
        self.lang = lang
        self.max_bytes = max_bytes
        self.tally = tally
        self.by = by
        self.flat = flat
        self.echo = by.echoed(pack.segments)
        """Fact paths of `--by` the pack does not echo: each report's segments get them too."""
        self.redactor = None
        """With a --redact key: reports, errors and the error report's raw text have their sensitive values hashed."""
        if redact_key is not None:
            from diagnose.report.redact import for_pack

            self.redactor = for_pack(pack, redact_key)
        self._suffixes: dict[str, bytes] = {}

    def one(self, rec: RawRecord) -> Report | InvalidInput:
        """One record to its report, or the InvalidInput error that says why there is none."""
        where = f"{rec.file}:{rec.line}"
        if rec.unreadable is not None:
            return InvalidInput([Problem("", rec.unreadable)], source=where)
        if rec.size > self.max_bytes:
            return InvalidInput(
                [Problem("", f"the record is {rec.size:,} bytes; at most {self.max_bytes:,} are accepted")],
                source=where,
                hint="raise the limit with --max-bytes if this is a real snapshot",
            )
        data: Any = None
        try:
            data = load(rec.data, where, max_bytes=self.max_bytes)
            report = self.pack.diagnose(data, lang=self.lang, source=where, parsed=True, echo=self.echo)
        except InvalidInput as exc:
            if self.redactor is not None:
                from diagnose.report.redact import redact_problems

                return redact_problems(exc, self.redactor, data)
            return exc
        if self.redactor is not None:
            from diagnose.report.redact import redact_for_pack

            report = redact_for_pack(report, self.pack, data, key=self.redactor.key)
        return report

    def rejected(self, rec: RawRecord, exc: InvalidInput) -> Rejected:
        """The error record of a record with no report; under --redact its raw text is redacted too."""
        bad = Rejected.from_error(rec, exc)
        if self.redactor is None:
            return bad
        from diagnose.report.redact import redact_raw

        raw = redact_raw(rec.data, self.redactor) if rec.size <= self.max_bytes else ""
        return replace(bad, raw=raw[:RAW_CHARS], raw_truncated=bad.raw_truncated or len(raw) > RAW_CHARS or not raw)

    def line(self, rec: RawRecord, report: Report) -> bytes:
        """The report as one JSON Lines line: the report of `run --format json`, plus its source."""
        suffix = self._suffixes.get(rec.file)
        if suffix is None:
            suffix = self._suffixes[rec.file] = _source_suffix(rec.file)
        # Speed (bench/tricks.py "spliced line"): splicing the source in before the report's closing
        # brace saves 2.9-3.5% of a record's CPU (four runs) against serialising the report again with it.
        return report.to_json_bytes()[:-1] + suffix + str(rec.line).encode() + b"}}\n"

    def chunk(self, items: Sequence[Item]) -> ChunkResult:
        runs: list[bytes | Rejected] = []
        lines: list[bytes] = []
        tally = Tally(by=self.by) if self.tally else None
        flat = new_rows() if self.flat else None
        read = rejected = internal = 0
        for rec in _records(items, self.max_bytes):
            read += 1
            bad: Rejected | None = None
            try:
                result = self.one(rec)
                if isinstance(result, InvalidInput):
                    bad = self.rejected(rec, result)
                else:
                    lines.append(self.line(rec, result))
                    if tally is not None:
                        tally.add_report(result)
                    if flat is not None:
                        add_flat(flat, result, rec.file, rec.line)
            except Exception as exc:  # a bug on one record must not lose the others: report it, go on
                bad = Rejected(
                    Source(rec.file, rec.line),
                    (Problem("", f"{type(exc).__name__}: {exc}" if self.redactor is None else type(exc).__name__),),
                    "this is a bug in diagnose; please report it with this record",
                    *(_raw_text(rec) if self.redactor is None else ("", True)),
                    kind="internal_error",
                )
                internal += 1
            if bad is not None:
                if lines:
                    runs.append(b"".join(lines))
                    lines = []
                runs.append(bad)
                rejected += 1
        if lines:
            runs.append(b"".join(lines))
        return ChunkResult(runs, read - rejected, rejected, internal, tally, flat)


def _records(items: Iterable[Item], max_bytes: int) -> Iterator[RawRecord]:
    for item in items:
        if isinstance(item, Span):
            yield from item.records(max_bytes)
        else:
            yield item


GC_THRESHOLD = 10_000
"""Allocations between young-generation collections while diagnosing (Python's default is 700)."""


def tune_gc() -> None:
    """Garbage collection for diagnosing records: what exists now (the pack) leaves the collector's view, and it runs less often.

    Speed (bench/scaling.py, bench/batch.py): the compiled pack is long-lived, yet every full
    collection walked it again, so the collector's share of a record grew with the pack (CPU in
    the collector, a record: 102 us at 390 rules, 1,227 at 3,900, 6% and 10% of the record) and
    made the cost grow faster than the rules. Frozen, with a young generation of 10,000, it is about
    10 and 90 us (50,000 gains another 60 us at 3,900 rules, for 4 MB more at the peak). A
    record's own garbage is freed by reference counting; its few cycles wait a little longer.
    """
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])


@contextlib.contextmanager
def _gc_tuned() -> Iterator[None]:
    """`tune_gc` for the length of a run in this process, then the collector as it was (a library caller's process goes on)."""
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if not frozen:  # a caller that froze objects itself keeps them frozen
            gc.unfreeze()


# The pool initializer keeps each worker's Diagnoser here: a worker process is a single-use
# home for one pack, and the pool API offers no other place to keep it between chunks.
_WORKER: list[Diagnoser] = []


def _init_worker(
    pack: CompiledPack | Mapping[str, Any], lang: str, max_bytes: int, tally: bool, by: By, flat: bool, redact_key: bytes | None
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool
    # A worker reports through its results only; what it could print is the pool's own noise when
    # the parent was killed (a broken pipe), which must not reach the user.
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (open for the worker's whole life)
    parent = os.getppid()

    def watch() -> None:  # a killed parent cannot stop its workers: they stop themselves
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
    if isinstance(pack, Mapping):  # not forked: the pack's plain data, compiled once, here (a few ms)
        from diagnose.api import CompiledPack

        pack = CompiledPack(pack)
    _WORKER.append(Diagnoser(pack, lang=lang, max_bytes=max_bytes, tally=tally, by=by, flat=flat, redact_key=redact_key))
    tune_gc()  # after the pack is loaded (spawned) or inherited (forked): a worker's process is its own


def _work(items: list[Item]) -> ChunkResult:
    return _WORKER[0].chunk(items)


# --- resuming ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Done:
    """Complete lines already in one output file, and the source of the last one."""

    lines: int = 0
    last: Source | None = None


def _last_source(line: bytes, path: Path) -> Source:
    try:
        src = orjson.loads(line)["source"]
        return Source(str(src["file"]), int(src["line"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise UsageError(
            "--resume: the last line is not a record of `diagnose batch` (no source)",
            source=str(path),
            hint="resume only into a batch's own output",
        ) from None


def count_done(path: Path | None, *, truncate: bool = True) -> Done:
    """Count complete lines of a batch file and drop a partial last line (what a killed run leaves)."""
    if path is None or not path.exists():
        return Done()
    lines = 0
    end = 0  # offset just after the last newline
    pos = 0
    with path.open("rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            n = block.count(b"\n")
            if n:
                lines += n
                end = pos + block.rindex(b"\n") + 1
            pos += len(block)
        if pos != end and truncate:
            with path.open("r+b") as wh:
                wh.truncate(end)
        if lines == 0:
            return Done()
        start = max(0, end - (1 << 16))
        while True:  # the last complete line, read backwards in growing windows
            fh.seek(start)
            tail = fh.read(end - start)
            cut = tail.rfind(b"\n", 0, len(tail) - 1)
            if cut != -1 or start == 0:
                return Done(lines, _last_source(tail[cut + 1 :], path))
            start = max(0, start - (end - start))


@dataclass(frozen=True)
class Resumed:
    """Where a resumed run starts: records skipped, and how many of them were diagnosed and rejected."""

    skipped: int = 0
    diagnosed: int = 0
    rejected: int = 0
    size: int = 0


def skip_done(records: Iterator[RawRecord], output: Done, errors: Done | None) -> Resumed:
    """Advance past the records a previous run already wrote.

    With an error report, the two files together hold exactly the first N records (each record
    is one line in one of them), so N records are skipped and the last one must be the source
    of one of the two last lines. Without one, rejected records went to standard error only,
    so records are skipped up to and including the source of the last report.
    """
    if errors is not None:
        total = output.lines + errors.lines
        if total == 0:
            return Resumed()
        seen = size = 0
        last: RawRecord | None = None
        for rec in records:
            seen += 1
            size += rec.size + 1
            last = rec
            if seen == total:
                break
        if last is None or seen < total or Source(last.file, last.line) not in (output.last, errors.last):
            raise UsageError(
                f"--resume: the output and the error report hold {total:,} records, which do not match the start of these inputs",
                hint="resume with the same INPUTs in the same order as the interrupted run",
            )
        return Resumed(total, output.lines, errors.lines, size)
    if output.last is None:
        return Resumed()
    size = 0
    for seen, rec in enumerate(records, start=1):
        size += rec.size + 1
        if (rec.file, rec.line) == output.last:
            return Resumed(seen, output.lines, seen - output.lines, size)
    raise UsageError(
        f"--resume: the last report in the output comes from {output.last}, which is not in these inputs",
        hint="resume with the same INPUTs in the same order as the interrupted run",
    )


def tally_file(path: Path, by: By = By()) -> Tally:
    """A tally of the reports already in a batch output file (for the summary of a resumed run)."""
    tally = Tally(by=by)
    with path.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    tally.add_dict(orjson.loads(line))
                except (orjson.JSONDecodeError, ValueError) as exc:
                    raise InvalidInput([Problem("", f"line {lineno} is not a report: {exc}")], source=str(path)) from None
    return tally


# --- running a batch --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a batch did: counts over the whole output (a resumed run includes the earlier part)."""

    read: int = 0
    diagnosed: int = 0
    rejected: int = 0
    internal: int = 0
    resumed: Resumed = field(default_factory=Resumed)
    tally: Tally | None = None
    """Counts for the summary, of the records of this run (when asked for)."""


@dataclass
class _Counter:
    read: int = 0
    diagnosed: int = 0
    rejected: int = 0
    internal: int = 0
    size: int = 0


class Sinks:
    """Where lines go. Each run of lines is written and flushed before the next begins, so the
    records on disk are always a prefix of the input, whichever of the two files they are in."""

    def __init__(
        self,
        output: IO[bytes],
        errors: IO[bytes] | None = None,
        on_rejected: Callable[[Rejected], None] | None = None,
        *,
        names: tuple[str, str] = ("<stdout>", "--errors"),
    ) -> None:
        self.output = output
        self.errors = errors
        self.on_rejected = on_rejected
        self.reasons: Counter[str] = Counter()
        """Rejected records per reason (`breakdown.reject_reason`), for the summary."""
        self.names = names
        """The outputs' names for an error while writing (the --output and --errors files)."""

    def write(self, result: ChunkResult) -> None:
        for run in result.runs:
            if isinstance(run, bytes):
                self._put(self.output, run, self.names[0])
            elif self.errors is not None:
                self.reasons[reject_reason(run.to_dict())] += 1
                self._put(self.errors, run.to_json(), self.names[1])
                if run.kind == "internal_error" and self.on_rejected is not None:
                    self.on_rejected(run)
            else:
                self.reasons[reject_reason(run.to_dict())] += 1
                if self.on_rejected is not None:
                    self.on_rejected(run)

    @staticmethod
    def _put(fh: IO[bytes], data: bytes, name: str) -> None:
        with writing(name):
            fh.write(data)
            fh.flush()


class _Chunks:
    """Records in lists of ``size``, a span of lines alone. An input that cannot be read further ends
    the stream after the records before it, and its error is kept for the end, so that they are
    diagnosed and written."""

    def __init__(self, items: Iterable[Item], size: int) -> None:
        self.items = items
        self.size = size
        self.error: DiagnoseError | None = None

    def __iter__(self) -> Iterator[list[Item]]:
        batch: list[Item] = []
        try:
            for item in self.items:
                if isinstance(item, Span):
                    if batch:
                        yield batch
                        batch = []
                    yield [item]
                    continue
                batch.append(item)
                if len(batch) >= self.size:
                    yield batch
                    batch = []
        except DiagnoseError as exc:
            self.error = exc
        if batch:
            yield batch


def _context() -> Any:
    """How worker processes start: fork, which shares the compiled pack with them for free, from a process with no other thread.

    A fork copies only the thread that forks: a lock another thread held stays locked in the child,
    which can then hang (Python 3.12 and later warn of it). A library caller's server or a test
    runner may have threads; from such a process the workers start by forkserver (or spawn where
    there is none) and compile the pack from its plain data, which pickles (`_init_worker`).
    `diagnose batch` forks: it has no other thread when the workers start.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and _threads() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" not in methods:
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["diagnose.api", __name__])  # the server imports these once; each worker forks from it with them
    return ctx


def _threads() -> int:
    """This process's threads, as the system counts them (as Python's own warning does): a thread started outside
    the threading module (by a C library, or by `_thread` as a test runner's does) counts too."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc (not Linux): the threads Python knows of
        return threading.active_count()


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@_gc_tuned()  # forked workers inherit the frozen pack, which also keeps its pages shared
def run(
    records: Iterator[Item],
    sinks: Sinks,
    pack: CompiledPack,
    *,
    lang: str = "en",
    workers: int = 1,
    chunk_size: int = CHUNK,
    max_bytes: int = MAX_BYTES,
    summary: bool = False,
    resumed: Resumed | None = None,
    progress: Callable[[int, int], None] | None = None,
    by: By = By(),
    flat: Callable[[FlatRows], None] | None = None,
    pins: dict[str, Pin] | None = None,
    redact_key: bytes | None = None,
) -> Outcome:
    """Diagnose every record and write each chunk in input order; ``progress(records, bytes)`` after each chunk.

    ``workers`` > 1 runs that many processes with at most three chunks each in flight, so memory
    stays flat however long the input; one worker (or input of one chunk) runs in this process.
    ``by`` slices the summary's tally by segment; ``flat`` receives each chunk's rows for the flat export.
    ``pins`` (from `pin_inputs`) are checked before each chunk of their file is written, and at
    the end: a file that changed stops the run (InvalidInput) with the output a clean prefix.
    """
    done = resumed or Resumed()
    n = _Counter(done.skipped, done.diagnosed, done.rejected, 0, done.size)
    tally = Tally(by=by) if summary else None

    def handle(chunk: list[Item], result: ChunkResult) -> None:
        if pins:
            for name in {item.file for item in chunk}:
                if name in pins:
                    pins[name].check()
        sinks.write(result)
        n.read += result.diagnosed + result.rejected
        n.diagnosed += result.diagnosed
        n.rejected += result.rejected
        n.internal += result.internal
        if tally is not None and result.tally is not None:
            tally.merge(result.tally)
        if flat is not None and result.flat is not None:
            flat(result.flat)
        if progress is not None:
            n.size += sum(r.length if isinstance(r, Span) else r.size + 1 for r in chunk)
            progress(n.read, n.size)

    def outcome() -> Outcome:
        return Outcome(n.read, n.diagnosed, n.rejected, n.internal, done, tally)

    reader = _Chunks(records, chunk_size)
    stream = iter(reader)
    first = list(itertools.islice(stream, 2))
    if workers <= 1 or len(first) < 2:
        local = Diagnoser(pack, lang=lang, max_bytes=max_bytes, tally=summary, by=by, flat=flat is not None, redact_key=redact_key)
        for chunk in itertools.chain(first, stream):
            handle(chunk, local.chunk(chunk))
        return _finish(reader, outcome(), pins)
    ctx = _context()
    source: CompiledPack | Mapping[str, Any] = pack if ctx.get_start_method() == "fork" else pack.data
    executor = ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(source, lang, max_bytes, summary, by, flat is not None, redact_key)
    )
    finished = False
    try:
        pending: deque[tuple[list[Item], Future[ChunkResult]]] = deque()
        for chunk in itertools.chain(first, stream):
            pending.append((chunk, executor.submit(_work, chunk)))
            if len(pending) >= workers * 3:
                done_chunk, fut = pending.popleft()
                handle(done_chunk, fut.result())
        while pending:
            done_chunk, fut = pending.popleft()
            handle(done_chunk, fut.result())
        finished = True
    except BrokenProcessPool:
        raise BatchFailed(
            f"a worker process died (out of memory?) after {n.read:,} records",
            hint="every record before it is in the output: rerun with --resume, perhaps with fewer --workers",
        ) from None
    finally:
        executor.shutdown(wait=finished, cancel_futures=True)
    return _finish(reader, outcome(), pins)


def _finish(reader: _Chunks, result: Outcome, pins: dict[str, Pin] | None) -> Outcome:
    if reader.error is not None:
        raise reader.error
    for pin in (pins or {}).values():
        pin.check()
    return result


# --- the Python API ---------------------------------------------------------------------


def diagnose_files(
    pack: CompiledPack, inputs: Sequence[str | os.PathLike[str]], *, lang: str = "en", max_bytes: int = MAX_BYTES
) -> Iterator[tuple[Source, Report | InvalidInput]]:
    """Reports of every record of JSON Lines files (.gz too), .json files and folders, in order, with their sources.

    A record that cannot be diagnosed yields the same InvalidInput error that `diagnose batch`
    writes to its error report; the iteration goes on.
    """
    diagnoser = Diagnoser(pack, lang=lang, max_bytes=max_bytes)
    for rec in iter_records(check_inputs([os.fspath(i) for i in inputs]), max_bytes=max_bytes):
        yield Source(rec.file, rec.line), diagnoser.one(rec)
