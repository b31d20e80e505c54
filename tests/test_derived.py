"""Derived facts are declared once as data (snapshot/derived.py), and a pack may word the clear steps of its facts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from diagnose import load_pack
from diagnose.errors import InvalidPack
from diagnose.explain import clearing
from diagnose.snapshot import contract, derived, facts
from tests.conftest import EXAMPLES, ROOT, load_json


def test_the_catalog_and_what_to_collect_are_read_off_the_one_table() -> None:
    catalog = facts.catalog()
    for row in derived.DERIVED:
        spec = catalog[row.path]
        assert spec.derived and (spec.kind, spec.unit, spec.description) == (row.kind, row.unit, row.description)
        assert facts.to_collect(row.path, {}) == list(row.inputs or (row.path,))
        for name in row.inputs:
            assert name in catalog or name in ("repayments", "loans", "system.maintenance", "system.incidents"), (row.path, name)
        if row.by not in ("account", "calendar"):  # those two are computed by derive() itself
            assert callable(getattr(facts, f"_derive_{row.by}", None)), row


def test_derive_computes_only_facts_the_table_declares() -> None:
    declared = {row.path for row in derived.DERIVED}
    fields = {path for path, spec in facts.catalog().items() if not spec.derived}
    for path in sorted(EXAMPLES.glob("*.json")):
        computed = facts.derive(contract.validate(load_json(path)))
        extra = {p for p in computed if p not in fields and p not in declared and not p.startswith("extensions.")}
        assert not extra, (path.name, sorted(extra))


def test_every_built_in_clear_word_names_a_known_fact() -> None:
    for fact, (en, zh) in clearing._WORDS.items():
        assert facts.is_fact_path(fact) and en and zh, fact


def _pack_with(tmp_path: Path, clear_steps: str) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "packs" / "extends-default", pack)
    manifest = pack / "pack.yaml"
    text = manifest.read_text(encoding="utf-8").replace("../../../rules/fixtures/base.json", str(ROOT / "rules" / "fixtures" / "base.json"))
    manifest.write_text(text.replace("funder_quota_low_pct: 2", "funder_quota_low_pct: 5") + clear_steps, encoding="utf-8")
    return pack


def test_a_pack_words_the_clear_step_of_a_fact_in_its_own_terms(tmp_path: Path) -> None:
    words = """clear_steps:
  funding.funder_quota_remaining_pct:
    en: Acme Treasury tops up the partner quota (left now {funding.funder_quota_remaining_pct|pct})
    zh: Acme 资金部补充资金方额度（当前剩余 {funding.funder_quota_remaining_pct|pct}）
"""
    pack = load_pack(_pack_with(tmp_path, words))
    snapshot = load_json(EXAMPLES / "liq-funder-quota.json")  # 2.3% of the quota left: below the 5% the helper sets
    for lang, said in (
        ("en", "Acme Treasury tops up the partner quota (left now 2.3%)"),
        ("zh", "Acme 资金部补充资金方额度（当前剩余 2.3%）"),
    ):
        finding = next(f for f in pack.diagnose(snapshot, lang=lang).findings if f.rule_id == "LIQ-FUNDER-QUOTA")
        assert [c.text for c in finding.clears_when] == [said]
    default = next(f for f in load_pack().diagnose(snapshot).findings if f.rule_id == "LIQ-FUNDER-QUOTA")
    assert default.clears_when[0].text == "the funding partner's quota is replenished"


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (
            "clear_steps:\n  funding.funder_quota_left:\n    en: x\n    zh: x\n",
            "clear_steps names unknown fact `funding.funder_quota_left`",
        ),
        (
            "clear_steps:\n  funding.funder_paused:\n    en: '{funding.nope}'\n    zh: x\n",
            "clear_steps.funding.funder_paused.en: unknown fact `funding.nope`",
        ),
    ],
)
def test_clear_steps_that_name_what_does_not_exist_are_refused(tmp_path: Path, words: str, message: str) -> None:
    with pytest.raises(InvalidPack) as info:
        load_pack(_pack_with(tmp_path, words))
    assert message in str(info.value)
