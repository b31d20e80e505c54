"""The reference of a rule pack as Markdown, generated from the rule files (docs/rules.md is this, checked by a test)."""

from __future__ import annotations

import json
from typing import Any

from diagnose.pack.loader import AllOf, AnyOf, Leaf, NotOf, Pack, Rule
from diagnose.vocab import AUDIENCES, WORDS

FAMILY_TITLES = WORDS["family_title"]["en"]


def condition_text(cond: Any, pack: Pack) -> str:
    """A condition tree in one line: `all(...)`, `any(...)`, `not ...`, leaves with their thresholds."""
    if isinstance(cond, AllOf):
        return "all of (" + "; ".join(condition_text(c, pack) for c in cond.all) + ")"
    if isinstance(cond, AnyOf):
        return "any of (" + "; ".join(condition_text(c, pack) for c in cond.any) + ")"
    if isinstance(cond, NotOf):
        return "not (" + condition_text(cond.not_, pack) + ")"
    assert isinstance(cond, Leaf)
    fact = f"`{cond.fact}`"
    if cond.op in ("exists", "missing"):
        return f"{fact} {cond.op}"
    if cond.ref is not None:
        return f"{fact} {cond.op} `{cond.ref}`"
    if cond.param is not None:
        names = cond.param if isinstance(cond.param, list) else [cond.param]
        shown = " and ".join(f"`{n}` ({_lit(pack.param(n))})" for n in names)
        return f"{fact} {cond.op} {shown}"
    return f"{fact} {cond.op} {_lit(cond.value)}"


def _lit(value: Any) -> str:
    """A literal as the rule file writes it: true, 5, "tightening", [a, b]."""
    return json.dumps(value, ensure_ascii=False)


def _params_of(cond: Any) -> list[str]:
    if isinstance(cond, AllOf | AnyOf):
        return [p for c in (cond.all if isinstance(cond, AllOf) else cond.any) for p in _params_of(c)]
    if isinstance(cond, NotOf):
        return _params_of(cond.not_)
    if isinstance(cond, Leaf) and cond.param is not None:
        return cond.param if isinstance(cond.param, list) else [cond.param]
    return []


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rule_section(rule: Rule, pack: Pack) -> list[str]:
    out = [f"### {rule.id}: {_cell(rule.title.en)}", "", f"{_cell(rule.title.zh)}", ""]
    facts = [f"family `{rule.family}`", f"severity `{rule.severity}`", f"weight {rule.weight}"]
    if rule.contributing:
        facts.append("contributing cause only")
    if rule.explains:
        facts.append("explains " + ", ".join(f"`{x}`" for x in rule.explains))
    out += ["- " + "; ".join(facts), f"- **Fires when** {condition_text(rule.when, pack)}"]
    params = list(dict.fromkeys(_params_of(rule.when)))
    for name in params:
        p = pack.parameters[name]
        unit = f" {p.unit}" if p.unit else ""
        out.append(f"- threshold `{name}` = {_lit(p.value)}{unit} ({_cell(p.source or 'heuristic')})")
    sources = rule.metadata.get("sources") or []
    for src in sources if isinstance(sources, list) else [sources]:
        out.append(f"- source: {_cell(str(src))}")
    out += ["", f"**What it says** — {_cell(rule.explanation.en)}", "", f"{_cell(rule.explanation.zh)}", ""]
    if rule.rationale is not None:
        out += [f"**Why this rule** — {_cell(rule.rationale.en)}", ""]
    for aud, heading in (("customer", "Customer"), ("agent", "Support agent"), ("institution", "Institution")):
        out.append(f"**{heading}**")
        out.append("")
        for item in getattr(rule.remedies, aud):
            out.append(f"- {_cell(item.en)} / {_cell(item.zh)}")
        out.append("")
    return out


def render(pack: Pack) -> str:
    """The whole reference: a table of every rule, then one section per rule, family by family."""
    out = [
        f"# Rule reference: {pack.name} {pack.version}",
        "",
        "Generated from the rule files by `diagnose rules doc`; a test keeps this file in sync. Do not edit by hand.",
        "",
        "| id | family | severity | title |",
        "|---|---|---|---|",
    ]
    for rule in pack.rules:
        out.append(f"| [{rule.id}](#{rule.id.lower()}) | {rule.family} | {rule.severity} | {_cell(rule.title.en)} |")
    out.append("")
    for family in pack.families():
        rules = [r for r in pack.rules if r.family == family]
        if not rules:
            continue
        out += [f"## {FAMILY_TITLES.get(family, family)}", ""]
        for rule in rules:
            out += rule_section(rule, pack)
    return "\n".join(out).rstrip() + "\n"


# --- `diagnose rules list` and `diagnose rules show` ---------------------------------------


def rows(pack: Any, lang: str = "en") -> list[dict[str, Any]]:
    """One row a rule of a compiled pack: id, family, severity, title in ``lang``."""
    return [
        {"id": cr.rule.id, "family": cr.rule.family, "severity": cr.rule.severity, "title": cr.rule.title.get(lang)} for cr in pack.rules
    ]


def table(pack: Any, lang: str = "en") -> str:
    """The rows as an aligned text table."""
    data = rows(pack, lang)
    if not data:
        return "(no rules)\n"
    heads = ("id", "family", "severity", "title")
    widths = [max(len(h), *(len(str(r[h])) for r in data)) for h in heads[:3]]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(heads[:3], widths, strict=True)) + "  TITLE"]
    for r in data:
        lines.append(
            "  ".join(str(r[h]).ljust(w) for h, w in zip(heads[:3], widths, strict=True)) + "  " + " ".join(str(r["title"]).split())
        )
    return "\n".join(lines) + "\n"


def show_data(pack: Pack, rule_id: str) -> dict[str, Any]:
    """The whole rule as data, with the values of the parameters it uses and where it is defined."""
    rule = pack.rule(rule_id)
    src = pack.sources.get(rule_id)
    data = rule.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["parameters"] = {
        name: pack.parameters[name].model_dump(mode="json", exclude_none=True) for name in dict.fromkeys(_params_of(rule.when))
    }
    data["defined_at"] = f"{src.file}:{src.line}" if src is not None else None
    return data


def show(pack: Pack, rule_id: str, lang: str = "en") -> str:
    """The whole rule, rendered for a reader in ``lang``: texts, condition, thresholds, remedies, examples."""
    rule = pack.rule(rule_id)
    zh = lang == "zh"
    src = pack.sources.get(rule_id)
    words = {
        "family": "类别" if zh else "family",
        "severity": "严重程度" if zh else "severity",
        "weight": "权重" if zh else "weight",
        "when": "触发条件" if zh else "fires when",
        "threshold": "阈值" if zh else "threshold",
        "says": "说明" if zh else "explanation",
        "why": "依据" if zh else "rationale",
        "customer": "给客户的建议" if zh else "for the customer",
        "agent": "客服下一步" if zh else "for the support agent",
        "institution": "给机构的改进建议" if zh else "for the institution",
        "examples": "示例" if zh else "examples",
        "at": "定义于" if zh else "defined at",
    }
    out = [f"{rule.id}: {rule.title.get(lang)}", ""]
    out.append(f"{words['family']}: {rule.family}    {words['severity']}: {rule.severity}    {words['weight']}: {rule.weight}")
    if rule.contributing:
        out.append("contributing cause only" if not zh else "仅为次要原因")
    if rule.explains:
        out.append(("explains: " if not zh else "导致了：") + ", ".join(rule.explains))
    if src is not None:
        out.append(f"{words['at']}: {src.file}:{src.line}")
    out += ["", f"{words['when']}: {condition_text(rule.when, pack)}"]
    for name in dict.fromkeys(_params_of(rule.when)):
        p = pack.parameters[name]
        out.append(f"  {words['threshold']} {name} = {_lit(p.value)}{(' ' + p.unit) if p.unit else ''} ({p.source or 'heuristic'})")
    out += ["", f"{words['says']}: {' '.join(rule.explanation.get(lang).split())}"]
    if rule.rationale is not None:
        out += ["", f"{words['why']}: {' '.join(rule.rationale.get(lang).split())}"]
    for aud in AUDIENCES:
        out += ["", f"{words[aud]}:"] + [f"  - {' '.join(t.get(lang).split())}" for t in getattr(rule.remedies, aud)]
    ex = rule.examples
    out += ["", f"{words['examples']}:"]
    out += [f"  fires: {e.name}" for e in ex.fires] + [f"  quiet: {e.name}" for e in ex.quiet]
    out += [f"  undetermined: {e.name}" for e in ex.undetermined]
    return "\n".join(out) + "\n"
