"""The typer app and the options and helpers every command shares."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="diagnose",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _diagnose() -> None:
    """Why a revolving credit line does not come back after repayment: diagnose account snapshots with a YAML rule pack."""
    # A callback keeps `diagnose COMMAND` a group even when one command module is loaded (see cli.main).


class Lang(str, Enum):
    en = "en"
    zh = "zh"


class Audience(str, Enum):
    customer = "customer"
    agent = "agent"
    institution = "institution"
    all = "all"


class Engine(str, Enum):
    local = "local"
    spark = "spark"


class Severity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


RulesOpt = Annotated[Path | None, typer.Option("--rules", help="Rule pack folder (default: the built-in pack).", show_default=False)]
LangOpt = Annotated[Lang, typer.Option("--lang", envvar="DIAGNOSE_LANG", help="Language of texts: en or zh (or set DIAGNOSE_LANG).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")]


def color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def width() -> int:
    try:
        return max(60, min(os.get_terminal_size(sys.stdout.fileno()).columns, 160))
    except OSError:
        return 100


def out(text: str) -> None:
    """Write a result to standard output as UTF-8, whatever the locale says the stream's encoding is."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a stream without bytes underneath (a test's capture): it takes text
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8", "backslashreplace"))
        buffer.flush()


def err(message: str) -> None:
    """One message on standard error; what it quotes from a snapshot or a pack cannot drive the terminal."""
    from diagnose.report.formats import clean

    sys.stderr.write(clean(message.rstrip("\n")) + "\n")
