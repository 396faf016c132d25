"""Every customer-experience figure's definition (docs/metrics.md) on a seeded log with known answers.

The log is written through the product's own stores at fixed times, on SQLite and on PostgreSQL;
the report is what Insights and `kb report` show.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from assistant.cx.figures import durations, percentile, week_start
from assistant.cx.report import build_report
from tests.cx_seed import T0, Clock, Seeder

DAY = timedelta(days=1)
LATER = T0 + 60 * DAY            # "now": every return window has closed
TOPICS = {"refund": 0, "password": 1, "address": 2, "gift": 3}


def topic_embed(texts):
    """Hand-made embeddings: a question's vector points at the topic word it contains."""
    rows = []
    for text in texts:
        vector = np.full(len(TOPICS), 0.05, dtype=np.float32)
        for word, axis in TOPICS.items():
            if word in text.lower():
                vector[axis] = 1.0
        rows.append(vector)
    return np.stack(rows)


@pytest.fixture
def seed(db_settings) -> Seeder:
    """Every test here runs twice: on SQLite and on a real PostgreSQL server."""
    return Seeder(db_settings, Clock())


def report(seed: Seeder, **kwargs):
    kwargs.setdefault("now", LATER)
    return build_report(seed.db, seed.settings, topic_embed, **kwargs)


def test_fcr_ten_conversations_three_of_them_come_back_on_the_same_topic(seed):
    """10 conversations, all resolved; 3 are followed within 7 days by the same browser on the same topic: FCR 0.7."""
    visits = [
        ("a1", "customer-a", 0, "How long does a refund take?"), ("a2", "customer-a", 2, "My refund has not arrived"),
        ("b1", "customer-b", 0, "Reset my password please"), ("b2", "customer-b", 3, "The password reset link fails"),
        ("c1", "customer-c", 1, "Change my delivery address"), ("c2", "customer-c", 7.9, "Wrong address on my order"),
        ("d1", "customer-d", 0, "Refund for a broken phone"), ("d2", "customer-d", 9, "Refund for a broken phone"),  # 9 days
        ("e1", "customer-e", 0, "Where is my refund?"), ("e2", "customer-e", 1, "Can I buy a gift card?"),  # other topic
    ]
    for session, customer, day, question in visits:
        seed.conversation(session, T0 + day * DAY, question, customer=customer)
    figures = report(seed).figures
    assert (figures.ended, figures.fcr_counted, figures.returns) == (10, 10, 3)
    assert figures.fcr == pytest.approx(0.7)
    returned = {o.session_id for o in report(seed).outcomes if o.returned}
    assert returned == {"a1", "b1", "c1"}


def test_fcr_counts_only_resolved_conversations_with_a_browser_id_and_says_which_are_pending(seed):
    seed.conversation("thumbs", T0, "refund?", customer="customer-a", rating=-1)        # not resolved
    seed.conversation("anon", T0, "refund?", customer="")                          # no browser id: not counted
    seed.conversation("fresh", LATER - 2 * DAY, "gift card?", customer="customer-b")   # window still open
    seed.conversation("fine", T0, "password?", customer="customer-c")
    figures = report(seed).figures
    assert figures.fcr_counted == 3 and figures.fcr == pytest.approx(2 / 3)
    assert figures.fcr_pending == 1
    assert {o.session_id: o.fcr for o in report(seed).outcomes} == {
        "thumbs": False, "anon": None, "fresh": True, "fine": True}


def test_self_service_resolution_deflection_and_escalation(seed):
    seed.conversation("ok", T0)                                         # resolved by itself
    seed.conversation("down-last", T0, rating=-1)                       # thumbs-down on its last answer
    seed.conversation("down-then-fixed", T0, rating=-1, end=None)       # ... but a later answer was fine
    seed.ask_again("down-then-fixed", T0 + timedelta(minutes=1), "And for a card?", ("docs/refunds.md",), rating=1)
    seed.conversation("person", T0, end=None)
    ticket = seed.hand_off("person", T0 + timedelta(minutes=2))
    seed.resolve(ticket, T0 + timedelta(hours=1))
    seed.conversation("ongoing", LATER - timedelta(minutes=5), end=None)  # no end, active 5 minutes ago
    seed.conversation("idle", LATER - timedelta(minutes=45), end=None)    # no end, but quiet for 45 minutes
    figures = report(seed).figures
    assert (figures.conversations, figures.ended) == (6, 5)
    assert figures.self_service_resolution == pytest.approx(3 / 5)      # ok, down-then-fixed, idle
    assert figures.deflection == pytest.approx(4 / 5)                   # down-last needed no person either
    assert figures.escalation_rate == pytest.approx(1 / 5)
    assert figures.resolution == pytest.approx(4 / 5)                   # the person resolved "person"
    by_id = {o.session_id: o for o in report(seed).outcomes}
    assert by_id["ongoing"].self_service_resolved is None and not by_id["ongoing"].ended
    assert by_id["down-last"].deflected and not by_id["down-last"].self_service_resolved


def test_time_to_resolution_medians_and_p90_from_fixed_timestamps(seed):
    claims = [10, 20, 30, 40]                 # minutes after creation
    resolves = [60, 120, 180, 300]            # minutes after the claim
    for i, (claim, resolve) in enumerate(zip(claims, resolves, strict=True)):
        session = f"t{i}"
        seed.conversation(session, T0 + i * timedelta(hours=8), end=None)
        created = T0 + i * timedelta(hours=8) + timedelta(minutes=1)
        ticket = seed.hand_off(session, created)
        seed.claim(ticket, created + timedelta(minutes=claim))
        seed.resolve(ticket, created + timedelta(minutes=claim + resolve))
    seed.conversation("waiting", T0 + 2 * DAY, end=None)
    seed.hand_off("waiting", T0 + 2 * DAY)                                # open: counts in no duration
    figures = report(seed).figures
    assert figures.tickets == 5
    assert figures.created_to_claimed.count == 4
    assert figures.created_to_claimed.median_s == 25 * 60
    assert figures.created_to_claimed.p90_s == 40 * 60
    assert figures.claimed_to_resolved.median_s == 150 * 60
    assert figures.claimed_to_resolved.p90_s == 300 * 60
    assert figures.created_to_resolved.median_s == (140 + 210) / 2 * 60   # 70 140 210 340


def test_time_to_first_grounded_answer_for_self_service(seed):
    for i, seconds in enumerate((1, 2, 3, 4, 30)):
        seed.conversation(f"g{i}", T0 + i * DAY, answer_after_s=seconds)
    seed.conversation("abstained", T0, sources=())                        # no cited answer: not counted
    seed.conversation("late", T0, sources=(), end=None)
    seed.ask_again("late", T0 + timedelta(seconds=50), "refund by card?", ("docs/refunds.md",))
    seed.conversation("person", T0, answer_after_s=1, end=None)
    seed.hand_off("person", T0 + timedelta(seconds=5))                     # handed off: not self-service
    figures = report(seed).figures
    assert figures.first_grounded_answer.count == 6
    assert figures.first_grounded_answer.median_s == 3.5                  # 1 2 3 4 30 51 -> (3 + 4) / 2
    assert figures.first_grounded_answer.p90_s == 51


def test_csat_ces_and_nps_from_the_answers(seed):
    answers = [(5, 7, 10), (4, 6, 9), (3, 5, 8), (1, 1, 7), (5, 2, 6), (2, 4, 0)]
    for i, (csat, ces, nps) in enumerate(answers):
        seed.conversation(f"s{i}", T0 + i * timedelta(hours=1), customer=f"customer-{i}")
        seed.survey(f"s{i}", T0 + i * timedelta(hours=1, minutes=1), customer=f"customer-{i}", csat=csat, ces=ces,
                    nps=nps)
    seed.conversation("skipped", T0, customer="customer-x")
    seed.survey("skipped", T0, customer="customer-x")
    seed.surveys.skip("skipped")
    figures = report(seed).figures
    assert figures.csat == pytest.approx(3 / 6) and figures.csat_mean == pytest.approx(20 / 6)
    assert figures.ces_mean == pytest.approx(25 / 6) and figures.ces_easy == pytest.approx(3 / 6)
    assert (figures.promoters, figures.passives, figures.detractors) == (2, 2, 2)
    assert figures.nps == pytest.approx(0.0)
    assert (figures.surveys_asked, figures.surveys_answered, figures.csat_responses) == (7, 6, 6)


def test_nps_is_promoters_minus_detractors_in_percent(seed):
    for i, score in enumerate((10, 10, 9, 3)):
        seed.conversation(f"s{i}", T0, customer=f"customer-{i}")
        seed.survey(f"s{i}", T0, customer=f"customer-{i}", nps=score)
    assert report(seed).figures.nps == pytest.approx(50.0)


def test_figures_per_language_side_by_side_and_language_filter(seed):
    seed.conversation("en1", T0, language="en")
    seed.conversation("sw1", T0, language="sw", rating=-1)
    seed.conversation("sw2", T0, language="sw")
    seed.conversation("ar1", T0, language="ar", end=None)
    seed.hand_off("ar1", T0 + timedelta(minutes=1), language="ar")
    full = report(seed)
    assert list(full.by_language) == ["en", "ar", "sw", "ha", "et"]      # always all five, in order
    assert full.by_language["sw"].self_service_resolution == pytest.approx(0.5)
    assert full.by_language["ar"].escalation_rate == pytest.approx(1.0) and full.by_language["ar"].tickets == 1
    assert full.by_language["ha"].conversations == 0 and full.by_language["ha"].self_service_resolution is None
    swahili = report(seed, language="sw")
    assert swahili.figures == full.by_language["sw"]
    assert {o.session_id for o in swahili.outcomes} == {"sw1", "sw2"}


def test_periods_and_weekly_trend(seed):
    seed.conversation("w1a", T0)                                        # week of T0 (a Monday)
    seed.conversation("w1b", T0 + 6 * DAY, rating=-1)                   # Sunday, same week
    seed.conversation("w2", T0 + 7 * DAY)                               # next Monday
    seed.conversation("w4", T0 + 21 * DAY, rating=-1)
    monday = T0.replace(hour=0)
    whole = report(seed, since=monday, until=monday + 28 * DAY)
    assert [start for start, _ in whole.weekly] == [monday + i * 7 * DAY for i in range(4)]
    assert [f.conversations for _, f in whole.weekly] == [2, 1, 0, 1]
    assert [f.self_service_resolution for _, f in whole.weekly] == [0.5, 1.0, None, 0.0]
    second = report(seed, since=T0 + 7 * DAY, until=T0 + 14 * DAY)
    assert second.figures.conversations == 1 and [o.session_id for o in second.outcomes] == ["w2"]
    with pytest.raises(ValueError, match="Expected the start of the period before its end"):
        report(seed, since=T0, until=T0)


def test_a_return_just_after_the_period_still_counts(seed):
    """The return window reaches past `until`: a conversation on the period's last day can still be returned to."""
    seed.conversation("last-day", T0 + 6 * DAY, "refund?", customer="customer-a")
    seed.conversation("next-week", T0 + 8 * DAY, "my refund again", customer="customer-a")
    week = report(seed, since=T0, until=T0 + 7 * DAY)
    assert week.figures.conversations == 1 and week.figures.fcr == 0.0


def test_report_to_dict_is_plain_json(seed):
    import json

    seed.conversation("s1", T0, customer="customer-a")
    data = json.loads(json.dumps(report(seed, since=T0, until=T0 + 7 * DAY).to_dict()))
    assert data["figures"]["conversations"] == 1 and data["weekly"][0]["week"] == "2026-03-02"
    assert set(data["by_language"]) == {"en", "ar", "sw", "ha", "et"}


def test_percentiles_and_weeks():
    assert percentile([1.0], 90) == 1.0
    assert percentile(list(map(float, range(1, 11))), 90) == 9.0
    assert percentile(list(map(float, range(1, 12))), 90) == 10.0
    assert durations([None, 3.0, 1.0, 2.0]).median_s == 2.0
    assert durations([None]).count == 0 and durations([]).p90_s is None
    assert week_start(T0 + 3 * DAY + timedelta(hours=5)) == T0.replace(hour=0)
    with pytest.raises(ValueError, match="Expected at least one value"):
        percentile([], 50)
