"""A short, polite reply an agent can paste into a chat with the customer: no internal names, no evidence."""

from __future__ import annotations

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
        "also": "There is also another reason:",
        "todo": "What you can do:",
        "when": "What will change it:",
        "bye": "If anything is unclear, just reply here and we will be glad to help.",
    },
    "zh": {
        "hello": "您好，感谢您的耐心等待。",
        "blocked": "我们查看了您目前无法使用额度借款的原因。",
        "restricted": "我们查看了您可用额度低于预期的原因。",
        "healthy": "我们检查了您的额度，目前一切正常，已还款的额度可以再次借用。",
        "also": "另外还有一个原因：",
        "todo": "您可以这样做：",
        "when": "情况会在以下时候改变：",
        "bye": "如有任何不清楚的地方，请直接回复，我们很乐意为您解答。",
    },
}


def render(report: Report, options: Options) -> str:
    words = _WORDS.get(options.lang, _WORDS["en"])
    primary = [f for f in report.findings if not f.contributing][:2]
    lines = [words["hello"], words[report.verdict] if primary or report.verdict == "healthy" else words["restricted"]]
    if primary:
        lines.append("")
        lines.append(clean(primary[0].explanation))
        if len(primary) > 1:
            gap = "" if options.lang == "zh" else " "
            lines += ["", f"{words['also']}{gap}{clean(primary[1].explanation)}"]
        remedies = list(dict.fromkeys(r for f in primary for r in f.remedies.customer))[:4]
        if remedies:
            lines += ["", words["todo"]] + [f"{i}. {clean(r)}" for i, r in enumerate(remedies, start=1)]
        changes = list(dict.fromkeys(c.text for f in primary for c in f.clears_when if c.eta))[:2]
        if changes:
            lines += ["", words["when"]] + [f"- {clean(c)}" for c in changes]
    lines += ["", words["bye"]]
    return "\n".join(lines) + "\n"
