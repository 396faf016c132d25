"""Does a customer's message only say thanks or goodbye? In en, ar, sw, ha and et.

Such a message ends the conversation (the short survey follows, see assistant/surveys.py). Only a
message made of closing words and a few fillers ("ok", "great", "sana", "sosai") counts: "thanks, and
how do I change my address?" is a question, not an end, and so is anything with a question mark.
"""

from __future__ import annotations

import re
import unicodedata

# Closing words and phrases per language (lower case, Arabic without diacritics and with plain alef).
CLOSINGS: dict[str, tuple[str, ...]] = {
    "en": (
        "thank you", "thanks", "thank u", "thanx", "thx", "ty", "cheers", "much appreciated", "appreciate it",
        "goodbye", "good bye", "bye bye", "bye", "see you", "see ya", "have a nice day", "have a good day",
        "that's all", "thats all", "that is all", "that's it", "that helps", "that helped", "got it", "all good",
    ),
    "ar": (
        "شكرا جزيلا", "شكرا لك", "شكرا", "مشكور", "مشكورة", "جزاك الله خيرا", "مع السلامه", "مع السلامة",
        "الى اللقاء", "وداعا", "في امان الله", "هذا كل شيء", "تم الحل",
    ),
    "sw": (
        "asante sana", "asante", "ahsante", "nashukuru", "shukrani", "kwaheri", "tutaonana", "baadaye",
        "imetosha", "nimeelewa", "umesaidia",
    ),
    "ha": (
        "na gode", "nagode", "mun gode", "mungode", "godiya", "sai anjima", "sai an jima", "sai wani lokaci",
        "sai an kwana", "sai gobe", "na gane", "ya isa",
    ),
    "et": (
        "suur aitäh", "aitäh", "aitah", "tänan", "tänud", "tänks", "head aega", "nägemist", "nägemiseni",
        "kõike head", "tšau", "ilusat päeva", "sain aru", "see on kõik",
    ),
}

# Words that may stand beside a closing without making the message a question.
FILLERS: frozenset[str] = frozenset(
    "ok okay okey k great perfect cool nice awesome alright right fine good super wonderful excellent so much "
    "a lot very lots again all for your the help you for it now then and that's oh ah yes yeah yep sir madam "
    "تمام حسنا طيب ممتاز رائع جدا كثيرا الف اوكي نعم "
    "sawa poa safi vizuri sana kabisa ndiyo nzuri "
    "to yauwa madalla kwarai sosai da shi ke nan kenan ai eh "
    "ok hästi väga selge super suurepärane jah palju veelkord".split()
)
MAX_WORDS = 10
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")  # harakat, tanween, dagger alef, tatweel
_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})


def normalise(text: str) -> str:
    """Lower case, Arabic without marks and with one alef, punctuation and symbols as spaces."""
    text = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text or "").casefold()).translate(_ALEF)
    text = text.replace("’", "'")
    kept = (ch if ch.isalnum() or ch in "' " else " " for ch in text)
    return " ".join("".join(kept).split())


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    ordered = sorted({normalise(p) for p in phrases}, key=len, reverse=True)  # longest phrase first
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(p) for p in ordered) + r")(?!\w)")


_PATTERNS = {language: _pattern(phrases) for language, phrases in CLOSINGS.items()}
_FILLERS = frozenset(normalise(word) for word in FILLERS)


def closing_language(message: str, prefer: str = "") -> str | None:
    """The language of the closing words when `message` only says thanks or goodbye, else None.

    When the words belong to several languages (or to none in particular), `prefer` (the
    conversation's language) wins if it is one of them.
    """
    if "?" in (message or "") or "؟" in (message or ""):
        return None
    text = normalise(message)
    if not text or len(text.split()) > MAX_WORDS:
        return None
    matched = []
    for language, pattern in _PATTERNS.items():
        rest = pattern.sub(" ", text)
        if rest != text and all(word in _FILLERS for word in rest.split()):
            matched.append(language)
    if not matched:
        return None
    return prefer if prefer in matched else matched[0]


def is_closing(message: str) -> bool:
    return closing_language(message) is not None
