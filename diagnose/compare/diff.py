"""Two snapshots of one account compared: the verdicts, the causes that appeared, cleared or changed, and the facts that did it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from diagnose.compare import texts
from diagnose.compare.model import SCHEMA_VERSION, CauseChange, Change, Diff, Direction, FactChange, Side, Standing, Status, Turn
from diagnose.engine.conditions import CLeaf, CNode, Tri, leaves
from diagnose.errors import InvalidInput, problem
from diagnose.errorwords import say
from diagnose.explain.why import SYMPTOMS, condition, show
from diagnose.records import jsonable
from diagnose.report.build import VERDICT_FACTS

if TYPE_CHECKING:
    from diagnose.engine.compiled import CompiledRule
    from diagnose.records import Finding, Report
    from diagnose.snapshot.facts import Facts

_SKIP = frozenset({"as_of", "schema_version"})
"""Facts every pair differs in or none does: the header shows the times, and the schema version is fixed."""
SHOWN_FACTS = 2
"""Facts of one cause named in the summary; the rest are counted."""


class Pack(Protocol):
    """What comparing needs of a compiled pack (`diagnose.api.CompiledPack`, a room above this one, calls in here)."""

    rules: tuple[CompiledRule, ...]

    def evaluate(self, f: Mapping[str, Any]) -> list[tuple[CompiledRule, Tri]]: ...

    def prepare(
        self, snapshot: Mapping[str, Any], *, source: str | None = None, parsed: bool = False, lang: str = "en"
    ) -> tuple[dict[str, Any], Facts, list[str]]: ...

    def diagnose_facts(self, snapshot: Mapping[str, Any], f: Mapping[str, Any], **options: Any) -> Report: ...


class Point(NamedTuple):
    """One snapshot diagnosed once: its data, its facts, its report and the status of every rule."""

    source: str
    data: dict[str, Any]
    facts: Facts
    report: Report
    status: dict[str, Status]

    @property
    def account_id(self) -> str:
        return str(self.data["account"]["id"])

    @property
    def as_of(self) -> datetime:
        moment: datetime = self.data["as_of"]
        return moment


def point(
    pack: Pack,
    snapshot: Mapping[str, Any],
    *,
    source: str = "snapshot",
    lang: str = "en",
    audience: str = "all",
    parsed: bool = False,
) -> Point:
    """Check and diagnose one snapshot with the pack's compiled rules; raises InvalidInput when it breaks the contract."""
    data, facts, warnings = pack.prepare(snapshot, source=source, parsed=parsed, lang=lang)
    report = pack.diagnose_facts(data, facts, lang=lang, warnings=warnings, audience=audience)
    if audience == "customer":  # the customer's report drops the undetermined rules: evaluate again (closures, cheap)
        status: dict[str, Status] = {
            cr.rule.id: "holds" if result is True else "no" if result is False else "undetermined" for cr, result in pack.evaluate(facts)
        }
    else:
        status = dict.fromkeys((cr.rule.id for cr in pack.rules), "no")
        status |= dict.fromkeys((u.rule_id for u in report.undetermined), "undetermined")
        status |= dict.fromkeys((f.rule_id for f in report.findings), "holds")
    return Point(source, data, facts, report, status)


def diff(
    pack: Pack,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    lang: str = "en",
    audience: str = "all",
    allow_different_accounts: bool = False,
    sources: tuple[str, str] = ("BEFORE", "AFTER"),
    parsed: bool = False,
) -> Diff:
    """Compare two snapshots (parsed JSON objects) of one account.

    Snapshots of two accounts raise InvalidInput (exit 4) unless ``allow_different_accounts``;
    an AFTER older than BEFORE is compared the other way round, with a warning.
    """
    a = point(pack, before, source=sources[0], lang=lang, audience=audience, parsed=parsed)
    b = point(pack, after, source=sources[1], lang=lang, audience=audience, parsed=parsed)
    return compare(pack, a, b, lang=lang, audience=audience, allow_different_accounts=allow_different_accounts)


def compare(pack: Pack, a: Point, b: Point, *, lang: str = "en", audience: str = "all", allow_different_accounts: bool = False) -> Diff:
    """The diff of two diagnosed snapshots (each diagnosed once: a history compares each with the next)."""
    if a.account_id != b.account_id and not allow_different_accounts:
        raise InvalidInput(
            [
                problem(
                    "account.id", say("compare.accounts", first=a.source, first_id=a.account_id, second=b.source, second_id=b.account_id)
                )
            ],
            source=f"{a.source}, {b.source}",
            hint=say("compare.accounts.hint"),
        )
    warnings = [f"{p.source}{texts.say(lang, 'colon')}{w}" for p in (a, b) for w in p.report.warnings]
    swapped = b.as_of < a.as_of
    if swapped:
        warnings.insert(0, texts.say(lang, "swapped", before=a.data["as_of"].isoformat(), after=b.data["as_of"].isoformat()))
        a, b = b, a
    changes = fact_changes(a.facts, b.facts, lang)
    causes = _cause_changes(pack, a, b, changes, lang)
    before, after = _side(a), _side(b)
    verdict_changed = before.verdict != after.verdict
    verdict_facts = tuple(changes[n] for n in VERDICT_FACTS if n in changes) if verdict_changed else ()
    used = {fc.fact for c in causes for fc in c.facts} | {fc.fact for fc in verdict_facts}
    others = tuple(fc for name, fc in changes.items() if name not in used)
    return Diff(
        schema_version=SCHEMA_VERSION,
        lang=lang,
        audience=audience,
        ruleset=b.report.ruleset,
        before=before,
        after=after,
        changed=verdict_changed or bool(causes),
        verdict_changed=verdict_changed,
        verdict_facts=verdict_facts,
        causes=causes,
        other_facts=others,
        summary=summary(before, after, causes, len(others), lang),
        warnings=tuple(warnings),
        swapped=swapped,
    )


def _side(p: Point) -> Side:
    r = p.report
    return Side(p.source, r.snapshot.account_id, r.snapshot.as_of, r.verdict, tuple(f.rule_id for f in r.findings))


# --- facts -------------------------------------------------------------------------------


def _comparable(value: Any) -> bool:
    """A value a person can read as one: not an object, nor a list of objects (their fields are facts of their own)."""
    kind = type(value)
    if kind is dict:
        return False
    return kind is not list or not any(isinstance(v, (dict, list)) for v in value)


def _direction(before: Any, after: Any) -> Direction:
    if before is None:
        return "known"
    if after is None:
        return "unknown"
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
    if numbers:
        return "rose" if after > before else "fell"
    return "changed"


def fact_changes(before: Mapping[str, Any], after: Mapping[str, Any], lang: str) -> dict[str, FactChange]:
    """Every fact whose value differs, by path, with both values shown as the report shows them."""
    out: dict[str, FactChange] = {}
    for name in sorted(before.keys() | after.keys()):
        if name in _SKIP:
            continue
        x, y = before.get(name), after.get(name)
        if not (_comparable(x) and _comparable(y)):  # first: objects and lists of them are costly to compare, and shown by their fields
            continue
        if x == y and type(x) is type(y):
            continue
        out[name] = FactChange(name, _direction(x, y), jsonable(x), jsonable(y), show(x, name, lang), show(y, name, lang))
    return out


# --- causes ------------------------------------------------------------------------------


def _condition_text(leaf: CLeaf, lang: str) -> str:
    if leaf.ref is not None:
        return f"{leaf.op} {leaf.ref}"
    return condition(leaf.op, leaf.expected, leaf.fact, lang, leaf.param)


def turns(node: CNode, before: Mapping[str, Any], after: Mapping[str, Any], lang: str) -> tuple[tuple[Turn, ...], list[str]]:
    """The comparisons of a rule whose result differs between two sets of facts, and the facts they read."""
    out: dict[tuple[str, str, str], Turn] = {}
    names: list[str] = []
    for leaf in leaves(node):
        rb, ra = leaf.test(before), leaf.test(after)
        if rb is not ra:
            text = _condition_text(leaf, lang)
            out.setdefault((leaf.fact, leaf.op, text), Turn(leaf.fact, leaf.op, text, rb, ra))
            names += [p for p in (leaf.fact, leaf.ref) if p is not None]
    return tuple(out.values()), names


def _standing(p: Point, rule_id: str, severity: str, found: Mapping[str, Finding]) -> Standing:
    f = found.get(rule_id)
    if f is None:
        return Standing(p.status.get(rule_id, "no"), None, None, severity)
    return Standing("holds", f.rank, f.score, f.severity)


def _kind(before: Standing, after: Standing) -> Change | None:
    if before.status != "holds" and after.status == "holds":
        return "appeared"
    if before.status == "holds" and after.status != "holds":
        return "cleared"
    if before.status == "holds" and (before.rank, before.score, before.severity) != (after.rank, after.score, after.severity):
        return "changed"
    return None


_ORDER = {"appeared": 0, "cleared": 1, "changed": 2}


def _cause_changes(pack: Pack, a: Point, b: Point, changes: Mapping[str, FactChange], lang: str) -> tuple[CauseChange, ...]:
    found_a = {f.rule_id: f for f in a.report.findings}
    found_b = {f.rule_id: f for f in b.report.findings}
    out: list[tuple[tuple[int, int, str], CauseChange]] = []
    for cr in pack.rules:
        rid = cr.rule.id
        if rid not in found_a and rid not in found_b:
            continue  # a cause that holds neither time cannot have appeared, cleared or changed
        before = _standing(a, rid, cr.rule.severity, found_a)
        after = _standing(b, rid, cr.rule.severity, found_b)
        kind = _kind(before, after)
        if kind is None:
            continue
        out.append(
            (
                (_ORDER[kind], (after.rank if kind != "cleared" else before.rank) or 0, rid),
                _cause(cr, kind, before, after, a, b, changes, lang),
            )
        )
    return tuple(c for _, c in sorted(out, key=lambda pair: pair[0]))


def _cause(
    cr: CompiledRule,
    kind: Change,
    before: Standing,
    after: Standing,
    a: Point,
    b: Point,
    changes: Mapping[str, FactChange],
    lang: str,
) -> CauseChange:
    if kind == "changed":  # nothing turned: the facts that moved its score are the ones its comparisons read
        turned: tuple[Turn, ...] = ()
        names = [p for leaf in leaves(cr.node) for p in (leaf.fact, leaf.ref) if p is not None]
    else:
        turned, names = turns(cr.node, a.facts, b.facts, lang)
    facts = tuple(changes[n] for n in dict.fromkeys(names) if n in changes)
    latest = next(f for f in (b.report.findings if after.status == "holds" else a.report.findings) if f.rule_id == cr.rule.id)
    return CauseChange(
        rule_id=cr.rule.id,
        change=kind,
        family=cr.rule.family,
        severity=cr.rule.severity,
        title=latest.title,
        explanation=latest.explanation,
        before=before,
        after=after,
        facts=facts,
        conditions=turned,
        customer=tuple(latest.remedies.customer),
    )


# --- the summary -------------------------------------------------------------------------


def _span(before: str, after: str, lang: str) -> str:
    """The two times as a reader wants them: the dates, the times when both fall on one date, or the one time of both."""
    if before == after:
        return texts.say(lang, "span_same", when=before[:16].replace("T", " "))
    b, a = when_pair(before, after)
    return texts.say(lang, "span", before=b, after=a)


def when_pair(before: str, after: str) -> tuple[str, str]:
    """The dates of two times, or the date and time of the first and the time of the second when both fall on one date."""
    if before[:10] == after[:10]:
        return before[:16].replace("T", " "), after[11:16]
    return before[:10], after[:10]


def fact_phrase(fc: FactChange, lang: str) -> str:
    return texts.say(lang, f"fact_{fc.direction}", fact=fc.fact, b=fc.before_text, a=fc.after_text)


def _facts_phrase(facts: tuple[FactChange, ...], lang: str) -> str:
    """The facts that did it, the causes before the symptoms (the limit being short says the least)."""
    said = [fc for fc in facts if fc.fact not in SYMPTOMS] or list(facts)
    shown = [fact_phrase(fc, lang) for fc in said[:SHOWN_FACTS]]
    text = texts.say(lang, "and").join(shown)
    if len(said) > SHOWN_FACTS:
        text += texts.say(lang, "more", n=len(said) - SHOWN_FACTS)
    return text


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cause_sentence(c: CauseChange, lang: str) -> str:
    """One sentence on one cause: which facts changed, and what it made of the cause."""
    if c.change in ("appeared", "cleared"):
        facts = _facts_phrase(c.facts, lang)
        return texts.say(lang, c.change if facts else f"{c.change}_bare", facts=facts, id=c.rule_id)
    b, a = c.before, c.after
    if b.rank != a.rank:
        text = texts.say(lang, "rank_moved", id=c.rule_id, rb=b.rank, ra=a.rank)
        if b.score != a.score:
            text += texts.say(lang, "score_also", sb=_score(b.score), sa=_score(a.score))
    else:
        text = texts.say(lang, "score_moved", id=c.rule_id, sb=_score(b.score), sa=_score(a.score))
    if b.severity != a.severity:
        text += texts.say(lang, "severity_moved", b=b.severity, a=a.severity)
    if c.facts:
        text += texts.say(lang, "because", facts=_facts_phrase(c.facts, lang))
    return text + texts.say(lang, "end")


def summary(before: Side, after: Side, causes: tuple[CauseChange, ...], quiet: int, lang: str) -> str:
    """A few plain sentences for the agent: the verdict, then each cause that changed and the facts that did it."""
    span = _span(before.as_of, after.as_of, lang)
    gap = "" if lang == "zh" else " "
    quiet_text = "" if not quiet else texts.say(lang, "quiet_fact" if quiet == 1 else "quiet_facts", n=quiet)
    if before.verdict == after.verdict and not causes:
        text = texts.say(lang, "no_change", span=span, v=texts.verdict(lang, after.verdict))
        ids = texts.say(lang, "list").join(after.causes)
        return text + (texts.say(lang, "same_causes", ids=ids) if ids else texts.say(lang, "no_causes")) + quiet_text
    if before.verdict != after.verdict:
        first = texts.say(lang, "verdict_went", span=span, vb=texts.verdict(lang, before.verdict), va=texts.verdict(lang, after.verdict))
    else:
        first = texts.say(lang, "verdict_stayed", span=span, v=texts.verdict(lang, after.verdict))
    sentences = [first] + [cause_sentence(c, lang) for c in causes]
    return gap.join(sentences) + quiet_text
