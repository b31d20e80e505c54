"""What the data supports: local time, incidents that touch lending, explanations, applicability, partial knowledge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from diagnose.errors import InvalidInput
from tests.conftest import EXAMPLES, load_json


def _fired(pack: Any, snapshot: dict[str, Any]) -> set[str]:
    return {f.rule_id for f in pack.diagnose(snapshot).findings}


def _undetermined(pack: Any, snapshot: dict[str, Any]) -> set[str]:
    return {u.rule_id for u in pack.diagnose(snapshot).undetermined}


# --- local time (system.timezone) ---------------------------------------------------------


@pytest.fixture
def batch() -> dict[str, Any]:
    return load_json(EXAMPLES / "ops-batch-window.json")  # type: ignore[no-any-return]


def test_a_utc_export_sees_the_batch_running_in_beijing(pack: Any, batch: dict[str, Any]) -> None:
    """23:35 in Beijing exported as 15:35Z: read in the offset it was written in, the batch seemed idle."""
    batch["as_of"] = "2024-05-20T15:35:00Z"
    assert "OPS-BATCH-WINDOW" in _fired(pack, batch)  # the CNY default, Asia/Shanghai
    report = pack.diagnose(batch)
    finding = next(f for f in report.findings if f.rule_id == "OPS-BATCH-WINDOW")
    assert "02:00" in finding.explanation


def test_the_snapshot_names_the_lenders_zone(pack: Any, batch: dict[str, Any]) -> None:
    batch["as_of"] = "2024-05-20T15:35:00Z"
    batch["system"]["timezone"] = "Europe/London"  # 16:35 there: outside 22:00-02:00
    assert "OPS-BATCH-WINDOW" not in _fired(pack, batch)
    batch["system"]["timezone"] = "Asia/Shanghai"
    assert "OPS-BATCH-WINDOW" in _fired(pack, batch)


def test_without_a_zone_clock_times_are_unknown_not_as_of_offset(pack: Any, batch: dict[str, Any]) -> None:
    batch["line"]["currency"] = "EUR"  # no documented default: do not guess from the offset
    assert "OPS-BATCH-WINDOW" in _undetermined(pack, batch)


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../etc/passwd", "", 8])
def test_a_bad_zone_is_an_input_error(pack: Any, batch: dict[str, Any], bad: Any) -> None:
    batch["system"]["timezone"] = bad
    with pytest.raises(InvalidInput) as err:
        pack.diagnose(batch)
    assert err.value.problems[0].path == "system.timezone"
    assert "IANA" in err.value.problems[0].message


def test_model_and_compiled_contract_agree_on_zones(batch: dict[str, Any]) -> None:
    from diagnose.snapshot import contract, model

    batch["system"]["timezone"] = "Asia/Shanghai"
    assert contract.validate(copy.deepcopy(batch))["system"]["timezone"] == model.validate(batch).system.timezone == "Asia/Shanghai"  # type: ignore[union-attr]


# --- incidents count only when they touch lending, limits or repayments --------------------


@pytest.fixture
def incident() -> dict[str, Any]:
    return load_json(EXAMPLES / "ops-incident.json")  # type: ignore[no-any-return]


def test_an_incident_of_push_and_banner_does_not_tell_the_customer_of_a_fault(pack: Any, incident: dict[str, Any]) -> None:
    assert "OPS-INCIDENT" in _fired(pack, incident)  # limit-restore, repayment-gateway
    incident["system"]["incidents"][0]["components"] = ["app-push", "marketing-banner"]
    assert "OPS-INCIDENT" not in _fired(pack, incident)  # any open incident fired it before


def test_an_incident_without_components_counts_and_the_evidence_says_so(pack: Any, incident: dict[str, Any]) -> None:
    for missing in (None, []):
        incident["system"]["incidents"][0]["components"] = missing
        finding = next(f for f in pack.diagnose(incident).findings if f.rule_id == "OPS-INCIDENT")
        (ev,) = finding.evidence
        assert (ev.fact, ev.actual, ev.result) == ("system.open_incidents_unscoped", 1, True)


def test_the_components_that_touch_lending_are_a_pack_parameter(incident: dict[str, Any]) -> None:
    import diagnose

    incident["system"]["incidents"][0]["components"] = ["app-push"]
    pack = diagnose.load_pack()
    rules = pack.data["rules"]
    params = dict(pack.data["parameters"]) | {"incident_components": ["app-push"]}
    widened = type(pack)(dict(pack.data) | {"parameters": params, "rules": rules})
    assert "OPS-INCIDENT" in _fired(widened, incident)
    assert "OPS-INCIDENT" not in _fired(pack, incident)


def test_intersects_needs_a_list_to_compare_with() -> None:
    from diagnose.pack.loader import Leaf

    with pytest.raises(ValueError, match="needs a list"):
        Leaf(fact="system.open_incident_components", op="intersects", value="limit")
