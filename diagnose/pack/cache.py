"""A cache of validated rule packs as plain JSON, so a cold run compiles the pack without YAML or pydantic.

An entry is named by the pack folder, a digest of the content of the pack's own files (pack.yaml
and the rule files beside it) and the tool version; it records every file the pack was built from
(a base pack's too) with a digest of all their content, and is used only when that digest and the
listing of the pack's folders still hold: an edit that keeps a file's size and modification time
is seen (hashing a pack of a few hundred KB costs well under a millisecond). An entry is checked
as strictly as a pack before it is used (its shape, that it names the pack's own files; that it
compiles, by `diagnose.load_pack`); one that fails, or that another user could have written, is ignored with a warning
(`PackCacheWarning`) and rebuilt. Set DIAGNOSE_CACHE_DIR to move the cache, DIAGNOSE_NO_CACHE=1 to
bypass it. A cache that cannot be read or written is ignored: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import warnings
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from diagnose._version import __version__
from diagnose.pack.files import MANIFEST, MAX_PACK_FILES, resolve, rule_files

if TYPE_CHECKING:
    from diagnose.pack.loader import Pack

_ENTRY_KEYS = {"version", "root", "listing", "files", "content", "data"}
_DATA_KEYS = {
    "name": str,
    "version": str,
    "digest": str,
    "parameters": dict,
    "families": dict,
    "sensitive": list,
    "disabled": dict,
    "rules": list,
}


class PackCacheWarning(UserWarning):
    """A cache entry was ignored (corrupt, or not safe to trust) and the pack was loaded from its files."""


def cache_dir() -> Path:
    explicit = os.environ.get("DIAGNOSE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "diagnose"


def _own_files(root: Path) -> list[Path]:
    return [p for p in [root / MANIFEST, *rule_files(root)[:MAX_PACK_FILES]] if p.is_file()]


def _listing(dirs: list[str]) -> dict[str, list[str]]:
    return {d: [p.name for p in _own_files(Path(d))] for d in dirs}


def _content(files: list[Path]) -> str:
    """One digest of the names and bytes of ``files``, in order."""
    hasher = hashlib.sha256()
    for f in files:
        hasher.update(str(f).encode("utf-8", "surrogateescape") + b"\0" + f.read_bytes() + b"\0")
    return hasher.hexdigest()


def _prefix(root: Path) -> str:
    return f"pack-{zlib.crc32(str(root).encode('utf-8', 'surrogateescape')):08x}-"


def _entry_path(root: Path) -> Path:
    """The entry of this pack folder with its own files as they are now."""
    own = [f.resolve() for f in _own_files(root)]
    return cache_dir() / f"{_prefix(root)}{_content(own)[:24]}-{__version__}.json"


def trusted(path: Path) -> bool:
    """An entry only this user could have written: owned by them, not writable by others."""
    if not hasattr(os, "getuid"):
        return True
    st = path.stat()
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _check(entry: Any, root: Path) -> str | None:
    """Why an entry cannot stand for the pack at ``root`` now, or None when it can."""
    if not isinstance(entry, dict) or set(entry) != _ENTRY_KEYS:
        return "not an entry of this version"
    if entry["version"] != __version__ or entry["root"] != str(root):
        return "made for another pack or version"
    data, listing, files = entry["data"], entry["listing"], entry["files"]
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in _DATA_KEYS.items()):
        return "the compiled pack is malformed"
    if not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in data["rules"]):
        return "a compiled rule is malformed"
    if not isinstance(listing, dict) or not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return "the file listing is malformed"
    own = [str(f.resolve()) for f in _own_files(root)]
    if str(root) not in listing or not own or not set(own) <= set(files):
        return "it does not list the pack's own files"
    if _listing(list(listing)) != listing:
        return "stale"
    if _content([Path(f) for f in files]) != entry["content"]:
        return "stale"
    return None


def _cached(root: Path) -> dict[str, Any] | None:
    path = _entry_path(root)
    try:
        if not path.is_file():
            return None
        if not trusted(path):
            warnings.warn(f"ignored the pack cache entry {path}: another user could have written it", PackCacheWarning, stacklevel=3)
            return None
        raw = path.read_bytes()
    except OSError:
        return None
    try:
        entry = orjson.loads(raw)
        why = _check(entry, root)
        if why is None:
            data: dict[str, Any] = entry["data"]
            return data
    except OSError:
        return None
    except Exception as exc:  # an entry that cannot even be read as one is corrupt, whatever it broke in
        why = f"{type(exc).__name__}: {str(exc)[:100]}"
    if why != "stale":
        corrupt(path, why)
    return None


def corrupt(path: Path, why: str) -> None:
    """Warn that a cache entry is ignored, and remove it (it is rebuilt from the pack's files)."""
    warnings.warn(f"ignored a corrupt pack cache entry ({why}): {path}", PackCacheWarning, stacklevel=4)
    with contextlib.suppress(OSError):
        path.unlink()


def _store(root: Path, files: list[Path], data: dict[str, Any]) -> None:
    resolved = [f.resolve() for f in files]
    dirs = sorted({str(f.parent) for f in resolved} | {str(root)})
    import tempfile

    try:
        entry = {
            "version": __version__,
            "root": str(root),
            "listing": _listing(dirs),
            "files": [str(f) for f in resolved],
            "content": _content(resolved),
            "data": data,
        }
        target = _entry_path(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob(_prefix(root) + "*.json"):  # the entries of earlier contents of this folder
            if old != target:
                with contextlib.suppress(OSError):
                    old.unlink()
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".pack-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(orjson.dumps(entry))
        os.replace(tmp, target)
    except OSError:
        pass


def load_data(path: str | Path | None = None, *, fresh: bool = False) -> tuple[dict[str, Any], Pack | None]:
    """A pack's plain data (`Pack.to_data()`), from the cache when its files' content is unchanged, else loaded,
    validated and cached; with the full Pack when it was loaded rather than read from the cache.
    ``fresh`` loads from the files whatever the cache holds (after an entry failed to compile)."""
    root = resolve(path).resolve()
    use_cache = os.environ.get("DIAGNOSE_NO_CACHE") != "1" and (root / MANIFEST).is_file()
    if use_cache and not fresh:
        hit = _cached(root)
        if hit is not None:
            return hit, None
    from diagnose.pack.loader import load

    pack = load(resolve(path))
    data = pack.to_data()
    if use_cache:
        _store(root, pack.files, data)
    return data, pack


def entry_of(path: str | Path | None) -> Path:
    """The cache entry a pack folder's data would come from (for the warning when it does not compile)."""
    return _entry_path(resolve(path).resolve())
