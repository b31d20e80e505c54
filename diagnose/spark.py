"""Compatibility alias: `diagnose.spark` is `diagnose.portfolio.spark`, where the module now lives."""

import sys

from diagnose.portfolio import spark as _module

sys.modules[__name__] = _module
