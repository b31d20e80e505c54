"""Parsers of the snapshot's scalar types (times, dates, HH:MM), light enough for the cold path."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from pydantic_core import PydanticCustomError

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_datetime(value: Any) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "datetime_type",
            "must be an RFC 3339 time string such as 2024-01-15T10:30:00+08:00 (got {got})",
            {"got": show(value)},
        )
    if _RFC3339.match(value) is None:
        if _NAIVE.match(value):
            raise PydanticCustomError(
                "datetime_offset",
                "time {got} has no UTC offset; add one, e.g. +08:00 or Z",
                {"got": show(value)},
            )
        raise PydanticCustomError(
            "datetime_format",
            "must be an RFC 3339 time such as 2024-01-15T10:30:00+08:00 (got {got})",
            {"got": show(value)},
        )
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
        raise PydanticCustomError("datetime_invalid", "{got} is not a real time", {"got": show(value)}) from None
    offset = parsed.utcoffset()
    if offset is None or abs(offset) >= timedelta(hours=24):
        raise PydanticCustomError("datetime_invalid", "{got} has an impossible UTC offset", {"got": show(value)})
    return parsed


def parse_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise PydanticCustomError("date_format", "must be a date YYYY-MM-DD (got {got})", {"got": show(value)})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_invalid", "{got} is not a real calendar date", {"got": show(value)}) from None


def parse_hhmm(value: Any) -> str:
    if not isinstance(value, str) or not _HHMM.match(value):
        raise PydanticCustomError("time_of_day", "must be a local time HH:MM from 00:00 to 23:59 (got {got})", {"got": show(value)})
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
