"""Confidence calibrated per knowledge base: probes, leave-one-out near misses, thresholds per language."""

from __future__ import annotations

import pytest

from assistant import calibration as cal
from assistant.calibration import Calibration, LanguageCalibration, Probe, ProbeResult, fit_calibration, probe_text
from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.retrieval import make_retriever
from assistant.store import open_store
from kb_ingest.calibrate import refresh_calibration
from kb_ingest.indexing import Indexer
from tests.helpers import write_file as write

CORPUS = {
    "faq/faq_en.csv": (
        'question,answer\n"How do I reset my password?","Tap Forgot password; the link is valid for 30 minutes."\n'
        '"How long does a refund take?","Refunds reach your card in 5-10 business days."\n'
        '"Which countries do you deliver to?","Kenya, Nigeria, the UAE and Estonia."\n'
        '"Can I change my delivery address?","Yes, until the order ships: Account > Orders > Change address."\n'),
    "faq/faq_sw.csv": (
        'question,answer\n"Nitabadilishaje nenosiri nililosahau?","Gusa Umesahau nenosiri; kiungo ni halali kwa dakika 30."\n'
        '"Marejesho ya pesa huchukua muda gani?","Pesa hurudi kwenye kadi yako ndani ya siku 5 hadi 10 za kazi."\n'),
    "docs/shipping.md": "# Shipping\n\n## Delivery times\n\nStandard delivery takes 3-7 business days.\n\n"
                        "## Delivery costs\n\nStandard delivery costs 3.99 USD.\n",
}


def result(language: str, answerable: bool, correct: bool, confidence: float) -> ProbeResult:
    return ProbeResult(Probe("q", language, "g", "faq"), answerable, correct, confidence)


def test_probes_are_faq_questions_headings_and_plain_sentences():
    assert probe_text("Q: How do I pay?\nA: By card.", "") == ("How do I pay?", "faq")
    assert probe_text("Shipping > Delivery costs\n\n...", "Shipping > Delivery costs") == ("Delivery costs", "heading")
    assert probe_text("Shipping\n\n...", "Shipping") is None   # one word says too little
    plain = "Customer experience covers every step of the journey with a brand, from awareness to loyalty."
    assert probe_text(plain, "") == (plain, "statement")


def test_thresholds_are_quantiles_of_near_misses_shrunk_for_small_languages_and_never_below_the_floor():
    rows = [result("en", False, False, s / 100) for s in range(0, 100, 2)]   # 50 near misses in English
    rows += [result("ha", False, False, 0.9) for _ in range(3)]              # three in Hausa: too few
    rows += [result("en", True, True, 0.95) for _ in range(10)]
    fitted = fit_calibration(rows, content="c", model="m")
    english = fitted.languages["en"]
    assert english.near_misses == 50 and english.answerable == 10
    weight = 50 / (50 + cal.SHRINK_PROBES)   # its own 60% quantile (0.588), shrunk towards the pooled one
    assert english.offer_below == pytest.approx(weight * 0.588 + (1 - weight) * fitted.pooled.offer_below, abs=1e-3)
    assert fitted.languages["ha"].offer_below == fitted.pooled.offer_below      # pooled: too few probes of its own
    assert fitted.thresholds("en", floor=(0.9, 0.2)) == (0.9, 0.2)               # the floor wins when higher
    assert fitted.thresholds("xx") == (fitted.pooled.offer_below, fitted.pooled.abstain_below)
    curve = dict((centre, share) for centre, share, _ in english.curve)
    assert curve[0.95] == pytest.approx(10 / 15, abs=1e-3)   # 10 right answers and 5 near misses (0.90-0.98) in the top bin


def test_calibration_round_trips_through_json():
    fitted = Calibration("c", "m", LanguageCalibration(0.5, 0.1, 3, 4, ((0.55, 0.5, 2),)),
                         {"sw": LanguageCalibration(0.6, 0.2)}, probes=7)
    assert Calibration.from_json(fitted.to_json()) == fitted


def test_each_probe_is_a_near_miss_and_answerable_only_when_a_translation_exists():
    asked = []

    def answer(probe, excluded):
        asked.append((probe.text, sorted(excluded)))
        return True, 0.5

    probes = [Probe("a", "sw", "g1", "faq"), Probe("b", "en", "g2", "faq")]
    results = cal.run_probes(probes, answer, {"g1": {"sw", "en"}, "g2": {"en"}})
    assert asked == [("a", ["g1\x00sw"]), ("a", ["g1\x00*"]), ("b", ["g2\x00*"])]
    assert [(r.answerable, r.correct) for r in results] == [(True, True), (False, False), (False, False)]


def test_ingest_calibrates_the_index_and_refits_only_when_content_changes(ingested_kb, embeddings):
    settings = ingested_kb(CORPUS)
    store = open_store(settings, embeddings)
    stored = Calibration.from_json(store.calibration_json())
    assert stored.probes >= 8 and {"en", "sw"} <= set(stored.languages)
    assert all(0.0 <= c.abstain_below <= c.offer_below <= 1.0 for c in stored.languages.values())
    assert not refresh_calibration(store, settings)          # nothing changed: nothing refitted
    write(settings.corpus_dir / "docs" / "gift-cards.md", "# Gift cards\n\n## When gift cards expire\n\nGift cards expire after 3 years.\n")
    Indexer(settings, store).ingest()
    refitted = Calibration.from_json(store.calibration_json())
    assert refitted.content != stored.content and refitted.probes > stored.probes


def test_the_assistant_uses_the_calibrated_thresholds_of_the_question_language(ingested_kb, embeddings):
    settings = ingested_kb(CORPUS)
    store = open_store(settings, embeddings)
    strict = LanguageCalibration(offer_below=0.99, abstain_below=0.0)
    lenient = LanguageCalibration(offer_below=0.0, abstain_below=0.0)
    assistant = Assistant(settings.with_overrides(confidence_threshold=0.0, abstain_threshold=0.0),
                          make_retriever(settings, store))
    fitted = Calibration("c", assistant._models, lenient, {"sw": strict, "en": lenient})
    store.save_calibration(fitted.to_json())
    store.bump_generation()
    english = assistant.reply("e", "How long does a refund take to reach my card?")
    swahili = assistant.reply("s", "Pesa ya marejesho inachukua muda gani kurudi kwenye kadi?")
    assert english.grounded and not english.escalation.offer
    assert swahili.grounded and swahili.escalation.offer        # Swahili is held to its own, stricter bar
    off = Assistant(settings.with_overrides(calibration="off", confidence_threshold=0.0, abstain_threshold=0.0),
                    make_retriever(settings, store))
    assert not off.reply("s2", "Pesa ya marejesho inachukua muda gani kurudi kwenye kadi?").escalation.offer


def test_a_calibration_made_with_other_model_weights_is_ignored(ingested_kb, embeddings):
    settings = ingested_kb(CORPUS)
    store = open_store(settings, embeddings)
    stale = Calibration("c", "other-weights", LanguageCalibration(0.99, 0.98))
    store.save_calibration(stale.to_json())
    store.bump_generation()
    assistant = Assistant(Settings(corpus_dir=settings.corpus_dir, data_dir=settings.data_dir,
                                   confidence_threshold=0.0, abstain_threshold=0.0), make_retriever(settings, store))
    answer = assistant.reply("x", "How long does a refund take to reach my card?")
    assert answer.grounded and not answer.escalation.offer
