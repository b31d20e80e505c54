"""`diagnose docs snapshot|report|rules|causes|glossary`: print a page of the user documentation."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from diagnose.cli.common import app
from diagnose.cli.plain import out
from diagnose.errors import UsageError


class Page(str, Enum):
    snapshot = "snapshot"
    report = "report"
    rules = "rules"
    causes = "causes"
    glossary = "glossary"


@app.command()
def docs(
    name: Annotated[
        Page,
        typer.Argument(
            help="snapshot (the input format), report (the output and exit codes), rules (the rule format), causes, or glossary.",
            show_default=False,
        ),
    ],
) -> None:
    """Print a page of the documentation (Markdown), as shipped with this version of the tool."""
    from diagnose.userdocs import folder, page

    try:
        out(page(name.value))
    except OSError as exc:
        raise UsageError(
            f"cannot read the page {name.value} in {folder()}: {exc.strerror or exc}",
            hint="reinstall diagnose: its documentation ships with it",
        ) from None
