"""Reading snapshot JSON safely: size, encoding, duplicate keys, NaN, nesting, with line and column on errors."""

from __future__ import annotations

import contextlib
import gc
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from diagnose import deferred
from diagnose.errors import InvalidInput, UsageError, problem
from diagnose.errorwords import Said, json_detail, say
from diagnose.snapshot.scalars import MAX_INT, MAX_ITEMS
from diagnose.userdocs import see

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64

_SURROGATE_ESCAPE = deferred.Pattern(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = deferred.Pattern("[\ud800-\udfff]")


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return out


class _TooLarge(ValueError):
    pass


class _Big(str):
    """A whole number too large to accept, kept as its digits: read back only to say where it stands."""


def _int(literal: str) -> int:
    # Called for every whole number: the length test is all most of them cost. 2**53 has 16 digits; one of more
    # than 40 is not even converted (converting is quadratic in the number of digits).
    if len(literal) >= 16 and (len(literal) > 40 or not -MAX_INT <= int(literal) <= MAX_INT):
        raise _TooLarge(literal)
    return int(literal)


def _int_or_big(literal: str) -> int | str:
    try:
        return _int(literal)
    except _TooLarge:
        return _Big(literal)


class _NotFinite(ValueError):
    """NaN or Infinity, which Python's json reads and JSON does not have; its text is the constant's name."""


def _constant(name: str) -> Any:
    raise _NotFinite(name)


def decode(raw: bytes, source: str) -> str:
    """Bytes to text: UTF-8, with or without a byte-order mark; anything else is refused plainly."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InvalidInput([problem("", say("file.utf32"))], source=source, hint=say("file.reexport"))
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(raw):
        raise InvalidInput([problem("", say("file.utf16"))], source=source, hint=say("file.reexport"))
    if b"\x00" in raw[:4096]:
        raise InvalidInput([problem("", say("file.binary"))], source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [problem("", say("file.not_utf8", byte=raw[exc.start], offset=exc.start))], source=source, hint=say("file.reexport_gbk")
        ) from None


def _looks_utf16(raw: bytes) -> bool:
    """UTF-16 without a byte-order mark: JSON starts with ASCII, so every other byte of its head is NUL."""
    head = raw[:64]
    return len(head) >= 4 and (not any(head[1::2]) or not any(head[0::2]))


def load(raw: bytes, source: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """One JSON document as bytes (a file, a JSON Lines record): what ``parse(decode(raw))`` reads, without decoding when the fast path can take it."""
    if len(raw) < _LARGE:
        return _load(raw, source, max_bytes)
    with paused_gc():
        return _load(raw, source, max_bytes)


def _load(raw: bytes, source: str, max_bytes: int) -> Any:
    if len(raw) <= max_bytes:
        data = _fast(raw, source)
        if data is not _SLOW:
            return data
    return parse(decode(raw, source), source, max_bytes=max_bytes)


_LARGE = 64 * 1024
"""Bytes from which a document is read with the garbage collector paused (see `paused_gc`)."""


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No garbage collection while a large document is read or validated: the trees made then hold no cycles.

    Speed (bench/scaling.py): the collector would otherwise walk the growing tree again at each
    of its collections while the tree is built, a cost that grows faster than the document; after,
    it is one walk. A collector that was off (a caller's choice) stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str, source: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one JSON document; errors name the line and column, or the path of the value."""
    if len(text) > max_bytes:
        raise InvalidInput([problem("", say("file.too_many_chars", size=len(text), limit=max_bytes))], source=source)
    if not text.strip():
        raise InvalidInput(
            [problem("", say("file.empty"))], source=source, hint=say("file.empty.hint", page=Said(see("snapshot"), see("snapshot", "zh")))
        )
    try:
        data = _fast(text.encode(), source)
    except UnicodeEncodeError:  # a lone surrogate: the careful parser reads it, check_shape says where it is
        data = _SLOW
    if data is not _SLOW:
        return data
    data = _parse_exactly(text, source)
    # As in _fast; and a lone surrogate comes from a \\u escape or from text not decoded here.
    if (
        text.count("{") + text.count("[") > MAX_DEPTH
        or text.count(",") >= MAX_ITEMS - 1
        or _SURROGATE_ESCAPE.search(text)
        or (not text.isascii() and _LONE_SURROGATE.search(text))
    ):
        check_shape(data, source)
    return data


_SLOW = object()
_FOLD = bytes(48 if 48 <= b <= 57 else 123 if b == 91 else b for b in range(256))
"""Every digit to 0 and every [ to {: one pass of the text serves the number and the container checks."""
_SIXTEEN_DIGITS = b"0" * 16


def _fast(raw: bytes, source: str) -> Any:
    """orjson (several times faster), for text it reads exactly as the careful parser would; else _SLOW.

    Taken only for valid UTF-8 (orjson checks; a byte-order mark or UTF-16 fails it) holding an object
    with no \\u escape and no run of 16 digits (so every whole number is within MAX_INT, and none was
    too long for 64 bits), in which every key token became a key. For the last: outside strings,
    each `:` ends a key; inside them, a `:` is written as itself both in the text and by orjson
    (without \\u escapes there is no other way to write one). A repeated key leaves the text with
    at least one `:` more than orjson writes back, and sends it to the careful parser.
    Errors always come from the careful path, which says where.

    The containers are walked only when counts of the text say the walk could find something:
    fewer containers than MAX_DEPTH cannot nest too deep, and a list of MAX_ITEMS needs that many
    commas (and so a text of twice as many bytes).
    """
    if b"\\" in raw and b"\\u" in raw:
        return _SLOW
    folded = raw.translate(_FOLD)
    if folded.find(_SIXTEEN_DIGITS) != -1:
        return _SLOW
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _SLOW
    if type(data) is not dict:
        return _SLOW  # not a snapshot: the careful path names what it is
    # Speed (bench/tricks.py "fast read"): this path, made exact by the `:` count and the fold above,
    # saves 9-10% of a batch record's CPU against the careful parser.
    dumped = orjson.dumps(data)
    # Text that orjson writes back byte for byte lost no key (the usual JSON Lines export, written
    # compactly): one comparison instead of counting the `:` of both texts.
    if dumped != raw and dumped.count(b":") != raw.count(b":"):
        return _SLOW
    if folded.count(b"{") > MAX_DEPTH or (len(raw) > 2 * MAX_ITEMS and raw.count(b",") >= MAX_ITEMS - 1):
        check_shape(data, source, scalars=False)
    return data


def _parse_exactly(text: str, source: str) -> Any:
    try:
        return _loads(text, source, _int)
    except _TooLarge:  # read it again with such numbers kept as digits, to say where the first one stands
        check_shape(_loads(text, source, _int_or_big), source)
        raise AssertionError("unreachable: check_shape refuses every _Big") from None


def _loads(text: str, source: str, read_int: Any) -> Any:
    """json.loads with the hooks; every error of the text becomes InvalidInput (_TooLarge passes through)."""
    import json  # the careful parser only: most snapshots take orjson's path

    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant, parse_int=read_int)
    except json.JSONDecodeError as exc:
        raise InvalidInput([problem("", say("json.broken", detail=json_detail(exc.msg)), exc.lineno, exc.colno)], source=source) from None
    except _Duplicate as exc:
        raise InvalidInput(
            [problem("", say("json.duplicate", key=_literal(str(exc)[:60])))], source=source, hint=say("json.duplicate.hint")
        ) from None
    except _TooLarge:
        raise
    except _NotFinite as exc:  # NaN, Infinity
        raise InvalidInput([problem("", say("json.not_finite", name=str(exc)))], source=source) from None
    except RecursionError:
        raise InvalidInput([problem("", say("json.too_deep", depth=MAX_DEPTH))], source=source) from None


Where = tuple[Any, ...] | None
"""A path as a linked list (parent, key): built for every container, spelled out only for an error."""


def _spell(where: Where) -> str:
    keys: list[Any] = []
    while where is not None:
        where, key = where
        keys.append(key)
    out = ""
    for key in reversed(keys):
        if isinstance(key, int):
            out += f"[{key}]"
        else:
            shown = _literal(key[:60]) + ("…" if len(key) > 60 else "")
            out += f".{shown}" if out else shown
    return out


def _literal(text: str) -> str:
    """Text as it can be printed: lone surrogates and control characters as escapes."""
    if text.isprintable() and not _LONE_SURROGATE.search(text):
        return text
    return text.encode("ascii", "backslashreplace").decode("ascii")


def check_shape(data: Any, source: str, *, scalars: bool = True) -> None:
    """Nesting depth, container sizes, whole numbers and valid Unicode, walked without recursion.

    `parse` runs it when a scan of the text says it could find something; callers that get data from
    elsewhere than JSON text (the API) can run it on any parsed value: it raises InvalidInput with the path.
    ``scalars=False`` checks only the containers: for data the fast parser read, whose numbers and
    text are already known to be within bounds.
    """
    if not isinstance(data, (dict, list)):
        _check_scalar(data, None, source)
        return
    if not scalars:
        if _containers_fit(data):
            return
        scalars = True  # something is out of bounds: walk again, spelling out where
    stack: list[tuple[Any, int, Where]] = [(data, 1, None)]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidInput([problem(_spell(where), say("json.too_deep", depth=MAX_DEPTH))], source=source)
        if len(node) > MAX_ITEMS:
            key = "json.big_object" if isinstance(node, dict) else "json.big_list"
            raise InvalidInput([problem(_spell(where), say(key, size=len(node), limit=MAX_ITEMS))], source=source)
        items: Any = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            if type(key) is str and _LONE_SURROGATE.search(key):
                raise InvalidInput(
                    [problem(_spell(where), say("json.surrogate_key", key=_literal(key[:60])))],
                    source=source,
                    hint=say("json.surrogate.hint"),
                )
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1, (where, key)))
            elif kind is str or kind is int or kind is _Big:
                _check_scalar(child, (where, key), source)


def _containers_fit(data: Any) -> bool:
    """Depth and sizes within bounds, looking at containers only (no paths kept: the fast check).

    Speed: a level of the tree at a time, each gathered by comprehensions, with no tuple made a
    container: about half the time of a stack of (node, depth) pairs (bench/scaling.py).
    """
    level: list[Any] = [data]
    for _ in range(MAX_DEPTH):
        if max(map(len, level)) > MAX_ITEMS:
            return False
        below = [c for node in level if type(node) is dict for c in node.values() if type(c) is dict or type(c) is list]
        below += [c for node in level if type(node) is list for c in node if type(c) is dict or type(c) is list]
        if not below:
            return True
        level = below
    return False


def _check_scalar(value: Any, where: Where, source: str) -> None:
    if type(value) is str and _LONE_SURROGATE.search(value):
        raise InvalidInput(
            [problem(_spell(where), say("json.surrogate_text", text=_literal(value[:60])))], source=source, hint=say("json.surrogate.hint")
        )
    if type(value) is _Big or (type(value) is int and not -MAX_INT <= value <= MAX_INT):
        number: Said | str
        if type(value) is int and value.bit_length() > 10_000:  # too long for str() (sys.get_int_max_str_digits)
            number = say("json.big_int.digits", sign="-" if value < 0 else "", count=value.bit_length() * 30103 // 100_000)
        else:
            sign, digits = ("-", str(value)[1:]) if str(value).startswith("-") else ("", str(value))
            cut = len(digits) > 24
            number = say("json.big_int.cut", sign=sign, head=digits[:10], tail=digits[-4:], count=len(digits)) if cut else sign + digits
        raise InvalidInput(
            [problem(_spell(where), say("json.big_int", number=number, limit=MAX_INT))], source=source, hint=say("json.big_int.hint")
        )


def open_regular(path: Path, command: str) -> IO[bytes]:
    """A file opened for reading if it is a regular file; a pipe, a device or a socket is refused (UsageError) at once.

    Opened without blocking, so that a FIFO with no writer is refused rather than waited on;
    ``command`` is how the refusal's hint says to feed such a stream (`diagnose run - <`).
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise not_regular(str(path), command)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def not_regular(name: str, command: str) -> UsageError:
    return UsageError(say("file.not_regular"), source=name, hint=say("file.not_regular.hint", command=command, name=name))


def read_snapshot(path: str, *, max_bytes: int = MAX_BYTES) -> tuple[Any, str]:
    """Read a snapshot file (or `-` for standard input) into parsed JSON, and the name to report it by."""
    source = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise UsageError(say("file.folder"), source=source, hint=say("file.folder.hint"))
            with open_regular(p, "diagnose run - <") as fh:
                raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise UsageError(say("file.missing"), source=source) from None
    except OSError as exc:
        raise InvalidInput([problem("", say("file.unreadable", reason=exc.strerror or exc))], source=source) from None
    if len(raw) > max_bytes:
        raise InvalidInput([problem("", say("file.too_large", limit=max_bytes))], source=source, hint=say("file.too_large.hint"))
    return load(raw, source, max_bytes=max_bytes), source
