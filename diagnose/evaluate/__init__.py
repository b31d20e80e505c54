"""Is the pack right? Labelled cases, accuracy against them, backtests of a pack change, and calibrated weights."""

from __future__ import annotations

from enum import Enum


class EvalFormat(str, Enum):
    """Formats of `diagnose eval` (here, so that the command line names them without loading the evaluation)."""

    rich = "rich"
    json = "json"
    markdown = "markdown"
    junit = "junit"
