"""diagnose: why a revolving credit line does not come back after repayment, from one account snapshot.

>>> import diagnose
>>> pack = diagnose.load_pack()              # the default pack, compiled once
>>> report = pack.diagnose(snapshot_dict)     # a Report; report.to_json() for scripts
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from diagnose._version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from diagnose.api import CompiledPack

__all__ = ["__version__", "load_pack"]


def load_pack(path: str | Path | None = None) -> CompiledPack:
    """Load, validate and compile a rule pack folder (the default pack when ``path`` is None).

    A pack whose files are unchanged since the last load comes from the pack cache (see diagnose.pack.cache).
    """
    from diagnose.api import CompiledPack
    from diagnose.pack.cache import corrupt, entry_of, load_data

    data, source = load_data(path)
    if source is not None:
        return CompiledPack(data, source)
    try:
        return CompiledPack(data, source)
    except Exception as exc:  # a cache entry that does not compile is corrupt: the pack's own files decide
        corrupt(entry_of(path), f"{type(exc).__name__}: {str(exc)[:100]}")
        data, source = load_data(path, fresh=True)
        return CompiledPack(data, source)


def __getattr__(name: str) -> Any:
    # The public types, imported on first use so that `import diagnose` stays cheap.
    lazy = {
        "Report": "records",
        "Finding": "records",
        "Snapshot": "snapshot.model",
        "CompiledPack": "api",
        "DiagnoseError": "errors",
        "InvalidInput": "errors",
        "InvalidPack": "errors",
    }
    if name in lazy:
        import importlib

        return getattr(importlib.import_module(f".{lazy[name]}", __name__), name)
    raise AttributeError(name)
