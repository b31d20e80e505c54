"""Rule packs: the YAML models (strict), loading with file:line positions, and pack-wide checks."""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from diagnose.errors import InvalidPack, PackProblem
from diagnose.pack.files import MANIFEST, MAX_PACK_FILES, OutsidePack, default_pack_path, read_inside, resolve, rule_files
from diagnose.pack.templates import template_fields
from diagnose.pack.yamlpos import Located, YamlError
from diagnose.pack.yamlpos import load as load_yaml
from diagnose.snapshot import facts as factlib
from diagnose.vocab import AUDIENCES, DEFAULT_FAMILIES, FILTERS, LANGS, Operator, Severity

MAX_FILE_BYTES = 2_000_000
MAX_PACK_BYTES = 10_000_000
"""All the files of one pack together (a base pack's not counted)."""

# --- models -----------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    """No NaN or infinity, also inside a list: a threshold that compares with nothing is a bug."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return True


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=5_000)]


class Text(_Strict):
    """One text in both languages."""

    en: NonEmpty
    zh: NonEmpty

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Remedies(_Strict):
    customer: list[Text] = Field(min_length=1)
    agent: list[Text] = Field(min_length=1)
    institution: list[Text] = Field(min_length=1)


Scalar = bool | int | float | str


class Leaf(_Strict):
    """A comparison of one fact with a literal (`value`), a parameter (`param`) or another fact (`ref`)."""

    fact: Annotated[str, Field(min_length=1, max_length=200)]
    op: Operator
    value: Scalar | list[Scalar] | None = None
    param: Annotated[str, Field(max_length=200)] | list[Annotated[str, Field(max_length=200)]] | None = None
    ref: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _one_operand(self) -> Leaf:
        given = [k for k in ("value", "param", "ref") if getattr(self, k) is not None]
        if self.op in ("exists", "missing"):
            if given:
                raise ValueError(f"`{self.op}` takes no right-hand side; remove `{given[0]}`")
            return self
        if len(given) != 1:
            raise ValueError(f"`{self.op}` needs exactly one of `value`, `param` or `ref` (got {', '.join(given) or 'none'})")
        if not _finite(self.value):
            raise ValueError("`value` must be a finite number")
        if self.op == "between":
            pair = self.value if self.value is not None else self.param
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError("`between` needs a list of two: `value: [low, high]` or `param: [low_param, high_param]`")
            if self.ref is not None:
                raise ValueError("`between` compares with two bounds; use `value` or `param`, not `ref`")
        elif self.op in ("in", "not in"):
            if self.ref is not None:
                raise ValueError(f"`{self.op}` needs a list: use `value: [...]` or `param`")
            if self.value is not None and not isinstance(self.value, list):
                raise ValueError(f"`{self.op}` needs a list: `value: [a, b]`")
        elif isinstance(self.value, list) or isinstance(self.param, list):
            raise ValueError(f"`{self.op}` compares with one value, not a list")
        return self


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class NotOf(_Strict):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)


def _condition_kind(value: Any) -> str | None:
    if isinstance(value, BaseModel):
        return {AllOf: "all-of", AnyOf: "any-of", NotOf: "not-of", Leaf: "leaf"}.get(type(value))
    if not isinstance(value, dict):
        return None
    for key, tag in (("all", "all-of"), ("any", "any-of"), ("not", "not-of")):
        if key in value:
            return tag
    return "leaf"


Condition = Annotated[
    Annotated[AllOf, Tag("all-of")] | Annotated[AnyOf, Tag("any-of")] | Annotated[NotOf, Tag("not-of")] | Annotated[Leaf, Tag("leaf")],
    Discriminator(
        _condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition must be a mapping: `all`, `any`, `not`, or a leaf with `fact` and `op`",
    ),
]
_CONDITION_TAGS = {"all-of", "any-of", "not-of", "leaf"}


class Example(_Strict):
    name: NonEmpty
    patch: dict[str, Any] | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Example:
        if (self.patch is None) == (self.file is None):
            raise ValueError("an example needs exactly one of `patch` (merged onto example_base) or `file`")
        return self


class Examples(_Strict):
    fires: list[Example] = Field(default_factory=list)
    quiet: list[Example] = Field(default_factory=list)
    undetermined: list[Example] = Field(default_factory=list)


class Rule(_Strict):
    """One cause: when it holds, what it means, and what to do about it."""

    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=64)]
    family: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    severity: Severity
    weight: Annotated[float, Field(ge=0, le=1)] = 1.0
    contributing: bool = False
    explains: list[str] = Field(default_factory=list)
    title: Text
    label: Text | None = None
    """The cause as the institution names it, for portfolio views (no fields); default: the title."""
    explanation: Text
    rationale: Text | None = None
    when: Condition
    remedies: Remedies
    metadata: dict[str, Any] = Field(default_factory=dict)
    examples: Examples = Field(default_factory=Examples)


ParamValue = bool | int | float | str | list[bool | int | float | str]


class Tune(_Strict):
    """The range `diagnose calibrate --thresholds` may move a numeric parameter in, and its step."""

    min: float
    max: float
    step: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Tune:
        if not (_finite(self.min) and _finite(self.max) and _finite(self.step)):
            raise ValueError("`min`, `max` and `step` must be finite numbers")
        if self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is above `max` ({self.max})")
        return self


class Parameter(_Strict):
    value: ParamValue
    unit: str | None = None
    description: str | None = None
    source: str | None = None
    tune: Tune | None = None

    @model_validator(mode="after")
    def _tunable(self) -> Parameter:
        if self.tune is None:
            return self
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ValueError("`tune` applies to a numeric parameter only")
        if not self.tune.min <= self.value <= self.tune.max:
            raise ValueError(f"the value {self.value} lies outside `tune` [{self.tune.min}, {self.tune.max}]")
        return self

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if not _finite(v):
            raise ValueError("must be a finite number")
        return v


class Disable(_Strict):
    id: str
    reason: NonEmpty


class Overrides(_Strict):
    parameters: dict[str, ParamValue] = Field(default_factory=dict)
    weights: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    """New weights of rules of the base pack, by rule id (what `diagnose calibrate` proposes)."""
    disable: list[Disable] = Field(default_factory=list)

    @field_validator("parameters")
    @classmethod
    def _finite(cls, v: dict[str, Any]) -> dict[str, Any]:
        for name, value in v.items():
            if not _finite(value):
                raise ValueError(f"`{name}` must be a finite number")
        return v


class Manifest(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    version: Annotated[str, Field(min_length=1, max_length=50)]
    description: str | None = None
    extends: Annotated[str, Field(min_length=1, max_length=1_000)] | None = None
    """`default` (the built-in pack) or the folder of another pack, relative to this one's."""
    example_base: str | None = None
    families: dict[str, Text] = Field(default_factory=dict)
    clear_steps: dict[str, Text] = Field(default_factory=dict)
    """How to say the change that clears a condition on a fact (a template in en and zh), by fact path."""
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    overrides: Overrides | None = None
    sensitive: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    """Fact paths each report echoes in `segments` besides the defaults (a sensitive one only when named here)."""
    metadata: dict[str, Any] = Field(default_factory=dict)


class RuleFile(_Strict):
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)


# --- the loaded pack --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSource:
    file: str
    line: int | None
    located: Located
    index: int


@dataclass
class Pack:
    """A validated rule pack: its manifest, parameters and rules, each rule with where it came from."""

    root: Path
    manifest: Manifest
    parameters: dict[str, Parameter]
    rules: list[Rule]
    sources: dict[str, RuleSource]
    digest: str
    disabled: dict[str, str] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    """Every file the pack was built from (a base pack's too): what a cached copy depends on."""
    clear_steps: dict[str, Text] = field(default_factory=dict)
    """The manifest's clear_steps over its base pack's."""

    def to_data(self) -> dict[str, Any]:
        """The pack as plain JSON data: what the engine compiles (rules without their examples)."""
        return {
            "name": self.manifest.name,
            "version": self.manifest.version,
            "digest": self.digest,
            "parameters": {name: p.value for name, p in self.parameters.items()},
            "families": {k: v.model_dump() for k, v in self.manifest.families.items()},
            "clear_steps": {k: v.model_dump() for k, v in sorted(self.clear_steps.items())},
            "sensitive": list(self.manifest.sensitive),
            "segments": list(self.manifest.segments),
            "disabled": dict(self.disabled),
            "rules": [r.model_dump(mode="json", by_alias=True, exclude={"examples"}, exclude_none=True) for r in self.rules],
        }

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def param(self, name: str) -> Any:
        return self.parameters[name].value

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def families(self) -> tuple[str, ...]:
        return DEFAULT_FAMILIES + tuple(f for f in self.manifest.families if f not in DEFAULT_FAMILIES)


# --- loading ----------------------------------------------------------------------------


def _read(path: Path, display: str, problems: list[PackProblem], budget: list[int]) -> str | None:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(PackProblem(display, f"file is {size:,} bytes; at most {MAX_FILE_BYTES:,} are read", code="too-large"))
            return None
        if size > budget[0]:
            problems.append(
                PackProblem(display, f"the pack's files pass {MAX_PACK_BYTES:,} bytes together; this one is not read", code="too-large")
            )
            return None
        budget[0] -= size
        raw = read_inside(path.parent, path.name, max_bytes=MAX_FILE_BYTES)
    except OutsidePack as exc:
        problems.append(PackProblem(display, str(exc), hint="a pack's files are regular files inside its folder", code="unreadable"))
        return None
    except OSError as exc:
        problems.append(PackProblem(display, f"cannot read: {exc.strerror or exc}", code="unreadable"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(PackProblem(display, f"not UTF-8 text (byte {exc.start})", hint="save rule files as UTF-8", code="encoding"))
        return None


def _pydantic_problems(exc: ValidationError, located: Located, display: str, prefix: tuple[str | int, ...] = ()) -> list[PackProblem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if p not in _CONDITION_TAGS]
        loc = ["not" if p == "not_" else p for p in loc]
        path: tuple[str | int, ...] = (*prefix, *loc)
        kind = err["type"]
        rule_id = _rule_id_at(located, path)
        if kind == "extra_forbidden":
            key = path[-1]
            line, col = located.where((*path, "__key__"))
            allowed = _allowed_keys(located, path[:-1])
            hint = f"allowed keys here: {', '.join(allowed)}" if allowed else None
            near = _closest(str(key), allowed)
            if near:
                hint = f"did you mean `{near}`? " + (hint or "")
            shown = str(key) if len(str(key)) <= 60 else str(key)[:59] + "…"
            out.append(PackProblem(display, f"unknown key `{shown}`", line, col, rule_id, hint, code="unknown-key"))
            continue
        line, col = located.where(path)
        where = ".".join(str(p) for p in path[len(prefix) :]) or "(top level)"
        if kind == "missing":
            msg = f"missing required key `{path[-1]}`"
            where_path = path[:-1]
            line, col = located.where(where_path)
            out.append(PackProblem(display, msg, line, col, rule_id, code="missing-key"))
            continue
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) or kind.startswith("value_error") else f" (got {got!r})"
        out.append(PackProblem(display, f"{where}: {msg}{shown}", line, col, rule_id, code="invalid-value"))
    return out


def _allowed_keys(located: Located, path: tuple[str | int, ...], root: type[BaseModel] | None = None) -> list[str]:
    """The keys the model at ``path`` accepts, found by walking the models beside the data."""
    import typing

    node: Any = located.data
    current: Any = root or (Manifest if isinstance(node, dict) and "name" in node and "rules" not in node else RuleFile)
    for part in path:
        try:
            parent, node = node, node[part]
        except (KeyError, IndexError, TypeError):
            return []
        current = _step(current, part, parent, typing)
        if current is None:
            return []
    current = _resolve_condition(current, node, typing)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _resolve_condition(current: Any, node: Any, typing: Any) -> Any:
    bare, _ = factlib.unwrap(current)
    if typing.get_origin(bare) is Union and Leaf in [factlib.unwrap(a)[0] for a in typing.get_args(bare)]:
        return {"all-of": AllOf, "any-of": AnyOf, "not-of": NotOf, "leaf": Leaf}.get(_condition_kind(node) or "")
    return bare


def _step(current: Any, part: str | int, parent: Any, typing: Any) -> Any:
    bare = _resolve_condition(current, parent, typing)
    if isinstance(bare, type) and issubclass(bare, BaseModel) and isinstance(part, str):
        fields = {f.alias or n: f for n, f in bare.model_fields.items()}
        return fields[part].annotation if part in fields else None
    origin = typing.get_origin(bare)
    if origin is list and isinstance(part, int):
        return typing.get_args(bare)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(bare)[1]
    return None


def _closest(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return match[0] if match else None


def _rule_id_at(located: Located, path: tuple[str | int, ...]) -> str | None:
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        try:
            rid = located.data["rules"][path[1]].get("id")
            return rid if isinstance(rid, str) else None
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
    return None


def _load_located(path: Path, display: str, problems: list[PackProblem], budget: list[int]) -> tuple[str, Located] | None:
    text = _read(path, display, problems, budget)
    if text is None:
        return None
    try:
        return text, load_yaml(text)
    except YamlError as exc:
        problems.append(PackProblem(display, exc.message, exc.line, exc.column, hint=exc.hint, code="yaml"))
        return None


MAX_EXTENDS = 8
"""Packs in one `extends` chain at the most."""


def load(path: str | Path | None = None, *, _chain: tuple[Path, ...] = ()) -> Pack:
    """Load and validate a pack folder (or the default pack); raise InvalidPack listing every problem."""
    root = resolve(path)
    problems: list[PackProblem] = []
    if not root.is_dir():
        raise InvalidPack([PackProblem(str(root), "no such rule pack folder", hint="--rules takes a folder with a pack.yaml")])
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InvalidPack(
            [PackProblem(str(manifest_path), "the pack has no manifest", hint="add pack.yaml with name, version and parameters")]
        )
    hasher = hashlib.sha256()

    def display(p: Path) -> str:
        return str(p)

    budget = [MAX_PACK_BYTES]
    loaded = _load_located(manifest_path, display(manifest_path), problems, budget)
    manifest: Manifest | None = None
    manifest_at = Located(None)
    if loaded is not None:
        text, located = loaded
        manifest_at = located
        hasher.update(b"pack.yaml\0" + text.encode() + b"\0")
        if not isinstance(located.data, dict):
            problems.append(PackProblem(display(manifest_path), "the manifest must be a mapping", code="invalid-value"))
        else:
            try:
                manifest = Manifest.model_validate(located.data)
            except ValidationError as exc:
                problems += _pydantic_problems(exc, located, display(manifest_path))
    named = [(key, i, p) for key in ("sensitive", "segments") for i, p in enumerate(getattr(manifest, key) if manifest else [])]
    for key, i, path_ in named:
        if not (factlib.is_fact_path(path_) or path_ in _item_paths()):
            line, col = manifest_at.where((key, i))
            problems.append(
                PackProblem(
                    display(manifest_path),
                    f"`{key}` names unknown fact `{path_[:100]}`",
                    line,
                    col,
                    hint=_did_you_mean(path_, list(factlib.catalog())) or "`diagnose facts` lists every fact",
                    code="unknown-fact",
                )
            )
    base: Pack | None = None
    if manifest is not None and manifest.extends is not None:
        base = _load_base(root, manifest.extends, manifest_at, display(manifest_path), _chain)
        hasher.update(b"extends\0" + base.digest.encode())

    files = rule_files(root)
    if len(files) > MAX_PACK_FILES:
        problems.append(PackProblem(str(root), f"{len(files)} rule files; at most {MAX_PACK_FILES} are read", code="too-large"))
        files = files[:MAX_PACK_FILES]
    parameters: dict[str, Parameter] = dict(base.parameters) if base else {}
    param_origin: dict[str, str] = {}
    if manifest is not None:
        for name, prm in manifest.parameters.items():
            parameters[name] = prm
            param_origin[name] = display(manifest_path)
    rules: dict[str, Rule] = {r.id: r for r in base.rules} if base else {}
    sources: dict[str, RuleSource] = dict(base.sources) if base else {}
    own_ids: dict[str, str] = {}
    for file in files:
        shown = display(file)
        loaded = _load_located(file, shown, problems, budget)
        if loaded is None:
            continue
        text, located = loaded
        hasher.update(file.name.encode() + b"\0" + text.encode() + b"\0")
        if located.data is None:
            continue
        if not isinstance(located.data, dict):
            problems.append(PackProblem(shown, "a rule file must be a mapping with `rules:`", 1, 1, code="invalid-value"))
            continue
        try:
            rule_file = RuleFile.model_validate(located.data)
        except ValidationError as exc:
            problems += _pydantic_problems(exc, located, shown)
            continue
        for name, prm in rule_file.parameters.items():
            if name in param_origin:
                line, col = located.where(("parameters", name, "__key__"))
                problems.append(
                    PackProblem(shown, f"parameter `{name}` is already declared in {param_origin[name]}", line, col, code="duplicate-param")
                )
            parameters[name] = prm
            param_origin[name] = shown
        for index, rule in enumerate(rule_file.rules):
            line, _ = located.where(("rules", index))
            if rule.id in own_ids:
                id_line, id_col = located.where(("rules", index, "id"))
                problems.append(
                    PackProblem(
                        shown,
                        f"duplicate rule id {rule.id} (first defined in {own_ids[rule.id]})",
                        id_line,
                        id_col,
                        rule.id,
                        code="duplicate-id",
                    )
                )
                continue
            own_ids[rule.id] = f"{shown}:{line}"
            rules[rule.id] = rule
            sources[rule.id] = RuleSource(shown, line, located, index)

    disabled: dict[str, str] = {}
    if manifest is not None and manifest.overrides is not None:
        for name, value in manifest.overrides.parameters.items():
            if name not in parameters:
                line, col = manifest_at.where(("overrides", "parameters", name, "__key__"))
                problems.append(
                    PackProblem(
                        display(manifest_path),
                        f"override of unknown parameter `{name}`",
                        line,
                        col,
                        code="unknown-param",
                        hint=_did_you_mean(name, list(parameters))
                        or "`overrides.parameters` changes parameters the pack (or its base) declares",
                    )
                )
                continue
            parameters[name] = parameters[name].model_copy(update={"value": value})
        for rid, weight in manifest.overrides.weights.items():
            if rid not in rules:
                line, col = manifest_at.where(("overrides", "weights", rid, "__key__"))
                problems.append(
                    PackProblem(
                        display(manifest_path),
                        f"weight override of unknown rule {rid}",
                        line,
                        col,
                        rid,
                        _did_you_mean(rid, sorted(rules)) or "`overrides.weights` changes rules the pack (or its base) defines",
                        code="unknown-rule",
                    )
                )
                continue
            rules[rid] = rules[rid].model_copy(update={"weight": weight})
        for n, item in enumerate(manifest.overrides.disable):
            if item.id not in rules:
                line, col = manifest_at.where(("overrides", "disable", n, "id"))
                problems.append(
                    PackProblem(
                        display(manifest_path),
                        f"cannot disable unknown rule {item.id}",
                        line,
                        col,
                        item.id,
                        _did_you_mean(item.id, sorted(rules)),
                        code="unknown-rule",
                    )
                )
                continue
            disabled[item.id] = item.reason
            del rules[item.id]

    if manifest is None and not problems:
        problems.append(PackProblem(display(manifest_path), "invalid manifest"))
    pack = Pack(
        files=[manifest_path, *files, *(base.files if base else [])],
        root=root,
        manifest=manifest or Manifest(name="?", version="?"),
        parameters=parameters,
        rules=sorted(rules.values(), key=lambda r: r.id),
        sources=sources,
        digest="sha256:" + hasher.hexdigest(),
        disabled=disabled,
        clear_steps={**(base.clear_steps if base else {}), **(manifest.clear_steps if manifest else {})},
    )
    if manifest is not None:
        problems += check(pack)
    errors = [p for p in problems if p.level == "error"]
    if errors:
        raise InvalidPack(errors, source=str(root))
    return pack


def _load_base(root: Path, extends: str, manifest_at: Located, shown: str, chain: tuple[Path, ...]) -> Pack:
    """The pack named by `extends`: the built-in pack, or a folder relative to this pack's; no cycles."""
    line, col = manifest_at.where(("extends",))
    target = default_pack_path() if extends == "default" else (root / extends)
    seen = (*chain, root.resolve())
    if target.resolve() in seen:
        what = "the default pack cannot extend itself" if extends == "default" else f"`extends: {extends}` forms a cycle"
        raise InvalidPack([PackProblem(shown, what, line, col, code="invalid-value")])
    if len(seen) >= MAX_EXTENDS:
        raise InvalidPack([PackProblem(shown, f"more than {MAX_EXTENDS} packs extend one another", line, col, code="too-large")])
    if not (target / MANIFEST).is_file():
        raise InvalidPack(
            [
                PackProblem(
                    shown,
                    f"`extends: {extends}` names no pack folder",
                    line,
                    col,
                    hint="`extends` takes `default` or the folder of a pack (with a pack.yaml), relative to this pack",
                    code="invalid-value",
                )
            ]
        )
    return load(target, _chain=seen)


def _item_paths() -> set[str]:
    """Fields of list items by path without indexes (`repayments.id`): what `sensitive` may also name."""
    from diagnose.snapshot.contract import artifact

    out: set[str] = set()
    for where, keys in artifact()["objects"].items():
        base = where.replace("[]", "")
        out.update(f"{base}.{key}" if base else key for key in keys)
    return out


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    near = _closest(word, choices)
    return f"did you mean `{near}`?" if near else None


# --- pack-wide checks that loading enforces (lint adds more) ----------------------------


def iter_leaves(cond: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Every leaf of a condition tree, with its path inside `when`."""
    if isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from iter_leaves(c, (*path, "all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from iter_leaves(c, (*path, "any", i))
    elif isinstance(cond, NotOf):
        yield from iter_leaves(cond.not_, (*path, "not"))
    else:
        yield cond, path


def iter_texts(rule: Rule) -> Any:
    """Every text of a rule with its path: title, explanation, rationale, remedies."""
    for key in ("title", "explanation", "rationale"):
        text = getattr(rule, key)
        if text is not None:
            for lang in LANGS:
                yield (key, lang), text.get(lang)
    for aud in AUDIENCES:
        for i, item in enumerate(getattr(rule.remedies, aud)):
            for lang in LANGS:
                yield ("remedies", aud, i, lang), item.get(lang)


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
        line, col = self.src.located.where(("rules", self.src.index, *path))
        self.out.append(PackProblem(self.src.file, message, line, col, self.rule_id, hint, code, level))


def check(pack: Pack) -> list[PackProblem]:
    """Problems that make a pack unusable: unknown facts, params, rules, type errors, bad templates, cycles."""
    out: list[PackProblem] = []
    ids = {r.id for r in pack.rules}
    known = ids | set(pack.disabled)  # a link to a rule the pack disabled is fine: it never fires
    families = set(pack.families())
    catalog = factlib.catalog()
    for rule in pack.rules:
        src = pack.sources.get(rule.id)
        if src is None:
            continue
        at = _At(src, rule.id, out)

        if rule.family not in families:
            at(
                ("family",),
                f"unknown family `{rule.family}`",
                f"families: {', '.join(sorted(families))}; a custom pack declares new ones under `families` in pack.yaml",
                "unknown-family",
            )
        for target in rule.explains:
            if target not in known:
                at(
                    ("explains",),
                    f"`explains` names {target}, which is not a rule of this pack",
                    _did_you_mean(target, sorted(ids)),
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
                    if name[7:] not in pack.parameters:
                        at(
                            tpath,
                            f"template names unknown parameter `{name[7:]}`",
                            _did_you_mean(name[7:], list(pack.parameters)),
                            "unknown-param",
                        )
                elif not factlib.is_fact_path(name):
                    at(
                        tpath,
                        f"template names unknown fact `{name}`",
                        _did_you_mean(name, list(catalog)) or "`diagnose facts` lists every fact",
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
    manifest = str(pack.root / MANIFEST)
    for fact, words in pack.manifest.clear_steps.items():
        if not factlib.is_fact_path(fact):
            hint = _did_you_mean(fact, list(catalog)) or "`diagnose facts` lists every fact"
            out.append(PackProblem(manifest, f"clear_steps names unknown fact `{fact}`", hint=hint, code="unknown-fact"))
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
                    out.append(PackProblem(manifest, f"clear_steps.{fact}.{lang}: {bad}", code="template"))
    return out


def _check_leaf(pack: Pack, leaf: Leaf, lpath: tuple[str | int, ...], at: Any, catalog: dict[str, factlib.FactSpec]) -> None:
    spec = catalog.get(leaf.fact)
    if spec is None and not factlib.is_fact_path(leaf.fact):
        at(
            (*lpath, "fact"),
            f"unknown fact `{leaf.fact}`",
            _did_you_mean(leaf.fact, list(catalog)) or "`diagnose facts` lists every fact",
            "unknown-fact",
        )
        return
    if leaf.ref is not None:
        rspec = catalog.get(leaf.ref)
        if rspec is None and not factlib.is_fact_path(leaf.ref):
            at((*lpath, "ref"), f"unknown fact `{leaf.ref}`", _did_you_mean(leaf.ref, list(catalog)), "unknown-fact")
        elif spec is not None and rspec is not None and _family(spec) != _family(rspec):
            at((*lpath, "ref"), f"cannot compare `{leaf.fact}` ({spec.kind}) with `{leaf.ref}` ({rspec.kind})", code="type-mismatch")
    names = leaf.param if isinstance(leaf.param, list) else [leaf.param] if leaf.param else []
    values: list[Any] = []
    for name in names:
        if name not in pack.parameters:
            at(
                (*lpath, "param"),
                f"unknown parameter `{name}`",
                _did_you_mean(name, list(pack.parameters)) or "declare it under `parameters`",
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
