"""Output helpers the batch commands share: the portfolio summary on a stream, and the closing counts of a run."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

from diagnose.cli.plain import color, err
from diagnose.errors import CheckFailed, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from diagnose.portfolio.segments import By
    from diagnose.portfolio.summary import Summary, SummaryFormat
    from diagnose.vocab import Lang


def stream_width(stream: IO[str]) -> int:
    try:
        return max(60, min(os.get_terminal_size(stream.fileno()).columns, 160))
    except (OSError, ValueError, io.UnsupportedOperation):
        return 100


def show_summary(
    summary: Summary,
    fmt: SummaryFormat,
    html: Path | None,
    to_stdout: bool,
    *,
    lang: str = "en",
    inputs: Sequence[str] = (),
    asked: bool = True,
) -> None:
    """The summary on standard output (or standard error, when the reports go to standard output), and the HTML page.

    ``asked`` False: the summary's segments are there only for the page's heat map (no --by), not for the stream.
    """
    from dataclasses import replace

    from diagnose.portfolio.summary import render
    from diagnose.portfolio.summary_html import render_page
    from diagnose.portfolio.summary_views import render_segments

    page = summary
    if not asked:
        summary = replace(summary, segments=None)
    stream = sys.stdout if to_stdout else sys.stderr
    width = stream_width(stream)
    stream.write(render(summary, fmt, color=color(stream), width=width, lang=lang))
    stream.write(render_segments(summary, fmt, lang=lang, color=color(stream), width=width))
    stream.flush()
    if html is not None:
        from diagnose.outputs import write_text

        write_text(html, render_page(page, lang=lang, inputs=inputs))


def check_by(by: By, summary: bool) -> None:
    if by and not summary:
        raise UsageError("--by breaks the summary down: add --summary")


def slices(by: By, html: Path | None, segments: Sequence[tuple[str, str]]) -> By:
    """What the tally is sliced by: --by, or for the page's heat map the region (else the first segment the pack echoes)."""
    from diagnose.portfolio.segments import By

    if by or html is None or not segments:
        return by
    names = [n for n, _ in segments]
    return By(("region",) if "region" in names else (names[0],))


def closing_counts(
    read: int, diagnosed: int, rejected: int, *, resumed_after: int | None, errors_kept: bool, errors_flag: str, lang: Lang = "en"
) -> None:
    """The line every batch ends with on standard error, and how to keep what was rejected."""
    from diagnose.errorwords import Said, say, word

    noun = Said("record" if read == 1 else "records", "条记录")
    counts = say("batch.counts", read=read, records=noun, diagnosed=diagnosed, rejected=rejected)
    err(counts.text(lang) + (say("batch.resumed", after=resumed_after).text(lang) if resumed_after is not None else ""))
    if rejected and not errors_kept:
        from diagnose.vocab import colon

        err(f"  {word('frame.help', lang)}{colon(lang)}{say('batch.keep_errors', flag=errors_flag).text(lang)}")


def flat_done(accounts: int, findings: int, folder: Path | str | None, lang: Lang = "en") -> None:
    """The line that says where the flat export went (local batch, Spark and summarize alike)."""
    from diagnose.errorwords import say

    err(say("batch.flat", accounts=accounts, findings=findings, folder=folder).text(lang))


def closing_checks(internal: int, rejected: int, *, fail_on_rejects: bool) -> None:
    """A run that set records aside for a bug fails (exit 70); --fail-on-rejects makes any rejected record a failed check."""
    from diagnose.portfolio.batch import BatchFailed

    if internal:
        raise BatchFailed(f"{internal:,} record(s) hit a bug in diagnose and were set aside as rejected; please report it")
    if fail_on_rejects and rejected:
        raise CheckFailed(f"{rejected:,} record(s) rejected (--fail-on-rejects)")
