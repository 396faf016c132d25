"""Two weeks of customer conversations over the tiny corpus (tests/e2e/corpus.py), with known figures.

Used by the Insights and Content AppTest tests (tests/test_ui_cx.py) and by the browser test that
takes the README screenshots. Week 1 starts at `start` (a Monday); the figures below are worked out
by hand from the definitions in docs/metrics.md.

Week 1 (en): a1 resolved, customer a comes back on the same question 2 days later (a2), so a1 is
  no first-contact resolution; b1 gets a thumbs-down; h1 is handed off (claimed after 10 min,
  resolved 60 min later).
  -> 4 conversations, self-service 2/4, escalation 1/4, FCR 2/4 (a2, h1), CSAT 5 4 1 -> 2/3,
     CES 7 6 2 -> 5.0, NPS 10 3 -> 0, claimed 10 min, resolved 60 min.
Week 2: s1 (sw) thumbs-down, s2 (sw) resolved, r1 (ar) handed off (claimed after 30 min, resolved
  180 min later).
  -> 3 conversations, self-service 1/3, escalation 1/3, FCR 2/3, CSAT 2 5 -> 1/2, CES 4 7 -> 5.5,
     NPS 8 9 -> +50, claimed 30 min, resolved 180 min.
Both weeks: 7 conversations, self-service 3/7, escalation 2/7, FCR 4/7, CSAT 3/5, CES 5.2,
  NPS 10 3 8 9 -> +25 (2 promoters, 1 passive, 1 detractor), claimed median 20 min / p90 30 min,
  resolved median 120 min / p90 180 min.
"late" (en, day 20, outside the two weeks) cites the password article and has no problem.

Article health over all of it: refunds (cited by a1 a2 s1: s1 thumbs-down and CSAT 2, plus the two
unanswered refund questions) needs work 4; password (b1 thumbs-down and CSAT 1) 2; the Arabic
shipping article (r1 handed off) 1; the FAQ (h1 handed off) 1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.cx_seed import Seeder

DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)
REFUND_QUESTION = "How long does a refund take? Write to jane.doe@example.com"
NEAR_REFUNDS = ("Refund to my card still missing after returning the item",
                "When does the refund for my returned item reach my card?")


def seed_two_weeks(seed: Seeder, start: datetime, tag: str = "") -> None:
    """The conversations, votes, tickets, surveys and unanswered questions described above.

    `tag` ends every session and browser id, so the story can be told more than once in one log.
    """
    def talk(session: str, moment: datetime, question: str, **kwargs) -> None:
        seed.conversation(session + tag, moment, question, customer=f"customer-{session}{tag}", **kwargs)

    def rate(session: str, moment: datetime, language: str = "en", **scores: int) -> None:
        seed.survey(session + tag, moment, customer=f"customer-{session}{tag}", language=language, **scores)

    talk("a1", start, REFUND_QUESTION)
    rate("a1", start + MINUTE, csat=5, ces=7, nps=10)
    seed.conversation("a2" + tag, start + 2 * DAY, REFUND_QUESTION, customer=f"customer-a1{tag}")  # a1 is back
    seed.survey("a2" + tag, start + 2 * DAY + MINUTE, customer=f"customer-a1{tag}", csat=4, ces=6)  # no NPS again
    talk("b1", start + DAY, "How do I reset my password?", sources=("docs/password.md",), rating=-1)
    rate("b1", start + DAY + MINUTE, csat=1, ces=2, nps=3)
    _handed_off(seed, "h1" + tag, start + DAY + 2 * MINUTE, "en", "Where is my parcel?", "faq/faq_en.csv", 10, 60)

    week2 = start + 7 * DAY
    talk("s1", week2, "Marejesho ya pesa huchukua muda gani?", language="sw", rating=-1)
    rate("s1", week2 + MINUTE, language="sw", csat=2, ces=4, nps=8)
    talk("s2", week2 + DAY, "Nawezaje kubadilisha nenosiri langu?", language="sw", sources=("docs/password.md",))
    rate("s2", week2 + DAY + MINUTE, language="sw", csat=5, ces=7, nps=9)
    _handed_off(seed, "r1" + tag, week2 + 2 * DAY, "ar", "أين طردي؟", "docs/shipping.ar.md", 30, 180)

    talk("late", start + 20 * DAY, "Password link expired", sources=("docs/password.md",))
    for question in NEAR_REFUNDS:
        seed.at(start + 3 * DAY).log.record_unanswered(question, "en")


def _handed_off(seed: Seeder, session: str, moment: datetime, language: str, question: str, source: str,
                claim_min: int, resolve_min: int) -> None:
    seed.conversation(session, moment, question, customer=f"customer-{session}", language=language,
                      sources=(source,), end=None)
    created = moment + MINUTE
    ticket = seed.hand_off(session, created, language=language)
    seed.claim(ticket, created + claim_min * MINUTE)
    seed.resolve(ticket, created + (claim_min + resolve_min) * MINUTE)
