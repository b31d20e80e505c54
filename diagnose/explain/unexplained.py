"""A restriction no known cause explains, said as one: what came closest, what could explain it, whom to escalate to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from diagnose.pack import templates
from diagnose.records import NearMiss, Undetermined, Unexplained
from diagnose.snapshot.facts import catalog

_WORDS = {
    "en": {
        "blocked": "The line is blocked, and no cause this rule pack knows explains it.",
        "restricted": "Less can be drawn than the line allows, and no cause this rule pack knows explains it.",
        "escalate": (
            "Escalate to the credit-line operations team as an unexplained restriction: attach this report"
            " (--format json) and the snapshot, and do not tell the customer a cause."
        ),
        "collect": "Before escalating, collect: {facts}; then run the diagnosis again.",
        "posting": (
            "Repayment {id} of {amount} ({channel}) is still within its normal posting time: it should post by {due},"
            " and the limit it frees then comes back. Tell the customer so, and that there is no need to pay again."
        ),
        "after_posting": (
            "If it has not posted by {due}, or the limit is still short once it has, run the diagnosis again; escalate to"
            " the credit-line operations team only then."
        ),
        "blocked_posting": "The line is blocked, and no cause holds yet: a repayment is still within its posting time.",
        "restricted_posting": "Less can be drawn than the line allows, and no cause holds yet: a repayment is still within its posting time.",
        "customer_posting": (
            "Your repayment of {amount} is still being processed: it should post by {due}, and the limit it frees then"
            " comes back. There is no need to pay again."
        ),
    },
    "zh": {
        "blocked": "额度已被阻断，本规则包已知的原因都不能解释。",
        "restricted": "可用额度低于授信额度应允许的金额，本规则包已知的原因都不能解释。",
        "escalate": "请作为无法解释的额度受限升级给额度运营团队：附上本报告（--format json）和快照，不要向客户说明任何原因。",
        "collect": "升级前请先补充：{facts}；然后重新诊断。",
        "posting": "还款 {id}（{channel}，金额 {amount}）仍在正常入账时效内：应在{due}前入账，入账后对应的额度会恢复。请这样告知客户，并提醒客户无需重复还款。",
        "after_posting": "如到{due}仍未入账，或入账后额度仍然不足，请重新诊断；只有那时才升级给额度运营团队。",
        "blocked_posting": "额度已被阻断，目前还没有成立的原因：有一笔还款仍在正常入账时效内。",
        "restricted_posting": "可用额度低于授信额度应允许的金额，目前还没有成立的原因：有一笔还款仍在正常入账时效内。",
        "customer_posting": "您的这笔还款（{amount}）仍在处理中：应在{due}前入账，入账后对应的额度会恢复，无需重复还款。",
    },
}


def unexplained(verdict: str, near: list[NearMiss], undetermined: list[Undetermined], lang: str, f: Mapping[str, Any]) -> Unexplained:
    """The statement of a blocked or restricted line without a finding, with the nearest misses and what could explain it.

    A repayment that is still within its channel's posting time explains a short line for now, though no
    cause holds yet (OPS-REPAYMENT-UNPOSTED holds once the time has passed): the agent is told so, and
    told to escalate only if the line is still short once it has posted.
    """
    words = _WORDS.get(lang, _WORDS["en"])
    could = [u.rule_id for u in undetermined if u.status == "open"] or [u.rule_id for u in undetermined]
    facts = list(dict.fromkeys(m for u in undetermined if u.rule_id in could for m in u.missing))[:5]
    steps = [words["collect"].format(facts=", ".join(facts))] if facts else []
    posting = _still_posting(f, lang)
    if posting is not None:
        agent = [words["posting"].format(**posting), *steps, words["after_posting"].format(**posting)]
        return Unexplained(words[f"{verdict}_posting"], near[:3], could, agent, [words["customer_posting"].format(**posting)])
    return Unexplained(words[verdict], near[:3], could, [*steps, words["escalate"]])


def _still_posting(f: Mapping[str, Any], lang: str) -> dict[str, str] | None:
    """The words for the oldest pending repayment when it is not yet due to have posted (None when there is none such)."""
    due, as_of = f.get("repayments.unposted_due_at"), f.get("as_of")
    if not isinstance(due, datetime) or not isinstance(as_of, datetime) or due <= as_of or not f.get("repayments.unposted_amount"):
        return None
    specs = catalog()
    when = templates.relative_time(due, as_of, lang)
    return {
        "id": str(f.get("repayments.oldest_unposted_id") or "?"),
        "amount": templates.format_value(f["repayments.unposted_amount"], "money", specs["repayments.unposted_amount"], lang),
        "channel": templates.format_value(
            f.get("repayments.oldest_unposted_channel"), None, specs["repayments.oldest_unposted_channel"], lang
        ),
        "due": templates.set_in_chinese(when) if lang == "zh" else when,
    }
