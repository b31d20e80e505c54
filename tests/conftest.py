"""Shared fixtures: the repository's paths, the default pack loaded once, a private pack cache."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED = Path(os.environ.get("DIAGNOSE_SHARED") or ROOT.parent / "shared")
"""The product contract and the SARIF schema: beside the repository, or where DIAGNOSE_SHARED points."""

# Tests never touch the user's pack cache; set before the package reads it.
os.environ.setdefault("DIAGNOSE_CACHE_DIR", tempfile.mkdtemp(prefix="diagnose-test-cache-"))
os.environ.pop("DIAGNOSE_LANG", None)


# Hypothesis profiles. `quick` is the default, so the README's `pytest` stays fast; `.ci/run`
# runs the same command with DIAGNOSE_HYPOTHESIS_PROFILE=ci (the full example counts each test
# names), and a nightly job may set `nightly` (ten times as many, random). Every property states
# its CI count through `examples(n)`, so the counts of one profile follow from the other.
PROFILE = os.environ.get("DIAGNOSE_HYPOTHESIS_PROFILE", "quick")
_SCALE = {"quick": 0.05, "ci": 1.0, "nightly": 10.0}
if PROFILE not in _SCALE:
    raise pytest.UsageError(f"DIAGNOSE_HYPOTHESIS_PROFILE={PROFILE}: use one of {', '.join(_SCALE)}")
_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture]
for _name, _scale in _SCALE.items():
    settings.register_profile(
        _name, max_examples=max(10, round(100 * _scale)), deadline=None, derandomize=_name != "nightly", suppress_health_check=_HEALTH
    )
settings.load_profile(PROFILE)


def examples(ci_count: int) -> settings:
    """Settings for a property that runs ``ci_count`` examples in CI: a twentieth locally (at least ten), ten times nightly."""
    return settings(max_examples=max(10, round(ci_count * _SCALE[PROFILE])))


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the command line in-process: exit code, standard output and standard error together."""
    from diagnose.cli import main

    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sensitive_pack(root: Path, paths: list[str]) -> Path:
    """A pack that extends the default one and marks ``paths`` sensitive (for --redact)."""
    root.mkdir()
    (root / "pack.yaml").write_text(
        "name: private\nversion: '1'\nextends: default\nsensitive:\n" + "".join(f"  - {p}\n" for p in paths), encoding="utf-8"
    )
    return root


@pytest.fixture(scope="session")
def pack():  # type: ignore[no-untyped-def]
    import diagnose

    return diagnose.load_pack()


@pytest.fixture
def base() -> dict[str, Any]:
    """A full, healthy snapshot to change one thing in."""
    return load_json(EXAMPLES / "healthy.json")  # type: ignore[no-any-return]


@pytest.fixture
def contract_example() -> dict[str, Any]:
    return load_json(EXAMPLES / "contract-example.json")  # type: ignore[no-any-return]
