"""The customer page's fixed interface strings in the product's languages (answers use assistant.phrases)."""

from __future__ import annotations

from assistant.phrases import localized

UI_LANGUAGES = ("en", "ar", "sw", "ha", "et")
RTL_LANGUAGES = frozenset({"ar"})

STRINGS: dict[str, dict[str, str]] = {
    "title": {
        "en": "How can we help?",
        "ar": "كيف يمكننا مساعدتك؟",
        "sw": "Tunaweza kukusaidiaje?",
        "ha": "Yaya za mu iya taimaka muku?",
        "et": "Kuidas saame aidata?",
    },
    "notice": {
        "en": "An AI assistant answers here; a person is one click away.",
        "ar": "يجيب هنا مساعد يعمل بالذكاء الاصطناعي؛ والتحدث مع شخص على بُعد نقرة واحدة.",
        "sw": "Msaidizi wa AI anajibu hapa; mtu yuko umbali wa kubofya mara moja tu.",
        "ha": "Mataimakin AI ne ke amsawa a nan; mutum yana nan a danna ɗaya kawai.",
        "et": "Siin vastab tehisintellekti assistent; inimene on ühe kliki kaugusel.",
    },
    "talk_to_person": {
        "en": "Talk to a person",
        "ar": "تحدّث مع شخص",
        "sw": "Zungumza na mtu",
        "ha": "Yi magana da mutum",
        "et": "Räägi inimesega",
    },
    "language": {
        "en": "Language",
        "ar": "اللغة",
        "sw": "Lugha",
        "ha": "Harshe",
        "et": "Keel",
    },
    "ask_placeholder": {
        "en": "Type your question…",
        "ar": "اكتب سؤالك…",
        "sw": "Andika swali lako…",
        "ha": "Rubuta tambayarku…",
        "et": "Kirjutage oma küsimus…",
    },
    "page": {
        "en": "page {page}",
        "ar": "صفحة {page}",
        "sw": "ukurasa {page}",
        "ha": "shafi {page}",
        "et": "lk {page}",
    },
    "preparing": {
        "en": "We are getting the help centre ready ({done} of {total} articles). You can ask already: "
              "the answer comes as soon as it is ready.",
        "ar": "نقوم بتجهيز مركز المساعدة ({done} من {total} مقالة). يمكنك طرح سؤالك الآن، "
              "وستصلك الإجابة فور اكتمال التجهيز.",
        "sw": "Tunaandaa kituo cha msaada (makala {done} kati ya {total}). Unaweza kuuliza sasa: "
              "jibu litakuja mara tu kitakapokuwa tayari.",
        "ha": "Muna shirya cibiyar taimako (maƙala {done} cikin {total}). Za ku iya tambaya yanzu: "
              "amsar za ta zo da zarar ta shirya.",
        "et": "Valmistame abikeskust ette ({done}/{total} artiklit). Võite juba küsida: "
              "vastus tuleb kohe, kui see on valmis.",
    },
    "preparing_wait": {
        "en": "Getting the help centre ready…",
        "ar": "جارٍ تجهيز مركز المساعدة…",
        "sw": "Tunaandaa kituo cha msaada…",
        "ha": "Ana shirya cibiyar taimako…",
        "et": "Abikeskust valmistatakse ette…",
    },
    "source_file": {
        "en": "Source: {source}",
        "ar": "المصدر: {source}",
        "sw": "Chanzo: {source}",
        "ha": "Tushe: {source}",
        "et": "Allikas: {source}",
    },
    "yes_connect": {
        "en": "Yes, connect me",
        "ar": "نعم، أوصلني",
        "sw": "Ndiyo, niunganishe",
        "ha": "Ee, haɗa ni",
        "et": "Jah, ühendage mind",
    },
    "no_thanks": {
        "en": "No thanks",
        "ar": "لا، شكرًا",
        "sw": "Hapana, asante",
        "ha": "A'a, na gode",
        "et": "Ei, aitäh",
    },
    "declined": {
        "en": "All right. You can still talk to a person at any time.",
        "ar": "حسنًا. يمكنك التحدث مع شخص في أي وقت.",
        "sw": "Sawa. Bado unaweza kuzungumza na mtu wakati wowote.",
        "ha": "To. Har yanzu kuna iya yin magana da mutum a kowane lokaci.",
        "et": "Selge. Inimesega saate rääkida igal ajal.",
    },
    "passed_on": {
        "en": "Your conversation was passed on to our support team (ticket {ticket}). People ahead of you: {ahead}.",
        "ar": "تم تحويل محادثتك إلى فريق الدعم لدينا (التذكرة {ticket}). عدد الأشخاص أمامك: {ahead}.",
        "sw": "Mazungumzo yako yamepelekwa kwa timu yetu ya msaada (tiketi {ticket}). Watu walio mbele yako: {ahead}.",
        "ha": "An miƙa tattaunawarku ga ƙungiyar tallafinmu (tikiti {ticket}). Mutanen da ke gabanku: {ahead}.",
        "et": "Teie vestlus anti üle meie tugimeeskonnale (pilet {ticket}). Teie ees on järjekorras: {ahead}.",
    },
    "helpful": {
        "en": "Helpful",
        "ar": "مفيد",
        "sw": "Imesaidia",
        "ha": "Ya taimaka",
        "et": "Oli abiks",
    },
    "not_helpful": {
        "en": "Not helpful",
        "ar": "غير مفيد",
        "sw": "Haijasaidia",
        "ha": "Bai taimaka ba",
        "et": "Polnud abiks",
    },
    "comment": {
        "en": "Anything to add? (optional)",
        "ar": "هل تريد إضافة شيء؟ (اختياري)",
        "sw": "Una la kuongeza? (si lazima)",
        "ha": "Akwai abin da za ku ƙara? (ba dole ba)",
        "et": "Kas soovite midagi lisada? (valikuline)",
    },
    "send": {
        "en": "Send",
        "ar": "إرسال",
        "sw": "Tuma",
        "ha": "Aika",
        "et": "Saada",
    },
    "thanks_feedback": {
        "en": "Thank you for your feedback.",
        "ar": "شكرًا على ملاحظاتك.",
        "sw": "Asante kwa maoni yako.",
        "ha": "Na gode da ra'ayinku.",
        "et": "Täname tagasiside eest.",
    },
    # The end-of-conversation survey (ui/views/survey.py): one tap per question, every question optional.
    "done": {
        "en": "I'm done",
        "ar": "انتهيت",
        "sw": "Nimemaliza",
        "ha": "Na gama",
        "et": "Olen valmis",
    },
    "survey_intro": {
        "en": "Before you go: a few quick questions. Answering is optional.",
        "ar": "قبل أن تغادر: بضعة أسئلة سريعة. الإجابة اختيارية.",
        "sw": "Kabla hujaondoka: maswali machache ya haraka. Kujibu si lazima.",
        "ha": "Kafin ku tafi: 'yan tambayoyi kaɗan masu sauri. Amsawa ba dole ba ne.",
        "et": "Enne lahkumist: mõni kiire küsimus. Vastamine on vabatahtlik.",
    },
    "survey_csat": {
        "en": "How satisfied are you? (1 = very unsatisfied, 5 = very satisfied)",
        "ar": "ما مدى رضاك؟ (1 = غير راضٍ إطلاقًا، 5 = راضٍ جدًا)",
        "sw": "Umeridhika kiasi gani? (1 = sijaridhika kabisa, 5 = nimeridhika sana)",
        "ha": "Yaya gamsuwarku take? (1 = ban gamsu ko kaɗan ba, 5 = na gamsu sosai)",
        "et": "Kui rahul te olete? (1 = väga rahulolematu, 5 = väga rahul)",
    },
    "survey_ces": {
        "en": "How easy was it to get help? (1 = very difficult, 7 = very easy)",
        "ar": "ما مدى سهولة الحصول على المساعدة؟ (1 = صعب جدًا، 7 = سهل جدًا)",
        "sw": "Ilikuwa rahisi kiasi gani kupata msaada? (1 = vigumu sana, 7 = rahisi sana)",
        "ha": "Yaya sauƙin samun taimako yake? (1 = da wuya ƙwarai, 7 = da sauƙi ƙwarai)",
        "et": "Kui lihtne oli abi saada? (1 = väga raske, 7 = väga lihtne)",
    },
    "survey_nps": {
        "en": "How likely are you to recommend us? (0 = not at all likely, 10 = extremely likely)",
        "ar": "ما مدى احتمال أن توصي بنا؟ (0 = غير محتمل إطلاقًا، 10 = محتمل جدًا)",
        "sw": "Kuna uwezekano gani utatupendekeza kwa wengine? (0 = hakuna kabisa, 10 = mkubwa sana)",
        "ha": "Yaya yiwuwar ku ba wasu shawarar amfani da mu? (0 = babu yiwuwa ko kaɗan, 10 = da yiwuwa sosai)",
        "et": "Kui tõenäoliselt soovitaksite meid teistele? (0 = üldse mitte, 10 = väga tõenäoliselt)",
    },
    "survey_skip": {
        "en": "Skip",
        "ar": "تخطي",
        "sw": "Ruka",
        "ha": "Tsallake",
        "et": "Jäta vahele",
    },
    "survey_thanks": {
        "en": "Thank you for your answers!",
        "ar": "شكرًا على إجاباتك!",
        "sw": "Asante kwa majibu yako!",
        "ha": "Mun gode da amsoshinku!",
        "et": "Aitäh vastuste eest!",
    },
    "survey_skipped": {
        "en": "No problem. The chat stays open if you need anything else.",
        "ar": "لا بأس. تبقى المحادثة مفتوحة إذا احتجت إلى أي شيء آخر.",
        "sw": "Hakuna shida. Mazungumzo yanabaki wazi ukihitaji kitu kingine.",
        "ha": "Ba komai. Hirar tana nan a buɗe idan kuna buƙatar wani abu.",
        "et": "Pole probleemi. Vestlus jääb avatuks, kui vajate veel midagi.",
    },
}


def t(key: str, language: str, **values: object) -> str:
    """An interface string in `language` (English when missing), with {placeholders} filled."""
    return localized(STRINGS[key], language, **values)


def direction(language: str) -> str:
    """The text direction HTML needs for `language`: "rtl" or "ltr"."""
    return "rtl" if language in RTL_LANGUAGES else "ltr"
