"""Facts: every snapshot field by dotted path, plus the derived facts of docs/causes.md, against as_of."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal, NamedTuple, TypeVar, Union
from zoneinfo import ZoneInfo

from diagnose.snapshot import canonical, derived, scalars
from diagnose.snapshot.derived import Kind
from diagnose.snapshot.walk import walk

if typing.TYPE_CHECKING:
    from pydantic import BaseModel

_D = TypeVar("_D", date, datetime)
Facts = dict[str, Any]
"""A flat mapping of fact path to value. A path that is absent is unknown."""


class FactSpec(NamedTuple):
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


def unwrap(annotation: Any) -> tuple[Any, list[Any]]:
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


def walk_model(model: type[BaseModel], prefix: str) -> Iterator[FactSpec]:
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        bare, meta = unwrap(field.annotation)
        lo, hi = _bounds(meta + list(field.metadata))
        unit = None
        if lo == 0 and hi == 1:
            unit = "ratio"
        elif lo == 0 and hi == 100:
            unit = "pct"
        if isinstance(bare, type) and hasattr(bare, "model_fields"):
            yield FactSpec(path, "object", f"the {name} object")
            yield from walk_model(bare, path + ".")
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


DERIVED: tuple[FactSpec, ...] = tuple(
    FactSpec(d.path, d.kind, d.description, d.unit, d.values, True, d.minimum, d.maximum) for d in derived.DERIVED
)
"""The derived facts as catalog entries (declared once, with their inputs and clear words, in `derived`)."""


@lru_cache(maxsize=1)
def catalog() -> dict[str, FactSpec]:
    """Every fact a rule may read: snapshot fields (compiled from the models) and derived facts."""
    from diagnose.snapshot.contract import artifact

    specs: dict[str, FactSpec] = {}
    for row in artifact()["fields"]:
        specs[row["path"]] = FactSpec(**(row | {"values": tuple(row["values"])}))
    for spec in DERIVED:
        specs[spec.path] = spec
    return specs


def is_fact_path(path: str) -> bool:
    """Known catalog path, or anything below ``extensions`` (free-form, for custom packs)."""
    return path in catalog() or path.startswith("extensions.")


# --- flattening -------------------------------------------------------------------------


def _flatten(node: dict[str, Any], prefix: str, out: Facts, depth: int) -> None:
    """Free-form data (under `extensions`) by dotted path, to a bounded depth."""
    for name, value in node.items():
        if value is None:
            continue
        path = prefix + name
        out[path] = value
        if type(value) is dict and depth < 8:
            _flatten(value, path + ".", out, depth + 1)


# --- derivation -------------------------------------------------------------------------

_INSTANT = ("balance", "bank_card", "auto_debit")
DEFAULT_TIMEZONES: dict[str, str] = {"CNY": "Asia/Shanghai"}
"""The lender's time zone when a snapshot names none (`system.timezone`), by the line's currency: the
products of one currency are run from one place. Never as_of's offset: an export in UTC is not a
lender in UTC. No default (another currency): clock-time facts stay unknown."""
_POSTING_HOURS = {"balance": 2, "bank_card": 2, "auto_debit": 2, "interbank": 72}
_EMPTY: dict[str, Any] = {}


BOUNDS = "~bounds"
"""The key under which facts keep what is known of derived values that are not known exactly."""


class Bound(NamedTuple):
    """What the known inputs say of an unknown derived value: it lies in [low, high] (None: no bound)."""

    low: float | None
    high: float | None
    note: str
    """Which known part gives the bound, and which part is not known."""


def bound(f: Facts, path: str, low: float | None, high: float | None, note: str) -> None:
    """Record a bound on the unknown fact ``path``: comparisons decide with it where it suffices."""
    f.setdefault(BOUNDS, {})[path] = Bound(low, high, note)


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def fields(value: Any) -> dict[str, Any]:
    """An optional object's fields, or none when it is absent or null."""
    return value if type(value) is dict else _EMPTY


def _hours(a: datetime, b: datetime) -> float:
    return round((b - a).total_seconds() / 3600, 4)


def _days(a: date, b: date) -> int:
    return (b - a).days


def shift(moment: _D, delta: timedelta) -> _D | None:
    """``moment + delta``, or None past the ends of the calendar (year 1 or 9999: a real date, not a crash)."""
    try:
        return moment + delta
    except OverflowError:
        return None


def _quarter_end(day: date) -> date:
    month = ((day.month - 1) // 3 + 1) * 3
    if month == 12:
        return date(day.year, 12, 31)
    return date(day.year, month + 1, 1) - timedelta(days=1)


@lru_cache(maxsize=256)
def _window(start: str, end: str) -> tuple[time, time]:
    return time.fromisoformat(start), time.fromisoformat(end)


def _in_window(now: time, start: str, end: str) -> bool:
    s, e = _window(start, end)  # a portfolio has a handful of batch windows
    if s == e:
        return False
    if s < e:
        return s <= now < e
    return now >= s or now < e  # the window crosses midnight


def _derive_line(s: dict[str, Any], now: datetime, today: date, f: Facts) -> None:
    line = s["line"]
    total, used, available = line["total_limit"], line["used"], line["available"]
    gap = max(0.0, total - used - available)
    f["line.restore_gap"] = gap
    if total > 0:
        f["line.utilization"] = used / total
    previous = line.get("previous_total_limit")
    if previous:
        f["line.limit_cut_pct"] = round(max(0.0, 1 - total / previous), 6)
    if line.get("expires_on") is not None:
        f["line.days_to_expiry"] = _days(today, line["expires_on"])
    if line.get("last_draw_on") is not None:
        f["line.days_since_last_draw"] = _days(line["last_draw_on"], today)
    temp = fields(line.get("temporary_limit"))
    if temp.get("expires_on") is not None:
        f["line.temporary_limit.days_to_expiry"] = _days(today, temp["expires_on"])
        f["line.temporary_limit.days_since_expiry"] = _days(temp["expires_on"], today)
    ev = line.get("evaluation") or _EMPTY
    if ev.get("started_at") is not None:
        f["line.evaluation.hours_running"] = _hours(ev["started_at"], now)
    request = fields(s.get("request"))
    f["line.limit_short"] = gap > 0 or request.get("outcome") == "refused"


def _derive_repayments(s: dict[str, Any], now: datetime, f: Facts) -> None:
    reps = s.get("repayments")
    if reps is None:
        return
    f["repayments.count"] = len(reps)
    pending: list[dict[str, Any]] = []
    posted: list[dict[str, Any]] = []
    for r in reps:  # one loop, not one pass a question: most accounts have a repayment or two
        status = r.get("status")
        if status is None:
            return  # an unknown status may hide a pending repayment: the aggregates stay unknown
        if status == "pending":
            pending.append(r)
        elif status == "posted" and (r.get("posted_at") or r.get("submitted_at")) is not None:
            posted.append(r)
    if not pending:  # most accounts: nothing waits to post
        f.update(_NOTHING_PENDING)
    else:
        _derive_pending(pending, now, f)
    if posted:
        last = posted[0] if len(posted) == 1 else max(posted, key=lambda r: (r.get("posted_at") or r["submitted_at"], r.get("id") or ""))
        f["repayments.last_posted"] = last
        f["repayments.last_posted.days_ago"] = round((now - (last.get("posted_at") or last["submitted_at"])).total_seconds() / 86400, 4)
        for name, path in _LAST_POSTED:
            if last.get(name) is not None:
                f[path] = last[name]


_NOTHING_PENDING = {
    "repayments.unposted_amount": 0.0,
    "repayments.oldest_unposted_hours": 0.0,
    "repayments.unposted_hours_instant": 0.0,
    "repayments.unposted_hours_interbank": 0.0,
}
_LAST_POSTED = tuple(
    (name, f"repayments.last_posted.{name}") for name in ("amount", "applied_to_principal", "applied_to_fees", "id", "posted_at", "channel")
)


def _derive_pending(pending: list[dict[str, Any]], now: datetime, f: Facts) -> None:
    """The facts of repayments not yet posted (at least one)."""
    if all(r.get("amount") is not None for r in pending):
        f["repayments.unposted_amount"] = float(sum(r["amount"] for r in pending))
    if any(r.get("submitted_at") is None or r.get("channel") is None for r in pending):
        return
    ages = [(_hours(r["submitted_at"], now), r) for r in pending]
    f["repayments.oldest_unposted_hours"] = max(a for a, _ in ages)
    f["repayments.unposted_hours_instant"] = max((a for a, r in ages if r["channel"] in _INSTANT), default=0.0)
    f["repayments.unposted_hours_interbank"] = max((a for a, r in ages if r["channel"] == "interbank"), default=0.0)
    _, oldest = max(ages, key=lambda pair: (pair[0], pair[1].get("id") or ""))
    f["repayments.oldest_unposted_submitted_at"] = oldest["submitted_at"]
    f["repayments.oldest_unposted_channel"] = oldest["channel"]
    due = shift(oldest["submitted_at"], timedelta(hours=_POSTING_HOURS[oldest["channel"]]))
    if due is not None:
        f["repayments.unposted_due_at"] = due
    if oldest.get("id") is not None:
        f["repayments.oldest_unposted_id"] = oldest["id"]


def _derive_loans(s: dict[str, Any], f: Facts) -> None:
    loans = s.get("loans")
    if loans is None:
        return
    days = [ln.get("overdue_days") for ln in loans]
    if None not in days:
        f["loans.max_overdue_days"] = max(days, default=0)
        f["loans.overdue_count"] = sum(1 for d in days if d)
    elif any(d is not None for d in days):  # the worst is at least the worst that is known
        worst = max(d for d in days if d is not None)
        bound(
            f,
            "loans.max_overdue_days",
            float(worst),
            None,
            f"at least {worst}, the worst known; {days.count(None)} loan(s) without overdue_days",
        )
    for name, path in _LOAN_SUMS:
        values = [ln.get(name) for ln in loans]
        if None not in values:
            f[path] = float(sum(values))
        elif any(v is not None for v in values):  # a sum of amounts (never negative) is at least its known part
            known = float(sum(v for v in values if v is not None))
            bound(f, path, known, None, f"at least {_num(known)}, the known part; {values.count(None)} loan(s) without {name}")


_LOAN_SUMS = tuple((name, f"loans.{name}") for name in ("overdue_amount", "fees_outstanding"))


def _derive_credit(s: dict[str, Any], f: Facts) -> None:
    c = s.get("credit")
    if c is None:
        return
    if c.get("score") is not None and c.get("score_30d_ago") is not None:
        f["credit.score_drop_30d"] = c["score_30d_ago"] - c["score"]
    if c.get("tier") is not None and c.get("previous_tier") is not None:
        f["credit.tier_drop"] = ord(c["tier"]) - ord(c["previous_tier"])
    if c.get("monthly_debt_service") is not None and c.get("monthly_income"):
        f["credit.dti"] = round(c["monthly_debt_service"] / c["monthly_income"], 6)


def _derive_policy(s: dict[str, Any], today: date, f: Facts) -> None:
    p = s.get("policy")
    if p is None:
        return
    income = (s.get("credit") or _EMPTY).get("income_avg_3y")
    cap, fraction = p.get("per_borrower_cap"), p.get("income_cap_fraction")
    if cap is not None and income is not None and fraction is not None:
        f["policy.regulatory_cap"] = round(min(cap, income * fraction), 2)
    elif cap is not None:  # the lower of the two is at most the part that is known
        unknown = [n for n, v in (("credit.income_avg_3y", income), ("policy.income_cap_fraction", fraction)) if v is None]
        bound(
            f,
            "policy.regulatory_cap",
            0.0,
            float(cap),
            f"at most policy.per_borrower_cap ({_num(cap)}), the lower of the two; {' and '.join(unknown)} not known",
        )
    elif income is not None and fraction is not None:
        limit = round(income * fraction, 2)
        bound(
            f,
            "policy.regulatory_cap",
            0.0,
            limit,
            f"at most credit.income_avg_3y x policy.income_cap_fraction ({_num(limit)}); policy.per_borrower_cap not known",
        )
    if p.get("changed_on") is not None:
        f["policy.days_since_change"] = _days(p["changed_on"], today)


def lender_zone(s: dict[str, Any]) -> tuple[str, ZoneInfo] | None:
    """The lender's time zone: `system.timezone`, else the default of the line's currency, else None."""
    name = (s.get("system") or _EMPTY).get("timezone") or DEFAULT_TIMEZONES.get(s["line"].get("currency") or "CNY")
    found = scalars.zone(name) if isinstance(name, str) and name else None
    return (str(name), found) if found is not None else None


def _local(now: datetime, zone: ZoneInfo) -> datetime | None:
    """``now`` on the lender's clock, or None at the very ends of the calendar (year 1 or 9999)."""
    try:
        return now.astimezone(zone)
    except OverflowError:
        return None


_LENDING_SCOPES = ("lending", "limit", "all")
"""The maintenance scopes that stop a draw."""


def _derive_system(s: dict[str, Any], now: datetime, local: datetime | None, f: Facts) -> None:
    sysm = s.get("system")
    if sysm is None:
        return
    windows = sysm.get("maintenance")
    if windows is not None:
        active = []
        decidable = True  # every window has a scope, and every one that matters its start and end
        for w in windows:
            scope = w.get("scope")
            if scope is None:
                decidable = False
            elif scope in _LENDING_SCOPES:
                start, end = w.get("start"), w.get("end")
                if start and end:
                    if start <= now < end:
                        active.append(w)
                else:
                    decidable = False
        if active:
            window = max(active, key=lambda w: w["end"])
            f["system.maintenance_active"] = True
            f["system.maintenance_ends_at"] = window["end"]
            if window.get("notice"):
                f["system.maintenance_notice"] = window["notice"]
        elif decidable:
            f["system.maintenance_active"] = False
    bw = sysm.get("batch_window") or _EMPTY
    if local is not None and bw.get("start") is not None and bw.get("end") is not None:
        active_batch = _in_window(local.time(), bw["start"], bw["end"])  # time() is the wall-clock time, without tzinfo
        f["system.batch_active"] = active_batch
        if active_batch:
            ends = datetime.combine(local.date(), _window(bw["start"], bw["end"])[1], tzinfo=local.tzinfo)
            later = ends if ends > local else shift(ends, timedelta(days=1))
            if later is not None:
                f["system.batch_ends_at"] = later
    incidents = sysm.get("incidents")
    if incidents is not None:
        open_ = [i for i in incidents if i.get("resolved_at") is None]
        f["system.open_incidents"] = len(open_)
        f["system.open_incident_components"] = sorted({c for i in open_ for c in i.get("components") or ()})
        f["system.open_incidents_unscoped"] = sum(1 for i in open_ if not i.get("components"))
        ids = [i["id"] for i in open_ if i.get("id")]
        if ids:
            f["system.open_incident_ids"] = ", ".join(ids)
    trained = (sysm.get("risk_model") or _EMPTY).get("trained_on")
    if trained is not None:
        f["system.risk_model_age_days"] = _days(trained, (local or now).date())


def derive(snapshot: dict[str, Any]) -> Facts:
    """All facts of one validated snapshot: its fields by path, then the derived facts (unknown stays absent)."""
    return derive_digested(snapshot)[0]


@lru_cache(maxsize=24 * 60)
def _clock(hour: int, minute: int) -> str:
    """A minute of the day as HH:MM, made once: the formatted f-string cost more than the rest of the calendar's facts."""
    return f"{hour:02d}:{minute:02d}"


def derive_digested(snapshot: dict[str, Any]) -> tuple[Facts, str]:
    """`derive`, and the snapshot's input digest (`canonical.digest`) from the same walk."""
    facts: Facts = {}
    tree = walk(snapshot, facts)  # the fields by path, and the canonical form for the digest, in one pass
    extensions = snapshot.get("extensions")
    if type(extensions) is dict:
        _flatten(extensions, "extensions.", facts, 0)
    now: datetime = snapshot["as_of"]
    zone = lender_zone(snapshot)
    local = _local(now, zone[1]) if zone is not None else None  # the lender's wall clock and calendar
    today = (local or now).date()
    facts["calendar.date"] = today
    if zone is not None and local is not None:
        facts["calendar.timezone"] = zone[0]
        facts["calendar.time"] = _clock(local.hour, local.minute)
    facts["calendar.days_to_quarter_end"] = _days(today, _quarter_end(today))
    _derive_line(snapshot, now, today, facts)
    _derive_repayments(snapshot, now, facts)
    _derive_loans(snapshot, facts)
    _derive_credit(snapshot, facts)
    _derive_policy(snapshot, today, facts)
    _derive_system(snapshot, now, local, facts)
    id_expires = ((snapshot["account"].get("kyc")) or _EMPTY).get("id_expires_on")
    if id_expires is not None:
        facts["account.id_days_left"] = _days(today, id_expires)
    return facts, canonical.digest_of(tree, ordered=True)  # both walks make the canonical form in key order


INPUTS: dict[str, tuple[str, ...]] = {d.path: d.inputs for d in derived.DERIVED if d.inputs}
"""The snapshot fields each derived fact is computed from: what to collect when it is unknown."""


def to_collect(path: str, known: Mapping[str, Any]) -> list[str]:
    """The snapshot fields that would make ``path`` known: its missing inputs, or itself."""
    inputs = INPUTS.get(path)
    if not inputs:
        return [path]
    missing = [p for p in inputs if known.get(p) is None]
    return missing or [path]
