"""The error object: what `--format json` writes on standard output when a command fails (docs/report.md, `diagnose schema error`).

Apart from errors.py, so that a run that fails nowhere never builds these classes. Speed
(bench/coldstart.py --instructions): the three frozen dataclasses took about 5.5 M instructions to
make, a hundredth of the baseline a cold `diagnose run` is measured against. errors.py builds them
from an error (`DiagnoseError.error_object`) and still lets them be read by their old names.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ErrorKind = Literal["check_failed", "usage", "invalid_pack", "invalid_input", "internal"]


@dataclass(frozen=True, eq=False, repr=False)
class ErrorProblem:
    """One problem of a failure, where it is: a snapshot field path or a rule file, and a line when known."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None
    rule_id: str | None = None
    hint: str | None = None


@dataclass(frozen=True, eq=False, repr=False)
class ErrorDetail:
    """The failure: its exit code and kind, the message, the file it concerns, a hint, and its problems."""

    exit_code: int
    kind: ErrorKind
    message: str
    source: str | None = None
    hint: str | None = None
    problems: list[ErrorProblem] = field(default_factory=list)


@dataclass(frozen=True, eq=False, repr=False)
class ErrorObject:
    """What `--format json` writes on standard output when a command fails (docs/report.md, `diagnose schema error`)."""

    error: ErrorDetail

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
