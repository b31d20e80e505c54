"""`diagnose rules ...`: lint, test, list, show and document the rules of a pack, and show what they compile to."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.common import ColorOpt, LangOpt, RulesOpt
from diagnose.cli.plain import Lang, color, err, out, text_width
from diagnose.errors import ExitCode, UsageError
from diagnose.pack.files import MANIFEST
from diagnose.packci.ciformats import CIFormat, Options, lint_summary, percent

rules_app = typer.Typer(help="Rule packs as code: lint, test, list, show and document rules.", no_args_is_help=True)

PackArg = Annotated[
    Path | None,
    typer.Argument(metavar="[PACK]", help="Rule pack folder (default: the built-in pack); the same as --rules.", show_default=False),
]
FormatOpt = Annotated[
    CIFormat, typer.Option("--format", "-f", help="text (people), json, junit (CI test reports), github (annotations) or sarif.")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of standard output.", show_default=False)
]


class ViewFormat(str, Enum):
    text = "text"
    json = "json"


ViewOpt = Annotated[ViewFormat, typer.Option("--format", "-f", help="text or json.")]


def _pack(positional: Path | None, rules: Path | None) -> Path | None:
    """The pack named by the PACK argument or --rules (both may be given only if they agree)."""
    if positional is not None and rules is not None and positional.resolve() != rules.resolve():
        raise UsageError(f"two packs named: {positional} and --rules {rules}", hint="name the pack once, as PACK or with --rules")
    return positional or rules


def _is_pack(path: Path) -> bool:
    return (path.is_dir() and (path / MANIFEST).is_file()) or path.name == MANIFEST


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        out(text)
        sys.stdout.flush()
        return
    from diagnose.outputs import write_text, writing

    with writing(str(output)):
        output.parent.mkdir(parents=True, exist_ok=True)
    write_text(output, text)


def _guard(output: Path | None, pack: Path | None, cases: Sequence[Path] = ()) -> None:
    """Refuse an --output that is a file of the pack or a case file, before any work."""
    if output is None:
        return
    from itertools import islice

    from diagnose.outputs import check_targets
    from diagnose.pack.files import resolve

    root = resolve(pack)
    read = [p for p in islice(root.rglob("*"), 5000) if p.is_file()] if root.is_dir() else []
    for c in cases:
        read += [p for p in islice(c.rglob("*"), 5000) if p.is_file()] if c.is_dir() else [c]
    check_targets([str(p) for p in read], [("--output", output)])


def _options(fmt: CIFormat, strict: bool = False, min_coverage: float | None = None, to_file: bool = False) -> Options:
    from diagnose._version import __version__

    return Options(
        strict=strict, color=fmt is CIFormat.text and not to_file and color(), min_coverage=min_coverage, tool_version=__version__
    )


@rules_app.command("lint")
def rules_lint(
    pack_path: PackArg = None,
    rules: RulesOpt = None,
    fmt: FormatOpt = CIFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")] = False,
    output: OutputOpt = None,
    color_choice: ColorOpt = None,
) -> None:
    """Check a pack without running it: every problem at file:line:column, with its rule, a message and a hint.

    Exit 1 on errors (and on warnings with --strict); a pack that cannot even be loaded is linted too.
    """
    from diagnose.packci.ciformats import formatter
    from diagnose.packci.lint import lint

    _guard(output, _pack(pack_path, rules))
    result = lint(_pack(pack_path, rules))
    options = _options(fmt, strict, to_file=output is not None)
    _emit(formatter(fmt).lint(result, options), output)
    if output is not None:  # on standard output, every format ends with this line itself
        err(f"rules lint: {lint_summary(result, options)}")
    if result.failed(strict):
        raise typer.Exit(int(ExitCode.CHECK_FAILED))  # the summary said why, once


@rules_app.command("test")
def rules_test(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PACK] [CASES]...",
            help="A pack folder (default: the built-in pack), then golden case files or folders of them (default: PACK/cases).",
            show_default=False,
        ),
    ] = None,
    rules: RulesOpt = None,
    fmt: FormatOpt = CIFormat.text,
    min_coverage: Annotated[
        float | None,
        typer.Option(
            "--min-coverage", min=0, max=100, metavar="PCT", help="Fail when fewer than PCT% of rules both fired and stayed quiet."
        ),
    ] = None,
    lang: LangOpt = Lang.en,
    output: OutputOpt = None,
    color_choice: ColorOpt = None,
) -> None:
    """Run every rule's own examples and the golden case files; report each case and the coverage reached."""
    from diagnose.packci.ciformats import formatter
    from diagnose.packci.ruletest import run

    given = list(paths or [])
    same = rules is not None and bool(given) and given[0].resolve() == rules.resolve()
    pack_path = given.pop(0) if given and (rules is None or same) and _is_pack(given[0]) else None
    pack = _pack(pack_path, rules)
    cases = given
    if not cases and pack is not None and (Path(pack) / "cases").is_dir():
        cases = [Path(pack) / "cases"]
    missing = [str(c) for c in cases if not c.exists()]
    if missing:
        raise UsageError(
            f"no such case file or folder: {', '.join(missing)}", hint="PACK comes first; then golden case files (*.yaml) or folders"
        )
    _guard(output, pack, cases)
    result = run(pack, cases, lang=lang.value)
    options = _options(fmt, min_coverage=min_coverage, to_file=output is not None)
    _emit(formatter(fmt).test(result, options), output)
    cov = result.coverage
    if output is not None:  # on standard output, every format ends with these counts itself
        summary = f"{len(result.passed)} passed, {len(result.failed)} failed, {len(result.skipped)} skipped"
        below = min_coverage is not None and not cov.meets(min_coverage)
        summary += f"; rule coverage {percent(cov.rule_percent())}" + (f", below --min-coverage {min_coverage:g}%" if below else "")
        err(f"rules test: {summary}")
    if result.failed or (min_coverage is not None and not cov.meets(min_coverage)):
        raise typer.Exit(int(ExitCode.CHECK_FAILED))  # the report said why, once


@rules_app.command("list")
def rules_list(pack_path: PackArg = None, rules: RulesOpt = None, lang: LangOpt = Lang.en, fmt: ViewOpt = ViewFormat.text) -> None:
    """A table of the pack's rules: id, family, severity and title."""
    from diagnose import load_pack
    from diagnose.packci.ruledoc import rows, table
    from diagnose.report.formats import clean

    pack = load_pack(_pack(pack_path, rules))
    if fmt is ViewFormat.json:
        import json

        _emit(json.dumps(rows(pack, lang.value), ensure_ascii=False, indent=2) + "\n", None)
    else:
        _emit(clean(table(pack, lang.value, text_width())), None)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[str, typer.Argument(metavar="ID", help="The rule's id, e.g. LIQ-FUNDER-QUOTA.", show_default=False)],
    pack_path: PackArg = None,
    rules: RulesOpt = None,
    lang: LangOpt = Lang.en,
    fmt: ViewOpt = ViewFormat.text,
) -> None:
    """The whole rule, rendered for a reader: texts, condition, thresholds, remedies and examples."""
    import difflib

    from diagnose.pack.loader import load
    from diagnose.packci.ruledoc import show, show_data
    from diagnose.report.formats import clean

    pack = load(_pack(pack_path, rules))
    ids = [r.id for r in pack.rules]
    wanted = rule_id.strip().upper()
    if wanted not in ids:
        if wanted in pack.disabled:
            raise UsageError(f"rule {wanted} is disabled by this pack: {pack.disabled[wanted]}")
        near = difflib.get_close_matches(wanted, ids, n=1, cutoff=0.6)
        raise UsageError(
            f"no rule {rule_id} in pack {pack.name}", hint=f"did you mean {near[0]}?" if near else "`diagnose rules list` shows every rule"
        )
    if fmt is ViewFormat.json:
        import json

        _emit(json.dumps(show_data(pack, wanted), ensure_ascii=False, indent=2) + "\n", None)
    else:
        _emit(clean(show(pack, wanted, lang.value, text_width())), None)


@rules_app.command("doc")
def rules_doc(pack_path: PackArg = None, rules: RulesOpt = None, output: OutputOpt = None) -> None:
    """The pack's rule reference as Markdown (docs/rules.md is the default pack's)."""
    from diagnose.pack.loader import load
    from diagnose.packci.ruledoc import render

    _guard(output, _pack(pack_path, rules))
    _emit(render(load(_pack(pack_path, rules))), output)


@rules_app.command("compiled")
def rules_compiled(
    pack_path: PackArg = None,
    rules: RulesOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATE", help="Only the rules in force on this day, YYYY-MM-DD (default: every era of dated rules)."
        ),
    ] = None,
) -> None:
    """The Python function the pack's conditions are generated into, with its table of constants (for a reviewer).

    The source holds only names the compiler made up and indexes into the table; every fact path, value and parameter of the rules is in the table, shown after the source.
    """
    from datetime import date

    from diagnose import load_pack

    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise UsageError(f"--as-of {as_of}: not a day", hint="write the day as YYYY-MM-DD, e.g. --as-of 2025-10-01") from None
    _emit(load_pack(_pack(pack_path, rules)).review(day), None)


_INIT_DONE = {
    "en": "Created the rule pack {name} in {folder} ({count} files; it extends the default pack):",
    "zh": "已在 {folder} 创建规则包 {name}（{count} 个文件；继承默认规则包）：",
}
_INIT_NEXT = {
    "en": [
        "Next, in {folder}:",
        "  diagnose rules lint . --strict",
        "  diagnose rules test . --min-coverage 100",
        "  git init && pre-commit install",
    ],
    "zh": [
        "接下来，在 {folder} 中：",
        "  diagnose rules lint . --strict",
        "  diagnose rules test . --min-coverage 100",
        "  git init && pre-commit install",
    ],
}


@rules_app.command("init")
def rules_init(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Folder for the new pack (created; must not hold its files yet).")],
    name: Annotated[str | None, typer.Option("--name", help="The pack's name (default: from the folder's name).")] = None,
    lang: LangOpt = Lang.en,
) -> None:
    """Start a new pack that extends the default: one example rule, a golden case, a CI workflow, pre-commit hooks, schemas.

    What it writes passes `rules lint --strict` and `rules test --min-coverage 100` as it is.
    """
    from diagnose.packci.scaffold import init

    made = init(folder, name)
    lines = [_INIT_DONE[lang.value].format(name=made.name, folder=folder, count=len(made.files))]
    lines += [f"  {f}" for f in made.files]
    lines += [line.format(folder=folder) for line in _INIT_NEXT[lang.value]]
    _emit("\n".join(lines) + "\n", None)
