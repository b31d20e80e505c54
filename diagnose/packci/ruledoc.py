"""The reference of a rule pack as Markdown, generated from the rule files (docs/rules.md is this, checked by a test)."""

from __future__ import annotations

import json
from typing import Any

from diagnose.pack.loader import AllOf, AnyOf, Leaf, NotOf, Pack, Rule
from diagnose.vocab import AUDIENCES, WORDS

FAMILY_TITLES = WORDS["family_title"]["en"]


_COMBINE = {
    "en": {"all": "all of ({})", "any": "any of ({})", "not": "not ({})", "sep": "; ", "and": " and "},
    "zh": {"all": "全部满足（{}）", "any": "任一满足（{}）", "not": "不满足（{}）", "sep": "；", "and": "和"},
}


def condition_text(cond: Any, pack: Pack, lang: str = "en") -> str:
    """A condition tree in one line: `all(...)`, `any(...)`, `not ...`, leaves with their thresholds."""
    words = _COMBINE.get(lang, _COMBINE["en"])
    if isinstance(cond, AllOf):
        return words["all"].format(words["sep"].join(condition_text(c, pack, lang) for c in cond.all))
    if isinstance(cond, AnyOf):
        return words["any"].format(words["sep"].join(condition_text(c, pack, lang) for c in cond.any))
    if isinstance(cond, NotOf):
        return words["not"].format(condition_text(cond.not_, pack, lang))
    assert isinstance(cond, Leaf)
    fact = f"`{cond.fact}`"
    if cond.op in ("exists", "missing"):
        return f"{fact} {cond.op}"
    if cond.ref is not None:
        return f"{fact} {cond.op} `{cond.ref}`"
    if cond.param is not None:
        names = cond.param if isinstance(cond.param, list) else [cond.param]
        shown = words["and"].join(f"`{n}` ({_lit(pack.param(n))})" for n in names)
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
    out.append("- " + "; ".join(facts))
    if rule.applies_when is not None:
        out.append(f"- **Applies when** {condition_text(rule.applies_when, pack)}")
    out.append(f"- **Fires when** {condition_text(rule.when, pack)}")
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


def table(pack: Any, lang: str = "en", width: int = 100) -> str:
    """The rows as a text table that fits ``width`` (stacked where it cannot), in ``lang``."""
    import io

    from rich import box
    from rich.console import Console
    from rich.text import Text

    from diagnose.report.formats import clean
    from diagnose.report.formats.labels import family, label, severity
    from diagnose.report.formats.wrap import rows_or_stack

    data = rows(pack, lang)
    if not data:
        return f"({label(lang, 'no_rules')})\n"
    heads = [label(lang, k) for k in ("rule_id", "family", "severity", "rule_title")]
    cells: list[list[Text | str]] = [
        [Text(clean(r["id"])), family(lang, r["family"]), severity(lang, r["severity"]), " ".join(clean(r["title"]).split())] for r in data
    ]
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, no_color=True, color_system=None, highlight=False, emoji=False, markup=False)
    console.print(rows_or_stack(heads, cells, colon=label(lang, "colon"), box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def show_data(pack: Pack, rule_id: str) -> dict[str, Any]:
    """The whole rule as data, with the values of the parameters it uses and where it is defined."""
    rule = pack.rule(rule_id)
    src = pack.sources.get(rule_id)
    data = rule.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["parameters"] = {
        name: pack.parameters[name].model_dump(mode="json", exclude_none=True) for name in dict.fromkeys(_params_of(rule.when))
    }
    data["defined_at"] = f"{src.file}:{src.line}" if src is not None else None
    data["variants"] = [r.model_dump(mode="json", by_alias=True, exclude_none=True) for r in pack.rules if r.id == rule_id and r.in_force]
    return data


def _in_force_text(in_force: Any, zh: bool) -> str:
    lo, hi = in_force.from_, in_force.until
    if zh:
        return f"自 {lo or '最初'} 起至 {hi or '另行通知'} 止"
    return in_force.said()  # type: ignore[no-any-return]


def show(pack: Pack, rule_id: str, lang: str = "en", width: int = 100) -> str:
    """The whole rule, rendered for a reader in ``lang`` and wrapped to ``width``: texts, condition, thresholds, remedies, examples."""
    from diagnose.report.formats.labels import family, label, severity
    from diagnose.report.formats.wrap import fill

    zh = lang == "zh"
    rule = pack.rule(rule_id)
    src = pack.sources.get(rule_id)
    colon = label(lang, "colon")

    def said(key: str, text: str) -> str:
        return f"{label(lang, key)}{colon}{' '.join(text.split())}"

    out = [f"{rule.id}{colon}{rule.title.get(lang)}", ""]
    out.append(
        f"{said('family', family(lang, rule.family))}    {said('severity', severity(lang, rule.severity))}    {said('weight', str(rule.weight))}"
    )
    if rule.contributing:
        out.append(label(lang, "contributing_only"))
    if rule.explains:
        out.append(said("explains", ", ".join(rule.explains)))
    if src is not None:
        out.append(said("defined_at", f"{src.file}:{src.line}"))
    out += ["", said("fires_when", condition_text(rule.when, pack, lang))]
    for name in dict.fromkeys(_params_of(rule.when)):
        p = pack.parameters[name]
        unit = f" {p.unit}" if p.unit else ""
        out.append(f"  {label(lang, 'threshold')} {name} = {_lit(p.value)}{unit} ({p.source or label(lang, 'heuristic')})")
        out += [f"    {_lit(dv.value)} {_in_force_text(dv.in_force, zh)}" for dv in p.dated]
    variants = [r for r in pack.rules if r.id == rule.id and r.in_force is not None]
    if variants:
        out += ["", "按日期生效的版本：" if zh else "dated variants:"]
        for v in variants:
            out.append(f"  {_in_force_text(v.in_force, zh)}{colon}{condition_text(v.when, pack, lang)}")
    out += ["", said("explanation", rule.explanation.get(lang))]
    if rule.rationale is not None:
        out += ["", said("rationale", rule.rationale.get(lang))]
    for aud in AUDIENCES:
        out += ["", f"{label(lang, aud)}{colon}"] + [f"  - {' '.join(t.get(lang).split())}" for t in getattr(rule.remedies, aud)]
    ex = rule.examples
    out += ["", f"{label(lang, 'examples')}{colon}"]
    out += [f"  {label(lang, 'ex_fires')}{colon}{e.name}" for e in ex.fires] + [
        f"  {label(lang, 'ex_quiet')}{colon}{e.name}" for e in ex.quiet
    ]
    out += [f"  {label(lang, 'ex_undetermined')}{colon}{e.name}" for e in ex.undetermined]
    lines: list[str] = []
    for line in out:
        lines += fill(line, width, " " * (len(line) - len(line.lstrip(" ")) + 2))
    return "\n".join(lines) + "\n"
