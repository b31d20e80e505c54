"""One exception family for the whole tool; each error carries the exit code the CLI uses."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

from diagnose.vocab import bracket
from diagnose.vocab import colon as _colon

if TYPE_CHECKING:  # the error object's types, read here by their old names (see __getattr__ at the end)
    from diagnose.errorobject import ErrorDetail as ErrorDetail
    from diagnose.errorobject import ErrorKind as ErrorKind
    from diagnose.errorobject import ErrorObject as ErrorObject
    from diagnose.errorobject import ErrorProblem as ErrorProblem
    from diagnose.errorwords import Said
    from diagnose.vocab import Lang


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
    zh: str | None = None
    """The message in Chinese, when it has one (`errorwords`): what `--lang zh` prints."""

    def __str__(self) -> str:
        return self.text("en")

    def text(self, lang: Lang) -> str:
        """Where and what, in that language (English where the message has no Chinese)."""
        from diagnose.errorwords import word

        where = self.path or word("frame.top", lang)
        if self.line is not None:
            key = "frame.line_column" if self.column else "frame.line"
            at = _frame(key, lang, line=self.line, column=self.column)
            where = f"{self.path}{bracket(at, lang)}" if self.path else at
        return f"{where}{_colon(lang)}{self.message_in(lang)}"

    def message_in(self, lang: Lang) -> str:
        """The message in that language (English where it has no Chinese)."""
        return (self.zh if lang == "zh" else None) or self.message


def problem(path: str, message: Said, line: int | None = None, column: int | None = None) -> Problem:
    """A Problem from a message of both languages (`errorwords.say`)."""
    return Problem(path, message.en, line, column, message.zh)


def _frame(key: str, lang: Lang, **fields: Any) -> str:
    from diagnose.errorwords import TEXTS

    return TEXTS[key][1 if lang == "zh" else 0].format(**fields)


class DiagnoseError(Exception):
    """Base of every error the tool reports on purpose; ``exit_code`` is what the CLI exits with."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind: ErrorKind = "internal"
    words = "label.internal"
    """The key of the label's words in `errorwords` ("usage error", 用法错误, ...)."""

    def __init__(self, message: str | Said, *, source: str | None = None, hint: str | Said | None = None) -> None:
        text = message if isinstance(message, str) else message.en
        super().__init__(text)
        self.message = text
        """The message in English: the message of record (the JSON error object, the API)."""
        self.source = source
        self.hint = hint if hint is None or isinstance(hint, str) else hint.en
        self.zh = (None if isinstance(message, str) else message.zh, None if hint is None or isinstance(hint, str) else hint.zh)
        """The message and the hint in Chinese, where they have it."""

    def said_hint(self) -> Said | None:
        """The hint in both languages (English in both where it has no Chinese), to pass on to another error."""
        from diagnose.errorwords import Said

        return None if self.hint is None else Said(self.hint, self.hint_in("zh") or self.hint)

    def label_text(self, lang: Lang = "en") -> str:
        """What the message is headed with: its kind, in that language."""
        return _frame(self.words, lang)

    def message_in(self, lang: Lang) -> str:
        """The message in that language (English where it has no Chinese)."""
        return (self.zh[0] if lang == "zh" else None) or self.message

    def hint_in(self, lang: Lang) -> str | None:
        """The hint in that language (English where it has no Chinese)."""
        return (self.zh[1] if lang == "zh" else None) or self.hint

    def _hint_lines(self, lang: Lang) -> list[str]:
        hint = self.hint_in(lang)
        return [f"  {_frame('frame.help', lang)}{_colon(lang)}{hint}"] if hint else []

    def render(self, lang: Lang = "en") -> str:
        """The message as printed on standard error: one block, no traceback (in Chinese with ``lang="zh"``, where it has words)."""
        head = _colon(lang).join(part for part in (self.label_text(lang), self.source, self.message_in(lang)) if part)
        return "\n".join([head, *self._hint_lines(lang)])

    def problem_list(self, lang: Lang = "en") -> list[ErrorProblem]:
        return []

    def error_object(self, lang: Lang = "en") -> ErrorObject:
        """The error as data, for scripts (every problem, not only those printed), its texts in the language standard error has them in."""
        from diagnose.errorobject import ErrorDetail, ErrorObject

        detail = ErrorDetail(
            int(self.exit_code), self.kind, self.message_in(lang), self.source, self.hint_in(lang), self.problem_list(lang)
        )
        return ErrorObject(detail)


class UsageError(DiagnoseError):
    exit_code = ExitCode.USAGE
    kind = "usage"
    words = "label.usage"


SHOWN = 50
"""Problems printed for one input at the most; the rest are counted."""


class InvalidInput(DiagnoseError):
    """A snapshot that does not follow the contract (exit 4). Carries every problem found."""

    exit_code = ExitCode.INVALID_INPUT
    kind = "invalid_input"
    words = "label.invalid_input"

    def problem_list(self, lang: Lang = "en") -> list[ErrorProblem]:
        from diagnose.errorobject import ErrorProblem

        return [ErrorProblem(p.path, p.message_in(lang), p.line, p.column) for p in self.problems]

    def __init__(
        self,
        problems: list[Problem],
        *,
        source: str | None = None,
        hint: str | Said | None = None,
    ) -> None:
        from diagnose.errorwords import Said

        self.problems = list(problems)
        super().__init__(Said(self._first("en"), self._first("zh")), source=source, hint=hint)

    def _first(self, lang: Lang) -> str:
        """The message: the first problem, and how many more there are."""
        if not self.problems:
            return "invalid input"
        more = _frame("frame.and_more", lang, count=len(self.problems) - 1) if len(self.problems) > 1 else ""
        return self.problems[0].text(lang) + more

    def __reduce__(self) -> tuple[object, ...]:
        # Sent back from a worker process: rebuilt from its problems, not from its message.
        return (self.__class__, (self.problems,), self.__dict__)

    def render(self, lang: Lang = "en") -> str:
        src = self.source or ("快照" if lang == "zh" else "snapshot")
        return "\n".join([_frame_problems(self, src, lang), *self._problem_lines(lang), *self._hint_lines(lang)])

    def _problem_lines(self, lang: Lang) -> list[str]:
        lines = [f"  {p.text(lang)}" for p in self.problems[:SHOWN]]
        if len(self.problems) > SHOWN:
            lines.append("  " + _frame("frame.more", lang, count=len(self.problems) - SHOWN))
        return lines


class InvalidLabels(InvalidInput):
    """Labelled cases with bad labels or snapshots (exit 4): each problem names its file and line."""

    words = "label.invalid_labels"

    def render(self, lang: Lang = "en") -> str:
        return "\n".join([_frame_problems(self, None, lang), *self._problem_lines(lang), *self._hint_lines(lang)])


def _frame_problems(error: InvalidInput, source: str | None, lang: Lang) -> str:
    """The head of an error with problems: its label, its source and how many problems."""
    from diagnose.errorwords import Said

    count = len(error.problems)
    many = _frame("frame.problems", lang, count=count, noun=Said("problem" if count == 1 else "problems", "处问题").text(lang))
    return _colon(lang).join(part for part in (error.label_text(lang), source, many) if part)


class InvalidPack(DiagnoseError):
    """A rule pack that cannot be loaded (exit 3). Problems name file, line and rule."""

    exit_code = ExitCode.INVALID_PACK
    kind = "invalid_pack"
    words = "label.invalid_pack"

    def problem_list(self, lang: Lang = "en") -> list[ErrorProblem]:
        from diagnose.errorobject import ErrorProblem

        return [ErrorProblem(p.file, p.message, p.line, p.column, p.rule_id, p.hint) for p in self.problems]

    def __init__(self, problems: list[PackProblem], *, source: str | None = None) -> None:
        self.problems = list(problems)
        first = self.problems[0].render() if self.problems else "invalid rule pack"
        super().__init__(first, source=source)

    def render(self, lang: Lang = "en") -> str:
        return "\n".join(f"{self.label_text(lang)}{_colon(lang)}{p.render(lang)}" for p in self.problems)


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

    def render(self, lang: Lang = "en") -> str:
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        text = f"{self.location()}:{rule} {self.message}"
        if self.hint:
            text += f"\n  {_frame('frame.help', lang)}{_colon(lang)}{self.hint}"
        return text


class OutputError(DiagnoseError):
    """An output could not be written (exit 5): a full disk, no permission; the message names the file."""

    exit_code = ExitCode.OUTPUT
    words = "label.output"


class PipeClosed(DiagnoseError):
    """The reader of standard output went away (`| head`): the command stops quietly, exit 0."""

    exit_code = ExitCode.OK
    words = "label.pipe"


class CheckFailed(DiagnoseError):
    """A check failed on purpose: --fail-on met, a rule test failed, lint found errors (exit 1)."""

    exit_code = ExitCode.CHECK_FAILED
    kind = "check_failed"
    words = "label.check_failed"


_OBJECT_NAMES = ("ErrorKind", "ErrorProblem", "ErrorDetail", "ErrorObject")

if not TYPE_CHECKING:  # at run time only: for mypy, every other name of this module stays checked

    def __getattr__(name: str) -> Any:
        """The error object's types, still readable here (`diagnose.errors.ErrorObject`): loaded from errorobject.py when first read."""
        if name in _OBJECT_NAMES:
            from diagnose import errorobject

            return getattr(errorobject, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
