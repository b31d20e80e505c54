"""The snapshot contract: what is accepted, and the message for what is not."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from diagnose.errors import InvalidInput
from diagnose.snapshot import artifact, contract
from diagnose.snapshot.model import Snapshot
from diagnose.snapshot.model import validate as validate_model
from tests.conftest import EXAMPLES, load_json

MINIMAL = {
    "schema_version": "1",
    "as_of": "2024-01-15T10:30:00+08:00",
    "account": {"id": "a-1", "product": "jiebei"},
    "line": {"total_limit": 1000, "used": 200, "available": 800},
}


def problems(data: Any) -> list[str]:
    with pytest.raises(InvalidInput) as info:
        contract.validate(data, source="t.json")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_example_is_valid(path: Any) -> None:
    data = contract.validate(load_json(path))
    assert data["schema_version"] == "1"
    assert contract.unknown_fields(load_json(path)) == []


def test_minimal_snapshot_is_valid_and_absent_fields_stay_absent() -> None:
    data = contract.validate(copy.deepcopy(MINIMAL))
    assert "credit" not in data and "region" not in data["account"]
    assert data["line"]["total_limit"] == 1000.0


def test_times_keep_their_offset_and_dates_are_dates() -> None:
    snap = dict(MINIMAL, line=dict(MINIMAL["line"], expires_on="2026-03-01"))
    data = contract.validate(snap)
    assert data["as_of"].utcoffset().total_seconds() == 8 * 3600
    assert data["line"]["expires_on"].isoformat() == "2026-03-01"
    assert contract.validate(dict(MINIMAL, as_of="2024-01-15T02:30:00Z"))["as_of"].utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"line": {"total_limit": -5, "used": 0, "available": 0}}, "line.total_limit: must be >= 0 (got -5)"),
        ({"as_of": "2024-01-15T10:30:00"}, "as_of: time '2024-01-15T10:30:00' has no UTC offset"),
        ({"as_of": "yesterday"}, "as_of: must be an RFC 3339 time"),
        ({"as_of": "2024-02-30T10:30:00+08:00"}, "as_of: '2024-02-30T10:30:00+08:00' is not a real time"),
        ({"schema_version": "2"}, "schema_version: must be one of '1' (got '2')"),
        ({"schema_version": 1}, "schema_version: must be one of '1' (got 1)"),
        ({"line": {"total_limit": "1000", "used": 0, "available": 0}}, "line.total_limit: must be a number (got '1000')"),
        ({"line": {"total_limit": True, "used": 0, "available": 0}}, "line.total_limit: must be a number (got true)"),
        ({"account": {"id": "x", "product": "p", "kyc": {"status": "weird"}}}, "account.kyc.status: must be one of"),
        ({"account": {"id": "x", "product": "p", "age_years": 30.5}}, "account.age_years: must be a whole number (got 30.5)"),
        ({"account": {"id": "x"}}, "account.product: is required but missing"),
        ({"funding": {"regional_pool_utilization": 1.5}}, "funding.regional_pool_utilization: must be <= 1 (got 1.5)"),
        ({"funding": {"funder_quota_remaining_pct": 101}}, "funding.funder_quota_remaining_pct: must be <= 100 (got 101)"),
        (
            {"line": {"total_limit": 1, "used": 0, "available": 0, "expires_on": "2023-13-01"}},
            "line.expires_on: '2023-13-01' is not a real calendar date",
        ),
        ({"line": {"total_limit": 1, "used": 0, "available": 0, "expires_on": "01/03/2026"}}, "line.expires_on: must be a date YYYY-MM-DD"),
        ({"repayments": [{"amount": -1}]}, "repayments[0].amount: must be >= 0 (got -1)"),
        ({"system": {"batch_window": {"start": "25:00", "end": "02:00"}}}, "system.batch_window.start: must be a local time HH:MM"),
        ({"line": {"total_limit": float("nan"), "used": 0, "available": 0}}, "line.total_limit: must be a finite number"),
        ({"line": {"total_limit": float("inf"), "used": 0, "available": 0}}, "line.total_limit: must be a finite number"),
    ],
)
def test_bad_values_name_the_field_and_the_value(change: dict[str, Any], expected: str) -> None:
    snap = {**copy.deepcopy(MINIMAL), **change}
    found = problems(snap)
    assert any(expected in p for p in found), found


def test_all_problems_are_collected() -> None:
    snap = copy.deepcopy(MINIMAL)
    snap["line"] = {"total_limit": -1, "used": "x"}
    snap["as_of"] = "2024-01-15"
    found = problems(snap)
    assert len(found) == 4, found  # total_limit, used, available missing, as_of


def test_not_an_object() -> None:
    assert problems([1, 2]) == ["(top level): a snapshot must be a JSON object (got a list)"]


def test_unknown_fields_are_named_but_accepted() -> None:
    snap = copy.deepcopy(MINIMAL)
    snap["colour"] = "red"
    snap["line"]["note"] = 1
    snap["repayments"] = [{"id": "r", "extra": 2}]
    snap["extensions"] = {"anything": {"goes": [1, 2]}}
    contract.validate(snap)
    assert contract.unknown_fields(snap) == ["colour", "line.note", "repayments[0].extra"]


def _objects_at(data: Any, where: str) -> list[dict[str, Any]]:
    """The objects of a snapshot at a contract path such as `system.incidents[]`."""
    found = [data]
    for part in where.split("."):
        key = part.removesuffix("[]")
        below = [node[key] for node in found if node.get(key) is not None]
        found = [item for items in below for item in items] if part.endswith("[]") else below
    return found


@pytest.fixture
def sizes_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """contract.checked as a long run does it: unknown fields ignored, then the objects' sizes compared (`keys_kept`)."""
    monkeypatch.setattr(contract, "_kept", contract.keys_kept())


def test_a_long_run_switches_to_the_size_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contract, "CHECK_SIZES_AFTER", 3)
    monkeypatch.setattr(contract, "_validations", 0)
    monkeypatch.setattr(contract, "_kept", None)
    snap = copy.deepcopy(MINIMAL)
    snap["line"]["note"] = 1
    made = [contract.checked(snap) for _ in range(4)]
    assert contract._kept is not None  # the third validation compiled it, the fourth used it
    assert made[0] == made[3] and made[0][1] == ["line.note"]


@pytest.mark.usefixtures("sizes_checked")
@pytest.mark.parametrize("where", [w for w in contract.artifact()["objects"] if w])
def test_an_unknown_field_is_found_in_every_object_of_the_contract(where: str) -> None:
    """The fast validation (unknown fields ignored, objects' sizes compared) names what the forbidding validator names."""
    full = load_json(EXAMPLES / "ops-incident.json")  # an example with every object of the contract
    clean, none = contract.checked(full)
    assert none == []
    for index in range(len(_objects_at(full, where))):
        snap = copy.deepcopy(full)
        _objects_at(snap, where)[index]["zz_not_in_contract"] = 1
        data, unknown = contract.checked(snap)
        assert unknown == contract.unknown_fields(snap) != []
        assert data == clean
        assert all("zz_not_in_contract" not in node for node in _objects_at(data, where))


@pytest.mark.parametrize("fast", [False, True], ids=["forbidding validator", "size check"])
def test_an_unknown_field_beside_an_error_is_still_an_error(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(contract, "_kept", contract.keys_kept() if fast else None)
    snap = copy.deepcopy(MINIMAL)
    snap["line"]["note"] = 1
    snap["line"]["used"] = -5
    assert problems(snap) == ["line.used: must be >= 0 (got -5)"]


@pytest.mark.usefixtures("sizes_checked")
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_the_fast_validation_gives_the_forbidding_validators_output(path: Any) -> None:
    data = load_json(path)
    if not isinstance(data, dict):
        return
    assert contract.keys_kept()(data, contract.checked(data)[0])
    assert contract.checked(data) == (contract.validator("forbid").validate_python(data), [])


def _field(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "typed-dict-field", "schema": schema}


def _object(**fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "typed-dict", "fields": {k: _field(v) for k, v in fields.items()}}


def test_the_size_check_follows_objects_inside_list_items_and_refuses_what_it_cannot_follow(monkeypatch: pytest.MonkeyPatch) -> None:
    """keys_source on contracts other than the shipped one: an object in a list's items, and one behind a function."""
    item = _object(inner={"type": "nullable", "schema": _object(x={"type": "int"})}, n={"type": "int"})
    monkeypatch.setattr(contract, "artifact", lambda: {"core_schema": _object(rows={"type": "list", "items_schema": item})})
    namespace: dict[str, Any] = {}
    exec(contract.keys_source(), namespace)
    kept = namespace["keys_kept"]
    given = {"rows": [{"n": 1, "inner": None}, {"n": 2, "inner": {"x": 1, "zz": 2}}]}
    assert kept(given, given)
    assert not kept(given, {"rows": [{"n": 1, "inner": None}, {"n": 2, "inner": {"x": 1}}]})
    hidden = {"type": "function-before", "function": {"type": "no-info"}, "schema": _object(x={"type": "int"})}
    monkeypatch.setattr(contract, "artifact", lambda: {"core_schema": _object(wrapped=hidden)})
    with pytest.raises(ValueError, match="cannot follow the contract's field 'wrapped'"):
        contract.keys_source()


def test_models_and_compiled_contract_agree(base: dict[str, Any]) -> None:
    model = validate_model(base)
    assert isinstance(model, Snapshot)
    fast = contract.validate(base)
    assert model.model_dump(exclude_none=True, exclude={"extensions"}) == _drop_none(fast)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None and k != "extensions"}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def test_compiled_contract_is_in_sync_with_the_models() -> None:
    """diagnose/snapshot/_contract.json is generated from snapshot/model.py; regenerate with snapshot.artifact.write_artifact()."""
    import orjson

    built = orjson.loads(orjson.dumps(artifact.build_artifact(), option=orjson.OPT_SORT_KEYS))
    assert built == contract.artifact(), "run: python -c 'from diagnose.snapshot import artifact; artifact.write_artifact()'"
