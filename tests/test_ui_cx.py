"""Insights and Content through Streamlit's AppTest on a seeded conversation log with known figures.

The log (tests/cx_story.py) is written through the product's own stores into the app's database;
the pages must show the figures worked out by hand from the definitions (docs/metrics.md): the
headline numbers, every weekly trend, the filters, the per-language table, the CSV files
(formula-safe) and the article health ranking with the conversations behind a row.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from tests.cx_seed import T0, Clock, Seeder
from tests.cx_story import DAY, NEAR_REFUNDS, seed_two_weeks
from tests.e2e.corpus import STAFF, WRITER
from tests.helpers import streamlit_app_env
from ui.first_run import first_run_index
from ui.resources import fingerprint, load_resources

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
TIMEOUT = 60
TWO_WEEKS = (date(2026, 3, 2), date(2026, 3, 15))
FORMULA_SOURCE = "=HYPERLINK(\"http://evil.example\")"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with streamlit_app_env(tmp_path_factory.mktemp("cx-ui")) as values:
        yield values


@pytest.fixture(scope="module")
def app(env):
    """The app's resources with the tiny corpus indexed, and the two seeded weeks in its database."""
    AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    settings = Settings.from_env()
    res = load_resources(settings, fingerprint(settings))
    assert first_run_index(res, fingerprint(settings)).wait(120), "the first-run ingest did not finish"
    seed = Seeder(settings, Clock())
    seed_two_weeks(seed, T0)
    seed.conversation("=SUM(1+1)", T0 + 25 * DAY, "refund?", customer="customer-f", sources=(FORMULA_SOURCE,))
    return res


def signed_in(user: tuple[str, str], area: str, **widgets) -> AppTest:
    """A session signed in as `user` on page `area`, with the page's widgets (by key) set before it renders."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.text_input(key="sign_in_user").set_value(user[0])
    at.text_input(key="sign_in_password").set_value(user[1])
    next(b for b in at.button if b.label == "Sign in").click().run()
    for key, value in widgets.items():
        at.session_state[key] = value
    at.session_state["goto"] = area
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def insights(period: str = "Custom dates", language: str = "all") -> AppTest:
    at = signed_in(STAFF, "insights", insights_period=period, insights_dates=TWO_WEEKS, insights_language=language)
    assert at.selectbox(key="insights_period").value == period
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_series(at: AppTest) -> dict[str, list]:
    """Every series drawn by the page's st.line_chart / st.bar_chart, week by week, by name.

    Streamlit sends each chart's data as Arrow; several series come melted into long form.
    """
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    found: dict[str, list] = {}
    for chart in at.get("vega_lite_chart"):
        frame = convert_arrow_bytes_to_pandas_df(chart.proto.datasets[0].data.data)
        name = next((c for c in frame.columns if c.startswith("color --")), None)
        value = next((c for c in frame.columns if c.startswith("value --")), None)
        if name and value:
            for series, rows in frame.groupby(name, sort=False):
                found[series] = [None if pd.isna(v) else v for v in rows[value]]
        else:
            for column in frame.columns[1:]:
                found[column] = [None if pd.isna(v) else v for v in frame[column]]
    return found


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """What every download button of a page would give, by file name (AppTest cannot click a download)."""
    captured: dict[str, bytes] = {}
    real = st.download_button

    def recording(label, data, *args, **kwargs):
        captured[kwargs["file_name"]] = data
        return real(label, data, *args, **kwargs)

    monkeypatch.setattr(st, "download_button", recording)
    return captured


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# ---- Insights -------------------------------------------------------------------------------


def test_headline_figures_of_the_two_weeks(app):
    shown = metrics(insights())
    assert shown["Conversations"] == "7"                 # "late" (day 20) is outside the dates
    assert shown["Self-service resolution"] == "43%"     # 3/7
    assert shown["FCR"] == "57%"                         # 4/7: a1 was returned to, b1 and s1 not resolved
    assert shown["Escalation rate"] == "29%"             # 2/7
    assert shown["CSAT"] == "60%" and shown["CES"] == "5.2" and shown["NPS"] == "+25"
    assert shown["Deflection"] == "71%"
    assert shown["Tickets"] == "2"
    assert shown["Claimed in (median)"] == "20 min" and shown["Resolved in (median)"] == "2.0 h"


def test_weekly_trends_draw_the_known_figures(app):
    drawn = chart_series(insights())
    assert drawn["self-service resolution %"] == [50.0, 33.3]
    assert drawn["FCR %"] == [50.0, 66.7]
    assert drawn["escalation rate %"] == [25.0, 33.3]
    assert drawn["CSAT %"] == [66.7, 50.0]
    assert drawn["CES mean"] == [5.0, 5.5]
    assert drawn["NPS"] == [0.0, 50.0]
    assert (drawn["promoters"], drawn["passives"], drawn["detractors"]) == ([1, 1], [0, 1], [1, 0])
    assert drawn["created → claimed median (min)"] == [10.0, 30.0]
    assert drawn["claimed → resolved median (min)"] == [60.0, 180.0]
    assert drawn["claimed → resolved p90 (min)"] == [60.0, 180.0]


def test_the_weekly_table_matches_the_charts(app):
    table = insights().dataframe[0].value
    assert list(table["week"]) == ["2026-03-02", "2026-03-09"]
    assert list(table["conversations"]) == [4, 3]
    assert list(table["FCR %"]) == [50.0, 66.7]


def test_language_filter_keeps_one_language_in_the_figures_and_trends(app):
    at = insights(language="sw")
    shown = metrics(at)
    assert shown["Conversations"] == "2" and shown["Self-service resolution"] == "50%" and shown["NPS"] == "+50"
    assert shown["Tickets"] == "0" and shown["Claimed in (median)"] == "—"
    drawn = chart_series(at)
    assert drawn["self-service resolution %"] == [None, 50.0]     # no Swahili conversation in week 1
    assert drawn["CSAT %"] == [None, 50.0]


def test_period_filter(app):
    assert metrics(insights("All time"))["Conversations"] == "9"           # with "late" and the formula one
    recent = insights("Last 4 weeks")                                       # the seeded log is from March
    assert metrics(recent)["Conversations"] == "0" and metrics(recent)["FCR"] == "—"
    assert list(recent.dataframe[0].value["conversations"]) == [0, 0, 0, 0]


def test_per_language_table_shows_all_five_languages_side_by_side(app):
    table = insights().dataframe[1].value.set_index("figure")
    assert list(table.columns) == ["all languages", "en", "ar", "sw", "ha", "et"]
    assert list(table.loc["Conversations"]) == ["7", "4", "1", "2", "0", "0"]
    assert list(table.loc["Self-service resolution"]) == ["43%", "50%", "0%", "50%", "—", "—"]
    assert list(table.loc["FCR"]) == ["57%", "50%", "100%", "50%", "—", "—"]
    assert list(table.loc["Escalation rate"]) == ["29%", "25%", "100%", "0%", "—", "—"]
    assert list(table.loc["CSAT (4 or 5)"]) == ["60%", "67%", "—", "50%", "—", "—"]
    assert list(table.loc["NPS"]) == ["+25", "0", "—", "+50", "—", "—"]
    assert list(table.loc["Promoters / passives / detractors"])[:4] == ["2 / 1 / 1", "1 / 0 / 1", "0 / 0 / 0",
                                                                         "1 / 1 / 0"]
    assert list(table.loc["Created → claimed, median"])[:3] == ["20 min", "10 min", "30 min"]
    assert table.loc["Claimed → resolved, p90", "all languages"] == "3.0 h"
    filtered = insights(language="ar").dataframe[1].value
    assert list(filtered.columns) == ["figure", "en", "ar", "sw", "ha", "et"]   # the filter is not applied here


def test_csv_downloads_hold_the_rows_behind_the_figures(app, downloads):
    insights()
    conversations = {row["session"]: row for row in read_csv(downloads["cx-conversations.csv"])}
    assert set(conversations) == {"a1", "a2", "b1", "h1", "s1", "s2", "r1"}
    assert conversations["a1"]["returned within window"] == "yes" and conversations["a1"]["fcr"] == "no"
    assert conversations["h1"]["handed off"] == "yes" and conversations["h1"]["resolved"] == "yes"
    assert (conversations["b1"]["csat"], conversations["b1"]["ces"], conversations["b1"]["nps"]) == ("1", "2", "3")
    assert conversations["a2"]["nps"] == "" and set(conversations["a2"]["surveys asked"].split()) == {"csat", "ces"}
    handoffs = sorted(read_csv(downloads["cx-handoffs.csv"]), key=lambda r: r["session"])
    assert [(r["session"], r["created → claimed (min)"], r["claimed → resolved (min)"]) for r in handoffs] == [
        ("h1", "10.0", "60.0"), ("r1", "30.0", "180.0")]
    weekly = read_csv(downloads["cx-weekly.csv"])
    assert [(r["week"], r["conversations"], r["CES mean"]) for r in weekly] == [
        ("2026-03-02", "4", "5.0"), ("2026-03-09", "3", "5.5")]


def test_csv_cells_cannot_become_formulas(app, downloads):
    insights("All time")
    rows = read_csv(downloads["cx-conversations.csv"])
    formula = next(r for r in rows if "SUM" in r["session"])
    assert formula["session"] == "'=SUM(1+1)" and formula["sources"] == "'" + FORMULA_SOURCE


# ---- Content: article health ----------------------------------------------------------------


def article_health(days: int = 365) -> AppTest:
    at = signed_in(WRITER, "content", content_health_days=days)
    assert at.selectbox(key="content_health_days").value == days
    return at


def drill_down(at: AppTest):
    return next(s for s in at.selectbox if s.label == "Show the conversations behind")


def health_table(at: AppTest) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "needs work" in d.value.columns)


def test_article_health_ranks_the_articles_that_most_need_work(app):
    table = health_table(article_health())
    top = table.head(4)
    assert list(top["source"]) == ["docs/refunds.md", "docs/password.md", "docs/shipping.ar.md", "faq/faq_en.csv"]
    assert list(top["needs work"]) == [4, 2, 1, 1]
    assert list(top["cited"]) == [3, 3, 1, 1]
    assert list(top["thumbs-down rate %"]) == [33.3, 33.3, 0.0, 0.0]
    assert list(top["mean CSAT"])[:2] == [3.67, 3.0] and top["mean CSAT"][2:].isna().all()
    assert list(top["handoffs after"]) == [0, 0, 1, 1]
    assert list(top["unanswered close to it"]) == [2, 0, 0, 0]
    assert table.iloc[-1]["source"] == FORMULA_SOURCE and table.iloc[-1]["needs work"] == 0


def test_article_health_period_filter(app):
    table = health_table(article_health(days=30))                # the seeded log is older than 30 days
    assert set(table["needs work"]) == {0} and set(table["cited"]) == {0}


def test_a_row_lists_its_redacted_conversations_problems_first(app):
    at = article_health()
    assert drill_down(at).value == "docs/refunds.md"   # the top row by default
    labels = [e.label for e in at.expander]
    assert [label.split(" · ")[0] for label in labels] == ["s1", "a1", "a2"]
    assert "thumbs-down" in labels[0] and "CSAT 2" in labels[0] and labels[1].endswith("CSAT 5")
    text = "\n".join(m.value for m in at.markdown)
    assert all(question in text for question in NEAR_REFUNDS)
    a1 = next(e for e in at.expander if e.label.startswith("a1"))
    transcript = "\n".join(m.value for m in a1.markdown)
    assert "How long does a refund take?" in transcript and "\\[email\\]" in transcript
    assert "jane.doe@example.com" not in transcript
    drill_down(at).set_value("faq/faq_en.csv").run()
    assert [e.label.split(" · ")[0] for e in at.expander] == ["h1"]
    assert "handed off" in at.expander[0].label
    h1 = "\n".join(m.value for m in at.expander[0].markdown)
    assert "Where is my parcel?" in h1 and "Passing you on." in h1


def test_article_health_csv_is_formula_safe(app, downloads):
    article_health()
    rows = read_csv(downloads["article-health.csv"])
    assert [r["source"] for r in rows][:2] == ["docs/refunds.md", "docs/password.md"]
    assert rows[-1]["source"] == "'" + FORMULA_SOURCE
