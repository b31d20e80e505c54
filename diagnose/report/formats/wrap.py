"""Line breaking for the terminal views: UAX #14 break opportunities, numbers kept with their units, nothing cut."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import accumulate, chain, pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from rich.cells import cell_len, get_character_cell_size
from rich.console import Group
from rich.measure import Measurement
from rich.padding import Padding
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from diagnose import deferred

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult

# Two Han ideographs side by side always allow a break between them (UAX #14, LB31; no rule applies to ID ID), so
# a text is cut there into short pieces that the library breaks one by one: the same few pieces recur and are
# cached, and uniseg, which is exact but slow, sees a small part of the text.
# The character ranges are tested by code point, not by regular expressions: compiling a class of tens of
# thousands of code points costs milliseconds, more than a cold run spends on wrapping English.
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# Scripts written without spaces between words; text without them breaks after its spaces, as UAX #14 gives for
# prose of spaced scripts (with a middle dot or a box mark in it), without loading the library's tables.
_EAST_ASIAN = ((0x1100, 0x11FF), (0x2E80, 0xA4CF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF))
# What follows a number as its unit: a Chinese character (元, 天, 小时, 笔...) or a short word (CNY, hours, days).
_LATIN_UNIT = re.compile(r"[A-Za-z]{1,7}(?![A-Za-z])")


def _within(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in ranges)


@lru_cache(maxsize=4096)
def _uax14(piece: str) -> tuple[int, ...]:
    """Offsets inside ``piece`` where a line may start, by the Unicode line breaking algorithm."""
    if len(piece) < 2:  # most pieces of Chinese text are one ideograph: nothing inside to break
        return ()
    if max(piece) < "\u1100" or not any(_within(ch, _EAST_ASIAN) for ch in piece):
        # Prose of spaced scripts breaks after its spaces; identifiers and fact paths (a.b_c, OPS-X-Y) stay whole,
        # which is what a reader of a rule id or a data path wants, and what the library would do bar hyphens.
        return tuple(m.end() for m in re.finditer(r" +(?=\S)", piece))
    return _KNOWN.breaks(piece)


def _line_breaker() -> Callable[[str], Iterable[int]]:
    """uniseg's UAX #14 line breaker; the package's `__init__`, which only reads its version from the metadata, waits (see `deferred`)."""
    deferred.bare("uniseg")
    from uniseg.linebreak import line_break_boundaries  # type: ignore[import-untyped]

    return line_break_boundaries  # type: ignore[no-any-return]


class _KnownBreaks:
    """The line breaker's answers for pieces met before, kept between runs in the cache folder (DIAGNOSE_CACHE_DIR).

    Importing uniseg and breaking a Chinese report's pieces costs more than the rest of a cold run draws;
    the pieces are mostly the pack's texts, the same from one run to the next. A piece is stored by a
    keyed digest, not as text (pieces hold snapshot values), under the versions of this tool and of the
    breaker; a file another user could have written, or of another shape, is not read.
    """

    LIMIT = 2_000
    """Past this many pieces, the file keeps only those of the last run (pieces of old snapshots drop out).

    The default pack's texts make about 700 pieces in Chinese (all 41 examples, explained); each new account adds
    some twenty of its own (amounts, dates, ids) that seldom recur. Every view reads the whole file, so it is
    kept small: at 20,000 pieces reading it cost a first view a sixth of its time.
    """

    def __init__(self) -> None:
        self.known: dict[str, Any] | None = None
        self.used: dict[str, list[int]] = {}
        self.new = False

    @staticmethod
    def path() -> Path | None:
        from diagnose._version import __version__
        from diagnose.pack.cache import cache_dir

        if os.environ.get("DIAGNOSE_NO_CACHE") == "1":
            return None
        spec = importlib.util.find_spec("uniseg")  # finds the package without importing it
        places = list(spec.submodule_search_locations or []) if spec is not None else []
        if not places:
            return None
        try:  # the breaker's code and tables, by size and time: a new version of it is a new file
            marks = [(Path(places[0]) / f).stat() for f in ("linebreak.py", "db_lookups.py")]
        except OSError:
            return None
        stamp = zlib.crc32(repr([(m.st_size, m.st_mtime_ns) for m in marks]).encode())
        return cache_dir() / f"breaks-{__version__}-{stamp:08x}.json"

    def _load(self) -> dict[str, Any]:
        from diagnose.pack.cache import trusted

        path = self.path()
        try:
            if path is None or not path.is_file() or not trusted(path):
                return {}
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        # not a file of this shape: it is written anew; an answer of another shape is checked when asked for, not here
        return data if isinstance(data, dict) else {}

    @staticmethod
    def key(piece: str) -> str:
        return hashlib.blake2b(piece.encode("utf-8", "surrogatepass"), digest_size=12, key=b"diagnose-breaks").hexdigest()

    def breaks(self, piece: str) -> tuple[int, ...]:
        if self.known is None:
            self.known = self._load()
        key = self.key(piece)
        hit = self.known.get(key)
        if type(hit) is list and all(type(b) is int and 0 < b < len(piece) for b in hit) and hit == sorted(set(hit)):
            self.used[key] = hit
            return tuple(hit)
        found = [b for b in _line_breaker()(piece) if 0 < b < len(piece)]
        self.known[key] = self.used[key] = found
        self.new = True
        return tuple(found)

    def save(self) -> None:
        """Write the pieces met so far, when some were new; a cache that cannot be written is left as it is."""
        if not self.new or self.known is None:
            return
        path = self.path()
        if path is None:
            return
        keep = self.known if len(self.known) <= self.LIMIT else self.used
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(orjson.dumps(keep))
            os.replace(tmp, path)
            self.new = False
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


_KNOWN = _KnownBreaks()


def keep_breaks() -> None:
    """Keep the line breaker's answers of this run for the next (the views call it once they are drawn)."""
    _KNOWN.save()


def _pieces(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the pieces of a paragraph between the breaks that two Han ideographs side by side make."""
    start = 0
    if text and max(text) >= "\u3400":  # else no ideograph: one piece
        # the ranges of _HAN, compared inline: a call per character costs a first Chinese view a millisecond
        han = [("\u4e00" <= ch <= "\u9fff") or ("\u3400" <= ch <= "\u4dbf") or ("\uf900" <= ch <= "\ufaff") for ch in text]
        for cut in range(1, len(text)):
            if han[cut - 1] and han[cut]:
                yield start, cut
                start = cut
    if len(text) > start:
        yield start, len(text)


def _kept(text: str, b: int) -> bool:
    """Whether a line may start at ``b``: not between a number and its unit (a digit or % and spaces, then a unit)."""
    at = text[b : b + 1]
    if not (at >= "\u3400" and _within(at, _HAN)) and not _LATIN_UNIT.match(text, b):
        return True
    i = b - 1
    while i >= 0 and text[i] in " \u00a0":  # looking back from b, not searching the text before it: linear
        i -= 1
    return not (i >= 0 and text[i] in "0123456789%")


def _piece_breaks(text: str, start: int, end: int) -> Iterator[int]:
    """The break opportunities inside one piece and at its end (unless that is the end of the text)."""
    for b in _uax14(text[start:end]):
        if _kept(text, start + b):
            yield start + b
    if end < len(text):  # between two ideographs: never after a number, so always kept
        yield end


def breaks(text: str) -> list[int]:
    """Offsets in one paragraph (no newline) where a line may start; never between a number and its unit."""
    return [b for start, end in _pieces(text) for b in _piece_breaks(text, start, end)]


def _measure(para: str) -> Callable[[int, int], int]:
    """The cell width of ``para[a:b]``, as rich's `cell_len` gives it, for any a <= b.

    A character's width does not depend on its neighbours, save in emoji sequences (a zero width joiner or a
    variation selector joins characters into one picture): elsewhere a slice's width is a difference of running
    sums, taken once for the paragraph, rather than a walk of every slice the line filling tries.
    """
    if "\u200d" in para or "\ufe0f" in para:
        return lambda a, b: cell_len(para[a:b])
    if para.isascii() and para.isprintable():
        return lambda a, b: b - a
    sums = list(accumulate(map(get_character_cell_size, para), initial=0))
    return lambda a, b: sums[b] - sums[a]


def _trimmed(para: str, a: int, b: int) -> int:
    """``b`` moved back over the trailing spaces of ``para[a:b]``."""
    while b > a and para[b - 1] == " ":
        b -= 1
    return b


def narrowest(text: str) -> int:
    """The width of the widest piece of one paragraph that no break opportunity splits: the least width it needs.

    The same as the widest span between ``breaks``, without asking the line breaker about pieces that cannot be the
    widest: a piece's spans are no wider than the piece, so the pieces are taken widest first.
    """
    least = 0
    for width, start, end in sorted(((cell_len(text[a:b].rstrip(" ")), a, b) for a, b in _pieces(text)), reverse=True):
        if width <= least:
            break
        prev = start
        for point in [*_piece_breaks(text, start, end), end]:
            least = max(least, cell_len(text[prev:point].rstrip(" ")))
            prev = point
    return least


def wrap_lines(text: str, width: int, only: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` wrapped to ``width`` cells, trailing spaces left out.

    ``only`` gives the break opportunities of a one-paragraph text instead of the Unicode ones. A piece wider
    than the width (a long path, a long number) is folded by characters, never cut.
    """
    width = max(width, 1)
    lines: list[tuple[int, int]] = []
    offset = 0
    for para in text.split("\n"):

        def line(a: int, b: int, para: str = para, offset: int = offset) -> tuple[int, int]:
            return offset + a, offset + a + len(para[a:b].rstrip(" "))

        start = fit = 0
        # Break opportunities are found as the lines go, and only until the rest of the paragraph fits: from there
        # on no point could start a line (the line breaker is slow, and most texts fit the width whole).
        points = only if only is not None else (b for a, z in _pieces(para) for b in _piece_breaks(para, a, z))
        if cell_len(para.rstrip(" ")) > width:
            cells = _measure(para)
            for point in chain(points, (len(para),)):
                if cells(start, _trimmed(para, start, point)) > width:
                    if fit > start:
                        lines.append(line(start, fit))
                        start = fit
                    while cells(start, _trimmed(para, start, point)) > width:
                        end = start + 1
                        while end < point and cells(start, end + 1) <= width:
                            end += 1
                        lines.append(line(start, end))
                        start = end
                    if only is None and cells(start, _trimmed(para, start, len(para))) <= width:
                        break
                fit = point
        lines.append(line(start, len(para)))
        offset += len(para) + 1
    return lines


class Wrapped:
    """A text that wraps at UAX #14 break opportunities and never ellipses; ``whole`` asks a table for its full width."""

    def __init__(self, text: Text | str, *, whole: bool = False, style: str = "", only: Sequence[int] | None = None) -> None:
        self.text = text if isinstance(text, Text) else Text(text, style=style)
        self.whole = whole
        self.only = only
        self._span: tuple[str, int, int] | None = None

    def span(self) -> tuple[int, int]:
        """The least width the text needs (its widest unbreakable piece; all of it when ``whole``) and its full width.

        Neither depends on the width offered, and a table asks for them several times (to choose its form, to
        size its columns, to draw): they are worked out once for the text as it is.
        """
        plain = self.text.plain
        if self._span is None or self._span[0] != plain:
            widest = max((cell_len(p.rstrip(" ")) for p in plain.split("\n")), default=0)
            least = widest
            if not self.whole:
                least = 0
                for para in plain.split("\n"):
                    if self.only is None:
                        least = max(least, narrowest(para))
                        continue
                    for a, b in pairwise([0, *self.only, len(para)]):
                        least = max(least, cell_len(para[a:b].rstrip(" ")))
            self._span = (plain, min(least, widest), widest)
        return self._span[1], self._span[2]

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(*self.span()).with_maximum(options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        plain = self.text.plain
        if not plain:
            yield Text("", end="\n")
            return
        lines = wrap_lines(plain, options.max_width, self.only)
        # One division of the text for all its lines (a slice divides it anew for each); a line that is the whole
        # text is a copy of it.
        if lines == [(0, len(plain))]:
            pieces = {0: self.text.copy()}
        else:
            cuts = sorted({point for line in lines for point in line if 0 < point < len(plain)})
            pieces = dict(zip([0, *cuts], self.text.divide(cuts), strict=True))
        for start, end in lines:
            line = pieces[start] if end > start else Text("")
            line.end = "\n"
            line.no_wrap = True
            line.overflow = "fold"
            line.justify = self.text.justify
            yield line


_BULLET = 4
"""The width of a bullet's column: the bullet right-aligned in three cells, then one space."""


class Bullets:
    """Items under bullets, each one's wrapped lines indented under its bullet (also for Chinese).

    Drawn line for line as the two-column grid of `grid` draws them, without the grid's layout, which measured
    every item's narrowest unbreakable piece (asking the line breaker) to find a width the grid never uses:
    the text column is the widest item, or what is left beside the bullets.
    """

    def __init__(self, items: Iterable[str]) -> None:
        self.items = [Wrapped(item) for item in items]

    def grid(self) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=_BULLET - 1, justify="right")
        grid.add_column(ratio=1)
        for item in self.items:
            grid.add_row("•", item)
        return grid

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.grid())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        room = options.max_width - _BULLET
        if room < 1:  # no room beside the bullets: the grid's own last resort decides
            yield self.grid()
            return
        widest = max((cell_len(p.rstrip(" ")) for item in self.items for p in item.text.plain.split("\n")), default=0)
        cell = options.update(
            width=min(widest, room) or 1, justify="left", no_wrap=False, overflow="ellipsis", height=None, highlight=False
        )
        mark = options.update(width=_BULLET, justify="right", no_wrap=False, overflow="ellipsis", height=None, highlight=False)
        bullet = console.render_lines(Padding(Text("•"), (0, 1, 0, 0)), mark)[0]
        blank = [Segment(" " * _BULLET)]
        for item in self.items:
            for i, line in enumerate(console.render_lines(item, cell)):
                yield from bullet if i == 0 else blank
                yield from line
                yield Segment.line()


def rows_or_stack(
    heads: Sequence[str],
    rows: Iterable[Sequence[Text | str]],
    *,
    title: str | None = None,
    title_style: str = "bold",
    last_min: int = 16,
    right: Sequence[int] = (),
    lead: int = 1,
    colon: str = ": ",
    inline: bool = False,
    **table_kw: object,
) -> RenderableType:
    """A table whose columns all show whole but the last, which wraps; where that does not fit, the rows stack.

    Stacked, each row is its first ``lead`` cells on one line, then one indented line per other cell, headed by
    its column name (with ``inline``, all on one wrapped line).
    """
    rows = [list(r) for r in rows]
    table = Table(title=title, title_justify="left", title_style=title_style, **table_kw)  # type: ignore[arg-type]
    for i, head in enumerate(heads):
        last = i == len(heads) - 1
        # not wrapping the whole columns keeps rich from squeezing them when the last one is wide
        table.add_column(head, justify="right" if i in right else "left", min_width=last_min if last else None, no_wrap=not last)
    cells = [[Wrapped(c, whole=i < len(heads) - 1) for i, c in enumerate(row)] for row in rows]
    for row_cells in cells:
        table.add_row(*row_cells)
    parts: list[RenderableType] = [Text(title, style=title_style)] if title else []
    for row in rows:
        first = Text("  ").join(c if isinstance(c, Text) else Text(c, style="bold") for c in row[:lead])
        parts.append(Wrapped(first))
        rest: list[Text] = []
        for head, cell in zip(heads[lead:], row[lead:], strict=False):
            shown = Text(f"{head}{colon}", style="dim") if head else Text()
            shown.append_text(cell if isinstance(cell, Text) else Text(cell))
            if shown.plain.strip():
                rest.append(shown)
        if inline and rest:
            # one line of "name: value" pairs that breaks only between pairs
            line, points = Text(), []
            for shown in rest:
                if line.plain:
                    line.append("   ")
                    points.append(len(line.plain))
                line.append_text(shown)
            parts.append(Padding(Wrapped(line, only=points), (0, 0, 0, 2)))
        else:
            parts.extend(Padding(Wrapped(shown), (0, 0, 0, 2)) for shown in rest)
    return Either(table, Group(*parts), surely=_surely_fits(table, heads, cells, last_min))


def _surely_fits(table: Table, heads: Sequence[str], cells: Sequence[Sequence[Wrapped]], last_min: int) -> int:
    """A width at which ``table`` surely fits: at least the least width rich would measure for it, found without rich.

    Each column needs its widest cell or heading (the last one its widest unbreakable piece, and ``last_min``),
    plus the cell padding; the table adds at most a border on each side and a rule between columns. Choosing
    the form by this bound first spares the full measuring pass, which sized every column only to say yes.
    """
    _, right, _, left = table.padding
    last = len(heads) - 1
    columns = max([len(heads), *map(len, cells)])  # a row longer than the headings adds columns
    need = columns + 1  # the borders and rules, at most
    for i in range(columns):
        widths = [row[i].span()[1 if i < last else 0] for row in cells if i < len(row)]
        need += max([cell_len(heads[i]) if i <= last else 0, *widths, last_min if i == last else 0]) + left + right
    return need


class Either:
    """The first renderable where it fits the width whole, else the second (a stacked form of the same data).

    ``surely`` is a width at or above which the first one is known to fit, so that it need not be measured.
    """

    def __init__(self, wide: RenderableType, narrow: RenderableType, *, surely: int | None = None) -> None:
        self.wide = wide
        self.narrow = narrow
        self.surely = surely

    def _pick(self, console: Console, options: ConsoleOptions) -> RenderableType:
        if self.surely is not None and self.surely <= options.max_width:
            return self.wide
        need = Measurement.get(console, options.update(width=10_000), self.wide).minimum
        return self.wide if need <= options.max_width else self.narrow

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self._pick(console, options))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self._pick(console, options)


def fill(line: str, width: int, indent: str = "") -> list[str]:
    """One line of plain text wrapped to ``width``; the lines after the first start with ``indent``."""
    out: list[str] = []
    rest, room = line, width
    while True:
        start, end = wrap_lines(rest, room)[0]
        out.append(("" if not out else indent) + rest[start:end])
        rest = rest[end:].lstrip(" ")
        if not rest:
            return out
        room = max(width - cell_len(indent), 10)
