"""A cold `diagnose run` loads only what its output needs: JSON draws nothing, a view met before breaks no line anew."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT

# Runs the command line as `python -m diagnose` does, then writes the names of the modules it loaded and how
# many times the garbage collector ran from the entry point on.
_WRAPPER = """
import gc, runpy, sys
import diagnose.cli  # what `python -m diagnose` imports before its entry point runs
collected = sum(stat["collections"] for stat in gc.get_stats())
out, sys.argv = sys.argv[1], ["diagnose", *sys.argv[2:]]
try:
    runpy.run_module("diagnose", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
with open(out, "w") as fh:
    fh.write("\\n".join(sorted(sys.modules)))
with open(out + ".gc", "w") as fh:
    fh.write(str(sum(stat["collections"] for stat in gc.get_stats()) - collected))
from diagnose.deferred import Pattern
with open(out + ".re", "w") as fh:  # the deferred regular expressions the run compiled
    fh.write("\\n".join(o.pattern for o in gc.get_objects() if isinstance(o, Pattern) and "search" in vars(o)))
sys.exit(code)
"""

# What the JSON path never needs once the pack cache is warm: the command-line parser (a plain `diagnose run`
# takes the quick path), the terminal views and their line breaker, the pack's YAML loader and models, the
# schema validator, the error object of a failure, temporary files.
NOT_FOR_JSON = (
    "typer",
    "rich",
    "uniseg",
    "yaml",
    "pydantic",
    "pydantic_core.core_schema",
    "typing_extensions",
    "jsonschema",
    "diagnose.pack.loader",
    "diagnose.pack.model",
    "diagnose.errorobject",
    "tempfile",
)


def _loaded(tmp_path: Path, *args: str, breaks: bool = True) -> tuple[set[str], str]:
    """The modules a run loads once the caches are warm (``breaks=False``: the line breaker's answers forgotten)."""
    env = {**os.environ, "DIAGNOSE_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("DIAGNOSE_NO_CACHE", None)
    modules = tmp_path / "modules.txt"
    argv = [sys.executable, "-c", _WRAPPER, str(modules), "run", str(EXAMPLES / "contract-example.json"), *args]
    first = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)  # fills the caches
    if not breaks:
        for stored in (tmp_path / "cache").glob("breaks-*.json"):
            stored.unlink()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == first.stdout, "what the caches hold changes nothing of the output"
    return set(modules.read_text().split("\n")), proc.stdout


def _under(modules: set[str], name: str) -> list[str]:
    return sorted(m for m in modules if m == name or m.startswith(name + "."))


def test_the_json_path_loads_no_view_no_yaml_and_no_pack_models(tmp_path: Path) -> None:
    modules, stdout = _loaded(tmp_path, "--format", "json")
    assert json.loads(stdout)["findings"], "the run gave a report"
    assert "diagnose.report.formats.jsonfmt" in modules  # the wrapper saw the run's modules
    assert {name: _under(modules, name) for name in NOT_FOR_JSON if _under(modules, name)} == {}
    collections = int((tmp_path / "modules.txt.gc").read_text())
    assert collections <= 2, (
        f"the collector ran {collections} times in a cold run; cli.entry sets a young generation that one run does not fill"
    )


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_rich_view_loads_no_yaml_and_no_line_breaker_for_texts_it_broke_before(tmp_path: Path, lang: str) -> None:
    modules, stdout = _loaded(tmp_path, "--format", "rich", "--lang", lang)
    assert ("资金方" in stdout) is (lang == "zh"), "the run drew the view in its language"
    assert "rich.console" in modules
    unused = ("typer", "yaml", "pydantic", "pydantic_core.core_schema", "uniseg", "jsonschema", "diagnose.errorobject")
    assert {name: _under(modules, name) for name in unused if _under(modules, name)} == {}


def test_a_command_line_the_quick_path_leaves_alone_goes_through_typer(tmp_path: Path) -> None:
    modules, stdout = _loaded(tmp_path, "--format", "json", "--top", "5", "--top", "1")  # typer's rule: the last one wins
    assert "typer.main" in modules and len(json.loads(stdout)["findings"]) == 1


def test_a_first_chinese_view_breaks_lines_without_reading_the_breakers_metadata(tmp_path: Path) -> None:
    modules, stdout = _loaded(tmp_path, "--lang", "zh", breaks=False)
    assert "资金方" in stdout and "uniseg.linebreak" in modules, "the view asked the line breaker"
    assert "importlib.metadata" not in modules  # uniseg's __init__, which only reads its version from there, did not run


def test_the_line_breaker_package_is_whole_for_whoever_reads_it_later() -> None:
    code = (
        "import importlib.metadata, sys; from diagnose.report.formats import wrap; wrap._line_breaker(); "
        "import uniseg, uniseg.linebreak; "
        "assert uniseg.__version__ == importlib.metadata.version('uniseg'), uniseg.__version__; "
        "assert uniseg.unidata_version and 'unidata_version' in uniseg.__all__; "
        "assert uniseg.linebreak is sys.modules['uniseg.linebreak']; "
        "assert not hasattr(uniseg, 'no_such_name')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def test_pydantic_core_is_whole_for_whoever_reads_it_later() -> None:
    code = """
import importlib.metadata, sys
import diagnose.snapshot.contract
assert "pydantic_core.core_schema" not in sys.modules  # the package's own code has not run
import pydantic_core
assert pydantic_core.__version__ == importlib.metadata.version("pydantic_core"), pydantic_core.__version__
assert "core_schema" in dir(pydantic_core) and pydantic_core.core_schema is sys.modules["pydantic_core.core_schema"]
assert pydantic_core.SchemaValidator is pydantic_core._pydantic_core.SchemaValidator
assert not hasattr(pydantic_core, "no_such_name")
import pydantic
class M(pydantic.BaseModel):
    n: int
assert M.model_validate({"n": "3"}).n == 3
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def test_pydantic_imported_first_keeps_its_own_package() -> None:
    code = (
        "import pydantic, pydantic_core, sys; before = sys.modules['pydantic_core']; "
        "import diagnose.snapshot.contract; "
        "assert sys.modules['pydantic_core'] is before and 'core_schema' in vars(before)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("args", [("--format", "json"), ("--lang", "en"), ("--lang", "zh")], ids=["json", "en", "zh"])
def test_a_cold_run_compiles_none_of_the_deferred_regular_expressions(tmp_path: Path, args: tuple[str, ...]) -> None:
    _loaded(tmp_path, *args)
    assert (tmp_path / "modules.txt.re").read_text() == ""


def test_a_deferred_pattern_answers_as_the_compiled_one_and_compiles_once() -> None:
    import re

    from diagnose.deferred import Pattern

    text = "a-1 b-22 é-333\u2028"
    for source in (r"(\w)-(\d+)", "[\u2028\u2029]", r"^a"):
        deferred, compiled = Pattern(source), re.compile(source)
        assert "search" not in vars(deferred)
        assert deferred.search(text).span() == compiled.search(text).span()  # type: ignore[union-attr]
        first = deferred.search
        assert vars(deferred)["search"] == first and deferred.search == first  # kept: later reads find an attribute
        assert bool(deferred.match(text)) == bool(compiled.match(text))
        assert bool(deferred.fullmatch(text)) == bool(compiled.fullmatch(text))
        assert deferred.sub("_", text) == compiled.sub("_", text)
        assert [m.span() for m in deferred.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    lazy = Pattern("x")
    with pytest.raises(AttributeError):
        lazy.groups  # noqa: B018 - a name it does not offer is an error, and compiles nothing
    assert "search" not in vars(lazy)


def test_a_failure_still_writes_its_error_object_and_the_old_names_still_read() -> None:
    code = (
        "import sys; from diagnose import errors; assert 'diagnose.errorobject' not in sys.modules;"
        "e = errors.InvalidInput([errors.Problem('line.used', 'not a number')], source='s.json');"
        "obj = e.error_object(); assert type(obj) is errors.ErrorObject and errors.ErrorDetail is type(obj.error);"
        "assert obj.to_dict()['error']['problems'][0]['path'] == 'line.used';"
        "assert errors.ErrorKind.__args__[0] == 'check_failed';"
        "print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert proc.stdout.strip() == "ok", proc.stderr
    with pytest.raises(AttributeError):
        import diagnose.errors

        diagnose.errors.NoSuchName  # noqa: B018
