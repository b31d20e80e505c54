"""`diagnose schema NAME`: the JSON Schema of each file the tool reads or writes (snapshot, rules, report, diff, history, portfolio-diff)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.common import app, out


class SchemaName(str, Enum):
    snapshot = "snapshot"
    rules = "rules"
    report = "report"
    diff = "diff"
    history = "history"
    portfolio_diff = "portfolio-diff"


@app.command()
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(help="snapshot (input), rules (rule files and pack.yaml), report, diff, history or portfolio-diff (JSON outputs)."),
    ],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the schema to this file.", show_default=False)] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of snapshots, rule files, reports, diffs and histories, generated from the models."""
    from diagnose.packci import schemas  # pydantic's schema generator is imported only here

    text = schemas.dumps(schemas.generate(name.value))
    if output is None:
        out(text)
        return
    from diagnose.outputs import write_text

    write_text(output, text)
