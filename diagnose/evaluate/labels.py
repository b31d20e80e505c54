"""Labelled cases: a snapshot with the causes a resolved ticket confirmed, read from JSON Lines or a folder plus a CSV.

JSON Lines, one case a line (docs/evaluate.md):

    {"snapshot": {...}, "label": {"causes": ["LIQ-FUNDER-QUOTA"], "main": "LIQ-FUNDER-QUOTA", "ticket": "T-1"}}

`causes` lists every cause the ticket confirmed (empty: the ticket found none, the line was
fine); `main`, optional, is the one that mattered most and must be among `causes`. Or a folder
of snapshot .json files with a CSV of labels by account id (`account_id,causes,main,ticket`,
causes separated by `;`). Every problem is collected with its file and line; the reader never
skips a case in silence.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from diagnose.errors import InvalidInput, InvalidLabels, Problem, UsageError
from diagnose.snapshot.reader import load as load_json

if TYPE_CHECKING:
    from diagnose.api import CompiledPack

MAX_LINE_BYTES = 10 * 1024 * 1024 + 64 * 1024
"""A labelled line: the largest snapshot accepted, and room for its label."""
LABEL_KEYS = ("causes", "main", "ticket")
CASE_KEYS = ("snapshot", "label")
HINT = "docs/evaluate.md describes labelled cases"
SHOWN = 200
"""Problems kept for the message at the most; the rest are counted."""


@dataclass(frozen=True, slots=True)
class Label:
    """What a resolved ticket confirmed: its causes (none: nothing was wrong), the main one if it said."""

    causes: tuple[str, ...]
    main: str | None = None
    ticket: str | None = None

    def is_right(self, rule_id: str | None) -> bool:
        """Whether a first-ranked cause (None: no finding) is the answer the ticket gives."""
        if not self.causes:
            return rule_id is None
        if self.main is not None:
            return rule_id == self.main
        return rule_id in self.causes

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"causes": list(self.causes)}
        if self.main is not None:
            out["main"] = self.main
        if self.ticket is not None:
            out["ticket"] = self.ticket
        return out


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled case: where it was read, the snapshot as parsed JSON, its label."""

    source: str
    snapshot: Mapping[str, Any]
    label: Label


@dataclass
class Problems:
    """Every problem met while reading cases, by file and line; reading goes on past each."""

    found: list[tuple[str, Problem]] = field(default_factory=list)
    count: int = 0

    def add(self, source: str, problem: Problem) -> None:
        self.count += 1
        if len(self.found) < SHOWN:
            self.found.append((source, problem))

    def raise_any(self) -> None:
        """InvalidInput (exit 4) naming each problem as file:line, when there was one."""
        if not self.count:
            return
        problems = [p._replace(path=f"{src}: {p.path}" if p.path else src) for src, p in self.found]
        problems += [Problem("", f"... and {self.count - len(self.found):,} more")] if self.count > len(self.found) else []
        raise InvalidLabels(problems, hint=HINT)


def _closest(word: str, known: Mapping[str, Any] | set[str] | frozenset[str]) -> str:
    import difflib

    near = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.7)
    return f" (did you mean {near[0]}?)" if near else ""


def check_label(raw: Any, known: set[str] | frozenset[str], where: str = "label") -> tuple[Label | None, list[Problem]]:
    """A label from its JSON data, checked against the cause ids ``known``; or the problems with it."""
    if not isinstance(raw, dict):
        return None, [Problem(where, 'must be an object: {"causes": [...], "main": ...}')]
    problems = [Problem(f"{where}.{k}", f"unknown key (allowed: {', '.join(LABEL_KEYS)})") for k in raw if k not in LABEL_KEYS]
    causes = raw.get("causes")
    if not isinstance(causes, list) or not all(isinstance(c, str) for c in causes):
        problems.append(Problem(f"{where}.causes", "must be a list of cause ids ([] when the ticket found no cause)"))
        return None, problems
    seen: set[str] = set()
    for i, cause in enumerate(causes):
        if cause in seen:
            problems.append(Problem(f"{where}.causes[{i}]", f"{cause} is listed twice"))
        elif cause not in known:
            problems.append(Problem(f"{where}.causes[{i}]", f"unknown cause {cause}{_closest(cause, known)}"))
        seen.add(cause)
    main = raw.get("main")
    if main is not None and (not isinstance(main, str) or main not in seen):
        problems.append(Problem(f"{where}.main", f"{main!r} must be one of `causes`"))
    ticket = raw.get("ticket")
    if ticket is not None and not isinstance(ticket, str):
        problems.append(Problem(f"{where}.ticket", "must be text"))
    if problems:
        return None, problems
    if main is None and len(causes) == 1:
        main = causes[0]  # one cause is the main one
    return Label(tuple(causes), main, ticket), []


def parse_line(data: bytes, source: str, known: set[str] | frozenset[str]) -> tuple[Case | None, list[Problem]]:
    """One JSON Lines record to a case, or the problems that keep it from being one."""
    try:
        raw = load_json(data, source, max_bytes=MAX_LINE_BYTES)
    except InvalidInput as exc:
        return None, exc.problems
    if not isinstance(raw, dict):
        return None, [Problem("", 'a labelled case is an object: {"snapshot": {...}, "label": {...}}')]
    problems = [Problem(k, f"unknown key (allowed: {', '.join(CASE_KEYS)})") for k in raw if k not in CASE_KEYS]
    snapshot = raw.get("snapshot")
    if not isinstance(snapshot, dict):
        problems.append(Problem("snapshot", "missing, or not an object"))
    label, label_problems = check_label(raw.get("label"), known)
    problems += label_problems
    if problems or label is None or not isinstance(snapshot, dict):
        return None, problems
    return Case(source, snapshot, label), []


def _open(path: Path) -> IO[bytes]:
    fh = path.open("rb")
    magic = fh.read(2)
    fh.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.open(fh, "rb")  # type: ignore[return-value]  # GzipFile is a binary file object
    return fh


def _lines(fh: IO[bytes], name: str, problems: Problems) -> Iterator[tuple[str, bytes]]:
    """Non-blank lines with their file:line; an oversized line is a problem, read past in pieces."""
    limit = MAX_LINE_BYTES + 2
    for lineno, raw in enumerate(iter(lambda: fh.readline(limit), b""), start=1):
        if len(raw) == limit and not raw.endswith(b"\n"):
            while (more := fh.readline(1 << 20)) and not more.endswith(b"\n"):
                pass
            problems.add(f"{name}:{lineno}", Problem("", f"the line is over {MAX_LINE_BYTES:,} bytes"))
            continue
        data = raw.strip()
        if data:
            yield f"{name}:{lineno}", data


def read_jsonl(name: str, known: set[str] | frozenset[str], problems: Problems, stdin: IO[bytes] | None = None) -> Iterator[Case]:
    """The cases of a JSON Lines file (gzip too, or - for standard input), streamed; bad ones go to ``problems``."""
    import sys

    if name == "-":
        yield from _cases(_lines(stdin or sys.stdin.buffer, "<stdin>", problems), known, problems)
        return
    try:
        fh = _open(Path(name))
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", source=name) from None
    with fh:
        try:
            yield from _cases(_lines(fh, name, problems), known, problems)
        except (OSError, EOFError) as exc:  # a truncated gzip file
            raise InvalidInput([Problem("", f"cannot read: {exc}")], source=name) from None


def _cases(lines: Iterator[tuple[str, bytes]], known: set[str] | frozenset[str], problems: Problems) -> Iterator[Case]:
    for source, data in lines:
        case, found = parse_line(data, source, known)
        for p in found:
            problems.add(source, p)
        if case is not None:
            yield case


def read_folder(
    folder: Path, labels_csv: Path, known: set[str] | frozenset[str], problems: Problems, *, max_bytes: int = MAX_LINE_BYTES
) -> Iterator[Case]:
    """Snapshot .json files of ``folder`` joined to the CSV's labels by account id, in file name order.

    The CSV (`account_id,causes,main,ticket`; causes separated by `;`) is held in memory: a few
    dozen bytes a ticket. A snapshot without a label, a label without a snapshot and an account
    labelled twice are problems.
    """
    by_account = read_csv(labels_csv, known, problems)
    used: set[str] = set()
    for path in sorted((p for p in folder.iterdir() if p.suffix == ".json" and p.is_file()), key=lambda p: p.name):
        source = str(path)
        try:
            raw = path.read_bytes()
            snapshot = load_json(raw, source, max_bytes=max_bytes)
        except OSError as exc:
            problems.add(source, Problem("", f"cannot read: {exc.strerror or exc}"))
            continue
        except InvalidInput as exc:
            for p in exc.problems:
                problems.add(source, p)
            continue
        account = snapshot.get("account") if isinstance(snapshot, dict) else None
        account_id = account.get("id") if isinstance(account, dict) else None
        if not isinstance(account_id, str) or not isinstance(snapshot, dict):
            problems.add(source, Problem("account.id", "missing: a snapshot is joined to its label by account id"))
            continue
        label = by_account.get(account_id)
        if label is None:
            problems.add(source, Problem("account.id", f"{account_id} has no label in {labels_csv}"))
            continue
        if account_id in used:
            problems.add(source, Problem("account.id", f"a second snapshot of {account_id}: one snapshot per labelled account"))
            continue
        used.add(account_id)
        yield Case(source, snapshot, label[1])
    for account_id, (line, _) in by_account.items():
        if account_id not in used:
            problems.add(f"{labels_csv}:{line}", Problem("account_id", f"no snapshot of {account_id} in {folder}"))


def read_csv(path: Path, known: set[str] | frozenset[str], problems: Problems) -> dict[str, tuple[int, Label]]:
    """The labels of a CSV by account id, with their line; bad rows go to ``problems``."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise InvalidInput([Problem("", f"not UTF-8 text (byte {exc.start})")], source=str(path), hint=HINT) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if "account_id" not in columns or "causes" not in columns:
        raise InvalidInput(
            [Problem("", "the header must name account_id and causes (and optionally main, ticket)")], source=str(path), hint=HINT
        )
    out: dict[str, tuple[int, Label]] = {}
    for row in reader:
        line = reader.line_num
        where = f"{path}:{line}"
        account_id = (row.get("account_id") or "").strip()
        if not account_id:
            problems.add(where, Problem("account_id", "empty"))
            continue
        raw = {
            "causes": [c.strip() for c in (row.get("causes") or "").split(";") if c.strip()],
            "main": (row.get("main") or "").strip() or None,
            "ticket": (row.get("ticket") or "").strip() or None,
        }
        label, found = check_label(raw, known, "causes")
        for p in found:
            problems.add(where, p._replace(path=p.path.replace("causes.", "")))
        if label is None:
            continue
        if account_id in out:
            problems.add(where, Problem("account_id", f"{account_id} is labelled twice (first at line {out[account_id][0]})"))
            continue
        out[account_id] = (line, label)
    return out


def open_cases(
    inputs: list[str], known: set[str] | frozenset[str], problems: Problems, *, labels_csv: Path | None = None
) -> Iterator[Case]:
    """Cases from JSON Lines files (or -), or from one folder of snapshots with ``labels_csv``."""
    if not inputs:
        raise UsageError("no LABELLED input given", hint=HINT)
    if labels_csv is not None:
        if len(inputs) != 1 or not Path(inputs[0]).is_dir():
            raise UsageError("--labels takes one folder of snapshot .json files as LABELLED", hint=HINT)
        return read_folder(Path(inputs[0]), labels_csv, known, problems)
    for name in inputs:
        if name != "-" and not Path(name).is_file():
            hint = "a folder of snapshots needs --labels FILE.csv" if Path(name).is_dir() else None
            raise UsageError("no such file", source=name, hint=hint)

    def chained() -> Iterator[Case]:
        for name in inputs:
            yield from read_jsonl(name, known, problems)

    return chained()


def template_label(template: str, causes: tuple[str, ...], known: set[str] | frozenset[str]) -> Label:
    """The label of a case made from an example snapshot: the cause its file is named after is the main one.

    `examples/liq-funder-quota.json` was written for LIQ-FUNDER-QUOTA; what else the pack finds
    on it is confirmed too. An example named after no cause has no main cause.
    """
    named = template.upper()
    main = named if named in known else None
    listed = tuple(sorted(set(causes) | ({main} if main else set())))
    return Label(listed, main if main is not None else (listed[0] if len(listed) == 1 else None))


def label_by(pack: CompiledPack, snapshot_text: str) -> Label:
    """The label a pack gives a snapshot: every cause it finds, the first-ranked as the main one (none: no cause)."""
    report = pack.diagnose(orjson.loads(snapshot_text))
    causes = tuple(f.rule_id for f in report.findings)
    return Label(tuple(sorted(causes)), causes[0] if causes else None)


class Relabel:
    """Seeded label noise: a share of tickets confirm one other cause, drawn from all the pack's causes.

    Real tickets disagree with a pack: a cause it ranks lower, one it cannot decide for want of
    data, one no rule sees. Noise makes generated cases show all three.
    """

    def __init__(self, known: set[str] | frozenset[str], seed: int, share: float) -> None:
        import random

        self.causes = sorted(known)
        self.share = share
        self.rng = random.Random(f"{seed}/labels")

    def __call__(self, label: Label) -> Label:
        if not self.share or self.rng.random() >= self.share:
            return label
        cause = self.rng.choice(self.causes)
        return Label((cause,), cause)


def labelled_line(snapshot_text: str, label: Label) -> bytes:
    """One JSON Lines record of a labelled case, from a snapshot's JSON text."""
    return b'{"snapshot":' + snapshot_text.encode() + b',"label":' + orjson.dumps(label.to_dict()) + b"}"
