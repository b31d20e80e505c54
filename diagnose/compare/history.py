"""One account over many snapshots: when each cause started and stopped holding, and the facts behind each change."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.compare import texts
from diagnose.compare.diff import Point, compare, point
from diagnose.compare.model import SCHEMA_VERSION, History, Moment, Track
from diagnose.errors import InvalidInput, UsageError, problem
from diagnose.errorwords import say
from diagnose.snapshot.reader import MAX_BYTES, load, read_snapshot

if TYPE_CHECKING:
    from diagnose.compare.diff import Pack

_LINES = (".jsonl", ".ndjson", ".gz")
"""File names read as JSON Lines (one snapshot a line); any other file holds one snapshot."""


def history(
    pack: Pack,
    snapshots: Iterable[Mapping[str, Any] | tuple[str, Mapping[str, Any]]],
    *,
    lang: str = "en",
    parsed: bool = False,
) -> History:
    """The history of one account from its snapshots (parsed JSON objects, or (source, object) pairs), in time order.

    Snapshots of more than one account raise InvalidInput (exit 4); none at all is a usage error.
    """
    points: list[Point] = []
    for i, item in enumerate(snapshots, start=1):
        source, data = item if isinstance(item, tuple) else (f"snapshot {i}", item)
        points.append(point(pack, data, source=source, lang=lang, parsed=parsed))
    if not points:
        raise UsageError(say("history.none"), hint=say("history.none.hint"))
    first = points[0]
    others = [p for p in points if p.account_id != first.account_id]
    if others:
        raise InvalidInput(
            [
                problem(
                    "account.id",
                    say("compare.accounts", first=p.source, first_id=p.account_id, second=first.source, second_id=first.account_id),
                )
                for p in others
            ],
            source="history",
            hint=say("history.accounts.hint"),
        )
    points.sort(key=lambda p: p.as_of)  # stable: snapshots of the same moment keep their order
    steps = tuple(compare(pack, a, b, lang=lang) for a, b in pairwise(points))
    return History(
        schema_version=SCHEMA_VERSION,
        lang=lang,
        ruleset=first.report.ruleset,
        account_id=first.account_id,
        snapshots=tuple(
            Moment(p.source, p.report.snapshot.as_of, p.report.verdict, tuple(f.rule_id for f in p.report.findings)) for p in points
        ),
        causes=_tracks(pack, points),
        steps=steps,
        warnings=tuple(f"{p.source}{texts.say(lang, 'colon')}{w}" for p in points for w in p.report.warnings),
    )


def _tracks(pack: Pack, points: Sequence[Point]) -> tuple[Track, ...]:
    """A row for each cause that holds at least once: in the order they first hold, then by rank."""
    found = [{f.rule_id: f for f in p.report.findings} for p in points]
    rows: list[tuple[tuple[int, int], Track]] = []
    for cr in pack.rules:
        rid = cr.rule.id
        held = [i for i, by_id in enumerate(found) if rid in by_id]
        if not held:
            continue
        first = found[held[0]][rid]
        latest = found[held[-1]][rid]
        track = Track(
            rule_id=rid,
            family=cr.rule.family,
            title=latest.title,
            states=tuple(p.status.get(rid, "no") for p in points),
            ranks=tuple(by_id[rid].rank if rid in by_id else None for by_id in found),
        )
        rows.append(((held[0], first.rank), track))
    return tuple(t for _, t in sorted(rows, key=lambda pair: pair[0]))


# --- reading the snapshots of a history --------------------------------------------------


def _is_lines(path: Path) -> bool:
    return path.name.endswith(_LINES)


def _lines(raw: Iterable[bytes], name: str, max_bytes: int) -> Iterator[tuple[str, Any]]:
    for n, line in enumerate(raw, start=1):
        if not line.strip():
            continue
        source = f"{name}:{n}"
        if len(line) > max_bytes:
            raise InvalidInput([problem("", say("file.too_large", limit=max_bytes))], source=source, hint=say("file.too_large.hint"))
        yield source, load(line, source, max_bytes=max_bytes)


def read_snapshots(names: Sequence[str], *, max_bytes: int = MAX_BYTES) -> Iterator[tuple[str, Any]]:
    """Each snapshot of files (one snapshot each, or JSON Lines by name: .jsonl, .ndjson, .gz), folders (their .json
    and .jsonl files in name order) and `-` (JSON Lines on standard input), as (source, parsed JSON)."""
    for name in names:
        if name == "-":
            yield from _lines(sys.stdin.buffer, "<stdin>", max_bytes)
            continue
        path = Path(name)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and (p.suffix == ".json" or _is_lines(p)))
            if not files:
                raise UsageError(say("history.empty_folder"), source=name)
        elif path.exists():
            files = [path]
        else:
            raise UsageError(say("file.missing"), source=name)
        for file in files:
            if not _is_lines(file):
                data, source = read_snapshot(str(file), max_bytes=max_bytes)
                yield source, data
                continue
            try:
                opener = gzip.open if file.name.endswith(".gz") else open
                with opener(file, "rb") as fh:
                    yield from _lines(fh, str(file), max_bytes)
            except (OSError, EOFError) as exc:
                raise InvalidInput(
                    [problem("", say("file.unreadable", reason=getattr(exc, "strerror", None) or exc))], source=str(file)
                ) from None
