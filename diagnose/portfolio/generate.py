"""Seeded synthetic snapshots for tests and benchmarks: healthy accounts and every cause, varied, some lines corrupted.

The templates are the example snapshots of the repository (`examples/*.json`): one healthy
account and at least one example per cause of the default pack. Each template is varied by
shifting all its dates by whole days and scaling its money by a whole factor; a variant is
kept only when the pack still gives it the same verdict and the same causes, so every cause
stays represented. Each generated account gets its own id. Output is JSON Lines, one
snapshot a line, the same for the same seed and options.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from diagnose.errors import InvalidInput, UsageError

if TYPE_CHECKING:
    from diagnose.api import CompiledPack

SHIFTS = (0, -7, -30, -91, -182, -364)
"""Whole days every date and time of a template moves by."""
SCALES = (1, 2, 3)
"""Whole factors money amounts are multiplied by (whole, so sums and differences stay exact)."""
_MONEY: dict[str, frozenset[str]] = {
    "line": frozenset({"total_limit", "used", "available", "previous_total_limit", "single_draw_cap"}),
    "temporary_limit": frozenset({"amount"}),
    "request": frozenset({"amount"}),
    "repayments": frozenset({"amount", "applied_to_principal", "applied_to_fees"}),
    "loans": frozenset({"principal", "outstanding", "overdue_amount", "fees_outstanding"}),
    "credit": frozenset({"monthly_income", "monthly_debt_service", "income_avg_3y", "total_online_outstanding"}),
}
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})([Tt ].*)?$")
_ID = "@@ACCOUNT_ID@@"
CORRUPTIONS = (
    "truncated",
    "negative_money",
    "text_for_number",
    "naive_time",
    "missing_id",
    "not_an_object",
    "nan",
    "duplicate_key",
    "not_json",
)


def default_examples() -> Path:
    """The example snapshots: shipped inside the package, or the repository's examples/ beside it."""
    here = Path(__file__).resolve().parent.parent  # the package folder
    for candidate in (here / "examples", here.parent / "examples"):
        if candidate.is_dir():
            return candidate
    return here.parent / "examples"


@dataclass(frozen=True)
class Template:
    """One example snapshot and what the pack makes of it."""

    name: str
    data: dict[str, Any]
    verdict: str
    causes: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return not self.causes


class Line(NamedTuple):
    """One generated line: its text (no newline), and the kind of corruption if it was corrupted on purpose."""

    text: str
    corrupt: str | None
    template: str


def _outcome(pack: CompiledPack, data: Any) -> tuple[str, tuple[str, ...]] | None:
    try:
        report = pack.diagnose(data)
    except InvalidInput:
        return None
    return report.verdict, tuple(f.rule_id for f in report.findings)


def load_templates(pack: CompiledPack, folder: Path | None = None) -> list[Template]:
    """Every valid example snapshot of ``folder`` with the verdict and causes the pack gives it."""
    folder = folder or default_examples()
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise UsageError(
            "no example snapshots to generate from",
            source=str(folder),
            hint="pass --examples with a folder of snapshot .json files (the repository's examples/ folder)",
        )
    out = []
    for path in files:
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        got = _outcome(pack, data)
        if got is not None:
            out.append(Template(path.stem, data, got[0], got[1]))
    if not any(t.healthy for t in out) or all(t.healthy for t in out):
        raise UsageError(
            "the examples need at least one healthy snapshot and one with a cause",
            source=str(folder),
            hint="see examples/ in the repository",
        )
    return out


def _shift_dates(node: Any, days: int) -> Any:
    if isinstance(node, dict):
        return {k: _shift_dates(v, days) for k, v in node.items()}
    if isinstance(node, list):
        return [_shift_dates(v, days) for v in node]
    if isinstance(node, str):
        m = _DATE_PREFIX.match(node)
        if m is not None:
            try:
                day = date.fromisoformat(m.group(1))
            except ValueError:
                return node
            return (day + timedelta(days=days)).isoformat() + (m.group(2) or "")
    return node


def _scale_money(node: Any, factor: int, parent: str = "") -> Any:
    if isinstance(node, dict):
        money = _MONEY.get(parent, frozenset())
        return {
            k: v * factor if k in money and isinstance(v, (int, float)) and not isinstance(v, bool) else _scale_money(v, factor, k)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_scale_money(v, factor, parent) for v in node]
    return node


def variants(pack: CompiledPack, template: Template) -> list[dict[str, Any]]:
    """The shifted and scaled copies of a template that keep its verdict and causes (the template itself first)."""
    out = []
    for days in SHIFTS:
        shifted = _shift_dates(template.data, days) if days else template.data
        for factor in SCALES:
            data = _scale_money(shifted, factor) if factor != 1 else shifted
            if (days == 0 and factor == 1) or _outcome(pack, data) == (template.verdict, template.causes):
                out.append(data)
    return out


class Generator:
    """Seeded snapshot lines: a share of healthy accounts, the rest dealt from every cause template in turn."""

    def __init__(self, pack: CompiledPack, templates: Sequence[Template], *, seed: int = 0, healthy_share: float = 0.3) -> None:
        if not 0 <= healthy_share <= 1:
            raise UsageError(f"the healthy share must be between 0 and 1 (got {healthy_share})")
        self.seed = seed
        self.healthy_share = healthy_share
        self.healthy: list[tuple[str, list[str]]] = []
        self.causes: list[tuple[str, list[str]]] = []
        for t in templates:
            texts = [_text(v) for v in variants(pack, t)]
            (self.healthy if t.healthy else self.causes).append((t.name, texts))

    def lines(self, count: int, *, corrupt_rate: float = 0.0) -> Iterator[Line]:
        """``count`` lines; exactly round(count × corrupt_rate) of them corrupted, at seeded positions."""
        if count < 0:
            raise UsageError(f"the count must be 0 or more (got {count})")
        if not 0 <= corrupt_rate <= 1:
            raise UsageError(f"the corrupt rate must be between 0 and 1 (got {corrupt_rate})")
        rng = random.Random(self.seed)
        picks = random.Random(f"{self.seed}/corrupt")
        to_corrupt = round(count * corrupt_rate)
        deck: list[tuple[str, list[str]]] = []
        for i in range(count):
            if rng.random() < self.healthy_share or not self.causes:
                name, texts = rng.choice(self.healthy)
            else:
                if not deck:  # every cause template once per round, in a seeded order
                    deck = list(self.causes)
                    rng.shuffle(deck)
                name, texts = deck.pop()
            text = rng.choice(texts).replace(_ID, f"acct-{rng.getrandbits(48):012x}", 1)
            kind = None
            if to_corrupt and picks.random() * (count - i) < to_corrupt:  # selection sampling: an exact count
                to_corrupt -= 1
                kind = picks.choice(CORRUPTIONS)
                text = corrupt(text, kind, picks)
            yield Line(text, kind, name)


def _text(data: dict[str, Any]) -> str:
    data = copy.deepcopy(data)
    if isinstance(data.get("account"), dict):
        data["account"]["id"] = _ID
    return orjson.dumps(data).decode()


def corrupt(text: str, kind: str, rng: random.Random) -> str:
    """A snapshot line broken in one of the ways real exports break, still on one line."""
    if kind == "truncated":
        return text[: rng.randrange(1, max(2, len(text) - 1))]
    if kind == "not_an_object":
        return "[" + text + "]"
    if kind == "not_json":
        return "account export failed: timeout after 30s"
    if kind == "duplicate_key":
        return '{"account":{},' + text[1:]  # `account` is required, so the key is there twice
    data = orjson.loads(text)
    if kind == "negative_money":
        data["line"]["used"] = -abs(data["line"].get("used") or 1)
    elif kind == "text_for_number":
        data["line"]["total_limit"] = f"{data['line'].get('total_limit', 0):,}"
    elif kind == "naive_time":
        data["as_of"] = str(data["as_of"])[:19]
    elif kind == "missing_id":
        del data["account"]["id"]
    elif kind == "nan":
        return orjson.dumps(data).decode().replace('"available":', '"available":NaN,"_was":', 1)
    return orjson.dumps(data).decode()
