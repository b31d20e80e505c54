"""`portfolio.lines.LineIndex`: the line numbers of a file's blocks from its bytes, held to the plain count at every byte.

tests/test_spark.py holds the same rule to Spark's own count of its blocks.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from diagnose.portfolio import lines
from diagnose.portfolio.lines import Changed, LineIndex


def _plain_first_line(data: bytes, block: int) -> int:
    """The rule, said plainly: a line that starts at a block's first byte, or crosses it, belongs to the block before."""
    return 1 if block == 0 else 2 + data[:block].count(b"\n")


def _plain_rows(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 4 << 20])
def test_every_block_start_is_numbered_as_the_plain_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(lines, "CHUNK", chunk)  # marks every few bytes: a block on, just after and between marks
    rnd = random.Random(chunk)
    texts = [b"", b"\n", b"\n\n", b"a", b"a\n", b"a\nb", b"\r\n\r\n", "ünï\n\nz".encode()]
    texts += [b"\n".join(rnd.choice([b"", b"x" * rnd.randint(1, 9), b"{}\r"]) for _ in range(rnd.randint(1, 40))) for _ in range(12)]
    for i, data in enumerate(texts):
        path = tmp_path / f"{i}.jsonl"
        path.write_bytes(data)
        index = LineIndex.of(str(path))
        assert (index.size, index.lines) == (len(data), _plain_rows(data))
        assert [index.first_line(b) for b in range(len(data))] == [_plain_first_line(data, b) for b in range(len(data))]


def test_a_file_changed_after_its_count_is_refused_not_misnumbered(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_bytes(b"{}\n{}\n{}\n")
    index = LineIndex.of(str(path))
    assert index.first_line(4) == 3
    path.write_bytes(b"{}\n\n{}\n{}\n")  # a line more: every later number would be off by one
    with pytest.raises(Changed, match=r"day\.jsonl changed after its lines were counted"):
        index.first_line(4)
    path.write_bytes(b"{}\n{}\n{}\n")
    os.utime(path, ns=(index.mtime_ns + 10**9, index.mtime_ns + 10**9))  # the same size, written again
    with pytest.raises(Changed):
        index.first_line(4)
