"""The rule-file models, strict (a pack's manifest, its rule files, every part of a rule), and the loaded Pack."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from diagnose.pack.files import MANIFEST
from diagnose.pack.yamlpos import Located
from diagnose.vocab import AUDIENCES, DEFAULT_FAMILIES, LANGS, Operator, Severity

BASE_NAME = "default"
"""The only pack `extends` may name."""


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
        elif self.op in ("in", "not in", "intersects"):
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


def condition_kind(value: Any) -> str | None:
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
        condition_kind,
        custom_error_type="condition",
        custom_error_message="a condition must be a mapping: `all`, `any`, `not`, or a leaf with `fact` and `op`",
    ),
]


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


class InForce(_Strict):
    """The dates a rule or a parameter value is in force: from (inclusive) until (exclusive), judged against as_of."""

    from_: date | None = Field(default=None, alias="from")
    until: date | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)

    def covers(self, day: date) -> bool:
        return (self.from_ is None or self.from_ <= day) and (self.until is None or day < self.until)

    def overlaps(self, other: InForce) -> bool:
        lo = max(self.from_ or date.min, other.from_ or date.min)
        hi = min(self.until or date.max, other.until or date.max)
        return lo < hi

    def empty(self) -> bool:
        return self.from_ is not None and self.until is not None and self.from_ >= self.until

    def said(self) -> str:
        return f"from {self.from_ or 'the start'} until {self.until or 'further notice'}"


class Rule(_Strict):
    """One cause: when it holds, what it means, and what to do about it."""

    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=64)]
    family: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    severity: Severity
    weight: Annotated[float, Field(ge=0, le=1)] = 1.0
    contributing: bool = False
    explanatory: bool = False
    """It explains normal behaviour: on a line that is otherwise fine it is reported and the line stays healthy."""
    explains: list[str] = Field(default_factory=list)
    title: Text
    label: Text | None = None
    """The cause as the institution names it, for portfolio views (no fields); default: the title."""
    explanation: Text
    rationale: Text | None = None
    applies_when: Condition | None = None
    """When the rule applies at all (request rules: when there was a request); false: neither a finding nor undetermined."""
    when: Condition
    remedies: Remedies
    metadata: dict[str, Any] = Field(default_factory=dict)
    examples: Examples = Field(default_factory=Examples)
    in_force: InForce | None = None
    """The dates this rule (or this variant of it: several may share an id) is in force; none: always."""


ParamValue = bool | int | float | str | list[bool | int | float | str]


class DatedValue(_Strict):
    """A parameter's value while it is in force; outside every dated value the parameter's `value` holds."""

    in_force: InForce
    value: ParamValue


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
    dated: list[DatedValue] = Field(default_factory=list)
    unit: str | None = None
    description: str | None = None
    source: str | None = None
    tune: Tune | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if not _finite(v):
            raise ValueError("must be a finite number")
        return v

    @model_validator(mode="after")
    def _tunable(self) -> Parameter:
        if self.tune is None:
            return self
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ValueError("`tune` applies to a numeric parameter only")
        if not self.tune.min <= self.value <= self.tune.max:
            raise ValueError(f"the value {self.value} lies outside `tune` [{self.tune.min}, {self.tune.max}]")
        return self


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


# --- the loaded pack --------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSource:
    file: str
    line: int | None
    located: Located
    index: int


@dataclass(frozen=True)
class Unparsed:
    """Names written in the pack whose definitions did not validate: checks do not call them unknown."""

    rules: frozenset[str] = frozenset()
    params: frozenset[str] = frozenset()
    families: frozenset[str] = frozenset()
    unknown: frozenset[str] = frozenset()
    """Kinds (`rules`, `params`, `families`) of which a whole file or section could not be read: any name may exist."""

    def any(self) -> bool:
        return bool(self.rules or self.params or self.families or self.unknown)

    def rule(self, name: str) -> bool:
        """Whether a rule of this name may exist, unread: a link to it is not reported as unknown."""
        return name in self.rules or "rules" in self.unknown

    def param(self, name: str) -> bool:
        return name in self.params or "params" in self.unknown

    def family(self, name: str) -> bool:
        return name in self.families or "families" in self.unknown


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
    base: Pack | None = None
    """The pack this one extends."""
    manifest_at: Located = field(default_factory=lambda: Located(None))
    unparsed: Unparsed = field(default_factory=Unparsed)

    def to_data(self) -> dict[str, Any]:
        """The pack as plain JSON data: what the engine compiles (rules without their examples)."""
        return {
            "name": self.manifest.name,
            "version": self.manifest.version,
            "digest": self.digest,
            "parameters": {name: p.value for name, p in self.parameters.items()},
            "dated_parameters": {
                name: [dv.model_dump(mode="json", by_alias=True, exclude_none=True) for dv in p.dated]
                for name, p in self.parameters.items()
                if p.dated
            },
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

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    def param(self, name: str) -> Any:
        return self.parameters[name].value

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def families(self) -> tuple[str, ...]:
        return DEFAULT_FAMILIES + tuple(f for f in self.manifest.families if f not in DEFAULT_FAMILIES)

    def own(self, rule_id: str) -> bool:
        """A rule this pack's own files define (not one inherited from the pack it extends)."""
        return rule_id in self.sources and not self.inherited(rule_id)

    def inherited(self, rule_id: str) -> bool:
        return self.base is not None and rule_id in self.base.sources and self.sources.get(rule_id) is self.base.sources[rule_id]

    def example_base(self) -> Path | None:
        """The snapshot rule examples and golden cases patch: this pack's `example_base`, else its base pack's."""
        source = self.example_base_source()
        return source[0] / source[1] if source is not None else None

    def example_base_source(self) -> tuple[Path, str] | None:
        """The example base as the pack folder that names it and the name it gives (what a bounded read takes)."""
        if self.manifest.example_base is not None:
            return self.root, self.manifest.example_base
        return self.base.example_base_source() if self.base is not None else None

    def find_file(self, folder: Path, name: str) -> Path:
        """A file a rule or case names, relative to its folder; one not there is looked for in the base pack (its fixtures)."""
        return self.file_folder(folder, name) / name

    def file_folder(self, folder: Path, name: str) -> Path:
        """The folder ``name`` is read relative to: ``folder``, or the base pack's when only it has the file."""
        if (folder / name).is_file() or self.base is None or not (self.base.root / name).is_file():
            return folder
        return self.base.root

    def inherited_file(self, file: str) -> bool:
        """Whether a file is one of the base pack's (and not of this pack's folder)."""
        base = self.base
        return base is not None and Path(file).resolve().parent == base.root.resolve() != self.root.resolve()

    def inherited_place(self, rule_id: str) -> tuple[str, int | None, int | None]:
        """Where the author's files bring an inherited rule in: the override of a parameter it reads, else `extends`."""
        read = self.overrides_read(rule_id)
        path: tuple[str | int, ...] = ("overrides", "parameters", read[0]) if read else ("extends",)
        line, col = self.manifest_at.where(path)
        return str(self.manifest_path), line, col

    def overrides_read(self, rule_id: str) -> list[str]:
        """The parameters an inherited rule reads that this pack overrides."""
        overrides = self.manifest.overrides
        if overrides is None or not self.inherited(rule_id):
            return []
        used: set[str] = set()
        for leaf, _ in iter_leaves(self.rule(rule_id).when):
            if leaf.param is not None:
                used.update(leaf.param if isinstance(leaf.param, list) else [leaf.param])
        return sorted(used & set(overrides.parameters))

    def base_place(self, file: str, line: int | None) -> str:
        """A place in the base pack, named for a reader who does not have its files: `the default pack's liquidity.yaml:12`."""
        base = self.base
        name = Path(file).name
        if base is not None:
            with contextlib.suppress(ValueError):  # a file of the base pack lies in its folder
                name = Path(file).resolve().relative_to(base.root.resolve()).as_posix()
        return f"the {BASE_NAME} pack's {name}" + (f":{line}" if line else "")
