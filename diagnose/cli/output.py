"""Output helpers the batch commands share: the portfolio summary on a stream, and the closing counts of a run."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from diagnose.cli.common import err
from diagnose.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from diagnose.portfolio.summary import Summary, SummaryFormat


def color_allowed() -> bool:
    return "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def stream_width(stream: IO[str]) -> int:
    try:
        return max(60, min(os.get_terminal_size(stream.fileno()).columns, 160))
    except (OSError, ValueError, io.UnsupportedOperation):
        return 100


def show_summary(summary: Summary, fmt: SummaryFormat, html: Path | None, to_stdout: bool) -> None:
    """The summary on standard output (or standard error, when the reports go to standard output), and the HTML page."""
    from diagnose.portfolio.summary import render, render_html

    stream = sys.stdout if to_stdout else sys.stderr
    tty = stream.isatty()
    stream.write(render(summary, fmt, color=tty and color_allowed(), width=stream_width(stream)))
    stream.flush()
    if html is not None:
        try:
            html.write_text(render_html(summary), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write the HTML page: {exc.strerror or exc}", source=str(html)) from None


def closing_counts(read: int, diagnosed: int, rejected: int, *, resumed_after: int | None, errors_kept: bool, errors_flag: str) -> None:
    """The line every batch ends with on standard error, and how to keep what was rejected."""
    err(
        f"read {read:,} record{'' if read == 1 else 's'} = {diagnosed:,} diagnosed + {rejected:,} rejected"
        + (f" (resumed after {resumed_after:,})" if resumed_after is not None else "")
    )
    if rejected and not errors_kept:
        err(f"  help: use --errors {errors_flag} to keep the rejected records with their raw text")


def closing_checks(internal: int, rejected: int, *, fail_on_rejects: bool) -> None:
    """A run that set records aside for a bug fails (exit 70); --fail-on-rejects makes any rejected record a failed check."""
    from diagnose.portfolio.batch import BatchFailed

    if internal:
        raise BatchFailed(f"{internal:,} record(s) hit a bug in diagnose and were set aside as rejected; please report it")
    if fail_on_rejects and rejected:
        raise CheckFailed(f"{rejected:,} record(s) rejected (--fail-on-rejects)")
