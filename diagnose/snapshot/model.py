"""The account snapshot contract (docs/snapshot.md, schema version 1) as strict pydantic models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from diagnose.errors import InvalidInput
from diagnose.snapshot.contract import problems_from, require_object
from diagnose.snapshot.scalars import MAX_INT, MAX_ITEMS, parse_date, parse_datetime, parse_hhmm, parse_timezone

# --- scalar types: parsed by diagnose.scalars (shared with the fast validator) ---------

DateTime = Annotated[datetime, BeforeValidator(parse_datetime)]
Date = Annotated[date, BeforeValidator(parse_date)]
TimeOfDay = Annotated[str, BeforeValidator(parse_hhmm)]
TimeZone = Annotated[str, BeforeValidator(parse_timezone)]
Money = Annotated[float, Field(ge=0)]
Ratio = Annotated[float, Field(ge=0, le=1)]
Pct = Annotated[float, Field(ge=0, le=100)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Score = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
Text = Annotated[str, Field(max_length=10_000)]
Region = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Tier = Literal["A", "B", "C", "D", "E"]
Present = Annotated[bool, Field(description='false: known not to exist (no temporary limit, no request), unlike absent, "not known"')]

# --- models -----------------------------------------------------------------------------


class _Model(BaseModel):
    """Strict JSON types; unknown keys are kept (and reported as warnings), never an error."""

    model_config = ConfigDict(strict=True, extra="allow", frozen=True, defer_build=True, allow_inf_nan=False)


class Kyc(_Model):
    status: Literal["verified", "pending", "expired", "failed"] | None = None
    id_expires_on: Date | None = None
    phone_status: Literal["active", "inactive", "unverified"] | None = None


class Security(_Model):
    frozen: bool | None = None
    reason: Text | None = None
    device_changes_30d: Count | None = None
    login_cities_7d: Count | None = None


class Account(_Model):
    id: Annotated[str, Field(min_length=1, max_length=256)]
    product: Annotated[str, Field(min_length=1, max_length=128)]
    region: Region | None = None
    age_years: Annotated[int, Field(ge=0, le=150)] | None = None
    student: bool | None = None
    kyc: Kyc | None = None
    security: Security | None = None
    bound_card_status: Literal["valid", "expired", "frozen", "lost", "none"] | None = None


class TemporaryLimit(_Model):
    present: Present | None = None
    """`false`: the line has no temporary limit (absent or null: not known). A list says "none" with `[]`."""
    amount: Money | None = None
    expires_on: Date | None = None


class AutoRenewal(_Model):
    enabled: bool | None = None
    last_attempt_on: Date | None = None
    result: Literal["succeeded", "failed", "pending", "not_attempted"] | None = None
    fail_code: Text | None = None


class Evaluation(_Model):
    in_progress: bool | None = None
    started_at: DateTime | None = None


class Line(_Model):
    type: Literal["revolving", "one_time"] | None = None
    status: Literal["active", "suspended", "closed", "expired", "migrated"] | None = None
    currency: Currency | None = None
    total_limit: Money
    used: Money
    available: Money
    previous_total_limit: Money | None = None
    limit_changed_on: Date | None = None
    temporary_limit: TemporaryLimit | None = None
    granted_on: Date | None = None
    expires_on: Date | None = None
    first_draw_on: Date | None = None
    first_draw_due_on: Date | None = None
    last_draw_on: Date | None = None
    early_payoffs_12m: Count | None = None
    active_draws: Count | None = None
    max_active_draws: Count | None = None
    single_draw_cap: Money | None = None
    auto_renewal: AutoRenewal | None = None
    evaluation: Evaluation | None = None
    migrated_to: Text | None = None


class Request(_Model):
    present: Present | None = None
    """`false`: no draw was attempted (absent or null: not known)."""
    amount: Money | None = None
    at: DateTime | None = None
    outcome: Literal["refused", "approved", "error"] | None = None
    error_code: Text | None = None


class Repayment(_Model):
    id: Text | None = None
    amount: Money | None = None
    channel: Literal["balance", "bank_card", "auto_debit", "interbank"] | None = None
    submitted_at: DateTime | None = None
    posted_at: DateTime | None = None
    status: Literal["pending", "posted", "failed"] | None = None
    applied_to_principal: Money | None = None
    applied_to_fees: Money | None = None


class Loan(_Model):
    id: Text | None = None
    principal: Money | None = None
    outstanding: Money | None = None
    drawn_on: Date | None = None
    due_on: Date | None = None
    overdue_days: Count | None = None
    overdue_amount: Money | None = None
    fees_outstanding: Money | None = None


class Bureau(_Model):
    delinquent_accounts: Count | None = None
    hard_inquiries_1m: Count | None = None
    hard_inquiries_3m: Count | None = None
    active_lenders: Count | None = None
    data_age_days: Count | None = None


class Credit(_Model):
    score: Score | None = None
    score_30d_ago: Score | None = None
    tier: Tier | None = None
    previous_tier: Tier | None = None
    overdue_count_12m: Count | None = None
    max_overdue_days_12m: Count | None = None
    days_since_cure: Count | None = None
    other_products_overdue_days: Count | None = None
    bureau: Bureau | None = None
    monthly_income: Money | None = None
    monthly_debt_service: Money | None = None
    income_avg_3y: Money | None = None
    total_online_outstanding: Money | None = None
    cashout_flag: bool | None = None


class Funding(_Model):
    funder: Text | None = None
    model: Literal["self", "co_lending"] | None = None
    funder_quota_remaining_pct: Pct | None = None
    regional_pool_utilization: Ratio | None = None
    funder_paused: bool | None = None
    funder_pause_reason: Text | None = None
    funder_delinquency_rate: Ratio | None = None
    funder_local_only: bool | None = None
    funder_region: Region | None = None


class Policy(_Model):
    version: Text | None = None
    previous_version: Text | None = None
    changed_on: Date | None = None
    direction: Literal["tightening", "loosening", "neutral"] | None = None
    segment_cut_share: Ratio | None = None
    min_age: Annotated[int, Field(ge=0, le=150)] | None = None
    max_age: Annotated[int, Field(ge=0, le=150)] | None = None
    students_allowed: bool | None = None
    per_borrower_cap: Money | None = None
    income_cap_fraction: Ratio | None = None


class MaintenanceWindow(_Model):
    start: DateTime | None = None
    end: DateTime | None = None
    scope: Literal["lending", "repayment", "limit", "all"] | None = None
    notice: Text | None = None


class BatchWindow(_Model):
    start: TimeOfDay | None = None
    end: TimeOfDay | None = None


class Incident(_Model):
    id: Text | None = None
    started_at: DateTime | None = None
    resolved_at: DateTime | None = None
    components: Annotated[list[Text], Field(max_length=MAX_ITEMS)] | None = None


class RiskModel(_Model):
    version: Text | None = None
    trained_on: Date | None = None
    psi: Annotated[float, Field(ge=0)] | None = None


class System(_Model):
    timezone: TimeZone | None = None
    maintenance: Annotated[list[MaintenanceWindow], Field(max_length=MAX_ITEMS)] | None = None
    batch_window: BatchWindow | None = None
    ledger_sync_lag_minutes: Annotated[float, Field(ge=0)] | None = None
    incidents: Annotated[list[Incident], Field(max_length=MAX_ITEMS)] | None = None
    risk_model: RiskModel | None = None


class Snapshot(_Model):
    """One account at one moment; ``as_of`` is "now" for every derived fact."""

    schema_version: Literal["1"]
    as_of: DateTime
    account: Account
    line: Line
    request: Request | None = None
    repayments: Annotated[list[Repayment], Field(max_length=MAX_ITEMS)] | None = None
    loans: Annotated[list[Loan], Field(max_length=MAX_ITEMS)] | None = None
    credit: Credit | None = None
    funding: Funding | None = None
    policy: Policy | None = None
    system: System | None = None
    extensions: dict[str, Any] | None = None


# --- validation with readable errors ----------------------------------------------------


def validate(data: Any, *, source: str | None = None) -> Snapshot:
    """Validate a parsed JSON value into the models, or raise InvalidInput with all problems.

    The engine validates with the compiled contract (`contract.validate`, plain dicts); this gives
    the same answers as model objects, for scripts that want them.
    """
    require_object(data, source)
    try:
        return Snapshot.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(problems_from(exc), source=source) from None


def unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """Dotted paths of fields the contract does not define (outside ``extensions``)."""
    found = [prefix + key for key in model.__pydantic_extra__ or ()]
    for name, value in model.__dict__.items():
        if isinstance(value, BaseModel):
            found += unknown_fields(value, f"{prefix}{name}.")
        elif type(value) is list and name != "components":
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    found += unknown_fields(item, f"{prefix}{name}[{i}].")
    return found
