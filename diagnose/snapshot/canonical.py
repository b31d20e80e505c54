"""The input digest of a validated snapshot: sha256 of its canonical JSON, in one pass that calls no function for a scalar."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

EXACT = 2**53
"""Beyond it a float is no exact whole number."""


def digest(snapshot: Mapping[str, Any]) -> str:
    """sha256 of the validated snapshot as canonical JSON: sorted keys, no spaces, times as RFC 3339 text.

    Null (not known) and an empty object are the same as absent, and a whole number the same written 3 or 3.0: the same
    snapshot read from a file or from a data lake's columns has one digest. One pass that calls no function for a scalar and
    builds each object once: half the time of the plain recursive definition, which a test compares it with.
    """
    return digest_of(canonical(snapshot))


def digest_of(tree: Mapping[str, Any], *, ordered: bool = False) -> str:
    """The digest of a snapshot already in its canonical form (what `canonical` returns).

    ``ordered``: every object of the tree has its keys in order already (what the facts' walk makes),
    so that orjson need not sort them: a fifth of the serialisation (bench/instructions.py).
    """
    if ordered:
        return "sha256:" + hashlib.sha256(orjson.dumps(tree)).hexdigest()
    try:
        text = orjson.dumps(tree, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a key that is not text (the API takes any mapping): OPT_NON_STR_KEYS, slower for every object
        text = orjson.dumps(tree, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return "sha256:" + hashlib.sha256(text).hexdigest()


def canonical(node: Mapping[str, Any]) -> dict[str, Any]:
    """An object without its unknown (null) values and empty objects, its whole floats as integers; its objects and lists likewise."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        kind = type(value)
        if kind is dict:
            value = canonical(value)
            if not value:
                continue
        elif kind is list:
            value = items(value)
        elif kind is float:
            if value.is_integer() and abs(value) <= EXACT:
                value = int(value)
        elif value is None:
            continue
        out[key] = value
    return out


def items(values: list[Any]) -> list[Any]:
    """A list's canonical form: its objects and lists likewise; an empty object or a null stays (it is an item)."""
    out = []
    for value in values:
        kind = type(value)
        if kind is dict:
            value = canonical(value)
        elif kind is list:
            value = items(value)
        elif kind is float and value.is_integer() and abs(value) <= EXACT:
            value = int(value)
        out.append(value)
    return out


def ordered(value: Any) -> Any:
    """A canonical form with the keys of every object in order: for free-form data (`extensions`), whose keys come as sent."""
    if type(value) is dict:
        return {key: ordered(value[key]) for key in sorted(value)}
    if type(value) is list:
        return [ordered(item) for item in value]
    return value
