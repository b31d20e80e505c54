"""The pack-wide checks that loading enforces (lint adds more): facts, parameters, links, types, templates, cycles."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from diagnose.errors import PackProblem
from diagnose.pack.model import Leaf, Pack, RuleSource, iter_leaves, iter_texts
from diagnose.pack.templates import template_fields
from diagnose.snapshot import facts as factlib
from diagnose.vocab import FILTERS, LANGS


def closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """The choice nearest to a misspelled word, when one is near enough to suggest."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return match[0] if match else None


def did_you_mean(word: str, choices: list[str]) -> str | None:
    near = closest(word, choices)
    return f"did you mean `{near}`?" if near else None


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def _compatible(spec: factlib.FactSpec, value: Any) -> str | None:
    """Why a literal does not fit a fact's type, or None when it fits."""
    got = _kind_of(value)
    if spec.kind in ("list", "object"):
        return None
    if spec.kind == "number" and got != "number":
        return f"`{spec.path}` is a number; {value!r} is a {got}"
    if spec.kind == "bool" and got != "bool":
        return f"`{spec.path}` is true/false; {value!r} is a {got}"
    if spec.kind in ("string", "enum", "date", "datetime", "time") and got != "string":
        return f"`{spec.path}` is a {spec.kind}; {value!r} is a {got}"
    if spec.kind == "enum" and value not in spec.values:
        return f"{value!r} is not a value `{spec.path}` can take ({', '.join(spec.values)})"
    if spec.kind == "date" and not re.match(r"^\d{4}-\d{2}-\d{2}$", str(value)):
        return f"`{spec.path}` is a date; write it as YYYY-MM-DD (got {value!r})"
    return None


def fact_spec(path: str) -> factlib.FactSpec | None:
    return factlib.catalog().get(path)


@dataclass
class _At:
    """Reports a problem at a path inside one rule, resolved to its file, line and column."""

    src: RuleSource
    rule_id: str
    out: list[PackProblem]

    def __call__(
        self, path: tuple[str | int, ...], message: str, hint: str | None = None, code: str = "invalid", level: str = "error"
    ) -> None:
        line, col, end_line, end_col = self.src.located.span(("rules", self.src.index, *path))
        self.out.append(PackProblem(self.src.file, message, line, col, self.rule_id, hint, code, level, end_line, end_col))


def check(pack: Pack) -> list[PackProblem]:
    """Problems that make a pack unusable: unknown facts, params, rules, type errors, bad templates, cycles."""
    out: list[PackProblem] = []
    ids = {r.id for r in pack.rules}
    # a link to a rule the pack disabled is fine (it never fires); one to a rule that did not
    # validate is reported there, not here
    known = ids | set(pack.disabled)
    families = set(pack.families())
    catalog = factlib.catalog()
    for rule in pack.rules:
        src = pack.sources.get(rule.id)
        if src is None:
            continue
        at = _At(src, rule.id, out)

        if rule.family not in families and not pack.unparsed.family(rule.family):
            at(
                ("family",),
                f"unknown family `{rule.family}`",
                f"families: {', '.join(sorted(families))}; a custom pack declares new ones under `families` in pack.yaml",
                "unknown-family",
            )
        for target in rule.explains:
            if target not in known and not pack.unparsed.rule(target):
                at(
                    ("explains",),
                    f"`explains` names {target}, which is not a rule of this pack",
                    did_you_mean(target, sorted(ids)),
                    "unknown-rule",
                )
        for leaf, lpath in iter_leaves(rule.when, ("when",)):
            _check_leaf(pack, leaf, lpath, at, catalog)
        for tpath, text in iter_texts(rule):
            for fld in template_fields(text):
                if isinstance(fld, str):
                    at(
                        tpath,
                        f"template field {{{fld}}} is not allowed",
                        "write {fact.path} or {fact.path|filter} or {params.name}; {{ and }} are literal braces",
                        "template",
                    )
                    continue
                name, filt = fld
                if name.startswith("params."):
                    if name[7:] not in pack.parameters and not pack.unparsed.param(name[7:]):
                        at(
                            tpath,
                            f"template names unknown parameter `{name[7:]}`",
                            did_you_mean(name[7:], list(pack.parameters)),
                            "unknown-param",
                        )
                elif not factlib.is_fact_path(name):
                    at(
                        tpath,
                        f"template names unknown fact `{name}`",
                        did_you_mean(name, list(catalog)) or "`diagnose facts` lists every fact",
                        "template-fact",
                    )
                if filt is not None and filt not in FILTERS:
                    at(tpath, f"unknown template filter `{filt}`", f"filters: {', '.join(FILTERS)}", "template")
    out += _check_clear_steps(pack, catalog)
    out += _cycles(pack)
    return out


def _check_clear_steps(pack: Pack, catalog: dict[str, factlib.FactSpec]) -> list[PackProblem]:
    """`clear_steps:` in pack.yaml words facts a rule reads, with templates of facts and filters that exist."""
    out: list[PackProblem] = []
    manifest = str(pack.manifest_path)
    for fact, words in pack.manifest.clear_steps.items():
        if not factlib.is_fact_path(fact):
            line, col, end_line, end_col = pack.manifest_at.span(("clear_steps", fact, "__key__"))
            hint = did_you_mean(fact, list(catalog)) or "`diagnose facts` lists every fact"
            message = f"clear_steps names unknown fact `{fact}`"
            out.append(PackProblem(manifest, message, line, col, None, hint, "unknown-fact", end_line=end_line, end_column=end_col))
        for lang in LANGS:
            for fld in template_fields(getattr(words, lang)):
                bad = fld if isinstance(fld, str) else None
                if isinstance(fld, tuple):
                    name, filt = fld
                    if not name.startswith("params.") and not factlib.is_fact_path(name):
                        bad = f"unknown fact `{name}`"
                    elif filt is not None and filt not in FILTERS:
                        bad = f"unknown template filter `{filt}`"
                if bad is not None:
                    line, col, end_line, end_col = pack.manifest_at.span(("clear_steps", fact, lang))
                    message = f"clear_steps.{fact}.{lang}: {bad}"
                    out.append(PackProblem(manifest, message, line, col, None, None, "template", end_line=end_line, end_column=end_col))
    return out


def _check_leaf(pack: Pack, leaf: Leaf, lpath: tuple[str | int, ...], at: Any, catalog: dict[str, factlib.FactSpec]) -> None:
    spec = catalog.get(leaf.fact)
    if spec is None and not factlib.is_fact_path(leaf.fact):
        at(
            (*lpath, "fact"),
            f"unknown fact `{leaf.fact}`",
            did_you_mean(leaf.fact, list(catalog)) or "`diagnose facts` lists every fact",
            "unknown-fact",
        )
        return
    if leaf.ref is not None:
        rspec = catalog.get(leaf.ref)
        if rspec is None and not factlib.is_fact_path(leaf.ref):
            at((*lpath, "ref"), f"unknown fact `{leaf.ref}`", did_you_mean(leaf.ref, list(catalog)), "unknown-fact")
        elif spec is not None and rspec is not None and _family(spec) != _family(rspec):
            at((*lpath, "ref"), f"cannot compare `{leaf.fact}` ({spec.kind}) with `{leaf.ref}` ({rspec.kind})", code="type-mismatch")
    names = leaf.param if isinstance(leaf.param, list) else [leaf.param] if leaf.param else []
    values: list[Any] = []
    for name in names:
        if name not in pack.parameters and pack.unparsed.param(name):
            continue
        if name not in pack.parameters:
            at(
                (*lpath, "param"),
                f"unknown parameter `{name}`",
                did_you_mean(name, list(pack.parameters)) or "declare it under `parameters`",
                "unknown-param",
            )
        else:
            values.append(pack.param(name))
    if leaf.value is not None:
        values += leaf.value if isinstance(leaf.value, list) else [leaf.value]
    if leaf.op in ("in", "not in") and leaf.param is not None and len(values) == 1:
        values = values[0] if isinstance(values[0], list) else values
    if spec is None:
        return
    if leaf.op in ("<", "<=", ">", ">=", "between") and spec.kind not in ("number", "date", "datetime", "time"):
        at((*lpath, "op"), f"`{leaf.op}` needs an ordered fact; `{leaf.fact}` is a {spec.kind}", code="type-mismatch")
        return
    for value in values:
        problem = _compatible(spec, value)
        if problem:
            at((*lpath, "value" if leaf.value is not None else "param"), problem, code="type-mismatch")


def _family(spec: factlib.FactSpec) -> str:
    return "text" if spec.kind in ("string", "enum") else spec.kind


def _cycles(pack: Pack) -> list[PackProblem]:
    graph = {r.id: [t for t in r.explains] for r in pack.rules}
    out: list[PackProblem] = []
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    src = pack.sources.get(node)
                    line, col = src.located.where(("rules", src.index, "explains")) if src else (None, None)
                    out.append(
                        PackProblem(
                            src.file if src else str(pack.root),
                            f"`explains` forms a cycle: {' -> '.join(cycle)}",
                            line,
                            col,
                            node,
                            "a cause cannot explain itself; remove one link",
                            "cycle",
                        )
                    )
            elif state.get(nxt) is None:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for rid in sorted(graph):
        if rid not in state:
            visit(rid, [rid])
    return out
