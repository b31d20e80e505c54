"""Where rule packs live and which files make one up: shared by the full loader and the fast cached path."""

from __future__ import annotations

from collections.abc import Iterable
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
    """The rule files of a pack, in the order they are read: *.yaml then *.yml beside pack.yaml.

    Hidden files are not rule files: a pack at the top of its repository keeps tools' settings
    there (.pre-commit-config.yaml, .gitlab-ci.yml).
    """
    return _visible(p for p in root.glob("*.yaml") if p.name != MANIFEST) + _visible(root.glob("*.yml"))


def _visible(paths: Iterable[Path]) -> list[Path]:
    return sorted(p for p in paths if not p.name.startswith("."))


MAX_DATA_BYTES = 10 * 1024 * 1024
"""The largest example or example_base a pack may name: the size bound of snapshots (inputs.MAX_BYTES)."""


class OutsidePack(ValueError):
    """A file a pack names that may not be read: outside the pack, not a regular file, or too large."""


def roots(folder: Path) -> tuple[Path, ...]:
    """Where the files a pack folder names may lie: the folder itself, and the tool's own files that
    ship with it (the built-in pack and the example snapshots beside it, which are public), so that
    a pack may build on the built-in example base."""
    builtin = default_pack_path().resolve()
    return tuple(dict.fromkeys((folder.resolve(), builtin, builtin.parent / "examples")))


def locate(folder: Path, name: str, allowed: tuple[Path, ...] | None = None) -> Path:
    """The file ``name`` names, relative to ``folder``, resolved (symlinks followed) and inside the pack.

    Raises OutsidePack for a path that leaves ``allowed`` (default: `roots(folder)`), by `..`, an
    absolute path or a symlink, and FileNotFoundError when there is no such file.
    """
    path = (folder / name).resolve()
    within = allowed if allowed is not None else roots(folder)
    if not any(path == r or r in path.parents for r in within):
        raise OutsidePack(f"{name} is outside the pack: a pack reads only its own files")
    if not path.exists():
        import errno

        raise FileNotFoundError(errno.ENOENT, "No such file or directory", name)
    return path


def read_inside(folder: Path, name: str, *, max_bytes: int = MAX_DATA_BYTES, allowed: tuple[Path, ...] | None = None) -> bytes:
    """The bytes of a file a pack names: inside the pack (`locate`), a regular file, at most ``max_bytes``.

    Opened without blocking, so a FIFO with no writer is refused rather than waited on.
    """
    import os
    import stat

    path = locate(folder, name, allowed)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OutsidePack(f"{name} is not a regular file")
        if st.st_size > max_bytes:
            raise OutsidePack(f"{name} is {st.st_size:,} bytes; at most {max_bytes:,} are read")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OutsidePack(f"{name} is larger than {max_bytes:,} bytes")
    return data
