"""The snapshot contract compiled for speed: the models' own validation schema, run by pydantic-core into plain dicts.

The pydantic models in `snapshot/model.py` are the single source of truth; `snapshot/artifact.py`
turns them into `_contract.json` (a test fails when it drifts). At run time only pydantic-core and
that file are needed, so a cold `diagnose run` does not pay for building pydantic models.
"""

from __future__ import annotations

import gc
import itertools
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from pydantic_core._pydantic_core import SchemaValidator, ValidationError

from diagnose.errors import InvalidInput, Problem, problem
from diagnose.errorwords import Said, got, say, word
from diagnose.snapshot import scalars

ARTIFACT = Path(__file__).with_name("_contract.json")
_FUNCTIONS = {
    "parse_datetime": scalars.parse_datetime,
    "parse_date": scalars.parse_date,
    "parse_hhmm": scalars.parse_hhmm,
    "parse_timezone": scalars.parse_timezone,
}


@lru_cache(maxsize=1)
def artifact() -> dict[str, Any]:
    return orjson.loads(ARTIFACT.read_bytes())  # type: ignore[no-any-return]


def _resolve(node: Any, extra: str = "ignore") -> Any:
    if isinstance(node, list):
        return [_resolve(n, extra) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _resolve(v, extra) for k, v in node.items()}
    fn = out.get("function")
    if isinstance(fn, str) and fn.startswith("scalars:"):
        out["function"] = _FUNCTIONS[fn[8:]]
    if out.get("type") == "typed-dict":
        out["extra_behavior"] = extra
    return out


@lru_cache(maxsize=2)
def validator(extra: str = "ignore") -> SchemaValidator:
    """The contract's validator; with ``extra="forbid"`` an unknown field is an `extra_forbidden` error."""
    return SchemaValidator(_resolve(artifact()["core_schema"], extra))


def validate(data: Any, *, source: str | None = None) -> dict[str, Any]:
    """Validate parsed JSON against the contract; return the snapshot as plain data, or raise InvalidInput."""
    return checked(data, source=source)[0]


def checked(data: Any, *, source: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The validated snapshot and the dotted paths of the fields the contract does not define.

    One pass of the strict validator answers both in the usual case (no unknown field); only a
    snapshot with unknown fields (which are warnings, never errors) is validated a second time.
    A process that has validated CHECK_SIZES_AFTER snapshots (a batch worker) validates the rest
    by the validator that ignores unknown fields, which reads only the contract's fields where the
    one that forbids them looks up every key of the input, at twice the cost (a bench snapshot:
    13 us against 24); `keys_kept` then tells from the objects' sizes whether the input held a
    field the output lacks, and only then does the forbidding validator say which.
    """
    require_object(data, source)
    global _validations, _kept
    kept = _kept
    out: dict[str, Any] | None = None
    if kept is None:
        _validations += 1
        if _validations >= CHECK_SIZES_AFTER:
            _kept = keys_kept()
    else:
        try:
            out = _validate(validator(), data, source)
        except ValidationError:
            out = None
        if out is not None and kept(data, out):
            return out, []
    try:
        return _validate(validator("forbid"), data, source), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        unknown = sorted(_dotted(tuple(e["loc"])) for e in errors if e["type"] == "extra_forbidden")
        if len(unknown) < len(errors):
            raise InvalidInput(problems_from(exc), source=source) from None
    return (out if out is not None else _validate(validator(), data, source)), unknown


CHECK_SIZES_AFTER = 750
"""Snapshots validated by the forbidding validator before `keys_kept` is compiled (as the walk's
WALKS_BEFORE_GENERATING): compiling it costs about 0.9 ms, 2% of a cold `diagnose run`, which a
command that reads a few snapshots never pays; a batch worker pays it once."""
_validations = 0
_kept: KeysKept | None = None


def _validate(validator: SchemaValidator, data: Any, source: str | None) -> Any:
    # As `reader.paused_gc`, inline (a record is validated in microseconds): the output holds no
    # cycles, and a large snapshot's would otherwise be walked by each collection while it grows.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return validator.validate_python(data)
    except RecursionError:
        raise InvalidInput([problem("", say("json.too_deep_short"))], source=source) from None
    finally:
        if enabled:
            gc.enable()


KeysKept = Callable[[Any, dict[str, Any]], bool]
"""Whether every object of a validated snapshot (the second argument) has as many keys as its input (the first)."""


def bare(schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without its nullable and field wrappers."""
    while schema["type"] in ("nullable", "typed-dict-field"):
        schema = schema["schema"]
    return schema


def keys_source() -> str:
    """`keys_kept`'s Python source: a size comparison per contract object, nested as the contract nests them.

    The validator that ignores unknown fields keeps every key the contract defines and no other
    (no field has a default), so an object of the output is smaller than its input exactly when
    the input held an unknown field. Made from the contract artifact shipped with the package (field
    names, checked to be plain identifiers, written as literals), never from a snapshot.
    """
    names = itertools.count(1)
    lines = ["def keys_kept(i, o):", "    if len(i) != len(o):", "        return False"]

    def objects(schema: dict[str, Any], i: str, o: str, pad: str) -> None:
        for key, field in schema["fields"].items():
            plain_name(key)
            inner = bare(field)
            items = bare(inner["items_schema"]) if inner["type"] == "list" else None
            if inner["type"] != "typed-dict" and (items is None or items["type"] != "typed-dict"):
                if _holds_object(inner):  # an object the check would not reach: its unknown fields would go unnamed
                    raise ValueError(f"the size check cannot follow the contract's field {key!r} ({inner['type']})")
                continue
            n = next(names)
            lines.extend((f"{pad}o{n} = {o}.get({key!r})", f"{pad}if o{n} is not None:", f"{pad}    i{n} = {i}[{key!r}]"))
            if items is None:
                lines.extend((f"{pad}    if len(i{n}) != len(o{n}):", f"{pad}        return False"))
                objects(inner, f"i{n}", f"o{n}", pad + "    ")
            else:
                lines.extend(
                    (
                        f"{pad}    for a{n}, b{n} in zip(i{n}, o{n}):",
                        f"{pad}        if b{n} is not None:",
                        f"{pad}            if len(a{n}) != len(b{n}):",
                        f"{pad}                return False",
                    )
                )
                objects(items, f"a{n}", f"b{n}", pad + "            ")  # an item's own objects, if any

    objects(artifact()["core_schema"], "i", "o", "    ")
    lines.append("    return True")
    return "\n".join(lines) + "\n"


def _holds_object(schema: Any) -> bool:
    """Whether a schema has a contract object anywhere inside it."""
    if isinstance(schema, dict):
        return schema.get("type") == "typed-dict" or any(_holds_object(v) for v in schema.values())
    return isinstance(schema, list) and any(_holds_object(v) for v in schema)


@lru_cache(maxsize=1)
def keys_kept() -> KeysKept:
    """The check compiled from `keys_source` (about 0.9 ms, once a process)."""
    namespace: dict[str, Any] = {}
    exec(compile(keys_source(), "<diagnose snapshot keys>", "exec"), namespace)  # no snapshot text in the source: see keys_source
    found: KeysKept = namespace["keys_kept"]
    return found


_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")


def plain_name(key: str) -> None:
    """Refuse a contract field name that is no plain identifier: code generated from the contract (the walk, the size
    check) writes the names as literals, and refuses a contract whose names could be anything else (ValueError)."""
    if not _PLAIN.match(key):
        raise ValueError(f"the contract's field {key!r} is no plain name")


def require_object(data: Any, source: str | None) -> None:
    if not isinstance(data, dict):
        raise InvalidInput([problem("", say("json.not_object", got=got(data)))], source=source, hint=say("json.not_object.hint"))


def unknown_fields(data: dict[str, Any]) -> list[str]:
    """Dotted paths of input fields the contract does not define (outside ``extensions``)."""
    try:
        validator("forbid").validate_python(data)
    except ValidationError as exc:
        return sorted(_dotted(tuple(e["loc"])) for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden")
    return []


# --- readable errors ------------------------------------------------------------------------


def _dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "constrained-")) or part in ("literal",):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


_TYPE_WORDS = {
    "float_type": "field.type.number",
    "int_type": "field.type.whole",
    "int_from_float": "field.type.whole",
    "bool_type": "field.type.bool",
    "string_type": "field.type.string",
    "model_type": "field.type.object",
    "dict_type": "field.type.object",
    "list_type": "field.type.list",
}
_SYMBOLS = {
    "greater_than_equal": Said(">=", "大于或等于"),
    "greater_than": Said(">", "大于"),
    "less_than_equal": Said("<=", "小于或等于"),
    "less_than": Said("<", "小于"),
}
_LENGTHS = {
    "string_too_long": "field.too_long_text",
    "string_too_short": "field.too_short_text",
    "too_long": "field.too_long_list",
    "too_short": "field.too_short_list",
}


def _message(err: Any, fact_kind: str | None) -> Said:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    bad = got(value)
    if kind == "missing":
        return say("field.missing")
    if fact_kind == "datetime" and kind in ("string_type", "string_pattern_mismatch"):
        return scalars.datetime_problem(value)
    if fact_kind == "datetime" and kind.startswith("datetime"):
        return say("field.datetime_unreal", got=bad)
    if fact_kind == "date" and kind in ("string_type", "string_pattern_mismatch"):
        return say("field.date", got=bad)
    if fact_kind == "date" and kind.startswith("date"):
        return say("field.date_unreal", got=bad)
    if fact_kind == "time" and kind in ("string_type", "string_pattern_mismatch"):
        return say("field.hhmm", got=bad)
    if kind in _TYPE_WORDS:
        what = _TYPE_WORDS[kind]
        return say("field.type", what=Said(word(what, "en"), word(what, "zh")), got=bad)
    if kind in _SYMBOLS:
        bound = next(iter(ctx.values()))
        return say("field.bound", symbol=_SYMBOLS[kind], bound=_num(bound), got=bad)
    if kind == "literal_error":
        expected = str(ctx.get("expected", "?"))
        return say("field.one_of", expected=expected, expected_zh="、".join(re.split(_ALTERNATIVES, expected)), got=bad)
    if kind == "string_pattern_mismatch":
        return say("field.pattern", got=bad, pattern=ctx.get("pattern"))
    if kind in _LENGTHS:  # pydantic's own English words, which say how long it may be
        limit = ctx.get("max_length", ctx.get("min_length", "?"))
        return Said(str(err["msg"]).lower(), say(_LENGTHS[kind], limit=limit, size=ctx.get("actual_length", "?")).zh)
    if kind == "finite_number":
        return say("field.finite", got=bad)
    if "zh" in ctx:  # the snapshot's own scalar checks (`scalars`) say it in both languages
        return Said(str(err["msg"]), str(ctx["zh"]))
    return say("field.other", detail=str(err["msg"]))


_ALTERNATIVES = r", | or "
"""How pydantic lists a literal's values (`'a', 'b' or 'c'`): only an error compiles it (re caches it)."""


def _num(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


@lru_cache(maxsize=1)
def _kinds() -> dict[str, str]:
    return {row["path"]: row["kind"] for row in artifact()["fields"]}


def _kind(path: str) -> str | None:
    return _kinds().get(re.sub(r"\[\d+\]", "", path))


def problems_from(error: ValidationError) -> list[Problem]:
    """Every validation error of one snapshot as a Problem with its dotted path and the bad value (unknown fields are not errors)."""
    out = []
    errors = error.errors(include_url=False)
    for err in errors:
        if err["type"] == "extra_forbidden":
            continue
        loc = tuple(err["loc"])
        path = _dotted(loc)
        out.append(problem(path, _message(err, _kind(path))))
    return out
