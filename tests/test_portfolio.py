"""Portfolio analytics: segments echoed in reports, `--by` breakdowns that add up, the flat export, the manager's HTML page."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from diagnose.api import CompiledPack
from diagnose.portfolio import flat
from diagnose.portfolio.generate import Generator, load_templates
from diagnose.portfolio.segments import By, period
from diagnose.portfolio.summary import reject_reason
from diagnose.portfolio.summary_views import SHOWN_SEGMENTS, WORDS
from diagnose.vocab import SEGMENTS as DEFAULT_SEGMENTS

from .conftest import EXAMPLES, cli, load_json


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory: pytest.TempPathFactory, pack: CompiledPack) -> dict[str, Any]:
    """400 generated snapshots (3% corrupted) through `diagnose batch`, reports and rejections kept."""
    root = tmp_path_factory.mktemp("portfolio")
    gen = Generator(pack, load_templates(pack), seed=5)
    src = root / "in.jsonl"
    src.write_text("".join(line.text + "\n" for line in gen.lines(400, corrupt_rate=0.03)), encoding="utf-8")
    return {"root": root, "input": src}


def run_batch(capsys: pytest.CaptureFixture[str], src: Path, out: Path, *args: str | Path) -> tuple[int, str, str]:
    return cli(capsys, "batch", src, "-o", out, "-e", out.with_suffix(".err.jsonl"), "-w", "1", *args)


def reports_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


# --- 1. segments in the report -----------------------------------------------------------


def test_a_report_echoes_the_segment_fields_of_its_snapshot(pack: CompiledPack) -> None:
    snap = load_json(EXAMPLES / "contract-example.json")
    report = pack.diagnose(snap)
    newest = max(snap["repayments"], key=lambda r: r["submitted_at"])
    assert report.segments == {
        "product": snap["account"]["product"],
        "region": snap["account"]["region"],
        "funder": snap["funding"]["funder"],
        "funding_model": snap["funding"]["model"],
        "tier": snap["credit"]["tier"],
        "channel": newest["channel"],
        "currency": snap["line"].get("currency", "CNY"),
    }
    assert list(json.loads(report.to_json())["segments"]) == [name for name, _ in DEFAULT_SEGMENTS]
    # what is not known is null, not guessed
    del snap["funding"], snap["repayments"]
    bare = pack.diagnose(snap).segments
    assert bare["funder"] is None and bare["funding_model"] is None and bare["channel"] is None
    # the customer's view does not name the funder or the tier
    assert pack.diagnose(load_json(EXAMPLES / "contract-example.json"), audience="customer").segments == {}


def _pack_dir(tmp_path: Path, extra: str) -> Path:
    folder = tmp_path / "pack"
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text("name: private\nversion: '1'\nextends: default\n" + extra, encoding="utf-8")
    return folder


def test_a_sensitive_field_is_not_echoed_unless_the_pack_allows_it_and_then_redaction_hashes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    example = EXAMPLES / "contract-example.json"
    region = load_json(example)["account"]["region"]
    hidden = _pack_dir(tmp_path / "a", "sensitive:\n  - account.region\n  - funding\n")
    code, out, _ = cli(capsys, "run", example, "--rules", hidden, "-f", "json")
    segments = json.loads(out)["segments"]
    assert code == 0 and "region" not in segments and "funder" not in segments and "funding_model" not in segments
    assert region not in json.dumps(segments)
    allowed = _pack_dir(tmp_path / "b", "sensitive:\n  - account.region\nsegments:\n  - account.region\n  - credit.score\n")
    plain = json.loads(cli(capsys, "run", example, "--rules", allowed, "-f", "json")[1])["segments"]
    assert plain["region"] == region and plain["credit.score"] == load_json(example)["credit"]["score"]
    code, out, _ = cli(capsys, "run", example, "--rules", allowed, "-f", "json", "--redact")
    redacted = json.loads(out)["segments"]
    assert code == 0 and redacted["region"].startswith("redacted:") and region not in out
    assert redacted["product"] == plain["product"]  # what is not sensitive stays readable
    bad = _pack_dir(tmp_path / "c", "segments:\n  - account.nowhere\n")
    code, _, err = cli(capsys, "run", example, "--rules", bad)
    assert code == 3 and "`segments` names unknown fact `account.nowhere`" in err


# --- 2. --by ------------------------------------------------------------------------------


def _add_up(data: dict[str, Any]) -> None:
    """Every count of the segments adds up to the whole summary's."""
    segs = data["segments"]["segments"]
    assert data["segments"]["reconciled"] is True
    assert sum(s["accounts"] for s in segs) == data["counts"]["diagnosed"]
    assert sum(s["no_cause"] for s in segs) == data["no_cause"]
    for whole in data["verdicts"]:
        assert sum(r["accounts"] for s in segs for r in s["verdicts"] if r["name"] == whole["name"]) == whole["accounts"]
    for whole in data["causes"]:
        rows = [r for s in segs for r in s["causes"] if r["name"] == whole["name"]]
        assert sum(r["accounts"] for r in rows) == whole["accounts"] and sum(r["top"] for r in rows) == whole["top"]


def test_by_segments_add_up_to_the_unsliced_summary_and_match_a_recount(
    portfolio: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    root, src = portfolio["root"], portfolio["input"]
    code, whole_json, _ = run_batch(capsys, src, root / "whole.jsonl", "--summary", "-f", "json")
    assert code == 0
    whole = json.loads(whole_json)
    assert whole["segments"] is None
    code, sliced_json, _ = run_batch(capsys, src, root / "sliced.jsonl", "--summary", "-f", "json", "--by", "region,tier")
    assert code == 0
    sliced = json.loads(sliced_json)
    assert {k: v for k, v in sliced.items() if k != "segments"} == {k: v for k, v in whole.items() if k != "segments"}
    _add_up(sliced)
    assert sliced["segments"]["by"] == ["region", "tier"] and len(sliced["segments"]["segments"]) > 5
    # a recount from the reports themselves, grouped by their echoed segments
    recount: Counter[tuple[Any, ...]] = Counter()
    causes: Counter[tuple[Any, ...]] = Counter()
    for r in reports_of(root / "sliced.jsonl"):
        key = (r["segments"]["region"], r["segments"]["tier"])
        recount[key] += 1
        causes.update((*key, rid) for rid in {f["rule_id"] for f in r["findings"]})
    got = {tuple(s["key"]): s for s in sliced["segments"]["segments"]}
    assert {k: s["accounts"] for k, s in got.items()} == dict(recount)
    assert {(*k, c["name"]): c["accounts"] for k, s in got.items() for c in s["causes"]} == dict(causes)
    for s in got.values():
        assert all(c["share"] == pytest.approx(c["accounts"] / s["accounts"]) for c in s["causes"])
    # summarize over the saved reports gives the same breakdown
    code, again, _ = cli(capsys, "summarize", root / "sliced.jsonl", "-e", root / "sliced.err.jsonl", "-f", "json", "--by", "region,tier")
    assert code == 0 and json.loads(again) == sliced


def test_by_periods_and_fact_paths(portfolio: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    root, src = portfolio["root"], portfolio["input"]
    out = root / "facts.jsonl"
    code, text, err = run_batch(capsys, src, out, "--summary", "-f", "json", "--by", "line.status,week")
    assert code == 0, err
    data = json.loads(text)
    _add_up(data)
    reports = reports_of(out)
    assert all("line.status" in r["segments"] for r in reports)  # the batch echoes what it groups by
    expected = Counter((r["segments"]["line.status"], period(r["snapshot"]["as_of"], "week")) for r in reports)
    assert {tuple(s["key"]): s["accounts"] for s in data["segments"]["segments"]} == dict(expected)
    assert all(re.fullmatch(r"\d{4}-W\d\d", s["key"][1]) for s in data["segments"]["segments"])
    month = json.loads(cli(capsys, "summarize", out, "-f", "json", "--by", "as_of:month")[1])
    _add_up(month)
    assert {s["key"][0] for s in month["segments"]["segments"]} == {r["snapshot"]["as_of"][:7] for r in reports}
    # a fact no report echoes is refused, not shown as one unknown segment
    code, _, err = cli(capsys, "summarize", out, "--by", "credit.score")
    assert code == 2 and "no report has it among its segments" in err
    for bad, message in (("nope", "not a segment, a period or a fact"), ("as_of:year", "day, week or month"), ("region,region", "twice")):
        code, _, err = cli(capsys, "summarize", out, "--by", bad)
        assert code == 2 and message in err, err
    code, _, err = cli(capsys, "batch", src, "-o", root / "x.jsonl", "--by", "region")
    assert code == 2 and "add --summary" in err


def test_by_key_of_a_report() -> None:
    by = By.parse("region,day,month,week")
    assert by.fields == ("region", "as_of:day", "as_of:month", "as_of:week")
    assert by.key("2024-12-30T23:00:00+08:00", {"region": "CN-GD"}) == ("CN-GD", "2024-12-30", "2024-12", "2025-W01")
    assert By.parse("account.region").fields == ("region",)  # a default segment by its path is that segment
    assert By.parse("tier").key("2024-01-01T00:00:00Z", {}) == (None,)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_by_view_does_not_cut_text_at_80_columns(portfolio: dict[str, Any], capsys: pytest.CaptureFixture[str], lang: str) -> None:
    from diagnose.portfolio.summary import SummaryFormat, Tally, summarize
    from diagnose.portfolio.summary_views import render_segments

    root, src = portfolio["root"], portfolio["input"]
    out = root / f"view-{lang}.jsonl"
    assert run_batch(capsys, src, out)[0] == 0
    tally = Tally(by=By.parse("funder,channel"))
    for r in reports_of(out):
        tally.add_dict(r)
    text = render_segments(summarize(tally), SummaryFormat.rich, lang=lang, width=80)
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 80
    words = WORDS[lang]
    assert words["top_causes"] in text and words["reconciled"] in text
    shown = summarize(tally).segments
    assert shown is not None
    for segment in shown.segments[:SHOWN_SEGMENTS]:
        for value in segment.key:
            assert value is None or value in text  # every value whole, on a line of its own if need be
    md = render_segments(summarize(tally), SummaryFormat.markdown, lang=lang)
    assert md.startswith("\n## ") and md.count("\n|") > 10


def test_reject_reasons_drop_the_values() -> None:
    def rec(path: str, message: str, kind: str = "invalid_input") -> dict[str, Any]:
        return {"error": kind, "problems": [{"path": path, "message": message}]}

    assert reject_reason(rec("line.used", "must be >= 0 (got -9000)")) == reject_reason(rec("line.used", "must be >= 0 (got -5)"))
    assert reject_reason(rec("line.used", "must be >= 0 (got -5)")) == "line.used: must be >= N"
    assert reject_reason(rec("", "broken JSON: Expecting value: line 1 column 2")) == "broken JSON"
    assert reject_reason(rec("", "duplicate key 'account' in one object")) == "duplicate key in one object"
    assert reject_reason(rec("as_of", "time '2024-03-05T14:20:00' has no UTC offset; add one")) == "as_of: time has no UTC offset"
    assert reject_reason(rec("", "x", "internal_error")) == "internal error"
    assert reject_reason({"problems": []}) == "invalid record"


# --- 3. the flat export -------------------------------------------------------------------

CSV_DTYPES = {"account_id": "string", "verdict": "string", "top_cause": "string", "top_family": "string", "source_file": "string"}


def test_flat_export_reads_back_in_pandas_and_pyarrow_with_the_documented_columns_and_types(
    portfolio: dict[str, Any], capsys: pytest.CaptureFixture[str], pack: CompiledPack
) -> None:
    pd = pytest.importorskip("pandas")
    root, src = portfolio["root"], portfolio["input"]
    folder, out = root / "flat", root / "flat.jsonl"
    code, _, err = run_batch(capsys, src, out, "--flat", folder, "--summary", "--by", "credit.tier_drop")
    assert code == 0 and f"in {folder}" in err
    reports = reports_of(out)
    segments = [n for n, _ in pack.segments] + ["credit.tier_drop"]
    accounts = pd.read_csv(
        folder / "accounts.csv", dtype={**CSV_DTYPES, **dict.fromkeys(segments, "string")}, keep_default_na=False, na_values=[""]
    )
    assert list(accounts.columns) == [n for n, _ in flat.ACCOUNT_COLUMNS] + segments
    assert len(accounts) == len(reports)
    assert accounts["causes"].dtype.kind == "i" and accounts["top_score"].dtype.kind == "f" and accounts["source_line"].dtype.kind == "i"
    for row, report in zip(accounts.itertuples(index=False), reports, strict=True):
        ids = [f["rule_id"] for f in report["findings"]]
        assert row.account_id == report["snapshot"]["account_id"] and row.verdict == report["verdict"]
        assert (row.cause_ids.split(flat.LIST_SEPARATOR) if isinstance(row.cause_ids, str) else []) == ids
        assert row.causes == len(ids) and (pd.isna(row.top_cause) if not ids else row.top_cause == ids[0])
        assert row.source_line == report["source"]["line"]
    findings = pd.read_csv(folder / "findings.csv", dtype={"rule_id": "string"})
    assert list(findings.columns) == [n for n, _ in flat.FINDING_COLUMNS]
    assert len(findings) == sum(len(r["findings"]) for r in reports) and findings["contributing"].dtype == bool
    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(folder / "accounts.parquet")
    assert table.schema.equals(flat.account_schema(segments))
    assert table.num_rows == len(reports)
    assert str(table.schema.field("as_of").type) == "timestamp[us, tz=UTC]"
    assert table.column("cause_ids").to_pylist() == [[f["rule_id"] for f in r["findings"]] for r in reports]
    frame = pd.read_parquet(folder / "accounts.parquet")
    assert str(frame["as_of"].dtype).startswith("datetime64") and frame["causes"].dtype == "int32"
    first = pd.Timestamp(reports[0]["snapshot"]["as_of"])
    assert frame["as_of"].iloc[0] == first
    ftable = pq.read_table(folder / "findings.parquet")
    assert ftable.schema.equals(flat.finding_schema()) and ftable.num_rows == len(findings)
    # summarize writes the same export from the saved reports
    again = root / "flat-again"
    code, _, _ = cli(capsys, "summarize", out, "--flat", again, "--by", "credit.tier_drop")
    assert code == 0
    assert pq.read_table(again / "accounts.parquet").equals(table)
    assert (again / "findings.csv").read_bytes() == (folder / "findings.csv").read_bytes()
    assert (again / "accounts.csv").read_bytes() == (folder / "accounts.csv").read_bytes()


def test_flat_export_never_overwrites_an_input(portfolio: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    victim = tmp_path / "accounts.csv"
    victim.write_text(portfolio["input"].read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = cli(capsys, "batch", victim, "-o", tmp_path / "o.jsonl", "--flat", tmp_path)
    assert code == 2 and "would overwrite an input" in err
    assert victim.read_text(encoding="utf-8") == portfolio["input"].read_text(encoding="utf-8")


def test_flat_rows_of_a_report_object_and_of_its_json_agree(pack: CompiledPack) -> None:
    report = pack.diagnose(load_json(EXAMPLES / "contract-example.json"))
    a, b = flat.new_rows(), flat.new_rows()
    flat.add_report(a, report, "f", 3)
    flat.add_dict(b, {**json.loads(report.to_json()), "source": {"file": "f", "line": 3}})
    assert a == b and a.findings


# --- 4. the HTML page ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pages(portfolio: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from diagnose.cli import main

    root = tmp_path_factory.mktemp("pages")
    out = root / "r.jsonl"
    assert main(["batch", str(portfolio["input"]), "-o", str(out), "-e", str(root / "e.jsonl"), "-w", "1", "-q"]) == 0
    found = {}
    for lang in ("en", "zh"):
        found[lang] = root / f"{lang}.html"
        args = ["summarize", str(out), "-e", str(root / "e.jsonl"), "--html", str(found[lang]), "--lang", lang, "-f", "json"]
        assert main(args) == 0
    return found


def test_the_page_has_the_charts_and_the_metadata(pages: dict[str, Path], pack: CompiledPack) -> None:
    page = pages["en"].read_text(encoding="utf-8")
    for chart in ("verdicts", "families", "heatmap", "trend"):
        assert f'data-chart="{chart}"' in page
    assert page.count("<svg") > 40  # the charts and a bar per row
    assert pack.name in page and pack.version in page and pack.data["digest"] in page
    assert "r.jsonl" in page and "Period (as_of)" in page and "Rejected records by reason" in page
    assert re.search(r"read \d[\d,]* = diagnosed [\d,]+ \+ rejected [1-9][\d,]*", page)
    assert "@media print" in page and "@page" in page
    assert "Content-Security-Policy" in page and "<script" not in page
    assert not re.search(r"(?:src|href)=", page) and "url(" not in page  # nothing to load from anywhere
    # institution-facing names, not the customer's titles
    quota = next(r for r in pack.data["rules"] if r["id"] == "LIQ-FUNDER-QUOTA")
    assert quota["label"]["en"].replace("'", "&#x27;") in page and quota["title"]["en"] not in page.replace("&#x27;", "'")


def test_shares_are_drawn_to_scale() -> None:
    from diagnose.portfolio.charts import bars, inline_bar

    svg = inline_bar(0.018, width=200)
    assert re.search(r'class="fill" width="3.60"', svg)  # 1.8% of 200 px
    drawn = bars("x", [("a", 0.018, ""), ("b", 0.5, "")], width=640)
    widths = [float(w) for w in re.findall(r'class="fill" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', drawn)]
    assert widths[1] / widths[0] == pytest.approx(0.5 / 0.018, rel=1e-3)


def test_every_label_of_the_page_is_in_chinese_under_lang_zh(pages: dict[str, Path]) -> None:
    page = pages["zh"].read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    headings = re.findall(r"<h[12]>(.*?)</h[12]>", page) + re.findall(r"<th[^>]*>(.*?)</th>", page)
    assert headings and all(re.search(r"[\u4e00-\u9fff]", h) for h in headings if h), headings
    english = {v for k, v in WORDS["en"].items() if len(v) > 6 and "{" not in v}
    assert not [w for w in english if f">{w}<" in page]
    assert "资金方本期放款额度用尽" in page  # the institution's name of a cause, in zh
    assert "已阻断" in page and "受限" in page and "正常" in page


def test_page_size_stays_small_for_many_accounts() -> None:
    """The page holds aggregates: its size does not grow with the accounts, only with causes, segments and days."""
    from diagnose.portfolio.summary import Tally, summarize
    from diagnose.portfolio.summary_html import render_page

    def page(n: int) -> int:
        tally = Tally(by=By.parse("region"))
        for i in range(n):
            rid = f"C-{i % 39}"
            tally.add_dict(
                {
                    "verdict": ("blocked", "restricted", "healthy")[i % 3],
                    "findings": [{"rule_id": rid, "family": "product", "title": "t"}] if i % 3 != 2 else [],
                    "snapshot": {"as_of": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+08:00"},
                    "segments": {"region": f"CN-{i % 31}"},
                }
            )
        return len(render_page(summarize(tally), inputs=["x.jsonl"]).encode())

    small, big = page(3_000), page(60_000)
    assert big < 1.1 * small and big < 400_000
