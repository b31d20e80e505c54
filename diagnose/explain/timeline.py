"""The snapshot's dated events in order, as_of marked: what happened to the line and when."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from diagnose.pack import templates as textlib
from diagnose.records import Event
from diagnose.snapshot.facts import fields, shift
from diagnose.vocab import bracket

# --- the timeline -------------------------------------------------------------------------

_T = {
    "en": {
        "submitted": "repayment {id} of {amount} submitted ({channel})",
        "posted": "repayment {id} posted: {principal} to principal",
        "posted_plain": "repayment {id} posted",
        "failed": "repayment {id} failed",
        "request": "draw of {amount} {outcome}",
        "limit": "limit changed from {previous} to {total}",
        "policy": "credit policy {version} took effect ({direction})",
        "mnt_start": "maintenance starts ({scope}) {notice}",
        "mnt_end": "maintenance ends {notice}",
        "inc_start": "incident {id} opened ({components})",
        "inc_end": "incident {id} resolved",
        "evaluation": "limit re-evaluation started",
        "last_draw": "last draw",
        "now": "snapshot: available {available} of {total}; {gap} should be available but is not",
        "now_ok": "snapshot: available {available} of {total}",
    },
    "zh": {
        "submitted": "还款 {id} 提交，金额 {amount}（{channel}）",
        "posted": "还款 {id} 入账：{principal} 归还本金",
        "posted_plain": "还款 {id} 入账",
        "failed": "还款 {id} 失败",
        "request": "借款 {amount}：{outcome}",
        "limit": "额度由 {previous} 调整为 {total}",
        "policy": "信贷政策 {version} 生效（{direction}）",
        "mnt_start": "系统维护开始（{scope}）{notice}",
        "mnt_end": "系统维护结束 {notice}",
        "inc_start": "故障 {id} 开始（{components}）",
        "inc_end": "故障 {id} 已解决",
        "evaluation": "额度重新评估开始",
        "last_draw": "最近一次借款",
        "now": "快照时刻：可用 {available}，额度 {total}；应恢复未恢复 {gap}",
        "now_ok": "快照时刻：可用 {available}，额度 {total}",
    },
}


def _word(value: Any, lang: str) -> str:
    if value is None:
        return ""
    return textlib.ENUM_ZH.get(str(value), str(value)) if lang == "zh" else str(value)


def timeline(s: Mapping[str, Any], lang: str, *, days: int = 45, limit: int = 24) -> list[Event]:
    """The snapshot's dated events in order, `as_of` marked, over the last ``days`` days (the latest ``limit``)."""
    now: datetime = s["as_of"]
    tz = now.tzinfo
    words = _T.get(lang, _T["en"])

    def money(v: Any) -> str:
        return textlib.format_value(v, "money", None, lang) if v is not None else "?"

    def at(value: Any) -> datetime | None:
        if isinstance(value, datetime):
            try:
                return value.astimezone(tz)
            except OverflowError:  # in as_of's zone it would fall outside years 1-9999: shown in its own
                return value
        if isinstance(value, date):
            return datetime.combine(value, time(0, 0), tzinfo=tz)
        return None

    events: list[tuple[datetime, str, str]] = []

    def add(when: Any, kind: str, key: str, **values: Any) -> None:
        moment = at(when)
        if moment is not None:
            events.append((moment, kind, words[key].format(**{k: "" if v is None else v for k, v in values.items()}).strip()))

    for r in s.get("repayments") or []:
        rid = r.get("id") or "?"
        add(r.get("submitted_at"), "repayment", "submitted", id=rid, amount=money(r.get("amount")), channel=_word(r.get("channel"), lang))
        if r.get("status") == "posted":
            principal = r.get("applied_to_principal")  # not known: the posting is said without it, not as "? to principal"
            if principal is None:
                add(r.get("posted_at"), "repayment", "posted_plain", id=rid)
            else:
                add(r.get("posted_at"), "repayment", "posted", id=rid, principal=money(principal))
        elif r.get("status") == "failed":
            add(r.get("posted_at") or r.get("submitted_at"), "repayment", "failed", id=rid)
    req = fields(s.get("request"))
    add(
        req.get("at"),
        "request",
        "request",
        amount=money(req.get("amount")),
        outcome=_word(req.get("outcome"), lang) + (bracket(str(req["error_code"]), lang) if req.get("error_code") else ""),
    )
    line = s["line"]
    if line.get("previous_total_limit") is not None and line.get("previous_total_limit") != line["total_limit"]:
        add(line.get("limit_changed_on"), "limit", "limit", previous=money(line["previous_total_limit"]), total=money(line["total_limit"]))
    add(line.get("last_draw_on"), "draw", "last_draw")
    add((line.get("evaluation") or {}).get("started_at"), "evaluation", "evaluation")
    pol = s.get("policy") or {}
    add(pol.get("changed_on"), "policy", "policy", version=pol.get("version") or "", direction=_word(pol.get("direction"), lang))
    sysm = s.get("system") or {}
    for w in sysm.get("maintenance") or []:
        add(w.get("start"), "maintenance", "mnt_start", scope=_word(w.get("scope"), lang), notice=w.get("notice") or "")
        add(w.get("end"), "maintenance", "mnt_end", notice=w.get("notice") or "")
    for i in sysm.get("incidents") or []:
        add(i.get("started_at"), "incident", "inc_start", id=i.get("id") or "?", components=", ".join(i.get("components") or []))
        add(i.get("resolved_at"), "incident", "inc_end", id=i.get("id") or "?")
    gap = max(0.0, line["total_limit"] - line["used"] - line["available"])
    key = "now" if gap > 0 else "now_ok"
    add(now, "as_of", key, available=money(line["available"]), total=money(line["total_limit"]), gap=money(gap))
    start = shift(now, timedelta(days=-days)) or datetime.min.replace(tzinfo=tz)
    kept = sorted((e for e in events if e[0] >= start or e[1] == "as_of"), key=lambda e: (e[0], e[1] != "as_of"))
    if len(kept) > limit:
        kept = kept[-limit:]
    return [Event(moment.isoformat(), kind, label) for moment, kind, label in kept]
