"""`diagnose run` (one snapshot) and `diagnose facts` (the fact catalog)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from diagnose.cli.common import (
    Audience,
    ColorOpt,
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
    from diagnose import load_pack
    from diagnose.report.formats import Options, renderer
    from diagnose.snapshot.reader import read_snapshot

    pack = load_pack(rules)
    hasher = redactor(pack, redact, redact_key)
    data: Any = None
    try:
        data, source = read_snapshot(snapshot, max_bytes=max_bytes)
        if verify is not None:
            _verify(verify, pack, data, source, redact_key)
            return
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
        if report.decision is not None:
            from dataclasses import replace

            report = replace(report, decision=replace(report.decision, redacted=True))
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


def _verify(path: Path, pack: Any, data: Any, source: str, redact_key: str | None) -> None:
    """Run again with the options the report's decision record names and compare the bytes."""
    import orjson

    from diagnose.errors import InvalidInput, Problem
    from diagnose.report.formats import Options, renderer
    from diagnose.report.verify import differences, replay_of

    try:
        text = path.read_bytes()
        recorded = orjson.loads(text)
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InvalidInput(
            [Problem("", f"cannot read the report to verify: {exc}")],
            source=str(path),
            hint="pass a report written by `diagnose run SNAPSHOT --format json`",
        ) from None
    again = replay_of(recorded) if isinstance(recorded, dict) else replay_of({})
    report = pack.diagnose(
        data, lang=again.lang, source=source, explain=again.explain, timeline=again.timeline, audience=again.audience, parsed=True
    )
    if again.top is not None:
        report = report.limited(again.top)
    if again.redacted:
        from dataclasses import replace

        from diagnose.report.redact import redact_for_pack

        hasher = redactor(pack, True, redact_key)
        assert hasher is not None
        report = redact_for_pack(report, pack, data, key=hasher.key)
        report = replace(report, decision=replace(report.decision, redacted=True)) if report.decision is not None else report
    fresh = renderer(ReportFormat.json)(report, Options(lang=again.lang, color=False, width=80, top=again.top))
    if fresh.encode() == text:
        out(f"verified: {path} is byte for byte what this tool, pack and {source} give\n")
        return
    raise CheckFailed(
        f"{path} is not what this tool, pack and {source} give: " + "; ".join(differences(recorded, orjson.loads(fresh))), source=source
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
