"""The one-pass input digest of snapshot/canonical.py against its definition written plainly: the same digest for every snapshot."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from diagnose.snapshot import canonical
from diagnose.snapshot.contract import validate
from tests.conftest import EXAMPLES, examples, load_json


def input_digest(snapshot: Any) -> str:
    """The digest as docs/report.md defines it, one recursive step per value (what the report used before)."""
    return "sha256:" + hashlib.sha256(orjson.dumps(_plain(snapshot), option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()


def _plain(value: Any) -> Any:
    if type(value) is dict:  # an object with nothing known in it is as good as absent
        out = {k: _plain(v) for k, v in value.items() if v is not None}
        return {k: v for k, v in out.items() if v != {}}
    if type(value) is list:
        return [_plain(v) for v in value]
    if type(value) is float and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([3.0, -0.0, 2.0**53, 2.0**53 + 2, 1e300]),
    st.text(max_size=5),
)
trees = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=25,
)


@examples(400)
@given(st.dictionaries(st.text(max_size=3), trees, max_size=5))
def test_same_digest_as_the_report_on_any_tree(tree: dict[str, Any]) -> None:
    assert canonical.digest(tree) == input_digest(tree)


def test_same_digest_on_every_example() -> None:
    paths = sorted(EXAMPLES.glob("*.json"))
    assert len(paths) > 30
    for path in paths:
        data = validate(load_json(path))
        assert canonical.digest(data) == input_digest(data), path.name


def test_what_is_the_same_and_what_is_not() -> None:
    assert canonical.digest({"a": 3, "b": None, "c": {"d": None}}) == canonical.digest({"a": 3.0})
    assert canonical.digest({"a": [None, {}]}) != canonical.digest({"a": []})  # items of a list stay
    assert canonical.digest({"a": 2.0**53 + 2}) != canonical.digest({"a": 2**53 + 2})  # no exact whole number
