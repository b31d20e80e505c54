"""Views of an evaluation, a backtest and a calibration: rich (terminal), json, markdown and junit, in en and zh.

Each result is first laid out as sections (lines and tables of plain text) that the rich and
the Markdown views both draw, so the two cannot say different things; json is the result's
own data, junit one test per gate (and per newly wrong case of a backtest).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from diagnose.evaluate import EvalFormat
from diagnose.evaluate.backtest import Backtest
from diagnose.evaluate.calibrate import Calibration, Override
from diagnose.evaluate.metrics import NONE, Floor, Metrics, Rate
from diagnose.records import dumps

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Accuracy of {pack} on {cases} labelled cases",
        "top1": "Top-1 accuracy",
        "top3": "Top-3 accuracy",
        "of": "{hits:,} of {n:,}",
        "ci": "95% CI {lo}–{hi}",
        "with_cause": "Cases with a confirmed cause: {n:,}",
        "nothing": "  nothing explains (no finding): {rate}",
        "undetermined_only": "  only undetermined rules could explain: {rate}",
        "ties": "Ties at the top (the rule id decided which came first): {n:,}, {wrong:,} of them wrong",
        "per_cause": "Per cause (first-ranked answer against the true main cause)",
        "cause": "Cause",
        "support": "Support",
        "precision": "Precision",
        "recall": "Recall",
        "f1": "F1",
        "recall_ci": "95% CI",
        "found": "Fired",
        "found_note": "Support: cases whose main cause it is. 95% CI: of the recall. Fired: cases labelled with it on which its rule fired at any rank.",
        "confusions": "Most common wrong answers",
        "truth": "True main cause",
        "first": "Ranked first",
        "cases": "Cases",
        "none": "(no finding)",
        "gates": "Gates",
        "gate_ok": "ok",
        "gate_fail": "FAILED",
        "gate_line": "{mark}  {name} {actual} (floor {floor})",
        "na": "n/a",
        "bt_title": "Backtest on {cases} labelled cases: {new} against {old}",
        "bt_top1": "Top-1 accuracy: {old} before, {new} now ({delta} points)",
        "bt_changed": "Cases whose first cause changed: {n:,}",
        "bt_right": "  newly right: {n:,}",
        "bt_wrong": "  newly wrong: {n:,}",
        "bt_other": "  changed, wrong both times: {n:,}",
        "bt_listed": "Changed cases (the first {n:,})",
        "bt_change": "{kind}: {source} (account {account})",
        "bt_ticket": "    ticket: {truth}",
        "bt_move": "    before {before} → now {after}",
        "bt_deltas": "Per-cause changes",
        "before": "Before",
        "after": "After",
        "delta": "Change",
        "newly right": "newly right",
        "newly wrong": "newly wrong",
        "changed": "changed",
        "cal_title": "Calibration of {pack}: {fit:,} cases fitted, {held:,} held out (seed {seed})",
        "cal_part": "Top-1 accuracy",
        "cal_current": "Current",
        "cal_proposed": "Proposed",
        "cal_fitted": "fitted",
        "cal_held": "held out",
        "cal_gain": "On the held-out cases the proposal is {delta} points {dir} the current pack.",
        "cal_better": "better than",
        "cal_worse": "worse than",
        "cal_even": "On the held-out cases the proposal does as well as the current pack.",
        "cal_overrides": "Proposed overrides (gain: cases right with the whole proposal minus without this change)",
        "cal_none": "No change improves top-1 accuracy on the fitted cases: nothing to propose.",
        "kind": "Kind",
        "name": "Name",
        "was": "Was",
        "now": "Now",
        "gain_fit": "Gain fitted",
        "gain_held": "Gain held out",
        "weight": "weight",
        "parameter": "parameter",
        "yaml_head1": "Proposed by `diagnose calibrate` for {pack}: {fit:,} labelled cases fitted, {held:,} held out (seed {seed}).",
        "yaml_head2": "Top-1 accuracy held out: {before} with the current pack, {after} with this one ({delta} points).",
        "yaml_head3": "Review each override; docs/evaluate.md says how to read them.",
        "yaml_gain": "was {before}; {fit:+d} fitted, {held:+d} held-out cases right",
    },
    "zh": {
        "title": "{pack} 在 {cases} 个已标注案例上的准确率",
        "top1": "首位准确率",
        "top3": "前三准确率",
        "of": "{n:,} 个中 {hits:,} 个",
        "ci": "95% 置信区间 {lo}–{hi}",
        "with_cause": "有已确认原因的案例：{n:,}",
        "nothing": "  无任何原因可解释（无结论）：{rate}",
        "undetermined_only": "  仅待定规则可解释（缺少数据）：{rate}",
        "ties": "首位并列（由规则编号决定先后）：{n:,} 个，其中 {wrong:,} 个错误",
        "per_cause": "按原因统计（排第一的结论对照真实主要原因）",
        "cause": "原因",
        "support": "样本数",
        "precision": "精确率",
        "recall": "召回率",
        "f1": "F1",
        "recall_ci": "95% 区间",
        "found": "触发",
        "found_note": "样本数：以该原因为主要原因的案例数。95% 区间：召回率的置信区间。触发：标注了该原因、且其规则在任一位置成立的案例数。",
        "confusions": "最常见的错误结论",
        "truth": "真实主要原因",
        "first": "排第一的原因",
        "cases": "案例数",
        "none": "（无结论）",
        "gates": "门槛",
        "gate_ok": "通过",
        "gate_fail": "未通过",
        "gate_line": "{mark}  {name} {actual}（门槛 {floor}）",
        "na": "无",
        "bt_title": "回测：{cases} 个已标注案例，{new} 对比 {old}",
        "bt_top1": "首位准确率：此前 {old}，现在 {new}（{delta} 个百分点）",
        "bt_changed": "首位原因发生变化的案例：{n:,}",
        "bt_right": "  由错变对：{n:,}",
        "bt_wrong": "  由对变错：{n:,}",
        "bt_other": "  有变化但前后都错：{n:,}",
        "bt_listed": "发生变化的案例（前 {n:,} 个）",
        "bt_change": "{kind}：{source}（账户 {account}）",
        "bt_ticket": "    工单原因：{truth}",
        "bt_move": "    此前 {before} → 现在 {after}",
        "bt_deltas": "各原因的变化",
        "before": "此前",
        "after": "现在",
        "delta": "变化",
        "newly right": "由错变对",
        "newly wrong": "由对变错",
        "changed": "有变化",
        "cal_title": "{pack} 的校准：拟合 {fit:,} 个案例，留出 {held:,} 个（种子 {seed}）",
        "cal_part": "首位准确率",
        "cal_current": "当前",
        "cal_proposed": "建议",
        "cal_fitted": "拟合部分",
        "cal_held": "留出部分",
        "cal_gain": "在留出案例上，建议方案比当前规则包{dir} {delta} 个百分点。",
        "cal_better": "高",
        "cal_worse": "低",
        "cal_even": "在留出案例上，建议方案与当前规则包持平。",
        "cal_overrides": "建议的覆盖项（收益：采用全部建议时答对的案例数减去不采用此项时的案例数）",
        "cal_none": "在拟合案例上没有任何改动能提高首位准确率：无建议。",
        "kind": "类型",
        "name": "名称",
        "was": "原值",
        "now": "新值",
        "gain_fit": "拟合收益",
        "gain_held": "留出收益",
        "weight": "权重",
        "parameter": "参数",
        "yaml_head1": "由 `diagnose calibrate` 为 {pack} 生成：拟合 {fit:,} 个已标注案例，留出 {held:,} 个（种子 {seed}）。",
        "yaml_head2": "留出案例的首位准确率：当前规则包 {before}，本规则包 {after}（{delta} 个百分点）。",
        "yaml_head3": "请逐项审阅覆盖项；阅读方法见 docs/evaluate.md。",
        "yaml_gain": "原值 {before}；拟合部分答对 {fit:+d} 个，留出部分答对 {held:+d} 个",
    },
}


def _t(lang: str) -> dict[str, str]:
    return TEXTS.get(lang, TEXTS["en"])


def pct(value: float | None, lang: str = "en") -> str:
    return _t(lang)["na"] if value is None else f"{value * 100:.1f}%"


def points(delta: float) -> str:
    return f"{delta * 100:+.1f}"


def rate_text(r: Rate, lang: str) -> str:
    t = _t(lang)
    if r.value is None:
        return t["na"]
    open_, semi, close = ("（", "；", "）") if lang == "zh" else (" (", "; ", ")")
    ci = semi + t["ci"].format(lo=pct(r.ci[0]), hi=pct(r.ci[1])) if r.ci else ""
    return f"{pct(r.value)}{open_}{t['of'].format(hits=r.hits, n=r.n)}{ci}{close}"


# --- sections ---------------------------------------------------------------------------


@dataclass
class Table:
    title: str
    heads: list[str]
    rows: list[list[str]]
    numeric: set[int] = field(default_factory=set)
    note: str | None = None


Section = str | Table
"""A line of text, or a table."""


def _pack(m: Metrics, lang: str) -> str:
    if not m.where:
        return m.pack
    return f"{m.where}（{m.pack}）" if lang == "zh" else f"{m.where} ({m.pack})"


MEASURE_NAMES = {"zh": {"top1": "首位准确率", "top3": "前三准确率", "recall": "召回率", "precision": "精确率", "f1": "F1"}}
"""Gates are named by their flag's measure (top1, recall ...); in Chinese by the measure's name."""


def _gate_name(g: Floor, lang: str) -> str:
    word = MEASURE_NAMES.get(lang, {}).get(g.measure, g.measure)
    return f"{word} {g.cause}" if g.cause else word


def _colon(lang: str) -> str:
    return "：" if lang == "zh" else ": "


def _name(cause: str, lang: str) -> str:
    return _t(lang)["none"] if cause == NONE else cause


def metrics_sections(m: Metrics, lang: str, gates: list[Floor] | None = None, *, confusions: int = 10) -> list[Section]:
    t = _t(lang)
    out: list[Section] = [
        t["title"].format(pack=m.pack, cases=f"{m.cases:,}"),
        "",
        f"{t['top1']}{_colon(lang)}{rate_text(m.top1, lang)}",
        f"{t['top3']}{_colon(lang)}{rate_text(m.top3, lang)}",
        t["with_cause"].format(n=m.tally.with_cause),
        t["nothing"].format(rate=rate_text(m.nothing, lang)),
        t["undetermined_only"].format(rate=rate_text(m.undetermined_only, lang)),
        t["ties"].format(n=m.tally.tied, wrong=m.tally.tied_wrong),
    ]
    rows = []
    for c in m.causes():
        ci = c.recall.ci
        rows.append(
            [
                _name(c.cause, lang),
                f"{c.support:,}",
                pct(c.precision.value, lang),
                pct(c.recall.value, lang),
                t["na"] if c.f1 is None else f"{c.f1:.2f}",
                f"{ci[0] * 100:.1f}–{ci[1] * 100:.1f}%" if ci else t["na"],
                f"{c.found:,}/{c.labelled:,}" if c.cause != NONE else "",
            ]
        )
    heads = [t[k] for k in ("cause", "support", "precision", "recall", "f1", "recall_ci", "found")]
    out.append(Table(t["per_cause"], heads, rows, {1, 2, 3, 4, 5, 6}, t["found_note"]))
    wrong = m.confusions()[:confusions]
    if wrong:
        out.append(
            Table(
                t["confusions"],
                [t["truth"], t["first"], t["cases"]],
                [[_name(a, lang), _name(b, lang), f"{n:,}"] for a, b, n in wrong],
                {2},
            )
        )
    out += gate_sections(m, gates or [], lang)
    return out


def gate_sections(m: Metrics, gates: list[Floor], lang: str) -> list[Section]:
    if not gates:
        return []
    t = _t(lang)
    out: list[Section] = ["", t["gates"]]
    for g in gates:
        got = g.actual(m)
        mark = t["gate_ok"] if g.met(m) else t["gate_fail"]
        out.append(t["gate_line"].format(mark=mark, name=_gate_name(g, lang), actual=pct(got, lang), floor=pct(g.value)))
    return out


def backtest_sections(bt: Backtest, lang: str, gates: list[Floor] | None = None) -> list[Section]:
    t = _t(lang)
    old, new = bt.baseline, bt.new
    delta = (new.top1.value or 0) - (old.top1.value or 0)
    out: list[Section] = [
        t["bt_title"].format(cases=f"{new.cases:,}", new=_pack(new, lang), old=_pack(old, lang)),
        "",
        t["bt_top1"].format(old=pct(old.top1.value, lang), new=pct(new.top1.value, lang), delta=points(delta)),
        t["bt_changed"].format(n=bt.changed),
        t["bt_right"].format(n=bt.counts["newly right"]),
        t["bt_wrong"].format(n=bt.counts["newly wrong"]),
        t["bt_other"].format(n=bt.counts["changed"]),
    ]
    if bt.listed:
        out += ["", t["bt_listed"].format(n=len(bt.listed))]
        for ch in bt.listed:
            truth = ch.label.main or " / ".join(ch.label.causes) or t["none"]
            out.append(t["bt_change"].format(kind=t[ch.kind], source=ch.source, account=ch.account))
            out.append(t["bt_ticket"].format(truth=truth))
            out.append(t["bt_move"].format(before=ch.before or t["none"], after=ch.after or t["none"]))
    rows = []
    for d in bt.deltas():
        rows.append(
            [
                _name(d["cause"], lang),
                f"{d['support']:,}",
                *(f"{pct(d[k]['before'], lang)} → {pct(d[k]['after'], lang)}" for k in ("recall", "precision")),
            ]
        )
    if rows:
        out.append(Table(t["bt_deltas"], [t["cause"], t["support"], t["recall"], t["precision"]], rows, {1, 2, 3}))
    out += gate_sections(new, gates or [], lang)
    return out


def calibration_sections(c: Calibration, lang: str) -> list[Section]:
    t = _t(lang)
    rows = [
        [t["cal_fitted"], f"{c.fit_before.n:,}", pct(c.fit_before.value, lang), pct(c.fit_after.value, lang)],
        [t["cal_held"], f"{c.held_before.n:,}", pct(c.held_before.value, lang), pct(c.held_after.value, lang)],
    ]
    word = t["cal_better"] if c.gain > 0 else t["cal_worse"]
    delta = f"{abs(c.gain) * 100:.1f}"
    out: list[Section] = [
        t["cal_title"].format(pack=c.pack, fit=c.fit_before.n, held=c.held_before.n, seed=c.seed),
        Table(t["cal_part"], ["", t["cases"], t["cal_current"], t["cal_proposed"]], rows, {1, 2, 3}),
        t["cal_gain"].format(delta=delta, dir=word) if c.gain else t["cal_even"],
    ]
    if c.overrides:
        orows = [[t[o.kind], o.name, _value(o.before), _value(o.after), f"{o.gain_fit:+d}", f"{o.gain_held:+d}"] for o in c.overrides]
        heads = [t["kind"], t["name"], t["was"], t["now"], t["gain_fit"], t["gain_held"]]
        out.append(Table(t["cal_overrides"], heads, orows, {2, 3, 4, 5}))
    else:
        out.append(t["cal_none"])
    return out


def _value(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v


class YamlTexts:
    """The comments of a proposal pack, in one language."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def header(self, c: Calibration) -> list[str]:
        t = _t(self.lang)
        return [
            t["yaml_head1"].format(pack=c.pack, fit=c.fit_before.n, held=c.held_before.n, seed=c.seed),
            t["yaml_head2"].format(before=pct(c.held_before.value), after=pct(c.held_after.value), delta=points(c.gain)),
            t["yaml_head3"],
        ]

    def gain(self, o: Override) -> str:
        return _t(self.lang)["yaml_gain"].format(before=_value(o.before), fit=o.gain_fit, held=o.gain_held)


# --- drawing sections -------------------------------------------------------------------


def render_rich(sections: list[Section], *, color: bool = False, width: int = 100) -> str:
    from rich import box
    from rich.table import Table as RichTable
    from rich.text import Text

    from diagnose.report.formats import clean
    from diagnose.report.formats.richview import buffer_console

    console, buffer = buffer_console(width, color)
    first = True
    for s in sections:
        if isinstance(s, str):
            console.print(Text(clean(s), style="bold" if first else ""))
            first = False
            continue
        console.print()
        table = RichTable(
            box=box.SIMPLE_HEAD,
            title=s.title,
            title_justify="left",
            title_style="bold",
            caption=s.note,
            caption_justify="left",
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),  # two spaces between columns: the per-cause table fits 80 columns
        )
        for i, h in enumerate(s.heads):
            table.add_column(h, justify="right" if i in s.numeric else "left", no_wrap=i == 0 or i in s.numeric)
        for row in s.rows:
            table.add_row(*(Text(clean(cell)) for cell in row))
        console.print(table)
    return buffer.getvalue()


def _md(text: str) -> str:
    from diagnose.report.formats import clean

    return clean(text, inline=True).replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")


def render_markdown(sections: list[Section]) -> str:
    lines: list[str] = []
    first = True
    for s in sections:
        if isinstance(s, str):
            if first:
                lines += [f"## {_md(s)}", ""]
                first = False
            elif not s:
                if lines and lines[-1]:
                    lines.append("")
            else:
                lines.append(f"- {_md(s.strip())}" if s.startswith("  ") else _md(s) + "  ")
            continue
        lines += ["", f"### {_md(s.title)}", ""]
        lines.append("| " + " | ".join(_md(h) for h in s.heads) + " |")
        lines.append("|" + "|".join("---:" if i in s.numeric else "---" for i in range(len(s.heads))) + "|")
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in s.rows]
        if s.note:
            lines += ["", _md(s.note)]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_json(data: dict[str, Any]) -> str:
    return dumps(data) + "\n"


def render_eval(
    fmt: EvalFormat,
    m: Metrics,
    gates: list[Floor],
    bt: Backtest | None = None,
    *,
    lang: str = "en",
    color: bool = False,
    width: int = 100,
    fail_on_regression: bool = False,
) -> str:
    """An evaluation (or a backtest, when ``bt`` is given) in one of the formats."""
    if fmt is EvalFormat.json:
        data = bt.to_dict() if bt is not None else m.to_dict()
        data["gates"] = [{"gate": g.name(), "floor": g.value, "actual": g.actual(m), "met": g.met(m)} for g in gates]
        return render_json(data)
    if fmt is EvalFormat.junit:
        return render_junit(m, gates, bt, fail_on_regression=fail_on_regression)
    sections = backtest_sections(bt, lang, gates) if bt is not None else metrics_sections(m, lang, gates)
    return render_markdown(sections) if fmt is EvalFormat.markdown else render_rich(sections, color=color, width=width)


def failures(m: Metrics, gates: list[Floor], bt: Backtest | None = None, *, fail_on_regression: bool = False) -> str | None:
    """What made the check fail, in one line (None when it passed): the floors not met, a regression."""
    said = [f"{g.name()} {pct(g.actual(m))} is below {pct(g.value)}" for g in gates if not g.met(m)]
    if bt is not None and fail_on_regression and bt.regressed:
        said.append(
            f"{bt.counts['newly wrong']:,} case(s) newly wrong; top-1 {pct(bt.baseline.top1.value)} -> {pct(bt.new.top1.value)} (--fail-on-regression)"
        )
    return "; ".join(said) or None


# --- junit ------------------------------------------------------------------------------


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold (a file name may have them): shown replaced."""


def _x(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _case(suite: ET.Element, classname: str, name: str, failure: str | None, text: str) -> None:
    case = ET.SubElement(suite, "testcase", classname=classname, name=_x(name))
    if failure is not None:
        ET.SubElement(case, "failure", message=_x(failure)).text = _x(text)
    else:
        ET.SubElement(case, "system-out").text = _x(text)


def render_junit(m: Metrics, gates: list[Floor], bt: Backtest | None = None, *, fail_on_regression: bool = False) -> str:
    """JUnit XML: one test per gate (and top-1 accuracy when none is set); a backtest adds one test per newly wrong case."""
    root = ET.Element("testsuites", name="diagnose eval")
    suite = ET.SubElement(root, "testsuite", name=f"accuracy of {m.pack}")
    summary = f"top-1 {pct(m.top1.value)} ({m.top1.hits} of {m.top1.n}); top-3 {pct(m.top3.value)} ({m.top3.hits} of {m.top3.n})"
    if not gates:
        _case(suite, "accuracy", "top1", None, summary)
    for g in gates:
        got = g.actual(m)
        failure = None if g.met(m) else f"{g.name()} is {pct(got)}, below the floor {pct(g.value)}"
        _case(suite, "accuracy", g.name(), failure, summary)
    if bt is not None:
        bsuite = ET.SubElement(root, "testsuite", name=f"backtest against {_pack(bt.baseline, 'en')}")
        wrong = [c for c in bt.listed if c.kind == "newly wrong"]
        text = f"top-1 {pct(bt.baseline.top1.value)} before, {pct(bt.new.top1.value)} now; {bt.changed} changed"
        if not fail_on_regression or not bt.regressed:
            _case(bsuite, "backtest", "no regression" if not bt.regressed else "regression (not gated)", None, text)
        else:
            _case(bsuite, "backtest", "no regression", f"{bt.counts['newly wrong']} case(s) newly wrong", text)
            for c in wrong:
                _case(bsuite, "backtest", c.source, f"was {c.before}, now {c.after}", json.dumps(c.to_dict(), ensure_ascii=False))
    for s in root.findall("testsuite"):
        cases = s.findall("testcase")
        s.set("tests", str(len(cases)))
        s.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        s.set("errors", "0")
    root.set("tests", str(sum(int(s.get("tests", "0")) for s in root.findall("testsuite"))))
    root.set("failures", str(sum(int(s.get("failures", "0")) for s in root.findall("testsuite"))))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
