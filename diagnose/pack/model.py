"""The rule-file models, strict: a pack's manifest, its rule files, and every part of a rule."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

DEFAULT_FAMILIES = ("liquidity", "policy", "product", "operations", "borrower")
SEVERITIES = ("critical", "high", "medium", "low", "info")
OPERATORS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "exists", "missing")
AUDIENCES = ("customer", "agent", "institution")
LANGS = ("en", "zh")


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
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "exists", "missing"]
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


class Rule(_Strict):
    """One cause: when it holds, what it means, and what to do about it."""

    id: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=64)]
    family: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
    severity: Literal["critical", "high", "medium", "low", "info"]
    weight: Annotated[float, Field(ge=0, le=1)] = 1.0
    contributing: bool = False
    explains: list[str] = Field(default_factory=list)
    title: Text
    explanation: Text
    rationale: Text | None = None
    when: Condition
    remedies: Remedies
    metadata: dict[str, Any] = Field(default_factory=dict)
    examples: Examples = Field(default_factory=Examples)


ParamValue = bool | int | float | str | list[bool | int | float | str]


class Parameter(_Strict):
    value: ParamValue
    unit: str | None = None
    description: str | None = None
    source: str | None = None

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
    extends: Literal["default"] | None = None
    example_base: str | None = None
    families: dict[str, Text] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    overrides: Overrides | None = None
    sensitive: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class RuleFile(_Strict):
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
