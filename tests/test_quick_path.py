"""The quick path of `diagnose run` reads a command line exactly as typer does, or leaves it to typer."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from diagnose.cli import full_app, quick
from diagnose.cli.plain import Lang
from diagnose.cli.quick import ENVIRONMENT, FLAGS, VALUES, quick_args
from diagnose.cli.runner import RunArgs
from tests.conftest import EXAMPLES, cli, examples

_GROUP = typer.main.get_command(full_app())
_RUN = _GROUP.commands["run"]  # type: ignore[attr-defined]
_OPTIONS = [p for p in _RUN.params if p.param_type_name == "option" and p.name != "help"]


def test_the_table_names_every_option_of_the_command_as_typer_declares_it() -> None:
    declared = {opt: p.name for p in _OPTIONS for opt in p.opts}
    assert {opt: field for opt, (field, _) in VALUES.items()} | FLAGS == declared
    assert {p.name for p in _OPTIONS if p.is_flag} == set(FLAGS.values())
    assert all(not p.secondary_opts for p in _OPTIONS), "a --no-X form would need the table too"
    assert {p.name: p.envvar for p in _OPTIONS if p.envvar} == {field: name for field, (name, _) in ENVIRONMENT.items()}
    assert [p.name for p in _RUN.params if p.param_type_name == "argument"] == ["snapshot"]
    fields = {name: RunArgs._field_defaults.get(name) for name in RunArgs._fields}
    assert set(fields) == {p.name for p in _RUN.params if p.name != "help"}
    for p in _OPTIONS:
        assert fields[p.name] == p.default, p.name
        choices = getattr(p.type, "choices", None)
        if choices is not None:  # the same choices, each read by the table's conversion
            convert = VALUES[p.opts[0]][1]
            assert [convert(str(c)).value for c in choices] == [str(c) for c in choices]


def _typer_reads(argv: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> RunArgs:
    """The arguments typer's command hands on for ``argv`` (a ClickException when it rejects it), the colour it set kept."""
    from diagnose.cli import run as command
    from diagnose.cli.plain import COLOR, ColorChoice

    seen: list[RunArgs] = []
    with monkeypatch.context() as m:
        for name in ("DIAGNOSE_LANG", "DIAGNOSE_REDACT_KEY"):
            m.delenv(name, raising=False)
        for name, value in env.items():
            m.setenv(name, value)
        m.setattr(command, "run_one", seen.append)
        m.setattr(COLOR, "choice", ColorChoice.auto)
        full_app()(args=list(argv), prog_name="diagnose", standalone_mode=False)
        color = COLOR.choice
    (args,) = seen
    return args._replace(color_choice=None if color is ColorChoice.auto else color)


def _effective(args: RunArgs) -> RunArgs:
    """``args`` with --color as the run sees it: auto when not given."""
    from diagnose.cli.plain import ColorChoice

    return args if args.color_choice is not ColorChoice.auto else args._replace(color_choice=None)


_VALUES_OF = {
    "--format": ["json", "rich", "markdown", "message", "JSON", ""],
    "--lang": ["zh", "en", "fr"],
    "--rules": ["/tmp/pack", "pack dir", ""],
    "--top": ["2", "0", "007", "-1", "+3", " 4", "99999999999999999999"],
    "--fail-on": ["high", "info", "HIGH"],
    "--max-bytes": ["1000", "1", "0"],
    "--audience": ["customer", "all", "nobody"],
    "--redact-key": ["s3cret", "-k", ""],
    "--verify": ["report.json", "-"],
    "--color": ["never", "always", "auto", "sometimes"],
}
_OPTION = st.sampled_from(sorted(_VALUES_OF)).flatmap(
    lambda name: st.sampled_from(_VALUES_OF[name]).flatmap(
        lambda value: st.sampled_from(
            [[name, value], [f"{name}={value}"], *([["-f", value], [f"-f{value}"], [f"-f={value}"]] if name == "--format" else [])]
        )
    )
)
_FLAG = st.sampled_from([["--explain"], ["--redact"], ["--debug"]])
_NOISE = st.sampled_from(
    [[""], ["--"], ["-h"], ["--help"], ["--version"], ["--no-explain"], ["-x"], ["--formats"], ["--top"], ["run"], ["b.json"]]
)


def _line(options: list[list[str]], snapshot: str, at: int, noise: list[str] | None, noise_at: int) -> list[str]:
    units = list(options)
    units.insert(min(at, len(units)), [snapshot])
    if noise is not None:
        units.insert(min(noise_at, len(units)), noise)
    return [token for unit in units for token in unit]


_TOKENS = st.builds(
    _line,
    st.lists(st.one_of(_OPTION, _FLAG), max_size=4),
    st.sampled_from([str(EXAMPLES / "healthy.json"), "-", "other.json"]),
    st.integers(0, 4),
    st.one_of(st.none(), _NOISE),
    st.integers(0, 5),
)
_ENV = st.fixed_dictionaries(
    {}, optional={"DIAGNOSE_LANG": st.sampled_from(["zh", "en", "", "fr"]), "DIAGNOSE_REDACT_KEY": st.sampled_from(["k", ""])}
)


@examples(3000)
@given(
    before=st.lists(st.sampled_from(["--color", "never", "--color=always", "--version"]), max_size=2),
    after=_TOKENS,
    env=_ENV,
)
def test_what_the_quick_path_accepts_typer_reads_the_same_way(
    before: list[str], after: list[str], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = [*before, "run", *after]
    got = quick_args(argv, env)
    if got is None:
        return  # typer parses it, messages and all
    assert _typer_reads(argv, env, monkeypatch) == _effective(got)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "s.json"],
        ["run", "s.json", "--format", "json"],
        ["run", "-", "-f", "json", "--lang", "zh"],
        ["--color", "never", "run", "s.json", "--explain", "--top", "3"],
        ["run", "s.json", "--format=markdown", "--audience=customer", "--fail-on", "high", "--color", "always"],
        ["run", "s.json", "--redact", "--redact-key", "k", "--rules", "pack", "--max-bytes", "5000", "--debug"],
        ["run", "--verify", "r.json", "s.json"],
    ],
)
def test_the_usual_command_lines_take_the_quick_path(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    got = quick_args(argv, {})
    assert got is not None
    assert _typer_reads(argv, {}, monkeypatch) == _effective(got)


@pytest.mark.parametrize(
    "argv",
    [
        ["run"],
        ["run", "--help"],
        ["run", "a.json", "b.json"],
        ["run", "a.json", "--top", "2", "--top", "3"],
        ["run", "a.json", "--top", "0"],
        ["run", "a.json", "--format", "html"],
        ["run", "a.json", "--rules", "--explain"],
        ["run", "a.json", "--"],
        ["--version", "run", "a.json"],
        ["batch", "run", "a.json"],
        ["why", "RULE", "run"],
    ],
)
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert quick_args(argv, {}) is None


def test_completion_and_an_unreadable_environment_are_left_to_typer() -> None:
    assert quick_args(["run", "a.json"], {"_DIAGNOSE_COMPLETE": "bash_complete"}) is None
    assert quick_args(["run", "a.json"], {"DIAGNOSE_LANG": "fr"}) is None
    assert quick_args(["run", "a.json"], {"DIAGNOSE_LANG": ""}) is None
    assert quick_args(["run", "a.json"], {"DIAGNOSE_LANG": "zh"}) == RunArgs("a.json", lang=Lang.zh)


def _both(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[tuple[int, str, str], ...]:
    """The run through the quick path, then the same line through typer."""
    assert quick_args(list(argv)) is not None, "the line takes the quick path"
    fast = cli(capsys, *argv)
    with monkeypatch.context() as m:
        m.setattr(quick, "quick_args", lambda *a, **k: None)
        slow = cli(capsys, *argv)
    return fast, slow


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json"],
        ["--lang", "zh", "--color", "never"],
        ["--format", "markdown", "--explain", "--top", "2"],
        ["--format", "message", "--lang", "zh"],
        ["--format", "json", "--fail-on", "medium"],
        ["--format", "json", "--redact", "--redact-key", "k"],
        ["--format", "json", "--max-bytes", "100"],
    ],
)
def test_both_paths_give_the_same_output_and_exit_code(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both(capsys, monkeypatch, "run", str(EXAMPLES / "contract-example.json"), *args)
    assert fast == slow
    assert fast[1], "the run wrote something"


def test_both_paths_fail_alike_on_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1", "account": ', encoding="utf-8")
    for argv in (
        ["run", str(bad), "--format", "json"],
        ["run", str(tmp_path / "missing.json")],
        ["run", str(bad), "--rules", str(tmp_path)],
    ):
        fast, slow = _both(capsys, monkeypatch, *argv)
        assert fast == slow and fast[0] in (2, 3, 4), fast


def test_a_verified_report_checks_the_same_on_both_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = str(EXAMPLES / "healthy.json")
    code, report, _ = cli(capsys, "run", snapshot, "--format", "json")
    assert code == 0
    path = tmp_path / "report.json"
    path.write_text(report, encoding="utf-8")
    fast, slow = _both(capsys, monkeypatch, "run", snapshot, "--verify", str(path))
    assert fast == slow and fast[0] == 0 and "verified" in fast[1]
