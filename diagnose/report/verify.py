"""Proving a report: the options its decision record names, and what differs between a recorded report and a fresh one."""

from __future__ import annotations

from typing import Any, NamedTuple

_DECISION_FIRST = ("tool_version", "pack_digest", "input_digest")


class Replay(NamedTuple):
    """The options a recorded report was made with, read from its decision record (older reports: their language)."""

    lang: str
    audience: str
    explain: bool
    timeline: bool
    top: int | None
    redacted: bool


def replay_of(recorded: dict[str, Any]) -> Replay:
    d = recorded.get("decision") if isinstance(recorded.get("decision"), dict) else {}
    assert isinstance(d, dict)
    top = d.get("top")
    return Replay(
        str(d.get("lang", recorded.get("lang", "en"))),
        str(d.get("audience", recorded.get("audience", "all"))),
        d.get("explain") is True,
        d.get("timeline") is True,
        top if isinstance(top, int) and not isinstance(top, bool) and top > 0 else None,
        d.get("redacted") is True,
    )


def differences(recorded: Any, fresh: dict[str, Any]) -> list[str]:
    """What differs, most telling first: the decision record's tool, pack and input, then each top-level field."""
    if not isinstance(recorded, dict):
        return ["the recorded file is not a report (a JSON object)"]
    out = []
    was, now = recorded.get("decision") or {}, fresh.get("decision") or {}
    if isinstance(was, dict):
        for key in _DECISION_FIRST:
            if was.get(key) != now.get(key):
                out.append(f"decision.{key}: recorded {was.get(key)!r}, now {now.get(key)!r}")
    for key in dict.fromkeys([*recorded, *fresh]):
        if key != "decision" and recorded.get(key) != fresh.get(key):
            out.append(
                f"{key}: differs"
                if key in recorded and key in fresh
                else f"{key}: only in the {'recorded' if key in recorded else 'fresh'} report"
            )
    if not out:
        out.append("the same fields, but not the same bytes (spacing or key order)")
    return out
