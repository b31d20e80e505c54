"""Testing rule packs like code: every rule's own examples, golden case files, and coverage."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diagnose.api import CompiledPack
from diagnose.engine.compiled import CompiledRule
from diagnose.engine.conditions import CAll, CLeaf, CNode, CNot, Trace, leaves, trace
from diagnose.errors import InvalidInput, InvalidPack, PackProblem
from diagnose.pack import loader as rulepack
from diagnose.pack.files import MAX_DATA_BYTES, OutsidePack, read_inside, roots
from diagnose.pack.loader import Pack
from diagnose.pack.model import iter_leaves
from diagnose.pack.problems import schema_problems
from diagnose.pack.yamlpos import YamlError
from diagnose.pack.yamlpos import load as load_yaml
from diagnose.snapshot import facts as factlib
from diagnose.snapshot.contract import validate
from diagnose.snapshot.reader import load
from diagnose.vocab import Verdict

EXPECT = {"fires": True, "quiet": False, "undetermined": None}
WORD = {True: "fires", False: "quiet", None: "undetermined"}
_HOLDS = {True: "holds", False: "fails", None: "unknown"}
CASE_SUFFIXES = (".yaml", ".yml")
MAX_CASE_BYTES = 2_000_000


def merge(base: Any, patch: Any) -> Any:
    """Deep-merge a patch onto a base: mappings merge key by key; lists, scalars and null replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseResult:
    """One test case: which rule and example (or case file), what was expected, what happened, and what differed."""

    name: str
    rule_id: str | None
    file: str
    line: int | None
    passed: bool
    expected: str
    actual: str
    details: list[str] = field(default_factory=list)
    kind: Literal["example", "case"] = "example"
    skipped: str | None = None
    """Why the case was not run (it then counts neither as passed nor as failed)."""

    @property
    def failed(self) -> bool:
        return not self.passed and self.skipped is None


@dataclass(frozen=True)
class Condition:
    """One leaf of a rule's condition, where it is written and what it says."""

    rule_id: str
    index: int
    text: str
    file: str
    line: int | None


@dataclass
class Coverage:
    """Which rules fired and stayed quiet at least once, and which conditions decided a result."""

    fired: set[str] = field(default_factory=set)
    quiet: set[str] = field(default_factory=set)
    decided_leaves: set[tuple[str, int]] = field(default_factory=set)
    all_leaves: set[tuple[str, int]] = field(default_factory=set)
    rules: list[str] = field(default_factory=list)
    conditions: dict[tuple[str, int], Condition] = field(default_factory=dict)
    where: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    """Each rule's file and line, for reports that point at it."""

    def covered(self) -> list[str]:
        return [r for r in self.rules if r in self.fired and r in self.quiet]

    def rule_fraction(self) -> Fraction:
        """Share of rules that both fired and stayed quiet at least once, exactly."""
        if not self.rules:
            return Fraction(1)
        return Fraction(len(self.covered()), len(self.rules))

    def rule_percent(self) -> float:
        """Rule coverage as a percentage, rounded down to one decimal: 99.96% shows as 99.9, never as 100."""
        return floor_percent(self.rule_fraction())

    def condition_percent(self) -> float:
        if not self.all_leaves:
            return 100.0
        return floor_percent(Fraction(len(self.decided_leaves & self.all_leaves), len(self.all_leaves)))

    def never_fired(self) -> list[str]:
        return [r for r in self.rules if r not in self.fired]

    def never_quiet(self) -> list[str]:
        return [r for r in self.rules if r not in self.quiet]

    def undecided_leaves(self) -> list[tuple[str, int]]:
        return sorted(self.all_leaves - self.decided_leaves)

    def undecided(self) -> list[Condition]:
        """The conditions that never decided a rule's result, in rule order."""
        order = {r: i for i, r in enumerate(self.rules)}
        keys = sorted(self.all_leaves - self.decided_leaves, key=lambda k: (order.get(k[0], 0), k[1]))
        return [self.conditions.get(k) or Condition(k[0], k[1], f"condition {k[1] + 1}", "", None) for k in keys]

    def meets(self, minimum: float) -> bool:
        """Rule coverage at or above ``minimum`` percent, compared exactly (99.99% does not meet 100)."""
        return self.rule_fraction() * 100 >= Fraction(str(minimum))


def floor_percent(fraction: Fraction) -> float:
    return int(fraction * 1000) / 10


@dataclass
class TestRun:
    """Every case of a `rules test` run, and the coverage they reached together."""

    __test__ = False  # not a pytest class

    results: list[CaseResult]
    coverage: Coverage
    pack: str = ""
    root: str = ""

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if r.failed]

    @property
    def passed(self) -> list[CaseResult]:
        return [r for r in self.results if r.passed]

    @property
    def skipped(self) -> list[CaseResult]:
        return [r for r in self.results if r.skipped is not None]


# --- the engine's trees, leaf by leaf ---------------------------------------------------


def _leaf_index(cr: CompiledRule) -> dict[int, int]:
    return {id(leaf): i for i, leaf in enumerate(leaves(cr.node))}


def _deciders(node: CNode, f: Mapping[str, Any], index: dict[int, int]) -> tuple[bool | None, set[int]]:
    """The node's result and the leaves that decided it (as `trace` picks its evidence); none when unknown."""
    if isinstance(node, CLeaf):
        r = node.test(f)
        return r, ({index[id(node)]} if r is not None else set())
    if isinstance(node, CNot):
        r, d = _deciders(node.child, f, index)
        return (None if r is None else not r), d
    kids = [_deciders(c, f, index) for c in node.children]
    stop = not isinstance(node, CAll)  # false decides an `all`, true decides an `any`
    if any(r is stop for r, _ in kids):
        return stop, {i for r, d in kids if r is stop for i in d}
    if any(r is None for r, _ in kids):
        return None, set()
    return (not stop), {i for _, d in kids for i in d}


def _cover(cov: Coverage, cr: CompiledRule, index: dict[int, int], f: Mapping[str, Any]) -> bool | None:
    result, decided = _deciders(cr.node, f, index)
    if result is True:
        cov.fired.add(cr.rule.id)
    elif result is False:
        cov.quiet.add(cr.rule.id)
    cov.decided_leaves |= {(cr.rule.id, i) for i in decided}
    return result


def _register(cov: Coverage, compiled: CompiledPack) -> dict[str, dict[int, int]]:
    """Put every rule and condition of the pack in the coverage; return each rule's leaf index."""
    pack = compiled.source
    indexes: dict[str, dict[int, int]] = {}
    for cr in compiled.rules:
        rid = cr.rule.id
        indexes[rid] = _leaf_index(cr)
        if rid in cov.where:
            continue
        cov.rules.append(rid)
        src = pack.sources.get(rid) if pack is not None else None
        inherited = pack is not None and pack.inherited(rid)
        cov.where[rid] = _place(pack, rid) if pack is not None else ("", None)
        paths = [p for _, p in iter_leaves(pack.rule(rid).when, ("when",))] if pack is not None else []
        for i, leaf in enumerate(leaves(cr.node)):  # the order _leaf_index numbers them in
            cov.all_leaves.add((rid, i))
            if inherited or src is None or i >= len(paths):  # an inherited rule's conditions are where the pack brings it in
                file, line = cov.where[rid]
            else:
                file, line = src.file, src.located.where(("rules", src.index, *paths[i]))[0]
            cov.conditions[(rid, i)] = Condition(rid, i, describe(leaf), file, line)
    return indexes


def _place(pack: Pack, rule_id: str) -> tuple[str, int | None]:
    """Where a report points for a rule: its own file and line, or, for an inherited rule, the author's manifest
    (the override it reads, or `extends`): a base pack's files are not in the author's repository."""
    if pack.inherited(rule_id):
        file, line, _ = pack.inherited_place(rule_id)
        return file, line
    src = pack.sources.get(rule_id)
    return (src.file, src.line) if src else (str(pack.manifest_path), None)


def describe(leaf: CLeaf) -> str:
    """A condition as a rule author wrote it: `fact op value` (with the parameter's name)."""
    if leaf.op in ("exists", "missing"):
        return f"{leaf.fact} {leaf.op}"
    rhs = leaf.ref if leaf.ref is not None else _show(leaf.expected)
    if leaf.param:
        rhs = f"{leaf.param} ({_show(leaf.expected)})"
    return f"{leaf.fact} {leaf.op} {rhs}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return repr(value) if isinstance(value, str) else str(value)


def evidence_lines(tr: Trace) -> list[str]:
    """What decided a result: each deciding condition with the value found, and the facts it lacked."""
    out = []
    for e in tr.evidence:
        expected = e.param + f" ({_show(e.expected)})" if e.param and e.op not in ("exists", "missing") else _show(e.expected)
        head = f"{e.fact} {e.op}" if e.op in ("exists", "missing") else f"{e.fact} {e.op} {expected}"
        out.append(f"{head}: actual {_show(e.actual)} ({_HOLDS[e.result]})")
    if tr.missing:
        out.append(f"unknown facts: {', '.join(tr.missing)}")
    return out


# --- examples ---------------------------------------------------------------------------


def example_snapshot(pack: Pack, rule_file: str, example: Any) -> Any:
    """The snapshot an example stands for: its patch merged onto its pack's base, or its own file (read from inside the pack).

    An inherited rule's example uses the base pack's example base and files; a pack's own rule
    uses its own, or the base pack's when it names none (an extending pack need not copy them).
    """
    folder = Path(rule_file).parent
    owner = pack.base if pack.base is not None and pack.inherited_file(rule_file) else pack
    if example.file is not None:
        return _read_json(owner.file_folder(folder, example.file), example.file, "example file")
    return merge(_read_json(*_example_base(owner), "example_base"), example.patch)


def _example_base(pack: Pack) -> tuple[Path, str]:
    """The snapshot `patch` examples and cases apply to (the pack's `example_base`, or its base pack's), as folder and name."""
    source = pack.example_base_source()
    if source is None:
        message = "examples use `patch` but the manifest names no `example_base`"
        raise InvalidPack([PackProblem(str(pack.manifest_path), message, code="missing-key")])
    return source


def _read_json(folder: Path, name: str, what: str, allowed: tuple[Path, ...] | None = None) -> Any:
    """A snapshot a pack names: read from inside the pack, within the size and nesting bounds of any snapshot."""
    try:
        raw = read_inside(folder, name, allowed=allowed)
    except OutsidePack as exc:
        raise InvalidPack([PackProblem(name, f"cannot read this {what}: {exc}", code="missing-file")]) from None
    except OSError as exc:
        raise InvalidPack([PackProblem(name, exc.strerror or str(exc), code="missing-file")]) from None
    return load(raw, str(folder / name), max_bytes=MAX_DATA_BYTES)


def run_examples(compiled: CompiledPack, coverage: Coverage | None = None) -> TestRun:
    """Evaluate every rule on each of its own examples: fires must be true, quiet false, undetermined unknown.

    In a pack that extends another, an inherited rule that reads a parameter the pack overrides
    has its examples skipped: they were written for the base value (golden cases test the new one).
    """
    pack = compiled.source
    if pack is None:
        raise ValueError("rule tests need the full pack: CompiledPack.from_pack(rulepack.load(path))")
    cov = coverage or Coverage()
    indexes = _register(cov, compiled)
    results: list[CaseResult] = []
    for cr in compiled.rules:
        rule = pack.rule(cr.rule.id)
        index = indexes[rule.id]
        src = pack.sources.get(rule.id)
        rule_file = src.file if src else str(pack.root)
        inherited = pack.inherited(rule.id)
        changed = pack.overrides_read(rule.id)
        for kind in ("fires", "quiet", "undetermined"):
            for n, example in enumerate(getattr(rule.examples, kind)):
                line = src.located.where(("rules", src.index, "examples", kind, n))[0] if src else None
                name = f"{rule.id} {kind}: {example.name}"
                file = rule_file
                origin: list[str] = []
                if inherited:  # reported at the author's manifest, with where the example is in the base pack
                    origin = [f"the example is in {pack.base_place(rule_file, line)}"]
                    file, line = _place(pack, rule.id)
                if changed:
                    why = f"this pack overrides {', '.join(changed)}; the example was written for the base pack's value"
                    why += "".join(f" ({o})" for o in origin)
                    results.append(CaseResult(name, rule.id, file, line, False, kind, "skipped", [], "example", why))
                    continue
                try:
                    snap = validate(example_snapshot(pack, rule_file, example), source=name)
                except InvalidInput as exc:
                    details = [*(str(p) for p in exc.problems), *origin]
                    results.append(CaseResult(name, rule.id, file, line, False, kind, "invalid snapshot", details))
                    continue
                except InvalidPack as exc:
                    results.append(
                        CaseResult(
                            name, rule.id, file, line, False, kind, "unreadable example", [*(p.render() for p in exc.problems), *origin]
                        )
                    )
                    continue
                except (OSError, ValueError) as exc:
                    results.append(CaseResult(name, rule.id, file, line, False, kind, "unreadable example", [str(exc), *origin]))
                    continue
                f = factlib.derive(snap)
                result = _cover(cov, cr, index, f)
                want = EXPECT[kind]
                details = [] if result is want else [*evidence_lines(trace(cr.node, f)), *origin]
                results.append(CaseResult(name, rule.id, file, line, result is want, kind, WORD[result], details))
    return TestRun(results, cov, compiled.name, str(pack.root))


# --- golden case files ------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


RuleId = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=64)]


class Expect(_Strict):
    """What must hold of the report on a case's snapshot."""

    top: RuleId | None = None
    present: list[RuleId] = Field(default_factory=list)
    absent: list[RuleId] = Field(default_factory=list)
    undetermined: list[RuleId] = Field(default_factory=list)
    verdict: Verdict | None = None
    no_findings: bool = False


class Case(_Strict):
    """One golden case: a snapshot (a file, or a patch onto the pack's example base) and what must hold."""

    name: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    snapshot: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    patch: dict[str, Any] | None = None
    expect: Expect


class CaseFile(_Strict):
    cases: list[Case] = Field(min_length=1)


def case_files(paths: list[Path]) -> list[Path]:
    """The case files named: files as given, folders searched for *.yaml and *.yml (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in CASE_SUFFIXES and p.is_file())
        else:
            out.append(path)
    return out


def _load_cases(path: Path) -> tuple[list[tuple[Case, int | None]], list[CaseResult]]:
    """The cases of one file with their lines, or a failed result naming what is wrong with the file."""
    shown = str(path)

    def broken(
        message: str, line: int | None = None, details: list[str] | None = None
    ) -> tuple[list[tuple[Case, int | None]], list[CaseResult]]:
        return [], [
            CaseResult(f"{path.name}: {message}", None, shown, line, False, "a valid case file", "invalid case file", details or [], "case")
        ]

    try:
        real = path.resolve()  # a case file is named by the user: it may be a link; what it names is still bounded
        text = read_inside(real.parent, real.name, max_bytes=MAX_CASE_BYTES, allowed=(real.parent,)).decode("utf-8-sig")
    except OutsidePack as exc:
        return broken(str(exc).replace(real.name, "the file", 1))
    except (OSError, UnicodeDecodeError) as exc:
        return broken(f"cannot read: {getattr(exc, 'strerror', None) or exc}")
    try:
        located = load_yaml(text)
    except YamlError as exc:
        return broken(exc.message, exc.line)
    data = located.data
    single = isinstance(data, dict) and "cases" not in data
    model: type[Case] | type[CaseFile] = Case if single else CaseFile
    try:
        parsed = CaseFile(cases=[Case.model_validate(data)]) if single else CaseFile.model_validate(data)
    except ValidationError as exc:
        found = schema_problems(exc, located, shown, root=model)
        lines = [text for p in found for text in [f"line {p.line}: {p.message}" if p.line else p.message, *_help(p.hint)]]
        first_line = next((p.line for p in found if p.line), None)
        return broken("invalid case file", first_line, [*lines, "a case needs `snapshot` (or `patch`) and `expect`; see docs/ci.md"])
    out: list[tuple[Case, int | None]] = []
    for i, case in enumerate(parsed.cases):
        line = located.where(() if single else ("cases", i))[0] or 1
        out.append((case, line))
    return out, []


def _help(hint: str | None) -> list[str]:
    return [f"  help: {hint}"] if hint else []


def run_cases(compiled: CompiledPack, paths: list[Path], coverage: Coverage | None = None, *, lang: str = "en") -> TestRun:
    """Run golden case files: each case's snapshot is diagnosed and its expectations checked; every rule's result counts for coverage."""
    cov = coverage or Coverage()
    indexes = _register(cov, compiled)
    results: list[CaseResult] = []
    for path in case_files(paths):
        cases, broken = _load_cases(path)
        results += broken
        for n, (case, line) in enumerate(cases):
            results.append(_run_case(compiled, path, n, case, line, cov, indexes, lang))
    root = str(compiled.source.root) if compiled.source is not None else ""
    return TestRun(results, cov, compiled.name, root)


def _case_roots(compiled: CompiledPack, path: Path) -> tuple[Path, ...]:
    """Where a case file's snapshots may lie: a case file of the pack (its cases/) reads only what the pack
    may read; one the user keeps elsewhere and names on the command line reads where it says."""
    real = path.resolve()
    allowed = roots(compiled.source.root) if compiled.source is not None else ()
    if allowed and allowed[0] in real.parents:
        return allowed
    return (Path(real.anchor),)


def _run_case(
    compiled: CompiledPack, path: Path, n: int, case: Case, line: int | None, cov: Coverage, indexes: dict[str, dict[int, int]], lang: str
) -> CaseResult:
    name = f"{path.stem}: {case.name or case.snapshot or f'case {n + 1}'}"
    expected = _expected_text(case.expect)

    def failed(actual: str, details: list[str]) -> CaseResult:
        return CaseResult(name, case.expect.top, str(path), line, False, expected, actual, details, "case")

    if (case.snapshot is None) == (case.patch is None):
        return failed("invalid case", ["a case needs exactly one of `snapshot` (a JSON file, relative to the case file) or `patch`"])
    try:
        if case.snapshot is not None:
            source = compiled.source
            folder = source.file_folder(path.parent, case.snapshot) if source is not None else path.parent
            data = _read_json(folder, case.snapshot, "snapshot", _case_roots(compiled, path))
        else:
            pack = compiled.source
            if pack is None:
                return failed("invalid case", ["`patch` needs the full pack"])
            data = merge(_read_json(*_example_base(pack), "example_base"), case.patch)
        snap = validate(data, source=name)
    except InvalidInput as exc:
        return failed("invalid snapshot", [str(p) for p in exc.problems])
    except InvalidPack as exc:
        return failed("unreadable snapshot", [p.render() for p in exc.problems])
    except (OSError, ValueError) as exc:
        return failed("unreadable snapshot", [f"{case.snapshot}: {getattr(exc, 'strerror', None) or exc}"])
    f = factlib.derive(snap)
    for cr in compiled.rules:
        _cover(cov, cr, indexes[cr.rule.id], f)
    report = compiled.diagnose_facts(snap, f, lang=lang)
    details = _differences(compiled, case.expect, report, f)
    ids = [x.rule_id for x in report.findings]
    actual = f"verdict {report.verdict}; findings: {', '.join(ids) or 'none'}"
    return CaseResult(name, case.expect.top, str(path), line, not details, expected, actual, details, "case")


def _expected_text(e: Expect) -> str:
    parts = []
    if e.top:
        parts.append(f"top {e.top}")
    if e.no_findings:
        parts.append("no findings")
    if e.present:
        parts.append(f"present {', '.join(e.present)}")
    if e.absent:
        parts.append(f"absent {', '.join(e.absent)}")
    if e.undetermined:
        parts.append(f"undetermined {', '.join(e.undetermined)}")
    if e.verdict:
        parts.append(f"verdict {e.verdict}")
    return "; ".join(parts) or "a valid report"


def _differences(compiled: CompiledPack, e: Expect, report: Any, f: Mapping[str, Any]) -> list[str]:
    """Each expectation that does not hold, with the evidence that differs."""
    known = {cr.rule.id for cr in compiled.rules}
    disabled = {d.rule_id: d.reason for d in compiled.disabled}
    ids = [x.rule_id for x in report.findings]
    out: list[str] = []

    def why(rid: str) -> list[str]:
        cr = compiled.rule(rid)
        return ["    " + line for line in evidence_lines(trace(cr.node, f))]

    for rid in [e.top or "", *e.present, *e.absent, *e.undetermined]:
        if rid and rid not in known:
            if rid in disabled:
                out.append(f"{rid} is disabled by this pack ({disabled[rid]})")
            else:
                near = difflib.get_close_matches(rid, sorted(known), n=1, cutoff=0.7)
                out.append(f"{rid} is not a rule of this pack" + (f"; did you mean {near[0]}?" if near else ""))
    unknown = {d.split(" ", 1)[0] for d in out}
    if e.top and e.top not in unknown:
        if not ids:
            out.append(f"top: expected {e.top}, got no finding")
            out += why(e.top)
        elif ids[0] != e.top:
            got = report.findings[0]
            if e.top in ids:
                mine = report.findings[ids.index(e.top)]
                out.append(f"top: expected {e.top}, got {got.rule_id} (score {got.score}); {e.top} ranked {mine.rank} (score {mine.score})")
            else:
                out.append(f"top: expected {e.top}, got {got.rule_id}; {e.top} did not fire:")
                out += why(e.top)
    if e.no_findings and ids:
        out.append(f"expected no findings, got {', '.join(ids)}")
    undetermined = {u.rule_id for u in report.undetermined}
    for rid in e.present:
        if rid not in unknown and rid not in ids:
            out.append(f"present: {rid} did not fire ({'undetermined' if rid in undetermined else 'quiet'}):")
            out += why(rid)
    for rid in e.absent:
        if rid not in unknown and rid in ids:
            out.append(f"absent: {rid} fired:")
            out += why(rid)
    for rid in e.undetermined:
        if rid not in unknown and rid not in undetermined:
            out.append(f"undetermined: {rid} was {'fired' if rid in ids else 'quiet'}:")
            out += why(rid)
    if e.verdict and report.verdict != e.verdict:
        line = report.line
        out.append(
            f"verdict: expected {e.verdict}, got {report.verdict} (status {line.status}, available {line.available:g}, "
            f"restore gap {line.restore_gap:g}, {len(ids)} finding(s))"
        )
    return out


# --- one whole run ----------------------------------------------------------------------


def run(path: str | Path | None = None, cases: list[Path] | None = None, *, lang: str = "en") -> TestRun:
    """Load a pack with its examples, run them and the golden case files, and measure coverage together."""
    compiled = CompiledPack.from_pack(rulepack.load(path))
    examples = run_examples(compiled)
    if cases:
        golden = run_cases(compiled, cases, examples.coverage, lang=lang)
        examples.results += golden.results
    return examples
