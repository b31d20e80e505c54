"""Each word of the vocabulary is defined once (diagnose.vocab) and every place that names the set agrees with it."""

from __future__ import annotations

import json
import shutil
import typing
from pathlib import Path

import pytest

from diagnose import vocab
from diagnose.cli import plain
from diagnose.engine import ranking
from diagnose.errors import InvalidPack
from diagnose.pack import loader, templates
from diagnose.records import Report
from diagnose.report.formats import labels, richview
from tests.conftest import ROOT


def _literal(annotation: object) -> set[object]:
    """The values of a Literal, also inside Optional or Annotated."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return set(args)
    return set().union(*(_literal(a) for a in args)) if args else set()


def test_the_command_line_offers_exactly_the_vocabulary() -> None:
    assert [m.value for m in plain.Lang] == list(vocab.LANGS)
    assert [m.value for m in plain.Severity] == list(vocab.SEVERITIES)
    assert [m.value for m in plain.Audience] == [*vocab.AUDIENCES, vocab.ALL_AUDIENCES]


def test_the_rule_models_and_the_published_schema_validate_the_vocabulary() -> None:
    assert _literal(loader.Rule.model_fields["severity"].annotation) == set(vocab.SEVERITIES)
    assert _literal(loader.Leaf.model_fields["op"].annotation) == set(vocab.OPERATORS)
    assert set(loader.Remedies.model_fields) == set(vocab.AUDIENCES)
    assert set(loader.Text.model_fields) == set(vocab.LANGS)
    schema = json.dumps(json.loads((ROOT / "schemas" / "rules.schema.json").read_text(encoding="utf-8")))
    assert json.dumps(list(vocab.SEVERITIES)) in schema
    assert json.dumps(list(vocab.OPERATORS)) in schema


def test_the_report_and_the_ranking_use_the_vocabulary() -> None:
    assert Report.__annotations__["verdict"] == "Verdict"  # records.Verdict is vocab.Verdict
    assert _literal(vocab.Verdict) == set(vocab.VERDICTS)
    assert list(ranking.SEVERITY) == list(vocab.SEVERITIES)
    assert ranking.SEVERITY_ORDER == vocab.SEVERITIES


def test_every_filter_is_implemented_and_no_other_is_accepted() -> None:
    assert set(templates._FILTERS) == set(vocab.FILTERS)
    assert set(vocab.NUMBER_FILTERS) | set(vocab.TIME_FILTERS) == set(vocab.FILTERS)
    assert templates.template_fields("{line.used|money} and {x|text}") == [("line.used", "money"), ("x", "text")]


def test_a_filter_the_renderer_does_not_have_is_refused_by_the_loader(tmp_path: Path) -> None:
    """`{x|text}` used to pass lint and render unformatted: the loader and the renderer read one list of filters."""
    pack = tmp_path / "pack"
    shutil.copytree(ROOT / "tests" / "broken_packs" / "template", pack)
    rules = pack / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace(
            "{funding.funder_quota_remaining_pct:>99999}", "{funding.funder_quota_remaining_pct|text}"
        ),
        encoding="utf-8",
    )
    (pack / "pack.yaml").write_text(
        (pack / "pack.yaml").read_text(encoding="utf-8").replace("../../../rules", str(ROOT / "rules")), encoding="utf-8"
    )
    with pytest.raises(InvalidPack) as info:
        loader.load(pack)
    assert "unknown template filter `text`" in str(info.value)


@pytest.mark.parametrize("lang", vocab.LANGS)
def test_every_value_a_person_reads_has_its_word_in_each_language(lang: str) -> None:
    for kind, values in (
        ("family", vocab.DEFAULT_FAMILIES),
        ("severity", vocab.SEVERITIES),
        ("verdict", vocab.VERDICTS),
        ("audience", vocab.AUDIENCES),
    ):
        for value in values:
            assert vocab.WORDS[kind][lang][value], (kind, value, lang)
    assert {labels.family(lang, f) for f in vocab.DEFAULT_FAMILIES} == {vocab.word("family", f, lang) for f in vocab.DEFAULT_FAMILIES}
    assert labels.family(lang, "a-family-a-pack-added") == "a-family-a-pack-added"


def test_the_terminal_view_styles_every_verdict_and_severity() -> None:
    assert set(richview._VERDICT_STYLE) == set(vocab.VERDICTS)
    assert set(richview._SEVERITY_STYLE) == set(vocab.SEVERITIES)
