"""The parts of the command line that need no typer: its choices, colour and width, and writing results and messages.

A cold `diagnose run` that the quick path recognises (`diagnose.cli.quick`) runs on these alone, without building
the typer app; the typer commands use the same ones.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from enum import Enum
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
    from diagnose.report.redact import Redactor


class ColorChoice(str, Enum):
    auto = "auto"
    always = "always"
    never = "never"


class _Color:
    """The --color choice of this command (a module-level setting: the views ask for it where they render)."""

    choice = ColorChoice.auto


COLOR = _Color()


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


def warn(text: str, lang: str = "en") -> None:
    """A warning on standard error, headed in the command's language (警告：... under --lang zh)."""
    from diagnose.errorwords import word
    from diagnose.vocab import colon

    err(f"{word('label.warning', 'zh' if lang == 'zh' else 'en')}{colon(lang)}{text}")


def redactor(pack: CompiledPack, redact: bool, key: str | None, lang: str = "en") -> Redactor | None:
    """The --redact hasher of a pack (None without --redact); warns when the public default key is used."""
    if not redact:
        return None
    from diagnose.report.redact import for_pack, resolve_key

    secret, public = resolve_key(key)
    if public:
        from diagnose.errorwords import say

        warn(say("warn.public_key").text("zh" if lang == "zh" else "en"), lang)
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

    try:
        sys.stderr.write(clean(message.rstrip("\n")) + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # standard error is closed or absent: the exit code still tells
        silence(sys.stderr)


def silence(stream: IO[str] | io.TextIOBase | None) -> None:
    """Point a closed stream at /dev/null, so that the interpreter's last flush does not fail on it again."""
    if stream is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file underneath (a test's capture)
        pass


class ClosedStream(io.TextIOBase):
    """Standard output of a process started without one (`>&-`): writing a result to it is an output error (exit 5)."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    @property
    def buffer(self) -> ClosedStream:  # bytes written to it fail alike
        return self
