"""The terminal views' line breaking: its shortcuts give what the plain definition gives; its store between runs."""

from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from diagnose.report.formats import wrap
from diagnose.report.formats.wrap import Bullets, Either, Wrapped, breaks, narrowest, rows_or_stack, wrap_lines
from tests.conftest import examples

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


# Characters whose width rich works out otherwise: emoji joined by a zero width joiner or a variation selector,
# combining marks, controls, full-width and half-width forms, the soft hyphen, the ideographic space.
_ODD = st.sampled_from(
    ["资", "a", " ", "1", "\U0001f469\u200d\U0001f4bb", "\u2764\ufe0f", "e\u0301", "\u3000", "\uff71", "\u00ad", "\x7f", "\u2010"]
)


@given(st.lists(_ALPHABET | _ODD, max_size=40).map("".join), st.integers(min_value=1, max_value=30))
def test_wrapping_measures_every_slice_as_rich_does(text: str, width: int) -> None:
    assert wrap_lines(text, width) == _plain_wrap(text, width)


@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=24) | st.lists(_ALPHABET | _ODD, max_size=24).map("".join))
def test_a_slices_width_is_what_rich_counts(text: str) -> None:
    cells = wrap._measure(text)
    assert all(cells(a, b) == cell_len(text[a:b]) for a in range(len(text) + 1) for b in range(a, len(text) + 1))


def test_a_character_rich_draws_in_one_cell_adds_one_cell_beside_any_other() -> None:
    # the running sums add each character's own width: true only if rich's one-cell fast path agrees with it
    for code in [*range(0x20, 0x3000), *range(0xFF00, 0xFFF0)]:
        for text in (f"a{chr(code)}", f"{chr(code)}资"):
            assert wrap._measure(text)(0, 2) == cell_len(text), hex(code)


def test_the_inline_ideograph_test_is_the_han_ranges() -> None:
    for code in range(0x3000, 0x10000):
        ch = chr(code)
        if not 0xD800 <= code <= 0xDFFF:
            assert (len(list(wrap._pieces(ch + ch))) == 2) is wrap._within(ch, wrap._HAN), hex(code)


def _drawn(renderable: object, width: int, color: bool) -> str:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    from diagnose.report.formats.richview import buffer_console

    console, buffer = buffer_console(width, color)
    console.print(Group(Text("head", style="bold"), renderable))
    console.print(Panel(Group(Text("in a panel"), renderable)))
    return buffer.getvalue()


@examples(600)
@given(
    st.lists(st.lists(_TEXT, min_size=1, max_size=3).map("\n".join) | st.sampled_from(["", "x" * 90, "资" * 70]), max_size=4),
    st.integers(min_value=1, max_value=120),
    st.booleans(),
)
def test_bullets_draw_what_the_grid_draws(items: list[str], width: int, color: bool) -> None:
    bullets = Bullets(items)
    assert _drawn(bullets, width, color) == _drawn(bullets.grid(), width, color)


class _Sliced(Wrapped):
    """Wrapped as it drew its lines before: a slice of the text for each."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for start, end in wrap_lines(self.text.plain, options.max_width, self.only):
            line = self.text[start:end] if end > start else Text("")
            line.end, line.no_wrap, line.overflow, line.justify = "\n", True, "fold", self.text.justify
            yield line


@examples(300)
@given(
    st.lists(st.lists(_ALPHABET | _ODD, min_size=1, max_size=12).map("".join), min_size=1, max_size=3).map("\n".join),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), st.sampled_from(["bold", "red", "dim", "bold white on red"]))),
    st.integers(min_value=1, max_value=40),
)
def test_wrapped_lines_are_the_slices_of_the_text(plain: str, spans: list[tuple[int, int, str]], width: int) -> None:
    text = Text(plain, style="cyan")
    for a, b, style in spans:
        text.stylize(style, min(a, b), max(a, b))
    assert _drawn(Wrapped(text), width, True) == _drawn(_Sliced(text), width, True)


_BOXES = st.sampled_from([None, box.SIMPLE, box.MINIMAL, box.SIMPLE_HEAVY, box.ROUNDED])


@examples(300)
@given(
    st.lists(_TEXT, min_size=1, max_size=4),
    st.lists(st.lists(_TEXT | st.sampled_from(["", "x" * 90, "资" * 70]), min_size=1, max_size=4), max_size=4),
    st.integers(min_value=1, max_value=20),
    _BOXES,
    st.booleans(),
    st.booleans(),
)
def test_a_table_said_to_fit_surely_fits(
    heads: list[str], rows: list[list[str]], last_min: int, frame: box.Box | None, edge: bool, pad_edge: bool
) -> None:
    from rich.measure import Measurement

    from diagnose.report.formats.richview import buffer_console

    either = rows_or_stack(heads, rows, last_min=last_min, box=frame, show_edge=edge, pad_edge=pad_edge)
    assert isinstance(either, Either) and either.surely is not None
    console, _ = buffer_console(100, False)
    need = Measurement.get(console, console.options.update(width=10_000), either.wide).minimum
    assert either.surely >= need  # so a width at or past it gets the table, as measuring would have said


def test_a_number_keeps_its_unit_and_ideographs_break_between_them() -> None:
    text = "可用额度 5,000 元，请于 3 天内还款"
    points = breaks(text)
    assert text.index("元") not in points and text.index("天") not in points
    assert text.index("用") in points  # 可|用: two ideographs
    assert wrap_lines("资金方额度", 4) == [(0, 2), (2, 4), (4, 5)]


def _fresh(monkeypatch: pytest.MonkeyPatch, cache: Path) -> wrap._KnownBreaks:
    """A new run's store of the line breaker's answers, in ``cache``."""
    monkeypatch.setenv("DIAGNOSE_CACHE_DIR", str(cache))
    monkeypatch.setattr(wrap, "_KNOWN", wrap._KnownBreaks())
    wrap._uax14.cache_clear()
    return wrap._KNOWN


PIECE = "度，请"  # the library breaks it after the comma only


def test_the_breakers_answers_are_kept_between_runs_by_digest(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = _fresh(monkeypatch, tmp_path)
    assert breaks(PIECE) == [2]
    wrap.keep_breaks()
    path = store.path()
    assert path is not None and path.is_file() and PIECE not in path.read_text()  # digests, not the text of snapshots
    assert orjson.loads(path.read_bytes()) == {store.key(PIECE): [2]}
    _fresh(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "uniseg.linebreak", None)  # the next run does not ask the library
    assert breaks(PIECE) == [2]


@pytest.mark.parametrize("mode", [0o600, 0o666])
def test_a_store_is_read_only_when_no_other_user_could_have_written_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: int) -> None:
    store = _fresh(monkeypatch, tmp_path)
    path = store.path()
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps({store.key(PIECE): [1]}))  # a planted answer, unlike the library's
    path.chmod(mode)
    assert breaks(PIECE) == ([1] if mode == 0o600 else [2])


def _planted(store: wrap._KnownBreaks, text: bytes) -> Path:
    path = store.path()
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("text", [b"not json", b"[1, 2]", b'"x"', b"null"])
def test_a_store_of_another_shape_is_ignored_and_written_anew(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: bytes) -> None:
    store = _fresh(monkeypatch, tmp_path)
    path = _planted(store, text)
    assert breaks(PIECE) == [2]
    wrap.keep_breaks()
    assert orjson.loads(path.read_bytes()) == {store.key(PIECE): [2]}


@pytest.mark.parametrize("answer", [[1.5], "2", [True], [0], [3], [5], [2, 2], [2, 1], None, {"b": 2}, [[2]]])
def test_an_answer_of_another_shape_is_never_used_and_is_replaced(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, answer: object) -> None:
    store = _fresh(monkeypatch, tmp_path)
    path = _planted(store, orjson.dumps({store.key(PIECE): answer, "other": [1.5]}))  # each answer is checked when asked for
    assert breaks(PIECE) == [2]
    wrap.keep_breaks()
    assert orjson.loads(path.read_bytes()) == {store.key(PIECE): [2], "other": [1.5]}


def test_a_full_store_keeps_only_the_pieces_of_the_last_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = _fresh(monkeypatch, tmp_path)
    path = _planted(store, orjson.dumps({f"old-{i}": [1] for i in range(wrap._KnownBreaks.LIMIT)}))
    assert breaks(PIECE) == [2]
    wrap.keep_breaks()
    assert orjson.loads(path.read_bytes()) == {store.key(PIECE): [2]}


def test_no_store_without_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fresh(monkeypatch, tmp_path)
    monkeypatch.setenv("DIAGNOSE_NO_CACHE", "1")
    assert breaks(PIECE) == [2]
    wrap.keep_breaks()
    assert list(tmp_path.iterdir()) == []
