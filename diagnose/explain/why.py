"""Explanations an agent can act on: why a rule did or did not fire, what would clear a finding, near misses, a timeline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple

from diagnose.engine.compiled import CAll, CLeaf, CNode, CNot, Tri
from diagnose.pack import templates as textlib
from diagnose.report.model import ClearStep, Event, NearMiss, Unmet
from diagnose.snapshot.facts import catalog, shift

_NEGATE = {
    "==": "!=",
    "!=": "==",
    "<": ">=",
    "<=": ">",
    ">": "<=",
    ">=": "<",
    "in": "not in",
    "not in": "in",
    "exists": "missing",
    "missing": "exists",
}
_SYMPTOMS = {"line.limit_short", "line.restore_gap", "line.available", "request.outcome", "repayments.count"}
"""Facts that show the limit is short rather than why: clearing a cause never means hiding these."""


def show(value: Any, fact: str | None, lang: str) -> str:
    spec = catalog().get(fact) if fact else None
    if isinstance(value, list):
        return ", ".join(textlib.format_value(v, None, spec, lang) for v in value)
    if value is None:
        return textlib.UNKNOWN[lang if lang in textlib.UNKNOWN else "en"]
    return textlib.format_value(value, None, spec, lang)


_SAY = {
    "en": {
        "exists": "known", "missing": "unknown", "between": "between {lo} and {hi}", "outside": "outside {lo} to {hi}",
        "and": " and ", "held": "{held} of {total} conditions hold; fails on ", "none": "none of {total} alternatives holds; closest: ",
        "miss": "{fact}: needed {needed}, found {found}", "compare": "known, to compare with {fact}",
    },
    "zh": {
        "exists": "已知", "missing": "未知", "between": "介于 {lo} 与 {hi} 之间", "outside": "不在 {lo} 至 {hi} 之间",
        "and": " 且 ", "held": "{total} 个条件中 {held} 个成立；未满足：", "none": "{total} 个备选条件均不成立；最接近的是：",
        "miss": "{fact}：需要 {needed}，实际 {found}", "compare": "已知，用于与 {fact} 比较",
    },
}  # fmt: skip


def _say(lang: str, key: str, **values: Any) -> str:
    return _SAY.get(lang, _SAY["en"])[key].format(**values)


def condition(op: str, expected: Any, fact: str, lang: str, param: str | None = None) -> str:
    """`<= 5%` or `between 1 and 3`, with the parameter it came from."""
    if op in ("exists", "missing"):
        return _say(lang, op)
    if op in ("between", "outside"):
        lo, hi = expected
        shown = _say(lang, op, lo=show(lo, fact, lang), hi=show(hi, fact, lang))
    else:
        shown = f"{op} {show(expected, fact, lang)}"
    return shown + (f" ({param})" if param else "")


# --- the tree of one rule -----------------------------------------------------------------


class WhyNode(NamedTuple):
    """One node of a rule's condition with its result; leaves carry the comparison and how far it is from holding."""

    kind: str
    result: Tri
    children: tuple[WhyNode, ...] = ()
    fact: str | None = None
    op: str | None = None
    expected: Any = None
    actual: Any = None
    param: str | None = None
    ref: str | None = None
    distance: float | None = None

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "result": self.result}
        if self.kind == "leaf":
            out |= {
                "fact": self.fact,
                "op": self.op,
                "expected": _plain(self.expected),
                "actual": _plain(self.actual),
                "param": self.param,
                "ref": self.ref,
                "distance": None if self.distance is None else round(self.distance, 4),
            }
        else:
            out["children"] = [c.to_dict(lang) for c in self.children]
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _room_below(fact: str, threshold: float, failing_below: bool) -> float:
    """The scale of a miss: for ratios and percentages the room on the failing side, else the threshold itself."""
    spec = catalog().get(fact)
    if spec is not None and spec.unit in ("ratio", "pct"):
        bound = spec.minimum if failing_below else spec.maximum
        if bound is not None and bound != threshold:
            return abs(threshold - bound)
    return abs(threshold) or 1.0


def leaf_distance(fact: str, op: str, expected: Any, actual: Any, result: Tri) -> float | None:
    """0 when the leaf holds; for a failed numeric comparison, the gap over the fact's room on that side (at most 1); else 1.

    A comparison with zero (`restore_gap > 0`, `overdue_days >= 1` at 0) asks whether something
    exists at all, so missing it is never "close".
    """
    if result is None:
        return None
    if result:
        return 0.0
    numeric = isinstance(actual, (int, float)) and not isinstance(actual, bool)
    if numeric and op in ("<", "<=", ">", ">=") and isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if expected == 0 or (expected == 1 and op == ">=" and actual == 0):
            return 1.0
        below = op in (">", ">=")
        gap = (expected - actual) if below else (actual - expected)
        return min(1.0, max(gap, 0.0) / _room_below(fact, float(expected), below)) or 1e-9
    if numeric and op == "between":
        lo, hi = expected
        gap = lo - actual if actual < lo else actual - hi
        return min(1.0, gap / max(abs(hi - lo), 1.0)) or 1e-9
    return 1.0


def why(node: CNode, f: Mapping[str, Any]) -> WhyNode:
    """The whole tree with every node's result and every leaf's actual value."""
    if isinstance(node, CLeaf):
        r = node.test(f)
        expected = f.get(node.ref) if node.ref is not None else node.expected
        actual = f.get(node.fact)
        return WhyNode(
            "leaf",
            r,
            (),
            node.fact,
            node.op,
            expected,
            actual,
            node.param,
            node.ref,
            leaf_distance(node.fact, node.op, expected, actual, r),
        )
    if isinstance(node, CNot):
        kid = why(node.child, f)
        r = None if kid.result is None else not kid.result
        return WhyNode("not", r, (kid,), distance=None if r is None else 0.0 if r else 1.0)
    kids = tuple(why(c, f) for c in node.children)
    r = node.test(f)
    known = [k.distance for k in kids if k.distance is not None]
    if isinstance(node, CAll):
        dist = None if r is None else sum(known)
        return WhyNode("all", r, kids, distance=min(dist, 1.0) if dist is not None else None)
    dist = None if r is None else min(known) if known else 1.0
    return WhyNode("any", r, kids, distance=dist)


def leaves(node: WhyNode) -> list[WhyNode]:
    if node.kind == "leaf":
        return [node]
    return [leaf for child in node.children for leaf in leaves(child)]


def failing(node: WhyNode) -> list[WhyNode]:
    """The leaves that keep a false node false (for `any`, the closest alternative only)."""
    if node.result is not False:
        return []
    if node.kind == "leaf":
        return [node]
    if node.kind == "not":
        return [leaf for leaf in leaves(node.children[0]) if leaf.result is True]
    if node.kind == "all":
        return [leaf for child in node.children if child.result is False for leaf in failing(child)]
    closest = min((c for c in node.children if c.result is False), key=lambda c: c.distance if c.distance is not None else 1.0)
    return failing(closest)


def nearest_miss(root: WhyNode, lang: str = "en") -> str:
    """One line: how close a rule that did not fire came to firing."""
    parts = [
        _say(
            lang,
            "miss",
            fact=leaf.fact,
            needed=condition(leaf.op or "", leaf.expected, leaf.fact or "", lang, leaf.param),
            found=show(leaf.actual, leaf.fact, lang),
        )
        for leaf in failing(root)
    ]
    joined = "; ".join(parts)
    if root.kind == "all":
        held = sum(1 for c in root.children if c.result is True)
        return _say(lang, "held", held=held, total=len(root.children)) + joined
    if root.kind == "any":
        return _say(lang, "none", total=len(root.children)) + joined
    return joined


def would_fire_if(root: WhyNode, lang: str = "en") -> list[Unmet]:
    """For an undetermined rule: each unknown fact and the value that would make its condition hold."""
    needed: dict[str, list[str]] = {}
    for leaf in leaves(root):
        if leaf.result is None and leaf.fact is not None:
            if leaf.actual is None:
                needed.setdefault(leaf.fact, []).append(condition(leaf.op or "", leaf.expected, leaf.fact, lang, leaf.param))
            elif leaf.ref is not None:
                needed.setdefault(leaf.ref, []).append(_say(lang, "compare", fact=leaf.fact))
    return [Unmet(fact, _say(lang, "and").join(dict.fromkeys(conds))) for fact, conds in needed.items()]


def near_misses(rules: list[tuple[str, str, WhyNode]], lang: str, threshold: float = 0.2) -> list[NearMiss]:
    """Rules that are false but within `threshold` of firing, closest first."""
    out = []
    for rule_id, title, root in rules:
        if root.result is False and root.distance is not None and root.distance <= threshold:
            out.append(NearMiss(rule_id, title, round(root.distance, 4), nearest_miss(root, lang)))
    return sorted(out, key=lambda m: (m.distance, m.rule_id))


# --- what would clear a finding ---------------------------------------------------------

_GROWING_DAYS = {
    "credit.days_since_cure",
    "policy.days_since_change",
    "line.temporary_limit.days_since_expiry",
    "line.days_since_last_draw",
}
_DUE = {
    "system.maintenance_active": "system.maintenance_ends_at",
    "system.batch_active": "system.batch_ends_at",
    "repayments.unposted_hours_instant": "repayments.unposted_due_at",
    "repayments.unposted_hours_interbank": "repayments.unposted_due_at",
    "repayments.oldest_unposted_hours": "repayments.unposted_due_at",
}


def _eta(fact: str, op: str, expected: Any, f: Mapping[str, Any]) -> datetime | date | None:
    """When the condition stops holding by itself, if the snapshot says."""
    if fact in _DUE:
        due = f.get(_DUE[fact])
        return due if isinstance(due, datetime) else None
    today = f.get("calendar.date")
    actual = f.get(fact)
    if not isinstance(today, date) or not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
        return None
    if fact in _GROWING_DAYS and op in ("<=", "<"):
        days = int(expected - actual) + (1 if op == "<=" else 0)
        return shift(today, timedelta(days=max(days, 0)))
    if fact == "calendar.days_to_quarter_end" and op in ("<=", "<"):
        return shift(today, timedelta(days=int(actual) + 1))
    return None


class _Change(NamedTuple):
    """A change of one fact: the comparison it must come to meet, said in words only once it is chosen."""

    fact: str
    op: str
    expected: Any
    label: str | None
    eta: datetime | date | None


def _clear(node: CNode, f: Mapping[str, Any], want: bool) -> list[_Change] | None:
    """The smallest set of changes that makes ``node`` evaluate to ``want`` (None if the snapshot cannot say)."""
    current = node.test(f)
    if current is want:
        return []
    if isinstance(node, CLeaf):
        expected = f.get(node.ref) if node.ref is not None else node.expected
        op = node.op if want else _NEGATE.get(node.op, node.op)
        if node.op == "between" and not want:
            op = "outside"
        shown = expected
        if isinstance(expected, bool) and op == "!=":  # "!= yes" reads better as "== no"
            op, shown = "==", not expected
        return [_Change(node.fact, op, shown, node.param or node.ref, _eta(node.fact, node.op, expected, f) if not want else None)]
    if isinstance(node, CNot):
        return _clear(node.child, f, not want)
    kids = node.children
    need_every = isinstance(node, CAll) == want  # all->true and any->false need every child changed
    options = [_clear(k, f, want) for k in kids]
    if need_every:
        steps: list[_Change] = []
        for opt in options:
            if opt is None:
                return None
            steps += opt
        return steps
    viable = [o for o in options if o]
    if len(viable) < 2:
        return viable[0] if viable else None
    return min(viable, key=_cost)


def _cost(steps: list[_Change]) -> tuple[int, int, int]:
    symptom = sum(1 for s in steps if s.fact in _SYMPTOMS)
    no_eta = sum(1 for s in steps if s.eta is None)
    return (symptom, no_eta, len(steps))


def clears_when(node: CNode, f: Mapping[str, Any], lang: str) -> list[ClearStep]:
    """What would clear a finding: the fewest fact changes, preferring causes with a known time."""
    out = []
    for step in _clear(node, f, False) or ():
        needed = condition(step.op, step.expected, step.fact, lang, step.label)
        out.append(ClearStep(step.fact, needed, _iso(step.eta), plain_step(step, needed, f, lang)))
    return out


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


_PHRASES: dict[str, tuple[str, str]] = {
    "loans.max_overdue_days": ("repay the overdue {loans.overdue_amount|money}", "还清逾期款项 {loans.overdue_amount|money}"),
    "credit.other_products_overdue_days": ("clear the overdue on the lender's other products", "还清在本机构其他产品上的逾期"),
    "system.maintenance_active": (
        "wait until maintenance {system.maintenance_notice} ends",
        "等待系统维护 {system.maintenance_notice} 结束",
    ),
    "system.batch_active": ("wait until the nightly batch ends", "等待夜间批处理结束"),
    "repayments.unposted_hours_instant": ("the pending repayment should post", "待入账的还款应完成入账"),
    "repayments.unposted_hours_interbank": ("the interbank repayment should post", "跨行转账还款应完成入账"),
    "credit.days_since_cure": ("the cooling-off period after the cured overdue ends", "逾期结清后的观察期结束"),
    "calendar.days_to_quarter_end": ("the quarter-end funding squeeze passes", "季末资金紧张期过去"),
    "policy.days_since_change": ("the tightened policy is no longer recent", "政策收紧期过去"),
    "line.temporary_limit.days_since_expiry": ("the temporary limit's end no longer explains the drop", "临时额度到期的影响期结束"),
    "funding.funder_quota_remaining_pct": ("the funding partner's quota is replenished", "合作资金方补充放款额度"),
    "funding.regional_pool_utilization": ("the regional funding pool frees up", "地区资金池释放额度"),
    "funding.funder_paused": (
        "the funder resumes lending or the line is routed to another funder",
        "资金方恢复放款或将额度切换至其他资金方",
    ),
    "system.open_incidents": ("the open incident is resolved", "故障处理完毕"),
    "system.ledger_sync_lag_minutes": ("the ledger copy catches up", "账务数据同步追平"),
    "line.evaluation.in_progress": ("the limit re-evaluation completes", "额度重新评估完成"),
    "account.kyc.status": ("complete real-name verification again", "重新完成实名认证"),
    "account.id_days_left": ("update the expired identity document", "更新已过期的身份证件"),
    "account.kyc.phone_status": ("re-verify the bound phone number", "重新验证绑定手机号"),
    "account.bound_card_status": ("bind a valid bank card", "绑定一张有效的银行卡"),
    "account.security.frozen": ("pass the security verification to lift the freeze", "通过安全验证解除冻结"),
    "line.auto_renewal.result": ("renew the line (re-apply or retry the renewal)", "重新续期额度（重新申请或重试续期）"),
    "credit.bureau.data_age_days": ("refresh the credit-report data", "更新征信数据"),
    "credit.bureau.delinquent_accounts": ("settle the delinquent accounts at other lenders", "结清在其他机构的逾期账户"),
    "credit.dti": ("lower monthly debt service relative to income", "降低月还款额占收入的比例"),
    "line.status": ("the line is reactivated or renewed", "额度恢复或续期"),
    "line.days_to_expiry": ("renew the line", "为额度办理续期"),
    "line.type": ("apply for a revolving line", "申请可循环使用的额度"),
    "line.migrated_to": ("use the line on the new product", "在迁移后的新产品上使用额度"),
    "line.first_draw_on": ("apply for the line again", "重新申请额度"),
    "line.first_draw_due_on": ("apply for the line again", "重新申请额度"),
    "line.active_draws": ("repay some of the open draws", "结清部分未还借款"),
    "line.limit_cut_pct": ("the limit is raised again at a review", "在额度复评中恢复额度"),
    "request.amount": ("ask for at most {line.single_draw_cap|money} in one draw", "单笔借款金额不超过 {line.single_draw_cap|money}"),
    "repayments.last_posted.applied_to_fees": (
        "repay the interest and fees, then the principal comes back as limit",
        "先还清利息费用，之后的还款会恢复额度",
    ),
    "credit.cashout_flag": ("the review of the use of funds is closed", "资金用途核查结束"),
    "credit.tier_drop": ("the risk rating recovers at the next review", "在下次评估中恢复风险等级"),
    "credit.score_drop_30d": ("the risk score recovers at the next review", "在下次评估中恢复信用评分"),
    "credit.total_online_outstanding": (
        "repay online credit below {policy.regulatory_cap|money}",
        "将网络贷款余额降至 {policy.regulatory_cap|money} 以下",
    ),
    "credit.bureau.hard_inquiries_1m": ("fewer credit-report queries in the coming weeks", "近期减少征信查询"),
    "credit.bureau.hard_inquiries_3m": ("fewer credit-report queries in the coming months", "未来几个月减少征信查询"),
    "credit.bureau.active_lenders": ("repay and close loans with other lenders", "结清并关闭在其他机构的借款"),
    "account.security.device_changes_30d": ("pass the security verification on the usual device", "在常用设备上完成安全验证"),
    "account.security.login_cities_7d": ("pass the security verification", "完成安全验证"),
    "account.student": ("update the student status once studies end", "毕业后更新学生身份"),
    "account.age_years": ("none: the age is outside the product's range", "无：年龄不在产品准入范围内"),
    "funding.funder_local_only": ("the line is routed to a funder that may lend in this region", "将额度切换至可在本地区放款的资金方"),
    "funding.funder_delinquency_rate": (
        "the funder resumes lending or the line is routed to another funder",
        "资金方恢复放款或将额度切换至其他资金方",
    ),
    "system.risk_model.psi": ("the risk model is recalibrated", "风险模型重新校准"),
    "system.risk_model_age_days": ("the risk model is retrained", "风险模型重新训练"),
}


def plain_step(step: _Change, needed: str, f: Mapping[str, Any], lang: str) -> str:
    """One change said plainly, with its time when the snapshot gives one."""
    zh = lang == "zh"
    phrase = _PHRASES.get(step.fact)
    said = textlib.render(textlib.parse(phrase[1] if zh else phrase[0]), f, {}, lang, strict=True) if phrase else None
    if said is None:
        said = f"{step.fact} {needed}"
    if step.eta is not None:
        when = step.eta.strftime("%Y-%m-%d %H:%M") if isinstance(step.eta, datetime) else step.eta.isoformat()
        said += f"（预计 {when}）" if zh else f" (expected by {when})"
    return said


# --- the timeline -------------------------------------------------------------------------

_T = {
    "en": {
        "submitted": "repayment {id} of {amount} submitted ({channel})",
        "posted": "repayment {id} posted: {principal} to principal",
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
            return value.astimezone(tz)
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
            add(r.get("posted_at"), "repayment", "posted", id=rid, principal=money(r.get("applied_to_principal")))
        elif r.get("status") == "failed":
            add(r.get("posted_at") or r.get("submitted_at"), "repayment", "failed", id=rid)
    req = s.get("request") or {}
    add(
        req.get("at"),
        "request",
        "request",
        amount=money(req.get("amount")),
        outcome=_word(req.get("outcome"), lang) + (f" ({req['error_code']})" if req.get("error_code") else ""),
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


# --- audiences --------------------------------------------------------------------------

AUDIENCES = ("customer", "agent", "institution", "all")


def _internal_terms(f: Mapping[str, Any]) -> list[str]:
    """Names a customer must not read: the funder's id and the lender's incident ids."""
    terms = [f.get("funding.funder"), f.get("funding.funder_pause_reason")]
    terms += [i.get("id") for i in f.get("system.incidents") or [] if isinstance(i, dict)]
    return sorted({t for t in terms if isinstance(t, str) and len(t) >= 3}, key=len, reverse=True)


def _scrub(text: str, terms: list[str], lang: str) -> str:
    for term in terms:
        text = text.replace(term, "合作机构" if lang == "zh" else "our partner")
    return text


def for_audience(report: Any, audience: str, f: Mapping[str, Any]) -> Any:
    """The report as one reader may see it.

    customer: explanations and the customer's remedies only, no evidence, no undecided rules,
    internal names replaced; agent: everything but the institution's remedies; institution:
    evidence and the institution's remedies.
    """
    from dataclasses import replace

    from diagnose.report.model import Remedies

    if audience == "all":
        return report
    lang = report.lang
    terms = _internal_terms(f) if audience == "customer" else []
    findings = []
    for finding in report.findings:
        rem = finding.remedies
        if audience == "customer":
            customer_safe = True
            remedies = Remedies([_scrub(t, terms, lang) for t in rem.customer], [], [])
            said = [replace(c, text=_scrub(c.text, terms, lang)) for c in finding.clears_when if c.fact not in c.text]
            finding = replace(
                finding,
                title=_scrub(finding.title, terms, lang),
                explanation=_scrub(finding.explanation, terms, lang) if customer_safe else "",
                evidence=[],
                remedies=remedies,
                clears_when=said,
            )
        elif audience == "agent":
            finding = replace(finding, remedies=Remedies(rem.customer, rem.agent, []))
        else:
            finding = replace(finding, remedies=Remedies([], [], rem.institution))
        findings.append(finding)
    if audience == "customer":
        return replace(report, findings=findings, undetermined=[], near_misses=[], warnings=[], audience=audience)
    return replace(report, findings=findings, audience=audience)


# --- `diagnose why`: one rule, the whole tree ----------------------------------------------

_MARK = {True: "✔", False: "✘", None: "?"}
_WHY = {
    "en": {
        True: "fires", False: "does not fire", None: "undetermined (data missing)", "result": "result", "actual": "actual",
        "held": "{held} of {total} hold", "miss": "nearest miss", "decide": "would be decided by", "fires_if": "fires if",
        "clear": "would clear when",
    },
    "zh": {
        True: "成立", False: "不成立", None: "无法判断（缺少数据）", "result": "结果", "actual": "实际",
        "held": "{total} 项中 {held} 项成立", "miss": "最接近之处", "decide": "可由以下数据判定", "fires_if": "满足即成立",
        "clear": "满足以下条件即可消除",
    },
}  # fmt: skip


def tree_lines(node: WhyNode, lang: str = "en") -> list[str]:
    """The condition tree as text: each node's result, each leaf's threshold against its actual value."""

    words = _WHY.get(lang, _WHY["en"])

    def head(n: WhyNode) -> str:
        if n.kind == "leaf":
            needed = condition(n.op or "", n.expected, n.fact or "", lang, n.param or n.ref)
            return f"{_MARK[n.result]} {n.fact} {needed}: {words['actual']} {show(n.actual, n.fact, lang)}"
        held = sum(1 for c in n.children if c.result is True)
        if n.kind == "not":
            return f"{_MARK[n.result]} NOT"
        return f"{_MARK[n.result]} {n.kind.upper()} ({str(words['held']).format(held=held, total=len(n.children))})"

    lines: list[str] = []

    def walk(n: WhyNode, prefix: str, last: bool, root: bool) -> None:
        lines.append(head(n) if root else f"{prefix}{'└── ' if last else '├── '}{head(n)}")
        child_prefix = "" if root else prefix + ("    " if last else "│   ")
        for i, c in enumerate(n.children):
            walk(c, child_prefix, i == len(n.children) - 1, False)

    walk(node, "", True, True)
    return lines


def why_report(rule: Any, node: CNode, f: Mapping[str, Any], lang: str, title: str) -> dict[str, Any]:
    """Everything `diagnose why` says about one rule on one snapshot, as data."""
    root = why(node, f)
    out: dict[str, Any] = {"rule_id": rule.id, "title": title, "result": root.result, "tree": root.to_dict(lang)}
    if root.result is True:
        out["clears_when"] = [c.to_dict() for c in clears_when(node, f, lang)]
    elif root.result is False:
        out["nearest_miss"] = nearest_miss(root, lang)
        out["distance"] = None if root.distance is None else round(root.distance, 4)
    else:
        out["would_fire_if"] = [u.to_dict() for u in would_fire_if(root, lang)]
    return out


def why_text(data: Mapping[str, Any], root: WhyNode, lang: str = "en") -> str:
    words = _WHY.get(lang, _WHY["en"])
    lines = [f"{data['rule_id']}: {data['title']}", f"{words['result']}: {words[data['result']]}", ""]
    lines += tree_lines(root, lang)
    if "nearest_miss" in data:
        lines += ["", f"{words['miss']}: {data['nearest_miss']}"]
    if data.get("would_fire_if"):
        lines += ["", f"{words['decide']}:"] + [f"  {u['fact']}: {words['fires_if']} {u['needed']}" for u in data["would_fire_if"]]
    if data.get("clears_when"):
        lines += ["", f"{words['clear']}:"] + [f"  {c['text']}" for c in data["clears_when"]]
    return "\n".join(lines) + "\n"
