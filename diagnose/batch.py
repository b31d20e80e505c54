"""Compatibility alias: `diagnose.batch` is `diagnose.portfolio.batch`, where the module now lives."""

import sys

from diagnose.portfolio import batch as _module

sys.modules[__name__] = _module
