"""Calibrate a pack on labelled cases: rule weights (and tunable thresholds) that maximise top-1 accuracy, checked on held-out cases.

The cases are split by a seed into a part the search fits on and a part it never sees; the
proposal is judged on the held-out part. The search is coordinate ascent: one rule's weight
(or one parameter) at a time over a grid, keeping a change only when it answers more fitted
cases right, sweeping until nothing improves. A weight only reorders the rules that fire, so
each case is diagnosed once and re-ranked with `ranking.rank` under each trial weight; a
threshold changes what fires, so each trial value re-diagnoses the fitted cases. The proposal
is a new pack folder that `extends` the calibrated one with weight and parameter overrides.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.engine import ranking
from diagnose.errors import UsageError
from diagnose.evaluate.labels import Case, Problems
from diagnose.evaluate.metrics import Rate
from diagnose.evaluate.run import report_of

if TYPE_CHECKING:
    from diagnose.api import CompiledPack

GRID = tuple(round(0.05 * i, 2) for i in range(1, 21))
"""Weights tried for a rule: 0.05 to 1.0 by 0.05."""
MAX_SWEEPS = 6
MAX_STEPS = 200
"""Values of one tunable parameter tried at the most."""


@dataclass(frozen=True, slots=True)
class Fired:
    """A fired rule as ranking sees it: what its score is made of, without its weight."""

    rule_id: str
    severity: str
    strength: float
    contributing: bool
    explains: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A case with the pack's fired rules on it; re-ranked under any weights without diagnosing again."""

    case: Case
    fired: tuple[Fired, ...]

    def first(self, weights: dict[str, float]) -> str | None:
        if not self.fired:
            return None
        if len(self.fired) == 1:
            return self.fired[0].rule_id
        cands = [
            ranking.Candidate(f.rule_id, ranking.score(f.severity, weights[f.rule_id], f.strength), f.contributing, f.explains)
            for f in self.fired
        ]
        return ranking.rank(cands)[0][0].rule_id

    def right(self, weights: dict[str, float]) -> bool:
        return self.case.label.is_right(self.first(weights))


def prepare(pack: CompiledPack, cases: Iterable[Case], problems: Problems) -> list[Prepared]:
    """Each case diagnosed once: the rules that fire on it, with their strength."""
    by_id = {cr.rule.id: cr.rule for cr in pack.rules}
    out = []
    for case in cases:
        report = report_of(pack, case, problems)
        if report is None:
            continue
        fired = []
        for f in report.findings:
            rule = by_id[f.rule_id]
            fired.append(Fired(f.rule_id, rule.severity, ranking.strength(f.evidence), rule.contributing, rule.explains))
        out.append(Prepared(case, tuple(fired)))
    return out


def split(cases: Sequence[Case], seed: int, holdout: float) -> tuple[list[Case], list[Case]]:
    """Fitted and held-out cases: a case is held out by a hash of the seed and where it was read, so the split is reproducible."""
    fit: list[Case] = []
    held: list[Case] = []
    for case in cases:
        h = int.from_bytes(hashlib.blake2b(f"{seed}\0{case.source}".encode(), digest_size=8).digest(), "big") / 2**64
        (held if h < holdout else fit).append(case)
    return fit, held


def accuracy(prepared: Sequence[Prepared], weights: dict[str, float]) -> int:
    return sum(p.right(weights) for p in prepared)


@dataclass(frozen=True)
class Override:
    """One proposed change and what it is worth: cases answered right with the whole proposal minus without this change."""

    kind: str
    """`weight` or `parameter`."""
    name: str
    before: Any
    after: Any
    gain_fit: int
    gain_held: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "before": self.before,
            "after": self.after,
            "gain_fitted_cases": self.gain_fit,
            "gain_held_out_cases": self.gain_held,
        }


@dataclass
class Calibration:
    pack: str
    seed: int
    holdout: float
    fit_before: Rate
    fit_after: Rate
    held_before: Rate
    held_after: Rate
    overrides: list[Override] = field(default_factory=list)

    @property
    def gain(self) -> float:
        """Top-1 accuracy on the held-out cases, proposal minus current (a share)."""
        return round((self.held_after.value or 0) - (self.held_before.value or 0), 6)

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "seed": self.seed,
            "holdout": self.holdout,
            "fitted": {"before": self.fit_before.to_dict(), "after": self.fit_after.to_dict()},
            "held_out": {"before": self.held_before.to_dict(), "after": self.held_after.to_dict()},
            "held_out_gain": self.gain,
            "overrides": [o.to_dict() for o in self.overrides],
        }


def _with(pack: CompiledPack, params: dict[str, Any], weights: dict[str, float]) -> CompiledPack:
    from diagnose.api import CompiledPack

    data = dict(pack.data)
    data["parameters"] = dict(data["parameters"]) | params
    data["rules"] = [r | {"weight": weights[r["id"]]} if r["id"] in weights else r for r in data["rules"]]
    return CompiledPack(data)


def _ascend_weights(prepared: list[Prepared], weights: dict[str, float]) -> dict[str, float]:
    """Coordinate ascent over each rule's weight; a change is kept only when more fitted cases come out right."""
    weights = dict(weights)
    contested: dict[str, list[Prepared]] = {}
    for p in prepared:
        if len(p.fired) > 1:  # one fired rule is first whatever its weight
            for f in p.fired:
                contested.setdefault(f.rule_id, []).append(p)
    for _ in range(MAX_SWEEPS):
        moved = False
        for rid in sorted(contested):
            group = contested[rid]
            now = weights[rid]
            best_value, best = now, accuracy(group, weights)
            for w in GRID:
                if w == now:
                    continue
                score = accuracy(group, weights | {rid: w})
                if _improves(score, best, w, best_value, now):
                    best_value, best = w, score
            if best_value != now:
                weights[rid] = best_value
                moved = True
        if not moved:
            break
    return weights


def _improves(score: float, best: float, value: float, best_value: float, now: float) -> bool:
    """Strictly better, or as good and nearer the current value: a proposal moves nothing for nothing."""
    return score > best or (score == best and abs(value - now) < abs(best_value - now))


def tunable(pack: CompiledPack) -> dict[str, tuple[float, float, float]]:
    """The parameters whose pack declares a `tune` range: (min, max, step) by name."""
    source = pack.source
    if source is None:
        return {}
    return {n: (p.tune.min, p.tune.max, p.tune.step) for n, p in sorted(source.parameters.items()) if p.tune is not None}


def _steps(lo: float, hi: float, step: float, whole: bool) -> list[float]:
    n = min(int((hi - lo) / step + 1e-9) + 1, MAX_STEPS)
    values = [round(lo + i * step, 9) for i in range(n)]
    return [int(v) if whole and float(v).is_integer() else v for v in values]


def calibrate(
    pack: CompiledPack,
    cases: Sequence[Case],
    problems: Problems,
    *,
    seed: int = 0,
    holdout: float = 0.3,
    thresholds: bool = False,
) -> tuple[Calibration, dict[str, float], dict[str, Any]]:
    """The calibration report, the proposed weights and the proposed parameter values (only those that changed)."""
    if not 0 < holdout < 1:
        raise UsageError(f"the held-out share must be between 0 and 1 (got {holdout})")
    fit_cases, held_cases = split(cases, seed, holdout)
    fit, held = prepare(pack, fit_cases, problems), prepare(pack, held_cases, problems)
    problems.raise_any()
    if not fit or not held:
        raise UsageError(
            f"{len(cases)} case(s) cannot be split into a fitted and a held-out part",
            hint="calibrate needs a few dozen labelled cases at least",
        )
    start = {cr.rule.id: cr.rule.weight for cr in pack.rules}
    weights = _ascend_weights(fit, start)
    params: dict[str, Any] = {}
    tunes = tunable(pack) if thresholds else {}
    if tunes:
        for _ in range(MAX_SWEEPS):
            moved = False
            for name, (lo, hi, step) in tunes.items():
                now = params.get(name, pack.params[name])
                whole = isinstance(pack.params[name], int)
                best_value, best = now, accuracy(prepare(_with(pack, params, {}), fit_cases, problems), weights)
                for v in _steps(lo, hi, step, whole):
                    if v == now:
                        continue
                    score = accuracy(prepare(_with(pack, params | {name: v}, {}), fit_cases, problems), weights)
                    if _improves(score, best, v, best_value, now):
                        best_value, best = v, score
                if best_value != now:
                    params[name] = best_value
                    moved = True
            if not moved:
                break
            weights = _ascend_weights(prepare(_with(pack, params, {}), fit_cases, problems), weights)
        params = {k: v for k, v in params.items() if v != pack.params[k]}
    weights = {k: v for k, v in weights.items() if v != start[k]}

    memo: dict[tuple[int, tuple[tuple[str, Any], ...]], list[Prepared]] = {(id(fit_cases), ()): fit, (id(held_cases), ()): held}

    def right(on: list[Case], p: dict[str, Any], w: dict[str, float]) -> int:
        key = (id(on), tuple(sorted(p.items())))  # what fires depends on the parameters only: diagnose once per set of them
        if key not in memo:
            memo[key] = prepare(_with(pack, p, {}), on, problems)
        return accuracy(memo[key], start | w)

    after_fit, after_held = right(fit_cases, params, weights), right(held_cases, params, weights)
    before_fit, before_held = accuracy(fit, start), accuracy(held, start)
    overrides = []
    for rid, w in sorted(weights.items()):
        rest = {k: v for k, v in weights.items() if k != rid}
        overrides.append(
            Override("weight", rid, start[rid], w, after_fit - right(fit_cases, params, rest), after_held - right(held_cases, params, rest))
        )
    for name, v in sorted(params.items()):
        rest_p = {k: x for k, x in params.items() if k != name}
        overrides.append(
            Override(
                "parameter",
                name,
                pack.params[name],
                v,
                after_fit - right(fit_cases, rest_p, weights),
                after_held - right(held_cases, rest_p, weights),
            )
        )
    report = Calibration(
        pack=f"{pack.name} {pack.version}",
        seed=seed,
        holdout=holdout,
        fit_before=Rate.of(before_fit, len(fit)),
        fit_after=Rate.of(after_fit, len(fit)),
        held_before=Rate.of(before_held, len(held)),
        held_after=Rate.of(after_held, len(held)),
        overrides=overrides,
    )
    return report, weights, params


# --- writing the proposal ---------------------------------------------------------------


def _yaml_scalar(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def proposal_text(
    result: Calibration, weights: dict[str, float], params: dict[str, Any], *, base: str, name: str, version: str, texts: Any
) -> str:
    """The proposal's pack.yaml: `extends` the calibrated pack, overrides with their measured gain in comments and metadata."""
    import yaml

    lines = [f"# {line}" for line in texts.header(result)]
    lines += [
        f"name: {_yaml_scalar(name)}",
        f"version: {_yaml_scalar(version)}",
        f"extends: {_yaml_scalar(base)}",
        "overrides:",
    ]
    by_name = {(o.kind, o.name): o for o in result.overrides}
    if weights:
        lines.append("  weights:")
        for rid, w in sorted(weights.items()):
            lines.append(f"    {rid}: {_yaml_scalar(w)}  # {texts.gain(by_name[('weight', rid)])}")
    if params:
        lines.append("  parameters:")
        for pname, v in sorted(params.items()):
            lines.append(f"    {pname}: {_yaml_scalar(v)}  # {texts.gain(by_name[('parameter', pname)])}")
    if not weights and not params:
        lines[-1] = "overrides: {}"
    meta = {"metadata": {"calibration": result.to_dict()}}
    lines.append(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100).rstrip())
    return "\n".join(lines) + "\n"


def check_output(folder: Path, current: Path | None) -> None:
    """The proposal's folder must be new, and outside the pack it calibrates (whose files are never touched)."""
    if folder.exists():
        raise UsageError("already exists: calibrate never overwrites", source=str(folder), hint="name a new folder with --output")
    if current is not None and folder.resolve().is_relative_to(current.resolve()):
        raise UsageError("the proposal may not go inside the pack it calibrates", source=str(folder))


def write_proposal(folder: Path, text: str, current: Path | None) -> None:
    """Write the proposal folder; refuse one that exists, and check that the written pack loads."""
    from diagnose.pack.loader import load

    check_output(folder, current)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(folder.parent) / f".{folder.name}.tmp-{os.getpid()}"
        tmp.mkdir()
        (tmp / "pack.yaml").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(folder)) from None
    try:
        load(tmp)
    except Exception:
        (tmp / "pack.yaml").unlink()
        tmp.rmdir()
        raise
    os.replace(tmp, folder)


def extends_value(current: Path | None, folder: Path) -> str:
    """What the proposal's `extends` says: `default`, or the calibrated pack's folder relative to the proposal's."""
    from diagnose.pack.files import default_pack_path

    if current is None or current.resolve() == default_pack_path().resolve():
        return "default"
    return os.path.relpath(current.resolve(), folder.resolve())
