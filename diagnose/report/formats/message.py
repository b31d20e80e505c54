"""A short, polite reply an agent can paste into a chat with the customer: no internal names, no evidence."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from diagnose.report.formats import Options, clean

if TYPE_CHECKING:
    from diagnose.records import Report

_WORDS = {
    "en": {
        "hello": "Hello, and thank you for your patience.",
        "blocked": "We have looked into why you cannot borrow on your credit line right now.",
        "restricted": "We have looked into why less of your credit line is available than you expected.",
        "healthy": "We have checked your credit line and it looks normal: repaid amounts are available to borrow again.",
        "healthy_explained": "We have checked your credit line: nothing is holding it back. Here is why it may look different from what you expected.",
        "also": "There is also another reason:",
        "todo": "What you can do:",
        "when": "What will change it:",
        "bye": "If anything is unclear, just reply here and we will be glad to help.",
        "unexplained": "We have not yet found the reason. We have passed your case to our specialist team, who will look into it and come back to you.",
    },
    "zh": {
        "hello": "您好，感谢您的耐心等待。",
        "blocked": "我们查看了您目前无法使用额度借款的原因。",
        "restricted": "我们查看了您可用额度低于预期的原因。",
        "healthy": "我们检查了您的额度，目前一切正常，已还款的额度可以再次借用。",
        "healthy_explained": "我们检查了您的额度，目前没有任何限制。下面说明额度为什么和您预期的不一样。",
        "also": "另外还有一个原因：",
        "todo": "您可以这样做：",
        "when": "情况会在以下时候改变：",
        "bye": "如有任何不清楚的地方，请直接回复，我们很乐意为您解答。",
        "unexplained": "我们暂时还没有找到原因，已将您的情况转交专业团队核查，核查后会尽快回复您。",
    },
}


# What a remedy asks for first, by the words of its first sentence: two causes that both say "try again later" or
# "there is no need to repay" say it once in the message.
_INTENTS = {
    "retry": re.compile(r"\b(try again|retry)\b|再试", re.I),
    "no_double_payment": re.compile(r"\b(re)?pay (twice|again)\b|重复还款|再次还款", re.I),
    "limit_kept": re.compile(
        r"limit (of \S+ )?has not been (cancelled|reduced)|limit and your existing loans are not affected|并未取消|没有被降低", re.I
    ),
}
_FIRST_SENTENCE = re.compile(r"(?:[^.;:。；：]|[.:](?=\d))*")  # 50,000.00 and 07:00 do not end a sentence


def intent(remedy: str) -> str | None:
    """The one thing a remedy asks for first, when it is one of the common ones; else None."""
    first = _FIRST_SENTENCE.match(remedy)
    head = first.group(0) if first else remedy
    return next((name for name, words in _INTENTS.items() if words.search(head)), None)


def merged(remedies_by_cause: list[list[str]]) -> list[str]:
    """Each cause's remedies in order, without a later cause's remedy that asks for what an earlier one already did."""
    out: list[str] = []
    said: set[str] = set()
    for remedies in remedies_by_cause:
        mine: set[str] = set()
        for r in remedies:
            kind = intent(r)
            if r in out or (kind is not None and kind in said):
                continue
            out.append(r)
            if kind is not None:
                mine.add(kind)
        said |= mine
    return out


def render(report: Report, options: Options) -> str:
    words = _WORDS.get(options.lang, _WORDS["en"])
    primary = [f for f in report.findings if not f.contributing][:2]
    opening: str = report.verdict if primary or report.verdict == "healthy" else "restricted"
    if opening == "healthy" and primary:  # explanations only: the line is fine, and this is why it may not look so
        opening = "healthy_explained"
    lines = [words["hello"], words[opening]]
    if primary:
        lines.append("")
        lines.append(clean(primary[0].explanation))
        if len(primary) > 1:
            gap = "" if options.lang == "zh" else " "
            lines += ["", f"{words['also']}{gap}{clean(primary[1].explanation)}"]
        remedies = merged([f.remedies.customer for f in primary])[:4]
        if remedies:
            lines += ["", words["todo"]] + [f"{i}. {clean(r)}" for i, r in enumerate(remedies, start=1)]
        changes = list(dict.fromkeys(c.text for f in primary for c in f.clears_when if c.eta))[:2]
        if changes:
            lines += ["", words["when"]] + [f"- {clean(c)}" for c in changes]
    elif report.unexplained is not None:  # what the report knows to tell the customer, else that the case is passed on
        lines += ["", *(clean(t) for t in report.unexplained.customer)] if report.unexplained.customer else ["", words["unexplained"]]
    lines += ["", words["bye"]]
    return "\n".join(lines) + "\n"
