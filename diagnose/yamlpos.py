"""Safe YAML reading that keeps the line and column of every value, for errors that point at the spot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]

MAX_NODES = 200_000
"""Values one file may expand to, aliases included: a "billion laughs" file stops here."""

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

    def where(self, path: Path) -> tuple[int | None, int | None]:
        """The position of the value at ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return (None, None)
            path = path[:-1]


class _Builder:
    def __init__(self) -> None:
        self.positions: dict[Path, tuple[int, int]] = {}
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
                        f"duplicate key {key!r}",
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "each key may appear once in a mapping",
                    )
                key_path: Path = (*path, key, "__key__")
                self.positions[key_path] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.tag == "tag:yaml.org,2002:timestamp":
            return str(node.value)  # dates stay text: the snapshot contract parses them itself
        return self.scalars.construct_object(node, deep=True)


def load(text: str) -> Located:
    """Parse one YAML document; raise YamlError with a position on any problem."""
    try:
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
    return Located(data, builder.positions)
