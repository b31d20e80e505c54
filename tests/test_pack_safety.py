"""The pack cache trusts content, not file times, and no entry it did not write; pack files are read only from inside the pack."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import orjson
import pytest

from diagnose import packcache

from .conftest import EXAMPLES, ROOT, cli

MINIMAL = ROOT / "tests" / "packs" / "minimal"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(folder))
    monkeypatch.delenv("DIAGNOSE_NO_CACHE", raising=False)
    return folder


def _pack(tmp_path: Path) -> Path:
    root = tmp_path / "pack"
    shutil.copytree(MINIMAL, root)
    return root


def test_an_edit_that_keeps_size_and_modification_time_is_seen(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    first = packcache.load_compiled(root)
    assert packcache.load_compiled(root).ruleset.digest == first.ruleset.digest  # from the cache
    rules = root / "rules.yaml"
    st = rules.stat()
    text = rules.read_text(encoding="utf-8")
    edited = text.replace("T-QUOTA", "T-QUOTB", 1)
    assert len(edited) == len(text) and edited != text
    rules.write_text(edited, encoding="utf-8")
    os.utime(rules, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and time as before
    second = packcache.load_compiled(root)
    assert second.ruleset.digest != first.ruleset.digest
    assert [r.rule.id for r in second.rules] != [r.rule.id for r in first.rules]


def test_a_planted_entry_with_an_empty_listing_is_ignored(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    real = packcache.load_compiled(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry = orjson.loads(entry_path.read_bytes())
    entry["listing"], entry["files"] = {}, []
    entry["data"]["rules"] = []  # a pack that finds nothing, under the real pack's name
    entry_path.write_bytes(orjson.dumps(entry))
    with pytest.warns(packcache.PackCacheWarning, match="does not list the pack's own files"):
        again = packcache.load_compiled(root)
    assert [r.rule.id for r in again.rules] == [r.rule.id for r in real.rules]


@pytest.mark.parametrize("damage", [b"{", b"[]", b'{"version": 1}', b"\x00" * 10])
def test_a_corrupt_entry_is_ignored_with_a_warning(tmp_path: Path, cache: Path, damage: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    root = _pack(tmp_path)
    real = packcache.load_compiled(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry_path.write_bytes(damage)
    with pytest.warns(packcache.PackCacheWarning, match="corrupt"):
        again = packcache.load_compiled(root)
    assert again.ruleset.digest == real.ruleset.digest
    entry_path.write_bytes(damage)
    code, _, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--rules", root, "--format", "json")
    assert code == 0 and "warning: ignored a corrupt pack cache entry" in err


def test_an_entry_whose_rules_do_not_compile_is_ignored(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    packcache.load_compiled(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry = orjson.loads(entry_path.read_bytes())
    entry["data"]["rules"][0]["when"] = {"bogus": 1}
    entry_path.write_bytes(orjson.dumps(entry))
    with pytest.warns(packcache.PackCacheWarning, match="corrupt"):
        packcache.load_compiled(root)


def test_an_entry_others_could_write_is_not_trusted(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    packcache.load_compiled(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry_path.chmod(0o666)
    with pytest.warns(packcache.PackCacheWarning, match="another user"):
        packcache.load_compiled(root)


def test_an_unchanged_pack_comes_from_the_cache_without_a_warning(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    packcache.load_compiled(root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert packcache._cached(root.resolve()) is not None
