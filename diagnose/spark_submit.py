"""Compatibility: the script spark-submit runs is now `diagnose/cli/spark_submit.py`; this path still works."""

import sys
from pathlib import Path

if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if (Path(p).resolve() if p else Path.cwd()) != here]
    from diagnose.cli.spark_submit import submit

    sys.exit(submit(sys.argv[1:]))
