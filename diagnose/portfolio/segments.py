"""The keys of `--by`: segment names, `as_of` periods or fact paths, and each report's segment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from diagnose.errors import UsageError
from diagnose.vocab import segment_name

PERIODS = ("day", "week", "month")
"""`--by` keys of the `as_of` date: `as_of:day` (or `day`), `as_of:week`, `as_of:month`."""


@dataclass(frozen=True)
class By:
    """What `--by` groups by: segment names, `as_of` periods, or fact paths, in the order given."""

    fields: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fields)

    @classmethod
    def parse(cls, text: str | None) -> By:
        if not text:
            return cls()
        fields = []
        for raw in text.split(","):
            name = raw.strip()
            if not name:
                raise UsageError(f"--by {text!r}: an empty field", hint="name fields separated by commas, e.g. --by region,tier")
            if name in PERIODS:
                name = f"as_of:{name}"
            if name.startswith("as_of:") and name[6:] not in PERIODS:
                raise UsageError(f"--by {name}: as_of is grouped by day, week or month", hint="e.g. --by as_of:week")
            if name == "as_of":
                raise UsageError("--by as_of: say the period", hint="--by as_of:day, as_of:week or as_of:month")
            if name in fields:
                raise UsageError(f"--by names {name} twice")
            fields.append(segment_name(name))
        if len(fields) > 4:
            raise UsageError("--by takes at most 4 fields", hint="each field multiplies the segments shown")
        return cls(tuple(fields))

    def check(self, known: Iterable[str]) -> None:
        """Every field is a segment, a period, or a known fact path (UsageError otherwise)."""
        from diagnose.snapshot import facts as factlib

        names = set(known)
        for name in self.fields:
            if name.startswith("as_of:") or name in names or factlib.is_fact_path(name):
                continue
            raise UsageError(
                f"--by {name}: not a segment, a period or a fact",
                hint=f"segments: {', '.join(sorted(names))}; periods: as_of:day, as_of:week, as_of:month; `diagnose facts` lists the facts",
            )

    def echoed(self, fields: Sequence[tuple[str, str]]) -> tuple[str, ...]:
        """Fact paths of ``fields`` the pack does not echo: what the batch must add to each report's segments."""
        names = {n for n, _ in fields}
        return tuple(f for f in self.fields if not f.startswith("as_of:") and f not in names)

    def key(self, as_of: str, segments: Mapping[str, Any]) -> tuple[str | None, ...]:
        """One account's segment: the text of each field's value, None when it is not known."""
        return tuple(period(as_of, f[6:]) if f.startswith("as_of:") else segment_text(segments.get(f)) for f in self.fields)


def segment_text(value: Any) -> str | None:
    """A segment value as the text a slice and the flat export show: None when not known, booleans as true/false."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def period(as_of: str, unit: str) -> str | None:
    """The day (2024-01-15), ISO week (2024-W03) or month (2024-01) of an as_of text, in its own offset."""
    day = as_of[:10]
    if unit == "month":
        return day[:7] or None
    if unit == "week":
        try:
            year, week, _ = date.fromisoformat(day).isocalendar()
        except ValueError:
            return None
        return f"{year}-W{week:02d}"
    return day or None
