"""The end-of-conversation survey on SQLite and PostgreSQL: what is asked, when, once; answers, skips, NPS throttle."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from assistant.surveys import SurveyStore, check_score
from tests.cx_seed import T0, Clock, Seeder
from tests.helpers import raw_rows

CUSTOMER = "b" * 32


@pytest.fixture
def seed(db_settings) -> Seeder:
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return Seeder(db_settings, Clock())


def test_survey_asks_csat_ces_and_nps_and_stores_them_with_the_conversation(seed):
    seed.conversation("s1", T0, customer=CUSTOMER, language="sw", sources=("docs/refunds.md", "faq/faq_en.csv"))
    survey = seed.surveys.ask("s1", CUSTOMER, "done", "sw")
    assert survey.kinds == ("csat", "ces", "nps") and not survey.answers and not survey.complete
    seed.surveys.answer("s1", "csat", 4)
    seed.surveys.answer("s1", "csat", 5)        # a changed mind replaces the tap
    seed.surveys.answer("s1", "ces", 7)
    survey = seed.surveys.answer("s1", "nps", 0)
    assert dict(survey.answers) == {"csat": 5, "ces": 7, "nps": 0} and survey.complete
    rows = raw_rows(seed.settings.resolved_database_url,
                    "SELECT kind, status, score, language, handed_off, sources, customer_id, trigger "
                    "FROM survey_responses ORDER BY kind")
    assert [(r[0], r[1], r[2]) for r in rows] == [("ces", "answered", 7), ("csat", "answered", 5),
                                                   ("nps", "answered", 0)]
    assert {(r[3], r[4], r[6], r[7]) for r in rows} == {("sw", 0, CUSTOMER, "done")}
    assert json.loads(rows[0][5]) == ["docs/refunds.md", "faq/faq_en.csv"]


def test_a_conversation_is_surveyed_once_whatever_triggers_it(seed):
    seed.conversation("s1", T0, customer=CUSTOMER)
    first = seed.surveys.ask("s1", CUSTOMER, "thanks", "en")
    again = seed.at(T0 + timedelta(minutes=5)).surveys.ask("s1", CUSTOMER, "idle", "en")
    assert again == first and again.trigger == "thanks"
    assert raw_rows(seed.settings.resolved_database_url, "SELECT COUNT(*) FROM survey_responses")[0][0] == 3


def test_skipping_marks_the_unanswered_questions_and_keeps_the_answers(seed):
    seed.conversation("s1", T0, customer=CUSTOMER)
    seed.surveys.ask("s1", CUSTOMER, "done", "en")
    seed.surveys.answer("s1", "csat", 2)
    survey = seed.surveys.skip("s1")
    assert survey.skipped and survey.complete and dict(survey.answers) == {"csat": 2}
    statuses = dict(raw_rows(seed.settings.resolved_database_url, "SELECT kind, status FROM survey_responses"))
    assert statuses == {"csat": "answered", "ces": "skipped", "nps": "skipped"}


def test_nps_is_asked_at_most_once_per_browser_in_90_days(seed):
    seed.conversation("s1", T0, customer=CUSTOMER)
    assert "nps" in seed.surveys.ask("s1", CUSTOMER, "done", "en").kinds
    seed.surveys.skip("s1")                         # asked counts, answered or not
    seed.conversation("s2", T0 + timedelta(days=89), customer=CUSTOMER)
    assert seed.surveys.ask("s2", CUSTOMER, "done", "en").kinds == ("csat", "ces")
    seed.conversation("s3", T0 + timedelta(days=89), customer="c" * 32)   # another browser is asked
    assert "nps" in seed.surveys.ask("s3", "c" * 32, "done", "en").kinds
    seed.conversation("s4", T0 + timedelta(days=90, minutes=1), customer=CUSTOMER)
    assert seed.surveys.ask("s4", CUSTOMER, "done", "en").kinds == ("csat", "ces", "nps")
    seed.conversation("s5", T0, customer="")
    assert seed.surveys.ask("s5", "", "done", "en").kinds == ("csat", "ces")  # no browser id: never NPS


def test_an_end_while_a_person_has_the_conversation_waits_for_the_ticket(seed):
    seed.conversation("s1", T0, customer=CUSTOMER)
    ticket = seed.hand_off("s1", T0 + timedelta(minutes=1))
    assert seed.surveys.ticket_state("s1") == "active"
    assert seed.surveys.ask("s1", CUSTOMER, "thanks", "en") is None
    assert seed.surveys.get("s1") is None
    seed.resolve(ticket, T0 + timedelta(hours=1))
    assert seed.surveys.ticket_state("s1") == "resolved"
    survey = seed.surveys.ask("s1", CUSTOMER, "ticket_resolved", "en")
    assert survey.occasion == "ticket_resolved"
    assert raw_rows(seed.settings.resolved_database_url, "SELECT DISTINCT handed_off FROM survey_responses") == [(1,)]


def test_bad_answers_are_refused_with_the_scale(seed):
    seed.conversation("s1", T0, customer=CUSTOMER)
    with pytest.raises(ValueError, match="Expected a CES question asked in session 's1'"):
        seed.surveys.answer("s1", "ces", 3)
    seed.surveys.ask("s1", CUSTOMER, "done", "en")
    for kind, score, scale in (("csat", 0, "1 to 5"), ("csat", 6, "1 to 5"), ("ces", 8, "1 to 7"),
                               ("nps", 11, "0 to 10"), ("nps", -1, "0 to 10")):
        with pytest.raises(ValueError, match=f"Expected a {kind.upper()} score from {scale}"):
            seed.surveys.answer("s1", kind, score)
    with pytest.raises(ValueError, match="Expected a survey question in csat, ces, nps"):
        check_score("stars", 3)
    with pytest.raises(ValueError, match="Expected a survey trigger"):
        seed.surveys.ask("s1", CUSTOMER, "whenever", "en")
    with pytest.raises(ValueError, match="unknown session"):
        SurveyStore(seed.settings, seed.db).ask("nope", CUSTOMER, "done", "en")
    assert raw_rows(seed.settings.resolved_database_url,
                    "SELECT COUNT(*) FROM survey_responses WHERE score IS NOT NULL")[0][0] == 0


def test_the_database_refuses_a_score_off_the_scale_too(seed):
    """The CHECK constraint holds even for a writer that bypasses SurveyStore."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from assistant.schema import survey_responses

    seed.conversation("s1", T0, customer=CUSTOMER)
    seed.surveys.ask("s1", CUSTOMER, "done", "en")
    with pytest.raises(IntegrityError), seed.db.transaction() as conn:
        conn.execute(update(survey_responses).where(survey_responses.c.kind == "ces").values(score=9))
