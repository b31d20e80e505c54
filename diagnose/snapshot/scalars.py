"""Parsers of the snapshot's scalar types (times, dates, HH:MM, time zones), light enough for the cold path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core._pydantic_core import PydanticCustomError

from diagnose import deferred
from diagnose.errorwords import Said, got, say, shown

MAX_INT = 2**53 - 1
"""The largest whole number (either sign) accepted: beyond it JSON tools lose digits."""
MAX_ITEMS = 10_000
"""The longest list or object accepted anywhere in a snapshot."""

# The shapes of docs/snapshot.md's scalars. The compiled contract checks the same patterns natively.
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
HHMM_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
_RFC3339 = deferred.Pattern(DATETIME_PATTERN)
_NAIVE = deferred.Pattern(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE = deferred.Pattern(DATE_PATTERN)
_HHMM = deferred.Pattern(HHMM_PATTERN)


def datetime_problem(value: Any) -> Said:
    """The words for a value that is not an RFC 3339 time with an offset."""
    if isinstance(value, str) and _NAIVE.match(value):
        return say("field.datetime_naive", got=got(value))
    return say("field.datetime", got=got(value))


def _error(kind: str, message: Said) -> PydanticCustomError:
    """A validation error whose words `contract.problems_from` reads back in both languages (the context's `zh`)."""
    return PydanticCustomError(kind, "{message}", {"message": message.en, "zh": message.zh})


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or _RFC3339.match(value) is None:
        raise _error("datetime_format", datetime_problem(value))
    text = value
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    if text[10] != "T":
        text = text[:10] + "T" + text[11:]
    dot = text.find(".", 19)
    if dot != -1:  # fromisoformat on 3.10 takes 3 or 6 fraction digits only
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[: dot + 1] + (text[dot + 1 : end] + "000000")[:6] + text[end:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _error("datetime_invalid", say("field.datetime_unreal", got=got(value))) from None
    offset = parsed.utcoffset()
    if offset is None or abs(offset) >= timedelta(hours=24):
        raise _error("datetime_invalid", say("field.datetime_offset", got=got(value)))
    return parsed


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise _error("date_format", say("field.date", got=got(value)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _error("date_invalid", say("field.date_unreal", got=got(value))) from None


def parse_hhmm(value: Any) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise _error("time_of_day", say("field.hhmm", got=got(value)))
    return value


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo | None:
    """The IANA time zone of that name, or None when there is no such zone (tzdata ships the database)."""
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None  # ZoneInfo reads a file of that name: keep it inside the tz database
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def parse_timezone(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 64 or zone(value) is None:
        raise _error("timezone", say("field.timezone", got=got(value)))
    return value


show = shown
"""A bad value as an English error message shows it (`errorwords.shown`)."""
