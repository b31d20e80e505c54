"""The command line: parse arguments, call the core, pick a format, write, exit. Nothing else lives here.

One module per command group; each registers its commands on the shared app in `common`.
"""

from __future__ import annotations

import os
import sys

import typer

from ..errors import DiagnoseError, ExitCode
from . import batch, rules, run, schema, why
from .common import app, err

app.add_typer(rules.rules_app, name="rules")
__all__ = ["app", "batch", "entry", "main", "run", "schema", "why"]


def _short(exc: BaseException, limit: int = 300) -> str:
    """An exception's text, cut: it may quote a snapshot, and the whole of one is never printed."""
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("DIAGNOSE_DEBUG") == "1"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one message on standard error and its documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="diagnose", standalone_mode=False)
    except DiagnoseError as exc:
        err(exc.render())
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        err("aborted")
        return 130
    except typer.TyperException as exc:  # bad flags and arguments: usage, then the error
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            err(f"usage error: {exc.format_message()}")
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an internal error: one line, unless --debug
        if _debug_requested(args):
            raise
        err(
            f"internal error: {type(exc).__name__}: {_short(exc)}. This is a bug in diagnose; please report it (run with --debug for the traceback)."
        )
        return int(ExitCode.INTERNAL)
    return result if isinstance(result, int) else 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
