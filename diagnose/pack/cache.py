"""A cache of validated rule packs as plain JSON, so a cold run compiles the pack without YAML or pydantic.

An entry is keyed by the pack folder and the tool version, and holds the size and modification
time of every file the pack was built from and the listing of their folders; any change to them
rebuilds the entry. Set
DIAGNOSE_CACHE_DIR to move the cache, DIAGNOSE_NO_CACHE=1 to bypass it. A cache that cannot be read
or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from diagnose._version import __version__
from diagnose.pack.files import MANIFEST, fingerprint, resolve, rule_files

if TYPE_CHECKING:
    from diagnose.pack.loader import Pack


def cache_dir() -> Path:
    explicit = os.environ.get("DIAGNOSE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "diagnose"


def _listing(dirs: list[str]) -> dict[str, list[str]]:
    return {d: [p.name for p in [Path(d) / MANIFEST, *rule_files(Path(d))] if p.is_file()] for d in dirs}


def _entry_path(root: Path) -> Path:
    key = zlib.crc32(str(root.resolve()).encode())
    return cache_dir() / f"pack-{key:08x}-{__version__}.json"


def _cached(root: Path) -> dict[str, Any] | None:
    try:
        entry: dict[str, Any] = orjson.loads(_entry_path(root).read_bytes())
        if entry.get("version") != __version__:
            return None
        if _listing(list(entry["listing"])) != entry["listing"]:
            return None
        if fingerprint([Path(p) for p in entry["files"]]) != entry["files"]:
            return None
        data: dict[str, Any] = entry["data"]
        return data
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(root: Path, files: list[Path], data: dict[str, Any]) -> None:
    dirs = sorted({str(f.resolve().parent) for f in files})
    entry = {"version": __version__, "listing": _listing(dirs), "files": fingerprint(files), "data": data}
    import tempfile

    target = _entry_path(root)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".pack-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(entry))
        os.replace(tmp, target)
    except OSError:
        pass


def load_data(path: str | Path | None = None) -> tuple[dict[str, Any], Pack | None]:
    """A pack's plain data (`Pack.to_data()`), from the cache when its files are unchanged, else loaded,
    validated and cached; with the full Pack when it was loaded rather than read from the cache."""
    root = resolve(path)
    use_cache = os.environ.get("DIAGNOSE_NO_CACHE") != "1" and (root / MANIFEST).is_file()
    if use_cache:
        hit = _cached(root)
        if hit is not None:
            return hit, None
    from diagnose.pack.loader import load

    pack = load(root)
    data = pack.to_data()
    if use_cache:
        _store(root, pack.files, data)
    return data, pack
