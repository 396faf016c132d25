"""Escalation signals in all five languages: human requests, sensitive topics, frustration, loops."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigError
from assistant.escalation import (
    FrustrationDetector,
    asks_for_human,
    detect_loop,
    detect_sensitive_topics,
    known_topics,
    says_not_helped,
    track_frustration,
    validate_topics,
)
from assistant.escalation.cues import PhraseMatcher, normalize

ALL_TOPICS = ("billing_dispute", "account_security", "legal_threat", "data_deletion")

# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أُريدُ التَّحدُّث", "اريد التحدث"),            # harakat, hamza on alef
        ("إنسان آخر", "انسان اخر"),                        # alef forms
        ("خدمة العملاء", "خدمه العملاء"),                  # ta marbuta
        ("مـــوظف", "موظف"),                               # tatweel
        ("ɗan ƙasa ɓera", "dan kasa bera"),                 # Hausa hooked letters
        ("Ma'aikaci", "maaikaci"),                          # apostrophe
        ("Päris Inimene", "paris inimene"),                 # Estonian diacritics
        ("AGENTTTT!!!", "agent!"),                          # case and letter runs
    ],
)
def test_normalize_folds_script_variants(raw, expected):
    assert normalize(raw) == expected


def test_phrase_matcher_supports_prefix_and_gap():
    matcher = PhraseMatcher(["charged ~ twice", "hakit*"])
    assert [m.phrase for m in matcher.find("You charged my card twice")] == ["charged ~ twice"]
    assert not matcher.find("You charged me for one item, then another one, then yet another twice")
    assert [m.phrase for m in matcher.find("Mu konto on häkitud")] == ["hakit*"]


# --- explicit requests for a person ---------------------------------------------------------------

HUMAN_REQUESTS = {
    "en": ["agent", "agent!", "HUMAN", "operator", "real person", "talk to someone", "representative",
           "I want to talk to a real person please", "Can I speak with a human?",
           "Is there a human I can talk to?", "connect me to an agent now"],
    "ar": ["أريد التحدث مع موظف", "موظف خدمة العملاء", "انسان حقيقي", "وكيل", "ممكن اكلم موظف لو سمحت",
           "حولني على موظف", "أُريدُ التَّحدُّث مع مُوظَّف"],
    "sw": ["nataka kuongea na mtu", "wakala", "mhudumu", "binadamu",
           "Naomba kuzungumza na mhudumu wa wateja tafadhali", "niunganishe na wakala sasa hivi", "nataka mtu halisi"],
    "ha": ["ina son magana da mutum", "wakili", "ma'aikaci", "ɗan adam", "dan adam",
           "Don Allah a haɗa ni da wakili", "ina bukatar ma'aikacin kamfani", "mutum na gaske"],
    "et": ["tahan rääkida inimesega", "klienditeenindaja", "operaator", "päris inimene",
           "Kas ma saaksin rääkida klienditeenindajaga?", "ühendage mind operaatoriga palun", "inimest palun"],
}
NOT_HUMAN_REQUESTS = {
    "en": ["my agent code doesn't work", "The human resources page is down", "I am a real person, not a bot",
           "Someone charged my card twice", "I need my agent ID", "the agent I talked to was rude"],
    "ar": ["الوكيل لم يرسل الطلب", "كيف اغير كلمة المرور", "موظف الاستقبال كان لطيفا جدا", "لا احد يرد على رسائلي"],
    "sw": ["wakala wa M-Pesa alinipa pesa pungufu", "nataka kutuma pesa kwa mtu",
           "kuna mtu ameingia kwenye akaunti yangu", "nataka kujua bei"],
    "ha": ["wakili ya ba ni kudi kadan", "ina son sanin farashin", "mutum ya shiga asusuna", "ina son wani abu"],
    "et": ["operaator saatis mulle vale arve", "tahan muuta parooli",
           "klienditeenindaja oli väga abivalmis, aitäh", "Keegi logis mu kontole sisse"],
}


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in HUMAN_REQUESTS.items() for t in ts])
def test_asks_for_human_recognises_requests(language, text):
    assert asks_for_human(text), f"{language}: {text!r}"


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in NOT_HUMAN_REQUESTS.items() for t in ts])
def test_asks_for_human_ignores_other_mentions(language, text):
    assert not asks_for_human(text), f"{language}: {text!r}"


def test_asks_for_human_ignores_long_messages_that_mention_a_person():
    text = ("I spoke with a real person yesterday about my invoice and they said the refund would be on "
            "my card in five days but it is still not there so please check it")
    assert not asks_for_human(text)


# --- sensitive topics ------------------------------------------------------------------------------

SENSITIVE = {
    "en": [("I want to file a chargeback", "billing_dispute"), ("You charged me twice for one order", "billing_dispute"),
           ("My account was hacked", "account_security"), ("Someone logged into my account from abroad", "account_security"),
           ("I'm going to sue you", "legal_threat"), ("I will contact my lawyer", "legal_threat"),
           ("Please delete all my data", "data_deletion"), ("GDPR request: erase my personal data", "data_deletion")],
    "ar": [("تم خصم المبلغ مرتين من بطاقتي", "billing_dispute"), ("أريد الاعتراض على رسوم غير مصرح بها", "billing_dispute"),
           ("تم اختراق حسابي", "account_security"), ("شخص ما دخل إلى حسابي", "account_security"),
           ("سأرفع دعوى قضائية ضدكم", "legal_threat"), ("سأتواصل مع محاميّ", "legal_threat"),
           ("أريد حذف جميع بياناتي", "data_deletion"), ("امسحوا بياناتي الشخصية", "data_deletion")],
    "sw": [("Nimekatwa pesa mara mbili", "billing_dispute"), ("nataka kupinga malipo haya", "billing_dispute"),
           ("akaunti yangu imedukuliwa", "account_security"), ("mtu fulani ameingia kwenye akaunti yangu", "account_security"),
           ("nitawashtaki mahakamani", "legal_threat"), ("nitaongea na wakili wangu", "legal_threat"),
           ("futeni taarifa zangu zote", "data_deletion"), ("nataka kufuta akaunti yangu", "data_deletion")],
    "ha": [("An cire min kuɗi sau biyu", "billing_dispute"), ("an caje ni sau biyu", "billing_dispute"),
           ("an yi kutse a asusuna", "account_security"), ("wani ya shiga asusuna", "account_security"),
           ("zan kai ku kotu", "legal_threat"), ("zan tuntubi lauyana", "legal_threat"),
           ("a goge duk bayanaina", "data_deletion"), ("ina son a share bayanaina", "data_deletion")],
    "et": [("Raha võeti kaks korda", "billing_dispute"), ("soovin makse vaidlustada", "billing_dispute"),
           ("mu konto on häkitud", "account_security"), ("keegi logis mu kontole sisse", "account_security"),
           ("pöördun kohtusse", "legal_threat"), ("räägin oma advokaadiga", "legal_threat"),
           ("kustutage kõik minu andmed", "data_deletion"), ("palun kustutage mu konto", "data_deletion")],
}
NOT_SENSITIVE = {
    "en": ["How do I change my password?", "Can I pay by card?", "Where is my parcel?"],
    "ar": ["كيف أغير كلمة المرور؟", "ما هي ساعات العمل؟", "هل يمكنني الدفع بالبطاقة؟"],
    "sw": ["Nitabadilishaje nenosiri?", "Kifurushi changu kiko wapi?", "Naweza kulipa kwa kadi?"],
    "ha": ["Yaya zan canza kalmar sirri?", "Ina kayana yake?", "Zan iya biya da kati?"],
    "et": ["Kuidas parooli muuta?", "Millal mu pakk saabub?", "Kohtume homme poes"],
}


@pytest.mark.parametrize(("language", "text", "topic"),
                         [(lang, t, topic) for lang, cases in SENSITIVE.items() for t, topic in cases])
def test_detects_sensitive_topics(language, text, topic):
    assert topic in detect_sensitive_topics(text, ALL_TOPICS), f"{language}: {text!r}"


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in NOT_SENSITIVE.items() for t in ts])
def test_ordinary_questions_are_not_sensitive(language, text):
    assert detect_sensitive_topics(text, ALL_TOPICS) == (), f"{language}: {text!r}"


def test_only_configured_topics_are_reported():
    assert detect_sensitive_topics("I'm going to sue you, you charged me twice", ("legal_threat",)) == ("legal_threat",)
    assert detect_sensitive_topics("I'm going to sue you", ()) == ()


def test_unknown_topic_is_a_config_error_naming_the_known_ones():
    assert set(known_topics()) == set(ALL_TOPICS)
    with pytest.raises(ConfigError, match="billing_dispute.*data_deletion.*'refunds'"):
        validate_topics(("billing_dispute", "refunds"))
    with pytest.raises(ConfigError):
        detect_sensitive_topics("hello", ("refunds",))


# --- frustration -------------------------------------------------------------------------------------

FRUSTRATED = {
    "en": ["This is the fourth time I write to you and NOBODY answers!!! Useless.",
           "Are you kidding me? My order is late AGAIN. Worst service ever."],
    "ar": ["للمرة الرابعة أكتب لكم ولا أحد يرد!!! خدمة فاشلة", "بجد زهقت منكم، الطلب متأخر مرة ثانية، أسوأ شركة"],
    "sw": ["Hii ni mara ya nne naandika na hakuna anayejibu!!! Huduma mbovu kabisa",
           "Nimechoka na nyinyi, oda imechelewa tena, kampuni mbaya zaidi"],
    "ha": ["Wannan karo na hudu ina rubutu babu wanda ya amsa!!! Sabis na banza",
           "Na gaji da ku wallahi, kayana sun makara kuma, mafi munin kamfani"],
    "et": ["Kirjutan juba neljandat korda ja keegi ei vasta!!! Täiesti kasutu teenindus",
           "Mul on teist kõrini, tellimus hilineb jälle, halvim firma"],
}
CALM = {
    "en": ["Hello, could you tell me how to change my billing address?", "Thank you, that answered my question."],
    "ar": ["مرحبا، كيف يمكنني تغيير عنوان الفواتير؟", "شكرا لك، هذا أجاب عن سؤالي"],
    "sw": ["Habari, naweza kubadilisha anwani ya malipo vipi?", "Asante, hilo limejibu swali langu"],
    "ha": ["Sannu, yaya zan canza adireshin biyan kuɗi?", "Na gode, wannan ya amsa tambayata"],
    "et": ["Tere, kuidas ma saan oma arveldusaadressi muuta?", "Aitäh, see vastas mu küsimusele"],
}


@pytest.fixture(scope="module")
def detector(embeddings):
    return FrustrationDetector(embeddings)


@pytest.fixture(scope="module")
def lexical_detector():
    return FrustrationDetector(None)


@pytest.mark.parametrize("language", sorted(FRUSTRATED))
def test_frustrated_messages_cross_the_default_threshold(detector, language):
    for text in FRUSTRATED[language]:
        assert detector.score(text, language) >= 0.6, text
    for text in CALM[language]:
        assert detector.score(text, language) < 0.6, text


@pytest.mark.parametrize("language", sorted(FRUSTRATED))
def test_lexical_fallback_still_ranks_frustrated_above_calm(lexical_detector, language):
    worst_frustrated = min(lexical_detector.score(t, language) for t in FRUSTRATED[language])
    best_calm = max(lexical_detector.score(t, language) for t in CALM[language])
    assert worst_frustrated > best_calm


def test_detector_uses_embeddings_only_with_the_model_it_was_fitted_on(embeddings):
    class OtherEmbeddings:
        model_id = "some/other-model"

        def embed_query_vector(self, text):
            raise AssertionError("must not be called")

    assert FrustrationDetector(embeddings).uses_embeddings
    other = FrustrationDetector(OtherEmbeddings())
    assert not other.uses_embeddings
    assert 0.0 <= other.score("This is useless!!!", "en") <= 1.0


def test_scores_are_probabilities_and_empty_text_is_calm(lexical_detector):
    assert lexical_detector.score("   ", "en") == 0.0
    for text in ["WHY??? WHY!!!", "ok", "😡😡😡"]:
        assert 0.0 <= lexical_detector.score(text, "sw") <= 1.0


def test_two_frustrated_messages_count_more_than_one():
    one, _ = track_frustration([0.1, 0.2], 0.55)
    two, _ = track_frustration([0.1, 0.55], 0.55)
    assert one == pytest.approx(0.55)
    assert two > one and two >= 0.6


def test_rising_trend_and_fading_outburst():
    level, trajectory = track_frustration([0.1, 0.3], 0.7)
    assert trajectory == "rising" and level >= 0.7
    _, trajectory = track_frustration([0.8, 0.8], 0.2)
    assert trajectory == "falling"
    after_one, _ = track_frustration([0.9], 0.1)
    after_three, _ = track_frustration([0.9, 0.1, 0.1], 0.1)
    assert after_one > after_three and after_three < 0.6
    assert track_frustration([], 0.3) == (0.3, "new")


def test_detector_track_delegates(lexical_detector):
    assert lexical_detector.track([0.7], 0.7) == track_frustration([0.7], 0.7)


# --- loops ---------------------------------------------------------------------------------------------

LOOPS = {
    # (earlier question, the same question rephrased, a different question)
    "en": ("How do I reset my password?", "I asked how to reset my password, how do I do it?",
           "Can I return a gift without a receipt?"),
    "ar": ("كيف أعيد تعيين كلمة المرور؟", "سألتك كيف أغير كلمة المرور الخاصة بي؟", "هل يمكنني إرجاع هدية بدون إيصال؟"),
    "sw": ("Marejesho yangu ya pesa yatafika lini?", "Pesa zangu zitarudishwa lini? Bado sijapata marejesho",
           "Je, ninaweza kurudisha zawadi bila risiti?"),
    "ha": ("Yaya zan canza kalmar sirri ta?", "Na tambaye ka yadda zan canza kalmar sirri ta, yaya zan yi?",
           "Zan iya mayar da kyauta ba tare da rasit ba?"),
    "et": ("Millal mu raha tagastatakse?", "Kus on mu raha tagastus? Millal ma raha tagasi saan?",
           "Kas ma saan kingituse ilma tšekita tagastada?"),
}
NOT_HELPED = {
    "en": ["That didn't help at all", "You already said that", "That's not what I asked"],
    "ar": ["هذا لم يساعدني", "هذا ليس ما سألت عنه", "نفس الرد مرة أخرى"],
    "sw": ["Hilo halijasaidia", "Umeshasema hivyo", "Hiyo sio swali langu"],
    "ha": ["Wannan bai taimaka ba", "Ka riga ka faɗa", "Ba wannan na tambaya ba"],
    "et": ["See ei aidanud", "Te juba ütlesite seda", "See pole see, mida ma küsisin"],
}


@pytest.mark.parametrize("language", sorted(LOOPS))
def test_rephrased_question_is_a_loop(embeddings, language):
    first, rephrased, other = LOOPS[language]
    loop, similarity = detect_loop([first], rephrased, embeddings.embed_query_vector, 0.9)
    assert loop and similarity >= 0.9
    loop, similarity = detect_loop([first], other, embeddings.embed_query_vector, 0.9)
    assert not loop and similarity < 0.9


@pytest.mark.parametrize("language", sorted(LOOPS))
def test_repeated_question_is_a_loop_without_embeddings(language):
    first = LOOPS[language][0]
    loop, similarity = detect_loop(["hello", first], "  " + first.upper() + "??", None, 0.9)
    assert loop and similarity >= 0.9
    assert detect_loop([first], LOOPS[language][2], None, 0.9)[0] is False


@pytest.mark.parametrize(("language", "text"), [(lang, t) for lang, ts in NOT_HELPED.items() for t in ts])
def test_saying_the_answer_did_not_help_is_a_loop(language, text):
    assert says_not_helped(text), f"{language}: {text!r}"
    assert detect_loop([], text, None, 0.9)[0]


@pytest.mark.parametrize("language", sorted(CALM))
def test_ordinary_follow_ups_are_not_loops(language):
    assert not says_not_helped(CALM[language][1])
    assert not says_not_helped(LOOPS[language][2])


def test_short_repeats_are_not_loops():
    assert detect_loop(["ok", "thanks"], "ok", None, 0.9) == (False, 0.0)
