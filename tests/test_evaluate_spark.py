"""`diagnose eval` on Apache Spark (local[2]): the same numbers as the local run, and bad cases named by file:line."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed: Spark needs Java 17 or newer (java on the PATH, or JAVA_HOME)", allow_module_level=True)
pytest.importorskip("pyspark", reason="PySpark is not installed: pip install -e '.[spark]' to run the Spark tests")
pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install -e '.[spark]' to run the Spark tests")

from pyspark.sql import SparkSession

from diagnose.errors import InvalidInput
from diagnose.evaluate.labels import Problems, labelled_line, open_cases, template_label
from diagnose.evaluate.run import evaluate, known_causes
from diagnose.evaluate.spark import evaluate_on_spark
from diagnose.portfolio.generate import Generator, load_templates

from .test_spark import spark  # noqa: F401  # the batch tests' local[2] session: several blocks per file

pytestmark = pytest.mark.usefixtures("spark")


def _session() -> SparkSession:
    active = SparkSession.getActiveSession()
    assert active is not None
    return active


@pytest.fixture(scope="module")
def cases(pack: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    templates = load_templates(pack)
    known = known_causes(pack)
    labels = {t.name: template_label(t.name, t.causes, known) for t in templates}
    folder = tmp_path_factory.mktemp("labelled")
    for part, seed in (("a.jsonl", 1), ("b.jsonl", 2)):
        lines = [labelled_line(line.text, labels[line.template]) for line in Generator(pack, templates, seed=seed).lines(250)]
        (folder / part).write_bytes(b"\n".join(lines) + b"\n\n")
    return folder


def test_spark_gives_the_local_numbers(pack: Any, cases: Path) -> None:
    problems = Problems()
    files = [str(p) for p in sorted(cases.glob("*.jsonl"))]
    local = evaluate(pack, open_cases(files, known_causes(pack), problems), problems)
    remote = evaluate_on_spark(_session(), [str(cases)], pack)
    assert remote.tally.to_dict() == local.tally.to_dict()
    assert remote.to_dict() == local.to_dict()
    assert local.cases == 500


@pytest.mark.parametrize("first_pass", [False, True])
def test_bad_cases_on_spark_are_named_by_file_and_line(
    pack: Any, cases: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_pass: bool
) -> None:
    from diagnose.portfolio import spark as ds

    text = (cases / "a.jsonl").read_text(encoding="utf-8").splitlines()
    ends = list(itertools.accumulate(len(line.encode()) + 1 for line in text))
    at = next(i for i, end in enumerate(ends) if end > 512 * 1024 + 10_000)  # in the file's second block
    row = json.loads(text[at])
    row["label"]["causes"] = ["NOPE"]
    text[at] = json.dumps(row)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")
    if first_pass:  # as on a cluster: the first pass numbers the lines
        monkeypatch.setattr(ds, "line_indexes", lambda *args: None)
    else:  # on this machine, from the file's bytes: no first pass
        monkeypatch.setattr(ds, "first_lines", lambda *args: pytest.fail("the first pass ran"))
    with pytest.raises(InvalidInput) as caught:
        evaluate_on_spark(_session(), [str(bad)], pack)
    assert f"{bad}:{at + 1}: label.causes[0]: unknown cause NOPE" in caught.value.render()


def test_eval_engine_spark_prints_the_local_json(cases: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .conftest import cli

    files = [str(p) for p in sorted(cases.glob("*.jsonl"))]
    code, local, _ = cli(capsys, "eval", *files, "-f", "json", "--min-top1", "0.9")
    assert code == 0
    code, remote, _ = cli(capsys, "eval", str(cases), "--engine", "spark", "-f", "json", "--min-top1", "0.9")
    assert code == 0 and json.loads(remote) == json.loads(local)
    code, _, err = cli(capsys, "eval", str(cases), "--engine", "spark", "--baseline", "rules")
    assert code == 2 and "--baseline" in err
