"""Growth with the pack and with the snapshot: per-record cost at 3,900 rules vs 390, and a 10,000-item snapshot's parse vs a 1,000-item one.

Rules: the default pack's rules replicated (10 and 100 copies of each, every copy's rule ids
renamed, references between rules too) into a pack folder in a temporary directory, loaded by
the normal loader. Each pack diagnoses the same generated snapshots through the batch core with
one worker, in a fresh process (so that one pack's heap does not weigh on the other's run);
the CPU time per record and per rule and record are printed, and their ratio. Linear growth is
10.0 x for 10 x the rules; the issue asks for <= 10.5 x.

Size: the healthy example with 1,000 and 10,000 repayments (about 350 KB and 3.5 MB). The
reader (`reader.load`: parse and exactness checks), the contract's validation and the facts
are timed on each (the fastest of five calls a run), next to a plain `orjson.loads` of the same
bytes; per KB, and the ratio.
Linear is 10 x (the size ratio is printed, since the two are not exactly 10 x apart).

    python bench/scaling.py                  # both; 3 interleaved runs, medians and spreads
    python bench/scaling.py --repeat 5
    python bench/scaling.py --only rules     # or: --only size
    PYTHONPATH=/path/to/other/checkout python bench/scaling.py   # the same measure of other code
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("PYTHONPATH"):  # PYTHONPATH chooses the code measured (e.g. an older checkout for "before")
    sys.path.insert(0, str(ROOT))


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _spread(values: list[float], fmt: str) -> str:
    return f"{format(_median(values), fmt)} (median of {len(values)}, {format(min(values), fmt)}-{format(max(values), fmt)})"


# --- rules ------------------------------------------------------------------------------


def _replicated_pack(dest: Path, copies: int) -> int:
    """The default pack with each rule ``copies`` times (ids renamed with -R<k>, and every mention of them); returns the rule count."""
    import yaml

    src = ROOT / "rules"
    dest.mkdir(parents=True)
    for item in src.iterdir():
        if item.is_dir():
            (dest / item.name).symlink_to(item.resolve())
        elif item.suffix not in (".yaml", ".yml") or item.name == "pack.yaml":
            (dest / item.name).write_bytes(item.read_bytes())
    (dest / "pack.yaml").write_bytes((src / "pack.yaml").read_bytes())
    total = 0
    files = sorted(p for p in src.glob("*.yaml") if p.name != "pack.yaml")
    ids = [r["id"] for p in files for r in (yaml.safe_load(p.read_text(encoding="utf-8")).get("rules") or [])]
    mention = re.compile(r"\b(" + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + r")\b")
    for path in files:  # copy 0 is the file itself; each other copy goes in a file of its own (a file's size is bounded)
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        rules = doc.get("rules") or []
        (dest / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
        for first in range(1, copies, 10):  # ten copies a file: within a pack's bounds on files and on their size
            renamed = [
                json.loads(mention.sub(lambda m, k=k: f"{m.group(1)}-R{k}", json.dumps(rule, ensure_ascii=False)))
                for k in range(first, min(first + 10, copies))
                for rule in rules
            ]
            for rule in renamed:  # the examples are for `rules test`, not for diagnosing: left out, within the pack's size bound
                rule.pop("examples", None)
            text = json.dumps({"rules": renamed}, ensure_ascii=False)  # JSON is YAML, and compact
            (dest / f"{path.stem}-r{first}.yaml").write_text(text, encoding="utf-8")
        total += len(rules) * copies
    return total


def _rules_child(pack_dir: str, inp: str) -> None:
    """One measured run in a fresh process: the batch core, one worker, over the file; CPU time of the run only."""
    import diagnose
    from diagnose.pack import loader
    from diagnose.portfolio import batch as core

    # 3,900 rules with their words in two languages pass the bound a pack's files have together
    # (a guard against hostile packs, not a limit of the engine): raised for this measure only.
    loader.MAX_PACK_BYTES = 100_000_000
    pack = diagnose.load_pack(pack_dir)
    with open(os.devnull, "wb") as out, open(os.devnull, "wb") as err:
        cpu0 = _cpu()
        result = core.run(core.iter_records(core.check_inputs([inp])), core.Sinks(out, err), pack, workers=1)
        cpu = _cpu() - cpu0
    json.dump({"cpu": cpu, "read": result.read, "diagnosed": result.diagnosed}, sys.stdout)


def _rules(repeat: int, n: int, tmp: Path) -> None:
    import diagnose
    from diagnose.portfolio.generate import Generator, load_templates

    pack = diagnose.load_pack()
    gen = Generator(pack, load_templates(pack), seed=1)
    inp = tmp / "records.jsonl"
    with inp.open("wb") as fh:
        for line in gen.lines(n, corrupt_rate=0.0):
            fh.write(line.text.encode() + b"\n")
    packs = {}
    for copies in (10, 100):
        packs[copies] = (tmp / f"pack-{copies}", _replicated_pack(tmp / f"pack-{copies}", copies))
    env = dict(os.environ, DIAGNOSE_CACHE_DIR=str(tmp / "cache"))
    for pack_dir, _ in packs.values():  # compile once, so that no run pays for filling the pack cache
        done = subprocess.run([sys.executable, __file__, "--rules-child", str(pack_dir), str(inp)], capture_output=True, text=True, env=env)
        if done.returncode:
            sys.exit(f"error: the pack {pack_dir.name} did not run:\n{done.stderr[-2000:]}")
    cpu: dict[int, list[float]] = {c: [] for c in packs}
    for _ in range(repeat):  # interleaved, so that a busy spell on the machine hits both
        for copies, (pack_dir, _) in packs.items():
            cmd = [sys.executable, __file__, "--rules-child", str(pack_dir), str(inp)]
            done = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
            if done["diagnosed"] != n:
                sys.exit(f"error: {done['diagnosed']} of {n} records diagnosed with {packs[copies][1]} rules")
            cpu[copies].append(done["cpu"])
    print(f"\nper-record cost with the pack's rules replicated ({n:,} records, the batch core with 1 worker, CPU time)")
    for copies, (_, rules) in packs.items():
        per = [1e6 * c / n for c in cpu[copies]]
        per_rule = [p / rules for p in per]
        print(f"  {rules:>6,} rules: {_spread(per, ',.0f')} us a record, {_spread(per_rule, '.3f')} us a rule and record")
    (lo, (_, lo_rules)), (hi, (_, hi_rules)) = packs.items()
    ratios = [b / a for a, b in zip(cpu[lo], cpu[hi], strict=True)]
    print(
        f"  {hi_rules:,} rules vs {lo_rules:,}: {_spread(ratios, '.2f')} x for {hi_rules / lo_rules:.0f} x the rules"
        " (goal <= 10.5, linear is 10.0)"
    )


# --- size -------------------------------------------------------------------------------

_CHANNELS = ("balance", "bank_card", "auto_debit", "interbank")


def _big_snapshot(items: int) -> bytes:
    import orjson

    doc: dict[str, Any] = orjson.loads((ROOT / "examples" / "healthy.json").read_bytes())
    doc = copy.deepcopy(doc)
    doc["repayments"] = [
        {
            "id": f"rp-2024-{i:08d}-{_CHANNELS[i % 4]}-settlement-{i % 97:02d}-[ok]",
            "amount": 1000 + i % 977 + 0.25,
            "channel": _CHANNELS[i % 4],
            "submitted_at": f"2024-0{1 + i % 2}-{1 + i % 28:02d}T{i % 24:02d}:15:00+08:00",
            "posted_at": f"2024-0{1 + i % 2}-{1 + i % 28:02d}T{i % 24:02d}:15:40.250+08:00",
            "status": "posted",
            "applied_to_principal": 1000 + i % 977,
            "applied_to_fees": 0.25,
        }
        for i in range(items)
    ]
    return orjson.dumps(doc)


_TRIES = 5
"""Calls of a stage in a run, of which the fastest counts: what a busy spell on a shared machine leaves alone."""


def _size(repeat: int) -> None:
    import orjson

    from diagnose.snapshot import contract, facts, reader

    raws = {items: _big_snapshot(items) for items in (1_000, 10_000)}
    stages: dict[str, Any] = {
        "orjson.loads (the floor)": orjson.loads,
        "reader.load (parse + exactness)": lambda raw: reader.load(raw, "snapshot"),
        "the contract's validation": None,
        "facts.derive": None,
    }
    timings: dict[tuple[str, int], list[float]] = {}
    for _ in range(repeat):
        for items, raw in raws.items():
            data = reader.load(raw, "snapshot")
            valid = contract.checked(data)[0]
            for name, fn in stages.items():
                if name == "the contract's validation":
                    arg, call = data, lambda d: contract.checked(d)
                elif name == "facts.derive":
                    arg, call = valid, facts.derive
                else:
                    arg, call = raw, fn
                tries = []
                for _ in range(_TRIES):
                    cpu0 = _cpu()
                    call(arg)
                    tries.append(_cpu() - cpu0)
                timings.setdefault((name, items), []).append(min(tries))
    lo, hi = raws
    size_ratio = len(raws[hi]) / len(raws[lo])
    print(
        f"\na snapshot of {hi:,} repayments ({len(raws[hi]) / 1e6:.1f} MB) vs one of {lo:,} ({len(raws[lo]) / 1e3:.0f} KB): {size_ratio:.2f} x the bytes"
    )
    for name in stages:
        per_kb = {items: [1e6 * t / (len(raws[items]) / 1024) for t in timings[(name, items)]] for items in raws}
        ratios = [b / a for a, b in zip(timings[(name, lo)], timings[(name, hi)], strict=True)]
        print(
            f"  {name:32s} {_median(timings[(name, lo)]) * 1e3:7.2f} ms / {_median(timings[(name, hi)]) * 1e3:8.2f} ms;"
            f" {_median(per_kb[lo]):5.2f} / {_median(per_kb[hi]):5.2f} us a KB; {_spread(ratios, '.1f')} x"
        )
    parse = [
        b / a
        for a, b in zip(timings[("reader.load (parse + exactness)", lo)], timings[("reader.load (parse + exactness)", hi)], strict=True)
    ]
    floor = timings[("orjson.loads (the floor)", hi)]
    checks = [(t - f) / f for t, f in zip(timings[("reader.load (parse + exactness)", hi)], floor, strict=True)]
    print(
        f"  parse growth {_median(parse):.1f} x for {size_ratio:.1f} x the bytes (goal: linear); the exactness checks cost {_spread(checks, '.2f')} x orjson's parse"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--records", type=int, default=1_000, help="records of the rule-count runs")
    parser.add_argument("--only", choices=("rules", "size"), default=None)
    parser.add_argument("--rules-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rules_child:
        _rules_child(*args.rules_child)
        return
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs{load}; code from {os.environ.get('PYTHONPATH') or ROOT}")
    if args.only in (None, "size"):
        _size(args.repeat)
    if args.only in (None, "rules"):
        with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
            t0 = time.perf_counter()
            _rules(args.repeat, args.records, Path(tmp))
            print(f"  ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
