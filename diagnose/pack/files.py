"""Where rule packs live and which files make one up: shared by the full loader and the fast cached path."""

from __future__ import annotations

from pathlib import Path

MANIFEST = "pack.yaml"
MAX_PACK_FILES = 200


def default_pack_path() -> Path:
    """The default pack: shipped inside the package, or the repository's top-level rules/."""
    here = Path(__file__).resolve().parent.parent  # the package folder
    for candidate in (here / "_pack", here.parent / "rules"):
        if (candidate / MANIFEST).is_file():
            return candidate
    return here / "_pack"


def resolve(path: str | Path | None) -> Path:
    """The pack folder a user named: a folder, or its pack.yaml; None for the default pack."""
    root = Path(path) if path is not None else default_pack_path()
    if root.is_file() and root.name == MANIFEST:
        root = root.parent
    return root


def rule_files(root: Path) -> list[Path]:
    """The rule files of a pack, in the order they are read: *.yaml then *.yml beside pack.yaml."""
    return sorted(p for p in root.glob("*.yaml") if p.name != MANIFEST) + sorted(root.glob("*.yml"))


def fingerprint(files: list[Path]) -> dict[str, str]:
    """Size and modification time of each file, by absolute path: what a cached pack depends on.

    A stat is enough to notice an edit and costs no read; the pack's content digest is computed
    by the full loader when the cache is (re)built.
    """
    out: dict[str, str] = {}
    for f in files:
        st = f.stat()
        out[str(f.resolve())] = f"{st.st_size}:{st.st_mtime_ns}"
    return out
