"""The command line: parse arguments, call the core, pick a format, write, exit. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .errors import CheckFailed, DiagnoseError, ExitCode
from .formats import ReportFormat

app = typer.Typer(
    name="diagnose",
    help="Why a revolving credit line does not come back after repayment: diagnose account snapshots with a YAML rule pack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Lang(str, Enum):
    en = "en"
    zh = "zh"


class Severity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Rule pack folder (default: the built-in pack).", show_default=False)]
LangOpt = Annotated[Lang, typer.Option("--lang", envvar="DIAGNOSE_LANG", help="Language of texts: en or zh (or set DIAGNOSE_LANG).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")]


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _width() -> int:
    try:
        return max(60, min(os.get_terminal_size(sys.stdout.fileno()).columns, 160))
    except OSError:
        return 100


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


@app.command()
def run(
    snapshot: Annotated[str, typer.Argument(metavar="SNAPSHOT", help="Snapshot JSON file, or - for standard input.", show_default=False)],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="rich (terminal), json (scripts) or markdown.")] = ReportFormat.rich,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    top: Annotated[int | None, typer.Option("--top", min=1, help="Show only the N most likely causes.")] = None,
    fail_on: Annotated[Severity | None, typer.Option("--fail-on", help="Exit 1 when a finding of this severity or worse holds.")] = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Largest snapshot accepted, in bytes.")] = 10 * 1024 * 1024,
    debug: DebugOpt = False,
) -> None:
    """Diagnose one account snapshot and print the ranked explanation."""
    from . import load_pack
    from .formats import Options, renderer
    from .inputs import read_snapshot

    pack = load_pack(rules)
    data, source = read_snapshot(snapshot, max_bytes=max_bytes)
    report = pack.diagnose(data, lang=lang.value, source=source)
    if top is not None and fmt is ReportFormat.json:
        report = report.limited(top)
    options = Options(lang=lang.value, color=_color(), width=_width(), top=top)
    sys.stdout.write(renderer(fmt)(report, options))
    sys.stdout.flush()
    for warning in report.warnings:
        _err(f"warning: {source}: {warning}")
    if fail_on is not None:
        from .ranking import SEVERITY

        worst = [f for f in report.findings if SEVERITY[f.severity] >= SEVERITY[fail_on.value]]
        if worst:
            raise CheckFailed(f"{len(worst)} finding(s) at or above {fail_on.value}: {', '.join(f.rule_id for f in worst)}", source=source)


@app.command()
def facts(
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """List every fact a rule may read: snapshot fields and derived facts, with kind and unit."""
    import json

    from .facts import catalog

    specs = list(catalog().values())
    if fmt == "json":
        rows = [
            {"path": s.path, "kind": s.kind, "unit": s.unit, "values": list(s.values), "derived": s.derived, "description": s.description}
            for s in specs
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    for s in specs:
        kind = s.kind + (f" ({s.unit})" if s.unit else "") + (f" [{', '.join(s.values)}]" if s.values else "")
        sys.stdout.write(f"{s.path:45} {kind:30} {'derived: ' + s.description if s.derived else s.description}\n")


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("DIAGNOSE_DEBUG") == "1"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one message on standard error and its documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="diagnose", standalone_mode=False)
    except DiagnoseError as exc:
        _err(exc.render())
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        _err("aborted")
        return 130
    except typer.TyperException as exc:  # bad flags and arguments: usage, then the error
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            _err(f"usage error: {exc.format_message()}")
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an internal error: one line, unless --debug
        if _debug_requested(args):
            raise
        _err(
            f"internal error: {type(exc).__name__}: {exc}. This is a bug in diagnose; please report it (run with --debug for the traceback)."
        )
        return int(ExitCode.INTERNAL)
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
