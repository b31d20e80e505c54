"""The `__init__` of each record in records.py, as `dataclass` writes it from the record's fields (see `records.record`).

Written by tests/test_records.py, which fails when this file and the fields differ; after changing a
record, `UPDATE_GOLDEN=1 pytest tests/test_records.py` writes it again. Not to be edited by hand.
"""

from __future__ import annotations

from typing import Any

_FACTORY: Any = object()
"""The default of a field whose default is made afresh for each record (a list, a dict), as dataclass's own sentinel."""


def Evidence(
    self: Any,
    fact: Any,
    op: Any,
    expected: Any,
    actual: Any,
    result: Any,
    param: Any = None,
    decided_by: Any = None,
) -> None:
    self.fact = fact
    self.op = op
    self.expected = expected
    self.actual = actual
    self.result = result
    self.param = param
    self.decided_by = decided_by


def Remedies(
    self: Any,
    customer: Any,
    agent: Any,
    institution: Any,
) -> None:
    self.customer = customer
    self.agent = agent
    self.institution = institution


def ClearStep(
    self: Any,
    fact: Any,
    needed: Any,
    eta: Any,
    text: Any,
) -> None:
    self.fact = fact
    self.needed = needed
    self.eta = eta
    self.text = text


def Unmet(
    self: Any,
    fact: Any,
    needed: Any,
) -> None:
    self.fact = fact
    self.needed = needed


def NearMiss(
    self: Any,
    rule_id: Any,
    title: Any,
    distance: Any,
    summary: Any,
) -> None:
    self.rule_id = rule_id
    self.title = title
    self.distance = distance
    self.summary = summary


def Event(
    self: Any,
    at: Any,
    kind: Any,
    label: Any,
) -> None:
    self.at = at
    self.kind = kind
    self.label = label


def Finding(
    self: Any,
    rank: Any,
    rule_id: Any,
    family: Any,
    severity: Any,
    score: Any,
    contributing: Any,
    title: Any,
    explanation: Any,
    evidence: Any,
    remedies: Any,
    explains: Any = _FACTORY,
    explained_by: Any = _FACTORY,
    clears_when: Any = _FACTORY,
    explanatory: Any = False,
) -> None:
    self.rank = rank
    self.rule_id = rule_id
    self.family = family
    self.severity = severity
    self.score = score
    self.contributing = contributing
    self.title = title
    self.explanation = explanation
    self.evidence = evidence
    self.remedies = remedies
    self.explains = list() if explains is _FACTORY else explains
    self.explained_by = list() if explained_by is _FACTORY else explained_by
    self.clears_when = list() if clears_when is _FACTORY else clears_when
    self.explanatory = explanatory


def Undetermined(
    self: Any,
    rule_id: Any,
    family: Any,
    title: Any,
    missing: Any,
    would_fire_if: Any = _FACTORY,
    status: Any = "not_assessed",
    impact: Any = 0.0,
) -> None:
    self.rule_id = rule_id
    self.family = family
    self.title = title
    self.missing = missing
    self.would_fire_if = list() if would_fire_if is _FACTORY else would_fire_if
    self.status = status
    self.impact = impact


def Question(
    self: Any,
    fact: Any,
    impact: Any,
    rules: Any,
) -> None:
    self.fact = fact
    self.impact = impact
    self.rules = rules


def Decision(
    self: Any,
    tool_version: Any,
    pack_digest: Any,
    input_digest: Any,
    lang: Any,
    audience: Any,
    explain: Any = False,
    timeline: Any = False,
    top: Any = None,
    redacted: Any = False,
) -> None:
    self.tool_version = tool_version
    self.pack_digest = pack_digest
    self.input_digest = input_digest
    self.lang = lang
    self.audience = audience
    self.explain = explain
    self.timeline = timeline
    self.top = top
    self.redacted = redacted


def Unexplained(
    self: Any,
    statement: Any,
    near_misses: Any,
    could_explain: Any,
    agent_steps: Any,
    customer: Any = _FACTORY,
) -> None:
    self.statement = statement
    self.near_misses = near_misses
    self.could_explain = could_explain
    self.agent_steps = agent_steps
    self.customer = list() if customer is _FACTORY else customer


def Coverage(
    self: Any,
    applicable: Any,
    decided: Any,
    fired: Any,
    open: Any,
    not_assessed: Any,
    not_applicable: Any,
    low: Any,
) -> None:
    self.applicable = applicable
    self.decided = decided
    self.fired = fired
    self.open = open
    self.not_assessed = not_assessed
    self.not_applicable = not_applicable
    self.low = low


def SnapshotRef(
    self: Any,
    account_id: Any,
    as_of: Any,
    product: Any,
) -> None:
    self.account_id = account_id
    self.as_of = as_of
    self.product = product


def Ruleset(
    self: Any,
    name: Any,
    version: Any,
    digest: Any,
) -> None:
    self.name = name
    self.version = version
    self.digest = digest


def LineSummary(
    self: Any,
    currency: Any,
    status: Any,
    total_limit: Any,
    used: Any,
    available: Any,
    restore_gap: Any,
) -> None:
    self.currency = currency
    self.status = status
    self.total_limit = total_limit
    self.used = used
    self.available = available
    self.restore_gap = restore_gap


def Disabled(
    self: Any,
    rule_id: Any,
    reason: Any,
) -> None:
    self.rule_id = rule_id
    self.reason = reason


def Report(
    self: Any,
    schema_version: Any,
    snapshot: Any,
    ruleset: Any,
    lang: Any,
    verdict: Any,
    line: Any,
    findings: Any,
    undetermined: Any,
    warnings: Any,
    disabled: Any = _FACTORY,
    audience: Any = "all",
    near_misses: Any = _FACTORY,
    timeline: Any = _FACTORY,
    not_applicable: Any = _FACTORY,
    coverage: Any = None,
    questions: Any = _FACTORY,
    unexplained: Any = None,
    decision: Any = None,
    segments: Any = _FACTORY,
) -> None:
    self.schema_version = schema_version
    self.snapshot = snapshot
    self.ruleset = ruleset
    self.lang = lang
    self.verdict = verdict
    self.line = line
    self.findings = findings
    self.undetermined = undetermined
    self.warnings = warnings
    self.disabled = list() if disabled is _FACTORY else disabled
    self.audience = audience
    self.near_misses = list() if near_misses is _FACTORY else near_misses
    self.timeline = list() if timeline is _FACTORY else timeline
    self.not_applicable = list() if not_applicable is _FACTORY else not_applicable
    self.coverage = coverage
    self.questions = list() if questions is _FACTORY else questions
    self.unexplained = unexplained
    self.decision = decision
    self.segments = dict() if segments is _FACTORY else segments
