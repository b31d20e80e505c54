"""The typer app and the options every command shares (what needs no typer is in `diagnose.cli.plain`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.plain import COLOR, ColorChoice, Lang, out

app = typer.Typer(
    name="diagnose",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
