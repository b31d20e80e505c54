"""One exception family for the whole tool; each error carries the exit code the CLI uses."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # the error object's types, read here by their old names (see __getattr__ at the end)
    from diagnose.errorobject import ErrorDetail as ErrorDetail
    from diagnose.errorobject import ErrorKind as ErrorKind
    from diagnose.errorobject import ErrorObject as ErrorObject
    from diagnose.errorobject import ErrorProblem as ErrorProblem


class ExitCode(IntEnum):
    """Exit codes documented in docs/report.md; every command uses these."""

    OK = 0
    CHECK_FAILED = 1
    USAGE = 2
    INVALID_PACK = 3
    INVALID_INPUT = 4
    OUTPUT = 5
    """An output could not be written: a full disk, no permission, a failed write."""
    INTERNAL = 70


class Problem(NamedTuple):
    """One thing wrong with an input, pinned to where it is."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.path or "(top level)"
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
            if self.path:
                where = f"{self.path} ({where})"
        return f"{where}: {self.message}"


class DiagnoseError(Exception):
    """Base of every error the tool reports on purpose; ``exit_code`` is what the CLI exits with."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind: ErrorKind = "internal"
    label = "error"

    def __init__(self, message: str, *, source: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.hint = hint

    def render(self) -> str:
        """The message as printed on standard error: one block, no traceback."""
        head = f"{self.label}: {self.source}: {self.message}" if self.source else f"{self.label}: {self.message}"
        return head + (f"\n  help: {self.hint}" if self.hint else "")

    def problem_list(self) -> list[ErrorProblem]:
        return []

    def error_object(self) -> ErrorObject:
        """The error as data, for scripts (every problem, not only those printed)."""
        from diagnose.errorobject import ErrorDetail, ErrorObject

        return ErrorObject(ErrorDetail(int(self.exit_code), self.kind, self.message, self.source, self.hint, self.problem_list()))


class UsageError(DiagnoseError):
    exit_code = ExitCode.USAGE
    kind = "usage"
    label = "usage error"


SHOWN = 50
"""Problems printed for one input at the most; the rest are counted."""


class InvalidInput(DiagnoseError):
    """A snapshot that does not follow the contract (exit 4). Carries every problem found."""

    exit_code = ExitCode.INVALID_INPUT
    kind = "invalid_input"
    label = "invalid snapshot"

    def problem_list(self) -> list[ErrorProblem]:
        from diagnose.errorobject import ErrorProblem

        return [ErrorProblem(p.path, p.message, p.line, p.column) for p in self.problems]

    def __init__(
        self,
        problems: list[Problem],
        *,
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(first + more, source=source, hint=hint)

    def __reduce__(self) -> tuple[object, ...]:
        # Sent back from a worker process: rebuilt from its problems, not from its message.
        return (self.__class__, (self.problems,), self.__dict__)

    def render(self) -> str:
        src = self.source or "snapshot"
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = [f"{self.label}: {src}: {len(self.problems)} {noun}"]
        lines += [f"  {p}" for p in self.problems[:SHOWN]]
        if len(self.problems) > SHOWN:
            lines.append(f"  ... and {len(self.problems) - SHOWN} more")
        if self.hint:
            lines.append(f"  help: {self.hint}")
        return "\n".join(lines)


class InvalidLabels(InvalidInput):
    """Labelled cases with bad labels or snapshots (exit 4): each problem names its file and line."""

    label = "invalid labelled cases"

    def render(self) -> str:
        noun = "problem" if len(self.problems) == 1 else "problems"
        head = f"{self.label}: {len(self.problems)} {noun}"
        return "\n".join([head, *(f"  {p}" for p in self.problems[:SHOWN])] + ([f"  help: {self.hint}"] if self.hint else []))


class InvalidPack(DiagnoseError):
    """A rule pack that cannot be loaded (exit 3). Problems name file, line and rule."""

    exit_code = ExitCode.INVALID_PACK
    kind = "invalid_pack"
    label = "invalid rule pack"

    def problem_list(self) -> list[ErrorProblem]:
        from diagnose.errorobject import ErrorProblem

        return [ErrorProblem(p.file, p.message, p.line, p.column, p.rule_id, p.hint) for p in self.problems]

    def __init__(self, problems: list[PackProblem], *, source: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0].render() if self.problems else "invalid rule pack"
        super().__init__(first, source=source)

    def render(self) -> str:
        return "\n".join(f"{self.label}: {p.render()}" for p in self.problems)


class PackProblem(NamedTuple):
    """A problem in a rule file, at file:line:column, optionally inside one rule."""

    file: str
    message: str
    line: int | None = None
    column: int | None = None
    rule_id: str | None = None
    hint: str | None = None
    code: str = "invalid"
    level: str = "error"
    end_line: int | None = None
    end_column: int | None = None
    """Where the bad key or value ends (the column just after it), when known: what a caret spans."""

    def location(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def render(self) -> str:
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        text = f"{self.location()}:{rule} {self.message}"
        if self.hint:
            text += f"\n  help: {self.hint}"
        return text


class OutputError(DiagnoseError):
    """An output could not be written (exit 5): a full disk, no permission; the message names the file."""

    exit_code = ExitCode.OUTPUT
    label = "output error"


class PipeClosed(DiagnoseError):
    """The reader of standard output went away (`| head`): the command stops quietly, exit 0."""

    exit_code = ExitCode.OK
    label = "closed pipe"


class CheckFailed(DiagnoseError):
    """A check failed on purpose: --fail-on met, a rule test failed, lint found errors (exit 1)."""

    exit_code = ExitCode.CHECK_FAILED
    kind = "check_failed"
    label = "check failed"


_OBJECT_NAMES = ("ErrorKind", "ErrorProblem", "ErrorDetail", "ErrorObject")

if not TYPE_CHECKING:  # at run time only: for mypy, every other name of this module stays checked

    def __getattr__(name: str) -> Any:
        """The error object's types, still readable here (`diagnose.errors.ErrorObject`): loaded from errorobject.py when first read."""
        if name in _OBJECT_NAMES:
            from diagnose import errorobject

            return getattr(errorobject, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
