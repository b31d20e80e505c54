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

Run = Callable[[Mapping[str, Any], bool], tuple[Any, ...]]
"""`run(facts, gate)`: every rule's truth value in the pack's order; with ``gate``, NOT_APPLICABLE
for a rule whose `applies_when` is false (its condition then is not evaluated)."""


class Program(NamedTuple):
    """The generated evaluator of a list of rules, with what a reviewer needs to read it."""

    source: str
    constants: tuple[Any, ...]
    run: Run


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


def _leaf(e: _Emitter, node: CLeaf, out: str, d: int) -> None:
    op = node.op
    if op in ("exists", "missing"):
        e.emit(d, f"{out} = {e.const(node.fact)} {'in' if op == 'exists' else 'not in'} f")
        return
    a = e.fact(node.fact, d)
    if node.ref is not None or op in _COMPARE:
        cmp = _COMPARE[op]
        b = e.fact(node.ref, d) if node.ref is not None else e.const(node.expected)
        e.emit(d, f"if {a} is None or {b} is None:" if node.ref is not None else f"if {a} is None:")
        if op in _ORDERED:  # an ordered comparison with an unknown side may still be decided by the bounds of its facts
            known = ("None", e.const(node.ref)) if node.ref is not None else (b, "None")
            e.emit(d + 1, f"{out} = dp(f, {e.const(node.fact)}, {e.const(op)}, {known[0]}, {known[1]}) if B else None")
        else:
            e.emit(d + 1, f"{out} = None")
        if op in _ORDERED:
            _guarded(e, f"{out} = {a} {cmp} {b}", out, d)
        else:  # equality of the values facts hold (JSON's, dates, times) never raises
            e.emit(d, "else:")
            e.emit(d + 1, f"{out} = {a} {cmp} {b}")
        return
    if op == "intersects":
        e.emit(d, f"{out} = None if {a} is None else not {e.const(frozenset(node.expected))}.isdisjoint({a})")
    elif op in ("in", "not in"):
        e.emit(d, f"{out} = None if {a} is None else {a} {'in' if op == 'in' else 'not in'} {e.const(tuple(node.expected))}")
    elif op == "between":
        lo, hi = node.expected
        e.emit(d, f"if {a} is None:")
        e.emit(d + 1, f"{out} = None")
        _guarded(e, f"{out} = bool({e.const(lo)} <= {a} <= {e.const(hi)})", out, d)
    else:
        raise ValueError(f"no code for the operator {op!r}")


def _guarded(e: _Emitter, statement: str, out: str, d: int) -> None:
    """The `else` of a leaf whose values are known: values that do not compare leave it unknown."""
    e.emit(d, "else:")
    e.emit(d + 1, "try:")
    e.emit(d + 2, statement)
    e.emit(d + 1, "except TypeError:")
    e.emit(d + 2, f"{out} = None")


def _node(e: _Emitter, node: CNode, out: str, d: int) -> None:
    """Code that leaves ``node``'s three-valued result in ``out``, evaluating children in order until one decides."""
    if isinstance(node, CLeaf):
        _leaf(e, node, out, d)
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
        kid = e.temp()
        inner = d
        if i:
            e.emit(d, f"if {out} is not {decisive}:")
            inner = d + 1
        with e.block() if i else _same():
            _node(e, child, kid, inner)
            e.emit(inner, f"if {kid} is {decisive}:")
            e.emit(inner + 1, f"{out} = {decisive}")
            e.emit(inner, f"elif {kid} is None:")
            e.emit(inner + 1, f"{out} = None")


@contextmanager
def _same() -> Iterator[None]:
    yield


def _ordered_anywhere(nodes: Sequence[CNode | None]) -> bool:
    return any(leaf.op in _ORDERED for n in nodes if n is not None for leaf in leaves(n))


def generate(rules: Sequence[tuple[CNode, CNode | None]]) -> tuple[str, tuple[Any, ...]]:
    """The source and constant table of `run(f, gate)` for rules given as (condition, applies_when or None)."""
    e = _Emitter()
    d = 2
    if _ordered_anywhere([n for pair in rules for n in pair]):
        e.emit(d, f"B = g({e.const(BOUNDS)})")
    for i, (when, applies) in enumerate(rules):
        e.emit(d, f"# rule {i}")
        if applies is None:
            _node(e, when, f"r{i}", d)
            continue
        e.emit(d, f"a{i} = True")
        e.emit(d, "if gate:")
        with e.block():
            _node(e, applies, f"a{i}", d + 1)
        e.emit(d, f"if a{i} is False:")
        e.emit(d + 1, f"r{i} = NA")
        e.emit(d, "else:")
        with e.block():
            _node(e, when, f"r{i}", d + 1)
    e.emit(d, "return (" + "".join(f"r{i}, " for i in range(len(rules))).rstrip(" ") + ")")
    head = ["def make(K, dp, NA):"] + [f"    k{i} = K[{i}]" for i in range(len(e.constants))]
    head += ["    def run(f, gate):", "        g = f.get"]
    return "\n".join(head + e.lines + ["    return run", ""]), tuple(e.constants)


def build(rules: Sequence[tuple[CNode, CNode | None]]) -> Program:
    """Generate, compile and bind the evaluator of ``rules``."""
    source, constants = generate(rules)
    namespace: dict[str, Any] = {"__builtins__": {"bool": bool, "TypeError": TypeError}}
    exec(compile(source, "<diagnose rules>", "exec"), namespace)  # the source holds no rule text: see the top of this module
    return Program(source, constants, namespace["make"](constants, decide_partly, NOT_APPLICABLE))


def describe(value: Any) -> str:
    """A constant as a reviewer reads it in the table (`repr`: quotes and escapes show what a string holds)."""
    return f"{type(value).__name__} {value!r}"


def listing(program: Program, names: Mapping[int, str] | None = None) -> str:
    """The generated source, then the constant table, then which rule each `# rule N` is."""
    lines = [program.source.rstrip("\n"), "", "# constants (K)"]
    lines += [f"# K[{i}] = {describe(v)}" for i, v in enumerate(program.constants)]
    if names:
        lines += ["", "# rules"] + [f"# rule {i} = {rid!r}" for i, rid in names.items()]
    return "\n".join(lines) + "\n"
