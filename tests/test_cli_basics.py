"""What every CLI of its kind has: --version, shell completion for bash, zsh and fish, and --color with NO_COLOR/FORCE_COLOR."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import diagnose
from tests.conftest import EXAMPLES, ROOT, cli


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "--version") == (0, f"diagnose {diagnose.__version__}\n", "")


def _complete(env: dict[str, str], *args: str) -> str:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("_DIAGNOSE", "_TYPER", "COMP_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "diagnose", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**clean_env, **env},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "completion", shell)
    assert code == 0 and "_DIAGNOSE_COMPLETE" in out and f"complete_{shell}" in out


def test_completion_completes_commands_and_option_values() -> None:
    assert {"run", "rules"} <= set(
        _complete({"_DIAGNOSE_COMPLETE": "complete_bash", "COMP_WORDS": "diagnose ru", "COMP_CWORD": "1"}).split()
    )
    zsh = _complete({"_DIAGNOSE_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "diagnose run --for"})
    assert '"--format"' in zsh
    fish = _complete(
        {"_DIAGNOSE_COMPLETE": "complete_fish", "_TYPER_COMPLETE_ARGS": "diagnose run --format ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    )
    assert fish.split() == ["rich", "json", "markdown", "message"]


def _escapes(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> bool:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, _ = cli(capsys, "run", EXAMPLES / "liq-funder-quota.json", *args)
    assert code == 0
    return "\x1b[" in out


def test_color_choice_and_the_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _escapes(capsys, monkeypatch)  # not a terminal: plain
    assert _escapes(capsys, monkeypatch, "--color", "always")  # e.g. for `| less -R`
    assert _escapes(capsys, monkeypatch, FORCE_COLOR="1")
    assert not _escapes(capsys, monkeypatch, FORCE_COLOR="1", NO_COLOR="1")
    assert not _escapes(capsys, monkeypatch, "--color", "never", FORCE_COLOR="1")
    assert _escapes(capsys, monkeypatch, "--color", "always", NO_COLOR="1")  # the flag is the user's latest word
    assert not _escapes(capsys, monkeypatch)  # one run's choice does not leak into the next


def test_summary_honours_color(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    reports = tmp_path / "r.jsonl"
    code, _, _ = cli(capsys, "batch", EXAMPLES / "liq-funder-quota.json", "-o", reports, "-q")
    assert code == 0
    code, out, _ = cli(capsys, "summarize", reports, "--color", "always", "--lang", "zh")
    assert code == 0 and "\x1b[" in out and "资金流动性" in out
