"""The report's records compare and print as the dataclasses they are, with the one equality and repr they share."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from diagnose import records
from diagnose.errors import InvalidInput
from tests.conftest import EXAMPLES, load_json

CLASSES = [c for c in vars(records).values() if isinstance(c, type) and dataclasses.is_dataclass(c) and issubclass(c, records._Data)]


def _dataclass_repr(value: Any) -> str:
    """What `dataclass` itself writes as the repr: the class name and every field, in order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={_dataclass_repr(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__qualname__}({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_dataclass_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_dataclass_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


def test_every_record_is_a_mutable_dataclass_value() -> None:
    assert len(CLASSES) == 17
    for cls in CLASSES:
        assert "__slots__" not in vars(cls), f"{cls.__name__}: orjson writes a slotted dataclass field by field, slowly"
        assert cls.__hash__ is None, f"{cls.__name__} is a mutable value: not hashable, as a dataclass with eq is"


def _records_in(value: Any) -> Any:
    if isinstance(value, records._Data):
        yield value
        for f in dataclasses.fields(value):  # type: ignore[arg-type]
            yield from _records_in(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _records_in(v)


def test_every_record_of_every_report_holds_its_fields_and_nothing_else(pack: Any) -> None:
    # orjson writes a record from its instance dict: an attribute set beside the fields would be in the JSON.
    seen = set()
    for path in sorted(EXAMPLES.glob("*.json")):
        snapshot = load_json(path)
        for lang in ("en", "zh"):
            for options in ({}, {"explain": True, "timeline": True}, {"audience": "customer"}):
                try:
                    report = pack.diagnose(snapshot, lang=lang, **options)
                except InvalidInput:  # the examples of bad input
                    continue
                for rec in _records_in(report):
                    names = [f.name for f in dataclasses.fields(rec)]  # type: ignore[arg-type]
                    assert list(vars(rec)) == names, f"{path.name}: {type(rec).__name__} holds {sorted(set(vars(rec)) - set(names))}"
                    seen.add(type(rec))
    assert len(seen) >= 12, sorted(c.__name__ for c in seen)


@pytest.mark.parametrize("name", ["contract-example", "prd-payment-allocation", "healthy", "ops-repayment-unposted"])
def test_reports_compare_and_print_as_dataclasses(name: str, pack: Any) -> None:
    report = pack.diagnose(load_json(EXAMPLES / f"{name}.json"), explain=True, timeline=True)
    assert repr(report) == _dataclass_repr(report)
    twin = copy.deepcopy(report)
    assert twin == report
    assert (twin != report) is False
    assert dataclasses.replace(report, lang="zh" if report.lang == "en" else "en") != report
    if report.findings:
        changed = copy.deepcopy(report)
        changed.findings[-1].evidence = [*changed.findings[-1].evidence, changed.findings[-1].evidence[0]]
        assert changed != report, "a difference deep inside is a difference"
    assert (report == report.line) is False and report.__eq__(report.line) is NotImplemented
