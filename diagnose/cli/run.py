"""`diagnose run` (one snapshot) and `diagnose facts` (the fact catalog)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.common import ColorOpt, DebugOpt, LangOpt, RedactKeyOpt, RedactOpt, RulesOpt, app
from diagnose.cli.plain import Audience, Lang, Severity, out
from diagnose.cli.runner import DEFAULT_MAX_BYTES, RunArgs, run_one
from diagnose.report.formats import ReportFormat


@app.command()
def run(
    snapshot: Annotated[str, typer.Argument(metavar="SNAPSHOT", help="Snapshot JSON file, or - for standard input.", show_default=False)],
    fmt: Annotated[
        ReportFormat,
        typer.Option("--format", "-f", help="rich (terminal), json (scripts), markdown, or message (a reply to paste to the customer)."),
    ] = ReportFormat.rich,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the N most likely causes.")] = None,
    fail_on: Annotated[Severity | None, typer.Option("--fail-on", help="Exit 1 when a finding of this severity or worse holds.")] = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Largest snapshot accepted, in bytes.")] = DEFAULT_MAX_BYTES,
    audience: Annotated[
        Audience | None,
        typer.Option(
            "--audience", help="Who reads it: customer, agent (the default for views), institution, or all (the default for json)."
        ),
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add near misses and what would decide the undetermined rules.")] = False,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    verify: Annotated[
        Path | None,
        typer.Option(
            "--verify",
            metavar="REPORT",
            help="Prove REPORT (a --format json report) is what this tool, pack and SNAPSHOT give: exit 0 when the bytes are the same, 1 with what differs.",
            show_default=False,
        ),
    ] = None,
    color_choice: ColorOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Diagnose one account snapshot and print the ranked explanation."""
    run_one(
        RunArgs(snapshot, fmt, lang, rules, top, fail_on, max_bytes, audience, explain, redact, redact_key, verify, color_choice, debug)
    )


@app.command()
def facts(
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """List every fact a rule may read: snapshot fields and derived facts, with kind and unit."""
    import json

    from diagnose.snapshot.facts import catalog

    specs = list(catalog().values())
    if fmt == "json":
        rows = [
            {"path": s.path, "kind": s.kind, "unit": s.unit, "values": list(s.values), "derived": s.derived, "description": s.description}
            for s in specs
        ]
        out(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for s in specs:
        kind = s.kind + (f" ({s.unit})" if s.unit else "") + (f" [{', '.join(s.values)}]" if s.values else "")
        out(f"{s.path:45} {kind:30} {'derived: ' + s.description if s.derived else s.description}\n")
