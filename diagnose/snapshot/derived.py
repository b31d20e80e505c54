"""Derived facts declared once, as data: what each is, the snapshot fields it is computed from, the step of
`facts.derive` that computes it, and the en/zh words of the change that would clear a condition on it.

`facts` builds the fact catalog and `to_collect` from these rows; `explain.clearing` words clear
steps from `clear` (and from `FIELD_CLEAR` for plain snapshot fields). A pack words its own facts
with `clear_steps:` in pack.yaml, which comes first. A `clear` text is a template: it may name facts.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

Kind = Literal["number", "string", "bool", "enum", "date", "datetime", "time", "list", "object"]
Step = Literal["line", "repayments", "loans", "credit", "policy", "system", "account", "calendar"]
"""The part of `facts.derive` that computes a fact (`_derive_line`, `_derive_repayments`, ...)."""


class Derived(NamedTuple):
    """One derived fact."""

    path: str
    kind: Kind
    description: str
    unit: str | None = None
    inputs: tuple[str, ...] = ()
    by: Step = "line"
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] = ()
    clear: tuple[str, str] | None = None
    """How to say, in en and zh, the change that clears a condition on this fact."""


_CHANNELS = ("balance", "bank_card", "auto_debit", "interbank")

DERIVED: tuple[Derived, ...] = (
    Derived('line.restore_gap', 'number', 'max(0, total_limit - used - available): limit that should be drawable but is not', unit='money', inputs=('line.total_limit', 'line.used', 'line.available'), by='line', minimum=0),
    Derived('line.utilization', 'number', 'used / total_limit', unit='ratio', inputs=('line.used', 'line.total_limit'), by='line', minimum=0),
    Derived('line.limit_cut_pct', 'number', '1 - total_limit / previous_total_limit when the limit went down, else 0', unit='ratio', inputs=('line.total_limit', 'line.previous_total_limit'), by='line', minimum=0, maximum=1, clear=('the limit is raised again at a review', '在额度复评中恢复额度')),
    Derived('line.days_to_expiry', 'number', 'days from as_of to expires_on (negative when past)', unit='days', inputs=('line.expires_on',), by='line', clear=('renew the line', '为额度办理续期')),
    Derived('line.days_since_last_draw', 'number', 'days from last_draw_on to as_of', unit='days', inputs=('line.last_draw_on',), by='line'),
    Derived('line.temporary_limit.days_to_expiry', 'number', 'days from as_of to temporary_limit.expires_on (negative when past)', unit='days', inputs=('line.temporary_limit.expires_on',), by='line'),
    Derived('line.temporary_limit.days_since_expiry', 'number', 'days since temporary_limit.expires_on (negative while it still runs)', unit='days', inputs=('line.temporary_limit.expires_on',), by='line', clear=("the temporary limit's end no longer explains the drop", '临时额度到期的影响期结束')),
    Derived('line.evaluation.hours_running', 'number', 'hours since the running re-evaluation started', unit='hours', inputs=('line.evaluation.started_at',), by='line'),
    Derived('line.limit_short', 'bool', 'restore_gap > 0 or the last request was refused', by='line'),
    Derived('repayments.unposted_amount', 'number', 'sum of pending repayments', unit='money', inputs=('repayments',), by='repayments', minimum=0),
    Derived('repayments.oldest_unposted_hours', 'number', 'hours since the oldest pending repayment was submitted (0 if none)', unit='hours', inputs=('repayments',), by='repayments', minimum=0),
    Derived('repayments.unposted_hours_instant', 'number', 'hours since the oldest pending balance, bank_card or auto_debit repayment was submitted (0 if none)', unit='hours', inputs=('repayments',), by='repayments', minimum=0, clear=('the pending repayment should post', '待入账的还款应完成入账')),
    Derived('repayments.unposted_hours_interbank', 'number', 'hours since the oldest pending interbank repayment was submitted (0 if none)', unit='hours', inputs=('repayments',), by='repayments', minimum=0, clear=('the interbank repayment should post', '跨行转账还款应完成入账')),
    Derived('repayments.oldest_unposted_id', 'string', 'id of the oldest pending repayment', by='repayments'),
    Derived('repayments.oldest_unposted_channel', 'enum', 'channel of the oldest pending repayment', by='repayments', values=_CHANNELS),
    Derived('repayments.oldest_unposted_submitted_at', 'datetime', 'when the oldest pending repayment was submitted', by='repayments'),
    Derived('repayments.unposted_due_at', 'datetime', 'when the oldest pending repayment should have posted (2 h instant channels, 72 h interbank)', inputs=('repayments',), by='repayments'),
    Derived('repayments.last_posted', 'object', 'the most recent posted repayment', by='repayments'),
    Derived('repayments.last_posted.amount', 'number', 'amount of the most recent posted repayment', unit='money', inputs=('repayments',), by='repayments', minimum=0),
    Derived('repayments.last_posted.applied_to_principal', 'number', 'part of it that reduced principal', unit='money', inputs=('repayments',), by='repayments', minimum=0),
    Derived('repayments.last_posted.applied_to_fees', 'number', 'part of it that went to interest and fees', unit='money', inputs=('repayments',), by='repayments', minimum=0, clear=('repay the interest and fees, then the principal comes back as limit', '先还清利息费用，之后的还款会恢复额度')),
    Derived('repayments.last_posted.id', 'string', 'id of the most recent posted repayment', inputs=('repayments',), by='repayments'),
    Derived('repayments.last_posted.posted_at', 'datetime', 'when it posted', inputs=('repayments',), by='repayments'),
    Derived('repayments.last_posted.days_ago', 'number', 'days from when it posted (else was submitted) to as_of', unit='days', inputs=('repayments',), by='repayments'),
    Derived('repayments.last_posted.channel', 'enum', 'its channel', inputs=('repayments',), by='repayments', values=_CHANNELS),
    Derived('repayments.count', 'number', 'number of repayments in the snapshot', unit='count', inputs=('repayments',), by='repayments', minimum=0),
    Derived('loans.max_overdue_days', 'number', 'worst overdue_days over all loans', unit='days', inputs=('loans',), by='loans', minimum=0, clear=('repay the overdue {loans.overdue_amount|money}', '还清逾期款项 {loans.overdue_amount|money}')),
    Derived('loans.overdue_amount', 'number', 'overdue_amount summed over all loans', unit='money', inputs=('loans',), by='loans', minimum=0),
    Derived('loans.fees_outstanding', 'number', 'fees_outstanding summed over all loans', unit='money', inputs=('loans',), by='loans', minimum=0),
    Derived('loans.overdue_count', 'number', 'loans with overdue_days >= 1', unit='count', inputs=('loans',), by='loans', minimum=0),
    Derived('credit.score_drop_30d', 'number', 'score_30d_ago - score', unit='points', inputs=('credit.score', 'credit.score_30d_ago'), by='credit', clear=('the risk score recovers at the next review', '在下次评估中恢复信用评分')),
    Derived('credit.tier_drop', 'number', 'tiers fallen since previous_tier (positive is worse: B to D is 2)', unit='tiers', inputs=('credit.tier', 'credit.previous_tier'), by='credit', clear=('the risk rating recovers at the next review', '在下次评估中恢复风险等级')),
    Derived('credit.dti', 'number', 'monthly_debt_service / monthly_income', unit='ratio', inputs=('credit.monthly_debt_service', 'credit.monthly_income'), by='credit', minimum=0, clear=('lower monthly debt service relative to income', '降低月还款额占收入的比例')),
    Derived('policy.regulatory_cap', 'number', 'min(per_borrower_cap, income_avg_3y x income_cap_fraction)', unit='money', inputs=('policy.per_borrower_cap', 'credit.income_avg_3y', 'policy.income_cap_fraction'), by='policy', minimum=0),
    Derived('policy.days_since_change', 'number', 'days from changed_on to as_of', unit='days', inputs=('policy.changed_on',), by='policy', clear=('the tightened policy is no longer recent', '政策收紧期过去')),
    Derived('system.maintenance_active', 'bool', 'as_of inside a window of scope lending, limit or all', inputs=('system.maintenance',), by='system', clear=('wait until maintenance {system.maintenance_notice} ends', '等待系统维护 {system.maintenance_notice} 结束')),
    Derived('system.maintenance_ends_at', 'datetime', 'end of the active maintenance window', by='system'),
    Derived('system.maintenance_notice', 'string', 'notice of the active maintenance window', by='system'),
    Derived('system.batch_active', 'bool', "as_of, read in the lender's time zone, inside the batch window", inputs=('system.batch_window.start', 'system.batch_window.end'), by='system', clear=('wait until the nightly batch ends', '等待夜间批处理结束')),
    Derived('system.batch_ends_at', 'datetime', 'when the running batch window ends', by='system'),
    Derived('system.open_incidents', 'number', 'incidents with resolved_at null', unit='count', inputs=('system.incidents',), by='system', minimum=0, clear=('the open incident is resolved', '故障处理完毕')),
    Derived('system.open_incident_ids', 'string', 'ids of the open incidents, comma-separated', by='system'),
    Derived('system.open_incident_components', 'list', 'the components the open incidents name, sorted (for `intersects`)', inputs=('system.incidents',), by='system', clear=('the open incident is resolved', '故障处理完毕')),
    Derived('system.open_incidents_unscoped', 'number', 'open incidents that name no components: they may touch anything', unit='count', inputs=('system.incidents',), by='system', minimum=0, clear=('the open incident is resolved, or names components outside lending', '故障处理完毕，或确认其组件与借款无关')),
    Derived('system.risk_model_age_days', 'number', 'days from risk_model.trained_on to as_of', unit='days', inputs=('system.risk_model.trained_on',), by='system', clear=('the risk model is retrained', '风险模型重新训练')),
    Derived('account.id_days_left', 'number', 'days from as_of to kyc.id_expires_on (negative when past)', unit='days', inputs=('account.kyc.id_expires_on',), by='account', clear=('update the expired identity document', '更新已过期的身份证件')),
    Derived('calendar.days_to_quarter_end', 'number', 'days from as_of to the end of its calendar quarter', unit='days', by='calendar', minimum=0, clear=('the quarter-end funding squeeze passes', '季末资金紧张期过去')),
    Derived('calendar.date', 'date', "as_of's date in the lender's time zone (as_of's own offset when no zone is known)", by='calendar'),
    Derived('calendar.time', 'time', "as_of's time of day HH:MM in the lender's time zone", inputs=('system.timezone',), by='calendar'),
    Derived('calendar.timezone', 'string', "the lender's time zone clock times are read in: system.timezone, else the currency's default", by='calendar'),)  # fmt: skip

FIELD_CLEAR: dict[str, tuple[str, str]] = {
    "credit.other_products_overdue_days": ("clear the overdue on the lender's other products", "还清在本机构其他产品上的逾期"),
    "credit.days_since_cure": ("the cooling-off period after the cured overdue ends", "逾期结清后的观察期结束"),
    "funding.funder_quota_remaining_pct": ("the funding partner's quota is replenished", "资金方补充放款额度"),
    "funding.regional_pool_utilization": ("the regional funding pool frees up", "地区资金池释放额度"),
    "funding.funder_paused": (
        "the funder resumes lending or the line is routed to another funder",
        "资金方恢复放款或将额度切换至其他资金方",
    ),
    "system.ledger_sync_lag_minutes": ("the ledger copy catches up", "账务数据同步追平"),
    "line.evaluation.in_progress": ("the limit re-evaluation completes", "额度重新评估完成"),
    "account.kyc.status": ("complete real-name verification again", "重新完成实名认证"),
    "account.kyc.phone_status": ("re-verify the bound phone number", "重新验证绑定手机号"),
    "account.bound_card_status": ("bind a valid bank card", "绑定一张有效的银行卡"),
    "account.security.frozen": ("pass the security verification to lift the freeze", "通过安全验证解除冻结"),
    "line.auto_renewal.result": ("renew the line (re-apply or retry the renewal)", "重新续期额度（重新申请或重试续期）"),
    "credit.bureau.data_age_days": ("refresh the credit-report data", "更新征信数据"),
    "credit.bureau.delinquent_accounts": ("settle the delinquent accounts at other lenders", "结清在其他机构的逾期账户"),
    "line.status": ("the line is reactivated or renewed", "额度恢复或续期"),
    "line.type": ("apply for a revolving line", "申请可循环使用的额度"),
    "line.migrated_to": ("use the line on the new product", "在迁移后的新产品上使用额度"),
    "line.first_draw_on": ("apply for the line again", "重新申请额度"),
    "line.first_draw_due_on": ("apply for the line again", "重新申请额度"),
    "line.active_draws": ("repay some of the open draws", "结清部分未还借款"),
    "request.amount": ("ask for at most {line.single_draw_cap|money} in one draw", "单笔借款金额不超过 {line.single_draw_cap|money}"),
    "credit.cashout_flag": ("the review of the use of funds is closed", "资金用途核查结束"),
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
}
"""The words of the change that clears a condition on a plain snapshot field (en, zh)."""
