"""`diagnose rules ...`: test, lint, list and show the rules of a pack."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import CheckFailed
from .common import RulesOpt

rules_app = typer.Typer(help="Rule packs as code: test, lint, list and show rules.", no_args_is_help=True)


@rules_app.command("test")
def rules_test(
    pack_path: Annotated[Path | None, typer.Argument(metavar="[PACK]", help="Rule pack folder (default: the built-in pack).")] = None,
    rules: RulesOpt = None,
) -> None:
    """Run every rule's own examples and report pass or fail per case."""
    from ..engine import CompiledPack
    from ..rulepack import load
    from ..ruletest import run_examples

    pack = CompiledPack.from_pack(load(pack_path or rules))
    run_ = run_examples(pack)
    for r in run_.results:
        if not r.passed:
            loc = f"{r.file}:{r.line}" if r.line else r.file
            sys.stdout.write(f"FAIL {loc}: {r.name}: expected {r.expected}, got {r.actual}\n")
            for d in r.details:
                sys.stdout.write(f"     {d}\n")
    passed = len(run_.results) - len(run_.failed)
    sys.stdout.write(f"{passed} passed, {len(run_.failed)} failed\n")
    if run_.failed:
        raise CheckFailed(f"{len(run_.failed)} rule test(s) failed")
