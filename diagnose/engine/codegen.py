"""A pack's conditions generated into one Python function: the compiler chooses every name, a table holds every value."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final, NamedTuple

from diagnose.engine.conditions import CAny, CLeaf, CNode, CNot, decide_partly, leaves
from diagnose.snapshot.facts import BOUNDS

# The source is built only from the words below, names the compiler makes up (`k3`, `F7`, `c12`,
# `r4`) and integer indexes. A rule's fact paths, ids, parameters and values reach the code
# through the constant table `K` alone: nothing a rule file says is ever parsed as Python.
_COMPARE: Final = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ORDERED: Final = frozenset(("<", "<=", ">", ">="))


class NotApplicable:
    """The result of a rule whose `applies_when` is known to be false (`run(f, True)` only)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_APPLICABLE"


NOT_APPLICABLE: Final = NotApplicable()

Run = Callable[[Mapping[str, Any], bool], list[tuple[Any, Any]]]
"""`run(facts, gate)`: each rule's label with its truth value, in order; with ``gate``, NOT_APPLICABLE
for a rule whose `applies_when` is false (its condition then is not evaluated)."""


class Program(NamedTuple):
    """The generated evaluator of a list of rules, with what a reviewer needs to read it."""

    source: str
    constants: tuple[Any, ...]
    run: Run
    labels: tuple[int, ...]
    """Where in the table each rule's label is."""


class _Emitter:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: list[Any] = []
        self._shared: dict[tuple[type, Any] | None, str] = {}
        self._facts: dict[str, str] = {}
        self._scopes: list[set[str]] = [set()]
        self._temps = 0

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def const(self, value: Any) -> str:
        """The name of ``value`` in the table; equal strings (fact paths), whole numbers and truth values share one entry."""
        key = (type(value), value) if type(value) in (str, int, bool) else None
        if key in self._shared:
            return self._shared[key]
        name = f"k{len(self.constants)}"
        self.constants.append(value)
        if key is not None:
            self._shared[key] = name
        return name

    def fact(self, path: str, depth: int) -> str:
        """The local holding the fact's value, looked up here unless an enclosing block already did."""
        var = self._facts.setdefault(path, f"F{len(self._facts)}")
        if not any(var in scope for scope in self._scopes):
            self.emit(depth, f"{var} = g({self.const(path)})")
            self._scopes[-1].add(var)
        return var

    def temp(self) -> str:
        self._temps += 1
        return f"c{self._temps}"

    @contextmanager
    def block(self) -> Iterator[None]:
        """A nested block: a fact looked up inside it is unknown to the code after it."""
        self._scopes.append(set())
        try:
            yield
        finally:
            self._scopes.pop()


class _LeafCode(NamedTuple):
    """A leaf as pieces of code: when it is unknown, what may decide it anyway, and what it is when known."""

    unknown: str | None
    """The test that its values are unknown (None: never unknown, as `exists` and `missing`)."""
    partly: str | None
    """For an ordered comparison: the call that decides it by the bounds of its facts when a side is unknown."""
    holds: str
    """Its truth value once its values are known."""
    guarded: bool
    """Whether values that do not compare (a text against a number) may raise TypeError, which leaves it unknown."""


def _leaf(e: _Emitter, node: CLeaf, d: int) -> _LeafCode:
    """The pieces of a leaf's code; the facts it reads are looked up here, at depth ``d``, unless looked up already."""
    op = node.op
    if op in ("exists", "missing"):
        return _LeafCode(None, None, f"{e.const(node.fact)} {'in' if op == 'exists' else 'not in'} f", False)
    a = e.fact(node.fact, d)
    if node.ref is not None or op in _COMPARE:
        b = e.fact(node.ref, d) if node.ref is not None else e.const(node.expected)
        unknown = f"{a} is None or {b} is None" if node.ref is not None else f"{a} is None"
        if op not in _ORDERED:  # equality of the values facts hold (JSON's, dates, times) never raises
            return _LeafCode(unknown, None, f"{a} {_COMPARE[op]} {b}", False)
        known = ("None", e.const(node.ref)) if node.ref is not None else (b, "None")
        partly = f"dp(f, {e.const(node.fact)}, {e.const(op)}, {known[0]}, {known[1]})"
        return _LeafCode(unknown, partly, f"{a} {_COMPARE[op]} {b}", True)
    if op == "intersects":
        return _LeafCode(f"{a} is None", None, f"not {e.const(frozenset(node.expected))}.isdisjoint({a})", False)
    if op in ("in", "not in"):
        return _LeafCode(f"{a} is None", None, f"{a} {op} {e.const(tuple(node.expected))}", False)
    if op == "between":
        lo, hi = node.expected
        return _LeafCode(f"{a} is None", None, f"bool({e.const(lo)} <= {a} <= {e.const(hi)})", True)
    raise ValueError(f"no code for the operator {op!r}")


def _leaf_value(e: _Emitter, node: CLeaf, out: str, d: int) -> None:
    """Code that leaves the leaf's result in ``out``."""
    code = _leaf(e, node, d)
    if code.unknown is None:
        e.emit(d, f"{out} = {code.holds}")
        return
    e.emit(d, f"if {code.unknown}:")
    e.emit(d + 1, f"{out} = {code.partly} if B else None" if code.partly else f"{out} = None")
    e.emit(d, "else:")
    _known(e, code, f"{out} = {code.holds}", out, d + 1)


def _leaf_into(e: _Emitter, node: CLeaf, acc: str, decisive: bool, d: int) -> None:
    """Code that folds the leaf's result into the junction's ``acc`` straight away, without keeping it."""
    code = _leaf(e, node, d)
    test = code.holds if decisive else f"not ({code.holds})"
    if code.unknown is None:
        e.emit(d, f"if {test}:")
        e.emit(d + 1, f"{acc} = {decisive}")
        return
    e.emit(d, f"if {code.unknown}:")
    if code.partly:
        kid = e.temp()
        e.emit(d + 1, f"{kid} = {code.partly} if B else None")
        _fold(e, kid, acc, decisive, d + 1)
    else:
        e.emit(d + 1, f"{acc} = None")
    e.emit(d, "else:")
    _known(e, code, f"if {test}:\n{acc} = {decisive}", acc, d + 1)


def _known(e: _Emitter, code: _LeafCode, statement: str, out: str, d: int) -> None:
    """``statement`` (lines apart by newlines, each nested one deeper) for known values; unknown when they do not compare."""
    if code.guarded:
        e.emit(d, "try:")
        d += 1
    for depth, line in enumerate(statement.split("\n")):
        e.emit(d + depth, line)
    if code.guarded:
        e.emit(d - 1, "except TypeError:")
        e.emit(d, f"{out} = None")


def _fold(e: _Emitter, kid: str, acc: str, decisive: bool, d: int) -> None:
    """A child's result in ``kid`` folded into the junction's ``acc`` (Kleene logic)."""
    e.emit(d, f"if {kid} is {decisive}:")
    e.emit(d + 1, f"{acc} = {decisive}")
    e.emit(d, f"elif {kid} is None:")
    e.emit(d + 1, f"{acc} = None")


def _node(e: _Emitter, node: CNode, out: str, d: int) -> None:
    """Code that leaves ``node``'s three-valued result in ``out``, evaluating children in order until one decides."""
    if isinstance(node, CLeaf):
        _leaf_value(e, node, out, d)
        return
    if isinstance(node, CNot):
        kid = e.temp()
        _node(e, node.child, kid, d)
        e.emit(d, f"{out} = None if {kid} is None else not {kid}")
        return
    if len(node.children) == 1:
        _node(e, node.children[0], out, d)
        return
    decisive = isinstance(node, CAny)  # an `any` is decided by a true child, an `all` by a false one
    e.emit(d, f"{out} = {not decisive}")
    for i, child in enumerate(node.children):
        inner = d
        if i:
            e.emit(d, f"if {out} is not {decisive}:")
            inner = d + 1
        with e.block() if i else _same():
            if isinstance(child, CLeaf):
                _leaf_into(e, child, out, decisive, inner)
            else:
                kid = e.temp()
                _node(e, child, kid, inner)
                _fold(e, kid, out, decisive, inner)


@contextmanager
def _same() -> Iterator[None]:
    yield


_MAX_NESTING: Final = 80
"""Python refuses a source nested 100 blocks deep; a condition that would nest deeper keeps its closures (no pack the loader takes comes near)."""


def _nesting(node: CNode) -> int:
    """How many blocks deep the code of ``node`` goes: every child of a junction after its first is one block in."""
    if isinstance(node, CLeaf):
        return 3
    if isinstance(node, CNot):
        return _nesting(node.child)
    first, *rest = node.children
    return max([_nesting(first), *(1 + _nesting(c) for c in rest)])


def _condition(e: _Emitter, node: CNode, out: str, d: int) -> None:
    """A rule's condition or applicability: generated, or a call of its closure (from the table) when too deep for Python."""
    if d + _nesting(node) > _MAX_NESTING:
        e.emit(d, f"{out} = {e.const(node.test)}(f)")
    else:
        _node(e, node, out, d)


def _ordered_anywhere(nodes: Sequence[CNode | None]) -> bool:
    return any(leaf.op in _ORDERED for n in nodes if n is not None for leaf in leaves(n))


def generate(rules: Sequence[tuple[CNode, CNode | None]], labels: Sequence[Any]) -> tuple[str, tuple[Any, ...], tuple[int, ...]]:
    """The source, constant table and labels' places of `run(f, gate)` for rules given as (condition, applies_when or None).

    `run` returns the pairs (label, result) itself: what a caller wants, built without a second pass.
    """
    e = _Emitter()
    d = 2
    if _ordered_anywhere([n for pair in rules for n in pair]):
        e.emit(d, f"B = g({e.const(BOUNDS)})")
    for i, (when, applies) in enumerate(rules):
        e.emit(d, f"# rule {i}")
        if applies is None:
            _condition(e, when, f"r{i}", d)
            continue
        e.emit(d, f"a{i} = True")
        e.emit(d, "if gate:")
        with e.block():
            _condition(e, applies, f"a{i}", d + 1)
        e.emit(d, f"if a{i} is False:")
        e.emit(d + 1, f"r{i} = NA")
        e.emit(d, "else:")
        with e.block():
            _condition(e, when, f"r{i}", d + 1)
    if len(labels) != len(rules):
        raise ValueError(f"{len(labels)} labels for {len(rules)} rules")
    places = []
    for label in labels:
        places.append(len(e.constants))
        e.constants.append(label)
    e.emit(d, "return [" + ", ".join(f"(k{k}, r{i})" for i, k in enumerate(places)) + "]")
    head = ["def make(K, dp, NA):"] + [f"    k{i} = K[{i}]" for i in range(len(e.constants))]
    head += ["    def run(f, gate):", "        g = f.get"]
    return "\n".join(head + e.lines + ["    return run", ""]), tuple(e.constants), tuple(places)


def build(rules: Sequence[tuple[CNode, CNode | None]], labels: Sequence[Any]) -> Program:
    """Generate, compile and bind the evaluator of ``rules``; ``labels`` (one per rule) come back paired with the results."""
    source, constants, places = generate(rules, labels)
    namespace: dict[str, Any] = {"__builtins__": {"bool": bool, "TypeError": TypeError}}
    exec(compile(source, "<diagnose rules>", "exec"), namespace)  # the source holds no rule text: see the top of this module
    return Program(source, constants, namespace["make"](constants, decide_partly, NOT_APPLICABLE), places)


def describe(value: Any) -> str:
    """A constant as a reviewer reads it in the table (`repr`: quotes and escapes show what a string holds)."""
    return f"{type(value).__name__} {value!r}"


def listing(program: Program, names: Sequence[str]) -> str:
    """The generated source, then the constant table (each rule's label by the rule's name), then which rule each `# rule N` is."""
    label = {k: names[i] for i, k in enumerate(program.labels)}
    lines = [program.source.rstrip("\n"), "", "# constants (K)"]
    lines += [f"# K[{i}] = {f'the rule {label[i]!r}' if i in label else describe(v)}" for i, v in enumerate(program.constants)]
    lines += ["", "# rules"] + [f"# rule {i} = {name!r}" for i, name in enumerate(names)]
    return "\n".join(lines) + "\n"
