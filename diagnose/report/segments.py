"""The segment fields a report echoes (product, region, funder ...): which ones a pack's reports carry, and their values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from diagnose.records import jsonable
from diagnose.vocab import SEGMENTS as DEFAULT_SEGMENTS
from diagnose.vocab import segment_name


def segment_fields(sensitive: Iterable[str] = (), extra: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """The segments a pack's reports echo: the defaults that are not sensitive, then the pack's own ``extra`` paths.

    A pack allows a sensitive field by naming it in ``segments`` (pack.yaml); `--redact` hashes it then.
    """
    # a path is sensitive when it or one above it is listed, list indexes ignored: what report.redact hashes
    listed = {re.sub(r"\[\d*\]", "", p.strip()) for p in sensitive if isinstance(p, str)}
    out = [(name, path) for name, path in DEFAULT_SEGMENTS if not any(path == p or path.startswith(p + ".") for p in listed)]
    for path in extra:
        name = segment_name(path)
        if all(name != n for n, _ in out):
            out.append((name, path))
    return tuple(out)


def _newest_channel(repayments: Sequence[Mapping[str, Any]] | None) -> Any:
    """The channel of the repayment submitted last (of the first, when none says when it was submitted)."""
    if not repayments:
        return None
    newest = None
    for r in repayments:  # the first of equal times, as max() would take it
        at = r.get("submitted_at")
        if at is not None and (newest is None or at > newest.get("submitted_at")):
            newest = r
    return (newest if newest is not None else repayments[0]).get("channel")


def values(snapshot: Mapping[str, Any], facts: Mapping[str, Any], fields: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Each segment's value for one account (None when the snapshot does not say), as JSON data."""
    out: dict[str, Any] = {}
    for name, path in fields:
        value = facts.get(path)
        if path == "repayments.channel":
            value = _newest_channel(snapshot.get("repayments"))
        elif not value and path == "line.currency":
            value = "CNY"  # the contract's default, as the report's `line.currency`
        out[name] = value if value is None or type(value) is str else jsonable(value)  # most segments are text
    return out
