"""`rules init`: a new rule pack that extends the default, with a rule, a golden case, CI, hooks and schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from diagnose.errors import UsageError

TEMPLATES = Path(__file__).resolve().parent / "templates" / "pack"
"""The files of a new pack; `dot-` stands for a leading dot (a packaged file whose name starts with one may be left out)."""
SCHEMAS = ("pack", "rules", "case")
"""The schemas the new files' modelines name, written into the pack's `schemas/`."""


@dataclass(frozen=True)
class Scaffold:
    """What `rules init` wrote: the pack's folder, its name and every file, relative to the folder."""

    root: Path
    name: str
    files: tuple[str, ...]


def pack_name(folder: Path) -> str:
    """A pack name from a folder name: lower-case words joined by hyphens (`Acme Bank` -> `acme-bank`)."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return name or "my-pack"


def plan(name: str, version: str) -> dict[str, str]:
    """Every file of a new pack by its path in the pack, with the placeholders filled in."""
    from diagnose.packci import schemas

    out: dict[str, str] = {}
    for path in sorted(p for p in TEMPLATES.rglob("*") if p.is_file()):
        relative = "/".join(part.replace("dot-", ".", 1) if part.startswith("dot-") else part for part in path.relative_to(TEMPLATES).parts)
        out[relative] = path.read_text(encoding="utf-8").replace("@NAME@", name).replace("@VERSION@", version)
    for schema in SCHEMAS:
        out[f"schemas/{schema}.schema.json"] = schemas.dumps(schemas.generate(schema))
    return out


def init(folder: Path, name: str | None = None) -> Scaffold:
    """Write a new pack into ``folder`` (created if needed); refuse to overwrite any file that is already there."""
    from diagnose import __version__

    name = name or pack_name(folder)
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,99}", name):
        raise UsageError(f"pack name {name!r} is not allowed", hint="use lower-case letters, digits, '.', '_' and '-', e.g. acme-bank")
    files = plan(name, __version__)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file, not a folder", hint="name a new or empty folder for the pack")
    taken = sorted(f for f in files if (folder / f).exists())
    if taken:
        raise UsageError(
            f"{folder} already has {', '.join(taken[:5])}" + (f" and {len(taken) - 5} more" if len(taken) > 5 else ""),
            hint="rules init writes a new pack and never overwrites a file; name a new or empty folder",
        )
    try:
        for relative, text in files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as fh:  # "x": a file that appeared meanwhile is not overwritten
                fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write the pack into {folder}: {exc.strerror or exc}") from None
    return Scaffold(folder, name, tuple(files))
