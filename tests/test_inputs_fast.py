"""The fast JSON path reads exactly what the careful parser reads, or steps aside."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from diagnose.errors import InvalidInput
from diagnose.snapshot import reader as inputs
from tests.conftest import EXAMPLES, examples


def careful(text: str) -> Any:
    try:
        return inputs._parse_exactly(text, "t")
    except InvalidInput:
        return InvalidInput


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_examples_take_the_fast_path_and_read_the_same(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    fast = inputs._fast(text.encode(), "t")
    assert fast is not inputs._SLOW
    assert fast == careful(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": {"b": 1, "b": 1}}',
        '{"a": "x\\": 1", "a": 2}',
        '{"a": [{"k": 1, "k": 2}]}',
        '{"a" : 1, "a" : 2}',
        '{"" : {"": null}, "" : null}',
        '{"a": {"b": 1}, "a" :2}',
        '{"a": 12345678901234567}',
        '{"a": 100000000000000000000000}',
        '{"a": "\\ud800"}',
        '{"\\u0061": 1, "a": 2}',
        '{"a": NaN}',
        "[1, 2]",
        "1",
    ],
)
def test_what_the_fast_path_must_leave_to_the_careful_one(text: str) -> None:
    assert inputs._fast(text.encode(), "t") is inputs._SLOW


keys = st.text(alphabet=st.sampled_from('ab":\\ é'), min_size=0, max_size=4)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60), st.floats(allow_nan=False, allow_infinity=False), keys)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=12)


@examples(3000)
@given(st.lists(st.tuples(keys, values), max_size=5), st.sampled_from([", ", ",", " , "]), st.sampled_from([": ", ":", " : "]))
def test_fast_path_agrees_with_the_careful_parser_on_any_object(pairs: list[tuple[str, Any]], comma: str, colon: str) -> None:
    """Objects written by hand (so keys may repeat), with any spacing: the fast path reads the same or steps aside."""
    text = "{" + comma.join(json.dumps(k) + colon + json.dumps(v) for k, v in pairs) + "}"
    fast = inputs._fast(text.encode(), "t")
    if fast is not inputs._SLOW:
        assert fast == careful(text)


@pytest.mark.parametrize(
    "raw",
    [
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": 1}'.encode("utf-16"),
        '{"a": 1}'.encode("utf-16-le"),
        '{"a": 1}'.encode("utf-32"),
        b'{"a": "\xed\xa0\x80"}',
        b'{"a": "\xc0\xaf"}',
        b'{"a": "\xff"}',
        b'{"a": "x\x00"}',
        b"   ",
        b"",
        b'{"a": 1}\x00',
        b'{"a": 1e400}',
        b'{"a": 1, "a": 1}',
        b'{"a": "1:2", "a": 1}',
        b'{"a": [' + b",".join([b"1"] * 10_001) + b"]}",
        b'{"a": ' * 70 + b"1" + b"}" * 70,
        '{"名": "值:", "b": 2}'.encode(),
    ],
)
def test_load_reads_bytes_as_decode_then_parse_does(raw: bytes) -> None:
    """The batch and `run` read bytes with `load`: its answer or its error is that of decoding, then parsing."""

    def outcome(read: Any) -> Any:
        try:
            return read()
        except InvalidInput as exc:
            return [(p.path, p.message, p.line, p.column) for p in exc.problems], exc.hint

    assert outcome(lambda: inputs.load(raw, "t")) == outcome(lambda: inputs.parse(inputs.decode(raw, "t"), "t"))
