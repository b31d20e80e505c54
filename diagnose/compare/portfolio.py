"""Two days of batch reports joined by account, in bounded memory: verdict transitions and causes that appeared or cleared.

How the memory stays bounded: each report file is streamed once into a table of an on-disk
SQLite database (the standard library's sqlite3, in a temporary folder) holding only the account
id, the snapshot time, the line number, the verdict and the cause ids; an index sorts each table
by account (SQLite sorts on disk past its page cache); then the two sorted tables are read side
by side and merged, one account at a time. Python holds one batch of rows, the counters and a
few sample ids per bucket, whatever the number of lines.
"""

from __future__ import annotations

import gzip
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO, Any, cast

import orjson

from diagnose.compare import texts
from diagnose.compare.model import SCHEMA_VERSION, CauseMove, FileCounts, PortfolioDiff, Presence, Transition
from diagnose.errors import InvalidInput, Problem, UsageError
from diagnose.vocab import VERDICTS

BEST_FIRST = VERDICTS[::-1]
"""From best to worst: a transition up this list is better, down it worse."""
BATCH = 5_000
"""Rows inserted at a time."""
CACHE_KIB = 2_048
"""SQLite's page cache (its default size): what bounds its memory; the rest of a sort spills to its temporary files."""
_SEP = "\x1f"
_HINT = "diff --reports reads the output of `diagnose batch`; an interrupted batch may leave a partial last line (rerun it with --resume)"

Row = tuple[str, float, int, str, str]
"""One report as stored: account id, snapshot time (epoch seconds), line, verdict, cause ids joined."""


def _open(name: str, stack: ExitStack) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    path = Path(name)
    if not path.is_file():
        raise UsageError("no such file" if not path.exists() else "not a file", source=name)
    try:
        fh = stack.enter_context(path.open("rb"))
        if fh.read(2) == b"\x1f\x8b":
            fh.seek(0)
            return cast("IO[bytes]", stack.enter_context(gzip.GzipFile(fileobj=fh, mode="rb")))
        fh.seek(0)
    except OSError as exc:
        raise InvalidInput([Problem("", f"cannot read: {exc.strerror or exc}")], source=name) from None
    return fh


def _row(raw: bytes, source: str, line: int, titles: dict[str, tuple[str, str]], packs: set[str]) -> Row:
    try:
        data = orjson.loads(raw)
        snap = data["snapshot"]
        account, as_of, verdict = snap["account_id"], snap["as_of"], data["verdict"]
        findings = data["findings"]
        if not (isinstance(account, str) and isinstance(as_of, str) and isinstance(verdict, str) and isinstance(findings, list)):
            raise TypeError("`snapshot.account_id`, `snapshot.as_of` and `verdict` must be text, `findings` a list")
        ids = []
        for f in findings:
            rule_id = f["rule_id"]
            if rule_id not in titles:
                titles[rule_id] = (str(f.get("family", "")), str(f.get("title", "")))
            ids.append(str(rule_id))
        ruleset = data.get("ruleset")
        if isinstance(ruleset, dict):
            packs.add(f"{ruleset.get('name')} {ruleset.get('version')} ({str(ruleset.get('digest'))[:19]})")
        moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        stamp = moment.timestamp() if moment.tzinfo is not None else moment.replace(tzinfo=None).timestamp()
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        what = "not JSON" if isinstance(exc, orjson.JSONDecodeError) else f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InvalidInput([Problem("", f"not a report: {what}")], source=f"{source}:{line}", hint=_HINT) from None
    return account, stamp, line, verdict, _SEP.join(ids)


def _load(db: sqlite3.Connection, table: str, name: str, titles: dict[str, tuple[str, str]], packs: set[str]) -> int:
    """Stream one report file into ``table``; the number of non-blank lines (and in ``packs`` the rule packs of its reports)."""
    source = "<stdin>" if name == "-" else name
    db.execute(
        f"CREATE TABLE {table} (id TEXT NOT NULL, at REAL NOT NULL, line INTEGER NOT NULL, verdict TEXT NOT NULL, causes TEXT NOT NULL)"
    )
    lines = 0
    with ExitStack() as stack:
        fh = _open(name, stack)
        batch: list[Row] = []
        try:
            for n, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                lines += 1
                batch.append(_row(raw, source, n, titles, packs))
                if len(batch) >= BATCH:
                    db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", batch)
                    batch.clear()
        except (OSError, EOFError) as exc:
            raise InvalidInput([Problem("", f"cannot read: {exc}")], source=source) from None
        db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?)", batch)
    db.execute(f"CREATE INDEX {table}_by_id ON {table} (id, at, line)")
    return lines


def _latest(db: sqlite3.Connection, table: str) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Each account of a table in id order, by its latest report (the later line when two have the same time)."""
    cursor = db.execute(f"SELECT id, verdict, causes FROM {table} ORDER BY id, at, line")
    held: tuple[str, str, str] | None = None
    while rows := cursor.fetchmany(BATCH):
        for row in rows:
            if held is not None and held[0] != row[0]:
                yield held[0], held[1], tuple(held[2].split(_SEP)) if held[2] else ()
            held = row
    if held is not None:
        yield held[0], held[1], tuple(held[2].split(_SEP)) if held[2] else ()


_Account = tuple[str, str, tuple[str, ...]]


def _merge(left: Iterator[_Account], right: Iterator[_Account]) -> Iterator[tuple[str, _Account | None, _Account | None]]:
    """Two id-sorted streams side by side: each account once, with its report from either or both."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield a[0], a, None
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield b[0], None, b
            b = next(right, None)
        else:
            yield a[0], a, b
            a, b = next(left, None), next(right, None)


class _Samples:
    """Counts per key, and the first few account ids of each (the merge runs in id order, so they are the smallest ids)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.counts: Counter[Any] = Counter()
        self.ids: dict[Any, list[str]] = {}

    def add(self, key: Any, account: str) -> None:
        self.counts[key] += 1
        kept = self.ids.setdefault(key, [])
        if len(kept) < self.keep:
            kept.append(account)

    def sample(self, key: Any) -> tuple[str, ...]:
        return tuple(self.ids.get(key, ()))


def diff_reports(
    before: str,
    after: str,
    *,
    lang: str = "en",
    sample: int = 3,
    accounts: Path | None = None,
    workdir: Path | None = None,
) -> PortfolioDiff:
    """Join two report files (JSON Lines of `diagnose batch`, .gz too, or - for one of them) by account id.

    Each account counts by its latest report in a file. ``accounts`` names a JSON Lines file to
    write every account of either file to, with its bucket, its verdicts and its causes that
    appeared or cleared. The join runs in an SQLite database under ``workdir`` (a temporary folder).
    """
    if before == "-" and after == "-":
        raise UsageError("standard input can hold only one of the two report files")
    titles: dict[str, tuple[str, str]] = {}
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="diagnose-diff-", dir=workdir))
        db = sqlite3.connect(Path(folder) / "join.sqlite3")
        stack.callback(db.close)
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "temp_store=FILE", f"cache_size=-{CACHE_KIB}"):
            db.execute(f"PRAGMA {pragma}")
        packs_b: set[str] = set()
        packs_a: set[str] = set()
        lines_b = _load(db, "before", before, titles, packs_b)
        lines_a = _load(db, "after", after, titles, packs_a)
        distinct_b = db.execute("SELECT count(DISTINCT id) FROM before").fetchone()[0]
        distinct_a = db.execute("SELECT count(DISTINCT id) FROM after").fetchone()[0]
        sink = None
        if accounts is not None:
            try:
                sink = stack.enter_context(accounts.open("wb"))
            except OSError as exc:
                raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(accounts)) from None
        transitions, appeared, cleared = _Samples(sample), _Samples(sample), _Samples(sample)
        gone, new = _Samples(sample), _Samples(sample)
        held_b: Counter[str] = Counter()
        held_a: Counter[str] = Counter()
        for account, b, a in _merge(_latest(db, "before"), _latest(db, "after")):
            record: dict[str, Any]
            if b is not None and a is not None:
                transitions.add((b[1], a[1]), account)
                up = [c for c in a[2] if c not in b[2]]
                down = [c for c in b[2] if c not in a[2]]
                for c in up:
                    appeared.add(c, account)
                for c in down:
                    cleared.add(c, account)
                held_b.update(b[2])
                held_a.update(a[2])
                record = {"account_id": account, "bucket": "both", "before": b[1], "after": a[1], "appeared": up, "cleared": down}
            elif b is not None:
                gone.add(b[1], account)
                record = {"account_id": account, "bucket": "only_before", "before": b[1], "after": None}
            else:
                assert a is not None
                new.add(a[1], account)
                record = {"account_id": account, "bucket": "only_after", "before": None, "after": a[1]}
            if sink is not None:
                sink.write(orjson.dumps(record) + b"\n")
    both = sum(transitions.counts.values())
    only_b, only_a = sum(gone.counts.values()), sum(new.counts.values())
    counts_b = FileCounts("<stdin>" if before == "-" else before, lines_b, distinct_b, lines_b - distinct_b)
    counts_a = FileCounts("<stdin>" if after == "-" else after, lines_a, distinct_a, lines_a - distinct_a)
    moves = tuple(
        CauseMove(
            rule_id,
            titles.get(rule_id, ("", ""))[0],
            titles.get(rule_id, ("", ""))[1],
            appeared.counts[rule_id],
            cleared.counts[rule_id],
            held_b[rule_id],
            held_a[rule_id],
            appeared.sample(rule_id),
            cleared.sample(rule_id),
        )
        for rule_id in sorted(set(appeared.counts) | set(cleared.counts), key=lambda r: (-(appeared.counts[r] + cleared.counts[r]), r))
    )
    trans = tuple(
        Transition(vb, va, n, transitions.sample((vb, va)))
        for (vb, va), n in sorted(transitions.counts.items(), key=lambda kv: (_order(kv[0][0]), _order(kv[0][1]), kv[0]))
    )
    result = PortfolioDiff(
        schema_version=SCHEMA_VERSION,
        lang=lang,
        before=counts_b,
        after=counts_a,
        both=both,
        only_before=only_b,
        only_after=only_a,
        reconciled=both + only_b == distinct_b and both + only_a == distinct_a,
        transitions=trans,
        causes=moves,
        gone=_presence(gone),
        new=_presence(new),
        summary="",
        warnings=_pack_warnings(packs_b, packs_a, lang),
    )
    return _with_summary(result)


def _pack_warnings(before: set[str], after: set[str], lang: str) -> tuple[str, ...]:
    """Reports of other rule packs: then a change may come from the rules rather than the accounts."""
    sep = texts.say(lang, "list")
    if before | after and before != after:
        return (texts.say(lang, "p_packs", before=sep.join(sorted(before)) or "-", after=sep.join(sorted(after)) or "-"),)
    return ()


def _order(verdict: str) -> int:
    return BEST_FIRST.index(verdict) if verdict in BEST_FIRST else len(BEST_FIRST)


def _presence(s: _Samples) -> tuple[Presence, ...]:
    return tuple(Presence(v, n, s.sample(v)) for v, n in sorted(s.counts.items(), key=lambda kv: (_order(kv[0]), kv[0])))


def _with_summary(r: PortfolioDiff) -> PortfolioDiff:
    from dataclasses import replace

    lang = r.lang
    moved = [t for t in r.transitions if t.before != t.after]
    worse = sum(t.accounts for t in moved if _order(t.after) > _order(t.before))
    text = texts.say(lang, "p_summary_moves", moved=f"{sum(t.accounts for t in moved):,}", both=f"{r.both:,}", worse=f"{worse:,}",
                     better=f"{sum(t.accounts for t in moved) - worse:,}")  # fmt: skip
    sep = texts.say(lang, "list")
    top_up = sorted((c for c in r.causes if c.appeared), key=lambda c: (-c.appeared, c.rule_id))[:3]
    top_down = sorted((c for c in r.causes if c.cleared), key=lambda c: (-c.cleared, c.rule_id))[:3]
    if top_up:
        text += texts.say(lang, "p_summary_top", ids=sep.join(c.rule_id + texts.say(lang, "paren", n=f"{c.appeared:,}") for c in top_up))
    if top_down:
        text += texts.say(
            lang, "p_summary_cleared", ids=sep.join(c.rule_id + texts.say(lang, "paren", n=f"{c.cleared:,}") for c in top_down)
        )
    text += texts.say(lang, "p_summary_presence", ob=f"{r.only_before:,}", oa=f"{r.only_after:,}")
    return replace(r, summary=text)
