"""The Chinese texts follow docs/glossary.md: no word it says to avoid, in the default pack or in the code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

GLOSSARY = ROOT / "docs" / "glossary.md"
_CJK = re.compile("[\u3400-\u9fff]")


def avoid_rules() -> list[tuple[str, tuple[str, ...], str]]:
    """(term, words that may contain it, scope) for every term of the glossary's "avoid" column."""
    rules = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or cells[4] not in ("all", "customer"):
            continue
        for part in cells[3].split(", "):
            terms = re.findall(r"`([^`]+)`", part)
            if terms:
                rules.append((terms[0], tuple(terms[1:]) if " unless " in part else (), cells[4]))
    return rules


def offending(text: str, scope_of_text: str) -> list[str]:
    found = []
    for term, allowed, scope in avoid_rules():
        if scope == "customer" and scope_of_text != "customer":
            continue
        for m in re.finditer(re.escape(term), text):
            ok = any(text[max(0, m.start() - w.index(term)) :].startswith(w) for w in allowed if term in w)
            if not ok:
                found.append(term)
    return found


def _pack_texts() -> Iterator[tuple[str, str, str]]:
    """(where, scope, zh text) of every rule file: customer-facing texts are titles, explanations and customer remedies."""
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))

        def walk(node: Any, where: str, scope: str, path: Path = path) -> Iterator[tuple[str, str, str]]:
            if isinstance(node, dict):
                for key, value in node.items():
                    inner = (
                        "customer"
                        if key in ("title", "explanation", "customer")
                        else "agent"
                        if key in ("agent", "institution", "rationale")
                        else scope
                    )
                    if key == "zh" and isinstance(value, str):
                        yield f"{path.name}: {where}", scope, value
                    else:
                        yield from walk(value, f"{where}.{key}" if where else str(key), inner)
            elif isinstance(node, list):
                for i, item in enumerate(node):
                    yield from walk(item, f"{where}[{i}]", scope)

        yield from walk(data, "", "agent")


def _code_texts() -> Iterator[tuple[str, str, str]]:
    """Every string literal with Chinese in it in the package: labels and words are read by customers too."""
    for path in sorted((ROOT / "diagnose").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _CJK.search(node.value):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", "customer", node.value


def test_the_glossary_has_rules_to_check() -> None:
    terms = {t for t, _, _ in avoid_rules()}
    assert {"合作资金方", "合作机构", "到账", "KYC", "授信"} <= terms


def test_the_check_finds_what_it_should() -> None:
    assert offending("合作资金方补充放款额度", "agent") == ["合作资金方"]
    assert offending("您的授信额度", "customer") == [] and offending("暂停授信", "agent") == ["授信"]
    assert offending("请完成 KYC", "agent") == [] and offending("请完成 KYC", "customer") == ["KYC"]


@pytest.mark.parametrize("source", ["pack", "code"])
def test_no_avoided_term_in_any_zh_text(source: str) -> None:
    texts = _pack_texts() if source == "pack" else _code_texts()
    bad = [f"{where}: {sorted(set(terms))} in {text!r}" for where, scope, text in texts if (terms := offending(text, scope))]
    assert not bad, "\n".join(bad)


def _chinese(text: str) -> bool:
    """A text written in Chinese (an English title that names a family in Chinese in brackets is English)."""
    return len(_CJK.findall(text)) >= len(re.findall("[A-Za-z]", text))


_HALF_WIDTH = re.compile(r"[\u3400-\u9fff][,;:()]|[,;:(][\u3400-\u9fff]|[\u3400-\u9fff]\)")


@pytest.mark.parametrize("source", ["pack", "code"])
def test_zh_text_uses_full_width_punctuation(source: str) -> None:
    texts = _pack_texts() if source == "pack" else _code_texts()
    bad = [f"{where}: {text!r}" for where, _, text in texts if _chinese(text) and _HALF_WIDTH.search(re.sub(r"\{[^}]*\}", "x", text))]
    assert not bad, "\n".join(bad)


_PATH = re.compile(r"\b[a-z_]+(\[\])?\.[a-z_]+(\.[a-z_]+)*\b")


def test_agent_remedies_use_business_words_not_field_paths() -> None:
    bad = []
    for path in sorted((ROOT / "rules").glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules", []):
            for item in rule.get("remedies", {}).get("agent", []):
                for lang in ("en", "zh"):
                    text = re.sub(r"\{[^}]*\}", "x", item[lang])  # a template field is a value, not a path
                    if m := _PATH.search(text):
                        bad.append(f"{path.name} {rule['id']} ({lang}): {m.group(0)!r} in {item[lang]!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("source", ["pack", "code"])
def test_an_amount_is_written_without_a_space_before_yuan(source: str) -> None:
    texts = _pack_texts() if source == "pack" else _code_texts()
    bad = [f"{where}: {text!r}" for where, _, text in texts if re.search(r"(\d|\|money\}) +元", text)]
    assert not bad, "\n".join(bad)
