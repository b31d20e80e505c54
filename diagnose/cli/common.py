"""The typer app and the options and helpers every command shares."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
    from diagnose.report.redact import Redactor

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
RedactOpt = Annotated[
    bool, typer.Option("--redact", help="Replace the account id and the facts the pack marks sensitive with a keyed hash.")
]
RedactKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--redact-key",
        envvar="DIAGNOSE_REDACT_KEY",
        help="Secret key of the --redact hash; prefer the environment variable (a flag shows in the process list).",
        show_default=False,
    ),
]


def redactor(pack: CompiledPack, redact: bool, key: str | None) -> Redactor | None:
    """The --redact hasher of a pack (None without --redact); warns when the public default key is used."""
    if not redact:
        return None
    from diagnose.report.redact import for_pack, resolve_key

    secret, public = resolve_key(key)
    if public:
        err("warning: --redact without a key uses the public default key: anyone can confirm a guessed value; set DIAGNOSE_REDACT_KEY")
    return for_pack(pack, secret)


def color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def width() -> int:
    try:
        return max(60, min(os.get_terminal_size(sys.stdout.fileno()).columns, 160))
    except OSError:
        return 100


def out(text: str) -> None:
    """Write a result to standard output as UTF-8, whatever the locale says the stream's encoding is."""
    from diagnose.outputs import writing

    with writing("<stdout>"):  # a full disk is an output error (exit 5); a closed pipe passes as BrokenPipeError
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
