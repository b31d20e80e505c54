"""The report as Markdown, for tickets and chat: every snapshot or pack text escaped."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from diagnose.report.formats import Options, clean
from diagnose.report.formats.labels import family, label, severity, verdict_line
from diagnose.report.formats.richview import expected_text, show_value
from diagnose.vocab import AUDIENCES, bracket

if TYPE_CHECKING:
    from diagnose.records import Report

# Only what CommonMark (and GFM's tables and strikethrough) would read as markup where it stands: a backslash
# before punctuation, emphasis and code marks, link brackets, a tag or an entity, a table's pipe, `~~`, and
# whatever would open a block at the start. "2024-03-05" and "3,200.00" and snake_case stay as they are.
_INLINE = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])"  # a backslash that would escape what follows
    r"|[`*\[\]|]"  # code, emphasis, links, table cells
    r"|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])"  # an underscore that can open or close emphasis (not inside snake_case)
    r"|<(?=[A-Za-z/!?])|(?<=<[A-Za-z/!?])[^<>]*>"  # an HTML tag, comment or autolink: both its brackets
    r"|&(?=#?[A-Za-z0-9]+;)"  # an entity
    r"|~(?=~)"  # strikethrough
)
_BLOCK_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=\s|$)|>|\d{1,9}(?=[.)](?:\s|$)))(?=(.?))")


def md(value: object, *, cell: bool = False) -> str:
    """Literal text in Markdown that reads as plain text too: escaped only where CommonMark would see markup, newlines folded.

    A table ``cell`` opens no block, so a leading `>`, `#` or `1.` stays as it is there.
    """
    text = _INLINE.sub(_escaped, clean(value)).replace("\n", " ")
    return text if cell else _BLOCK_START.sub(_block, text, count=1)


def _escaped(m: re.Match[str]) -> str:
    found = m.group(0)
    return found[:-1] + "\\>" if found.endswith(">") and len(found) > 1 else "\\" + found


def _block(m: re.Match[str]) -> str:
    """A list number is escaped at its dot ("1\\."), a block mark before itself ("\\#")."""
    lead, mark, after = m.group(1), m.group(2), m.group(3)
    if mark.isdigit():
        return lead + mark + ("\\" if after in (".", ")") else "")
    return lead + "\\" + mark


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
    sep = "，" if lang == "zh" else ", "
    out = [
        f"# {label(lang, 'account')} {md(snap.account_id)}",
        "",
        f"- {label(lang, 'product')}{label(lang, 'colon')}{md(snap.product)}",
        f"- {label(lang, 'as_of')}{label(lang, 'colon')}{md(snap.as_of)}",
        f"- **{label(lang, 'verdict')}{label(lang, 'colon')}{md(verdict_line(lang, report.verdict, len(report.findings)))}**",
        f"- {label(lang, 'line')}{label(lang, 'colon')}{label(lang, 'limit')} {show_value(line.total_limit, 'line.total_limit', lang)}{sep}"
        f"{label(lang, 'used')} {show_value(line.used, 'line.used', lang)}{sep}"
        f"{label(lang, 'available')} {show_value(line.available, 'line.available', lang)}{sep}"
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
    if not findings and report.unexplained is not None:
        lost = report.unexplained
        stop = "。" if lang == "zh" else ". "
        out += [f"**{label(lang, 'unexplained')}**{stop}{md(lost.statement)}", ""]
        if lost.near_misses:
            out += (
                [f"**{label(lang, 'nearest')}**", ""]
                + [f"- {code(m.rule_id, cell=False)}{'：' if lang == 'zh' else ': '}{md(m.summary)}" for m in lost.near_misses]
                + [""]
            )
        if lost.could_explain:
            out += [f"**{label(lang, 'could_explain')}**", ""] + [f"- {code(r, cell=False)}" for r in lost.could_explain] + [""]
        out += [f"**{label(lang, 'agent_steps')}**", ""] + [f"- {md(s)}" for s in lost.agent_steps] + [""]
    elif not findings:
        out += [label(lang, "no_findings"), ""]
    else:
        cols = [label(lang, k) for k in ("rank", "cause", "family", "severity", "score", "title")]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for f in findings:
            out.append(
                f"| {f.rank} | {code(f.rule_id)} | {family(lang, f.family)} | {severity(lang, f.severity)} | {f.score:.2f} | {md(f.title, cell=True)} |"
            )
        out.append("")
    for f in findings:
        out += [f"### {f.rank}. {md(f.rule_id)}{label(lang, 'colon')}{md(f.title)}", "", md(f.explanation), ""]
        if f.explanatory:
            out += [f"_{md(label(lang, 'explanatory'))}_", ""]
        if f.explains or f.explained_by:
            links = []
            if f.explains:
                links.append(f"{label(lang, 'explains')}{label(lang, 'colon')}{', '.join(md(x) for x in f.explains)}")
            if f.explained_by:
                links.append(f"{label(lang, 'explained_by')}{label(lang, 'colon')}{', '.join(md(x) for x in f.explained_by)}")
            out += ["_" + "; ".join(links) + "_", ""]
        out += [
            f"**{label(lang, 'evidence')}**",
            "",
            f"| {label(lang, 'fact')} | {label(lang, 'expected')} | {label(lang, 'actual')} | {label(lang, 'result')} |",
            "|---|---|---|---|",
        ]
        for e in f.evidence:
            holds = {True: label(lang, "yes"), False: label(lang, "no"), None: label(lang, "unknown")}[e.result]
            out.append(
                f"| {code(e.fact)} | {md(expected_text(e, lang), cell=True)} | {md(show_value(e.actual, e.fact, lang), cell=True)} | {holds} |"
            )
        out.append("")
        for aud in AUDIENCES:
            items = getattr(f.remedies, aud)
            if items:
                out += [f"**{label(lang, aud)}**", ""] + [f"- {md(i)}" for i in items] + [""]
    cov = report.coverage
    if cov is not None:
        if cov.low and report.verdict == "healthy":
            out += [f"> **{md(label(lang, 'low_coverage').format(decided=cov.decided, applicable=cov.applicable))}**", ""]
        out += [md(label(lang, "coverage").format(decided=cov.decided, applicable=cov.applicable)), ""]
        if report.questions:
            out += [f"**{label(lang, 'ask_next')}**", ""]
            out += [f"- {code(q.fact, cell=False)}{bracket(', '.join(md(r) for r in q.rules), lang)}" for q in report.questions[:5]] + [""]
    opened = [u for u in report.undetermined if u.status == "open"]
    if opened:
        out += [
            f"## {label(lang, 'undetermined')}",
            "",
            f"| {label(lang, 'cause')} | {label(lang, 'title')} | {label(lang, 'missing')} |",
            "|---|---|---|",
        ]
        for u in opened:
            out.append(f"| {code(u.rule_id)} | {md(u.title, cell=True)} | {', '.join(code(m) for m in u.missing)} |")
        out.append("")
    rest = [u.rule_id for u in report.undetermined if u.status != "open"]
    if rest:
        out += [md(label(lang, "not_assessed").format(n=len(rest))), ""]
    if report.disabled:
        out += (
            [f"## {label(lang, 'disabled')}", ""]
            + [f"- {code(d.rule_id, cell=False)}{label(lang, 'colon')}{md(d.reason)}" for d in report.disabled]
            + [""]
        )
    if report.warnings:
        out += [f"## {label(lang, 'warnings')}", ""] + [f"- {md(w)}" for w in report.warnings] + [""]
    out.append(
        f"_{label(lang, 'ruleset')}{label(lang, 'colon')}{md(report.ruleset.name)} {md(report.ruleset.version)}"
        f"{bracket(md(report.ruleset.digest), lang)}_"
    )
    return "\n".join(out) + "\n"
