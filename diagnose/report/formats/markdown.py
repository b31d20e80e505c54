"""The report as Markdown, for tickets and chat: every snapshot or pack text escaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from diagnose.report.formats import Options, clean
from diagnose.report.formats.labels import family, label, severity
from diagnose.report.formats.richview import expected_text, show_value
from diagnose.vocab import AUDIENCES

if TYPE_CHECKING:
    from diagnose.records import Report

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&])")


def md(value: object) -> str:
    """Literal text in Markdown: markup characters escaped, HTML inert, newlines folded."""
    return _SPECIAL.sub(r"\\\1", clean(value)).replace("\n", " ")


def code(value: object, *, cell: bool = True) -> str:
    """Literal text as a code span: backslash escapes do not work inside one, so the fence outgrows any run of backticks.

    In a table ``cell`` a pipe must still be escaped (GFM removes that backslash before reading the span).
    """
    text = clean(value, inline=True)
    if cell:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text[:1] in ("`", " ") or text[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render(report: Report, options: Options) -> str:
    lang = options.lang
    snap, line = report.snapshot, report.line
    out = [
        f"# {label(lang, 'account')} {md(snap.account_id)}",
        "",
        f"- {label(lang, 'product')}: {md(snap.product)}",
        f"- {label(lang, 'as_of')}: {md(snap.as_of)}",
        f"- **{label(lang, 'verdict')}: {md(label(lang, report.verdict))}**",
        f"- {label(lang, 'line')}: {label(lang, 'limit')} {show_value(line.total_limit, 'line.total_limit', lang)}, "
        f"{label(lang, 'used')} {show_value(line.used, 'line.used', lang)}, "
        f"{label(lang, 'available')} {show_value(line.available, 'line.available', lang)}, "
        f"{label(lang, 'gap')} {show_value(line.restore_gap, 'line.restore_gap', lang)} {md(line.currency)}",
        "",
    ]
    if report.timeline:
        out += [f"## {label(lang, 'timeline')}", ""]
        for event in report.timeline:
            when = md(event.at[:16].replace("T", " "))
            out.append(f"- **{when}** ◆ **{md(event.label)}**" if event.kind == "as_of" else f"- {when} {md(event.label)}")
        out.append("")
    findings = report.findings[: options.top] if options.top else report.findings
    out.append(f"## {label(lang, 'findings')}")
    out.append("")
    if not findings:
        out += [label(lang, "no_findings"), ""]
    else:
        cols = [label(lang, k) for k in ("rank", "cause", "family", "severity", "score", "title")]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for f in findings:
            out.append(
                f"| {f.rank} | {code(f.rule_id)} | {family(lang, f.family)} | {severity(lang, f.severity)} | {f.score:.2f} | {md(f.title)} |"
            )
        out.append("")
    for f in findings:
        out += [f"### {f.rank}. {md(f.rule_id)}: {md(f.title)}", "", md(f.explanation), ""]
        if f.explains or f.explained_by:
            links = []
            if f.explains:
                links.append(f"{label(lang, 'explains')}: {', '.join(md(x) for x in f.explains)}")
            if f.explained_by:
                links.append(f"{label(lang, 'explained_by')}: {', '.join(md(x) for x in f.explained_by)}")
            out += ["_" + "; ".join(links) + "_", ""]
        out += [
            f"**{label(lang, 'evidence')}**",
            "",
            f"| {label(lang, 'fact')} | {label(lang, 'expected')} | {label(lang, 'actual')} | {label(lang, 'result')} |",
            "|---|---|---|---|",
        ]
        for e in f.evidence:
            holds = {True: label(lang, "yes"), False: label(lang, "no"), None: label(lang, "unknown")}[e.result]
            out.append(f"| {code(e.fact)} | {md(expected_text(e, lang))} | {md(show_value(e.actual, e.fact, lang))} | {holds} |")
        out.append("")
        for aud in AUDIENCES:
            items = getattr(f.remedies, aud)
            if items:
                out += [f"**{label(lang, aud)}**", ""] + [f"- {md(i)}" for i in items] + [""]
    if report.undetermined:
        out += [
            f"## {label(lang, 'undetermined')}",
            "",
            f"| {label(lang, 'cause')} | {label(lang, 'title')} | {label(lang, 'missing')} |",
            "|---|---|---|",
        ]
        for u in report.undetermined:
            out.append(f"| {code(u.rule_id)} | {md(u.title)} | {', '.join(code(m) for m in u.missing)} |")
        out.append("")
    if report.disabled:
        out += [f"## {label(lang, 'disabled')}", ""] + [f"- {code(d.rule_id, cell=False)}: {md(d.reason)}" for d in report.disabled] + [""]
    if report.warnings:
        out += [f"## {label(lang, 'warnings')}", ""] + [f"- {md(w)}" for w in report.warnings] + [""]
    out.append(f"_{label(lang, 'ruleset')}: {md(report.ruleset.name)} {md(report.ruleset.version)} ({md(report.ruleset.digest)})_")
    return "\n".join(out) + "\n"
