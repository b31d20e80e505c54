"""Charts as inline SVG text: bars drawn to scale, a stacked bar, a heat map and a trend; no script, no external asset."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence

FONT = 12
"""Font size of chart texts, in pixels (the page's font, so printed charts match the text)."""
PALETTE = {"blocked": "#c8423b", "restricted": "#d49a1e", "healthy": "#3f9b57"}
BAR = "#3b82c4"
TRACK = "#eef1f5"
INK = "#1d2430"
MUTED = "#5b6472"


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _em(ch: str) -> float:
    if unicodedata.east_asian_width(ch) in "WF":
        return 1.0
    if ch.isupper() or ch.isdigit() or ch in "%#@&":
        return 0.7
    return 0.58


def text_width(text: str, size: float = FONT) -> float:
    """About how wide a text is drawn, a little over rather than under: wide (CJK) characters take a full em."""
    return sum(_em(ch) for ch in text) * size


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def _svg(name: str, width: float, height: float, label: str, body: Sequence[str]) -> str:
    w, h = round(width), round(height)
    return (
        f'<svg class="chart" data-chart="{e(name)}" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-label="{e(label)}"><title>{e(label)}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK, size: float = FONT, extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" fill="{fill}"{extra}>{e(text)}</text>'


def inline_bar(share: float, *, color: str = BAR, width: int = 160, height: int = 12, label: str = "") -> str:
    """One share as a bar in a track: the fill is ``share`` of the track's width, to scale (1.8% fills 1.8%)."""
    fill = max(0.0, min(1.0, share)) * width
    body = [f'<rect width="{width}" height="{height}" rx="2" fill="{TRACK}"/>']
    if fill > 0:
        body.append(f'<rect class="fill" width="{fill:.2f}" height="{height}" rx="2" fill="{color}"/>')
    return _svg("bar", width, height, label or pct(share), body)


def stacked_bar(name: str, parts: Sequence[tuple[str, float, str]], *, width: int = 640, label: str = "") -> str:
    """Shares that add up to the whole (the verdicts) as one bar of segments, with a legend below."""
    height, bar_h = 58.0, 26.0
    body, x = [], 0.0
    for part, share, color in parts:
        w = max(0.0, share) * width
        if w > 0:
            body.append(
                f'<rect class="fill" x="{x:.2f}" y="0" width="{w:.2f}" height="{bar_h}" fill="{color}"><title>{e(part)} {pct(share)}</title></rect>'
            )
        x += w
    lx = 0.0
    for part, share, color in parts:
        text = f"{part} {pct(share)}"
        body.append(f'<rect x="{lx:.1f}" y="{bar_h + 14}" width="12" height="12" fill="{color}"/>')
        body.append(_text(lx + 17, bar_h + 24.5, text))
        lx += 17 + text_width(text) + 22
    return _svg(name, max(width, lx), height, label, body)


def bars(name: str, rows: Sequence[tuple[str, float, str]], *, width: int = 640, color: str = BAR, label: str = "") -> str:
    """Labelled horizontal bars, each a share of the whole drawn to scale (the track is 100%), its figure after it."""
    row_h, bar_h = 24.0, 14.0
    left = min(260.0, max((text_width(r[0]) for r in rows), default=0.0) + 10)
    track = width - left - 110
    body = []
    for i, (text, share, figure) in enumerate(rows):
        y = i * row_h
        body.append(_text(left - 8, y + 15, text, anchor="end"))
        body.append(f'<rect x="{left}" y="{y + 4}" width="{track:.1f}" height="{bar_h}" fill="{TRACK}"/>')
        w = max(0.0, min(1.0, share)) * track
        if w > 0:
            body.append(f'<rect class="fill" x="{left}" y="{y + 4}" width="{w:.2f}" height="{bar_h}" fill="{color}"/>')
        body.append(_text(left + track + 8, y + 15, figure, fill=MUTED))
    return _svg(name, width, max(row_h, len(rows) * row_h), label, body)


def _heat(share: float, top: float) -> str:
    """From the track's grey to deep blue as a share goes from 0 to the map's largest."""
    t = 0.0 if top <= 0 else max(0.0, min(1.0, share / top))
    lo, hi = (0xEE, 0xF1, 0xF5), (0x1F, 0x4E, 0x96)
    r, g, b = (round(a + (z - a) * t) for a, z in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(
    name: str, rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float]], *, label: str = "", cell: int = 56
) -> str:
    """Rows (causes) by columns (segments): each cell the share of the column's accounts, its colour by that share."""
    left = max((text_width(r) for r in rows), default=0.0) + 12
    longest = max((text_width(c) for c in columns), default=0.0)
    head = longest * 0.643 + 16  # the column labels are turned 40 degrees: sin 40 of their length upwards
    row_h = 22
    top = max((v for row in values for v in row), default=0.0)
    body = []
    for j, col in enumerate(columns):
        x = left + j * cell + cell / 2
        body.append(_text(x, head - 6, col, extra=f' transform="rotate(-40 {x:.1f} {head - 6:.1f})"'))
    for i, (row, cells) in enumerate(zip(rows, values, strict=True)):
        y = head + i * row_h
        body.append(_text(left - 8, y + 15, row, anchor="end"))
        for j, share in enumerate(cells):
            fill = _heat(share, top)
            ink = "#ffffff" if top and share / top > 0.55 else INK
            x = left + j * cell
            body.append(
                f'<rect class="cell" x="{x:.1f}" y="{y:.1f}" width="{cell - 2}" height="{row_h - 2}" fill="{fill}">'
                f"<title>{e(row)} · {e(columns[j])}: {pct(share)}</title></rect>"
            )
            body.append(_text(x + (cell - 2) / 2, y + 14.5, pct(share), anchor="middle", fill=ink, size=10))
    width = left + len(columns) * cell + longest * 0.766  # and cos 40 of it to the right
    return _svg(name, width, head + len(rows) * row_h + 4, label, body)


def trend(name: str, days: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]], *, width: int = 720, label: str = "") -> str:
    """Shares per day as lines on a 0-100% axis, with the first and last day named and a legend."""
    height, left, right, top, plot_h = 250.0, 44.0, 16.0, 10.0, 170.0
    plot_w = width - left - right
    n = len(days)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(share: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, share)))

    body = []
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{TRACK}"/>')
        body.append(_text(left - 6, y(tick) + 4, f"{tick * 100:.0f}%", anchor="end", fill=MUTED, size=10))
    for text, color, values in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        body.append(
            f'<polyline class="line" fill="none" stroke="{color}" stroke-width="2" points="{points}"><title>{e(text)}</title></polyline>'
        )
    if days:
        body.append(_text(x(0), top + plot_h + 16, days[0], anchor="start", fill=MUTED, size=10))
        if n > 1:
            body.append(_text(x(n - 1), top + plot_h + 16, days[-1], anchor="end", fill=MUTED, size=10))
    lx = left
    for text, color, _ in series:
        body.append(f'<rect x="{lx:.1f}" y="{height - 26}" width="12" height="12" fill="{color}"/>')
        body.append(_text(lx + 17, height - 15.5, text))
        lx += 17 + text_width(text) + 22
    return _svg(name, width, height, label, body)
