"""Schema problems in the tool's own words, at the bad key or value, and validation that keeps what is valid."""

from __future__ import annotations

import typing
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from diagnose.errors import PackProblem
from diagnose.pack.checks import closest
from diagnose.pack.model import AllOf, AnyOf, Leaf, Manifest, NotOf, RuleFile, condition_kind
from diagnose.pack.yamlpos import Located
from diagnose.snapshot import facts as factlib
from diagnose.userdocs import see
from diagnose.vocab import AUDIENCES, LANGS

Path = tuple[str | int, ...]

_CONDITION_TAGS = {"all-of", "any-of", "not-of", "leaf"}
_NOUNS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "none_required": "empty",
}
_FORMS = {
    "id": "upper-case words and digits joined by hyphens, like LIQ-FUNDER-QUOTA",
    "family": "lower-case letters, digits and underscores, like liquidity",
}


def _clean_loc(loc: tuple[Any, ...], data: Any, kind: str) -> Path:
    """The path of keys and indexes in the file: pydantic's union and discriminator tags taken out."""
    out: list[str | int] = []
    node = data
    last = len(loc) - 1
    for i, part in enumerate(loc):
        if part in _CONDITION_TAGS:
            continue
        key = "not" if part == "not_" else part
        if _has(node, key):
            node = node[key]
        elif i == last and kind == "missing":
            pass  # the key that is not there
        else:
            continue  # a union member's name: no key of the file
        out.append(key)
    return tuple(out)


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return "`" + (text if len(text) <= 60 else text[:59] + "…") + "`"


def _words(errs: list[dict[str, Any]], name: str, where: str) -> str:
    """One problem's message, from pydantic's errors at one spot (several for a value no member of a union takes)."""
    err = errs[0]
    kind = err["type"]
    got = err.get("input")
    shown = "" if isinstance(got, (dict, list)) else f" (got {_quote(got)})"
    ctx = err.get("ctx") or {}
    if len(errs) > 1 or kind in _NOUNS:
        nouns = list(dict.fromkeys(_NOUNS.get(e["type"], "") for e in errs if e["type"] in _NOUNS))
        if len(errs) > 1 and ("a number" in nouns and "a whole number" in nouns):
            nouns.remove("a whole number")
        choice = ", ".join(nouns[:-1]) + (" or " if len(nouns) > 1 else "") + nouns[-1] if nouns else "another kind of value"
        return f"`{where}` must be {choice}{shown}"
    if kind.startswith("value_error") or kind == "assertion_error":
        msg = str(err["msg"])
        return msg[len("Value error, ") :] if msg.startswith("Value error, ") else msg
    if kind == "condition":
        return f"`{where}`: {err['msg']}"
    if kind == "literal_error":
        allowed = str(ctx.get("expected", "")).replace("'", "")
        return f"`{where}` must be one of {allowed}{shown}"
    if kind == "string_too_short":
        return f"`{where}` is empty"
    if kind == "string_too_long":
        return f"`{where}` is longer than {ctx.get('max_length')} characters"
    if kind == "too_short":
        return f"`{where}` needs at least {ctx.get('min_length', 1)} item{'s' if ctx.get('min_length', 1) != 1 else ''}"
    if kind == "too_long":
        return f"`{where}` takes at most {ctx.get('max_length')} items"
    if kind == "string_pattern_mismatch":
        form = _FORMS.get(name, f"the form {see('rules')} gives")
        return f"`{where}` must be {form}{shown}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most", "less_than": "less than"}
        limit = next(iter(ctx.values()), "")
        return f"`{where}` must be {bound[kind]} {limit}{shown}"
    if kind == "finite_number":
        return f"`{where}` must be a finite number{shown}"
    return f"`{where}` is not a valid value here{shown}"


def schema_problems(
    exc: ValidationError, located: Located, shown: str, prefix: Path = (), root: type[BaseModel] | None = None
) -> list[PackProblem]:
    """Every validation error of the data at ``prefix``, as problems at the line and column of the key or value.

    ``root`` is the model of the whole file (a pack file's is told by its keys), for the keys a hint lists.
    """
    groups: dict[Path, list[dict[str, Any]]] = {}
    node = _at(located.data, prefix)
    for err in exc.errors(include_url=False):
        loc = _clean_loc(tuple(err["loc"]), node, err["type"])
        groups.setdefault((*prefix, *loc), []).append(dict(err))
    out: list[PackProblem] = []
    for path, errs in groups.items():
        if _explained_deeper(path, errs, groups):
            continue
        out.append(_problem(path, errs, located, shown, root))
    return out


def _explained_deeper(path: Path, errs: list[dict[str, Any]], groups: dict[Path, list[dict[str, Any]]]) -> bool:
    """Whether these are the other members' "wrong kind" errors of a union whose matching member says more, deeper:
    a list given where a number or a list may go is judged as a list."""
    return all(e["type"] in _NOUNS for e in errs) and any(len(p) > len(path) and p[: len(path)] == path for p in groups)


def _problem(path: Path, errs: list[dict[str, Any]], located: Located, shown: str, root: type[BaseModel] | None) -> PackProblem:
    kind = errs[0]["type"]
    rule_id = _rule_id_at(located, path)
    inner = path[2:] if rule_id is not None or (len(path) >= 2 and path[0] == "rules") else path
    where = ".".join(str(p) for p in inner) or "(top level)"
    name = str(path[-1]) if path else ""
    if kind == "extra_forbidden":
        line, col, end_line, end_col = located.span((*path, "__key__"))
        allowed = allowed_keys(located, path[:-1], root)
        hint = f"allowed keys here: {', '.join(allowed)}" if allowed else None
        near = closest(name, allowed)
        if near:
            hint = f"did you mean `{near}`? " + (hint or "")
        text = name if len(name) <= 60 else name[:59] + "…"
        return PackProblem(
            shown, f"unknown key `{text}`", line, col, rule_id, hint, code="unknown-key", end_line=end_line, end_column=end_col
        )
    if kind == "missing":
        line, col, end_line, end_col = located.span(path[:-1])  # the mapping that lacks the key
        if name in LANGS:
            message = f"text without its `{name}` version"
            return PackProblem(shown, message, line, col, rule_id, code="missing-text", end_line=end_line, end_column=end_col)
        if name in AUDIENCES and "remedies" in path:
            message = f"no remedy for the `{name}` audience"
            return PackProblem(shown, message, line, col, rule_id, code="missing-remedy", end_line=end_line, end_column=end_col)
        message = f"missing required key `{name}`"
        return PackProblem(shown, message, line, col, rule_id, code="missing-key", end_line=end_line, end_column=end_col)
    line, col, end_line, end_col = located.span(path)
    message = _words(errs, name, where)
    if kind == "string_too_short" and name in LANGS:
        return PackProblem(shown, message, line, col, rule_id, code="missing-text", end_line=end_line, end_column=end_col)
    if kind == "too_short" and name in AUDIENCES and "remedies" in path:
        message = f"no remedy for the `{name}` audience (`{where}` is empty)"
        return PackProblem(shown, message, line, col, rule_id, code="missing-remedy", end_line=end_line, end_column=end_col)
    return PackProblem(shown, message, line, col, rule_id, code="invalid-value", end_line=end_line, end_column=end_col)


def _at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _rule_id_at(located: Located, path: Path) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = _at(located.data, path[:2])
        rid = rule.get("id") if isinstance(rule, dict) else None
        return rid if isinstance(rid, str) else None
    return None


def allowed_keys(located: Located, path: Path, root: type[BaseModel] | None = None) -> list[str]:
    """The keys the model at ``path`` accepts, found by walking the models beside the data."""
    node: Any = located.data
    current: Any = root or (Manifest if isinstance(node, dict) and "name" in node and "rules" not in node else RuleFile)
    for part in path:
        try:
            parent, node = node, node[part]
        except (KeyError, IndexError, TypeError):
            return []
        current = _step(current, part, parent)
        if current is None:
            return []
    current = _resolve_condition(current, node)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _resolve_condition(current: Any, node: Any) -> Any:
    bare, _ = factlib.unwrap(current)
    if typing.get_origin(bare) is Union and Leaf in [factlib.unwrap(a)[0] for a in typing.get_args(bare)]:
        return {"all-of": AllOf, "any-of": AnyOf, "not-of": NotOf, "leaf": Leaf}.get(condition_kind(node) or "")
    return bare


def _step(current: Any, part: str | int, parent: Any) -> Any:
    bare = _resolve_condition(current, parent)
    if isinstance(bare, type) and issubclass(bare, BaseModel) and isinstance(part, str):
        fields = {f.alias or n: f for n, f in bare.model_fields.items()}
        return fields[part].annotation if part in fields else None
    origin = typing.get_origin(bare)
    if origin is list and isinstance(part, int):
        return typing.get_args(bare)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(bare)[1]
    return None


M = typing.TypeVar("M", bound=BaseModel)


def validate_keeping(
    model: type[M], located: Located, shown: str, droppable: set[str], problems: list[PackProblem]
) -> tuple[M | None, list[Path]]:
    """Validate the file's data; on errors, report them all and validate again without the parts that failed.

    ``droppable`` names the collections whose items stand alone (`rules`, `parameters`,
    `overrides.disable`...): a bad rule is dropped and the others are kept, so that the checks
    that follow see every rule that is valid. An error in any other optional key drops that key;
    one in a required key leaves nothing (None). Returns the model and the paths dropped.
    """
    data = located.data
    dropped: list[Path] = []
    for _ in range(8):  # each round drops what failed; a second round finds what the first hid
        try:
            return model.model_validate(data), dropped
        except ValidationError as exc:
            found = schema_problems(exc, Located(data, located.positions, located.ends), shown, root=model)
            problems += [p for p in found if p not in problems]
            cuts = {_cut(exc_path, droppable) for exc_path in _error_paths(exc, data)}
            if None in cuts or not cuts:
                return None, dropped
            for cut in sorted((c for c in cuts if c is not None), key=lambda c: [str(p) for p in c], reverse=True):
                data = _without(data, cut)
                dropped.append(cut)
    return None, dropped


def _error_paths(exc: ValidationError, data: Any) -> list[Path]:
    return [_clean_loc(tuple(e["loc"]), data, e["type"]) for e in exc.errors(include_url=False)]


def _cut(path: Path, droppable: set[str]) -> Path | None:
    """The part to drop for an error at ``path``: an item of a droppable collection, else an optional top-level key."""
    for n in range(len(path) - 1, 0, -1):
        if ".".join(str(p) for p in path[:n]) in droppable:
            return path[: n + 1]
    if len(path) >= 1 and isinstance(path[0], str) and path[0] in _OPTIONAL:
        return path[:1]
    return None


_OPTIONAL = {"description", "example_base", "families", "clear_steps", "parameters", "overrides", "sensitive", "segments", "metadata"}
"""Keys a manifest can do without: one that does not validate is dropped (`extends` is not: without it every check would mislead)."""


def _without(data: Any, path: Path) -> Any:
    """A copy of ``data`` without the item at ``path`` (only the containers along the path are copied)."""
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if not rest:
            copy.pop(head, None)
        elif head in copy:
            copy[head] = _without(copy[head], rest)
        return copy
    if isinstance(data, list) and isinstance(head, int):
        if not rest:
            return [v for i, v in enumerate(data) if i != head]
        return [_without(v, rest) if i == head else v for i, v in enumerate(data)]
    return data
