"""The default pack, tested from its own files: every catalog code is a rule, every example behaves as declared."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from diagnose.api import CompiledPack
from diagnose.pack.loader import load
from diagnose.packci.ruletest import run_examples
from tests.conftest import EXAMPLES, SHARED, load_json

CATALOG = SHARED / "contract" / "CAUSES.md"
# The codes of CAUSES.md, kept here too so that the test runs where ../shared is absent.
CODES = """
LIQ-FUNDER-QUOTA LIQ-REGIONAL-POOL LIQ-FUNDER-PAUSED LIQ-CROSS-REGION LIQ-PERIOD-END
POL-TIGHTENING POL-TIER-DOWNGRADE POL-REGULATORY-CAP POL-AGE-RANGE POL-STUDENT
PRD-LINE-EXPIRED PRD-RENEWAL-FAILED PRD-TEMP-LIMIT-EXPIRED PRD-ONE-TIME-LINE PRD-DRAW-COUNT-CAP
PRD-SINGLE-DRAW-CAP PRD-PAYMENT-ALLOCATION PRD-LOW-USAGE-CUT PRD-NO-FIRST-DRAW PRD-MIGRATED
OPS-MAINTENANCE OPS-BATCH-WINDOW OPS-REPAYMENT-UNPOSTED OPS-LEDGER-SYNC-LAG OPS-EVALUATION-PENDING
OPS-INCIDENT OPS-STALE-RISK-MODEL OPS-STALE-BUREAU-DATA
BRW-OVERDUE BRW-OTHER-PRODUCT-OVERDUE BRW-COOLING-OFF BRW-BUREAU-DELINQUENCY BRW-INQUIRIES
BRW-MULTI-LENDING BRW-HIGH-DTI BRW-KYC-INVALID BRW-SECURITY-FREEZE BRW-CARD-INVALID BRW-MISUSE
""".split()  # noqa: SIM905  (a block of codes reads better than a list literal)
FAMILY = {"LIQ": "liquidity", "POL": "policy", "PRD": "product", "OPS": "operations", "BRW": "borrower"}
FULL = CompiledPack.from_pack(load())
RUN = run_examples(FULL)


def catalog_codes() -> list[str]:
    if CATALOG.is_file():
        return re.findall(r"^\| ((?:LIQ|POL|PRD|OPS|BRW)-[A-Z0-9-]+) \|", CATALOG.read_text(encoding="utf-8"), re.M)
    return CODES


def test_every_catalog_code_is_a_rule_of_its_family() -> None:
    codes = catalog_codes()
    assert len(codes) == 39 and set(codes) == set(CODES)
    rules = {cr.rule.id: cr.rule for cr in FULL.rules}
    missing = [c for c in codes if c not in rules]
    assert not missing, f"catalog codes without a rule: {missing}"
    for code in codes:
        assert rules[code].family == FAMILY[code[:3]]


@pytest.mark.parametrize("case", RUN.results, ids=lambda r: r.name)
def test_rule_example_behaves_as_declared(case: Any) -> None:
    assert case.passed, f"{case.name}: expected {case.expected}, got {case.actual}\n" + "\n".join(case.details)


def test_every_rule_has_a_firing_and_a_quiet_example() -> None:
    assert RUN.coverage.never_fired() == []
    assert RUN.coverage.never_quiet() == []


def test_every_rule_has_texts_and_remedies_in_both_languages() -> None:
    for cr in FULL.rules:
        rule = cr.rule
        assert rule.rationale is not None, rule.id
        for aud in ("customer", "agent", "institution"):
            assert rule.remedies[aud], (rule.id, aud)


EXAMPLE_FILES = sorted(p for p in EXAMPLES.glob("*.json") if re.match(r"^(liq|pol|prd|ops|brw)-", p.stem))


def test_every_rule_has_an_example_file() -> None:
    assert {p.stem.upper() for p in EXAMPLE_FILES} == set(CODES)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_ranks_its_cause_first(pack: CompiledPack, path: Path) -> None:
    code = path.stem.upper()
    report = pack.diagnose(load_json(path))
    ids = [f.rule_id for f in report.findings]
    rule = next(cr.rule for cr in pack.rules if cr.rule.id == code)
    if rule.contributing:
        assert code in ids
        assert all(f.contributing for f in report.findings[ids.index(code) :])
    else:
        assert ids and ids[0] == code, ids


def test_healthy_account_is_healthy(pack: CompiledPack) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "healthy.json"))
    assert report.verdict == "healthy" and report.findings == []


def test_required_fields_only_leaves_every_rule_undetermined_with_its_missing_facts(pack: CompiledPack) -> None:
    minimal = {
        "schema_version": "1",
        "as_of": "2024-01-15T10:30:00+08:00",
        "account": {"id": "a-1", "product": "jiebei"},
        "line": {"total_limit": 5000, "used": 1000, "available": 0},
    }
    report = pack.diagnose(minimal)
    assert report.findings == []
    assert report.verdict == "blocked"
    decided = {u.rule_id for u in report.undetermined}
    assert len(decided) == len(pack.rules) - _rules_decidable_from_required_fields(pack, minimal)
    assert all(u.missing for u in report.undetermined)
    by_id = {u.rule_id: u.missing for u in report.undetermined}
    assert by_id["LIQ-FUNDER-QUOTA"] == ["funding.funder_quota_remaining_pct"]
    assert set(by_id["BRW-HIGH-DTI"]) == {"credit.monthly_debt_service", "credit.monthly_income"}


def _rules_decidable_from_required_fields(pack: CompiledPack, snapshot: dict[str, Any]) -> int:
    from diagnose.snapshot import contract, facts

    f = facts.derive(contract.validate(snapshot))
    return sum(1 for cr, result in pack.evaluate(f) if result is not None)


HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def test_chinese_texts_are_chinese(pack: CompiledPack) -> None:
    """zh texts may name ids, fact paths and params; no English prose."""
    allowed = re.compile(r"\{[^}]*\}|[A-Z]{2,}(-[A-Z0-9]+)+|[a-z_]+(\[\])?(\.[a-z_0-9]+)+|[a-z0-9]+(_[a-z0-9]+)+|[A-Z]{2,}|App|app|PSI|ABS")
    for cr in pack.rules:
        rule = cr.rule
        texts = [rule.title.zh, rule.explanation.zh] + [t.zh for aud in rule.remedies.values() for t in aud]
        for text in texts:
            assert HAN.search(text), (rule.id, text)
            leftover = LATIN_WORD.findall(allowed.sub("", text))
            assert not leftover, (rule.id, leftover, text)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_verdict_follows_the_contract(pack: CompiledPack, path: Path) -> None:
    data = load_json(path)
    report = pack.diagnose(data)
    line = data["line"]
    refused = (data.get("request") or {}).get("outcome") == "refused"
    gap = line["total_limit"] - line["used"] - line["available"] > 0
    cut = (line.get("previous_total_limit") or 0) > line["total_limit"]
    if line["available"] == 0 or line.get("status", "active") != "active":
        assert report.verdict == "blocked"
    elif gap or cut or refused or report.findings:
        assert report.verdict == "restricted"
    else:
        assert report.verdict == "healthy"
