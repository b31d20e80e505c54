"""The JSON report of docs/report.md: one object, deterministic (control and bidi characters escaped by `report.dumps`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diagnose.records import Report
    from diagnose.report.formats import Options


def render(report: Report, options: Options) -> str:
    return report.to_json(indent=True) + "\n"
