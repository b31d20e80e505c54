"""The walk of a validated snapshot: its fields by dotted path (the facts it gives) and its canonical form (its digest).

Two ways to the same result. The plain walk loops over each object's keys with a plan of paths
built once per contract object. After WALKS_BEFORE_GENERATING snapshots, a process that diagnoses
many (a batch worker) walks them with one function generated from the contract: a line per field,
each field's kind known, no loop. Speed: the generated walk takes 204 K instructions a record
where the loop takes 304 K (valgrind, bench snapshots; CPU about 18 us against 24); compiling it takes about
6 ms, what some 700 walks save.

The generated source is made only from the contract artifact shipped with the package (field names,
checked to be plain identifiers, written as literals), never from a snapshot.
tests/test_canonical_digest.py holds both walks to the plain definition: the same facts, in the
same order, and the same digest.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from diagnose.snapshot import canonical

Facts = dict[str, Any]
Walk = Callable[[dict[str, Any], Facts], dict[str, Any]]
"""Fills the facts with the snapshot's fields by path and returns the snapshot's canonical form (`canonical.canonical`)."""

_Plan = dict[str, dict[str, tuple[str, "str | None", bool]]]


@lru_cache(maxsize=1)
def _plan() -> _Plan:
    """For each object of the contract, each key's fact path, for an object the object it leads to, and whether it is a list of objects."""
    from diagnose.snapshot.contract import artifact

    objects: dict[str, list[str]] = artifact()["objects"]
    plan: _Plan = {}
    for where, keys in objects.items():
        if where.endswith("[]"):
            continue
        rows: dict[str, tuple[str, str | None, bool]] = {}
        for key in keys:
            path = f"{where}.{key}" if where else key
            rows[key] = (path, path if path in objects else None, f"{path}[]" in objects)
        plan[where] = rows
    return plan


def plain_walk(snapshot: dict[str, Any], out: Facts) -> dict[str, Any]:
    """The walk as a loop: the snapshot's fields by dotted path into ``out``, and its canonical form, in one pass.

    One pass over the snapshot's keys instead of two (the digest's own walk was a fifth of a
    record's instructions). Free-form `extensions` are left to the caller.
    """
    plan = _plan()
    tree: dict[str, Any] = {}
    made: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
    """Each contract object's canonical form in its parent's, in the order made: a parent before its children."""
    stack = [(snapshot, plan[""], tree)]
    exact = canonical.EXACT
    while stack:
        node, rows, into = stack.pop()
        for key, value in node.items():
            if value is None:
                continue
            path, child, listed = rows[key]
            out[path] = value
            kind = type(value)
            if kind is float:
                if value.is_integer() and -exact <= value <= exact:
                    value = int(value)
            elif kind is dict:
                if child is not None:
                    inner: dict[str, Any] = {}
                    stack.append((value, plan[child], inner))
                    made.append((into, key, inner))
                    into[key] = inner
                    continue
                value = canonical.canonical(value)
                if not value:
                    continue
                value = canonical.ordered(value)  # free-form data: its keys come as sent
            elif kind is list:
                value = canonical.items(value) if listed else canonical.ordered(canonical.items(value))  # contract objects come in order
            into[key] = value
    for parent, key, inner in reversed(made):  # children first: an object left empty is as good as absent
        if not inner:
            del parent[key]
    return tree


WALKS_BEFORE_GENERATING = 750
"""Snapshots walked by the loop before the generated walk is compiled (as `engine.compiled.GENERATE_AFTER`:
a command that reads a few snapshots never pays the compile, a long run pays it once)."""

_walked = 0
_generated: Walk | None = None


def walk(snapshot: dict[str, Any], out: Facts) -> dict[str, Any]:
    """`plain_walk`, or the generated walk once this process has walked WALKS_BEFORE_GENERATING snapshots."""
    global _walked, _generated
    if _generated is not None:
        return _generated(snapshot, out)
    _walked += 1
    if _walked >= WALKS_BEFORE_GENERATING:
        _generated = generated_walk()
    return plain_walk(snapshot, out)


_AS_IS = frozenset({"str", "int", "bool", "literal", "date", "datetime"})
"""Kinds whose validated value is its own canonical form (never a float, an object or a list)."""


def _kind(schema: dict[str, Any]) -> str:
    """What a field's validator gives: the last step of a chain, the inner schema of a function-before."""
    kind: str = schema["type"]
    if kind == "chain":
        return _kind(schema["steps"][-1])
    if kind == "function-before":
        return _kind(schema["schema"])
    return kind


def source() -> str:
    """The generated walk's Python source: each contract field in the order the validator writes it."""
    from diagnose.snapshot.contract import artifact, bare, plain_name

    contract = artifact()
    objects_known = set(contract["objects"])
    lines = ["def walk(s, out):", "    t0 = {}"]
    names = itertools.count(1)

    def value(x: str, kind: str, into: str, key: str, pad: str) -> None:
        """The canonical form of a field's value ``x`` (known to be no null) into ``into[key]``, by what the validator gives."""
        if kind in _AS_IS:
            lines.append(f"{pad}{into}[{key!r}] = {x}")
        elif kind == "float":
            lines.append(f"{pad}{into}[{key!r}] = int({x}) if type({x}) is float and {x}.is_integer() and -E <= {x} <= E else {x}")
        else:  # a list, a free-form object, anything: as the plain walk treats a value it knows nothing of
            n = next(names)
            lines.extend(
                (
                    f"{pad}k{n} = type({x})",
                    f"{pad}if k{n} is float:",
                    f"{pad}    {into}[{key!r}] = int({x}) if {x}.is_integer() and -E <= {x} <= E else {x}",
                    f"{pad}elif k{n} is dict:",
                    f"{pad}    v{n} = canonical({x})",
                    f"{pad}    if v{n}:",
                    f"{pad}        {into}[{key!r}] = ordered(v{n})",
                    f"{pad}elif k{n} is list:",
                    f"{pad}    {into}[{key!r}] = ordered(items({x}))",
                    f"{pad}else:",
                    f"{pad}    {into}[{key!r}] = {x}",
                )
            )

    def objects(x: str, shape: dict[str, Any], into: str, key: str, pad: str) -> None:
        """A list of contract objects, each item's canonical form made field by field (`canonical.items` loops over its keys)."""
        n = next(names)
        lines.extend((f"{pad}l{n} = []", f"{pad}for i{n} in {x}:", f"{pad}    o{n} = {{}}"))
        for name, field in shape["fields"].items():
            plain_name(name)
            y = f"y{next(names)}"
            lines.extend((f"{pad}    {y} = i{n}.get({name!r})", f"{pad}    if {y} is not None:"))
            value(y, _kind(bare(field)), f"o{n}", name, pad + "        ")
        lines.extend((f"{pad}    l{n}.append(o{n})", f"{pad}{into}[{key!r}] = l{n}"))

    def fields(schema: dict[str, Any], where: str, node: str, tree: str, pad: str) -> None:
        """One object's fields, then its objects, the last first (the plain walk's stack).

        Each value goes into the canonical form at its field's place, an object's before its own
        fields: the contract's fields come in key order (the artifact is written so), and so the
        digest need not sort them (`canonical.digest_of`, ordered).
        """
        children: list[tuple[str, str, dict[str, Any], str, str]] = []
        for key, field in schema["fields"].items():
            plain_name(key)
            path = f"{where}.{key}" if where else key
            shape = bare(field)
            kind = _kind(shape)
            x = f"x{next(names)}"
            lines.extend((f"{pad}{x} = {node}.get({key!r})", f"{pad}if {x} is not None:", f"{pad}    out[{path!r}] = {x}"))
            if kind == "typed-dict" and path in objects_known:
                inner = f"t{next(names)}"
                lines.extend((f"{pad}    {inner} = {{}}", f"{pad}    {tree}[{key!r}] = {inner}"))
                children.append((key, x, shape, path, inner))
            elif kind == "list" and shape["items_schema"]["type"] == "typed-dict" and f"{path}[]" in objects_known:
                objects(x, shape["items_schema"], tree, key, pad + "    ")  # items that cannot be null: the validator says they are objects
            else:
                value(x, kind, tree, key, pad + "    ")
        for key, x, nested, path, inner in reversed(children):
            lines.append(f"{pad}if {x} is not None:")
            fields(nested, path, x, inner, pad + "    ")
            lines.extend((f"{pad}    if not {inner}:", f"{pad}        del {tree}[{key!r}]"))  # an object left empty is as good as absent

    fields(contract["core_schema"], "", "s", "t0", "    ")
    lines.append("    return t0")
    return "\n".join(lines) + "\n"


def generated_walk() -> Walk:
    """The walk compiled from `source`: the same facts in the same order, and the same canonical form, as `plain_walk`."""
    namespace: dict[str, Any] = {
        "E": canonical.EXACT,
        "items": canonical.items,
        "canonical": canonical.canonical,
        "ordered": canonical.ordered,
    }
    exec(compile(source(), "<diagnose snapshot walk>", "exec"), namespace)  # the source holds no snapshot text: see the top of this module
    found: Walk = namespace["walk"]
    return found
