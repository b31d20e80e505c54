"""The user documentation shipped with the tool: docs/*.md of the repository, inside the wheel as diagnose/_docs."""

from __future__ import annotations

from pathlib import Path

PAGES = {
    "snapshot": "snapshot.md",
    "report": "report.md",
    "rules": "rule-format.md",
    "causes": "causes.md",
    "glossary": "glossary.md",
}
"""The pages `diagnose docs NAME` prints, by name; every hint the tool prints names one of them."""


def folder() -> Path:
    """diagnose/_docs in an installed tool, docs/ of the repository in a checkout (as the default pack's rules/)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_docs", here.parent / "docs"):
        if (candidate / PAGES["snapshot"]).is_file():
            return candidate
    return here / "_docs"


def page(name: str) -> str:
    """The text of one page (a name of PAGES); OSError when the installation lacks it."""
    return (folder() / PAGES[name]).read_text(encoding="utf-8")


def see(name: str, lang: str = "en") -> str:
    """How a hint names a page: the command that prints it and the file in the repository (in a Chinese text, in full-width brackets)."""
    from diagnose.vocab import bracket

    return f"`diagnose docs {name}`{bracket(f'docs/{PAGES[name]}', lang)}"
