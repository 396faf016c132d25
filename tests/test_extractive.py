"""The offline answer composer on hand-made retrieval results (no model needed)."""

from __future__ import annotations

from assistant.extractive import best_passage, compose_extractive, prefer_customer_language
from assistant.phrases import phrase
from assistant.types import Chunk, RetrievedChunk


def hit(cid: str, text: str, score: float, language: str = "en", source: str | None = None) -> RetrievedChunk:
    chunk = Chunk(chunk_id=cid, text=text, source=source or f"docs/{cid}.md", title=cid.title(), language=language)
    return RetrievedChunk(chunk=chunk, score=score, dense_score=score)


TABLE = (
    "Refunds > Times\n\n| Method | Time |\n|---|---|\n| Card | 5-10 business days |\n"
    "| Mobile money (M-Pesa) | 1-3 business days |\n"
)


def test_table_rows_become_readable_lines_without_pipes():
    passage, overlap = best_passage("How long for an M-Pesa refund?", hit("refunds", TABLE, 0.9))
    assert "- Mobile money (M-Pesa) — 1-3 business days" in passage
    assert "|" not in passage and "---" not in passage and overlap > 0


def test_faq_entry_quotes_its_answer_only():
    faq = hit("faq", "Q: How do I reset my password?\nA: Use the Forgot password link on the login page.", 0.9)
    passage, _ = best_passage("reset password", faq)
    assert passage == "Use the Forgot password link on the login page."


def test_answer_cites_each_quote_and_notes_another_language():
    draft = compose_extractive("Ninaweza kurudisha bidhaa?", "sw", [hit("returns", "Returns are accepted for 30 days.", 0.9)])
    assert draft.grounded and draft.text.startswith(phrase("lead", "sw"))
    assert "Returns are accepted for 30 days. [1]" in draft.text and "Kiingereza" in draft.text
    assert [c.marker for c in draft.citations] == [1]


def test_a_close_passage_in_the_customers_language_comes_first():
    hits = [hit("en", "Refunds take 5 days.", 0.93), hit("ar", "يستغرق الاسترداد 5 أيام.", 0.92, "ar")]
    assert prefer_customer_language(hits, "ar")[0].chunk.chunk_id == "ar"
    far = [hit("en", "Refunds take 5 days.", 0.95), hit("ar", "يستغرق الاسترداد 5 أيام.", 0.90, "ar")]
    assert prefer_customer_language(far, "ar")[0].chunk.chunk_id == "en"


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
