"""Words of the human-readable views in each language; rule texts bring their own."""

from __future__ import annotations

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "account": "Account",
        "product": "product",
        "as_of": "as of",
        "verdict": "Verdict",
        "blocked": "BLOCKED: nothing can be drawn now",
        "restricted": "RESTRICTED: less can be drawn than the line allows",
        "healthy": "HEALTHY: no cause found",
        "line": "Credit line",
        "used": "used",
        "available": "available",
        "gap": "should be available but is not",
        "limit": "limit",
        "findings": "Causes, most likely first",
        "no_findings": "No cause holds.",
        "rank": "#",
        "cause": "Cause",
        "family": "Family",
        "severity": "Severity",
        "score": "Score",
        "title": "What happened",
        "evidence": "Evidence",
        "fact": "Fact",
        "expected": "Threshold",
        "actual": "Actual",
        "result": "Holds",
        "customer": "For the customer",
        "agent": "For the support agent",
        "institution": "For the institution",
        "explains": "explains",
        "explained_by": "explained by",
        "contributing": "contributing cause",
        "undetermined": "Could not decide (data missing)",
        "missing": "Collect these facts",
        "warnings": "Warnings",
        "disabled": "Disabled rules",
        "unknown": "unknown",
        "yes": "yes",
        "no": "no",
        "ruleset": "Rule pack",
        "more": "more causes not shown (--top)",
        "clears": "What would restore the limit",
        "timeline": "Timeline",
        "near_misses": "Near misses (rules that almost held)",
        "would_fire_if": "Would hold if",
        "distance": "Distance",
        "summary": "Where it fell short",
        "now": "now",
        "op_exists": "known",
        "op_missing": "unknown",
    },
    "zh": {
        "account": "账户",
        "product": "产品",
        "as_of": "快照时间",
        "verdict": "结论",
        "blocked": "已阻断：目前无法借款",
        "restricted": "受限：可借金额低于额度应有水平",
        "healthy": "正常：未发现原因",
        "line": "授信额度",
        "used": "已用",
        "available": "可用",
        "gap": "应恢复但未恢复",
        "limit": "额度",
        "findings": "原因（按可能性排序）",
        "no_findings": "未发现成立的原因。",
        "rank": "序号",
        "cause": "原因",
        "family": "类别",
        "severity": "严重程度",
        "score": "得分",
        "title": "情况说明",
        "evidence": "依据",
        "fact": "数据项",
        "expected": "阈值",
        "actual": "实际值",
        "result": "成立",
        "customer": "给客户的建议",
        "agent": "客服下一步",
        "institution": "给机构的改进建议",
        "explains": "导致了",
        "explained_by": "由以下原因导致",
        "contributing": "次要原因",
        "undetermined": "无法判断（缺少数据）",
        "missing": "需补充的数据",
        "warnings": "警告",
        "disabled": "已停用的规则",
        "unknown": "未知",
        "yes": "是",
        "no": "否",
        "ruleset": "规则包",
        "more": "条原因未显示（--top）",
        "clears": "恢复额度的条件",
        "timeline": "时间线",
        "near_misses": "接近成立的规则",
        "would_fire_if": "满足以下条件即成立",
        "distance": "差距",
        "summary": "未满足之处",
        "now": "当前",
        "op_exists": "已知",
        "op_missing": "未知",
    },
}

FAMILIES: dict[str, dict[str, str]] = {
    "en": {"liquidity": "liquidity", "policy": "policy", "product": "product", "operations": "operations", "borrower": "borrower"},
    "zh": {"liquidity": "资金流动性", "policy": "信贷政策", "product": "产品设计", "operations": "技术与运营", "borrower": "借款人自身"},
}

SEVERITIES: dict[str, dict[str, str]] = {
    "en": {s: s for s in ("critical", "high", "medium", "low", "info")},
    "zh": {"critical": "严重", "high": "高", "medium": "中", "low": "低", "info": "提示"},
}


def label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["en"]).get(key, LABELS["en"].get(key, key))


def family(lang: str, name: str) -> str:
    return FAMILIES.get(lang, FAMILIES["en"]).get(name, name)


def severity(lang: str, name: str) -> str:
    return SEVERITIES.get(lang, SEVERITIES["en"]).get(name, name)
