"""The offline answer composer on hand-made retrieval results (no model needed): whole sentences, lists
kept whole, in all five scripts."""

from __future__ import annotations

import pytest

from assistant.extractive import best_passage, compose_extractive, leads_on
from assistant.phrases import phrase
from assistant.text_units import units
from assistant.types import Chunk, RetrievedChunk


def hit(cid: str, text: str, score: float, language: str = "en", source: str | None = None) -> RetrievedChunk:
    chunk = Chunk(chunk_id=cid, text=text, source=source or f"docs/{cid}.md", title=cid.title(), language=language)
    return RetrievedChunk(chunk=chunk, score=score, dense_score=score)


TABLE = (
    "Refunds > Times\n\n| Method | Time |\n|---|---|\n| Card | 5-10 business days |\n"
    "| Mobile money (M-Pesa) | 1-3 business days |\n"
)


def test_table_rows_become_readable_lines_without_pipes():
    passage, overlap, _ = best_passage("How long for an M-Pesa refund?", hit("refunds", TABLE, 0.9))
    assert "- Mobile money (M-Pesa) — 1-3 business days" in passage
    assert "|" not in passage and "---" not in passage and overlap > 0


def test_faq_entry_quotes_its_answer_only():
    faq = hit("faq", "Q: How do I reset my password?\nA: Use the Forgot password link on the login page.", 0.9)
    passage, _, _ = best_passage("reset password", faq)
    assert passage == "Use the Forgot password link on the login page."


# One passage per script: the fact sits in the middle, between sentences on other things.
SCRIPTS = [
    ("en", "Returns > Window\n\nWe love hearing from you. You can return an item within 30 days of delivery. "
           "Gift cards cannot be returned.", "You can return an item within 30 days of delivery."),
    ("sw", "Kurudisha > Muda\n\nTunapenda kusikia kutoka kwako. Unaweza kurudisha bidhaa ndani ya siku 30 baada ya "
           "kupokea. Kadi za zawadi haziwezi kurudishwa.", "Unaweza kurudisha bidhaa ndani ya siku 30 baada ya kupokea."),
    ("ha", "Mayarwa > Lokaci\n\nMuna son jin ta bakinku. Kana iya mayar da kaya cikin kwanaki 30 bayan an kawo. "
           "Ba a mayar da katin kyauta.", "Kana iya mayar da kaya cikin kwanaki 30 bayan an kawo."),
    ("ar", "الإرجاع > المهلة\n\nيسعدنا سماع رأيك. يمكنك إرجاع المنتج خلال 30 يومًا من التسليم. "
           "لا يمكن إرجاع بطاقات الهدايا.", "يمكنك إرجاع المنتج خلال 30 يومًا من التسليم."),
    ("et", "Tagastus > Tähtaeg\n\nMeile meeldib teist kuulda. Toote saab tagastada 30 päeva jooksul pärast kättesaamist. "
           "Kinkekaarte ei saa tagastada.", "Toote saab tagastada 30 päeva jooksul pärast kättesaamist."),
]


@pytest.mark.parametrize(("language", "text", "fact"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_the_sentence_that_matches_best_is_quoted_whole(language, text, fact):
    parts = units(text.split("\n\n", 1)[1])
    assert len(parts) == 3 and parts[1] == fact   # whole sentences, in every script
    # The views put the fact's sentence (position 2) closest to the question.
    passage, _, strength = best_passage("?", hit("r", text, 0.8, language), [(1, 0.80), (2, 0.90), (3, 0.81)])
    assert passage == fact and strength == pytest.approx(0.90)


def test_a_list_is_quoted_whole_with_its_lead_line():
    text = ("Returns > Exceptions\n\nMost items can be returned. The following cannot be returned:\n"
            "- Opened hygiene products\n- Perishable goods\n- Gift cards\n\nContact us for anything else.")
    passage, _, _ = best_passage("can I return gift cards", hit("x", text, 0.9), [(2, 0.80), (4, 0.92), (6, 0.7)])
    assert passage.split("\n") == ["The following cannot be returned:", "- Opened hygiene products",
                                   "- Perishable goods", "- Gift cards"]


def test_a_bold_pseudo_heading_travels_with_what_it_says():
    text = 'Payments > Errors\n\n**"Card declined"**\nAsk your bank to allow online payments.\n**"Expired"**\nUse another card.'
    assert units(text.split("\n\n", 1)[1])[0] == '**"Card declined"** Ask your bank to allow online payments.'
    passage, _, _ = best_passage("card declined", hit("x", text, 0.9), [(1, 0.9), (2, 0.8)])
    assert passage == '**"Card declined"** Ask your bank to allow online payments.'
    assert leads_on("**Good to know:**") and leads_on("Can I pay later?") and not leads_on("Pay later.")


def test_a_link_alone_is_never_the_quote():
    text = "Privacy > More\n\nSee [Privacy and your data](privacy.md). We keep chat transcripts for 12 months."
    passage, _, _ = best_passage("how long do you keep chats", hit("x", text, 0.9), [(1, 0.95), (2, 0.85)])
    assert passage == "We keep chat transcripts for 12 months."


def test_answer_cites_each_quote_and_notes_another_language():
    draft = compose_extractive("Ninaweza kurudisha bidhaa?", "sw", [hit("returns", "Returns are accepted for 30 days.", 0.9)])
    assert draft.grounded and draft.text.startswith(phrase("lead", "sw"))
    assert "Returns are accepted for 30 days. [1]" in draft.text and "Kiingereza" in draft.text
    assert [c.marker for c in draft.citations] == [1]


def test_second_quote_needs_the_questions_words():
    hits = [
        hit("refunds", "Refunds reach your card in 5-10 business days.", 0.93),
        hit("shipping", "Standard delivery takes 3-5 working days.", 0.92),
    ]
    draft = compose_extractive("How long does a card refund take?", "en", hits)
    assert [c.source for c in draft.citations] == ["docs/refunds.md"]


def test_nothing_to_quote_abstains():
    draft = compose_extractive("anything", "ha", [])
    assert not draft.grounded and draft.text == phrase("abstain", "ha")
