"""The user documentation lives in the project and ships with the tool; every document the tool names exists."""

from __future__ import annotations

import re

import pytest

from diagnose.userdocs import PAGES, folder, see
from tests.conftest import ROOT, cli

_NAMED = re.compile(r"\b(?:docs/)?([A-Za-z][\w-]*\.md)\b")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_docs_prints_each_page(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "docs", name)
    assert code == 0 and out == (ROOT / "docs" / PAGES[name]).read_text(encoding="utf-8")
    assert out.startswith("# ")


def test_the_docs_ship_inside_the_wheel() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    wheel = pyproject.split("[tool.hatch.build.targets.wheel.force-include]", 1)[1].split("\n[", 1)[0]
    assert '"docs" = "diagnose/_docs"' in wheel
    assert folder() == ROOT / "docs"  # a checkout reads docs/; an installed tool reads diagnose/_docs


def test_every_document_the_code_names_exists_in_the_project() -> None:
    """Hints, help texts and docstrings name docs/*.md (or README.md): never a file users do not have."""
    have = {p.name for p in (ROOT / "docs").glob("*.md")} | {"README.md"}
    missing = []
    for path in sorted((ROOT / "diagnose").rglob("*.py")):
        for name in _NAMED.findall(path.read_text(encoding="utf-8")):
            if name not in have:
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert not missing, missing


def test_a_hint_names_a_page_and_its_command(capsys: pytest.CaptureFixture[str], tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    empty = tmp_path / "empty.json"
    empty.write_text("", encoding="utf-8")
    code, _, err = cli(capsys, "run", empty)
    assert code == 4 and see("snapshot") in err and "`diagnose docs snapshot`" in err
