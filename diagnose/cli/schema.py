"""`diagnose schema NAME`: the JSON Schema of each kind of file the tool reads or writes."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.common import app
from diagnose.cli.plain import out


class SchemaName(str, Enum):
    snapshot = "snapshot"
    pack = "pack"
    rules = "rules"
    case = "case"
    report = "report"
    diff = "diff"
    history = "history"
    portfolio_diff = "portfolio-diff"
    error = "error"


@app.command()
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(
            help="snapshot (input), pack (pack.yaml), rules (rule files), case (golden case files), "
            "report, diff, history or portfolio-diff (JSON outputs), or error (the JSON output of a failure)."
        ),
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the schema to this file.", show_default=False)] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of one kind of file, generated from the models; its `$id` is urn:diagnose:schema:NAME."""
    from diagnose.packci import schemas  # pydantic's schema generator is imported only here

    text = schemas.dumps(schemas.generate(name.value))
    if output is None:
        out(text)
        return
    from diagnose.outputs import write_text

    write_text(output, text)
