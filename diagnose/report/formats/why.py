"""The text and the JSON data of `diagnose why`: one rule's whole condition tree on one snapshot."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnose.engine.conditions import CNode
from diagnose.explain.clearing import clears_when
from diagnose.explain.why import WhyNode, condition, nearest_miss, show, why, would_fire_if
from diagnose.report.formats.wrap import fill

# --- `diagnose why`: one rule, the whole tree ----------------------------------------------

_MARK = {True: "✔", False: "✘", None: "?"}
_WHY = {
    "en": {
        True: "fires", False: "does not fire", None: "undetermined (data missing)", "result": "result", "actual": "actual",
        "held": "{held} of {total} hold", "miss": "nearest miss", "decide": "would be decided by", "fires_if": "fires if",
        "clear": "would clear when", "all": "ALL", "any": "ANY", "not": "NOT",
    },
    "zh": {
        True: "成立", False: "不成立", None: "无法判断（缺少数据）", "result": "结果", "actual": "实际",
        "held": "{total} 项中 {held} 项成立", "miss": "最接近之处", "decide": "可由以下数据判定", "fires_if": "满足即成立",
        "clear": "满足以下条件即可消除", "all": "全部满足", "any": "任一满足", "not": "不满足",
    },
}  # fmt: skip


def tree_lines(node: WhyNode, lang: str = "en", width: int = 10_000) -> list[str]:
    """The condition tree as text: each node's result, each leaf's threshold against its actual value.

    A line longer than ``width`` wraps under its own node, the tree's rails continued.
    """

    words = _WHY.get(lang, _WHY["en"])

    def head(n: WhyNode) -> str:
        if n.kind == "leaf":
            needed = condition(n.op or "", n.expected, n.fact or "", lang, n.param or n.ref)
            colon = "：" if lang == "zh" else ": "
            return f"{_MARK[n.result]} {n.fact} {needed}{colon}{words['actual']} {show(n.actual, n.fact, lang)}"
        held = sum(1 for c in n.children if c.result is True)
        if n.kind == "not":
            return f"{_MARK[n.result]} {words['not']}"
        held_text = str(words["held"]).format(held=held, total=len(n.children))
        return f"{_MARK[n.result]} {words[n.kind]}（{held_text}）" if lang == "zh" else f"{_MARK[n.result]} {words[n.kind]} ({held_text})"

    lines: list[str] = []

    def walk(n: WhyNode, prefix: str, last: bool, root: bool) -> None:
        child_prefix = "" if root else prefix + ("    " if last else "│   ")
        rail = child_prefix + ("│   " if n.children else "    ") + "  "
        first = "" if root else f"{prefix}{'└── ' if last else '├── '}"
        lines.extend(fill(first + head(n), width, rail))
        for i, c in enumerate(n.children):
            walk(c, child_prefix, i == len(n.children) - 1, False)

    walk(node, "", True, True)
    return lines


def why_report(
    rule: Any, node: CNode, f: Mapping[str, Any], lang: str, title: str, words: Mapping[str, tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Everything `diagnose why` says about one rule on one snapshot, as data."""
    root = why(node, f)
    out: dict[str, Any] = {"rule_id": rule.id, "title": title, "result": root.result, "tree": root.to_dict(lang)}
    if root.result is True:
        out["clears_when"] = [c.to_dict() for c in clears_when(node, f, lang, words)]
    elif root.result is False:
        out["nearest_miss"] = nearest_miss(root, lang)
        out["distance"] = None if root.distance is None else round(root.distance, 4)
    else:
        out["would_fire_if"] = [u.to_dict() for u in would_fire_if(root, lang)]
    return out


def why_text(data: Mapping[str, Any], root: WhyNode, lang: str = "en", width: int = 10_000) -> str:
    words = _WHY.get(lang, _WHY["en"])
    c = "：" if lang == "zh" else ": "
    lines = [f"{data['rule_id']}{c}{data['title']}", f"{words['result']}{c}{words[data['result']]}", ""]
    lines += tree_lines(root, lang, width)
    if "nearest_miss" in data:
        lines += ["", f"{words['miss']}{c}{data['nearest_miss']}"]
    if data.get("would_fire_if"):
        lines += ["", f"{words['decide']}{c}"] + [f"  {u['fact']}{c}{words['fires_if']} {u['needed']}" for u in data["would_fire_if"]]
    if data.get("clears_when"):
        lines += ["", f"{words['clear']}{c}"] + [f"  {cl['text']}" for cl in data["clears_when"]]
    return "\n".join(wrapped for line in lines for wrapped in (fill(line, width, "    ") if line else [""])) + "\n"
