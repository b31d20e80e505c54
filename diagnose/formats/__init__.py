"""Output formats of a report, one module each behind one interface: `render(report, options) -> str`."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..report import Report


class ReportFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"


@dataclass(frozen=True)
class Options:
    lang: str = "en"
    color: bool = False
    width: int = 100
    top: int | None = None


class Renderer(Protocol):
    def __call__(self, report: Report, options: Options) -> str: ...


_MODULES = {
    ReportFormat.rich: "richview",
    ReportFormat.json: "jsonfmt",
    ReportFormat.markdown: "markdown",
}


def renderer(fmt: ReportFormat) -> Renderer:
    """The render function of a format; every member of ReportFormat has one (a test checks)."""
    module = importlib.import_module(f".{_MODULES[fmt]}", __name__)
    return module.render  # type: ignore[no-any-return]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(value: Any) -> str:
    """Text from a snapshot or a pack, made inert for a terminal: control and bidi characters become visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 256 else f"\\u{ord(m.group(0)):04x}", str(value))
