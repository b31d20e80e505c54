"""diagnose: why a revolving credit line does not come back after repayment, from one account snapshot.

>>> import diagnose
>>> pack = diagnose.load_pack()              # the default pack, compiled once
>>> report = pack.diagnose(snapshot_dict)     # a Report; report.to_json() for scripts
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from diagnose.engine.compiled import CompiledPack

__all__ = ["__version__", "load_pack"]


def load_pack(path: str | Path | None = None) -> CompiledPack:
    """Load, validate and compile a rule pack folder (the default pack when ``path`` is None).

    A pack whose files are unchanged since the last load comes from the pack cache (see packcache).
    """
    from diagnose.pack.cache import load_compiled

    return load_compiled(path)


def __getattr__(name: str) -> Any:
    # The public types, imported on first use so that `import diagnose` stays cheap.
    lazy = {
        "Report": "report.model",
        "Finding": "report.model",
        "Snapshot": "snapshot.model",
        "CompiledPack": "engine.compiled",
        "DiagnoseError": "errors",
        "InvalidInput": "errors",
        "InvalidPack": "errors",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f".{lazy[name]}", __name__), name)
    raise AttributeError(name)
