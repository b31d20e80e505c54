"""Instructions one process executes, counted by valgrind's cachegrind: a measure a busy shared machine does not disturb.

Repeat runs agree to about 0.1% (hash seeds fixed), where CPU time on a shared two-core machine
varies by a third. Needs valgrind on the PATH (`apt-get install valgrind`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence


def available() -> bool:
    return shutil.which("valgrind") is not None


def instructions(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | None = None) -> int:
    """The instructions ``cmd`` executes from start to exit, run once under cachegrind with PYTHONHASHSEED=0."""
    run = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *cmd]
    proc = subprocess.run(
        run, capture_output=True, text=True, env={**(env if env is not None else os.environ), "PYTHONHASHSEED": "0"}, cwd=cwd, check=False
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"valgrind {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-1500:]}")
    return int(found.group(1).replace(",", ""))
