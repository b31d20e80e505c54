"""Lint a rule pack: every problem at file:line:column with its rule, a message and a hint, errors and warnings apart."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from diagnose.errors import PackProblem
from diagnose.pack.files import MANIFEST, OutsidePack, locate, rule_files
from diagnose.pack.loader import Loaded, Pack, read
from diagnose.pack.model import AllOf, Leaf, NotOf, Rule, iter_leaves, iter_texts
from diagnose.pack.templates import template_fields
from diagnose.pack.yamlpos import Located
from diagnose.snapshot import facts as factlib
from diagnose.userdocs import see

ERROR = "error"
WARNING = "warning"


class Check(NamedTuple):
    """One kind of problem lint reports: its code, its usual level, what it means and the usual fix."""

    code: str
    level: str
    title: str
    help: str


CHECKS: dict[str, Check] = {
    c.code: c
    for c in (
        Check(
            "yaml", ERROR, "YAML syntax error", "check the indentation and quoting on this line; tags and duplicate keys are not allowed"
        ),
        Check("unknown-key", ERROR, "Unknown key", "remove the key or fix its spelling; only `metadata` and example patches are free-form"),
        Check("missing-key", ERROR, "Missing required key", f"add the key; {see('rules')} lists the required keys"),
        Check("invalid-value", ERROR, "Invalid value", f"see {see('rules')} for the allowed values"),
        Check(
            "missing-text", ERROR, "Text missing in a language", "every title, explanation, rationale and remedy needs both `en` and `zh`"
        ),
        Check(
            "missing-remedy", ERROR, "Audience without a remedy", "give at least one remedy each for `customer`, `agent` and `institution`"
        ),
        Check("duplicate-id", ERROR, "Duplicate rule id", "rule ids are unique across all files of a pack; rename one of the rules"),
        Check("duplicate-param", ERROR, "Parameter declared twice", "declare each parameter once, in pack.yaml or in one rule file"),
        Check("unknown-fact", ERROR, "Unknown fact path", "`diagnose facts` lists every fact; custom data goes under `extensions.`"),
        Check("template-fact", ERROR, "Template names an unknown fact", "`diagnose facts` lists every fact a template may show"),
        Check(
            "template",
            ERROR,
            "Malformed template field",
            "write {fact.path}, {fact.path|filter} or {params.name}; {{ and }} are literal braces",
        ),
        Check(
            "type-mismatch",
            ERROR,
            "Value does not fit the fact's type",
            "compare numbers with numbers, enums with the values the contract allows",
        ),
        Check("unknown-param", ERROR, "Unknown pack parameter", "declare the parameter under `parameters` or fix its name"),
        Check("unknown-rule", ERROR, "Link to a rule that does not exist", "name a rule id of this pack"),
        Check("unknown-family", ERROR, "Unknown family", "use a default family or declare yours under `families` in pack.yaml"),
        Check("cycle", ERROR, "`explains` links form a cycle", "a cause cannot explain itself; remove one link of the cycle"),
        Check(
            "never-true", ERROR, "Condition that can never be true", "fix the bounds: as written, no snapshot can satisfy this condition"
        ),
        Check(
            "always-true",
            ERROR,
            "Condition that is always true",
            "a condition true for every known value decides nothing; tighten or remove it",
        ),
        Check(
            "missing-example",
            WARNING,
            "Rule without a firing or a quiet example",
            "add `examples.fires` and `examples.quiet`; `rules test` runs them",
        ),
        Check("missing-file", ERROR, "A file the pack names does not exist", "fix the path; it is relative to the file that names it"),
        Check("unused-param", WARNING, "Parameter no rule uses", "remove the parameter, or use it in a condition or a template"),
        Check("too-large", ERROR, "File or pack too large", "split the pack or shorten the file"),
        Check("unreadable", ERROR, "File cannot be read", "check that the file exists and is readable"),
        Check("encoding", ERROR, "File is not UTF-8", "save rule files as UTF-8"),
        Check("invalid", ERROR, "Invalid rule pack", f"see {see('rules')}"),
    )
}
"""Every check, by code. A test keeps one broken pack under tests/broken_packs/ per check of the lint brief."""


@dataclass(frozen=True)
class LintResult:
    """What lint found in one pack: problems in file, line and column order, and what was read."""

    root: str
    problems: tuple[PackProblem, ...]
    files: tuple[str, ...] = ()
    rules: int = 0
    loaded: bool = True
    """False when the pack could not be loaded: only the loader's problems are known then."""
    lines: dict[tuple[str, int], str] = field(default_factory=dict)
    """The source line of each problem, for views that show it under the message."""
    rule_places: tuple[tuple[str, str, int | None], ...] = ()
    """Each own rule's id, file and line, for views that list every rule (a JUnit test per rule)."""
    inherited: int = 0
    """How many of the rules come from the pack this one extends (their files are not this pack's)."""

    @property
    def errors(self) -> list[PackProblem]:
        return [p for p in self.problems if p.level == ERROR]

    @property
    def warnings(self) -> list[PackProblem]:
        return [p for p in self.problems if p.level != ERROR]

    def failed(self, strict: bool = False) -> bool:
        """Exit 1: errors, or with ``strict`` any warning too."""
        return bool(self.errors) or (strict and bool(self.warnings))


def lint(path: str | Path | None = None) -> LintResult:
    """Lint a pack folder (or the default pack). Never raises for a broken pack: its problems are the result.

    Every file is read and parsed once (the loader's reading, positions included, is shared
    with the checks here); the pack-wide checks run on whatever rules and parameters are valid.
    """
    loaded = read(path)
    found = list(loaded.problems)
    pack = loaded.pack
    if pack is not None:
        flawed = {p.rule_id for p in loaded.errors if p.rule_id}  # a rule with an error is judged once it is fixed
        found += check_conditions(pack, flawed)
        found += check_times(pack)
        found += check_examples(pack, loaded)
        if not pack.unparsed.any() and not loaded.errors:  # a rule with an error may be the one that uses it
            found += check_parameters(pack, loaded)
    problems = _sorted(_unique([_refine(p) for p in found]))
    ok = pack is not None and not loaded.errors
    own = [f for f in pack.files if not pack.inherited_file(str(f))] if pack is not None else []
    files = [str(f) for f in own] if pack is not None else [str(loaded.root / MANIFEST), *(str(f) for f in rule_files(loaded.root))]
    if pack is None and not loaded.root.is_dir():
        files = []
    places = tuple((r.id, pack.sources[r.id].file, pack.sources[r.id].line) for r in pack.rules if pack.own(r.id)) if pack else ()
    rules = len(pack.rules) if pack is not None and ok else 0
    inherited = sum(1 for r in pack.rules if pack.inherited(r.id)) if pack is not None and ok else 0
    return LintResult(str(loaded.root), problems, tuple(files), rules, ok, _source_lines(problems, loaded), places, inherited)


# --- the loader's problems, with lint's help -------------------------------------------


def _refine(p: PackProblem) -> PackProblem:
    """A problem with the usual fix of its check when it brought no hint of its own."""
    hint = p.hint or (CHECKS[p.code].help if p.code in CHECKS else None)
    return p._replace(hint=hint)


def _sorted(problems: Iterable[PackProblem]) -> tuple[PackProblem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or 0, p.level != ERROR, p.code, p.message)))


def _unique(problems: list[PackProblem]) -> list[PackProblem]:
    return list(dict.fromkeys(problems))


def _source_lines(problems: Iterable[PackProblem], loaded: Loaded) -> dict[tuple[str, int], str]:
    """The source line of each problem, from the text read once (a file that could not be parsed is read again)."""
    wanted: dict[str, set[int]] = {}
    for p in problems:
        if p.line:
            wanted.setdefault(p.file, set()).add(p.line)
    out: dict[tuple[str, int], str] = {}
    for file, lines in wanted.items():
        text = loaded.texts.get(file)
        if text is None:
            try:
                text = Path(file).read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                continue
        rows = text.splitlines()
        for n in lines:
            if 0 < n <= len(rows):
                out[(file, n)] = rows[n - 1]
    return out


# --- where a problem is -----------------------------------------------------------------


def _at(pack: Pack, rule: Rule, path: tuple[str | int, ...]) -> tuple[str, int | None, int | None, int | None, int | None] | None:
    """The file, and the start and end of the value at ``path`` inside a rule."""
    src = pack.sources.get(rule.id)
    if src is None:
        return None
    return (src.file, *src.located.span(("rules", src.index, *path)))


def _own(pack: Pack, rule: Rule) -> bool:
    """A rule this pack defines (not one inherited from the pack it extends): lint judges only those."""
    return pack.own(rule.id)


# --- conditions that can never be true, or are always true -----------------------------


class _Span(NamedTuple):
    """An interval of numbers; an end is inf when open-ended."""

    lo: float
    lo_in: bool
    hi: float
    hi_in: bool

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_in and self.hi_in))


@dataclass(frozen=True)
class _Values:
    """The values of one fact that make a leaf true: a union of intervals (numbers) or a finite set (enum, bool)."""

    spans: tuple[_Span, ...] = ()
    items: frozenset[Any] | None = None
    integral: bool = False

    def empty(self) -> bool:
        if self.items is not None:
            return not self.items
        return all(s.empty() for s in self.spans)

    def meet(self, other: _Values) -> _Values:
        if self.items is not None and other.items is not None:
            return _Values(items=self.items & other.items)
        spans = tuple(_intersect(a, b) for a in self.spans for b in other.spans)
        return _Values(tuple(_tighten(s, self.integral) for s in spans if not s.empty()), integral=self.integral)

    def join(self, other: _Values) -> _Values:
        if self.items is not None and other.items is not None:
            return _Values(items=self.items | other.items)
        return _Values(self.spans + other.spans, integral=self.integral)

    def covers(self, domain: _Values) -> bool:
        if self.items is not None and domain.items is not None:
            return domain.items <= self.items
        return domain.meet(_complement(self)).empty()


def _intersect(a: _Span, b: _Span) -> _Span:
    if a.lo > b.lo or (a.lo == b.lo and not a.lo_in):
        lo, lo_in = a.lo, a.lo_in
    else:
        lo, lo_in = b.lo, b.lo_in
    if a.hi < b.hi or (a.hi == b.hi and not a.hi_in):
        hi, hi_in = a.hi, a.hi_in
    else:
        hi, hi_in = b.hi, b.hi_in
    return _Span(lo, lo_in, hi, hi_in)


def _tighten(s: _Span, integral: bool) -> _Span:
    """On a fact that only takes whole numbers, (0, 1) is empty: round open and fractional ends inwards."""
    if not integral:
        return s
    lo, hi = s.lo, s.hi
    if math.isfinite(lo):
        lo = math.floor(lo) + 1 if (lo == math.floor(lo) and not s.lo_in) else math.ceil(lo)
    if math.isfinite(hi):
        hi = math.ceil(hi) - 1 if (hi == math.ceil(hi) and not s.hi_in) else math.floor(hi)
    return _Span(lo, True, hi, True)


def _complement(v: _Values) -> _Values:
    """The numbers not in ``v`` (over the whole line; the caller meets it with the fact's domain)."""
    out: list[_Span] = []
    lo, lo_in = -math.inf, False
    for s in sorted((s for s in v.spans if not s.empty()), key=lambda s: (s.lo, not s.lo_in)):
        gap = _Span(lo, lo_in, s.lo, not s.lo_in)
        if not gap.empty():
            out.append(gap)
        if s.hi > lo or (s.hi == lo and s.hi_in):
            lo, lo_in = s.hi, not s.hi_in
    tail = _Span(lo, lo_in, math.inf, False)
    if not tail.empty():
        out.append(tail)
    return _Values(tuple(out), integral=v.integral)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_INTEGRAL_UNITS = ("count", "days", "tiers")


def _domain(spec: factlib.FactSpec) -> _Values | None:
    """Every value a fact can take, from the catalog: a number's range, an enum's values, true and false."""
    if spec.kind == "number":
        lo = -math.inf if spec.minimum is None else float(spec.minimum)
        hi = math.inf if spec.maximum is None else float(spec.maximum)
        return _Values((_Span(lo, math.isfinite(lo), hi, math.isfinite(hi)),), integral=spec.unit in _INTEGRAL_UNITS)
    if spec.kind == "enum" and spec.values:
        return _Values(items=frozenset(spec.values))
    if spec.kind == "bool":
        return _Values(items=frozenset((True, False)))
    return None


def _operand(pack: Pack, leaf: Leaf) -> Any:
    """The literal a leaf compares with, parameters resolved; None when it compares with another fact or is unknown."""
    if leaf.ref is not None:
        return None
    if leaf.param is not None:
        names = leaf.param if isinstance(leaf.param, list) else [leaf.param]
        if any(n not in pack.parameters for n in names):
            return None
        return [pack.param(n) for n in names] if isinstance(leaf.param, list) else pack.param(leaf.param)
    return leaf.value


def _truth(pack: Pack, leaf: Leaf) -> tuple[_Values, _Values] | None:
    """The values of the leaf's fact that make it true, and every value the fact can take; None when not known statically."""
    spec = factlib.catalog().get(leaf.fact)
    if spec is None or leaf.op in ("exists", "missing"):
        return None
    domain = _domain(spec)
    operand = _operand(pack, leaf)
    if domain is None or operand is None:
        return None
    op = leaf.op
    if domain.items is not None:
        values = operand if isinstance(operand, list) else [operand]
        if op in ("==", "in"):
            return _Values(items=domain.items & frozenset(values)), domain
        if op in ("!=", "not in"):
            return _Values(items=domain.items - frozenset(values)), domain
        return None
    if isinstance(operand, list):
        if not all(_number(v) for v in operand):
            return None
        if op == "between":
            spans: tuple[_Span, ...] = (_Span(float(operand[0]), True, float(operand[1]), True),)
        else:
            spans = tuple(_Span(float(v), True, float(v), True) for v in operand)
            if op == "not in":
                spans = _complement(_Values(spans)).spans
    elif not _number(operand):
        return None
    else:
        x = float(operand)
        inf = math.inf
        spans = {
            "==": (_Span(x, True, x, True),),
            "!=": (_Span(-inf, False, x, False), _Span(x, False, inf, False)),
            "<": (_Span(-inf, False, x, False),),
            "<=": (_Span(-inf, False, x, True),),
            ">": (_Span(x, False, inf, False),),
            ">=": (_Span(x, True, inf, False),),
        }.get(op, ())
        if not spans:
            return None
    return domain.meet(_Values(spans, integral=domain.integral)), domain


def _static(pack: Pack, cond: Any) -> bool | None:
    """True or False when the condition has that result for every snapshot in which its facts are known; else None."""
    if isinstance(cond, Leaf):
        t = _truth(pack, cond)
        if t is None:
            return None
        values, domain = t
        if values.empty():
            return False
        return True if values.covers(domain) else None
    if isinstance(cond, NotOf):
        inner = _static(pack, cond.not_)
        return None if inner is None else not inner
    is_all = isinstance(cond, AllOf)
    kids = [_static(pack, c) for c in (cond.all if is_all else cond.any)]
    if is_all:
        if False in kids or _clash(pack, cond.all) is not None:
            return False
        return True if all(k is True for k in kids) else None
    if True in kids:
        return True
    if all(k is False for k in kids):
        return False
    return True if _cover(pack, cond.any) is not None else None


def _by_fact(pack: Pack, children: list[Any]) -> dict[str, list[tuple[int, _Values, _Values]]]:
    groups: dict[str, list[tuple[int, _Values, _Values]]] = {}
    for i, child in enumerate(children):
        if isinstance(child, Leaf):
            t = _truth(pack, child)
            if t is not None:
                groups.setdefault(child.fact, []).append((i, *t))
    return groups


def _clash(pack: Pack, children: list[Any]) -> tuple[int, list[int]] | None:
    """Under `all`: the first leaf whose bounds, with earlier leaves on the same fact, leave no value; and those leaves."""
    for members in _by_fact(pack, children).values():
        acc: _Values | None = None
        seen: list[int] = []
        for i, values, _ in members:
            if values.empty():
                break  # a leaf that is never true on its own is reported by itself
            acc = values if acc is None else acc.meet(values)
            if acc.empty():
                return i, seen
            seen.append(i)
    return None


def _cover(pack: Pack, children: list[Any]) -> list[int] | None:
    """Under `any`: leaves on one fact that together accept every value it can take."""
    for members in _by_fact(pack, children).values():
        if len(members) < 2:
            continue
        acc = members[0][1]
        for _, values, _ in members[1:]:
            acc = acc.join(values)
        if acc.covers(members[0][2]):
            return [i for i, _, _ in members]
    return None


def _show(leaf: Leaf, pack: Pack) -> str:
    rhs = leaf.ref if leaf.ref is not None else leaf.value if leaf.value is not None else leaf.param
    shown = f"`{leaf.fact} {leaf.op} {_lit(rhs)}`"
    if leaf.param is not None:
        shown += f" ({_lit(_operand(pack, leaf))})"
    return shown


def _lit(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return str(value)


def _range(spec: factlib.FactSpec) -> str:
    if spec.kind == "enum":
        return f"`{spec.path}` is one of {', '.join(spec.values)}"
    if spec.kind == "bool":
        return f"`{spec.path}` is true or false"
    lo = "" if spec.minimum is None else f"{spec.minimum:g}"
    hi = "" if spec.maximum is None else f"{spec.maximum:g}"
    unit = f" ({spec.unit})" if spec.unit else ""
    if lo and hi:
        return f"`{spec.path}`{unit} lies between {lo} and {hi}"
    if lo:
        return f"`{spec.path}`{unit} is never below {lo}"
    if hi:
        return f"`{spec.path}`{unit} is never above {hi}"
    return f"`{spec.path}` can take any number"


def check_conditions(pack: Pack, skip: set[str] | None = None) -> list[PackProblem]:
    """Conditions that can never be true or are always true (whenever their facts are known).

    An error when the part decides the whole rule (the rule never fires, or fires on every
    snapshot that has its facts); a warning when only a branch is constant (redundant or dead).
    """
    out: list[PackProblem] = []
    for rule in pack.rules:
        if not _own(pack, rule) or rule.id in (skip or set()):
            continue
        whole = _static(pack, rule.when)
        causes = _causes(pack, rule.when, ("when",)) if whole is not None else set()
        tail = "; so the rule can never fire" if whole is False else "; so the rule fires on every snapshot that has these facts"
        for path, code, message, hint in _constant_parts(pack, rule.when, ("when",)):
            where = _at(pack, rule, path)
            if where is None:
                continue
            decisive = path in causes
            level = ERROR if decisive else WARNING
            text = message + (tail if decisive else "")
            out.append(PackProblem(where[0], text, where[1], where[2], rule.id, hint, code, level, where[3], where[4]))
    return out


def _causes(pack: Pack, cond: Any, path: tuple[str | int, ...]) -> set[tuple[str | int, ...]]:
    """The constant parts that make ``cond`` constant (it is, when this is called): where the fix belongs."""
    if isinstance(cond, Leaf):
        return {path}
    if isinstance(cond, NotOf):
        return _causes(pack, cond.not_, (*path, "not"))
    key = "all" if isinstance(cond, AllOf) else "any"
    children = cond.all if isinstance(cond, AllOf) else cond.any
    result = _static(pack, cond)
    decisive = isinstance(cond, AllOf) is (result is False)  # false under all, true under any: one child decides
    out: set[tuple[str | int, ...]] = set()
    for i, child in enumerate(children):
        kid = _static(pack, child)
        if kid is result:
            out |= _causes(pack, child, (*path, key, i))
    if decisive and not out:
        if isinstance(cond, AllOf):
            clash = _clash(pack, children)
            if clash is not None:
                out.add((*path, key, clash[0]))
        elif _cover(pack, children) is not None:
            out.add(path)
    return out


def _constant_parts(pack: Pack, cond: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str, str, str]]:
    if isinstance(cond, Leaf):
        result = _static(pack, cond)
        if result is None:
            return
        spec = factlib.catalog()[cond.fact]
        if result:
            yield (
                path,
                "always-true",
                f"{_show(cond, pack)} is always true: {_range(spec)}",
                "remove it, or compare with a value inside the fact's range",
            )
        else:
            yield (
                path,
                "never-true",
                f"{_show(cond, pack)} can never be true: {_range(spec)}",
                "compare with a value the fact can take",
            )
        return
    if isinstance(cond, NotOf):
        yield from _constant_parts(pack, cond.not_, (*path, "not"))
        return
    key = "all" if isinstance(cond, AllOf) else "any"
    children: list[Any] = cond.all if isinstance(cond, AllOf) else cond.any
    for i, child in enumerate(children):
        yield from _constant_parts(pack, child, (*path, key, i))
    if isinstance(cond, AllOf):
        clash = _clash(pack, children)
        if clash is not None:
            i, earlier = clash
            others = " and ".join(_show(children[j], pack) for j in earlier)
            yield (
                (*path, key, i),
                "never-true",
                f"{_show(children[i], pack)} contradicts {others} under `all`: no value satisfies both",
                "fix the bounds; to accept either, put the leaves under `any`",
            )
    else:
        covering = _cover(pack, children)
        if covering is not None:
            shown = " or ".join(_show(children[j], pack) for j in covering)
            yield (
                path,
                "always-true",
                f"{shown} under `any` accept every value of `{children[covering[0]].fact}`: always true",
                "fix the bounds so that some value fails the condition",
            )


# --- times -------------------------------------------------------------------------------


def _time_problem(value: Any) -> str | None:
    """Why a literal can never be compared with a time fact (which always has an offset), or None when it can."""
    from datetime import date, datetime

    if isinstance(value, datetime):
        return None if value.tzinfo is not None else "a time without an offset (a YAML timestamp with no zone)"
    if isinstance(value, date):
        return "a date, not a time"
    if not isinstance(value, str):
        return None  # numbers and the like: the loader's type check reports them
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "not a time"
    if "T" not in value and " " not in value:
        return "a date, not a time"
    return None if parsed.tzinfo is not None else "a time without an offset"


def check_times(pack: Pack) -> list[PackProblem]:
    """A time fact compared with a value that is not a time with an offset (a naive timestamp, a date): never decided."""
    out: list[PackProblem] = []
    catalog = factlib.catalog()
    for rule in pack.rules:
        if not _own(pack, rule):
            continue
        for leaf, path in iter_leaves(rule.when, ("when",)):
            spec = catalog.get(leaf.fact)
            if spec is None or spec.kind != "datetime" or leaf.ref is not None or leaf.op in ("exists", "missing"):
                continue
            operand = _operand(pack, leaf)
            for value in operand if isinstance(operand, list) else [operand]:
                why = _time_problem(value)
                if why is None:
                    continue
                where = _at(pack, rule, (*path, "value" if leaf.value is not None else "param"))
                if where is None:
                    continue
                message = f"{_show(leaf, pack)} compares the time `{leaf.fact}` with {_lit(value)}: {why}; the comparison is never decided"
                hint = 'write the value as a quoted time with its offset, e.g. "2024-03-05T14:20:00+08:00"'
                out.append(PackProblem(where[0], message, where[1], where[2], rule.id, hint, "type-mismatch", ERROR, where[3], where[4]))
    return out


# --- examples, files and parameters -----------------------------------------------------


def check_examples(pack: Pack, loaded: Loaded) -> list[PackProblem]:
    """A rule with no firing or no quiet example (warning); an example or example base file that does not exist (error)."""
    out: list[PackProblem] = []
    uses_patch = False
    for rule in pack.rules:
        if not _own(pack, rule):
            continue
        src = pack.sources[rule.id]
        for kind in ("fires", "quiet"):
            if not getattr(rule.examples, kind):
                where = _at(pack, rule, ("examples",))
                assert where is not None
                out.append(
                    PackProblem(
                        where[0],
                        f"no `{kind}` example: nothing shows when the rule {'fires' if kind == 'fires' else 'stays quiet'}",
                        where[1],
                        where[2],
                        rule.id,
                        f"add `examples: {{{kind}: [{{name: ..., patch: {{...}}}}]}}`; a near miss just across a threshold makes the best quiet example",
                        "missing-example",
                        WARNING,
                    )
                )
        for kind in ("fires", "quiet", "undetermined"):
            for n, example in enumerate(getattr(rule.examples, kind)):
                if example.patch is not None:
                    uses_patch = True
                elif example.file is not None and (why := _unreadable(pack.file_folder(Path(src.file).parent, example.file), example.file)):
                    where = _at(pack, rule, ("examples", kind, n, "file"))
                    assert where is not None
                    message = f"example file {why}"
                    help_ = CHECKS["missing-file"].help
                    out.append(
                        PackProblem(where[0], message, where[1], where[2], rule.id, help_, "missing-file", ERROR, where[3], where[4])
                    )
    base = pack.manifest.example_base
    manifest = str(pack.root / MANIFEST)
    if base is not None and (why := _unreadable(pack.root, base)):
        line, col, end_line, end_col = pack.manifest_at.span(("example_base",))
        message = f"example_base {why}"
        out.append(PackProblem(manifest, message, line, col, None, CHECKS["missing-file"].help, "missing-file", ERROR, end_line, end_col))
    elif pack.example_base() is None and uses_patch:
        out.append(
            PackProblem(
                manifest,
                "rule examples use `patch` but the manifest names no `example_base`",
                1,
                1,
                None,
                "add `example_base: fixtures/base.json`: a full, healthy snapshot the patches are merged onto",
                "missing-key",
            )
        )
    return out


def _unreadable(folder: Path, name: str) -> str | None:
    """Why a file a pack names cannot be read (it does not exist, or lies outside the pack), or None."""
    try:
        path = locate(folder, name)
    except OutsidePack as exc:
        return str(exc)
    except OSError:
        return f"{name} does not exist"
    return None if path.is_file() else f"{name} is not a regular file"


def check_parameters(pack: Pack, loaded: Loaded) -> list[PackProblem]:
    """A parameter declared in this pack that no condition or template uses (warning)."""
    used: set[str] = set()
    for rule in pack.rules:
        for leaf, _ in iter_leaves(rule.when):
            if leaf.param is not None:
                used.update(leaf.param if isinstance(leaf.param, list) else [leaf.param])
        for _, text in iter_texts(rule):
            for fld in template_fields(text):
                if isinstance(fld, tuple) and fld[0].startswith("params."):
                    used.add(fld[0][7:])
    out: list[PackProblem] = []
    for file in [pack.root / MANIFEST, *rule_files(pack.root)]:
        declared = _declared_params(loaded.parsed.get(str(file), Located(None)))
        for name, (line, col, end_line, end_col) in declared.items():
            if name not in used:
                out.append(
                    PackProblem(
                        str(file),
                        f"parameter `{name}` is declared but no rule uses it",
                        line,
                        col,
                        None,
                        CHECKS["unused-param"].help,
                        "unused-param",
                        WARNING,
                        end_line,
                        end_col,
                    )
                )
    return out


def _declared_params(located: Located) -> dict[str, tuple[int | None, int | None, int | None, int | None]]:
    params = located.data.get("parameters") if isinstance(located.data, dict) else None
    if not isinstance(params, dict):
        return {}
    return {name: located.span(("parameters", name, "__key__")) for name in params}
