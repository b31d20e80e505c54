"""Testing rule packs like code: every rule's own examples, golden case files, and coverage."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import facts as factlib
from .contract import validate
from .engine import CLeaf, CNode, CNot, CompiledPack, CompiledRule, trace
from .errors import InvalidInput, InvalidPack, PackProblem
from .rulepack import Pack

EXPECT = {"fires": True, "quiet": False, "undetermined": None}
WORD = {True: "fires", False: "quiet", None: "undetermined"}
_HOLDS = {True: "holds", False: "fails", None: "unknown"}


def merge(base: Any, patch: Any) -> Any:
    """Deep-merge a patch onto a base: mappings merge key by key; lists, scalars and null replace."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = merge(base.get(key), value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(patch)


@dataclass(frozen=True)
class CaseResult:
    """One test case: which rule and example, what was expected, what happened, and why it differs."""

    name: str
    rule_id: str | None
    file: str
    line: int | None
    passed: bool
    expected: str
    actual: str
    details: list[str] = field(default_factory=list)


@dataclass
class Coverage:
    """Which rules fired and stayed quiet at least once, and which leaves decided a result."""

    fired: set[str] = field(default_factory=set)
    quiet: set[str] = field(default_factory=set)
    decided_leaves: set[tuple[str, int]] = field(default_factory=set)
    all_leaves: set[tuple[str, int]] = field(default_factory=set)
    rules: list[str] = field(default_factory=list)

    def rule_percent(self) -> float:
        """Share of rules both fired and quiet at least once, as a percentage (not rounded up)."""
        if not self.rules:
            return 100.0
        both = sum(1 for r in self.rules if r in self.fired and r in self.quiet)
        return 100.0 * both / len(self.rules)

    def never_fired(self) -> list[str]:
        return [r for r in self.rules if r not in self.fired]

    def never_quiet(self) -> list[str]:
        return [r for r in self.rules if r not in self.quiet]

    def undecided_leaves(self) -> list[tuple[str, int]]:
        return sorted(self.all_leaves - self.decided_leaves)


@dataclass
class TestRun:
    results: list[CaseResult]
    coverage: Coverage

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]


def _leaves(node: CNode) -> Iterator[CLeaf]:
    if isinstance(node, CLeaf):
        yield node
    elif isinstance(node, CNot):
        yield from _leaves(node.child)
    else:
        for child in node.children:
            yield from _leaves(child)


def _leaf_index(cr: CompiledRule) -> dict[int, int]:
    return {id(leaf): i for i, leaf in enumerate(_leaves(cr.node))}


def example_snapshot(pack: Pack, rule_file: str, example: Any) -> Any:
    """The snapshot an example stands for: its patch merged onto the pack's base, or its own file."""
    root = pack.root
    if example.file is not None:
        path = (Path(rule_file).parent / example.file).resolve()
        return json.loads(path.read_text(encoding="utf-8"))
    base_name = pack.manifest.example_base
    if base_name is None:
        raise InvalidPack([PackProblem(str(root / "pack.yaml"), "examples use `patch` but the manifest names no `example_base`")])
    return merge(_base(root / base_name), example.patch)


_BASES: dict[Path, Any] = {}


def _base(path: Path) -> Any:
    if path not in _BASES:
        try:
            _BASES[path] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidPack([PackProblem(str(path), f"cannot read example_base: {exc}")]) from None
    return copy.deepcopy(_BASES[path])


def run_examples(compiled: CompiledPack, coverage: Coverage | None = None) -> TestRun:
    """Evaluate every rule on each of its own examples: fires must be true, quiet false, undetermined unknown."""
    pack = compiled.source
    if pack is None:
        raise ValueError("rule tests need the full pack: CompiledPack.from_pack(rulepack.load(path))")
    cov = coverage or Coverage()
    results: list[CaseResult] = []
    for cr in compiled.rules:
        rule = pack.rule(cr.rule.id)
        cov.rules.append(rule.id)
        index = _leaf_index(cr)
        cov.all_leaves |= {(rule.id, i) for i in index.values()}
        src = pack.sources.get(rule.id)
        file = src.file if src else str(pack.root)
        for kind in ("fires", "quiet", "undetermined"):
            for n, example in enumerate(getattr(rule.examples, kind)):
                line = src.located.where(("rules", src.index, "examples", kind, n))[0] if src else None
                name = f"{rule.id} {kind}: {example.name}"
                try:
                    snap = validate(example_snapshot(pack, file, example), source=name)
                except InvalidInput as exc:
                    results.append(CaseResult(name, rule.id, file, line, False, kind, "invalid snapshot", [str(p) for p in exc.problems]))
                    continue
                except (OSError, ValueError) as exc:
                    results.append(CaseResult(name, rule.id, file, line, False, kind, "unreadable example", [str(exc)]))
                    continue
                f = factlib.derive(snap)
                tr = trace(cr.node, f)
                _cover(cov, rule.id, cr, index, f, tr.result)
                want = EXPECT[kind]
                details = []
                if tr.result is not want:
                    details = [f"{e.fact} {e.op} {e.expected!r}: actual {e.actual!r} ({_HOLDS[e.result]})" for e in tr.evidence]
                    if tr.missing:
                        details.append(f"unknown facts: {', '.join(tr.missing)}")
                results.append(CaseResult(name, rule.id, file, line, tr.result is want, kind, WORD[tr.result], details))
    return TestRun(results, cov)


def _cover(cov: Coverage, rule_id: str, cr: CompiledRule, index: dict[int, int], f: Mapping[str, Any], result: bool | None) -> None:
    if result is True:
        cov.fired.add(rule_id)
    elif result is False:
        cov.quiet.add(rule_id)
    for leaf in _leaves(cr.node):
        if leaf.test(f) is not None:
            cov.decided_leaves.add((rule_id, index[id(leaf)]))
