"""Reading snapshot JSON safely: size, encoding, duplicate keys, NaN, nesting, with line and column on errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .errors import InvalidInput, Problem, UsageError

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_ITEMS = 10_000
"""The longest list or object accepted anywhere in a snapshot."""


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


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode(raw: bytes, source: str) -> str:
    """Bytes to text: UTF-8, with or without a byte-order mark; anything else is refused plainly."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInput(
            [Problem("", "the file is UTF-16; snapshots must be UTF-8")], source=source, hint="re-export the snapshot as UTF-8"
        )
    if b"\x00" in raw[:4096]:
        raise InvalidInput([Problem("", "the file holds binary data (NUL bytes), not JSON text")], source=source)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            [Problem("", f"not UTF-8 text: invalid byte 0x{raw[exc.start]:02x} at offset {exc.start}")],
            source=source,
            hint="re-export the snapshot as UTF-8 (GBK and other encodings are not accepted)",
        ) from None


def parse(text: str, source: str, *, max_bytes: int = MAX_BYTES) -> Any:
    """Parse one JSON document; errors name the line and column."""
    if len(text) > max_bytes:
        raise InvalidInput([Problem("", f"the snapshot is {len(text):,} characters; at most {max_bytes:,} are accepted")], source=source)
    if not text.strip():
        raise InvalidInput([Problem("", "the file is empty")], source=source, hint="a snapshot is one JSON object; see SNAPSHOT.md")
    try:
        data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput([Problem("", f"broken JSON: {exc.msg}", exc.lineno, exc.colno)], source=source) from None
    except _Duplicate as exc:
        raise InvalidInput(
            [Problem("", f"duplicate key {str(exc)!r} in one object")], source=source, hint="each key may appear once per object"
        ) from None
    except ValueError as exc:  # NaN, Infinity
        raise InvalidInput([Problem("", f"{exc}: numbers must be finite")], source=source) from None
    except RecursionError:
        raise InvalidInput([Problem("", f"nesting deeper than {MAX_DEPTH} levels")], source=source) from None
    if text.count("{") + text.count("[") > MAX_DEPTH:  # fewer containers than that cannot nest too deep
        _check_shape(data, source)
    return data


def _check_shape(data: Any, source: str) -> None:
    """Nesting depth and container sizes, walked without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            items: Any = node.values()
        elif isinstance(node, list):
            items = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise InvalidInput([Problem("", f"nesting deeper than {MAX_DEPTH} levels")], source=source)
        if len(node) > MAX_ITEMS:
            raise InvalidInput(
                [Problem("", f"a list or object with {len(node):,} entries; at most {MAX_ITEMS:,} are accepted")], source=source
            )
        stack.extend((child, depth + 1) for child in items if isinstance(child, (dict, list)))


def read_snapshot(path: str, *, max_bytes: int = MAX_BYTES) -> tuple[Any, str]:
    """Read a snapshot file (or `-` for standard input) into parsed JSON, and the name to report it by."""
    source = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            p = Path(path)
            if p.is_dir():
                raise UsageError("is a folder, not a snapshot file", source=source, hint="for many snapshots use `diagnose batch FOLDER`")
            with p.open("rb") as fh:
                raw = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise UsageError("no such file", source=source) from None
    except OSError as exc:
        raise InvalidInput([Problem("", f"cannot read: {exc.strerror or exc}")], source=source) from None
    if len(raw) > max_bytes:
        raise InvalidInput(
            [Problem("", f"the snapshot is larger than {max_bytes:,} bytes")],
            source=source,
            hint="raise the limit with --max-bytes if this is a real snapshot",
        )
    return parse(decode(raw, source), source, max_bytes=max_bytes), source
