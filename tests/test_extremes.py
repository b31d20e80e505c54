"""Every human format is total over valid snapshots: times at the calendar's ends and amounts near the float's end render."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from diagnose.report.formats import Options, ReportFormat, renderer
from tests.conftest import EXAMPLES, cli, load_json

MAINTENANCE = load_json(EXAMPLES / "ops-maintenance.json")


def _render_all(pack: Any, data: dict[str, Any]) -> None:
    for lang in ("en", "zh"):
        report = pack.diagnose(copy.deepcopy(data), lang=lang, explain=True, timeline=True)
        for fmt in ReportFormat:
            text = renderer(fmt)(report, Options(lang=lang, color=False, width=80))
            assert text.strip()


@pytest.mark.parametrize("end", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00"])
def test_a_time_at_the_end_of_the_calendar_renders_in_every_format(pack: Any, end: str) -> None:
    data = copy.deepcopy(MAINTENANCE)
    data["system"]["maintenance"][1]["end"] = end
    _render_all(pack, data)


@pytest.mark.parametrize("amount", [1e308, 1.7976931348623157e308])
def test_amounts_near_the_largest_float_draw_the_credit_bar(pack: Any, amount: float) -> None:
    data = copy.deepcopy(MAINTENANCE)
    data["line"].update(total_limit=amount, available=amount, used=amount / 2)
    _render_all(pack, data)


def test_the_cli_views_exit_0_on_extreme_values(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    data = copy.deepcopy(MAINTENANCE)
    data["system"]["maintenance"][1]["end"] = "9999-12-31T23:59:59+00:00"
    data["line"].update(total_limit=1e308, available=1e308)
    path = tmp_path / "extreme.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    for fmt in ("rich", "markdown", "message", "json"):
        code, out, err = cli(capsys, "run", path, "--format", fmt)
        assert code == 0 and out.strip(), err
        assert "internal error" not in err
