"""What would clear a finding: the smallest change to the facts, said plainly, with its time when known."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from diagnose.engine.conditions import CAll, CLeaf, CNode, CNot
from diagnose.explain.why import SYMPTOMS, condition
from diagnose.pack import templates as textlib
from diagnose.records import ClearStep
from diagnose.snapshot.facts import shift
from diagnose.vocab import NEGATE

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
        op = node.op if want else NEGATE.get(node.op, node.op)
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
    symptom = sum(1 for s in steps if s.fact in SYMPTOMS)
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
