"""Parsers of the snapshot's scalar types (times, dates, HH:MM, time zones), light enough for the cold path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core._pydantic_core import PydanticCustomError

from diagnose import deferred

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

DATETIME_WORDS = "must be an RFC 3339 time such as 2024-01-15T10:30:00+08:00 (got {got})"
NAIVE_WORDS = "time {got} has no UTC offset; add one, e.g. +08:00 or Z"
DATE_WORDS = "must be a date YYYY-MM-DD (got {got})"
HHMM_WORDS = "must be a local time HH:MM from 00:00 to 23:59 (got {got})"
TIMEZONE_WORDS = "must be an IANA time zone name such as Asia/Shanghai (got {got})"


def datetime_problem(value: Any) -> str:
    """The words for a value that is not an RFC 3339 time with an offset."""
    if isinstance(value, str) and _NAIVE.match(value):
        return NAIVE_WORDS.format(got=show(value))
    return DATETIME_WORDS.format(got=show(value))


def _error(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, "{message}", {"message": message})


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
        raise _error("datetime_invalid", f"{show(value)} is not a real time") from None
    offset = parsed.utcoffset()
    if offset is None or abs(offset) >= timedelta(hours=24):
        raise _error("datetime_invalid", f"{show(value)} has an impossible UTC offset")
    return parsed


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise _error("date_format", DATE_WORDS.format(got=show(value)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _error("date_invalid", f"{show(value)} is not a real calendar date") from None


def parse_hhmm(value: Any) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise _error("time_of_day", HHMM_WORDS.format(got=show(value)))
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
        raise _error("timezone", TIMEZONE_WORDS.format(got=show(value)))
    return value


def show(value: Any, limit: int = 60) -> str:
    """A short, literal rendering of a bad value for an error message."""
    if isinstance(value, str):
        text = repr(value)
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "an object"
    elif isinstance(value, list):
        text = "a list"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
