"""The report's records compare and print as the dataclasses they are, with the one equality and repr they share."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from diagnose import records
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


def test_every_record_is_a_slotted_dataclass_whose_slots_are_its_fields() -> None:
    assert len(CLASSES) == 17
    for cls in CLASSES:
        assert cls.__slots__ == tuple(f.name for f in dataclasses.fields(cls)), cls.__name__
        assert cls.__hash__ is None, f"{cls.__name__} is a mutable value: not hashable, as a dataclass with eq is"


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
