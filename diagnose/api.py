"""The Python API: a compiled pack that diagnoses snapshots (what `diagnose.load_pack()` returns)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from diagnose.engine.compiled import CompiledRules
from diagnose.errors import DiagnoseError, InvalidInput
from diagnose.errorwords import unknown_fields
from diagnose.report.build import ReportBuilder
from diagnose.snapshot import facts as factlib
from diagnose.snapshot.contract import checked

if TYPE_CHECKING:
    from diagnose.compare.model import Diff, History
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
        echo: tuple[str, ...] = (),
    ) -> Report:
        """Diagnose one snapshot: a parsed JSON object (or a `Snapshot` model).

        ``parsed=True`` says the data came from `reader.parse`, which has checked its shape (nesting,
        sizes, whole numbers, valid Unicode); other data is checked here.

        ``explain`` adds near misses and, for undetermined rules, the values that would decide
        them; ``timeline`` adds the snapshot's dated events; ``audience`` (customer, agent,
        institution, all) keeps only what that reader may see; ``echo`` names more fact paths for
        the report's `segments` (what `batch --by` groups by).
        """
        data, f, warnings, digest = self._prepare(snapshot, source=source, parsed=parsed, lang=lang)
        return self.builder.build(
            data, f, lang=lang, warnings=warnings, explain=explain, timeline=timeline, audience=audience, echo=echo, input_digest=digest
        )

    def prepare(
        self, snapshot: Mapping[str, Any], *, source: str | None = None, parsed: bool = False, lang: str = "en"
    ) -> tuple[dict[str, Any], factlib.Facts, list[str]]:
        """A snapshot checked against the contract: its validated data, its facts, and warnings (ignored unknown fields) in ``lang``."""
        data, f, warnings, _ = self._prepare(snapshot, source=source, parsed=parsed, lang=lang)
        return data, f, warnings

    def _prepare(
        self, snapshot: Mapping[str, Any], *, source: str | None, parsed: bool, lang: str = "en"
    ) -> tuple[dict[str, Any], factlib.Facts, list[str], str]:
        """`prepare`, and the input digest, which the facts' walk of the snapshot gives at little cost."""
        if type(snapshot) is not dict and hasattr(snapshot, "model_dump"):  # a dict has none: no failed lookup a record
            snapshot = snapshot.model_dump(mode="json", exclude_unset=True)
        if not parsed:
            from diagnose.snapshot.reader import check_shape

            check_shape(snapshot, source or "snapshot")
        data, extra = checked(snapshot, source=source)
        warnings = [unknown_fields(extra, lang)] if extra else []
        f, digest = factlib.derive_digested(data)
        return data, f, warnings, digest

    @property
    def segments(self) -> tuple[tuple[str, str], ...]:
        """The segments this pack's reports echo (name, fact path)."""
        return self.builder.segments

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

    def diff(self, before: Mapping[str, Any], after: Mapping[str, Any], **options: Any) -> Diff:
        """What changed between two snapshots of one account, and which change did it (`compare.diff.diff` takes the options)."""
        from diagnose.compare.diff import diff

        return diff(self, before, after, **options)

    def history(self, snapshots: Iterable[Any], **options: Any) -> History:
        """One account over snapshots: when each cause started and stopped holding (`compare.history.history`)."""
        from diagnose.compare.history import history

        return history(self, snapshots, **options)
