"""`diagnose batch` (many snapshots), `diagnose summarize` (a portfolio summary of saved reports) and `diagnose generate` (test data)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, cast

import typer

from diagnose.cli.common import ColorOpt, DebugOpt, LangOpt, RedactKeyOpt, RedactOpt, RulesOpt, app
from diagnose.cli.output import check_by, closing_checks, closing_counts, flat_done, show_summary, slices
from diagnose.cli.plain import Engine, Lang, err, redactor
from diagnose.errors import InvalidInput, Problem, UsageError
from diagnose.errorwords import say
from diagnose.portfolio.segments import By
from diagnose.portfolio.summary import SummaryFormat

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from diagnose.api import CompiledPack
    from diagnose.portfolio.flat import FlatWriter
    from diagnose.portfolio.generate import Line, Template
    from diagnose.portfolio.summary import Tally

PANEL = "Many snapshots"
FormatOpt = Annotated[
    SummaryFormat, typer.Option("--format", "-f", help="Format of the summary: rich (terminal tables with bars), json or markdown.")
]
HtmlOpt = Annotated[
    Path | None, typer.Option("--html", help="Also write the summary as a self-contained HTML page to this file.", show_default=False)
]
PairsOpt = Annotated[int, typer.Option("--pairs", min=0, help="How many of the most common pairs of causes to show.")]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="Break the summary down by segment: product, region, funder, funding_model, tier, channel, currency, "
        "as_of:day, as_of:week, as_of:month, or a fact path; several with commas.",
        show_default=False,
    ),
]
FlatOpt = Annotated[
    Path | None,
    typer.Option(
        "--flat",
        help="Also write one row per account and one per finding to this folder: CSV, and Parquet when pyarrow is installed.",
        show_default=False,
    ),
]


def _same(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _flat_writer(folder: Path | None, segments: Sequence[str], inputs: Sequence[Path]) -> FlatWriter | None:
    """The writer of `--flat`, after checking that it would overwrite no input; warns when Parquet cannot be written."""
    if folder is None:
        return None
    from diagnose.portfolio.flat import FILES, FlatWriter

    for name in FILES:
        if any(p.exists() and (folder / name).exists() and _same(p, folder / name) for p in inputs):
            raise UsageError("would overwrite an input", source=str(folder / name))
    writer = FlatWriter(folder, segments)
    if not writer.parquet:
        err(f"note: pyarrow is not installed: {folder} gets CSV only; install the `parquet` extra for Parquet")
    return writer


def _reasons(paths: Sequence[Path]) -> Counter[str]:
    """Records of error reports per reason; a line that is not an error record counts as such."""
    import orjson

    from diagnose.portfolio.summary import reject_reason

    out: Counter[str] = Counter()
    if not paths:
        return out
    for _, _, data in _report_lines([str(p) for p in paths]):
        try:
            record = orjson.loads(data)
        except orjson.JSONDecodeError:
            record = None
        out[reject_reason(record) if isinstance(record, dict) else "not an error record"] += 1
    return out


def _check_echoed(tally: Tally) -> None:
    """A --by field that no report echoes would put every account in one unknown segment: say so instead."""
    if not tally.diagnosed:
        return
    for i, name in enumerate(tally.by.fields):
        if not name.startswith("as_of:") and all(key[i] is None for key in tally.parts):
            raise UsageError(
                f"--by {name}: no report has it among its segments",
                hint=f"the reports echo the pack's segments; `diagnose batch --summary --by {name}` adds a fact to them",
            )


class _Progress:
    """A rich progress bar on standard error, refreshed at most ten times a second (no thread: workers fork safely)."""

    def __init__(self, total: int | None, start_records: int, start_bytes: int) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        columns: list[ProgressColumn] = [TextColumn("{task.fields[records]:>12,} records"), TextColumn("{task.fields[rate]:>8,.0f}/s")]
        if total:
            columns += [BarColumn(), TaskProgressColumn(), TextColumn("ETA"), TimeRemainingColumn()]
        else:
            columns += [TimeElapsedColumn()]
        self.bar = Progress(*columns, console=Console(stderr=True), auto_refresh=False, transient=False)
        self.task = self.bar.add_task("batch", total=total, completed=start_bytes, records=start_records, rate=0.0)
        self.start = time.monotonic()
        self.first = start_records
        self.last = 0.0

    def __enter__(self) -> _Progress:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.refresh()
        self.bar.stop()

    def update(self, records: int, size: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.1:
            return
        self.last = now
        rate = (records - self.first) / max(now - self.start, 1e-9)
        self.bar.update(self.task, completed=size, records=records, rate=rate)
        self.bar.refresh()


@app.command(rich_help_panel=PANEL)
def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT...",
            help="JSON Lines files (one snapshot a line; .gz read transparently), .json files, folders of .json files, or - for standard input.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the reports (JSON Lines) here instead of standard output.", show_default=False),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(
            "--errors",
            "-e",
            help="Write rejected records (JSON Lines) here; otherwise each is one line on standard error.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", min=1, help="Worker processes (default: the number of CPUs).", show_default=False)
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run after the last complete record in --output (and --errors).")
    ] = False,
    fail_on_rejects: Annotated[bool, typer.Option("--fail-on-rejects", help="Exit 1 when any record was rejected.")] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help="Print a portfolio summary at the end (to standard output when --output is a file).")
    ] = False,
    fmt: FormatOpt = SummaryFormat.rich,
    html: HtmlOpt = None,
    pairs: PairsOpt = 10,
    by_text: ByOpt = None,
    flat_dir: FlatOpt = None,
    lang: LangOpt = Lang.en,
    rules: RulesOpt = None,
    max_bytes: Annotated[int, typer.Option("--max-bytes", min=1, help="Largest snapshot accepted, in bytes.")] = 10 * 1024 * 1024,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1, help="Records sent to a worker at a time.")] = 256,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    redact: RedactOpt = False,
    redact_key: RedactKeyOpt = None,
    color_choice: ColorOpt = None,
    debug: DebugOpt = False,
    engine: Annotated[
        Engine,
        typer.Option("--engine", help="local (worker processes here) or spark (Apache Spark: JSON Lines or Parquet in, a folder out)."),
    ] = Engine.local,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL for --engine spark, e.g. local[4] or yarn.", show_default=False)
    ] = None,
) -> None:
    """Diagnose many snapshots: one report a line (JSON Lines) in input order, each with its source file and line."""
    from diagnose import load_pack
    from diagnose.portfolio import batch as core

    by = By.parse(by_text)
    check_by(by, summary)
    if engine is not Engine.local or master is not None:  # the Spark engine: diagnose/cli/spark.py
        from diagnose.cli.spark import batch_on_spark

        if redact:
            raise UsageError("--redact is for the local engine", hint="run the batch with --engine local, or redact its output afterwards")

        return batch_on_spark(
            inputs, output=output, errors=errors, master=master, engine=engine, workers=workers, resume=resume,
            fail_on_rejects=fail_on_rejects, summary=summary, fmt=fmt, html=html, pairs=pairs, lang=lang.value, rules=rules,
            max_bytes=max_bytes, quiet=quiet, by=by, flat=flat_dir,
        )  # fmt: skip
    from diagnose.outputs import OutputLock, check_targets, open_append, same_inputs

    items = core.check_inputs(inputs)
    if resume and output is None:
        raise UsageError(
            "--resume needs --output: the file to continue", hint="rerun with the same --output (and --errors) as the interrupted run"
        )
    read = [str(p) for i in items for p in i.files] + ([core.STDIN] if any(i.kind == "stdin" for i in items) else [])
    check_targets(read, [("--output", output), ("--errors", errors), ("--html", html)])
    pack = load_pack(rules)
    by.check(n for n, _ in pack.segments)
    asked, by = bool(by), slices(by, html, pack.segments)
    if resume and flat_dir is not None:
        raise UsageError(
            "--flat is not for --resume runs", hint="write the flat export of the finished output: diagnose summarize OUTPUT --flat DIR"
        )
    hasher = redactor(pack, redact, redact_key, lang.value)
    pins = core.pin_inputs(items)

    with ExitStack() as stack:
        locks = {
            option: stack.enter_context(OutputLock(target, option))
            for option, target in (("--output", output), ("--errors", errors))
            if target is not None and (target.is_file() or not target.exists())
        }
        done_out = core.count_done(output) if resume else core.Done()
        done_err = core.count_done(errors) if resume and errors is not None else (core.Done() if errors is not None else None)
        earlier = core.tally_file(output, by) if summary and resume and output is not None and output.exists() else None
        earlier_reasons = _reasons([errors]) if summary and resume and errors is not None and errors.exists() else Counter()
        flat = _flat_writer(flat_dir, [n for n, _ in pack.segments] + list(by.echoed(pack.segments)), [p for i in items for p in i.files])
        if flat is not None:
            stack.callback(flat.close)
        out_fh: IO[bytes] = open_append(output, truncate=not resume) if output is not None else sys.stdout.buffer
        if output is not None:
            stack.enter_context(out_fh)
        err_fh = stack.enter_context(open_append(errors, truncate=not resume)) if errors is not None else None
        sys.stdout.flush()
        n_workers = workers or core.default_workers()
        records: Iterator[core.Item]
        if resume:  # skipping what is done counts records: read line by line
            lines = core.iter_records(items, max_bytes=max_bytes)
            records, resumed = lines, core.skip_done(lines, done_out, done_err)
        else:
            records = (
                core.iter_items(items, max_bytes=max_bytes, lines=chunk_size, workers=n_workers)
                if n_workers > 1
                else core.iter_records(items, max_bytes=max_bytes)
            )
            resumed = core.Resumed()
        now = core.input_records(items, pins)
        lock = locks.get("--output")
        if resume and lock is not None and (before := lock.recorded()) is not None and (why := same_inputs(before, now)):
            raise UsageError(
                f"--resume: {why}", hint="resume with the inputs of the interrupted run, unchanged; or run again without --resume"
            )
        if lock is not None:
            lock.record(now)
        if resume:
            err(say("batch.resuming", skipped=resumed.skipped, diagnosed=resumed.diagnosed, rejected=resumed.rejected).text(lang.value))
        names = (str(output) if output is not None else "<stdout>", str(errors))
        sinks = core.Sinks(out_fh, err_fh, lambda r: err(r.render(lang.value)), names=names)
        state = {"records": resumed.skipped}
        bar: _Progress | None = None
        if not quiet and sys.stderr.isatty():
            bar = stack.enter_context(_Progress(core.total_size(items), resumed.skipped, resumed.size))

        def progress(records_done: int, size: int) -> None:
            state["records"] = records_done
            if bar is not None:
                bar.update(records_done, size)

        try:
            outcome = core.run(
                records,
                sinks,
                pack,
                lang=lang.value,
                workers=n_workers,
                chunk_size=chunk_size,
                max_bytes=max_bytes,
                summary=summary,
                resumed=resumed,
                progress=progress,
                by=by,
                flat=flat.write if flat is not None else None,
                pins=pins,
                redact_key=hasher.key if hasher is not None else None,
            )
        except KeyboardInterrupt:
            where = say("batch.interrupted.to", output=output) if output is not None else ""
            again = say("batch.interrupted.resume") if output is not None else ""
            err(say("batch.interrupted", count=state["records"], where=where, resume=again).text(lang.value))
            raise typer.Exit(130) from None
        if bar is not None:
            bar.update(outcome.read, sum(i.size or 0 for i in items), force=True)

    closing_counts(
        outcome.read,
        outcome.diagnosed,
        outcome.rejected,
        resumed_after=resumed.skipped if resume else None,
        errors_kept=errors is not None,
        errors_flag="FILE",
        lang=lang.value,
    )
    if flat is not None:
        flat_done(flat.accounts, flat.findings, flat_dir, lang.value)
    if summary and outcome.tally is not None:
        from diagnose.portfolio.summary import pack_labels
        from diagnose.portfolio.summary import summarize as make_summary

        tally = outcome.tally
        if earlier is not None:
            earlier.merge(tally)
            tally = earlier
        reasons = sinks.reasons + earlier_reasons
        made = make_summary(
            tally, read=outcome.read, rejected=outcome.rejected, pairs=pairs, reasons=reasons, labels=pack_labels(pack, lang.value)
        )
        show_summary(made, fmt, html, to_stdout=output is not None, lang=lang.value, inputs=inputs, asked=asked)
    closing_checks(outcome.internal, outcome.rejected, fail_on_rejects=fail_on_rejects)


def _report_lines(paths: list[str]) -> Iterator[tuple[str, int, bytes]]:
    from diagnose.portfolio import batch as core

    for rec in core.iter_records(core.check_inputs(paths)):
        yield rec.file, rec.line, rec.data


@app.command(rich_help_panel=PANEL)
def summarize(
    reports: Annotated[
        list[str],
        typer.Argument(
            metavar="REPORTS...", help="Output of `diagnose batch` (JSON Lines, .gz too), or - for standard input.", show_default=False
        ),
    ],
    errors: Annotated[
        list[Path] | None,
        typer.Option("--errors", "-e", help="Error reports of the same run, to count rejected records.", show_default=False),
    ] = None,
    fmt: FormatOpt = SummaryFormat.rich,
    html: HtmlOpt = None,
    pairs: PairsOpt = 10,
    by_text: ByOpt = None,
    flat_dir: FlatOpt = None,
    lang: LangOpt = Lang.en,
    color_choice: ColorOpt = None,
    rules: RulesOpt = None,
    redact: Annotated[
        bool,
        typer.Option("--redact", help="Show causes by rule id, not by their titles, which may quote the snapshot's values."),
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Portfolio summary of saved reports: accounts per family and cause, shares, top causes, verdicts, common pairs."""
    import orjson

    from diagnose import load_pack
    from diagnose.outputs import check_targets
    from diagnose.portfolio.flat import add_dict as add_flat
    from diagnose.portfolio.flat import new_rows
    from diagnose.portfolio.summary import Tally, pack_labels
    from diagnose.portfolio.summary import summarize as make_summary

    check_targets([*reports, *map(str, errors or [])], [("--html", html)])
    by = By.parse(by_text)
    pack = load_pack(rules)
    by.check(n for n, _ in pack.segments)
    asked, by = bool(by), slices(by, html, pack.segments)
    tally = Tally(by=by)
    named = [Path(r) for r in reports if r != "-"]
    flat = _flat_writer(flat_dir, [n for n, _ in pack.segments] + list(by.echoed(pack.segments)), named)
    rows = new_rows()
    for file, line, data in _report_lines(reports):
        try:
            parsed = orjson.loads(data)
            if redact:
                parsed = _untitled(parsed)
            tally.add_dict(parsed)
            if flat is not None:
                add_flat(rows, parsed)
                if len(rows.accounts) >= 4096:
                    flat.write(rows)
                    rows = new_rows()
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise InvalidInput(
                [Problem("", f"not a report: {exc}")],
                source=f"{file}:{line}",
                hint="summarize reads the output of `diagnose batch`; an interrupted batch may leave a partial last line (rerun it with --resume)",
            ) from None
    if flat is not None:
        flat.write(rows)
        flat.close()
        flat_done(flat.accounts, flat.findings, flat_dir, lang.value)
    if asked:
        _check_echoed(tally)
    for path in errors or []:
        if not path.is_file():
            raise UsageError("no such file", source=str(path))
    reasons = _reasons(errors or [])
    made = make_summary(tally, rejected=sum(reasons.values()), pairs=pairs, reasons=reasons, labels=pack_labels(pack, lang.value))
    show_summary(made, fmt, html, to_stdout=True, lang=lang.value, inputs=reports, asked=asked)


def _untitled(report: object) -> object:
    """A report whose findings are named by rule id: a title is a template that may have written a value in."""
    if isinstance(report, dict) and isinstance(report.get("findings"), list):
        for finding in report["findings"]:
            if isinstance(finding, dict) and "rule_id" in finding:
                finding["title"] = finding["rule_id"]
    return report


@app.command(rich_help_panel=PANEL)
def generate(
    count: Annotated[int, typer.Option("--count", "-n", min=0, help="How many snapshots.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same lines.")] = 0,
    corrupt_rate: Annotated[
        float, typer.Option("--corrupt-rate", min=0.0, max=1.0, help="Share of lines broken on purpose (bad JSON, contract errors).")
    ] = 0.0,
    healthy_share: Annotated[float, typer.Option("--healthy-share", min=0.0, max=1.0, help="Share of healthy accounts.")] = 0.3,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of standard output (gzip when the name ends in .gz).", show_default=False),
    ] = None,
    examples: Annotated[
        Path | None,
        typer.Option("--examples", help="Folder of example snapshots to vary (default: the repository's examples/).", show_default=False),
    ] = None,
    rules: RulesOpt = None,
    labelled: Annotated[
        bool, typer.Option("--labelled", help="Labelled cases for `diagnose eval`: each snapshot with the causes of its example.")
    ] = False,
    label_rules: Annotated[
        Path | None,
        typer.Option(
            "--label-rules",
            help="With --labelled: label each case with what this pack finds, its first cause as the main one (a pack of known weights).",
            show_default=False,
        ),
    ] = None,
    label_noise: Annotated[
        float,
        typer.Option(
            "--label-noise", min=0.0, max=1.0, help="With --labelled: share of tickets that confirm another cause, as real tickets do."
        ),
    ] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No note on standard error.")] = False,
) -> None:
    """Synthetic snapshots as JSON Lines for tests and benchmarks: healthy accounts and every cause, seeded."""
    import gzip

    from diagnose import load_pack
    from diagnose.outputs import atomic, check_targets, writing
    from diagnose.portfolio.generate import Generator, load_templates

    if labelled and corrupt_rate:
        raise UsageError("--labelled makes cases to measure a pack with: no --corrupt-rate", hint="docs/evaluate.md")
    pack = load_pack(rules)
    templates = load_templates(pack, examples)
    if examples is not None and examples.is_dir():
        check_targets([str(p) for p in examples.iterdir()], [("--output", output)])
    gen = Generator(pack, templates, seed=seed, healthy_share=healthy_share)
    if (label_rules is not None or label_noise) and not labelled:
        raise UsageError("--label-rules and --label-noise label cases: add --labelled")
    encode = _labeller(pack, templates, label_rules, seed, label_noise) if labelled else lambda line: line.text.encode()
    corrupted = 0
    with ExitStack() as stack:
        if output is None:
            sys.stdout.flush()
            out: IO[bytes] = sys.stdout.buffer
        else:
            out = stack.enter_context(atomic(output))
            if output.suffix == ".gz":
                out = cast("IO[bytes]", stack.enter_context(gzip.GzipFile(fileobj=out, mode="wb", mtime=0)))
        stack.enter_context(writing(str(output) if output is not None else "<stdout>"))
        buf: list[bytes] = []
        for line in gen.lines(count, corrupt_rate=corrupt_rate):
            corrupted += line.corrupt is not None
            buf.append(encode(line))
            if len(buf) >= 1024:
                out.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            out.write(b"\n".join(buf) + b"\n")
        out.flush()
    if not quiet:
        what = "labelled cases" if labelled else "snapshots"
        err(f"generated {count:,} {what} ({corrupted:,} corrupted, seed {seed})" + (f" in {output}" if output else ""))


def _labeller(pack: CompiledPack, templates: list[Template], label_rules: Path | None, seed: int, noise: float) -> Callable[[Line], bytes]:
    """A generated line as a labelled case: its example's causes, the one its file is named after as the main one;
    or, with ``label_rules``, what that pack finds on the snapshot itself; a share ``noise`` of them relabelled."""
    from diagnose import load_pack
    from diagnose.evaluate.labels import Relabel, label_by, labelled_line, template_label
    from diagnose.evaluate.run import known_causes

    known = known_causes(pack)
    relabel = Relabel(known, seed, noise)
    if label_rules is not None:
        truth = load_pack(label_rules)
        return lambda line: labelled_line(line.text, relabel(label_by(truth, line.text)))
    labels = {t.name: template_label(t.name, t.causes, known) for t in templates}
    return lambda line: labelled_line(line.text, relabel(labels[line.template]))
