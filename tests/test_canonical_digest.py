"""The one-pass input digest of snapshot/canonical.py against its definition written plainly: the same digest for every snapshot."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import diagnose
from diagnose.errors import InvalidInput
from diagnose.portfolio.generate import Generator, load_templates
from diagnose.snapshot import canonical, facts, walk
from diagnose.snapshot.contract import validate
from diagnose.snapshot.reader import parse
from tests.conftest import EXAMPLES, examples, load_json
from tests.test_properties import mutated_snapshots


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


def test_keys_that_are_not_text() -> None:
    tree = {"a": {1: "x", 2.0: None, "b": {3: 4.0}}, "c": [{True: None}]}
    assert canonical.digest(tree) == input_digest(tree)
    assert canonical.digest(tree) == canonical.digest({"a": {"1": "x", "b": {"3": 4}}, "c": [{"true": None}]})


# --- the digest the facts' walk makes on the way (`facts.derive_digested`, what a report uses) --------------


def flattened(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's fields by dotted path as `facts` lists them, written plainly: each object's keys, then its objects, the last first."""
    objects = set(canonical_objects())
    out: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], str]] = [(snapshot, "")]
    while stack:
        node, where = stack.pop()
        for key, value in node.items():
            if value is None:
                continue
            path = f"{where}.{key}" if where else key
            out[path] = value
            if path in objects and type(value) is dict:
                stack.append((value, path))
    return out


def canonical_objects() -> list[str]:
    from diagnose.snapshot.contract import artifact

    return [w for w in artifact()["objects"] if w and not w.endswith("[]")]


GENERATED = walk.generated_walk()
"""The walk a long run switches to (`walk.WALKS_BEFORE_GENERATING`), made here so that every test below holds it too."""


def _same_as_plainly(data: dict[str, Any]) -> None:
    f, digest = facts.derive_digested(data)
    assert digest == input_digest(data) == canonical.digest(data)
    assert f == facts.derive(data)
    plain = flattened(data)
    fields = [(k, v) for k, v in f.items() if k in plain and not k.startswith("extensions.")]
    assert fields == [(k, v) for k, v in plain.items() if not k.startswith("extensions.")]  # the same fields, in the same order
    for way in (walk.plain_walk, GENERATED):
        out: dict[str, Any] = {}
        tree = way(data, out)
        assert canonical.digest_of(tree) == canonical.digest_of(tree, ordered=True) == digest, way
        assert tree == canonical.ordered(tree) and orjson.dumps(tree) == orjson.dumps(tree, option=orjson.OPT_SORT_KEYS), way
        assert list(out.items()) == [(k, v) for k, v in plain.items() if not k.startswith("extensions.")], way


def test_the_facts_walk_gives_the_digest_of_every_example() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        _same_as_plainly(validate(load_json(path)))


def test_the_facts_walk_gives_the_digest_of_generated_snapshots() -> None:
    pack = diagnose.load_pack()
    checked = 0
    for line in Generator(pack, load_templates(pack), seed=5).lines(600, corrupt_rate=0.2):
        try:
            data = validate(parse(line.text, "generated"))
        except InvalidInput:
            continue
        _same_as_plainly(data)
        checked += 1
    assert checked > 450


def test_the_facts_walk_drops_each_object_left_empty() -> None:
    """Every object of the contract in turn emptied, or with each of its fields null: the digest leaves it out, and a parent left empty."""
    base = load_json(EXAMPLES / "contract-example.json")
    tried = 0
    for where in canonical_objects():
        *above, name = where.split(".")
        for emptied in ({}, "nulls"):
            doc = copy.deepcopy(base)
            parent = doc
            for key in above:
                parent = parent.setdefault(key, {})
            if emptied == "nulls":
                if not isinstance(parent.get(name), dict):
                    continue
                parent[name] = dict.fromkeys(parent[name])
            else:
                parent[name] = {}
            try:
                data = validate(doc)
            except InvalidInput:
                continue  # a required field: such a snapshot is refused before any digest
            _same_as_plainly(data)
            tried += 1
    assert tried > 15


@examples(400)
@given(mutated_snapshots())
def test_the_facts_walk_gives_the_digest_of_any_mutation_of_a_real_snapshot(doc: Any) -> None:
    try:
        data = validate(doc)
    except InvalidInput:
        return
    _same_as_plainly(data)


def test_a_long_run_switches_to_the_generated_walk_and_keeps_its_facts(monkeypatch: Any) -> None:
    monkeypatch.setattr(walk, "_generated", None)
    monkeypatch.setattr(walk, "_walked", walk.WALKS_BEFORE_GENERATING - 2)
    data = validate(load_json(EXAMPLES / "contract-example.json"))
    made = [facts.derive_digested(data) for _ in range(3)]
    assert walk._generated is not None  # the second walk compiled it, the third used it
    assert made[0] == made[1] == made[2]
    assert list(made[0][0]) == list(made[2][0])


@pytest.mark.parametrize("make", ["walk", "keys"])
def test_the_generated_code_takes_only_plain_field_names_from_the_contract(monkeypatch: Any, make: str) -> None:
    """Both functions made from the contract: the walk, and the size check of the fast validation (contract.keys_kept)."""
    from diagnose.snapshot import contract

    source = walk.source if make == "walk" else contract.keys_source
    real = contract.artifact()
    for name in ("a'] = 1; import os; x['", "A", "1st", "a.b", "a b", ""):
        hostile = copy.deepcopy(real)
        hostile["core_schema"]["fields"][name] = hostile["core_schema"]["fields"]["schema_version"]
        monkeypatch.setattr(contract, "artifact", lambda hostile=hostile: hostile)
        try:
            source()
        except ValueError as exc:
            assert repr(name) in str(exc)
        else:
            raise AssertionError(f"{name!r} made source")


def test_both_walks_write_whole_floats_as_the_definition_does_up_to_the_edge_of_exactness() -> None:
    base = load_json(EXAMPLES / "contract-example.json")
    tried = []
    for value in (3.0, 0.5, 2.0**53, 2.0**53 + 2, 1e300, 0.0):
        doc = copy.deepcopy(base)
        doc["credit"]["income_avg_3y"] = value
        doc["line"]["evaluation"] = {"in_progress": False, "started_at": None}  # an object of nulls: as good as absent
        data = validate(doc)
        assert data["credit"]["income_avg_3y"] == value
        _same_as_plainly(data)
        tried.append(value)
    assert 2.0**53 in tried and 2.0**53 + 2 in tried


def test_the_contract_lists_each_objects_fields_in_key_order() -> None:
    """The walks write the canonical form in the order the validator writes fields, and the digest does not sort it again."""
    from diagnose.snapshot.contract import artifact

    def objects(schema: Any) -> Any:
        if isinstance(schema, dict):
            if schema.get("type") == "typed-dict":
                yield schema
            for value in schema.values():
                yield from objects(value)
        elif isinstance(schema, list):
            for value in schema:
                yield from objects(value)

    found = list(objects(artifact()["core_schema"]))
    assert len(found) >= 20
    for schema in found:
        assert list(schema["fields"]) == sorted(schema["fields"])
    # the artifact is written with its keys sorted (artifact.write_artifact), and tests/test_snapshot.py holds it to a fresh build


def test_free_form_extensions_are_digested_in_key_order() -> None:
    base = load_json(EXAMPLES / "contract-example.json")
    base["extensions"] = {
        "zeta": {"b": 1, "a": [{"y": 2.0, "x": None, "w": {"q": 1, "p": {}}}]},
        "alpha": 3.0,
        "mid": {},
        "中文": "值",
        "Z": [1, {"k": 1}],
    }
    data = validate(base)
    _same_as_plainly(data)
    reversed_keys = copy.deepcopy(base)
    reversed_keys["extensions"] = dict(reversed(list(base["extensions"].items())))
    reversed_keys["extensions"]["zeta"] = {"a": base["extensions"]["zeta"]["a"], "b": 1}
    assert facts.derive_digested(validate(reversed_keys))[1] == facts.derive_digested(data)[1]
    for way in (walk.plain_walk, GENERATED):
        tree = way(data, {})
        assert list(tree["extensions"]) == ["Z", "alpha", "zeta", "中文"]
        assert tree["extensions"]["zeta"] == {"a": [{"w": {"q": 1}, "y": 2}], "b": 1}
