"""`rules init`: the new pack passes lint --strict, full coverage and its own hooks; CI views of an extending pack stay in its repository."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from diagnose.pack.yamlpos import load as load_yaml
from diagnose.packci import schemas
from tests.conftest import ROOT, SHARED, cli

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def repo(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh git repository holding a pack made by `rules init`, as the working folder."""
    folder = tmp_path / "Acme Bank"
    code, out, err = cli(capsys, "rules", "init", str(folder))
    assert (code, err) == (0, "")
    assert out.startswith(f"Created the rule pack acme-bank in {folder} (9 files; it extends the default pack):\n")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    monkeypatch.chdir(folder)
    return folder


def test_init_writes_every_part_of_a_pack(repo: Path) -> None:
    files = sorted(str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts)
    assert files == [
        ".github/workflows/rules.yml",
        ".pre-commit-config.yaml",
        "README.md",
        "cases/cutoff.yaml",
        "pack.yaml",
        "rules.yaml",
        "schemas/case.schema.json",
        "schemas/pack.schema.json",
        "schemas/rules.schema.json",
    ]
    manifest = load_yaml((repo / "pack.yaml").read_text(encoding="utf-8")).data
    assert (manifest["name"], manifest["extends"], "example_base" in manifest) == ("acme-bank", "default", False)
    for name in ("pack", "rules", "case"):  # the schemas the modelines name are today's
        assert json.loads((repo / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8")) == schemas.generate(name)
    assert (repo / "rules.yaml").read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=schemas/rules.schema.json\n")


def test_init_output_passes_strict_lint_and_full_coverage(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "rules", "lint", ".", "--strict")
    assert (code, out, err) == (0, ".: no problems (40 rules in 2 files, 39 of them from the default pack)\n", "")
    code, out, err = cli(capsys, "rules", "test", ".", "--min-coverage", "100")
    assert (code, err) == (0, "")
    assert "  rules: 40 of 40 both fired and stayed quiet (100%)" in out
    assert out.endswith("0 failed (161 rule examples, 2 golden cases)\n")


def test_init_never_overwrites(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (repo / "rules.yaml").read_text(encoding="utf-8")
    code, out, err = cli(capsys, "rules", "init", str(repo))
    assert code == 2 and out == ""
    assert "already has .github/workflows/rules.yml, .pre-commit-config.yaml, README.md, cases/cutoff.yaml, pack.yaml and 4 more" in err
    assert (repo / "rules.yaml").read_text(encoding="utf-8") == before


def test_init_speaks_chinese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "rules", "init", str(tmp_path / "p"), "--lang", "zh", "--name", "acme")
    assert code == 0 and out.startswith(f"已在 {tmp_path / 'p'} 创建规则包 acme（9 个文件；继承默认规则包）：\n")


# --- the pre-commit hooks, in a fresh repository ------------------------------------------


def _diagnose_on_path(tmp: Path) -> dict[str, str]:
    """An environment whose `diagnose` is this checkout's (the hooks are `language: system`)."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "diagnose"
    wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m diagnose "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = str(ROOT)
    env["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")
    env.pop("DIAGNOSE_LANG", None)
    return env


def _pre_commit() -> str | None:
    return shutil.which("pre-commit") or shutil.which("pre-commit", path=str(Path(sys.executable).parent))


def _run_hooks(repo: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run the pack's hooks: with pre-commit when it is installed, else each hook's entry and args as pre-commit would."""
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    pre_commit = _pre_commit()
    if pre_commit is not None:
        done = subprocess.run([pre_commit, "run", "--all-files"], cwd=repo, env=env, capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr
    config = load_yaml((repo / ".pre-commit-config.yaml").read_text(encoding="utf-8")).data
    worst, text = 0, ""
    for hook in config["repos"][0]["hooks"]:
        assert hook["language"] == "system" and hook["pass_filenames"] is False
        done = subprocess.run([*shlex.split(hook["entry"]), *hook.get("args", [])], cwd=repo, env=env, capture_output=True, text=True)
        worst, text = max(worst, int(done.returncode != 0)), text + done.stdout + done.stderr
    return worst, text  # like pre-commit: 1 when any hook failed


def test_the_pre_commit_hooks_pass_and_then_block_a_bad_change(repo: Path, tmp_path: Path) -> None:
    env = _diagnose_on_path(tmp_path)
    code, text = _run_hooks(repo, env)
    assert code == 0, text
    rules = repo / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("severity: medium", "severity: urgent"), encoding="utf-8")
    code, text = _run_hooks(repo, env)
    assert code == 1, text
    assert "`severity` must be one of critical, high, medium, low or info (got `urgent`)" in text


# --- CI views of a pack that extends the default ------------------------------------------


def _extended(repo: Path) -> None:
    """The new pack with an override that an inherited rule reads, wrongly typed, and one of its own rules with no quiet example."""
    manifest = repo / "pack.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8") + 'overrides:\n  parameters:\n    funder_quota_low_pct: "two"\n', encoding="utf-8"
    )
    rules = repo / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text[: text.index("      quiet:")], encoding="utf-8")


def _absolute_paths(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [p for v in data.values() for p in _absolute_paths(v)]
    if isinstance(data, list):
        return [p for v in data for p in _absolute_paths(v)]
    if isinstance(data, str) and (
        data.startswith(("/", "file:")) or "site-packages" in data or str(ROOT) in data or ".." in data.split("/")
    ):
        return [data]
    return []


def test_lint_of_an_inherited_rule_points_at_the_override(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _extended(repo)
    code, out, _ = cli(capsys, "rules", "lint", ".")
    assert code == 1
    lines = out.splitlines()
    head, _, tail = lines[0].partition("(the default pack's liquidity.yaml:")
    assert head == "error[type-mismatch]: `funding.funder_quota_remaining_pct` is a number; 'two' is a string; in LIQ-FUNDER-QUOTA "
    assert tail.split(")", 1)[0].isdigit()  # the base pack's line, as text: its file is not the author's
    assert tail.split(")", 1)[1] == ", which reads this pack's override of funder_quota_low_pct"
    assert lines[1:6] == [
        "  --> pack.yaml:20:27  [LIQ-FUNDER-QUOTA]",
        "   |",
        '20 |     funder_quota_low_pct: "two"',
        "   |                           ^^^^^",
        "  help: compare numbers with numbers, enums with the values the contract allows",
    ]


@pytest.mark.parametrize("command", ["lint", "test"])
def test_sarif_of_an_extending_pack_is_valid_and_relative(repo: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    _extended(repo)
    if command == "test":  # a pack that loads: the override is well typed, the inherited rule's examples are skipped
        manifest = repo / "pack.yaml"
        manifest.write_text(manifest.read_text(encoding="utf-8").replace('"two"', "2"), encoding="utf-8")
    code, out, _ = cli(capsys, "rules", command, ".", "--format", "sarif")
    assert code == (1 if command == "lint" else 0)  # lint: the override's type; test: skipped examples fail nothing
    log = json.loads(out)
    assert _absolute_paths(log) == []
    [run] = log["runs"]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] for loc in r.get("locations", [])}
    assert uris <= {"pack.yaml", "rules.yaml"} and uris
    bases = {loc["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in run["results"] for loc in r.get("locations", [])}
    assert bases == {"%SRCROOT%"} and "%SRCROOT%" in run["originalUriBaseIds"]
    if not SARIF_SCHEMA.is_file():
        pytest.skip("the SARIF 2.1.0 schema is not beside the repository (set DIAGNOSE_SHARED)")
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(log))
    assert not errors, errors[0].message


@pytest.mark.parametrize("command", ["lint", "test"])
def test_github_annotations_name_only_files_of_the_repository(repo: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    _extended(repo)
    manifest = repo / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"two"', "2"), encoding="utf-8")
    code, out, _ = cli(capsys, "rules", command, ".", "--format", "github")
    assert code == 0  # a warning (no quiet example) and skipped examples
    commands = [line.split("::")[1] for line in out.splitlines() if line.startswith("::")]
    files = [part.split("=", 1)[1] for command_ in commands for part in command_.split(" ", 1)[-1].split(",") if part.startswith("file=")]
    assert files and set(files) <= {"pack.yaml", "rules.yaml"}, files
    for file in files:
        assert (repo / file).is_file()


def test_junit_of_an_extending_pack_stays_in_the_repository(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _extended(repo)
    manifest = repo / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('"two"', "2"), encoding="utf-8")
    for command in ("lint", "test"):
        code, out, _ = cli(capsys, "rules", command, ".", "--format", "junit")
        assert code == 0
        assert 'file="/' not in out and "site-packages" not in out and str(ROOT) not in out, command
