"""`diagnose eval` (accuracy against labelled cases, and backtests of a pack change) and `diagnose calibrate` (proposed weights)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer

from diagnose.cli.common import DebugOpt, LangOpt, RulesOpt, app
from diagnose.cli.plain import Engine, Lang, color, err, out, width
from diagnose.errors import CheckFailed, UsageError
from diagnose.evaluate import EvalFormat

if TYPE_CHECKING:
    from diagnose.evaluate.backtest import Change
    from diagnose.evaluate.metrics import Floor

PANEL = "Is the pack right?"
LabelledArg = Annotated[
    list[str],
    typer.Argument(
        metavar="LABELLED...",
        help="Labelled cases: JSON Lines of {snapshot, label} (.gz too, or -), or one folder of snapshots with --labels.",
        show_default=False,
    ),
]
LabelsOpt = Annotated[
    Path | None,
    typer.Option(
        "--labels",
        help="CSV of ticket labels by account id, for a folder of snapshots: columns account_id, causes, main, ticket.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the result to this file instead of standard output.", show_default=False)
]


class CalibrateFormat(str, Enum):
    rich = "rich"
    json = "json"
    markdown = "markdown"


def _floors(
    min_top1: float | None, min_top3: float | None, recall: list[str], precision: list[str], f1: list[str], known: frozenset[str]
) -> list[Floor]:
    from diagnose.evaluate.metrics import Floor, parse_floor

    floors = [Floor(name, v) for name, v in (("top1", min_top1), ("top3", min_top3)) if v is not None]
    for measure, texts in (("recall", recall), ("precision", precision), ("f1", f1)):
        for text in texts:
            try:
                floor = parse_floor(measure, text)
            except ValueError as exc:
                raise UsageError(f"--min-{measure} {text}: {exc}") from None
            if floor.cause not in known:
                raise UsageError(
                    f"--min-{measure} {text}: unknown cause {floor.cause}", hint="`diagnose rules list` shows the pack's rules"
                )
            floors.append(floor)
    return floors


def _emit(text: str, output: Path | None) -> None:
    from diagnose.outputs import write_text

    if output is None:
        out(text)
        return
    if output.parent != Path():
        output.parent.mkdir(parents=True, exist_ok=True)
    write_text(output, text)  # whole or not at all


def _inputs(labelled: list[str], labels: Path | None) -> list[str]:
    """Every file read: the JSON Lines (or the snapshots of a folder) and the CSV of labels."""
    names = []
    for name in labelled:
        folder = Path(name)
        names += [str(p) for p in folder.iterdir()] if name != "-" and folder.is_dir() else [name]
    return names + ([str(labels)] if labels is not None else [])


@app.command("eval", rich_help_panel=PANEL)
def eval_(
    labelled: LabelledArg,
    labels: LabelsOpt = None,
    rules: RulesOpt = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="Backtest: the pack before the change, a folder or git:REV (the --rules folder at a git revision).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        EvalFormat, typer.Option("--format", "-f", help="rich (terminal), json, markdown, or junit (CI test reports).")
    ] = EvalFormat.rich,
    output: OutputOpt = None,
    lang: LangOpt = Lang.en,
    min_top1: Annotated[
        float | None,
        typer.Option("--min-top1", min=0.0, max=1.0, help="Exit 1 when top-1 accuracy is below this share.", show_default=False),
    ] = None,
    min_top3: Annotated[
        float | None,
        typer.Option("--min-top3", min=0.0, max=1.0, help="Exit 1 when top-3 accuracy is below this share.", show_default=False),
    ] = None,
    min_recall: Annotated[
        list[str] | None,
        typer.Option(
            "--min-recall", metavar="CAUSE=SHARE", help="Exit 1 when this cause's recall is below SHARE (repeatable).", show_default=False
        ),
    ] = None,
    min_precision: Annotated[
        list[str] | None, typer.Option("--min-precision", metavar="CAUSE=SHARE", help="The same for precision.", show_default=False)
    ] = None,
    min_f1: Annotated[
        list[str] | None, typer.Option("--min-f1", metavar="CAUSE=SHARE", help="The same for F1.", show_default=False)
    ] = None,
    fail_on_regression: Annotated[
        bool, typer.Option("--fail-on-regression", help="Backtest: exit 1 when a case goes from right to wrong or top-1 accuracy falls.")
    ] = False,
    changes: Annotated[
        Path | None, typer.Option("--changes", help="Backtest: write every changed case to this file (JSON Lines).", show_default=False)
    ] = None,
    show: Annotated[int, typer.Option("--show", min=0, help="Backtest: changed cases listed in the view.")] = 20,
    engine: Annotated[
        Engine, typer.Option("--engine", help="local, or spark (Apache Spark: JSON Lines in, the same numbers).")
    ] = Engine.local,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL with --engine spark (default: local[*]).", show_default=False)
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Accuracy of a pack against labelled cases: top-1 and top-3, per cause, the confusions; with --baseline, a backtest.

    Exit 1 when a --min-* floor is not met, or with --fail-on-regression when a case got worse.
    """
    from diagnose import load_pack
    from diagnose.evaluate import formats as F
    from diagnose.evaluate.labels import Problems, open_cases
    from diagnose.evaluate.run import evaluate, known_causes
    from diagnose.outputs import check_targets

    check_targets(_inputs(labelled, labels), [("--output", output), ("--changes", changes)])
    pack = load_pack(rules)
    old = None
    if baseline is not None:
        from diagnose.evaluate.backtest import load_baseline
        from diagnose.pack.files import resolve

        old, old_where = load_baseline(baseline, resolve(rules))
    known = known_causes(pack, *([old] if old is not None else []))
    floors = _floors(min_top1, min_top3, min_recall or [], min_precision or [], min_f1 or [], known)
    if old is None and (changes is not None or fail_on_regression):
        raise UsageError("--changes and --fail-on-regression need --baseline", hint="name the pack before the change with --baseline")
    problems = Problems()
    if engine is Engine.spark:
        if old is not None or labels is not None:
            raise UsageError("--engine spark measures one pack on JSON Lines: no --baseline or --labels", hint="run the backtest locally")
        from diagnose.cli.spark import session
        from diagnose.evaluate.spark import evaluate_on_spark

        spark, made = session(master, progress=False)
        try:
            metrics = evaluate_on_spark(spark, labelled, pack)
        finally:
            if made:
                spark.stop()
        bt = None
    elif old is not None:
        from diagnose.evaluate.backtest import backtest

        cases = open_cases(labelled, known, problems, labels_csv=labels)
        with _changes_file(changes) as sink:
            bt = backtest(
                pack,
                old,
                cases,
                problems,
                keep=show,
                on_change=(lambda c: _write_change(sink, c)) if sink else None,
                old_where=old_where,
                new_where=str(rules) if rules is not None else "default",
            )
        metrics = bt.new
    else:
        metrics = evaluate(pack, open_cases(labelled, known, problems, labels_csv=labels), problems)
        bt = None

    text = F.render_eval(
        fmt, metrics, floors, bt, lang=lang.value, color=output is None and color(), width=width(), fail_on_regression=fail_on_regression
    )
    _emit(text, output)
    failed = F.failures(metrics, floors, bt, fail_on_regression=fail_on_regression)
    if failed:
        raise CheckFailed(failed)


class _changes_file:
    """The --changes file, opened for the backtest and closed after it (or nothing)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.fh: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes] | None:
        if self.path is not None:
            try:
                self.fh = self.path.open("wb")
            except OSError as exc:
                raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(self.path)) from None
        return self.fh

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


def _write_change(sink: IO[bytes], change: Change) -> None:
    import orjson

    sink.write(orjson.dumps(change.to_dict()) + b"\n")


@app.command(rich_help_panel=PANEL)
def calibrate(
    labelled: LabelledArg,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The proposal: a new pack folder that extends --rules (never overwritten).")
    ],
    labels: LabelsOpt = None,
    rules: RulesOpt = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split into fitted and held-out cases.")] = 0,
    holdout: Annotated[
        float, typer.Option("--holdout", min=0.05, max=0.95, help="Share of the cases held out to judge the proposal.")
    ] = 0.3,
    thresholds: Annotated[bool, typer.Option("--thresholds", help="Also move parameters whose pack declares a `tune` range.")] = False,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the proposal pack (default: the pack's name + -calibrated).", show_default=False)
    ] = None,
    fmt: Annotated[CalibrateFormat, typer.Option("--format", "-f", help="rich (terminal), json or markdown.")] = CalibrateFormat.rich,
    lang: LangOpt = Lang.en,
    debug: DebugOpt = False,
) -> None:
    """Propose rule weights (and, with --thresholds, parameters) that maximise top-1 accuracy, judged on held-out cases.

    Writes the proposal as a new pack folder that `extends` the pack; the pack's own files are never edited.
    """
    from diagnose.evaluate import formats as F
    from diagnose.evaluate.calibrate import calibrate as fit
    from diagnose.evaluate.calibrate import check_output, extends_value, proposal_text, write_proposal
    from diagnose.evaluate.labels import Problems, open_cases
    from diagnose.evaluate.run import known_causes
    from diagnose.pack.files import default_pack_path, resolve
    from diagnose.pack.loader import load

    current = resolve(rules) if rules is not None else default_pack_path()
    check_output(output, current)  # before the search, which takes a while
    from diagnose.api import CompiledPack

    pack = CompiledPack.from_pack(load(rules))  # the full pack: its parameters' `tune` ranges
    problems = Problems()
    cases = list(open_cases(labelled, known_causes(pack), problems, labels_csv=labels))
    result, weights, params = fit(pack, cases, problems, seed=seed, holdout=holdout, thresholds=thresholds)
    proposed = bool(weights or params)
    if proposed:  # a proposal that changes nothing is no proposal: no folder to review
        text = proposal_text(
            result,
            weights,
            params,
            base=extends_value(rules, output),
            name=name or f"{pack.name}-calibrated",
            version=f"{pack.version}-calibrated",
            texts=F.YamlTexts(lang.value),
        )
        write_proposal(output, text, current)
    if fmt is CalibrateFormat.json:
        out(F.render_json(result.to_dict() | {"proposal": str(output) if proposed else None}))
    else:
        sections = F.calibration_sections(result, lang.value)
        out(F.render_markdown(sections) if fmt is CalibrateFormat.markdown else F.render_rich(sections, color=color(), width=width()))
    if not proposed:
        err("没有可提出的改动，未写入规则包。" if lang is Lang.zh else f"nothing to propose: {output} not written")
        return
    err(("已写入建议规则包：" if lang is Lang.zh else "wrote the proposal: ") + str(output))
