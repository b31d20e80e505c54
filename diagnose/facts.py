"""Facts: every snapshot field by dotted path, plus the derived facts of CAUSES.md, against as_of."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal, Union

from pydantic import BaseModel

from .snapshot import Snapshot

Facts = dict[str, Any]
"""A flat mapping of fact path to value. A path that is absent is unknown."""

Kind = Literal["number", "bool", "string", "enum", "date", "datetime", "time", "list", "object"]


@dataclass(frozen=True)
class FactSpec:
    """What a fact is: its path, kind, unit (money, ratio, pct, days, hours, ...) and meaning."""

    path: str
    kind: Kind
    description: str = ""
    unit: str | None = None
    values: tuple[str, ...] = ()
    derived: bool = False
    minimum: float | None = None
    maximum: float | None = None


# --- the catalog of snapshot fields, read off the models ---------------------------------

_UNITS = {"Money": "money", "Ratio": "ratio", "Pct": "pct", "Count": "count"}


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """Strip Optional and Annotated; return the bare type and its metadata."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            annotation, meta = args[0], meta + list(args[1:])
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation, meta
            annotation = members[0]
        else:
            return annotation, meta


def _bounds(meta: list[Any]) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in meta:
        for item in getattr(m, "metadata", [m]):
            lo = getattr(item, "ge", lo) if getattr(item, "ge", None) is not None else lo
            hi = getattr(item, "le", hi) if getattr(item, "le", None) is not None else hi
    return lo, hi


def _walk_model(model: type[BaseModel], prefix: str) -> Iterator[FactSpec]:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        bare, meta = _unwrap(field.annotation)
        lo, hi = _bounds(meta + list(field.metadata))
        unit = None
        if lo == 0 and hi == 1:
            unit = "ratio"
        elif lo == 0 and hi == 100:
            unit = "pct"
        if isinstance(bare, type) and issubclass(bare, BaseModel):
            yield FactSpec(path, "object", f"the {name} object")
            yield from _walk_model(bare, path + ".")
        elif typing.get_origin(bare) is list:
            yield FactSpec(path, "list", f"the {name} list")
        elif typing.get_origin(bare) is dict:
            yield FactSpec(path, "object", "free-form object")
        elif typing.get_origin(bare) is Literal:
            yield FactSpec(path, "enum", values=tuple(str(v) for v in typing.get_args(bare)))
        elif bare is bool:
            yield FactSpec(path, "bool")
        elif bare is datetime:
            yield FactSpec(path, "datetime")
        elif bare is date:
            yield FactSpec(path, "date")
        elif bare in (int, float):
            if unit is None and lo == 0 and name in _MONEY_NAMES:
                unit = "money"
            elif unit is None and bare is int and lo == 0:
                unit = "count"
            yield FactSpec(path, "number", unit=unit, minimum=lo, maximum=hi)
        elif bare is str and name in ("start", "end") and prefix.endswith("batch_window."):
            yield FactSpec(path, "time")
        else:
            yield FactSpec(path, "string")


_MONEY_NAMES = {
    "total_limit", "used", "available", "previous_total_limit", "amount", "single_draw_cap",
    "applied_to_principal", "applied_to_fees", "principal", "outstanding", "overdue_amount",
    "fees_outstanding", "monthly_income", "monthly_debt_service", "income_avg_3y",
    "total_online_outstanding", "per_borrower_cap",
}  # fmt: skip


def _n(path: str, description: str, unit: str | None = None, **kw: Any) -> FactSpec:
    return FactSpec(path, "number", description, unit=unit, derived=True, **kw)


DERIVED: tuple[FactSpec, ...] = (
    _n("line.restore_gap", "max(0, total_limit - used - available): limit that should be drawable but is not", "money", minimum=0),
    _n("line.utilization", "used / total_limit", "ratio", minimum=0),
    _n("line.limit_cut_pct", "1 - total_limit / previous_total_limit when the limit went down, else 0", "ratio", minimum=0, maximum=1),
    _n("line.days_to_expiry", "days from as_of to expires_on (negative when past)", "days"),
    _n("line.days_since_last_draw", "days from last_draw_on to as_of", "days"),
    _n("line.temporary_limit.days_to_expiry", "days from as_of to temporary_limit.expires_on (negative when past)", "days"),
    _n("line.temporary_limit.days_since_expiry", "days since temporary_limit.expires_on (negative while it still runs)", "days"),
    _n("line.evaluation.hours_running", "hours since the running re-evaluation started", "hours"),
    FactSpec("line.limit_short", "bool", "restore_gap > 0 or the last request was refused", derived=True),
    _n("repayments.unposted_amount", "sum of pending repayments", "money", minimum=0),
    _n("repayments.oldest_unposted_hours", "hours since the oldest pending repayment was submitted (0 if none)", "hours", minimum=0),
    _n("repayments.unposted_hours_instant", "hours since the oldest pending balance, bank_card or auto_debit repayment was submitted (0 if none)", "hours", minimum=0),
    _n("repayments.unposted_hours_interbank", "hours since the oldest pending interbank repayment was submitted (0 if none)", "hours", minimum=0),
    FactSpec("repayments.oldest_unposted_id", "string", "id of the oldest pending repayment", derived=True),
    FactSpec("repayments.oldest_unposted_channel", "enum", "channel of the oldest pending repayment", values=("balance", "bank_card", "auto_debit", "interbank"), derived=True),
    FactSpec("repayments.oldest_unposted_submitted_at", "datetime", "when the oldest pending repayment was submitted", derived=True),
    FactSpec("repayments.unposted_due_at", "datetime", "when the oldest pending repayment should have posted (2 h instant channels, 72 h interbank)", derived=True),
    FactSpec("repayments.last_posted", "object", "the most recent posted repayment", derived=True),
    _n("repayments.last_posted.amount", "amount of the most recent posted repayment", "money", minimum=0),
    _n("repayments.last_posted.applied_to_principal", "part of it that reduced principal", "money", minimum=0),
    _n("repayments.last_posted.applied_to_fees", "part of it that went to interest and fees", "money", minimum=0),
    FactSpec("repayments.last_posted.id", "string", "id of the most recent posted repayment", derived=True),
    FactSpec("repayments.last_posted.posted_at", "datetime", "when it posted", derived=True),
    FactSpec("repayments.last_posted.channel", "enum", "its channel", values=("balance", "bank_card", "auto_debit", "interbank"), derived=True),
    _n("repayments.count", "number of repayments in the snapshot", "count", minimum=0),
    _n("loans.max_overdue_days", "worst overdue_days over all loans", "days", minimum=0),
    _n("loans.overdue_amount", "overdue_amount summed over all loans", "money", minimum=0),
    _n("loans.fees_outstanding", "fees_outstanding summed over all loans", "money", minimum=0),
    _n("loans.overdue_count", "loans with overdue_days >= 1", "count", minimum=0),
    _n("credit.score_drop_30d", "score_30d_ago - score", "points"),
    _n("credit.tier_drop", "tiers fallen since previous_tier (positive is worse: B to D is 2)", "tiers"),
    _n("credit.dti", "monthly_debt_service / monthly_income", "ratio", minimum=0),
    _n("policy.regulatory_cap", "min(per_borrower_cap, income_avg_3y x income_cap_fraction)", "money", minimum=0),
    _n("policy.days_since_change", "days from changed_on to as_of", "days"),
    FactSpec("system.maintenance_active", "bool", "as_of inside a window of scope lending, limit or all", derived=True),
    FactSpec("system.maintenance_ends_at", "datetime", "end of the active maintenance window", derived=True),
    FactSpec("system.maintenance_notice", "string", "notice of the active maintenance window", derived=True),
    FactSpec("system.batch_active", "bool", "as_of's local time inside the batch window", derived=True),
    FactSpec("system.batch_ends_at", "datetime", "when the running batch window ends", derived=True),
    _n("system.open_incidents", "incidents with resolved_at null", "count", minimum=0),
    FactSpec("system.open_incident_ids", "string", "ids of the open incidents, comma-separated", derived=True),
    _n("system.risk_model_age_days", "days from risk_model.trained_on to as_of", "days"),
    _n("account.id_days_left", "days from as_of to kyc.id_expires_on (negative when past)", "days"),
    _n("calendar.days_to_quarter_end", "days from as_of to the end of its calendar quarter", "days", minimum=0),
    FactSpec("calendar.date", "date", "as_of's date, in as_of's own offset", derived=True),
    FactSpec("calendar.time", "time", "as_of's local time of day HH:MM", derived=True),
)  # fmt: skip


@lru_cache(maxsize=1)
def catalog() -> dict[str, FactSpec]:
    """Every fact a rule may read: snapshot fields (read off the models) and derived facts."""
    specs: dict[str, FactSpec] = {}
    for spec in _walk_model(Snapshot, ""):
        specs[spec.path] = spec
    for spec in DERIVED:
        specs[spec.path] = spec
    return specs


def is_fact_path(path: str) -> bool:
    """Known catalog path, or anything below ``extensions`` (free-form, for custom packs)."""
    return path in catalog() or path.startswith("extensions.")


# --- flattening -------------------------------------------------------------------------


def _flatten(model: BaseModel, prefix: str, out: Facts) -> None:
    # __dict__ holds exactly the declared fields (extras live apart), in declaration order.
    for name, value in model.__dict__.items():
        if value is None:
            continue
        path = prefix + name
        out[path] = value
        if isinstance(value, BaseModel):
            _flatten(value, path + ".", out)
        elif type(value) is dict:
            _flatten_free(value, path + ".", out, depth=0)


def _flatten_free(value: dict[str, Any], prefix: str, out: Facts, depth: int) -> None:
    if depth > 8:
        return
    for key, item in value.items():
        if item is None:
            continue
        out[prefix + key] = item
        if isinstance(item, dict):
            _flatten_free(item, f"{prefix}{key}.", out, depth + 1)


# --- derivation -------------------------------------------------------------------------

_INSTANT = ("balance", "bank_card", "auto_debit")
_POSTING_HOURS = {"balance": 2, "bank_card": 2, "auto_debit": 2, "interbank": 72}


def _hours(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 3600, 4)


def _days(a: date, b: date) -> int:
    return (b - a).days


def _quarter_end(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3
    first_next = date(day.year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _in_window(now: time, start: str, end: str) -> bool:
    s, e = time.fromisoformat(start), time.fromisoformat(end)
    if s == e:
        return False
    if s < e:
        return s <= now < e
    return now >= s or now < e  # the window crosses midnight


def _derive_line(s: Snapshot, today: date, f: Facts) -> None:
    line = s.line
    f["line.restore_gap"] = max(0.0, line.total_limit - line.used - line.available)
    if line.total_limit > 0:
        f["line.utilization"] = line.used / line.total_limit
    if line.previous_total_limit is not None and line.previous_total_limit > 0:
        cut = 1 - line.total_limit / line.previous_total_limit
        f["line.limit_cut_pct"] = round(max(0.0, cut), 6)
    if line.expires_on is not None:
        f["line.days_to_expiry"] = _days(today, line.expires_on)
    if line.last_draw_on is not None:
        f["line.days_since_last_draw"] = _days(line.last_draw_on, today)
    temp = line.temporary_limit
    if temp is not None and temp.expires_on is not None:
        f["line.temporary_limit.days_to_expiry"] = _days(today, temp.expires_on)
        f["line.temporary_limit.days_since_expiry"] = _days(temp.expires_on, today)
    ev = line.evaluation
    if ev is not None and ev.started_at is not None:
        f["line.evaluation.hours_running"] = _hours(ev.started_at, s.as_of)
    refused = s.request is not None and s.request.outcome == "refused"
    f["line.limit_short"] = f["line.restore_gap"] > 0 or refused


def _derive_repayments(s: Snapshot, f: Facts) -> None:
    reps = s.repayments
    if reps is None:
        return
    f["repayments.count"] = len(reps)
    pending = [r for r in reps if r.status == "pending"]
    if any(r.status is None for r in reps):
        pass  # an unknown status may hide a pending one: the aggregates below stay unknown
    elif all(r.amount is not None for r in pending):
        f["repayments.unposted_amount"] = float(sum(r.amount or 0.0 for r in pending))
    known = all(r.status is not None for r in reps) and all(r.submitted_at is not None and r.channel is not None for r in pending)
    if known:
        ages = [(_hours(r.submitted_at, s.as_of), r) for r in pending if r.submitted_at]
        f["repayments.oldest_unposted_hours"] = max((a for a, _ in ages), default=0.0)
        f["repayments.unposted_hours_instant"] = max((a for a, r in ages if r.channel in _INSTANT), default=0.0)
        f["repayments.unposted_hours_interbank"] = max((a for a, r in ages if r.channel == "interbank"), default=0.0)
        if ages:
            _, oldest = max(ages, key=lambda pair: (pair[0], pair[1].id or ""))
            assert oldest.submitted_at is not None and oldest.channel is not None
            f["repayments.oldest_unposted_submitted_at"] = oldest.submitted_at
            f["repayments.oldest_unposted_channel"] = oldest.channel
            f["repayments.unposted_due_at"] = oldest.submitted_at + timedelta(hours=_POSTING_HOURS[oldest.channel])
            if oldest.id is not None:
                f["repayments.oldest_unposted_id"] = oldest.id
    posted = [r for r in reps if r.status == "posted" and (r.posted_at or r.submitted_at) is not None]
    if posted:
        last = max(posted, key=lambda r: (r.posted_at or r.submitted_at, r.id or ""))
        f["repayments.last_posted"] = last
        for name in ("amount", "applied_to_principal", "applied_to_fees", "id", "posted_at", "channel"):
            value = getattr(last, name)
            if value is not None:
                f[f"repayments.last_posted.{name}"] = value


def _derive_loans(s: Snapshot, f: Facts) -> None:
    loans = s.loans
    if loans is None:
        return
    days = [ln.overdue_days for ln in loans]
    if all(d is not None for d in days):
        f["loans.max_overdue_days"] = max((d or 0 for d in days), default=0)
        f["loans.overdue_count"] = sum(1 for d in days if d)
    for name in ("overdue_amount", "fees_outstanding"):
        values = [getattr(ln, name) for ln in loans]
        if all(v is not None for v in values):
            f[f"loans.{name}"] = float(sum(values))


def _derive_credit(s: Snapshot, f: Facts) -> None:
    c = s.credit
    if c is None:
        return
    if c.score is not None and c.score_30d_ago is not None:
        f["credit.score_drop_30d"] = c.score_30d_ago - c.score
    if c.tier is not None and c.previous_tier is not None:
        f["credit.tier_drop"] = ord(c.tier) - ord(c.previous_tier)
    if c.monthly_debt_service is not None and c.monthly_income:
        f["credit.dti"] = round(c.monthly_debt_service / c.monthly_income, 6)


def _derive_policy(s: Snapshot, today: date, f: Facts) -> None:
    p = s.policy
    if p is None:
        return
    income = s.credit.income_avg_3y if s.credit is not None else None
    if p.per_borrower_cap is not None and income is not None and p.income_cap_fraction is not None:
        f["policy.regulatory_cap"] = round(min(p.per_borrower_cap, income * p.income_cap_fraction), 2)
    if p.changed_on is not None:
        f["policy.days_since_change"] = _days(p.changed_on, today)


def _derive_system(s: Snapshot, today: date, f: Facts) -> None:
    sysm = s.system
    if sysm is None:
        return
    now = s.as_of
    if sysm.maintenance is not None:
        relevant = [w for w in sysm.maintenance if w.scope in ("lending", "limit", "all")]
        decidable = all(w.start is not None and w.end is not None for w in relevant) and all(w.scope is not None for w in sysm.maintenance)
        active = [w for w in relevant if w.start and w.end and w.start <= now < w.end]
        if active:
            window = max(active, key=lambda w: w.end)  # type: ignore[arg-type, return-value]
            f["system.maintenance_active"] = True
            f["system.maintenance_ends_at"] = window.end
            if window.notice:
                f["system.maintenance_notice"] = window.notice
        elif decidable:
            f["system.maintenance_active"] = False
    bw = sysm.batch_window
    if bw is not None and bw.start is not None and bw.end is not None:
        local = now.time().replace(tzinfo=None)
        active_batch = _in_window(local, bw.start, bw.end)
        f["system.batch_active"] = active_batch
        if active_batch:
            end = time.fromisoformat(bw.end)
            ends = datetime.combine(today, end, tzinfo=now.tzinfo)
            f["system.batch_ends_at"] = ends if ends > now else ends + timedelta(days=1)
    if sysm.incidents is not None:
        open_ = [i for i in sysm.incidents if i.resolved_at is None]
        f["system.open_incidents"] = len(open_)
        ids = [i.id for i in open_ if i.id]
        if ids:
            f["system.open_incident_ids"] = ", ".join(ids)
    rm = sysm.risk_model
    if rm is not None and rm.trained_on is not None:
        f["system.risk_model_age_days"] = _days(rm.trained_on, today)


def _derive_account(s: Snapshot, today: date, f: Facts) -> None:
    kyc = s.account.kyc
    if kyc is not None and kyc.id_expires_on is not None:
        f["account.id_days_left"] = _days(today, kyc.id_expires_on)


def derive(snapshot: Snapshot) -> Facts:
    """All facts of one snapshot: its fields by path, then the derived facts (unknown stays absent)."""
    facts: Facts = {}
    _flatten(snapshot, "", facts)
    today = snapshot.as_of.date()
    facts["calendar.date"] = today
    facts["calendar.time"] = snapshot.as_of.strftime("%H:%M")
    facts["calendar.days_to_quarter_end"] = _days(today, _quarter_end(today))
    _derive_line(snapshot, today, facts)
    _derive_repayments(snapshot, facts)
    _derive_loans(snapshot, facts)
    _derive_credit(snapshot, facts)
    _derive_policy(snapshot, today, facts)
    _derive_system(snapshot, today, facts)
    _derive_account(snapshot, today, facts)
    return facts


INPUTS: dict[str, tuple[str, ...]] = {
    "line.restore_gap": ("line.total_limit", "line.used", "line.available"),
    "line.utilization": ("line.used", "line.total_limit"),
    "line.limit_cut_pct": ("line.total_limit", "line.previous_total_limit"),
    "line.days_to_expiry": ("line.expires_on",),
    "line.days_since_last_draw": ("line.last_draw_on",),
    "line.temporary_limit.days_to_expiry": ("line.temporary_limit.expires_on",),
    "line.temporary_limit.days_since_expiry": ("line.temporary_limit.expires_on",),
    "line.evaluation.hours_running": ("line.evaluation.started_at",),
    "repayments.count": ("repayments",),
    "repayments.unposted_amount": ("repayments",),
    "repayments.oldest_unposted_hours": ("repayments",),
    "repayments.unposted_hours_instant": ("repayments",),
    "repayments.unposted_hours_interbank": ("repayments",),
    "repayments.unposted_due_at": ("repayments",),
    "loans.max_overdue_days": ("loans",),
    "loans.overdue_amount": ("loans",),
    "loans.fees_outstanding": ("loans",),
    "loans.overdue_count": ("loans",),
    "credit.score_drop_30d": ("credit.score", "credit.score_30d_ago"),
    "credit.tier_drop": ("credit.tier", "credit.previous_tier"),
    "credit.dti": ("credit.monthly_debt_service", "credit.monthly_income"),
    "policy.regulatory_cap": ("policy.per_borrower_cap", "credit.income_avg_3y", "policy.income_cap_fraction"),
    "policy.days_since_change": ("policy.changed_on",),
    "system.maintenance_active": ("system.maintenance",),
    "system.batch_active": ("system.batch_window.start", "system.batch_window.end"),
    "system.open_incidents": ("system.incidents",),
    "system.risk_model_age_days": ("system.risk_model.trained_on",),
    "account.id_days_left": ("account.kyc.id_expires_on",),
}
"""The snapshot fields each derived fact is computed from: what to collect when it is unknown."""


def to_collect(path: str, known: Mapping[str, Any]) -> list[str]:
    """The snapshot fields that would make ``path`` known: its missing inputs, or itself."""
    inputs = INPUTS.get(path)
    if path.startswith("repayments.last_posted."):
        inputs = ("repayments",)
    if not inputs:
        return [path]
    missing = [p for p in inputs if known.get(p) is None]
    return missing or [path]
