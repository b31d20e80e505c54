"""The report's records compare and print as the dataclasses they are, with the one equality and repr they share."""

from __future__ import annotations

import copy
import dataclasses
import os
from pathlib import Path
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


# --- the ready-made __init__ of each record (records.record, diagnose/_record_inits.py) ------------

INITS = Path(records.__file__).with_name("_record_inits.py")

_INITS_HEAD = '''"""The `__init__` of each record in records.py, as `dataclass` writes it from the record's fields (see `records.record`).

Written by tests/test_records.py, which fails when this file and the fields differ; after changing a
record, `UPDATE_GOLDEN=1 pytest tests/test_records.py` writes it again. Not to be edited by hand.
"""

from __future__ import annotations

from typing import Any

_FACTORY: Any = object()
"""The default of a field whose default is made afresh for each record (a list, a dict), as dataclass's own sentinel."""
'''


def inits_source() -> str:
    """What `dataclass` writes as each record's `__init__`, one function per record in the order records.py declares them."""
    out = [_INITS_HEAD]
    for cls in CLASSES:
        params, body = ["    self: Any,"], []
        for f in dataclasses.fields(cls):
            assert f.init and not f.kw_only, f"{cls.__name__}.{f.name}: extend inits_source for it"
            if f.default is not dataclasses.MISSING:
                assert f.default is None or type(f.default) in (bool, int, float, str), f"{cls.__name__}.{f.name}"
                assert not isinstance(f.default, str) or f.default.isidentifier(), f"{cls.__name__}.{f.name}: extend inits_source for it"
                shown = f'"{f.default}"' if isinstance(f.default, str) else repr(f.default)  # as the formatter writes it
                params.append(f"    {f.name}: Any = {shown},")
                body.append(f"    self.{f.name} = {f.name}")
            elif f.default_factory is not dataclasses.MISSING:
                assert f.default_factory in (list, dict), f"{cls.__name__}.{f.name}: a factory other than list or dict"
                params.append(f"    {f.name}: Any = _FACTORY,")
                body.append(f"    self.{f.name} = {f.default_factory.__name__}() if {f.name} is _FACTORY else {f.name}")
            else:
                params.append(f"    {f.name}: Any,")
                body.append(f"    self.{f.name} = {f.name}")
        assert not hasattr(cls, "__post_init__"), f"{cls.__name__}: dataclass would call __post_init__"
        out.append(f"\n\ndef {cls.__name__}(\n" + "\n".join(params) + "\n) -> None:\n" + "\n".join(body) + "\n")
    return "".join(out)


def test_the_ready_made_inits_are_what_dataclass_writes_from_the_fields() -> None:
    source = inits_source()
    if os.environ.get("UPDATE_GOLDEN") == "1":
        INITS.write_text(source, encoding="utf-8")
    assert INITS.read_text(encoding="utf-8") == source, "a record's fields changed: UPDATE_GOLDEN=1 pytest tests/test_records.py"


def test_each_record_is_built_as_its_dataclass_twin_builds_it() -> None:
    for cls in CLASSES:
        fields = dataclasses.fields(cls)
        twin = dataclasses.make_dataclass(
            cls.__name__, [(f.name, Any, dataclasses.field(default=f.default, default_factory=f.default_factory)) for f in fields], eq=False
        )
        required = [f for f in fields if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
        args = [f"value of {f.name}" for f in required]
        ours, theirs = cls(*args), twin(*args)
        assert vars(ours) == vars(theirs) and list(vars(ours)) == [f.name for f in fields], cls.__name__
        every = {f.name: [f.name] for f in fields}
        assert vars(cls(**every)) == vars(twin(**every)), cls.__name__
        fresh = [f.name for f in fields if f.default_factory is not dataclasses.MISSING]
        if fresh:  # a default list or dict is made afresh for each record
            assert all(getattr(cls(*args), n) is not getattr(ours, n) for n in fresh), cls.__name__
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert cls.__init__.__code__.co_filename == str(INITS), (
            f"{cls.__name__} builds with dataclass's own __init__: is _record_inits.py stale?"
        )


def test_a_stale_ready_made_init_is_never_used(monkeypatch: Any) -> None:
    from diagnose import _record_inits

    def stale(self: Any, fact: Any) -> None:
        self.fact = fact

    monkeypatch.setattr(_record_inits, "Probe", stale, raising=False)

    @records.record(eq=False, repr=False)
    class Probe(records._Data):
        fact: str
        op: str = "=="

    assert Probe.__init__ is not stale
    assert vars(Probe("x")) == {"fact": "x", "op": "=="}
