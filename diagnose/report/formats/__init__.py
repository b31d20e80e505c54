"""Output formats of a report, one module each behind one interface: `render(report, options) -> str`."""

from __future__ import annotations

import importlib
import re
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from diagnose.records import Report


class ReportFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"
    message = "message"


class Options(NamedTuple):
    """How a report is rendered: the language, colour, width, and how many findings are shown."""

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
    ReportFormat.message: "message",
}


def renderer(fmt: ReportFormat) -> Renderer:
    """The render function of a format; every member of ReportFormat has one (a test checks)."""
    module = importlib.import_module(f".{_MODULES[fmt]}", __name__)
    return module.render  # type: ignore[no-any-return]


# C0 and C1 controls (ESC starts terminal sequences), bidi overrides and marks (text that reads backwards),
# and lone surrogates (text no encoder will write). Tab and newline stay unless the text must stay on one line.
# Compiled on first use: a class with the surrogates' range takes a millisecond to compile, and the JSON path never cleans.
_CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_CONTROL_INLINE = "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def clean(value: Any, *, inline: bool = False) -> str:
    """Text from a snapshot or a pack, made inert for a terminal: control and bidi characters become visible.

    With ``inline``, tab and line breaks are shown as escapes too: for values that must not start a line of their own.
    """
    text = str(value)
    # Every character either pattern matches is a control, a format character, a surrogate or a line or paragraph
    # separator, none of which is printable: a printable text (most are) holds none, and no pattern is compiled.
    if text.isprintable():
        return text
    return re.sub(_CONTROL_INLINE if inline else _CONTROL, _visible, text)
