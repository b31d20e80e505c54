"""Safe message templates: `{fact.path|filter}` and `{params.name}` filled with formatted values, nothing else.

The one grammar of templates: `template_fields` is what the pack loader and lint check, `parse`
(and `plan`) what `fill` fills; both read fields with `_FIELD`, and the filters are vocab.FILTERS.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from diagnose import deferred
from diagnose.snapshot import facts as factlib
from diagnose.vocab import Filter

_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_NAME = deferred.Pattern(r"^(params\.[A-Za-z_][A-Za-z0-9_]*|[a-z_][a-z0-9_]*(\.[a-z0-9_]+)*)(\|([a-z]+))?$")
UNKNOWN = {"en": "unknown", "zh": "未知"}
MAX_RENDERED = 400
"""A filled-in value is cut to this many characters, whatever the snapshot holds."""
_BREAKS = deferred.Pattern(r"[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]+")

Part = str | tuple[str, str | None]


@lru_cache(maxsize=8192)
def parse(template: str) -> tuple[Part, ...]:
    """Split a template into literal text and (name, filter) fields. The pack loader has checked it."""
    parts: list[Part] = []
    pos = 0
    for m in _FIELD.finditer(template):
        parts.append(template[pos : m.start()])
        token = m.group(0)
        if token in ("{{", "}}"):
            parts.append(token[0])
        else:
            inner = (m.group(1) or "").strip()
            name, _, filt = inner.partition("|")
            parts.append((name.strip(), filt.strip() or None))
        pos = m.end()
    parts.append(template[pos:])
    return tuple(p for p in parts if p != "")


def template_fields(text: str) -> list[tuple[str, str | None] | str]:
    """The `{name|filter}` fields of a template, for checking; a malformed field is returned as a bare string."""
    found: list[tuple[str, str | None] | str] = []
    for m in _FIELD.finditer(text):
        inner = m.group(1)
        if inner is None:
            continue
        nm = _NAME.match(inner.strip())
        if nm is None:
            found.append(inner)
        else:
            found.append((nm.group(1), nm.group(4)))
    stray = _FIELD.sub("", text)
    if "{" in stray or "}" in stray:
        found.append("unbalanced brace")
    return found


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    if decimals and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _fmt_money(v: Any) -> str:
    return f"{v:,.2f}"


def _fmt_pct(v: Any) -> str:
    return _number(float(v), 2) + "%"


def _fmt_percent(v: Any) -> str:
    return _number(float(v) * 100, 2) + "%"


def _fmt_int(v: Any) -> str:
    return f"{round(v):,d}"


def _fmt_number(v: Any) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,d}"
    return _number(float(v), 4)


def _fmt_date(v: Any) -> str:
    return v.date().isoformat() if isinstance(v, datetime) else v.isoformat()


def _fmt_time(v: Any) -> str:
    return v.strftime("%H:%M") if isinstance(v, datetime) else str(v)


def _fmt_datetime(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else _fmt_date(v)


_FILTERS: dict[Filter, Callable[[Any], str]] = {
    "money": _fmt_money,
    "pct": _fmt_pct,
    "percent": _fmt_percent,
    "int": _fmt_int,
    "number": _fmt_number,
    "date": _fmt_date,
    "time": _fmt_time,
    "datetime": _fmt_datetime,
}
_BY_UNIT = {"money": "money", "ratio": "percent", "pct": "pct"}


ENUM_ZH = {
    "verified": "已认证", "pending": "处理中", "expired": "已过期", "failed": "失败", "active": "正常",
    "inactive": "未激活", "unverified": "未验证", "valid": "有效", "frozen": "已冻结", "lost": "已挂失", "none": "无",
    "revolving": "循环额度", "one_time": "一次性额度", "suspended": "已暂停", "closed": "已关闭", "migrated": "已迁移",
    "succeeded": "成功", "not_attempted": "未尝试", "refused": "被拒", "approved": "已批准", "error": "出错",
    "balance": "余额", "bank_card": "银行卡", "auto_debit": "自动扣款", "interbank": "跨行转账", "posted": "已入账",
    "self": "自营资金", "co_lending": "联合贷款", "tightening": "收紧", "loosening": "放宽", "neutral": "中性",
    "lending": "借款", "repayment": "还款", "limit": "额度", "all": "全部",
}  # fmt: skip
"""Chinese words for the contract's enum values, so a zh text never shows an English code word."""


def format_value(value: Any, filt: str | None, spec: factlib.FactSpec | None, lang: str) -> str:
    """One value as a reader sees it; a value a filter cannot take is shown plainly."""
    if lang == "zh" and spec is not None and spec.kind == "enum" and isinstance(value, str):
        return ENUM_ZH.get(value, value)
    if filt is None and spec is not None and spec.unit in _BY_UNIT:
        filt = _BY_UNIT[spec.unit]
    if filt is None:
        if isinstance(value, bool):
            filt = None
        elif isinstance(value, datetime):
            filt = "datetime"
        elif isinstance(value, date):
            filt = "date"
        elif isinstance(value, (int, float)):
            filt = "number"
    fn = _FILTERS.get(filt) if filt is not None else None  # type: ignore[call-overload]
    text: str
    if fn is not None:
        try:
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError
            text = fn(value)
        except (TypeError, ValueError, AttributeError, OverflowError):
            text = _plain(value, lang)
    else:
        text = _plain(value, lang)
    if not text.isprintable():  # a value fills a place in a sentence: it cannot start a line or a column of its own
        text = _BREAKS.sub(" ", text)
    return text if len(text) <= MAX_RENDERED else text[: MAX_RENDERED - 1] + "…"


_DAY_WORDS = {"en": {-1: "{t} yesterday", 0: "{t} today", 1: "{t} tomorrow"}, "zh": {-1: "昨天 {t}", 0: "今天 {t}", 1: "明天 {t}"}}


def relative_time(value: datetime, as_of: datetime, lang: str) -> str:
    """A time as a reader at ``as_of`` says it: "15:30 yesterday" / "昨天 15:30" within a day of it, else date and time."""
    try:
        local = value.astimezone(as_of.tzinfo) if value.tzinfo is not None and as_of.tzinfo is not None else value
    except (OverflowError, ValueError):  # a time at the calendar's edge has no neighbour in another zone: as written
        local = value
    days = (local.date() - as_of.date()).days
    words = _DAY_WORDS.get(lang, _DAY_WORDS["en"])
    return words[days].format(t=local.strftime("%H:%M")) if days in words else local.strftime("%Y-%m-%d %H:%M")


def closer(left: str, right: str) -> str:
    """``left`` as it stands before ``right`` in a sentence: the space it ends with dropped between two Chinese characters.

    A template keeps a space before a time ("本应在 {due} 前", for 2024-03-04 15:30); when the time is said
    as a day (昨天 15:30), no space stands between two Chinese words: 本应在昨天 15:30 前.
    """
    if left.endswith(" ") and _chinese(left[-2:-1]) and _chinese(right[:1]):
        return left[:-1]
    return left


def set_in_chinese(text: str) -> str:
    """Text set between Chinese words: a space on each side where it starts or ends with a digit or a letter (在 2024-03-04 15:30 前, 在今天 15:30 前)."""
    return ("" if _chinese(text[:1]) else " ") + text + ("" if _chinese(text[-1:]) else " ")


def _chinese(ch: str) -> bool:
    """Whether a character is a Chinese one (or Chinese punctuation): above the ideographic space."""
    return ch > "\u3000"


def _plain(value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if isinstance(value, (dict, list)) or hasattr(value, "model_fields"):
        return "…"
    try:
        return str(value)
    except ValueError:  # a whole number too long for Python to print (sys.get_int_max_str_digits)
        return "…"


_Slot = tuple[str, str, bool, "str | None", "factlib.FactSpec | None"]
"""A field of a template as `fill` fills it: its name, the key it reads, whether from the parameters, its filter, its fact's spec."""
Plan = tuple["str | _Slot", ...]
"""A parsed template with each field's key and fact spec looked up once: what `fill` reads."""
_PLANS: dict[str, Plan] = {}
_MAX_PLANS = 8192
"""As parse's cache: a pack has a few hundred templates."""


def plan(template: str) -> Plan:
    """The plan of a template's text, made once: looked up by the text, whose hash Python keeps, where a parsed template's is computed anew."""
    found = _PLANS.get(template)
    if found is not None:
        return found
    catalog = factlib.catalog()
    made: list[str | _Slot] = []
    for part in parse(template):
        if isinstance(part, str):
            made.append(part)
        elif part[0].startswith("params."):
            made.append((part[0], part[0][7:], True, part[1], None))
        else:
            made.append((part[0], part[0], False, part[1], catalog.get(part[0])))
    found = tuple(made)
    if len(_PLANS) < _MAX_PLANS:
        _PLANS[template] = found
    return found


def fill(plan: Plan, facts: Mapping[str, Any], params: Mapping[str, Any], lang: str, *, strict: bool = False) -> str | None:
    """Fill a template's `plan`; with ``strict``, an unknown value makes the whole text None."""
    if len(plan) == 1 and type(plan[0]) is str:
        return plan[0]
    out: list[str] = []
    for part in plan:
        if isinstance(part, str):
            out.append(part)
            continue
        name, key, from_params, filt, spec = part
        value = (params if from_params else facts).get(key)
        if value is None:
            if strict:  # a remedy that needs the value is dropped; a bound would read oddly in one
                return None
            bounded = _bounded(facts, name, filt, spec, lang)
            out.append(bounded or UNKNOWN.get(lang, "unknown"))
            continue
        as_of = facts.get("as_of") if isinstance(value, datetime) else None
        if as_of is not None and filt in (None, "datetime") and isinstance(as_of, datetime):
            said = relative_time(value, as_of, lang)  # "should have posted by 15:30 yesterday", said as the reader would
            if out:
                out[-1] = closer(out[-1], said)
            out.append(said)
        elif said_once(value):
            out.append(_formatted(value, filt, spec, lang))
        else:
            out.append(format_value(value, filt, spec, lang))
    return "".join(out)


def said_once(value: Any) -> bool:
    """Whether the words for ``value`` may be kept by the value, as the caches of words here and in why.condition keep them.

    Values that equal one another only when they read the same (a cache's `typed` keeps True, 1
    and 1.0 apart): a pack's parameters, the contract's enum values. Not a time (the same instant in
    two zones is equal, yet reads differently), nor a float zero (0.0 and -0.0 are equal, yet read 0
    and -0), nor a long text (a snapshot's free text, up to its size limit: a cache must not hold megabytes).
    """
    kind = type(value)
    return kind in _SCALARS and not (kind is float and value == 0) and not (kind is str and len(value) > LONGEST_KEPT)


_SCALARS = frozenset({str, int, float, bool, type(None)})
LONGEST_KEPT = 64
"""The longest text whose words are kept."""


@lru_cache(maxsize=4096, typed=True)
def _formatted(value: Any, filt: str | None, spec: factlib.FactSpec | None, lang: str) -> str:
    return format_value(value, filt, spec, lang)


_BOUND_WORDS = {"en": ("at most {}", "at least {}"), "zh": ("至多 {}", "至少 {}")}


def _bounded(facts: Mapping[str, Any], name: str, filt: str | None, spec: factlib.FactSpec | None, lang: str) -> str | None:
    """An unknown value whose known inputs bound it, said as the bound: "at most 200,000.00"."""
    bounds = facts.get(factlib.BOUNDS)
    found = bounds.get(name) if bounds else None
    if found is None:
        return None
    most, least = _BOUND_WORDS.get(lang, _BOUND_WORDS["en"])
    if found.high is not None:
        return most.format(format_value(found.high, filt, spec, lang))
    if found.low is not None:
        return least.format(format_value(found.low, filt, spec, lang))
    return None


def names(parts: tuple[Part, ...]) -> list[str]:
    return [p[0] for p in parts if isinstance(p, tuple)]


def is_time_like(value: Any) -> bool:
    return isinstance(value, (date, datetime))
