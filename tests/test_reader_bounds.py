"""The reader's bounds on large documents (depth, entries) on its fast path, and the garbage collector left as it was found."""

from __future__ import annotations

import gc
import io
import json
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from diagnose.api import CompiledPack
from diagnose.errors import InvalidInput
from diagnose.portfolio import batch as core
from diagnose.snapshot import reader
from tests.conftest import EXAMPLES, load_json

HEALTHY: dict[str, Any] = load_json(EXAMPLES / "healthy.json")


def nested(levels: int, kind: str) -> Any:
    """``levels`` containers, one in the other, around a number."""
    value: Any = 1
    for _ in range(levels):
        value = [value] if kind == "list" else {"k": value}
    return value


def with_part(where: str, value: Any) -> bytes:
    doc = json.loads(json.dumps(HEALTHY))
    if where == "extensions":
        doc["extensions"] = {"deep": value}
    else:  # a field the contract does not define, inside a known object
        doc["line"]["unknown"] = value
    # Many repayments: the text has many containers and commas, so the fast path walks them
    doc["repayments"] = doc["repayments"] * 400
    return orjson.dumps(doc)


@pytest.mark.parametrize("kind", ["list", "dict"])
@pytest.mark.parametrize("where", ["extensions", "unknown field"])
def test_depth_bound_is_exact_on_large_documents(kind: str, where: str) -> None:
    # the document is 1 level, its part 1 more: 62 containers in it reach 64 levels, 63 pass them
    fits = with_part(where, nested(62, kind))
    assert len(fits) > 64 * 1024  # read with the collector paused
    assert reader.load(fits, "s.json")["repayments"]
    with pytest.raises(InvalidInput) as info:
        reader.load(with_part(where, nested(63, kind)), "s.json")
    assert "nesting deeper than 64 levels" in str(info.value)


@pytest.mark.parametrize("where", ["extensions", "unknown field"])
def test_entry_bound_is_exact(where: str) -> None:
    assert len(reader.load(with_part(where, list(range(10_000))), "s.json")["repayments"]) == 400
    with pytest.raises(InvalidInput) as info:
        reader.load(with_part(where, list(range(10_001))), "s.json")
    assert "a list with 10,001 entries; at most 10,000 are accepted" in str(info.value)


@pytest.fixture
def collector() -> Iterator[None]:
    before = gc.isenabled(), gc.get_threshold(), gc.get_freeze_count()
    yield
    gc.enable() if before[0] else gc.disable()
    gc.set_threshold(*before[1])
    gc.unfreeze()
    assert (gc.isenabled(), gc.get_threshold()) == before[:2]


@pytest.mark.usefixtures("collector")
def test_large_read_leaves_the_collector_as_it_was() -> None:
    raw = with_part("extensions", [1, 2])
    gc.enable()
    reader.load(raw, "s.json")
    assert gc.isenabled()
    with pytest.raises(InvalidInput):
        reader.load(raw[:-5], "s.json")  # broken: the careful parser says where, the collector is back
    assert gc.isenabled()
    gc.disable()
    reader.load(raw, "s.json")
    assert not gc.isenabled()  # a caller's choice stands


@pytest.mark.usefixtures("collector")
def test_batch_run_restores_the_collector(pack: CompiledPack) -> None:
    gc.unfreeze()
    threshold = gc.get_threshold()
    raw = orjson.dumps(HEALTHY)
    record = core.RawRecord("in.jsonl", 1, raw, len(raw))
    out, err = io.BytesIO(), io.BytesIO()
    result = core.run(iter([record]), core.Sinks(out, err), pack, workers=1)
    assert result.diagnosed == 1 and out.getvalue().count(b"\n") == 1
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_compact_text_takes_the_fast_path_and_duplicates_do_not() -> None:
    compact = orjson.dumps(HEALTHY)
    assert reader._fast(compact, "s.json") == HEALTHY
    duplicated = compact.replace(b'"as_of":', b'"as_of":"2024-01-01T00:00:00Z","as_of":', 1)
    assert reader._fast(duplicated, "s.json") is reader._SLOW
    with pytest.raises(InvalidInput) as info:
        reader.load(duplicated, "s.json")
    assert "duplicate key 'as_of' in one object" in str(info.value)
