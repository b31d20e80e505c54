"""The command line: parse arguments, call the core, pick a format, write, exit. Nothing else lives here.

One module per command group; each registers its commands on the shared app in `common` when it
is imported. `main` imports only the module of the command asked for when it can (a cold
`diagnose run` builds one command, not fifteen), and every module for anything else. A plain
`diagnose run SNAPSHOT [OPTIONS]` does not build the typer app at all (`quick`): typer and its
click are a third of a cold run.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from diagnose.cli.plain import COLOR, WRITTEN, ClosedStream, ColorChoice, err, out, silence
from diagnose.errors import DiagnoseError, ExitCode, OutputError, PipeClosed

if TYPE_CHECKING:
    import typer

    from diagnose.errorobject import ErrorKind, ErrorObject
    from diagnose.vocab import Lang

__all__ = ["app", "entry", "full_app", "main"]
_MODULES = ("run", "why", "rules", "batch", "schema", "diff", "evaluate", "completion", "docs")
_FAST = {"run": "run", "facts": "run", "why": "why", "diff": "diff", "history": "diff"}
"""Commands whose module alone registers everything they need."""


def full_app() -> typer.Typer:
    """The app with every command registered."""
    from diagnose.cli.common import app

    for name in _MODULES:
        importlib.import_module(f".{name}", __name__)
    from diagnose.cli.rules import rules_app

    if not any(group.typer_instance is rules_app for group in app.registered_groups):
        app.add_typer(rules_app, name="rules")
    return app


def _app_for(args: list[str]) -> typer.Typer:
    module = _FAST.get(args[0]) if args else None
    if module is None:
        return full_app()
    from diagnose.cli.common import app

    importlib.import_module(f".{module}", __name__)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # scripts and tests that take the app get all of it
        return full_app()
    raise AttributeError(name)


def _short(exc: BaseException, limit: int = 300) -> str:
    """An exception's text, cut: it may quote a snapshot, and the whole of one is never printed."""
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("DIAGNOSE_DEBUG") == "1"


def _wants_json(argv: list[str]) -> bool:
    """Whether the command was asked for JSON output (`--format json`, `-f json`, `--format=json`)."""
    for i, arg in enumerate(argv):
        if arg == "--":
            return False
        if arg in ("--format", "-f") and i + 1 < len(argv) and argv[i + 1] == "json":
            return True
        if arg in ("--format=json", "-fjson"):
            return True
    return False


def _lang(argv: list[str]) -> Lang:
    """The language the command was asked for (`--lang zh`, `--lang=zh`, or DIAGNOSE_LANG): what its errors are printed in."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return "zh" if argv[i + 1] == "zh" else "en"
        if arg.startswith("--lang="):
            return "zh" if arg == "--lang=zh" else "en"
    return "zh" if os.environ.get("DIAGNOSE_LANG") == "zh" else "en"


def _json_error(args: list[str], obj: ErrorObject) -> None:
    """With --format json, the error as one JSON object on standard output, so that a script reads the failure where
    it reads results; not after a result (a report, then --fail-on), which stays the one JSON text there."""
    import json

    if not _wants_json(args) or WRITTEN.result:
        return
    try:
        out(json.dumps(obj.to_dict(), ensure_ascii=False) + "\n")
    except PipeClosed:  # no one reads standard output: the message on standard error and the exit code remain
        silence(sys.stdout)
    except OutputError as exc:  # the failure being reported keeps its exit code; that its object was lost is said
        err(exc.render(_lang(args)))


def _plain_error(code: ExitCode, kind: ErrorKind, message: str) -> ErrorObject:
    from diagnose.errorobject import ErrorDetail, ErrorObject

    return ErrorObject(ErrorDetail(int(code), kind, message))


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int, *rest: Any, **kw: Any) -> None:
    err(f"warning: {message}")  # the core warns (a corrupt pack cache entry); people read one line, not a source location


def _dispatch(args: list[str]) -> Any:
    """Run the command line: a plain `diagnose run` straight away, anything else through typer."""
    from diagnose.cli.quick import quick_args

    quick = quick_args(args)
    if quick is None:
        return _app_for(args)(args=args, prog_name="diagnose", standalone_mode=False)
    from diagnose.cli.runner import run_one

    if quick.color_choice is not None:  # what the --color callback does on typer's path
        COLOR.choice = quick.color_choice
    try:
        run_one(quick)
    except KeyboardInterrupt:  # what typer makes of an interrupt and of the end of input, so both paths end alike
        return 130
    except EOFError:
        err("\naborted")
        return 130
    return None


def _typer_outcome(exc: Exception, args: list[str]) -> int | None:
    """The exit code of typer's exits, aborts and usage errors (None for any other exception, or before typer is loaded)."""
    if "typer" not in sys.modules:
        return None
    import typer

    if isinstance(exc, typer.Exit):
        return int(exc.exit_code or 0)
    if isinstance(exc, typer.Abort):
        err("aborted")
        return 130
    if isinstance(exc, typer.TyperException):  # bad flags and arguments: usage, then the error
        show = getattr(exc, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            err(f"usage error: {exc.format_message()}")
        _json_error(args, _plain_error(ExitCode.USAGE, "usage", exc.format_message()))
        return int(ExitCode.USAGE)
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one message on standard error and its documented exit code.

    With `--format json`, standard output also gets the error as one JSON object (docs/report.md).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if sys.stdout is None:  # started with descriptor 1 closed: a result written is then an output error, not a crash
        sys.stdout = ClosedStream()
    WRITTEN.result = False
    COLOR.choice = ColorChoice.auto
    import warnings

    warnings.showwarning = _show_warning
    try:
        result = _dispatch(args)
    except PipeClosed:  # the reader closed the pipe (`| head`): stop quietly
        silence(sys.stdout)
        return 0
    except DiagnoseError as exc:
        lang = _lang(args)
        err(exc.render(lang))
        _json_error(args, exc.error_object(lang))
        return int(exc.exit_code)
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:  # the reader closed the pipe (`| head`): stop quietly
        silence(sys.stdout)
        return 0
    except Exception as exc:
        usage = _typer_outcome(exc, args)  # typer's own exits and usage errors, when typer parsed the line
        if usage is not None:
            return usage
        if _debug_requested(args):  # an internal error: one line, unless --debug
            raise
        from diagnose.errorwords import say

        message = say("internal", name=type(exc).__name__, text=_short(exc)).text(_lang(args))
        err(message)
        _json_error(args, _plain_error(ExitCode.INTERNAL, "internal", message))
        return int(ExitCode.INTERNAL)
    return result if isinstance(result, int) else 0


GC_THRESHOLD = 50_000
"""The young generation of a command's process (Python's default is 700)."""


def entry() -> None:
    """Console-script entry point."""
    # A command is short-lived and most of what it allocates (modules, the pack, a report) lives to its end: with
    # the default young generation the collector walked it some forty times in a cold `diagnose run` (8-13 ms,
    # a twentieth of it) and freed next to nothing. Reference counting frees a command's garbage; a batch
    # sets its own, smaller, threshold for its long run (portfolio.batch.tune_gc).
    import gc

    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    sys.exit(main())
