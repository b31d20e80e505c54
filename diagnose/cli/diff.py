"""`diagnose diff` (two snapshots of an account, or two days of batch reports) and `diagnose history` (one account over time)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from diagnose.cli.common import DebugOpt, LangOpt, RulesOpt, app
from diagnose.cli.plain import Lang, color, out, warn, width
from diagnose.compare.render import DiffFormat, HistoryFormat
from diagnose.errors import UsageError

if TYPE_CHECKING:
    from diagnose.report.formats import Options

PANEL = "Changes over time"
MaxBytesOpt = Annotated[int, typer.Option("--max-bytes", min=1, help="Largest snapshot accepted, in bytes.")]


@app.command(rich_help_panel=PANEL)
def diff(
    before: Annotated[
        str, typer.Argument(metavar="BEFORE", help="The earlier snapshot (JSON file, or - for standard input).", show_default=False)
    ],
    after: Annotated[str, typer.Argument(metavar="AFTER", help="The later snapshot (JSON file, or -).", show_default=False)],
    fmt: Annotated[
        DiffFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="rich (terminal), json (scripts), markdown, message (a reply to the customer); html with --reports only.",
        ),
    ] = DiffFormat.rich,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    reports: Annotated[
        bool, typer.Option("--reports", help="BEFORE and AFTER are two days of `diagnose batch` reports (JSON Lines): a portfolio diff.")
    ] = False,
    cross_account: Annotated[
        bool, typer.Option("--cross-account", help="Compare snapshots of two different accounts on purpose (otherwise exit 4).")
    ] = False,
    all_facts: Annotated[
        bool, typer.Option("--all-facts", help="Show the values of the facts that changed but decided nothing, not only their names.")
    ] = False,
    accounts: Annotated[
        Path | None,
        typer.Option(
            "--accounts", help="With --reports: write every account and its bucket to this file (JSON Lines).", show_default=False
        ),
    ] = None,
    sample: Annotated[int, typer.Option("--sample", min=0, help="With --reports: accounts shown for each bucket.")] = 3,
    max_bytes: MaxBytesOpt = 10 * 1024 * 1024,
    debug: DebugOpt = False,
) -> None:
    """What changed between two snapshots of one account, and which change did it."""
    from diagnose.report.formats import Options

    options = Options(lang=lang.value, color=color(), width=width())
    if reports:
        _portfolio(before, after, fmt, options, accounts, sample)
        return
    if fmt is DiffFormat.html:
        raise UsageError("--format html is for a portfolio diff", hint="add --reports to compare two days of batch reports")
    if accounts is not None:
        raise UsageError("--accounts is for a portfolio diff", hint="add --reports to compare two days of batch reports")
    if before == "-" and after == "-":
        from diagnose.errorwords import say

        raise UsageError(say("diff.one_stdin"))
    from diagnose import load_pack
    from diagnose.compare.diff import diff as make_diff
    from diagnose.compare.render import render_diff
    from diagnose.snapshot.reader import read_snapshot

    pack = load_pack(rules)
    a, source_a = read_snapshot(before, max_bytes=max_bytes)
    b, source_b = read_snapshot(after, max_bytes=max_bytes)
    audience = "customer" if fmt is DiffFormat.message else "all"
    result = make_diff(
        pack,
        a,
        b,
        lang=lang.value,
        audience=audience,
        allow_different_accounts=cross_account,
        sources=(source_a, source_b),
        parsed=True,
    )
    out(render_diff(result, fmt, options, all_facts=all_facts))
    for warning in result.warnings:
        warn(warning, options.lang)


def _portfolio(before: str, after: str, fmt: DiffFormat, options: Options, accounts: Path | None, sample: int) -> None:
    from diagnose.compare.portfolio import diff_reports
    from diagnose.compare.render_portfolio import render_portfolio

    if fmt is DiffFormat.message:
        raise UsageError("--format message is for two snapshots of one account", hint="use rich, json, markdown or html with --reports")
    for name in (before, after):
        if accounts is not None and name != "-" and Path(name).resolve() == accounts.resolve():
            raise UsageError("--accounts would overwrite an input", source=str(accounts))
    result = diff_reports(before, after, lang=options.lang, sample=sample, accounts=accounts)
    out(render_portfolio(result, fmt, options))
    for warning in result.warnings:
        warn(warning, options.lang)


@app.command(rich_help_panel=PANEL)
def history(
    snapshots: Annotated[
        list[str],
        typer.Argument(
            metavar="SNAPSHOTS...",
            help="Snapshot files of one account, folders of them, JSON Lines files (.jsonl, .gz), or - (JSON Lines).",
            show_default=False,
        ),
    ],
    fmt: Annotated[HistoryFormat, typer.Option("--format", "-f", help="rich (terminal), json (scripts) or markdown.")] = HistoryFormat.rich,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    max_bytes: MaxBytesOpt = 10 * 1024 * 1024,
    debug: DebugOpt = False,
) -> None:
    """One account over time: when each cause started and stopped holding, and the facts behind each change."""
    from diagnose import load_pack
    from diagnose.compare.history import history as make_history
    from diagnose.compare.history import read_snapshots
    from diagnose.compare.render import render_history
    from diagnose.report.formats import Options

    pack = load_pack(rules)
    result = make_history(pack, read_snapshots(snapshots, max_bytes=max_bytes), lang=lang.value, parsed=True)
    out(render_history(result, fmt, Options(lang=lang.value, color=color(), width=width())))
    for warning in result.warnings:
        warn(warning, lang.value)
