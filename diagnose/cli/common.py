"""The typer app and the options and helpers every command shares."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
    from diagnose.report.redact import Redactor

app = typer.Typer(
    name="diagnose",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class _Color:
    """The --color choice of this command (a module-level setting: the views ask for it where they render)."""

    choice = ColorChoice.auto


COLOR = _Color()


def _set_color(value: ColorChoice | None) -> ColorChoice | None:
    if value is not None:
        COLOR.choice = value
    return value


def _show_version(value: bool) -> None:
    if value:
        from diagnose._version import __version__

        out(f"diagnose {__version__}\n")
        raise typer.Exit()


ColorOpt = Annotated[
    ColorChoice | None,
    typer.Option(
        "--color",
        help="Colour: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never.",
        callback=_set_color,
        show_default=False,
    ),
]


@app.callback()
def _diagnose(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True)] = False,
    color: ColorOpt = None,
) -> None:
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


def color(stream: IO[str] | None = None) -> bool:
    """Whether to write colour to ``stream`` (standard output by default): --color, then NO_COLOR, FORCE_COLOR, a terminal."""
    if COLOR.choice is not ColorChoice.auto:
        return COLOR.choice is ColorChoice.always
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "") not in ("", "0", "false"):
        return True
    target = sys.stdout if stream is None else stream
    return target.isatty() and os.environ.get("TERM") != "dumb"


def width() -> int:
    try:
        return max(60, min(os.get_terminal_size(sys.stdout.fileno()).columns, 160))
    except OSError:
        return 100


def text_width() -> int:
    """The width to wrap plain text to: the terminal's, or no limit when the output goes to a file or a pipe."""
    return width() if sys.stdout.isatty() else 10_000


class _Written:
    """Whether this command has written its result: a failure after that adds no error object (one JSON text on stdout)."""

    result = False


WRITTEN = _Written()


def out(text: str) -> None:
    """Write a result to standard output as UTF-8, whatever the locale says the stream's encoding is."""
    WRITTEN.result = True
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
