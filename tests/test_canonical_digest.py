"""The one-pass input digest of snapshot/canonical.py against the report's `input_digest`: the same digest for every snapshot."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from diagnose.report.build import input_digest
from diagnose.snapshot import canonical
from diagnose.snapshot.contract import validate
from tests.conftest import EXAMPLES, examples, load_json

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
