"""The quick path: a plain `diagnose run SNAPSHOT [OPTIONS]` is recognised without typer, which costs a cold run a third.

It recognises only what it is sure of: `run`, one snapshot, and the command's options each at most once, in
the forms `--name VALUE`, `--name=VALUE` and `-fVALUE`/`-f VALUE`, with values the command accepts. For
anything else (help, completion, an unknown or repeated option, a value typer would reject or read another
way, another command) it answers None and typer parses the whole line, so every message about the command
line is typer's. A test holds the table below to the typer command's own parameters, and the parsed values
to typer's on generated command lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from diagnose.cli.plain import Audience, ColorChoice, Lang, Severity
from diagnose.cli.runner import RunArgs
from diagnose.report.formats import ReportFormat

_POSITIVE = re.compile(r"[1-9][0-9]{0,17}")


def _positive(text: str) -> int:
    if not _POSITIVE.fullmatch(text):
        raise ValueError(text)
    return int(text)


def _path(text: str) -> Path:
    if not text:
        raise ValueError(text)
    return Path(text)


VALUES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "--format": ("fmt", ReportFormat),
    "-f": ("fmt", ReportFormat),
    "--lang": ("lang", Lang),
    "--rules": ("rules", _path),
    "--top": ("top", _positive),
    "--fail-on": ("fail_on", Severity),
    "--max-bytes": ("max_bytes", _positive),
    "--audience": ("audience", Audience),
    "--redact-key": ("redact_key", str),
    "--verify": ("verify", _path),
    "--color": ("color_choice", ColorChoice),
}
"""The options of `diagnose run` that take a value: the field of RunArgs each fills, and how its text becomes a value."""

FLAGS = {"--explain": "explain", "--redact": "redact", "--debug": "debug"}
"""The options of `diagnose run` that are flags."""

ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {"lang": ("DIAGNOSE_LANG", Lang), "redact_key": ("DIAGNOSE_REDACT_KEY", str)}
"""The fields an environment variable fills when the option is not given."""

_COMPLETION = "_DIAGNOSE_COMPLETE"


def quick_args(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> RunArgs | None:
    """The arguments of `diagnose run` when ``argv`` is one the quick path is sure of, else None (typer parses it)."""
    env = os.environ if environ is None else environ
    if os.name == "nt" or _COMPLETION in env:  # typer expands wildcards on Windows and answers completion requests
        return None
    try:
        command = list(argv).index("run")
    except ValueError:
        return None
    before = _options(argv[:command], allowed={"--color"})  # the group's own --color, before the command
    fields = _options(argv[command + 1 :], allowed=set(VALUES) | set(FLAGS))
    if before is None or fields is None or "snapshot" in before or "snapshot" not in fields:
        return None
    if "color_choice" in before and "color_choice" not in fields:
        fields["color_choice"] = before["color_choice"]
    for field, (name, convert) in ENVIRONMENT.items():
        if field not in fields and name in env:
            value = env[name]
            if not value:
                return None  # typer reads an empty variable as unset: let it say so
            try:
                fields[field] = convert(value)
            except ValueError:
                return None
    return RunArgs(**fields)


def _options(tokens: Sequence[str], *, allowed: set[str]) -> dict[str, Any] | None:
    """The fields that ``tokens`` give, or None at the first token the quick path is not sure of."""
    fields: dict[str, Any] = {}
    value: Any
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "-" or not token.startswith("-"):
            if "snapshot" in fields or not token:
                return None
            field, value = "snapshot", token
        elif token in FLAGS:
            if token not in allowed:
                return None
            field, value = FLAGS[token], True
        else:
            name, text, took_next = _split(token, tokens, i)
            if name not in allowed or name not in VALUES or text is None:
                return None
            i += took_next
            field, convert = VALUES[name]
            try:
                value = convert(text)
            except ValueError:
                return None
        if field in fields:
            return None  # given twice: typer's rule (the last wins, callbacks once) is not worth repeating here
        fields[field] = value
    return fields


def _split(token: str, tokens: Sequence[str], i: int) -> tuple[str, str | None, bool]:
    """An option's name, its value, and whether the value is the next token; attached as `--name=VALUE` or `-fVALUE`.

    A next token that starts with a dash is left to typer, which would take it as the value.
    """
    if token.startswith("--") and "=" in token:
        name, _, text = token.partition("=")
        return name, text, False
    if token.startswith("-f") and token != "-f":
        return "-f", token[2:], False
    if i < len(tokens) and not tokens[i].startswith("-"):
        return token, tokens[i], True
    return token, None, False
