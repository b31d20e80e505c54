"""`diagnose run` (one snapshot) and `diagnose facts` (the fact catalog)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from diagnose.cli.common import (
    Audience,
    DebugOpt,
    Lang,
    LangOpt,
    RedactKeyOpt,
    RedactOpt,
    RulesOpt,
    Severity,
    app,
    color,
    err,
    out,
    redactor,
    width,
)
from diagnose.errors import CheckFailed, InvalidInput
from diagnose.report.formats import ReportFormat


def view_audience(fmt: ReportFormat, audience: Audience | None) -> str:
    """A chat message is for the customer; other views default to the agent, JSON to everything."""
    if fmt is ReportFormat.message:
        return "customer"
    if audience is not None:
        return audience.value
    return "all" if fmt is ReportFormat.json else "agent"


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
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Largest snapshot accepted, in bytes.")] = 10 * 1024 * 1024,
    audience: Annotated[
        Audience | None,
        typer.Option(
            "--audience", help="Who reads it: customer, agent (the default for views), institution, or all (the default for json)."
        ),
    ] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Add near misses and what would decide the undetermined rules.")] = False,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Diagnose one account snapshot and print the ranked explanation."""
    from diagnose import load_pack
    from diagnose.report.formats import Options, renderer
    from diagnose.snapshot.reader import read_snapshot

    pack = load_pack(rules)
    hasher = redactor(pack, redact, redact_key)
    data: Any = None
    try:
        data, source = read_snapshot(snapshot, max_bytes=max_bytes)
        reader = view_audience(fmt, audience)
        timeline = fmt in (ReportFormat.rich, ReportFormat.markdown)
        report = pack.diagnose(data, lang=lang.value, source=source, explain=explain, timeline=timeline, audience=reader, parsed=True)
    except InvalidInput as exc:
        if hasher is None:
            raise
        from diagnose.report.redact import redact_problems

        raise redact_problems(exc, hasher, data) from None
    if top is not None and fmt is ReportFormat.json:
        report = report.limited(top)
    if hasher is not None:
        from diagnose.report.redact import redact_for_pack

        report = redact_for_pack(report, pack, data, key=hasher.key)
    options = Options(lang=lang.value, color=color(), width=width(), top=top)
    out(renderer(fmt)(report, options))
    sys.stdout.flush()
    for warning in report.warnings:
        err(f"warning: {source}: {warning}")
    if fail_on is not None:
        from diagnose.engine.ranking import SEVERITY

        worst = [f for f in report.findings if SEVERITY[f.severity] >= SEVERITY[fail_on.value]]
        if worst:
            raise CheckFailed(f"{len(worst)} finding(s) at or above {fail_on.value}: {', '.join(f.rule_id for f in worst)}", source=source)


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
