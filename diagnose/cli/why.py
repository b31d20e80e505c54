"""`diagnose why RULE_ID SNAPSHOT`: one rule's whole condition tree on one snapshot, and how close it came."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from diagnose.cli.common import DebugOpt, LangOpt, RedactKeyOpt, RedactOpt, RulesOpt, app
from diagnose.cli.plain import Lang, out, redactor, text_width
from diagnose.errors import InvalidInput, UsageError


class WhyFormat(str, Enum):
    text = "text"
    json = "json"


@app.command()
def why(
    rule_id: Annotated[str, typer.Argument(metavar="RULE_ID", help="The rule to explain, e.g. LIQ-FUNDER-QUOTA.", show_default=False)],
    snapshot: Annotated[str, typer.Argument(metavar="SNAPSHOT", help="Snapshot JSON file, or - for standard input.", show_default=False)],
    fmt: Annotated[WhyFormat, typer.Option("--format", "-f", help="text or json.")] = WhyFormat.text,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Why a rule did or did not fire: every condition with its result, the nearest miss, what would decide it."""
    import difflib

    from diagnose import load_pack
    from diagnose.explain.why import why as why_tree
    from diagnose.records import dumps
    from diagnose.report.formats.why import why_report, why_text
    from diagnose.snapshot import contract, facts
    from diagnose.snapshot.reader import read_snapshot

    pack = load_pack(rules)
    ids = [cr.rule.id for cr in pack.rules]
    if rule_id not in ids:
        near = difflib.get_close_matches(rule_id.upper(), ids, n=1)
        from diagnose.errorwords import say

        hint = say("why.did_you_mean", rule=near[0]) if near else say("why.list")
        raise UsageError(say("why.no_rule", rule=rule_id, pack=pack.name), hint=hint)
    hasher = redactor(pack, redact, redact_key, lang.value)
    data: Any = None
    try:
        data, source = read_snapshot(snapshot)
        f = facts.derive(contract.validate(data, source=source))
    except InvalidInput as exc:
        if hasher is None:
            raise
        from diagnose.report.redact import redact_problems

        raise redact_problems(exc, hasher, data) from None
    cr = pack.rule(rule_id)
    title = cr.render("title", f, pack.params, lang.value) or rule_id
    result = why_report(cr.rule, cr.node, f, lang.value, title, pack.clear_steps)
    root = why_tree(cr.node, f)
    if hasher is not None:
        from diagnose.report.redact import redact_why

        result, root = redact_why(result, root, hasher, f, lang.value)
    if fmt is WhyFormat.json:
        out(dumps(result) + "\n")
    else:
        out(why_text(result, root, lang.value, text_width()))
