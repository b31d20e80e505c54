"""docs/ci.md ("Rule packs in CI") says what the tools do: every format and check listed, its examples real."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from diagnose.cli import main
from diagnose.pack.loader import Manifest
from diagnose.packci.ciformats import CIFormat
from diagnose.packci.lint import CHECKS
from diagnose.packci.ruletest import CaseFile
from tests.conftest import EXAMPLES, ROOT

DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.S)


def block_starting(comment: str) -> str:
    [found] = [b for b in blocks("yaml") if b.startswith(comment)]
    return found


def test_every_format_and_check_is_documented() -> None:
    for fmt in CIFormat:
        assert f"| `{fmt.value}` |" in DOC, fmt
    documented = set(re.findall(r"^\| `([a-z-]+)` \| (?:error|warning)", DOC, re.M))
    assert documented == set(CHECKS) - {"too-large", "unreadable", "encoding", "invalid"}


def test_yaml_blocks_parse() -> None:
    for block in blocks("yaml"):
        yaml.safe_load(block)
    assert yaml.safe_load(block_starting("# .github/workflows/rules.yml"))["jobs"]["rules"]["steps"]


def test_pre_commit_hooks_named_in_the_docs_exist() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    ids = {h["id"] for h in hooks}
    assert ids == {"diagnose-rules-lint", "diagnose-rules-test"}
    config = yaml.safe_load(block_starting("# .pre-commit-config.yaml"))
    assert {h["id"] for h in config["repos"][0]["hooks"]} == ids
    assert all(h["entry"].startswith("diagnose rules ") and h["pass_filenames"] is False for h in hooks)


def test_manifest_example_is_a_valid_manifest() -> None:
    manifest = Manifest.model_validate(yaml.safe_load(block_starting("# packs/acme/pack.yaml")))
    assert manifest.extends == "default" and manifest.overrides is not None


def test_case_example_is_valid_and_its_failure_is_the_real_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = block_starting("# packs/acme/cases/funder-quota.yaml")
    CaseFile.model_validate(yaml.safe_load(text))
    folder = tmp_path / "packs" / "acme" / "cases"
    folder.mkdir(parents=True)
    (folder / "funder-quota.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shown = re.search(r"\n(    FAIL .*?)\n\n", DOC, re.S)
    assert shown is not None
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)  # the report shows paths relative to the working folder
        assert main(["rules", "test", "packs/acme/cases"]) == 1
    out = capsys.readouterr().out
    expected = [line[4:] for line in shown.group(1).splitlines()]
    assert out.splitlines()[: len(expected)] == expected
