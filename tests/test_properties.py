"""Property-based tests: arbitrary JSON and arbitrary damage to real snapshots never crash the API or the CLI.

Every property holds for any input: the API returns a Report or raises InvalidInput, the CLI exits
0 with a JSON report or 4 with one message, and nothing else (no traceback, no internal error).

Example counts follow the profile (tests/conftest.py): under ``ci`` (what .ci/run sets) 2,000 per
property, derandomized so CI is repeatable; ``nightly`` ten times that, random; the default
``quick`` a twentieth, for the README's `pytest`.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import re
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st

import diagnose
from diagnose import cli
from diagnose.cli import main
from diagnose.errors import InvalidInput
from diagnose.report.formats import Options, ReportFormat, renderer
from diagnose.snapshot.reader import MAX_INT, load
from tests.conftest import EXAMPLES, examples

PROFILE = examples(2_000)
LIGHT = examples(200)
"""For the slower properties (every format rendered, YAML files parsed): a tenth of the examples."""

PACK = diagnose.load_pack()  # one pack for every example: loading is what the pack cache is for, not what is tested here
COMMAND = typer.main.get_command(cli.app)
SNAPSHOTS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]

# --- strategies -------------------------------------------------------------------------

# Whole numbers within the documented range (inputs.MAX_INT). Larger ones are refused by the CLI (a property
# below checks) but the API takes them as they come: see test_hostile.py for the open report on that.
ints = st.integers(min_value=-MAX_INT, max_value=MAX_INT)
scalars = st.none() | st.booleans() | ints | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=12), kids, max_size=5), max_leaves=25
)
# Values that tend to sit on an edge: limits of the contract, text that means something to a terminal or a
# Markdown renderer, dates and times at the calendar's ends and in between.
edges = st.sampled_from(
    [0, -1, 1, 0.5, 1e-308, 1e308, -1e308, MAX_INT, -MAX_INT, 2**31, 100, 101, 150, 151, 256, "", " ", "x" * 300,
     "\x1b[31mred\x1b[0m", "[red]x[/red]", "<script>alert(1)</script>", "\u202egnp.exe", "a\nb", "\x00", "|", "`",
     "{line.total_limit}", "__proto__", "NaN", "2024-02-29", "2023-02-29", "2024-03-05T14:20:00+08:00",
     "2024-03-05T14:20:00Z", "2024-03-05T14:20:00", "2024-03-05T14:20:00+24:00", "23:59", "24:00", "CNY", "cny",
     "CN-ZJ", "A", "F", "active", "pending", "posted", "refused", "interbank", [], {}, [None], {"": None}, True, False, None,
     "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31", "0001-01-01",
     1.7976931348623157e308]
).map(copy.deepcopy)  # fmt: skip
# A fresh copy each draw: the mutations append to the lists and objects they are given, and a shared `[]`
# that took itself in (a cycle) made later examples recurse without end and hypothesis call its strategy flaky.
years = st.integers(min_value=1900, max_value=2199) | st.integers(min_value=1, max_value=9999) | st.sampled_from([1, 9999])
times = st.builds(
    lambda y, mo, d, h, mi, off: f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:00{off}",
    years,
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 23),
    st.integers(0, 59),
    st.sampled_from(["Z", "+08:00", "-05:00", "+14:00", "-12:00", "+00:00"]),
)
dates = st.builds(lambda y, mo, d: f"{y:04d}-{mo:02d}-{d:02d}", years, st.integers(1, 12), st.integers(1, 28))
values = json_values | edges | times | dates


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a document: the places a mutation can hit."""
    if isinstance(node, dict):
        for key, child in node.items():
            out.append((node, key))
            _slots(child, out)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out.append((node, i))
            _slots(child, out)
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_HHMM = re.compile(r"^\d{2}:\d{2}$")
texts = st.text(max_size=40) | edges.filter(lambda v: isinstance(v, str))
numbers = (
    st.integers(0, 10**9)
    | st.floats(0, 1e12)
    | st.floats(0, 1)
    | st.sampled_from([0, 1, 0.0, 1.0, 0.999999, 1.000001, 99.99, 100.0, 1e15, -1, -0.0, 2**53 - 1, 1e308, 1.7976931348623157e308])
)


def _seen(node: Any, out: dict[Any, set[Any]]) -> dict[Any, set[Any]]:
    """Every scalar value each key holds somewhere in the examples: enums, ids, amounts that make sense there."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        if isinstance(child, (dict, list)):
            _seen(child, out)
        elif isinstance(key, str):
            out.setdefault(key, set()).add(child)
    return out


SEEN = {key: sorted(vals, key=repr) for key, vals in _seen(SNAPSHOTS, {}).items()}


def _tweak(draw: st.DrawFn, key: Any, old: Any) -> Any:
    """A value of the same kind as ``old``: the change most likely to keep a snapshot valid and reach the rules."""
    if key in SEEN and draw(st.booleans()):
        return draw(st.sampled_from(SEEN[key]))  # what the examples hold at that key: enums stay valid
    if isinstance(old, bool):
        return not old
    if isinstance(old, (int, float)):
        if draw(st.integers(0, 3)) == 0:
            return draw(numbers)  # anything: often out of the field's range
        if isinstance(old, int):
            return draw(st.integers(0, min(max(10 * abs(old), 100), 10**15)))
        return draw(st.floats(0, 1) if 0 <= old <= 1 else st.floats(0, min(10 * abs(old) + 100, 1e15)))  # ratios stay ratios
    if isinstance(old, str):
        if _DATE.match(old):
            return draw(dates)
        if _TIME.match(old):
            return draw(times)
        if _HHMM.match(old):
            return draw(st.builds("{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59)))
        return draw(texts)
    if isinstance(old, list) and old:
        return draw(st.sampled_from([[], old[:1], old + old[:1], old[::-1]]))
    return draw(values)


@st.composite
def mutated_snapshots(draw: st.DrawFn) -> Any:
    """A real snapshot (one of examples/) with one to three changes: a value tweaked within its kind or replaced
    by anything, a key removed or added, a value wrapped in a list."""
    doc = copy.deepcopy(draw(st.sampled_from(SNAPSHOTS)))
    for _ in range(draw(st.integers(1, 3))):
        slots = _slots(doc, [])
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        action = draw(st.sampled_from(["tweak", "tweak", "tweak", "tweak", "replace", "delete", "add", "wrap"]))
        if action == "tweak":
            container[key] = _tweak(draw, key, container[key])
        elif action == "replace":
            container[key] = draw(values)
        elif action == "delete":
            del container[key]
        elif action == "wrap":
            container[key] = [container[key]]
        elif isinstance(container, dict):
            container[draw(st.text(max_size=12))] = draw(values)
        else:
            container.append(draw(values))
    return doc


@st.composite
def damaged_text(draw: st.DrawFn) -> bytes:
    """A real snapshot's JSON bytes, then cut, spliced or overwritten: what a broken export or transfer leaves."""
    raw = json.dumps(draw(st.sampled_from(SNAPSHOTS)), ensure_ascii=draw(st.booleans())).encode()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(raw)))
        action = draw(st.sampled_from(["cut", "insert", "overwrite", "truncate"]))
        piece = draw(
            st.binary(max_size=8)
            | st.sampled_from(
                [b"{", b"}", b"[", b"]", b",", b'"', b":", b"\\", b"\\u", b"\\ud800", b"NaN", b"1e999", b"9" * 30, b"\xef\xbb\xbf"]
            )
        )
        if action == "cut":
            raw = raw[:at] + raw[at + draw(st.integers(1, 50)) :]
        elif action == "insert":
            raw = raw[:at] + piece + raw[at:]
        elif action == "overwrite":
            raw = raw[:at] + piece + raw[at + len(piece) :]
        else:
            raw = raw[:at]
    return raw


# --- checks -----------------------------------------------------------------------------


def _diagnose(data: Any) -> diagnose.Report | None:
    """The API's answer: a report (rendered as JSON, which must work) or None for InvalidInput."""
    try:
        report = PACK.diagnose(data)
    except InvalidInput as exc:
        assert exc.problems, "an InvalidInput names at least one problem"
        assert exc.render().startswith("invalid snapshot:")
        return None
    json.loads(report.to_json())
    return report


def _cli(raw: bytes, *args: str) -> tuple[int, str, str]:
    """`diagnose run - ...` in-process with ``raw`` on standard input.

    `main` runs as it is, with two things built once instead of per example: the pack (read from the
    pack cache and compiled again each time otherwise) and the click command that typer builds from the
    app's functions (about 50 ms a call). Neither is what these properties are about.
    """
    out, err = io.StringIO(), io.StringIO()
    stdin = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    try:
        with (
            mock.patch.object(diagnose, "load_pack", lambda path=None: PACK),
            mock.patch.object(cli, "app", COMMAND),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = main(["run", "-", *args])
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


def _assert_cli(code: int, out: str, err: str) -> None:
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert code in (0, 4), (code, err)
    if code == 0:
        assert json.loads(out)["schema_version"] == "1"
    else:
        assert err.startswith("invalid snapshot: <stdin>:"), err
        error = json.loads(out)["error"]  # with --format json, one error object and nothing else
        assert (error["exit_code"], error["kind"], error["source"]) == (4, "invalid_input", "<stdin>") and error["problems"]


# --- properties -------------------------------------------------------------------------


@settings(PROFILE)
@given(json_values)
def test_api_takes_any_json_value(data: Any) -> None:
    _diagnose(data)


@settings(PROFILE)
@given(st.dictionaries(st.sampled_from(["schema_version", "as_of", "account", "line", "request", "repayments", "loans",
                                         "credit", "funding", "policy", "system", "extensions", "x"]), values, max_size=8))  # fmt: skip
def test_api_takes_any_object_with_contract_keys(data: dict[str, Any]) -> None:
    _diagnose(data)


@settings(PROFILE)
@given(mutated_snapshots())
def test_api_takes_any_mutation_of_a_real_snapshot(data: Any) -> None:
    _diagnose(data)


@settings(LIGHT)
@given(mutated_snapshots(), st.sampled_from(["en", "zh"]))
def test_every_format_renders_any_report(data: Any, lang: str) -> None:
    try:
        report = PACK.diagnose(data, lang=lang, explain=True, timeline=True)
    except InvalidInput:
        return
    for fmt in ReportFormat:
        text = renderer(fmt)(report, Options(lang=lang, color=True, width=80))
        assert isinstance(text, str) and "\x1b]" not in text  # no OSC sequence (links, titles) reaches a terminal
        text.encode("utf-8")  # writable: no lone surrogate


@settings(LIGHT)
@given(mutated_snapshots(), st.sampled_from(["rich", "markdown", "message"]), st.sampled_from(["en", "zh"]))
def test_cli_human_formats_take_any_mutation_of_a_real_snapshot(data: Any, fmt: str, lang: str) -> None:
    """The views people read, through the command line: a report or one message, never exit 70."""
    raw = json.dumps(data, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    code, out, err = _cli(raw, "-f", fmt, "--lang", lang, "--explain")
    assert "Traceback" not in out + err and "internal error" not in err, err
    assert code in (0, 4), (code, err)
    assert (code == 0) == bool(out.strip()), err


# What `diagnose run` does with bytes, below the CLI: read them (reader.load: the exactness checks)
# and diagnose the parsed data. A failure shows here without the CLI around it; the CLI-level twins
# below add only that the CLI maps the same answers to exit codes and messages.


def _read_and_diagnose(raw: bytes) -> diagnose.Report | None:
    try:
        data = load(raw, "<stdin>")
        report = PACK.diagnose(data, source="<stdin>", parsed=True)
    except InvalidInput as exc:
        assert exc.problems and exc.render().startswith("invalid snapshot: <stdin>:"), exc.render()
        return None
    json.loads(report.to_json())
    return report


def _mutated_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")


def _with_number(number: int, snapshot: dict[str, Any]) -> bytes:
    doc = copy.deepcopy(snapshot)
    doc["extensions"] = {"n": number}
    return json.dumps(doc).encode()


@settings(PROFILE)
@given(mutated_snapshots())
def test_reading_takes_any_mutation_of_a_real_snapshot(data: Any) -> None:
    _read_and_diagnose(_mutated_bytes(data))


@settings(PROFILE)
@given(damaged_text())
def test_reading_takes_any_damaged_file(raw: bytes) -> None:
    _read_and_diagnose(raw)


@settings(PROFILE)
@given(st.integers(), st.sampled_from(SNAPSHOTS))
def test_reading_refuses_whole_numbers_beyond_the_range_and_accepts_the_rest(number: int, snapshot: dict[str, Any]) -> None:
    try:
        load(_with_number(number, snapshot), "<stdin>")
    except InvalidInput as exc:
        assert abs(number) > MAX_INT and "extensions.n: the whole number" in exc.render()
    else:
        assert abs(number) <= MAX_INT


@settings(PROFILE)
@given(mutated_snapshots())
def test_cli_takes_any_mutation_of_a_real_snapshot(data: Any) -> None:
    _assert_cli(*_cli(_mutated_bytes(data), "-f", "json"))


@settings(PROFILE)
@given(damaged_text())
def test_cli_takes_any_damaged_file(raw: bytes) -> None:
    _assert_cli(*_cli(raw, "-f", "json"))


@settings(PROFILE)
@given(st.integers(), st.sampled_from(SNAPSHOTS))
def test_cli_refuses_whole_numbers_beyond_the_range_and_accepts_the_rest(number: int, snapshot: dict[str, Any]) -> None:
    code, out, err = _cli(_with_number(number, snapshot), "-f", "json")
    _assert_cli(code, out, err)
    assert (code == 4) == (abs(number) > MAX_INT), err
    if code == 4:
        assert "extensions.n: the whole number" in err


@settings(LIGHT)
@given(st.text(max_size=300))
def test_yaml_loader_takes_any_text(text: str) -> None:
    from diagnose.pack.yamlpos import YamlError, load

    with contextlib.suppress(YamlError):
        load(text)


RULE_FILE = (Path(diagnose.__file__).resolve().parent.parent / "rules" / "liquidity.yaml").read_text(encoding="utf-8")


@settings(LIGHT)
@given(st.data())
@pytest.mark.skipif(not RULE_FILE, reason="the default pack's rule files are not beside the package")
def test_yaml_loader_takes_any_damage_to_a_rule_file(data: st.DataObject) -> None:
    from diagnose.pack.loader import RuleFile
    from diagnose.pack.yamlpos import YamlError, load

    lines = RULE_FILE.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, max(0, len(lines) - 1)))
        action = data.draw(st.sampled_from(["delete", "duplicate", "indent", "dedent", "insert"]))
        if action == "delete" and lines:
            del lines[i]
        elif action == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif action == "indent" and lines:
            lines[i] = "  " + lines[i]
        elif action == "dedent" and lines:
            lines[i] = lines[i].lstrip()
        else:
            lines.insert(
                i, data.draw(st.sampled_from(["&a x\n", "*a\n", "- *a\n", "!!python/object:os.system\n", "? [a]\n", "%\n", "{\n"]))
            )
    try:
        located = load("".join(lines))
    except YamlError as exc:
        assert exc.message
        return
    if isinstance(located.data, dict):
        with contextlib.suppress(ValueError):  # a pydantic ValidationError is a ValueError: an invalid pack, reported
            RuleFile.model_validate(located.data)
