"""The generated evaluator: no rule text in its source, and the same results as the closures on any facts."""

from __future__ import annotations

import io
import tokenize
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import diagnose
from diagnose.engine import codegen, compiled
from diagnose.engine.codegen import NOT_APPLICABLE
from diagnose.engine.conditions import CNode, compile_condition, leaves
from diagnose.snapshot import contract, facts
from diagnose.snapshot.facts import BOUNDS, Bound
from tests.conftest import EXAMPLES, ROOT, cli, examples, load_json

DATED = ROOT / "tests" / "packs" / "dated"

# --- no text of a rule file becomes source ----------------------------------------------

HOSTILE = [
    "__import__('os').system('touch /tmp/pwned')",
    'x"); __import__("os").system("id") #',
    "line one\nline two\r\n\tthree\x0bfour",
    "'''\"\"\"\\",
    "资金方\u202e\u2028emoji 💳",
    "k0",
    "F0 = None",
    "}{[(",
]
"""Strings a rule file may hold where the loader takes any text: parameter names, `extensions.` fact paths, values."""
HUGE = 2**53 - 1  # the largest whole number the loader takes


def _hostile_pack(root: Path) -> Path:
    """A pack (written as a user would, loaded by the normal loader) whose every free-form string is hostile."""
    root.mkdir()
    params = {f"p{i} {text}": {"value": text} for i, text in enumerate(HOSTILE)}
    params["huge"] = {"value": HUGE}
    params["tiny"] = {"value": -1.5e308}
    params["choices"] = {"value": HOSTILE}
    names = list(params)
    rules = []
    for i, text in enumerate(HOSTILE):
        fact = f"extensions.{text}"
        rules.append(
            {
                "id": f"T-HOSTILE-{i}",
                "family": "operations",
                "severity": "low",
                "title": {"en": f"hostile {i}", "zh": f"恶意 {i}"},
                "explanation": {"en": "A hostile rule.", "zh": "恶意规则。"},
                "remedies": {a: [{"en": "None.", "zh": "无。"}] for a in ("customer", "agent", "institution")},
                "applies_when": {"not": {"fact": f"extensions.applies {text}", "op": "==", "value": text}},
                "when": {
                    "any": [
                        {"fact": fact, "op": "==", "value": text},
                        {"fact": fact, "op": "==", "param": names[i]},
                        {"not": {"fact": fact, "op": "in", "param": "choices"}},
                        {
                            "all": [
                                {"fact": f"extensions.n {text}", "op": ">", "param": "huge"},
                                {"fact": f"extensions.n {text}", "op": ">=", "param": "tiny"},
                                {"fact": f"extensions.n {text}", "op": "<", "ref": f"extensions.m {text}"},
                                {"fact": f"extensions.m {text}", "op": "exists"},
                                {"fact": f"extensions.gone {text}", "op": "missing"},
                            ]
                        },
                    ]
                },
            }
        )
    manifest = {"name": "hostile", "version": "1", "description": "hostile strings everywhere", "parameters": params}
    for name, data in (("pack.yaml", manifest), ("rules.yaml", {"rules": rules})):
        (root / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return root


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(source).readline))


ALLOWED_NAMES = {
    "def", "make", "K", "dp", "NA", "run", "f", "gate", "g", "get", "B", "if", "elif", "else", "is", "not", "None", "True",
    "False", "or", "in", "try", "except", "TypeError", "return", "bool", "isdisjoint",
}  # fmt: skip


def _assert_only_compiler_words(source: str) -> None:
    """Every name is the compiler's own or a made-up one (k3, F7, c12, r4, a2), every number an index, no string literal."""
    import re

    for tok in _tokens(source):
        if tok.type == tokenize.NAME:
            assert tok.string in ALLOWED_NAMES or re.fullmatch(r"[kFcra][0-9]+", tok.string), tok
        elif tok.type == tokenize.NUMBER:
            assert re.fullmatch(r"[0-9]+", tok.string), tok
        elif tok.type == tokenize.COMMENT:
            assert re.fullmatch(r"# rule [0-9]+", tok.string), tok
        else:
            assert tok.type in (tokenize.OP, tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER), tok


def test_no_text_of_a_rule_file_becomes_source(tmp_path: Path) -> None:
    pack = diagnose.load_pack(_hostile_pack(tmp_path / "pack"))
    program = pack.program()
    mimics = {"k0"}  # a value that looks like a compiler's name is in the table all the same (and the source has k0 anyway)
    for text in [*HOSTILE, *(cr.rule.id for cr in pack.rules), *pack.params, str(HUGE), "1.5e+308", "__import__", "system", "os"]:
        assert text in mimics or text not in program.source, text
    for line in program.source.splitlines():  # the strings' own lines and escapes are not there either
        assert not line or line.startswith(" ") or line.startswith("def make"), line
    _assert_only_compiler_words(program.source)
    # the values are all in the table, as they are
    table = set(map(repr, program.constants))
    assert {repr(t) for t in HOSTILE} <= table and repr(HUGE) in table and repr(-1.5e308) in table
    assert {f"extensions.{t}" for t in HOSTILE} <= {c for c in program.constants if type(c) is str}


def _hostile_facts(i: int, variant: int) -> dict[str, Any]:
    text = HOSTILE[i]
    other = HOSTILE[(i + 1) % len(HOSTILE)]
    f: dict[str, Any] = {}
    if variant & 1:
        f[f"extensions.{text}"] = text if variant & 2 else other
    if variant & 4:
        f[f"extensions.n {text}"] = HUGE + 1 if variant & 8 else -(10**400)
    if variant & 16:
        f[f"extensions.m {text}"] = HUGE * 2 if variant & 2 else "not a number"
    if variant & 32:
        f[f"extensions.gone {text}"] = 1
    if variant & 64:
        f[f"extensions.applies {text}"] = text if variant & 8 else other
    return f


def test_the_hostile_pack_evaluates_as_its_closures(tmp_path: Path) -> None:
    pack = diagnose.load_pack(_hostile_pack(tmp_path / "pack"))
    program = pack.program()
    seen = set()
    for i in range(len(HOSTILE)):
        for variant in range(128):
            f = _hostile_facts(i, variant)
            for gate in (False, True):
                got = program.run(f, gate)
                assert got == pack._by_closures(f, gate)
                seen.add(got[i][1])
    assert seen == {True, False, None, NOT_APPLICABLE}  # every outcome came up


# --- the same results as the closures ---------------------------------------------------


def _values(pack: Any) -> list[Any]:
    """Values near every constant of the pack's conditions, and of every kind a fact may hold (or should not)."""
    out: list[Any] = [0, 1, -1, 0.5, True, False, "", "x", [], ["x"], date(2024, 5, 20), datetime(2024, 5, 20, 8, tzinfo=timezone.utc)]
    for cr in pack.rules:
        for node in (cr.node, cr.applies):
            for leaf in leaves(node) if node is not None else ():
                values = leaf.expected if isinstance(leaf.expected, list) else [leaf.expected]
                for v in values:
                    out.append(v)
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        out += [v - 1, v + 0.001, v + 1]
                if isinstance(leaf.expected, list):
                    out.append(list(leaf.expected[:2]))
    return out


def _paths(pack: Any) -> list[str]:
    return sorted(
        {p for cr in pack.rules for n in (cr.node, cr.applies) if n is not None for lf in leaves(n) for p in (lf.fact, lf.ref) if p}
    )


@st.composite
def fact_dicts(draw: st.DrawFn, pack: Any) -> dict[str, Any]:
    paths, values = _paths(pack), _values(pack)
    f = {p: draw(st.sampled_from(values)) for p in draw(st.lists(st.sampled_from(paths), unique=True))}
    if draw(st.booleans()):
        bounded = draw(st.lists(st.sampled_from(paths), max_size=4, unique=True))
        numbers = st.one_of(st.none(), st.integers(-5, 200), st.floats(-5, 200))
        f[BOUNDS] = {p: Bound(draw(numbers), draw(numbers), "a bound") for p in bounded if p not in f}
    return f


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # the closures and the code fail alike on values no rule can compare
        return type(exc)


@examples(2_000)
@given(st.data())
def test_generated_equals_closures_on_random_facts(pack: Any, data: st.DataObject) -> None:
    program = pack.program()
    f = data.draw(fact_dicts(pack))
    for gate in (False, True):
        assert _outcome(program.run, f, gate) == _outcome(pack._by_closures, f, gate)


def test_generated_equals_closures_on_the_examples_with_facts_dropped(pack: Any) -> None:
    import random

    program = pack.program()
    rng = random.Random(19)
    for path in sorted(EXAMPLES.glob("*.json")):
        whole = facts.derive(contract.validate(load_json(path)))
        for f in (whole, *({k: v for k, v in whole.items() if rng.random() > 0.3} for _ in range(10))):
            assert program.run(f, True) == pack._by_closures(f, True)
            assert [r for _, r in pack.evaluate(f)] == [cr.node.test(f) for cr in pack.rules]


PATHS = {
    "number": ["line.limit_cut_pct", "account.age_years", "policy.min_age"],
    "date": ["calendar.date", "line.first_draw_due_on"],
    "enum": ["line.status"],
    "list": ["system.open_incident_components"],
    "bool": ["line.limit_short"],
}
LITERALS = {
    "number": st.one_of(st.integers(-3, 30), st.floats(-3, 30, allow_nan=False)),
    "date": st.sampled_from(["2024-05-20", "2024-05-21", "2023-01-01", "not a date"]),
    "enum": st.sampled_from(["active", "expired", "migrated"]),
    "list": st.sampled_from(["limit", "ledger", "other"]),
    "bool": st.booleans(),
}


@st.composite
def conditions(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """Any condition tree the rule format allows, over facts of every kind, with literals of the right kind or not."""
    kind = draw(st.sampled_from(["leaf", "leaf", "all", "any", "not"] if depth < 4 else ["leaf"]))
    if kind in ("all", "any"):
        return {kind: draw(st.lists(conditions(depth + 1), min_size=1, max_size=4))}
    if kind == "not":
        return {"not": draw(conditions(depth + 1))}
    family = draw(st.sampled_from(sorted(PATHS)))
    fact = draw(st.sampled_from(PATHS[family]))
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "intersects", "exists", "missing", "ref"]))
    literal = LITERALS[draw(st.sampled_from([family, family, family, *sorted(LITERALS)]))]
    if op in ("exists", "missing"):
        return {"fact": fact, "op": op}
    if op == "ref":
        return {"fact": fact, "op": draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="])), "ref": draw(st.sampled_from(PATHS[family]))}
    if op in ("in", "not in", "intersects"):
        return {"fact": fact, "op": op, "value": draw(st.lists(literal, max_size=3))}
    if op == "between":
        return {"fact": fact, "op": op, "value": sorted(draw(st.lists(LITERALS["number"], min_size=2, max_size=2)))}
    return {"fact": fact, "op": op, "value": draw(literal)}


FACT_VALUES = {
    "number": st.one_of(st.integers(-3, 30), st.floats(-3, 30, allow_nan=False)),
    "date": st.sampled_from([date(2024, 5, 20), date(2024, 5, 21), date(2023, 1, 1)]),
    "enum": st.sampled_from(["active", "expired", "migrated"]),
    "list": st.lists(st.sampled_from(["limit", "ledger", "other"]), max_size=3),
    "bool": st.booleans(),
}


@st.composite
def random_facts(draw: st.DrawFn) -> dict[str, Any]:
    f: dict[str, Any] = {}
    for family, paths in PATHS.items():
        for path in paths:
            if draw(st.booleans()):  # now and then a value of another kind: the comparison must stay unknown or fail alike
                f[path] = draw(FACT_VALUES[draw(st.sampled_from([family] * 4 + sorted(FACT_VALUES)))])
    if draw(st.booleans()):
        number = st.one_of(st.none(), st.integers(-3, 30))
        f[BOUNDS] = {p: Bound(draw(number), draw(number), "a bound") for p in PATHS["number"] if p not in f}
    return f


@examples(2_000)
@given(st.lists(st.tuples(conditions(), st.one_of(st.none(), conditions())), min_size=1, max_size=4), st.lists(random_facts(), max_size=5))
def test_any_condition_tree_generates_to_what_its_closures_compute(
    trees: list[tuple[dict[str, Any], Any]], fact_sets: list[dict[str, Any]]
) -> None:
    compiled_trees: list[tuple[CNode, CNode | None]] = [
        (compile_condition(when, {}), None if applies is None else compile_condition(applies, {})) for when, applies in trees
    ]
    program = codegen.build(compiled_trees, range(len(compiled_trees)))
    _assert_only_compiler_words(program.source)

    def closures(f: dict[str, Any], gate: bool) -> list[tuple[int, Any]]:
        return [
            (i, NOT_APPLICABLE if gate and applies is not None and applies.test(f) is False else when.test(f))
            for i, (when, applies) in enumerate(compiled_trees)
        ]

    for f in fact_sets:
        for gate in (False, True):
            assert _outcome(program.run, f, gate) == _outcome(closures, f, gate)


# --- eras, the switch from closures, and what a reviewer sees ---------------------------


def test_each_era_of_dated_rules_has_its_own_function() -> None:
    pack = diagnose.load_pack(DATED)
    before, after = pack.at(date(2025, 9, 30)), pack.at(date(2025, 10, 1))
    assert before.program().source != after.program().source  # the rule changed: two leaves before, one after
    assert 5 in before.program().constants and 10 in after.program().constants  # the dated threshold
    f = {"funding.funder_quota_remaining_pct": 7, "line.limit_short": True}
    assert [r for _, r in before.evaluate(f)] == [False] and [r for _, r in after.evaluate(f)] == [True]
    assert [lo for lo, _, _ in pack.eras()] == [None, date(2025, 10, 1)]


def test_reports_are_the_same_by_closures_and_by_the_generated_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "GENERATE_AFTER", 10**9)
    by_closures, generated = diagnose.load_pack(), diagnose.load_pack()
    generated.program()
    for path in sorted(EXAMPLES.glob("*.json")):
        snapshot = load_json(path)
        for lang in ("en", "zh"):
            a = by_closures.diagnose(snapshot, lang=lang, explain=True)
            b = generated.diagnose(snapshot, lang=lang, explain=True)
            assert a.to_dict() == b.to_dict(), path.name
    assert by_closures._program is None  # it really ran on the closures


def test_the_function_is_generated_once_evaluations_repay_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "GENERATE_AFTER", 3)
    pack = diagnose.load_pack()
    f = facts.derive(contract.validate(load_json(EXAMPLES / "healthy.json")))
    results = [pack.outcomes(f) for _ in range(2)]
    assert pack._program is None
    results += [pack.outcomes(f) for _ in range(2)]
    assert pack._program is not None and all(r == results[0] for r in results)


def test_rules_compiled_shows_the_source_and_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "compiled")
    assert code == 0
    source = out[out.index("def make") : out.index("# constants (K)")]
    _assert_only_compiler_words(source)
    assert "# K[" in out and "'funding.funder_quota_remaining_pct'" in out and "# rule 0 = 'BRW-BUREAU-DELINQUENCY'" in out
    assert "= the rule 'BRW-BUREAU-DELINQUENCY'" in out  # the label each result comes back with
    assert out.startswith("# pack default ") and "in force on every day" in out


def test_rules_compiled_as_of_a_day_shows_that_days_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, every, _ = cli(capsys, "rules", "compiled", "--rules", DATED)
    assert code == 0 and "until 2025-10-01" in every and "from 2025-10-01" in every
    code, before, _ = cli(capsys, "rules", "compiled", "--rules", DATED, "--as-of", "2025-09-30")
    assert code == 0 and "# K[2] = int 5" in before and "int 10" not in before and "in force on 2025-09-30" in before
    code, after, _ = cli(capsys, "rules", "compiled", "--rules", DATED, "--as-of", "2025-10-01")
    assert code == 0 and "int 10" in after and "int 5" not in after
    code, _, err = cli(capsys, "rules", "compiled", "--as-of", "2025-13-01")
    assert code == 2 and "--as-of 2025-13-01: not a day" in err and "YYYY-MM-DD" in err


# --- the report stage does not evaluate a fired rule again ------------------------------


def test_a_fired_rule_is_not_evaluated_again_for_its_report(monkeypatch: pytest.MonkeyPatch) -> None:
    from diagnose.engine import conditions

    calls: list[object] = []
    plain = conditions._leaf_test

    def counted(*args: Any) -> Any:
        test = plain(*args)

        def leaf(f: Any) -> Any:
            calls.append(leaf)
            return test(f)

        return leaf

    monkeypatch.setattr(conditions, "_leaf_test", counted)
    pack = diagnose.load_pack()
    pack.program()
    snapshot = load_json(EXAMPLES / "liq-funder-quota.json")
    report = pack.diagnose(snapshot)
    fired = [pack.rule(f.rule_id) for f in report.findings]
    assert "LIQ-FUNDER-QUOTA" in {cr.rule.id for cr in fired}
    tests = {leaf.test for cr in fired for leaf in leaves(cr.node)}
    assert tests and not tests & set(calls)  # neither trace() nor clears_when() asked a leaf of a fired rule
    conditions.trace(fired[0].node, pack.prepare(snapshot)[1])  # as they did before
    assert tests & set(calls)


def test_trace_clearing_and_why_given_the_result_are_those_worked_out_alone(pack: Any) -> None:
    from diagnose.engine.conditions import trace
    from diagnose.explain.clearing import clears_when
    from diagnose.explain.why import why

    for path in sorted(EXAMPLES.glob("*.json")):
        whole = facts.derive(contract.validate(load_json(path)))
        for f in (whole, {k: v for i, (k, v) in enumerate(whole.items()) if i % 3}):
            for cr, r in pack.evaluate(f):
                assert trace(cr.node, f, r) == trace(cr.node, f)
                assert why(cr.node, f, r) == why(cr.node, f)
                if r is True:
                    assert clears_when(cr.node, f, "en", None, True) == clears_when(cr.node, f, "en")


def test_a_condition_too_deep_for_python_keeps_its_closure() -> None:
    deep: dict[str, Any] = {"fact": "line.limit_cut_pct", "op": ">", "value": 0}
    for i in range(120):  # far deeper than a rule file may nest; only data built by hand gets here
        deep = {("all", "any")[i % 2]: [{"fact": "account.age_years", "op": "<", "value": 3}, deep]}
    shallow = compile_condition({"fact": "account.age_years", "op": "<", "value": 3}, {})
    node = compile_condition(deep, {})
    program = codegen.build([(node, None), (shallow, node)], ["deep", "shallow"])
    assert node.test in program.constants and shallow.test not in program.constants
    for f in ({}, {"line.limit_cut_pct": 1, "account.age_years": 5}, {"line.limit_cut_pct": 0, "account.age_years": 5}):
        want = node.test(f)
        assert program.run(f, True) == [("deep", want), ("shallow", NOT_APPLICABLE if want is False else shallow.test(f))]
