"""The pack cache trusts content, not file times, and no entry it did not write; pack files are read only from inside the pack."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import orjson
import pytest

import diagnose
from diagnose.pack import cache as packcache
from tests.conftest import EXAMPLES, ROOT, cli

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
    first = diagnose.load_pack(root)
    assert diagnose.load_pack(root).ruleset.digest == first.ruleset.digest  # from the cache
    rules = root / "rules.yaml"
    st = rules.stat()
    text = rules.read_text(encoding="utf-8")
    edited = text.replace("T-QUOTA", "T-QUOTB", 1)
    assert len(edited) == len(text) and edited != text
    rules.write_text(edited, encoding="utf-8")
    os.utime(rules, ns=(st.st_atime_ns, st.st_mtime_ns))  # size and time as before
    second = diagnose.load_pack(root)
    assert second.ruleset.digest != first.ruleset.digest
    assert [r.rule.id for r in second.rules] != [r.rule.id for r in first.rules]


def test_a_planted_entry_with_an_empty_listing_is_ignored(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    real = diagnose.load_pack(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry = orjson.loads(entry_path.read_bytes())
    entry["listing"], entry["files"] = {}, []
    entry["data"]["rules"] = []  # a pack that finds nothing, under the real pack's name
    entry_path.write_bytes(orjson.dumps(entry))
    with pytest.warns(packcache.PackCacheWarning, match="does not list the pack's own files"):
        again = diagnose.load_pack(root)
    assert [r.rule.id for r in again.rules] == [r.rule.id for r in real.rules]


@pytest.mark.parametrize("damage", [b"{", b"[]", b'{"version": 1}', b"\x00" * 10])
def test_a_corrupt_entry_is_ignored_with_a_warning(tmp_path: Path, cache: Path, damage: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    root = _pack(tmp_path)
    real = diagnose.load_pack(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry_path.write_bytes(damage)
    with pytest.warns(packcache.PackCacheWarning, match="corrupt"):
        again = diagnose.load_pack(root)
    assert again.ruleset.digest == real.ruleset.digest
    entry_path.write_bytes(damage)
    code, _, err = cli(capsys, "run", EXAMPLES / "healthy.json", "--rules", root, "--format", "json")
    assert code == 0 and "warning: ignored a corrupt pack cache entry" in err


def test_an_entry_whose_rules_do_not_compile_is_ignored(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    diagnose.load_pack(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry = orjson.loads(entry_path.read_bytes())
    entry["data"]["rules"][0]["when"] = {"bogus": 1}
    entry_path.write_bytes(orjson.dumps(entry))
    with pytest.warns(packcache.PackCacheWarning, match="corrupt"):
        diagnose.load_pack(root)


def test_an_entry_others_could_write_is_not_trusted(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    diagnose.load_pack(root)
    entry_path = next(cache.glob("pack-*.json"))
    entry_path.chmod(0o666)
    with pytest.warns(packcache.PackCacheWarning, match="another user"):
        diagnose.load_pack(root)


def test_an_unchanged_pack_comes_from_the_cache_without_a_warning(tmp_path: Path, cache: Path) -> None:
    root = _pack(tmp_path)
    diagnose.load_pack(root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert packcache._cached(root.resolve()) is not None


# --- 6. a pack reads only its own files -----------------------------------------------------


def _pack_with_example(tmp_path: Path, file: str) -> Path:
    """The minimal pack, copied, with one more firing example that names ``file``."""
    root = _pack(tmp_path)
    rules = root / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    marker = "      quiet:\n"
    rules.write_text(text.replace(marker, f"        - name: named file\n          file: {file}\n" + marker, 1), encoding="utf-8")
    return root


def _rules_test(root: Path, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "diagnose", "rules", "test", str(root)], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd", "../outside.json"])
def test_an_example_outside_the_pack_is_not_read(tmp_path: Path, target: str) -> None:
    (tmp_path / "outside.json").write_text('{"secret": "TOPSECRET-outside"}', encoding="utf-8")
    root = _pack_with_example(tmp_path, target)
    proc = _rules_test(root)
    assert proc.returncode == 1, proc.stderr
    assert "is outside the pack" in proc.stdout
    assert "TOPSECRET" not in proc.stdout + proc.stderr and "root:" not in proc.stdout


def test_a_symlink_out_of_the_pack_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"secret": "TOPSECRET-link"}', encoding="utf-8")
    root = _pack_with_example(tmp_path, "fixtures/link.json")
    (root / "fixtures").mkdir()
    os.symlink(secret, root / "fixtures" / "link.json")
    proc = _rules_test(root)
    assert proc.returncode == 1 and "is outside the pack" in proc.stdout
    assert "TOPSECRET" not in proc.stdout + proc.stderr
    os.symlink(secret, root / "more.yaml")  # a rule file that is a link out of the pack
    code = _run_json(root)
    assert code.returncode == 3 and "is outside the pack" in code.stderr, code.stderr


def _run_json(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DIAGNOSE_NO_CACHE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "diagnose", "run", str(EXAMPLES / "healthy.json"), "--rules", str(root), "--format", "json"],
        capture_output=True, text=True, env=env, timeout=20,
    )  # fmt: skip


def test_a_fifo_in_the_pack_is_refused_not_waited_on(tmp_path: Path) -> None:
    root = _pack_with_example(tmp_path, "fifo.json")
    os.mkfifo(root / "fifo.json")
    proc = _rules_test(root, timeout=20)
    assert proc.returncode == 1 and "fifo.json is not a regular file" in proc.stdout


def test_a_deeply_nested_example_is_an_invalid_snapshot_not_a_crash(tmp_path: Path) -> None:
    root = _pack_with_example(tmp_path, "deep.json")
    (root / "deep.json").write_text('{"a":' * 100_000 + "1" + "}" * 100_000, encoding="utf-8")
    proc = _rules_test(root)
    assert proc.returncode == 1, proc.stderr
    assert "nesting deeper than 64 levels" in proc.stdout
    assert "internal error" not in proc.stderr


def test_an_example_base_outside_the_pack_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "outside.json").write_text("{}", encoding="utf-8")
    root = _pack(tmp_path)
    manifest = root / "pack.yaml"
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace("../../../rules/fixtures/base.json", "../outside.json"), encoding="utf-8"
    )
    proc = _rules_test(root)
    assert proc.returncode == 1 and "is outside the pack" in proc.stdout
    code, out, _ = cli(capsys, "rules", "lint", root)
    assert code == 1 and "example_base ../outside.json is outside the pack" in out


def test_a_case_file_of_the_pack_reads_only_inside_the_pack(tmp_path: Path) -> None:
    (tmp_path / "outside.json").write_text('{"secret": "TOPSECRET-case"}', encoding="utf-8")
    root = _pack(tmp_path)
    (root / "cases").mkdir()
    (root / "cases" / "c.yaml").write_text("cases:\n  - snapshot: ../../outside.json\n    expect: {no_findings: true}\n", encoding="utf-8")
    proc = _rules_test(root)
    assert proc.returncode == 1 and "is outside the pack" in proc.stdout
    assert "TOPSECRET" not in proc.stdout + proc.stderr
