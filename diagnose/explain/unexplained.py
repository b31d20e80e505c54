"""A restriction no known cause explains, said as one: what came closest, what could explain it, whom to escalate to."""

from __future__ import annotations

from diagnose.records import NearMiss, Undetermined, Unexplained

_WORDS = {
    "en": {
        "blocked": "The line is blocked, and no cause this rule pack knows explains it.",
        "restricted": "Less can be drawn than the line allows, and no cause this rule pack knows explains it.",
        "escalate": (
            "Escalate to the credit-line operations team as an unexplained restriction: attach this report"
            " (--format json) and the snapshot, and do not tell the customer a cause."
        ),
        "collect": "Before escalating, collect: {facts}; then run the diagnosis again.",
    },
    "zh": {
        "blocked": "额度已被阻断，本规则包已知的原因都不能解释。",
        "restricted": "可用额度低于授信额度应允许的金额，本规则包已知的原因都不能解释。",
        "escalate": "请作为无法解释的额度受限升级给额度运营团队：附上本报告（--format json）和快照，不要向客户说明任何原因。",
        "collect": "升级前请先补充：{facts}；然后重新诊断。",
    },
}


def unexplained(verdict: str, near: list[NearMiss], undetermined: list[Undetermined], lang: str) -> Unexplained:
    """The statement of a blocked or restricted line without a finding, with the nearest misses and what could explain it."""
    words = _WORDS.get(lang, _WORDS["en"])
    could = [u.rule_id for u in undetermined if u.status == "open"] or [u.rule_id for u in undetermined]
    facts = list(dict.fromkeys(m for u in undetermined if u.rule_id in could for m in u.missing))[:5]
    steps = [words["collect"].format(facts=", ".join(facts))] if facts else []
    return Unexplained(words[verdict], near[:3], could, [*steps, words["escalate"]])
