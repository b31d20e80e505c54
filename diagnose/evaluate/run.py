"""Run a pack over labelled cases: one outcome per case, streamed, and the tally of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from diagnose.errors import InvalidInput, Problem
from diagnose.evaluate.labels import Case, Problems
from diagnose.evaluate.metrics import Metrics, Outcome, Tally

if TYPE_CHECKING:
    from diagnose.api import CompiledPack
    from diagnose.records import Report


def pack_name(pack: CompiledPack) -> str:
    return f"{pack.name} {pack.version}"


def known_causes(*packs: CompiledPack) -> frozenset[str]:
    """The cause ids a label may name: every rule of the packs, and the rules they disable."""
    return frozenset(r.rule.id for p in packs for r in p.rules) | frozenset(d.rule_id for p in packs for d in p.disabled)


def report_of(pack: CompiledPack, case: Case, problems: Problems) -> Report | None:
    """The pack's report on one case; an invalid snapshot is a problem of its case (and None)."""
    try:
        return pack.diagnose(case.snapshot, source=case.source, parsed=True)
    except InvalidInput as exc:
        for p in exc.problems:
            problems.add(case.source, Problem(f"snapshot.{p.path}" if p.path else "snapshot", p.message, p.line, p.column))
        return None


def outcome(pack: CompiledPack, case: Case, problems: Problems) -> Outcome | None:
    report = report_of(pack, case, problems)
    return None if report is None else Outcome.of(case.source, case.label, report)


def outcomes(pack: CompiledPack, cases: Iterable[Case], problems: Problems) -> Iterator[Outcome]:
    for case in cases:
        o = outcome(pack, case, problems)
        if o is not None:
            yield o


def evaluate(pack: CompiledPack, cases: Iterable[Case], problems: Problems) -> Metrics:
    """The measures of ``pack`` on ``cases``; raises InvalidInput (exit 4) at the end if any case was bad."""
    tally = Tally().add_all(outcomes(pack, cases, problems))
    problems.raise_any()
    return Metrics(pack_name(pack), tally)
