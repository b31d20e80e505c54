"""The synthetic snapshot generator: seeded, every cause and healthy accounts, exact corruption, and its command."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

import pytest

import diagnose
from diagnose.api import CompiledPack
from diagnose.cli import main
from diagnose.errors import InvalidInput
from diagnose.portfolio.generate import CORRUPTIONS, Generator, corrupt, default_examples, load_templates, variants
from diagnose.snapshot.reader import parse


@pytest.fixture(scope="module")
def gen(pack: CompiledPack) -> Generator:
    return Generator(pack, load_templates(pack), seed=11)


def _diagnose(pack: CompiledPack, text: str) -> diagnose.Report:
    return pack.diagnose(parse(text, "generated"))


def test_same_seed_gives_the_same_lines_and_another_seed_others(pack: CompiledPack, gen: Generator) -> None:
    again = Generator(pack, load_templates(pack), seed=11)
    other = Generator(pack, load_templates(pack), seed=12)
    first = [line.text for line in gen.lines(200, corrupt_rate=0.05)]
    assert first == [line.text for line in again.lines(200, corrupt_rate=0.05)]
    assert first != [line.text for line in other.lines(200, corrupt_rate=0.05)]


def test_every_cause_of_the_pack_and_healthy_accounts_appear(pack: CompiledPack, gen: Generator) -> None:
    fired: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    ids = set()
    lines = list(gen.lines(240))
    for line in lines:
        report = _diagnose(pack, line.text)
        verdicts[report.verdict] += 1
        fired.update(f.rule_id for f in report.findings)
        ids.add(report.snapshot.account_id)
    assert set(fired) == {cr.rule.id for cr in pack.rules}
    assert verdicts["healthy"] >= 240 * 0.15  # the default healthy share is 0.3
    assert verdicts["blocked"] and verdicts["restricted"]
    assert len(ids) == len(lines)  # every account has its own id


def test_variants_keep_the_template_verdict_and_causes(pack: CompiledPack) -> None:
    templates = load_templates(pack)
    t = next(t for t in templates if t.name == "liq-funder-quota")
    found = variants(pack, t)
    assert found[0] == t.data and len(found) > 1
    for data in found:
        report = pack.diagnose(data)
        assert (report.verdict, tuple(f.rule_id for f in report.findings)) == (t.verdict, t.causes)
    dates = {d["as_of"] for d in found}
    limits = {d["line"]["total_limit"] for d in found}
    assert len(dates) > 1 and len(limits) > 1  # varied in time and in money


def test_corruption_is_exact_in_count_and_every_corrupted_line_is_rejected(pack: CompiledPack, gen: Generator) -> None:
    lines = list(gen.lines(400, corrupt_rate=0.05))
    bad = [line for line in lines if line.corrupt]
    assert len(bad) == 20
    for line in lines:
        assert "\n" not in line.text and line.text.strip() == line.text
        if line.corrupt:
            with pytest.raises(InvalidInput):
                _diagnose(pack, line.text)
        else:
            _diagnose(pack, line.text)


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_each_kind_of_corruption_breaks_the_snapshot(pack: CompiledPack, kind: str) -> None:
    text = (default_examples() / "healthy.json").read_text(encoding="utf-8")
    line = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    broken = corrupt(line, kind, random.Random(3))
    assert "\n" not in broken and broken != line
    with pytest.raises(InvalidInput):
        _diagnose(pack, broken)


def test_generate_command_writes_json_lines_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["generate", "--count", "25", "--seed", "4", "--corrupt-rate", "0.2"])
    out, err = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 25 and out.endswith("\n")
    assert err == "generated 25 snapshots (5 corrupted, seed 4)\n"
    pack = diagnose.load_pack()
    expected = [line.text for line in Generator(pack, load_templates(pack), seed=4).lines(25, corrupt_rate=0.2)]
    assert lines == expected


def test_generate_command_writes_gzip_when_the_name_ends_in_gz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "snaps.jsonl.gz"
    assert main(["generate", "-n", "10", "--seed", "1", "-o", str(target), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    lines = gzip.decompress(target.read_bytes()).decode().splitlines()
    assert len(lines) == 10 and all(json.loads(x)["schema_version"] == "1" for x in lines)


def test_generate_command_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--corrupt-rate", "2"]) == 2
    assert "--corrupt-rate" in capsys.readouterr().err
    assert main(["generate", "--examples", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no example snapshots to generate from" in err and "help: pass --examples" in err
