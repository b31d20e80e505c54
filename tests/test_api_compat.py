"""The public entry points keep working where scripts found them before the package was regrouped."""

from __future__ import annotations

import subprocess
import sys

import diagnose
from tests.conftest import EXAMPLES, ROOT, load_json


def test_load_pack_diagnose_and_diagnose_many() -> None:
    pack = diagnose.load_pack()
    assert isinstance(pack, diagnose.CompiledPack)
    snapshot = load_json(EXAMPLES / "liq-funder-quota.json")
    report = pack.diagnose(snapshot)
    assert isinstance(report, diagnose.Report) and report.findings[0].rule_id == "LIQ-FUNDER-QUOTA"
    results = list(pack.diagnose_many([snapshot, {"schema_version": "1"}]))
    assert isinstance(results[0], diagnose.Report) and isinstance(results[1], diagnose.InvalidInput)
    assert issubclass(diagnose.InvalidPack, diagnose.DiagnoseError)


def test_the_old_module_paths_of_batch_and_spark_are_the_new_modules() -> None:
    import diagnose.batch
    import diagnose.portfolio.batch
    import diagnose.portfolio.spark
    import diagnose.spark

    assert diagnose.batch is diagnose.portfolio.batch and callable(diagnose.batch.diagnose_files)
    assert diagnose.spark is diagnose.portfolio.spark and callable(diagnose.spark.diagnose_files)


def test_python_dash_m_and_the_spark_submit_script_still_run() -> None:
    run = subprocess.run([sys.executable, "-m", "diagnose", "--help"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0 and "run" in run.stdout
    script = ROOT / "diagnose" / "spark_submit.py"
    run = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert run.returncode == 0 and "--engine" in run.stdout
