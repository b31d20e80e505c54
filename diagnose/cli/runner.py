"""What `diagnose run` does once its arguments are known; it needs no typer, so the quick path and the command share it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NamedTuple

from diagnose.cli.plain import Audience, ColorChoice, Lang, Severity, color, out, redactor, warn, width
from diagnose.errors import CheckFailed, InvalidInput
from diagnose.report.formats import ReportFormat
from diagnose.vocab import colon

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


class RunArgs(NamedTuple):
    """The arguments of one `diagnose run`, with the command's defaults (a named tuple: a dataclass costs a cold run 1 ms)."""

    snapshot: str
    fmt: ReportFormat = ReportFormat.rich
    lang: Lang = Lang.en
    rules: Path | None = None
    top: int | None = None
    fail_on: Severity | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    audience: Audience | None = None
    explain: bool = False
    redact: bool = False
    redact_key: str | None = None
    verify: Path | None = None
    color_choice: ColorChoice | None = None
    debug: bool = False


def view_audience(fmt: ReportFormat, audience: Audience | None) -> str:
    """A chat message is for the customer; other views default to the agent, JSON to everything."""
    if fmt is ReportFormat.message:
        return "customer"
    if audience is not None:
        return audience.value
    return "all" if fmt is ReportFormat.json else "agent"


def run_one(args: RunArgs) -> None:
    """Diagnose one snapshot and write the report; a failure is a DiagnoseError, as everywhere in the CLI."""
    from diagnose import load_pack
    from diagnose.report.formats import Options, renderer
    from diagnose.snapshot.reader import read_snapshot

    fmt, lang = args.fmt, args.lang
    pack = load_pack(args.rules)
    hasher = redactor(pack, args.redact, args.redact_key, args.lang.value)
    data: Any = None
    try:
        data, source = read_snapshot(args.snapshot, max_bytes=args.max_bytes)
        if args.verify is not None:
            _verify(args.verify, pack, data, source, args.redact_key)
            return
        reader = view_audience(fmt, args.audience)
        timeline = fmt in (ReportFormat.rich, ReportFormat.markdown)
        report = pack.diagnose(data, lang=lang.value, source=source, explain=args.explain, timeline=timeline, audience=reader, parsed=True)
    except InvalidInput as exc:
        if hasher is None:
            raise
        from diagnose.report.redact import redact_problems

        raise redact_problems(exc, hasher, data) from None
    if args.top is not None and fmt is ReportFormat.json:
        report = report.limited(args.top)
    if hasher is not None:
        from diagnose.report.redact import redact_for_pack

        report = redact_for_pack(report, pack, data, key=hasher.key)
        if report.decision is not None:
            from dataclasses import replace

            report = replace(report, decision=replace(report.decision, redacted=True))
    options = Options(lang=lang.value, color=color(), width=width(), top=args.top)
    out(renderer(fmt)(report, options))
    sys.stdout.flush()
    for warning in report.warnings:
        warn(f"{source}{colon(lang.value)}{warning}", lang.value)
    if args.fail_on is not None:
        from diagnose.engine.ranking import SEVERITY

        worst = [f for f in report.findings if SEVERITY[f.severity] >= SEVERITY[args.fail_on.value]]
        if worst:
            from diagnose.errorwords import Said, say
            from diagnose.vocab import WORDS

            severity = Said(args.fail_on.value, WORDS["severity"]["zh"][args.fail_on.value])
            raise CheckFailed(
                say("check.fail_on", count=len(worst), severity=severity, ids=", ".join(f.rule_id for f in worst)), source=source
            )


def _verify(path: Path, pack: Any, data: Any, source: str, redact_key: str | None) -> None:
    """Run again with the options the report's decision record names and compare the bytes."""
    import orjson

    from diagnose.errors import Problem
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
