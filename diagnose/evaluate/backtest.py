"""Backtest a pack change: replay labelled cases through the old and the new pack, and say which answers changed.

The baseline is a pack folder, or `git:REV` for the same pack folder at a git revision: its
files are taken with `git archive` into a temporary folder, read, and the folder removed; the
working tree is never touched.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.errors import UsageError
from diagnose.evaluate.labels import Case, Label, Problems
from diagnose.evaluate.metrics import Metrics, Outcome, Tally
from diagnose.evaluate.run import outcome, pack_name

if TYPE_CHECKING:
    from diagnose.api import CompiledPack

KINDS = ("newly right", "newly wrong", "changed")
"""A changed answer: right now and wrong before, wrong now and right before, or wrong both times."""


@dataclass(frozen=True)
class Change:
    """One case whose first-ranked cause changed."""

    source: str
    account: str
    label: Label
    before: str | None
    after: str | None
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "account": self.account,
            "label": self.label.to_dict(),
            "before": self.before,
            "after": self.after,
            "kind": self.kind,
        }


def change(old: Outcome, new: Outcome) -> Change | None:
    if old.first == new.first:
        return None
    kind = "newly right" if new.top1 and not old.top1 else "newly wrong" if old.top1 and not new.top1 else "changed"
    return Change(new.source, new.account, new.label, old.first, new.first, kind)


@dataclass
class Backtest:
    """The measures of both packs on the same cases, and the cases whose answer changed (the first `keep` of them listed)."""

    baseline: Metrics
    new: Metrics
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    listed: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(self.counts.values())

    @property
    def regressed(self) -> bool:
        """Some case went from right to wrong, or top-1 accuracy fell."""
        return self.counts["newly wrong"] > 0 or self.new.tally.top1 < self.baseline.tally.top1

    def deltas(self) -> list[dict[str, Any]]:
        """Per cause whose numbers moved: support, and recall, precision and F1 before and after."""
        old = {c.cause: c for c in self.baseline.causes()}
        out = []
        for c in self.new.causes():
            b = old.get(c.cause)
            pairs = {
                "recall": (b.recall.value if b else None, c.recall.value),
                "precision": (b.precision.value if b else None, c.precision.value),
                "f1": (b.f1 if b else None, c.f1),
            }
            if all(x == y for x, y in pairs.values()):
                continue
            row: dict[str, Any] = {"cause": c.cause, "support": c.support}
            for name, (x, y) in pairs.items():
                row[name] = {"before": x, "after": y, "delta": round(y - x, 6) if x is not None and y is not None else None}
            out.append(row)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.to_dict(),
            "new": self.new.to_dict(),
            "changed": self.changed,
            "newly_right": self.counts["newly right"],
            "newly_wrong": self.counts["newly wrong"],
            "changed_still_wrong": self.counts["changed"],
            "top1_delta": round((self.new.top1.value or 0) - (self.baseline.top1.value or 0), 6),
            "cause_deltas": self.deltas(),
            "changes": [c.to_dict() for c in self.listed],
        }


def backtest(
    new: CompiledPack,
    old: CompiledPack,
    cases: Iterable[Case],
    problems: Problems,
    *,
    keep: int = 50,
    on_change: Callable[[Change], None] | None = None,
    old_where: str | None = None,
    new_where: str | None = None,
) -> Backtest:
    """Both packs on every case, in one pass; every change goes to ``on_change``, the first ``keep`` are listed."""
    t_old, t_new = Tally(), Tally()
    result = Backtest(Metrics(pack_name(old), t_old, old_where), Metrics(pack_name(new), t_new, new_where))
    for case in cases:
        a = outcome(old, case, problems)
        b = outcome(new, case, problems) if a is not None else None
        if a is None or b is None:
            continue
        t_old.add(a)
        t_new.add(b)
        ch = change(a, b)
        if ch is None:
            continue
        result.counts[ch.kind] += 1
        if len(result.listed) < keep:
            result.listed.append(ch)
        if on_change is not None:
            on_change(ch)
    problems.raise_any()
    return result


# --- the baseline pack ------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=120)
    except FileNotFoundError:
        raise UsageError("git is not installed: a git: baseline needs it", hint="install git, or pass a pack folder") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {args[0]} took over two minutes") from None
    if done.returncode != 0:
        msg = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {msg[-1] if msg else done.returncode}", source=str(cwd))
    return done.stdout


def load_baseline(spec: str, current: Path) -> tuple[CompiledPack, str]:
    """The baseline pack of --baseline: a folder, or `git:REV` (the pack folder ``current`` at revision REV); and its name."""
    from diagnose.api import CompiledPack
    from diagnose.pack.loader import load

    if not spec.startswith("git:"):
        return CompiledPack.from_pack(load(spec)), spec
    rev = spec[4:]
    if not rev or rev.startswith("-"):
        raise UsageError(f"--baseline {spec}: name a revision, e.g. git:HEAD~1 or git:v1.2.0")
    folder = current.resolve()
    top = Path(_git(["rev-parse", "--show-toplevel"], folder).decode().strip())
    rel = folder.relative_to(top.resolve()).as_posix()
    _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], folder)
    blob = _git(["archive", "--format=tar", rev, "--", rel or "."], top)
    with tempfile.TemporaryDirectory(prefix="diagnose-baseline-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            tar.extractall(tmp, filter="data")  # refuses links and paths that leave the folder
        root = Path(tmp) / rel
        if not (root / "pack.yaml").is_file():
            raise UsageError(f"{rel or '.'} holds no pack.yaml at {rev}", source=str(top))
        pack = CompiledPack.from_pack(load(root))
    return pack, f"{current} at {rev}"
