"""The words of the rule format and the report, defined once: every model, schema, lint check, format and doc reads them here.

Each closed set is a `Literal` (what pydantic validates and the JSON Schemas publish) with the
tuple of its values beside it (what code loops over), and, where a person reads it, its words in
en and zh. tests/test_vocab.py walks each set and checks that every place that names it agrees.
"""

from __future__ import annotations

from typing import Literal, get_args

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = get_args(Lang)

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
"""Worst first: the order of the ranking's severity weights and of `--fail-on`."""

Audience = Literal["customer", "agent", "institution"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
"""Who a remedy is for; a report may be shown to one of them or to `all`."""
ALL_AUDIENCES = "all"

Verdict = Literal["blocked", "restricted", "healthy"]
VERDICTS: tuple[Verdict, ...] = get_args(Verdict)

DEFAULT_FAMILIES = ("liquidity", "policy", "product", "operations", "borrower")
"""The five families of causes; a pack may declare more (`families:` in pack.yaml)."""

Comparison = Literal["==", "!=", "<", "<=", ">", ">="]
COMPARISONS: tuple[Comparison, ...] = get_args(Comparison)
Operator = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in", "intersects", "between", "exists", "missing"]
OPERATORS: tuple[Operator, ...] = get_args(Operator)
NEGATE: dict[str, str] = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not in",
    "not in": "in",
    "intersects": "none of",
    "exists": "missing",
    "missing": "exists",
}
"""Each operator's opposite (`between` negates to `outside`, which only explanations say)."""
REVEALING_OPERATORS = frozenset({"==", "!=", "in", "not in", "intersects"})
"""Operators whose threshold, shown beside a redacted value, would give the value away."""

Filter = Literal["money", "pct", "percent", "int", "number", "date", "time", "datetime"]
FILTERS: tuple[Filter, ...] = get_args(Filter)
"""How a template field `{fact|filter}` is shown; `pack.templates` implements each one."""
NUMBER_FILTERS: tuple[Filter, ...] = ("money", "pct", "percent", "int", "number")
TIME_FILTERS: tuple[Filter, ...] = ("date", "time", "datetime")

WORDS: dict[str, dict[str, dict[str, str]]] = {
    "family": {
        "en": {"liquidity": "liquidity", "policy": "policy", "product": "product", "operations": "operations", "borrower": "borrower"},
        "zh": {"liquidity": "资金流动性", "policy": "信贷政策", "product": "产品设计", "operations": "技术与运营", "borrower": "借款人自身"},
    },
    "severity": {
        "en": {s: s for s in SEVERITIES},
        "zh": {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"},
    },
    "verdict": {
        "en": {v: v for v in VERDICTS},
        "zh": {"blocked": "已阻断", "restricted": "受限", "healthy": "正常"},
    },
    "family_title": {
        "en": {
            "liquidity": "Liquidity (资金流动性)",
            "policy": "Credit policy (信贷政策收紧)",
            "product": "Product design (产品设计局限)",
            "operations": "Technology and operations (技术与运营)",
            "borrower": "The borrower (借款人自身)",
        },
    },
    "audience": {
        "en": {"customer": "customer", "agent": "support agent", "institution": "institution"},
        "zh": {"customer": "客户", "agent": "客服", "institution": "机构"},
    },
}  # fmt: skip


def colon(lang: str) -> str:
    """What joins a label to its text: the full-width ： in Chinese, ": " in English."""
    return "：" if lang == "zh" else ": "


def bracket(text: str, lang: str) -> str:
    """A remark in brackets after a word: full-width （） in Chinese text, " (...)" in English."""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def word(kind: str, value: str, lang: str) -> str:
    """A value's word in ``lang`` (a family, severity, verdict or audience); a value a pack added stays as written."""
    table = WORDS[kind]
    return table.get(lang, table["en"]).get(value, value)


SEGMENTS: tuple[tuple[str, str], ...] = (
    ("product", "account.product"),
    ("region", "account.region"),
    ("funder", "funding.funder"),
    ("funding_model", "funding.model"),
    ("tier", "credit.tier"),
    ("channel", "repayments.channel"),
    ("currency", "line.currency"),
)
"""The segment fields a report echoes by default: the name in its `segments` and the fact path. `channel`
is that of the newest repayment; a pack may echo more facts, each named by its path (docs/portfolio.md)."""
_SEGMENT_PATH = dict(SEGMENTS)
_SEGMENT_NAME = {path: name for name, path in SEGMENTS}


def segment_path(name: str) -> str:
    """The fact path a segment echoes: a default segment by its short name, any other by its path."""
    return _SEGMENT_PATH.get(name, name)


def segment_name(path: str) -> str:
    """The name a fact path has among the segments: a default segment's short name, any other path as itself."""
    return _SEGMENT_NAME.get(path, path)
