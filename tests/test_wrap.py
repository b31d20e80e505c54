"""The terminal views' line breaking: its shortcuts give what the plain definition gives."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from diagnose.report.formats.wrap import breaks, narrowest, wrap_lines

# Text of the kinds the views hold: Chinese with full-width punctuation, numbers with units, ids, English words.
_ALPHABET = st.sampled_from([*"资金方额度可用，。；：（）、 元天% 0123456789.,-_abcXYZ", "\u00a0", "CNY", "days", "rp-2024-01"])
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join)


def _plain_wrap(para: str, width: int) -> list[tuple[int, int]]:
    """Greedy wrapping over every break opportunity, found up front: the definition the views' wrapping keeps."""
    lines: list[tuple[int, int]] = []
    start = fit = 0
    for point in [*breaks(para), len(para)]:
        if cell_len(para[start:point].rstrip(" ")) > width:
            if fit > start:
                lines.append((start, start + len(para[start:fit].rstrip(" "))))
                start = fit
            while cell_len(para[start:point].rstrip(" ")) > width:
                end = start + 1
                while end < point and cell_len(para[start : end + 1]) <= width:
                    end += 1
                lines.append((start, start + len(para[start:end].rstrip(" "))))
                start = end
        fit = point
    lines.append((start, start + len(para[start:].rstrip(" "))))
    return lines


@given(_TEXT)
def test_narrowest_is_the_widest_span_between_breaks(text: str) -> None:
    spans = pairwise([0, *breaks(text), len(text)])
    assert narrowest(text) == max((cell_len(text[a:b].rstrip(" ")) for a, b in spans), default=0)


@given(_TEXT, st.integers(min_value=1, max_value=30))
def test_wrapping_stops_looking_for_breaks_only_where_it_may(text: str, width: int) -> None:
    assert wrap_lines(text, width) == _plain_wrap(text, width)


def test_a_number_keeps_its_unit_and_ideographs_break_between_them() -> None:
    text = "可用额度 5,000 元，请于 3 天内还款"
    points = breaks(text)
    assert text.index("元") not in points and text.index("天") not in points
    assert text.index("用") in points  # 可|用: two ideographs
    assert wrap_lines("资金方额度", 4) == [(0, 2), (2, 4), (4, 5)]
