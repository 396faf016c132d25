"""Fixed customer-facing phrases in the product's languages (en, ar, sw, ha, et)."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGE_NAMES = {
    "en": {"en": "English", "ar": "Arabic", "sw": "Swahili", "ha": "Hausa", "et": "Estonian"},
    "ar": {"en": "الإنجليزية", "ar": "العربية", "sw": "السواحيلية", "ha": "الهوسا", "et": "الإستونية"},
    "sw": {"en": "Kiingereza", "ar": "Kiarabu", "sw": "Kiswahili", "ha": "Kihausa", "et": "Kiestonia"},
    "ha": {"en": "Turanci", "ar": "Larabci", "sw": "Swahili", "ha": "Hausa", "et": "Estoniyanci"},
    "et": {"en": "inglise", "ar": "araabia", "sw": "suahiili", "ha": "hausa", "et": "eesti"},
}

PHRASES: dict[str, dict[str, str]] = {
    "lead": {
        "en": "Here is what our help centre says:",
        "ar": "إليك ما يقوله مركز المساعدة لدينا:",
        "sw": "Hiki ndicho kituo chetu cha msaada kinasema:",
        "ha": "Ga abin da cibiyar taimakonmu ta ce:",
        "et": "Meie abikeskus ütleb selle kohta järgmist:",
    },
    "other_language": {
        "en": "This answer comes from our {names} articles.",
        "ar": "هذه الإجابة مأخوذة من مقالاتنا باللغة {names}.",
        "sw": "Jibu hili limetoka kwenye makala zetu za {names}.",
        "ha": "Wannan amsa ta fito daga labaranmu na {names}.",
        "et": "See vastus pärineb meie {names} keelsetest artiklitest.",
    },
    "abstain": {
        "en": "I'm sorry, I couldn't find this in our help centre, so I won't guess.",
        "ar": "عذرًا، لم أجد هذا في مركز المساعدة لدينا، لذلك لن أخمّن.",
        "sw": "Samahani, sikupata hili katika kituo chetu cha msaada, kwa hivyo sitakisia.",
        "ha": "Yi haƙuri, ban sami wannan a cibiyar taimakonmu ba, don haka ba zan yi hasashe ba.",
        "et": "Vabandust, ma ei leidnud seda meie abikeskusest, seega ma ei hakka oletama.",
    },
    "offer_person": {
        "en": "Would you like me to connect you with a person from our support team?",
        "ar": "هل تريد أن أوصلك بأحد أفراد فريق الدعم لدينا؟",
        "sw": "Je, ungependa nikuunganishe na mtu kutoka timu yetu ya msaada?",
        "ha": "Kuna so in haɗa ku da wani daga ƙungiyar tallafinmu?",
        "et": "Kas soovite, et ühendaksin teid meie tugimeeskonna inimesega?",
    },
    "handoff": {
        "en": "I've passed our conversation to a person from our support team, so you won't need to repeat yourself. Your place is kept; {ahead} people ahead of you. You can keep asking me while you wait.",
        "ar": "لقد حوّلت محادثتنا إلى أحد أفراد فريق الدعم، فلن تحتاج إلى تكرار ما قلته. مكانك محفوظ؛ أمامك {ahead} أشخاص. يمكنك مواصلة سؤالي أثناء الانتظار.",
        "sw": "Nimempa mtu wa timu yetu ya msaada mazungumzo yetu, kwa hivyo hutahitaji kurudia. Nafasi yako imehifadhiwa; kuna watu {ahead} mbele yako. Unaweza kuendelea kuniuliza ukisubiri.",
        "ha": "Na miƙa tattaunawarmu ga wani daga ƙungiyar tallafinmu, don haka ba sai kun maimaita ba. An ajiye muku matsayinku; akwai mutane {ahead} a gabanku. Kuna iya ci gaba da tambayata yayin da kuke jira.",
        "et": "Andsin meie vestluse üle tugimeeskonna inimesele, nii et te ei pea midagi kordama. Teie koht järjekorras on hoitud; teie ees on {ahead} inimest. Võite ootamise ajal mulle edasi küsimusi esitada.",
    },
    "llm_unavailable": {
        "en": "Our answer service is slow right now, so here are the most relevant passages from our help centre.",
        "ar": "خدمة الإجابة لدينا بطيئة الآن، لذا إليك أكثر المقاطع صلة من مركز المساعدة.",
        "sw": "Huduma yetu ya majibu ni ya polepole sasa hivi, kwa hivyo hapa kuna vifungu vinavyohusiana zaidi kutoka kituo chetu cha msaada.",
        "ha": "Sabis ɗin amsoshinmu yana jinkiri yanzu, don haka ga sassan da suka fi dacewa daga cibiyar taimakonmu.",
        "et": "Meie vastamisteenus on praegu aeglane, seega siin on abikeskuse kõige asjakohasemad lõigud.",
    },
    "store_unavailable": {
        "en": "I can't reach our help centre right now. Please try again in a moment, or talk to a person.",
        "ar": "لا أستطيع الوصول إلى مركز المساعدة الآن. يرجى المحاولة بعد قليل، أو التحدث مع موظف.",
        "sw": "Siwezi kufikia kituo chetu cha msaada sasa hivi. Tafadhali jaribu tena baada ya muda mfupi, au zungumza na mtu.",
        "ha": "Ba zan iya isa cibiyar taimakonmu yanzu ba. Don Allah a sake gwadawa nan ba da jimawa ba, ko ku yi magana da mutum.",
        "et": "Ma ei saa praegu abikeskusega ühendust. Palun proovige hetke pärast uuesti või rääkige inimesega.",
    },
    "empty_message": {
        "en": "Please type your question.",
        "ar": "يرجى كتابة سؤالك.",
        "sw": "Tafadhali andika swali lako.",
        "ha": "Don Allah ku rubuta tambayarku.",
        "et": "Palun kirjutage oma küsimus.",
    },
    "too_long": {
        "en": "Your message is very long, so I used its first {limit} characters.",
        "ar": "رسالتك طويلة جدًا، لذلك استخدمت أول {limit} حرف منها.",
        "sw": "Ujumbe wako ni mrefu sana, kwa hivyo nimetumia herufi {limit} za kwanza.",
        "ha": "Saƙonku ya yi tsayi sosai, don haka na yi amfani da haruffa {limit} na farko.",
        "et": "Teie sõnum on väga pikk, seega kasutasin selle esimest {limit} märki.",
    },
    "closing": {
        "en": "You're welcome, I'm glad I could help. If anything else comes up, just ask.",
        "ar": "على الرحب والسعة، يسعدني أنني استطعت المساعدة. إذا احتجت إلى أي شيء آخر، فاسألني فقط.",
        "sw": "Karibu, nafurahi kwamba nimeweza kusaidia. Ukiwa na jambo jingine, uliza tu.",
        "ha": "Babu komai, na ji daɗin taimaka muku. Idan wani abu ya taso, ku tambaya kawai.",
        "et": "Pole tänu väärt, mul on hea meel, et sain aidata. Kui midagi veel tekib, küsige julgelt.",
    },
    "error": {
        "en": "Something went wrong on our side. A person from our team can help you right away.",
        "ar": "حدث خطأ من جهتنا. يمكن لأحد أفراد فريقنا مساعدتك فورًا.",
        "sw": "Hitilafu imetokea upande wetu. Mtu kutoka timu yetu anaweza kukusaidia mara moja.",
        "ha": "Wani abu ya faru daga ɓangarenmu. Wani daga ƙungiyarmu zai iya taimaka muku nan take.",
        "et": "Meie poolel läks midagi valesti. Meie meeskonna inimene saab teid kohe aidata.",
    },
}


def localized(table: Mapping[str, str], language: str, **values: object) -> str:
    """The entry of a {language: text} table for `language` (English when missing), placeholders filled."""
    return table.get(language, table["en"]).format(**values)


def phrase(key: str, language: str, **values: object) -> str:
    """A fixed phrase in `language` (English when that language has none), with {placeholders} filled."""
    return localized(PHRASES[key], language, **values)


def language_name(code: str, in_language: str) -> str:
    return LANGUAGE_NAMES.get(in_language, LANGUAGE_NAMES["en"]).get(code, code)
