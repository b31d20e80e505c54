"""The script `spark-submit` runs: `diagnose batch --engine spark` with the arguments that follow it.

    spark-submit [Spark options] "$(python -c 'import diagnose.cli.spark_submit as m; print(m.__file__)')" INPUT... --output OUT [options]

Run as a script, so its imports are absolute; its own folder is taken off the import path first,
or the package's modules (errors, inputs, text...) would shadow any top-level modules of those names.
"""

from __future__ import annotations

import sys
from pathlib import Path


def submit(argv: list[str]) -> int:
    from diagnose.cli import main

    return main(["batch", "--engine", "spark", *argv])


if __name__ == "__main__":
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if (Path(p).resolve() if p else Path.cwd()) != here]
    sys.exit(submit(sys.argv[1:]))
