"""Hybrid retrieval over a real (temp-dir) Chroma with a tiny corpus in English, Arabic, Swahili, Hausa, Estonian."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.config import Settings
from assistant.lexical import BM25Index, latin_skeleton, tokenize
from assistant.ranking import ViewIndex, fuse
from assistant.retrieval import FusionParams, HybridRetriever
from assistant.store import VectorStore
from kb_ingest.views import sync_views

LANGUAGES = ("en", "ar", "sw", "ha", "et")

# (source, language, title, text). Only English explains passwords; every other language has
# wrong-topic chunks (shipping, refunds, gift cards) that its questions must not prefer.
CORPUS = [
    ("en/password.md", "en", "Resetting your password",
     "To reset your password, open Settings, choose Security and click Reset password. "
     "We email you a link that is valid for 30 minutes."),
    ("en/shipping.md", "en", "Delivery times",
     "Orders ship within 24 hours. Standard delivery takes 3 to 5 working days; express delivery arrives the next working day."),
    ("en/refunds.md", "en", "Refunds", "Refunds are paid back to the original card within 10 days after we receive the returned item."),
    ("en/status-4417.md", "en", "Tracking status", "Tracking status ZX-4417 means the parcel is held at customs."),
    ("en/status-4471.md", "en", "Tracking status", "Tracking status ZX-4471 means the parcel was returned to the sender."),
    ("en/status-4714.md", "en", "Tracking status", "Tracking status ZX-4714 means the delivery address is incomplete."),
    ("en/status-7441.md", "en", "Tracking status", "Tracking status ZX-7441 means the parcel is waiting at the pickup point."),
    ("sw/usafirishaji.md", "sw", "Usafirishaji",
     "Maagizo husafirishwa ndani ya saa 24. Usafirishaji wa kawaida huchukua siku 3 hadi 5 za kazi."),
    ("sw/kadi.md", "sw", "Kadi za zawadi", "Kadi za zawadi zinaweza kutumika wakati wa kulipa na haziishi muda."),
    ("ha/jigila.md", "ha", "Jigilar kaya",
     "Ana aika odar ku cikin sa'o'i 24. Isar da kaya yana ɗaukar kwanaki uku zuwa biyar na aiki."),
    ("ha/kudi.md", "ha", "Mayar da kuɗi",
     "Ana mayar da kuɗi zuwa katin asali cikin kwanaki goma bayan mun karɓi kayan da aka dawo da su."),
    ("ar/shipping.md", "ar", "الشحن", "يتم شحن الطلبات خلال 24 ساعة. يستغرق التوصيل العادي من ثلاثة إلى خمسة أيام عمل."),
    ("ar/refunds.md", "ar", "استرداد الأموال", "تُعاد المبالغ المستردة إلى البطاقة الأصلية خلال عشرة أيام من استلام المنتج المرتجع."),
    ("et/tarne.md", "et", "Tarne", "Tellimused saadetakse 24 tunni jooksul. Tavaline tarne võtab kolm kuni viis tööpäeva."),
    ("et/kinkekaart.md", "et", "Kinkekaardid", "Kinkekaarte saab kasutada kassas ja need ei aegu kunagi."),
]


def _add(store: VectorStore, rows) -> None:
    vectors = store.embeddings.embed_passages([text for *_, text in rows])
    store.collection.add(
        ids=[source for source, *_ in rows],
        embeddings=vectors.tolist(),
        documents=[text for *_, text in rows],
        metadatas=[
            {"source": s, "language": lang, "title": title, "kind": "doc", "page": 0, "section": ""}
            for s, lang, title, _ in rows
        ],
    )
    sync_views(store)
    store.bump_generation()


@pytest.fixture(scope="module")
def store(tmp_path_factory, embeddings) -> VectorStore:
    settings = Settings(data_dir=tmp_path_factory.mktemp("retrieval"), collection="tiny")
    store = VectorStore(settings, embeddings)
    _add(store, CORPUS)
    return store


def _sources(retriever: HybridRetriever, question: str, **kwargs) -> list[str]:
    return [hit.chunk.source for hit in retriever.retrieve(question, k=5, **kwargs).chunks]


def test_hybrid_finds_the_exact_code_that_dense_search_confuses(store):
    question = "my parcel shows ZX-4714"
    dense_only = HybridRetriever(store, LANGUAGES, lexical_weight=0.0, cross_lexical_weight=0.0)
    # The premise: on its own the embedder prefers a look-alike code.
    assert _sources(dense_only, question)[0] != "en/status-4714.md"
    result = HybridRetriever(store, LANGUAGES).retrieve(question, k=5)
    top = result.chunks[0]
    assert top.chunk.source == "en/status-4714.md"
    assert top.lexical_rank == 1 and top.dense_rank > 1
    assert top.score > result.chunks[1].score and top.dense_score > 0.5


@pytest.mark.parametrize(
    ("language", "question", "distractor"),
    [
        ("sw", "Ninawezaje kubadilisha nenosiri langu?", "sw/usafirishaji.md"),
        ("ha", "Ta yaya zan sake saita kalmar sirri ta?", "ha/jigila.md"),
        ("ar", "كيف يمكنني إعادة تعيين كلمة المرور الخاصة بي؟", "ar/shipping.md"),
        ("et", "Kuidas ma saan oma parooli vahetada?", "et/tarne.md"),
    ],
)
def test_cross_lingual_question_finds_the_english_passage(store, language, question, distractor):
    result = HybridRetriever(store, LANGUAGES).retrieve(question, k=5)
    sources = [hit.chunk.source for hit in result.chunks]
    assert result.language == language
    assert sources[0] == "en/password.md"
    assert distractor not in sources[:1]
    assert all(hit.chunk.language != language for hit in result.chunks[:1])


def test_without_the_language_centring_estonian_prefers_a_wrong_topic_estonian_chunk(store):
    # Guards the reason the centring exists: if the embedder stops doing this, revisit the tuning.
    raw = HybridRetriever(store, LANGUAGES, partition_centring=0.0, same_language_margin=0.0,
                          lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0)
    assert _sources(raw, "Kuidas ma saan oma parooli vahetada?")[0].startswith("et/")


def test_short_estonian_question_finds_the_english_passage(store):
    # A known limit before language centring (the fixed same-language bonus tipped it to Estonian text).
    assert _sources(HybridRetriever(store, LANGUAGES), "Kuidas parooli muuta?")[0] == "en/password.md"


def test_a_same_language_passage_on_topic_still_comes_first(store):
    sources = _sources(HybridRetriever(store, LANGUAGES), "Usafirishaji huchukua siku ngapi?")
    assert sources[0] == "sw/usafirishaji.md"
    assert "en/shipping.md" in sources[:3]


def test_the_given_language_and_vector_are_used_without_embedding_again(store):
    retriever = HybridRetriever(store, LANGUAGES)
    vector = retriever.embed_query("How long does delivery take?")
    result = retriever.retrieve("How long does delivery take?", k=3, language="en", query_vector=vector)
    assert result.language == "en"
    assert result.query_vector is vector
    assert result.chunks[0].chunk.source == "en/shipping.md"
    assert [h.score for h in result.chunks] == sorted((h.score for h in result.chunks), reverse=True)


def test_lexical_index_is_rebuilt_when_the_generation_changes(tmp_path, embeddings):
    store = VectorStore(Settings(data_dir=tmp_path, collection="rebuild"), embeddings)
    _add(store, CORPUS[:3])
    retriever = HybridRetriever(store, LANGUAGES, refresh_s=0.0)
    assert "en/loyalty.md" not in _sources(retriever, "Quasar loyalty points")
    first = retriever.snapshot()

    row = ("en/loyalty.md", "en", "Loyalty", "Quasar loyalty points expire after 12 months.")
    vector = embeddings.embed_passages([row[3]])
    store.collection.add(ids=[row[0]], embeddings=vector.tolist(), documents=[row[3]],
                         metadatas=[{"source": row[0], "language": "en", "title": row[2]}])
    # Same generation: the snapshot is kept (no rebuild on every question).
    assert retriever.snapshot() is first
    store.bump_generation()
    hits = retriever.retrieve("Quasar loyalty points", k=3).chunks
    assert retriever.snapshot() is not first
    assert hits[0].chunk.source == "en/loyalty.md" and hits[0].lexical_rank == 1


def test_an_empty_store_returns_no_chunks(tmp_path, embeddings):
    store = VectorStore(Settings(data_dir=tmp_path, collection="empty"), embeddings)
    result = HybridRetriever(store, LANGUAGES).retrieve("anything at all", k=3, query_vector=np.ones(384, np.float32))
    assert result.chunks == ()


# ---- fusion arithmetic ------------------------------------------------------------------------


def test_fuse_adds_weighted_lexical_share_to_the_centred_cosine():
    cosines = np.array([0.90, 0.80, 0.85, 0.70], dtype=np.float32)
    lexical = np.array([0.05, 0.90, 0.60, 0.00], dtype=np.float32)
    languages = np.zeros(4, dtype=np.int32)  # one language: centring moves every chunk alike
    params = FusionParams(same_language_margin=0.0, lexical_weight=0.1, cross_lexical_weight=0.05,
                          lexical_floor=0.1, view_weight=0.0)
    ranking = fuse(cosines, lexical, languages, 0, params, k=4)
    # 0.90 (0.05 is under the floor), 0.80 + 0.09, 0.85 + 0.06, 0.70
    assert list(ranking.order) == [2, 0, 1, 3]
    assert ranking.fused == pytest.approx([0.91, 0.90, 0.89, 0.70], abs=1e-6)
    assert list(ranking.dense_rank) == [2, 1, 3, 4]
    assert list(ranking.lexical_rank) == [2, 0, 1, 0]
    assert list(fuse(cosines, lexical, languages, 0, params, k=2).order) == [2, 0]


def test_fuse_judges_each_passage_against_the_others_of_its_language():
    # Language 0 (the question's) scores high across the board; language 1's best stands out more.
    cosines = np.array([0.86, 0.85, 0.84, 0.83, 0.80, 0.72, 0.71], dtype=np.float32)
    languages = np.array([0, 0, 0, 0, 1, 1, 1], dtype=np.int32)
    none = np.zeros(7, np.float32)
    plain = FusionParams(partition_centring=0.0, lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0)
    assert fuse(cosines, none, languages, 0, plain).order[0] == 0
    centred = FusionParams(lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0, centring_prior=0.0)
    ranking = fuse(cosines, none, languages, 0, centred)
    assert ranking.order[0] == 4
    # Still on the cosine scale: the overall mean is added back.
    language_1 = float(cosines[4:].mean())
    assert ranking.fused[0] == pytest.approx(0.80 - (language_1 - float(cosines.mean())), abs=1e-6)
    bonus = FusionParams(lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0, same_language_margin=-0.1)
    assert fuse(cosines, none, languages, 0, bonus).order[0] == 0
    # A prior of many pseudo-passages at the overall mean all but switches the centring off.
    shrunk = FusionParams(lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0, centring_prior=1000.0)
    assert fuse(cosines, none, languages, 0, shrunk).order[0] == 0


def test_fuse_leaves_out_masked_chunks_and_centres_on_the_rest():
    cosines = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    languages = np.zeros(3, dtype=np.int32)
    params = FusionParams(lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.0)
    keep = np.array([False, True, True])
    ranking = fuse(cosines, np.zeros(3, np.float32), languages, 0, params, k=3, keep=keep)
    assert list(ranking.order) == [1, 2]


def test_views_lift_a_chunk_whose_one_sentence_answers():
    cosines = np.array([0.85, 0.84], dtype=np.float32)
    languages = np.zeros(2, dtype=np.int32)
    direction = np.array([1.0, 0.0], dtype=np.float32)
    # chunk 1 has a view pointing straight at the question; chunk 0 has none.
    views = ViewIndex(vectors=np.array([[1.0, 0.0]], dtype=np.float32), start=np.array([0, 0]), end=np.array([0, 1]))
    params = FusionParams(lexical_weight=0.0, cross_lexical_weight=0.0, view_weight=0.5)
    ranking = fuse(cosines, np.zeros(2, np.float32), languages, 0, params, views=views, direction=direction)
    assert list(ranking.order) == [1, 0]
    assert list(ranking.evidence) == [0, -1] and ranking.evidence_score[0] == pytest.approx(1.0)
    assert list(fuse(cosines, np.zeros(2, np.float32), languages, 0, params).order) == [0, 1]


# ---- tokenizer --------------------------------------------------------------------------------


def test_arabic_diacritics_letter_variants_and_prefixes_are_folded():
    assert tokenize("وَالكِتَابُ") == tokenize("الكتاب") == tokenize("كتاب")
    assert tokenize("بالبطاقة") == tokenize("البطاقه")
    assert tokenize("إلى") == tokenize("الى") == []  # a stop word in every spelling
    assert tokenize("٢٠٢٤") == ["2024"]


def test_hausa_hooked_letters_match_plain_spellings():
    assert tokenize("ƙasa ɗaki ɓarna ƙofa") == tokenize("kasa daki barna kofa")
    assert "kudi" in tokenize("kuɗi")


def test_estonian_inflected_forms_share_a_prefix_term():
    forms = ["tellimus", "tellimuse", "tellimust", "tellimusi", "tellimustele"]
    prefixes = [{t for t in tokenize(form) if t.endswith("~")} for form in forms[1:]]
    assert all(p == prefixes[0] and len(p) == 1 for p in prefixes)
    index = BM25Index(["Tellimuse tühistamine: tellimust saab tühistada 14 päeva jooksul.", "Tarne võtab viis päeva."])
    assert index.top("Kuidas tellimusi tühistatakse?", 2)[0][0] == 0


def test_latin_spellings_of_names_meet_across_languages():
    assert latin_skeleton("nijeriya") == latin_skeleton("nigeria")
    assert latin_skeleton("kongo") == latin_skeleton("congo")
    index = BM25Index(["Nigeria is a country in West Africa.", "Kenya is a country in East Africa."])
    assert index.top("Mji mkuu wa Nijeriya ni upi?", 1)[0][0] == 0


def test_bm25_ceiling_bounds_every_score():
    index = BM25Index(["refund refund refund card", "card payment", "delivery"])
    scores = index.scores("refund card")
    assert 0 < scores.max() <= index.ceiling("refund card")
    assert index.ceiling("zzz unknown") == 0


def test_changes_made_through_the_same_store_are_seen_immediately(settings, embeddings):
    from assistant.retrieval import HybridRetriever
    from assistant.store import open_store
    from kb_ingest.indexing import Indexer

    (settings.corpus_dir / "a.md").write_text("# Shipping\n\nStandard shipping takes 3-7 business days.\n")
    store = open_store(settings, embeddings)
    indexer = Indexer(settings, store)
    indexer.ingest()
    retriever = HybridRetriever(store, settings.languages, refresh_s=3600)
    assert retriever.retrieve("gift card expiry", k=1).chunks[0].chunk.source == "a.md"
    (settings.corpus_dir / "b.md").write_text("# Gift cards\n\nGift cards never expire.\n")
    indexer.ingest()
    assert retriever.retrieve("gift card expiry", k=1).chunks[0].chunk.source == "b.md"
