"""Seeded synthetic snapshots for the benches: the lines `diagnose generate` writes, some corrupted on purpose."""

from __future__ import annotations

from pathlib import Path


def generate(path: Path, n: int, seed: int, rate: float = 0.01) -> set[int]:
    """Write N snapshot lines to ``path``, a share ``rate`` of them corrupted; return the numbers of those lines."""
    import diagnose
    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    gen = Generator(pack, load_templates(pack), seed=seed)
    corrupted = set()
    with path.open("wb") as fh:
        for i, line in enumerate(gen.lines(n, corrupt_rate=rate), start=1):
            if line.corrupt:
                corrupted.add(i)
            fh.write(line.text.encode() + b"\n")
    return corrupted
