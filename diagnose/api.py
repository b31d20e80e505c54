"""The Python API: a compiled pack that diagnoses snapshots (what `diagnose.load_pack()` returns)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from diagnose.engine.compiled import CompiledRules
from diagnose.errors import DiagnoseError, InvalidInput
from diagnose.report.build import ReportBuilder
from diagnose.snapshot import facts as factlib
from diagnose.snapshot.contract import checked

if TYPE_CHECKING:
    from diagnose.pack.loader import Pack
    from diagnose.records import Report

__all__ = ["CompiledPack"]


class CompiledPack(CompiledRules):
    """A pack ready to diagnose: its rules compiled once (`CompiledRules`), and the step that builds reports."""

    def __init__(self, data: Mapping[str, Any], source: Pack | None = None) -> None:
        super().__init__(data, source)
        self.builder = ReportBuilder(self)

    def diagnose(
        self,
        snapshot: Mapping[str, Any],
        *,
        lang: str = "en",
        source: str | None = None,
        explain: bool = False,
        timeline: bool = False,
        audience: str = "all",
        parsed: bool = False,
    ) -> Report:
        """Diagnose one snapshot: a parsed JSON object (or a `Snapshot` model).

        ``parsed=True`` says the data came from `reader.parse`, which has checked its shape (nesting,
        sizes, whole numbers, valid Unicode); other data is checked here.

        ``explain`` adds near misses and, for undetermined rules, the values that would decide
        them; ``timeline`` adds the snapshot's dated events; ``audience`` (customer, agent,
        institution, all) keeps only what that reader may see.
        """
        if hasattr(snapshot, "model_dump"):
            snapshot = snapshot.model_dump(mode="json", exclude_unset=True)
        if not parsed:
            from diagnose.snapshot.reader import check_shape

            check_shape(snapshot, source or "snapshot")
        data, extra = checked(snapshot, source=source)
        warnings = []
        if extra:
            shown = ", ".join(extra[:20]) + (f" (and {len(extra) - 20} more)" if len(extra) > 20 else "")
            warnings.append(f"ignored unknown fields: {shown}")
        return self.builder.build(
            data, factlib.derive(data), lang=lang, warnings=warnings, explain=explain, timeline=timeline, audience=audience
        )

    def diagnose_many(self, snapshots: Iterable[Mapping[str, Any]], *, lang: str = "en") -> Iterator[Report | DiagnoseError]:
        """Reports in input order; an invalid snapshot yields its InvalidInput error instead of stopping."""
        for i, snap in enumerate(snapshots):
            try:
                yield self.diagnose(snap, lang=lang, source=f"record {i + 1}")
            except InvalidInput as exc:
                yield exc

    def diagnose_facts(self, snapshot: Mapping[str, Any], f: Mapping[str, Any], **options: Any) -> Report:
        """The report of an already validated snapshot and its derived facts (rule tests use this)."""
        return self.builder.build(snapshot, f, **options)
