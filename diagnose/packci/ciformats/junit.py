"""JUnit XML, as CI systems read it: lint as one test per rule, rule tests as one test per example or case."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from diagnose.errors import PackProblem
from diagnose.packci.ciformats import Options, percent, repository, repository_path, shown_path
from diagnose.packci.lint import LintResult
from diagnose.packci.ruletest import CaseResult, TestRun

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold; text from a pack is shown with them replaced."""


def _x(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def _suite(parent: ET.Element, name: str, cases: list[ET.Element]) -> ET.Element:
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    skipped = sum(1 for c in cases if c.find("skipped") is not None)
    return ET.SubElement(
        parent, "testsuite", name=_x(name), tests=str(len(cases)), failures=str(failures), errors=str(errors), skipped=str(skipped)
    )


def _finish(root: ET.Element) -> str:
    suites = root.findall("testsuite")
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _render(p: PackProblem) -> str:
    text = f"{p.level}[{p.code}] {p.location()}: {p.message}"
    return text + (f"\nhelp: {p.hint}" if p.hint else "")


def lint(result: LintResult, options: Options) -> str:
    where = _places(result.root)
    root = ET.Element("testsuites", name="diagnose rules lint")
    by_case: dict[tuple[str, str], list[PackProblem]] = {}
    lines: dict[tuple[str, str], int] = {}
    # every rule is a test, so a clean pack shows as passing tests rather than as none
    for rule, file, line in result.rule_places:
        by_case[(where(file), rule)] = []
        if line:
            lines[(where(file), rule)] = line
    for p in result.problems:
        key = (where(p.file), p.rule_id or "(file)")
        by_case.setdefault(key, []).append(p)
        if p.line and key not in lines:
            lines[key] = p.line
    cases: list[ET.Element] = []
    for (file, rule), problems in sorted(by_case.items()):
        case = ET.Element("testcase", classname=_x(file), name=_x(rule), file=_x(file))
        if (file, rule) in lines:
            case.set("line", str(lines[(file, rule)]))
        failing = [p for p in problems if p.level == "error" or options.strict]
        if failing:
            first = failing[0]
            fail = ET.SubElement(case, "failure", message=_x(first.message), type=_x(first.code))
            fail.text = _x("\n\n".join(_render(p) for p in failing))
        quiet = [p for p in problems if p not in failing]
        if quiet:
            ET.SubElement(case, "system-out").text = _x("\n\n".join(_render(p) for p in quiet))
        cases.append(case)
    suite = _suite(root, f"lint {where(result.root)}", cases)
    suite.extend(cases)
    return _finish(root)


def _places(pack_root: str) -> Callable[[str], str]:
    """Paths relative to the pack's repository (`.` for the repository itself); a file outside it (a case file named
    on the command line) as it was given."""
    root = repository(pack_root)

    def where(path: str) -> str:
        if path and Path(path).resolve() == root:
            return "."
        return repository_path(path, root) or shown_path(path)

    return where


def _testcase(r: CaseResult, where: Callable[[str], str]) -> ET.Element:
    file = where(r.file)
    case = ET.Element("testcase", classname=_x(r.rule_id or file), name=_x(r.name), file=_x(file))
    if r.line:
        case.set("line", str(r.line))
    if r.skipped is not None:
        ET.SubElement(case, "skipped", message=_x(r.skipped))
    elif not r.passed:
        fail = ET.SubElement(case, "failure", message=_x(f"expected {r.expected}, got {r.actual}"), type=r.kind)
        fail.text = _x("\n".join([f"{file}:{r.line or 0}: {r.name}", f"expected {r.expected}, got {r.actual}", *r.details]))
    return case


def test(run: TestRun, options: Options) -> str:
    where = _places(run.root)
    root = ET.Element("testsuites", name="diagnose rules test")
    groups: dict[str, list[ET.Element]] = {}
    for r in run.results:
        groups.setdefault(where(r.file), []).append(_testcase(r, where))
    for file, cases in groups.items():
        suite = _suite(root, file, cases)
        suite.extend(cases)
    cov = run.coverage
    case = ET.Element("testcase", classname="coverage", name="rule coverage")
    report = [f"rules both fired and quiet: {len(cov.covered())} of {len(cov.rules)} ({percent(cov.rule_percent())})"]
    report += [f"never fired: {rid}" for rid in cov.never_fired()] + [f"never quiet: {rid}" for rid in cov.never_quiet()]
    report.append(
        f"conditions that decided a result: {len(cov.decided_leaves & cov.all_leaves)} of {len(cov.all_leaves)} ({percent(cov.condition_percent())})"
    )
    report += [f"never decided: {c.rule_id}: {c.text}" for c in cov.undecided()]
    if options.min_coverage is not None and not cov.meets(options.min_coverage):
        fail = ET.SubElement(
            case, "failure", message=f"rule coverage {percent(cov.rule_percent())} is below {options.min_coverage:g}%", type="coverage"
        )
        fail.text = _x("\n".join(report))
    else:
        ET.SubElement(case, "system-out").text = _x("\n".join(report))
    suite = _suite(root, "coverage", [case])
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", name="rule_coverage", value=f"{cov.rule_percent():g}")
    ET.SubElement(props, "property", name="condition_coverage", value=f"{cov.condition_percent():g}")
    suite.append(case)
    return _finish(root)
