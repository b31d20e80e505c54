"""The JSON report of REPORT.md: one object, deterministic."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report import Report
    from . import Options

# JSON escapes only C0 controls. These pass through raw, yet a terminal showing the report obeys them (C1 controls)
# or shows text in reverse (bidi overrides), and JavaScript before ES2019 cannot hold U+2028/9 in a string.
# They can stand only inside strings, where an escape means the same character: the data is unchanged.
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def render(report: Report, options: Options) -> str:
    text = report.to_json(indent=True)
    if _UNSAFE.search(text):
        text = _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
    return text + "\n"
