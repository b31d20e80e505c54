"""Safe YAML reading that keeps the line and column of every value, for errors that point at the spot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_NODES = 100_000
"""Keys and values one file may expand to, aliases included: a "billion laughs" file stops here."""
MAX_WRITTEN = 50_000
"""Keys and values one file may write out before aliases: each costs time and memory to compose (the default
pack's largest file has about 2,200)."""
MAX_DEPTH = 64
"""Nesting of mappings and lists, aliases included: deeper files are refused before anything recurses."""
MAX_INT = 2**53 - 1
"""The largest whole number (either sign): packs are cached and reported as JSON, which loses the digits of larger ones."""
_INT_TAG = "tag:yaml.org,2002:int"

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:timestamp",
}

try:  # libyaml is much faster; the pure-Python loader gives the same nodes
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class YamlError(Exception):
    """A YAML problem at a line and column (1-based)."""

    def __init__(self, message: str, line: int | None, column: int | None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


@dataclass
class Located:
    """Data read from YAML, and where each value (by its path of keys and indexes) stood."""

    data: Any
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    ends: dict[Path, tuple[int, int]] = field(default_factory=dict)
    """Where each value ends (the line, and the column just after it): what a caret under it spans."""

    def where(self, path: Path) -> tuple[int | None, int | None]:
        """The position of the value at ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return (None, None)
            path = path[:-1]

    def span(self, path: Path) -> tuple[int | None, int | None, int | None, int | None]:
        """Start line and column, end line and column (just after) of the value at ``path`` or its nearest ancestor."""
        path = tuple(path)
        while path and path not in self.positions:
            path = path[:-1]
        line, col = self.positions.get(path, (None, None))
        end_line, end_col = self.ends.get(path, (None, None))
        return line, col, end_line, end_col


class _Builder:
    def __init__(self) -> None:
        self.positions: dict[Path, tuple[int, int]] = {}
        self.ends: dict[Path, tuple[int, int]] = {}
        self.count = 0
        self.scalars = yaml.SafeLoader("")

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlError(
                f"the file expands to more than {MAX_NODES:,} values (too many aliases?)",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "rule files need no deep alias chains; write the values out",
            )
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        self.ends[path] = (node.end_mark.line + 1, node.end_mark.column + 1)
        if node.tag not in _PLAIN_TAGS:
            raise YamlError(
                f"tag {node.tag!r} is not allowed",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                "rule files hold plain data only: remove the tag",
            )
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise YamlError("a key must be a plain scalar", key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                key = str(key_node.value) if key_node.tag != "tag:yaml.org,2002:null" else "null"
                if key in out:
                    raise YamlError(
                        f"duplicate key {_short(key)}",
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "each key may appear once in a mapping",
                    )
                key_path: Path = (*path, key, "__key__")
                self.positions[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self.ends[key_path] = (key_node.end_mark.line + 1, key_node.end_mark.column + 1)
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text: the snapshot contract parses them itself
        if node.tag == _INT_TAG and len(str(node.value).replace("_", "")) > 70:
            # YAML 1.1 reads 1:2:3 as a base-60 number: a long one costs time quadratic in its length to construct.
            raise _too_large(str(node.value), node.start_mark)
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:
            raise YamlError(
                f"cannot read the value {_short(str(node.value))}: {exc}", node.start_mark.line + 1, node.start_mark.column + 1
            ) from None
        if type(value) is int and not -MAX_INT <= value <= MAX_INT:
            raise _too_large(str(node.value), node.start_mark)
        return value


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:30] + "…" + text[-6:])


def _too_large(text: str, mark: Any) -> YamlError:
    return YamlError(
        f"the whole number {_short(text)} is too large; at most {MAX_INT:,} either way is accepted",
        mark.line + 1,
        mark.column + 1,
        "write large values as text in quotes, or scale them (thousands, millions)",
    )


def _error(message: str, mark: Any, hint: str | None = None) -> YamlError:
    return YamlError(message, mark.line + 1 if mark else None, mark.column + 1 if mark else None, hint)


def _survey(text: str) -> None:
    """Bound a file from its event stream, before anything is composed or built.

    Counts the keys and values written and those aliases expand to, measures nesting with aliases
    included, and finds aliases that refer to a node containing them. Each anchor remembers its
    expanded size and height, so a "billion laughs" file is refused after a few dozen events.
    """
    anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values it expands to, its height)
    frames: list[list[Any]] = []  # open containers: [anchor, total when it opened, tallest child so far]
    total = written = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            written += 1
            total += 1
            if len(frames) >= MAX_DEPTH:
                raise _error(f"nesting deeper than {MAX_DEPTH} levels", event.start_mark, "rule files need no deep nesting")
            frames.append([event.anchor, total, 0])
            size, height = 0, 0
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            anchor, opened, tallest = frames.pop()
            if anchor is not None:
                anchors[anchor] = (total - opened + 1, tallest + 1)
            if frames:
                frames[-1][2] = max(frames[-1][2], tallest + 1)
            continue
        elif isinstance(event, yaml.ScalarEvent):
            written += 1
            size, height = 1, 1
            if event.anchor is not None:
                anchors[event.anchor] = (1, 1)
        elif isinstance(event, yaml.AliasEvent):
            written += 1
            found = anchors.get(event.anchor or "")
            if found is None:
                if any(frame[0] == event.anchor for frame in frames):
                    raise _error(f"alias *{event.anchor} refers to a node that contains it", event.start_mark)
                raise _error(f"alias *{event.anchor} names no anchor defined before it", event.start_mark)
            size, height = found
            if len(frames) + height > MAX_DEPTH:
                raise _error(f"nesting deeper than {MAX_DEPTH} levels once aliases are expanded", event.start_mark)
        else:
            continue
        total += size
        if total > MAX_NODES:
            raise _error(
                f"the file expands to more than {MAX_NODES:,} keys and values (too many aliases?)",
                event.start_mark,
                "rule files need no deep alias chains; write the values out",
            )
        if written > MAX_WRITTEN:
            raise _error(f"the file holds more than {MAX_WRITTEN:,} keys and values", event.start_mark, "split the pack into smaller files")
        if frames:
            frames[-1][2] = max(frames[-1][2], height)


def load(text: str) -> Located:
    """Parse one YAML document; raise YamlError with a position on any problem."""
    try:
        _survey(text)
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = exc.problem or exc.context or "invalid YAML"
        raise YamlError(
            f"YAML syntax: {msg}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML: {exc}", None, None) from None
    if node is None:
        return Located(None)
    builder = _Builder()
    data = builder.build(node, ())
    return Located(data, builder.positions, builder.ends)
