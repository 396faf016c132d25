"""Text normalisation and cue-phrase matching shared by the escalation signals (all five languages)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Hausa hooked letters and the Arabic letters NFD does not decompose; NFD + dropping marks handles
# Latin diacritics (ä, õ, š), Arabic harakat and hamza carriers (أ إ آ ؤ ئ).
_FOLD = str.maketrans({
    "ɗ": "d", "ƙ": "k", "ɓ": "b", "ƴ": "y", "ʼ": "", "'": "", "’": "", "‘": "", "`": "", "´": "",
    "ة": "ه", "ى": "ي", "ٱ": "ا", "ـ": "", "ک": "ك", "ی": "ي", "ڪ": "ك",
})
_RUNS = re.compile(r"(.)\1{2,}")  # "sooo", "agenttt", "وييين": 3+ repeats collapse to one
_WORD = re.compile(r"\w+")
_ARABIC_WORD = re.compile(r"^[\u0600-\u06FF]+$")
# Arabic proclitics (and, so, with, for, like, the); a word is also tried without them.
_ARABIC_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
MAX_GAP = 4  # "~" in a cue phrase skips up to this many words


def normalize(text: str) -> str:
    """Lower-case, fold diacritics, Arabic letter variants and Hausa hooked letters; collapse letter runs."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return _RUNS.sub(r"\1", text)


def words(text: str) -> list[str]:
    """The normalised words of `text`."""
    return _WORD.findall(normalize(text))


def _forms(word: str) -> tuple[str, ...]:
    """A word plus, for Arabic, the word without its proclitics (بموظف -> موظف)."""
    if not _ARABIC_WORD.match(word):
        return (word,)
    forms = [word]
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            forms.append(word[len(prefix):])
    return tuple(forms)


@dataclass(frozen=True, slots=True)
class _Term:
    text: str
    prefix: bool  # "stem*" matches any word starting with "stem"

    def matches(self, forms: tuple[str, ...]) -> bool:
        if self.prefix:
            return any(f.startswith(self.text) for f in forms)
        return self.text in forms


@dataclass(frozen=True, slots=True)
class Match:
    phrase: str
    start: int
    end: int  # exclusive word index


class PhraseMatcher:
    """Finds cue phrases in text. Syntax: words separated by spaces, `stem*` = prefix, `~` = a gap of 0-4 words."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._phrases: dict[str, tuple[_Term | None, ...]] = {}
        self._by_word: dict[str, list[str]] = {}
        self._by_prefix: dict[str, list[str]] = {}
        for phrase in phrases:
            terms = self._compile(phrase)
            if not terms:
                continue
            self._phrases[phrase] = terms
            first = terms[0]
            index = self._by_prefix if first.prefix else self._by_word
            key = first.text[:2] if first.prefix else first.text
            index.setdefault(key, []).append(phrase)

    @staticmethod
    def _compile(phrase: str) -> tuple[_Term | None, ...]:
        terms: list[_Term | None] = []
        for raw in phrase.split():
            if raw == "~":
                terms.append(None)
                continue
            prefix = raw.endswith("*")
            text = " ".join(words(raw.rstrip("*")))
            if text:
                terms.extend(_Term(part, False) for part in text.split()[:-1])
                terms.append(_Term(text.split()[-1], prefix))
        while terms and terms[0] is None:
            terms.pop(0)
        if terms and any(len(t.text) < 2 for t in terms if t is not None and t.prefix):
            raise ValueError(f"Expected prefix cues of at least 2 letters, got {phrase!r}.")
        return tuple(terms)

    def find(self, text_or_words: str | list[str]) -> list[Match]:
        """Every (phrase, span) found; overlapping matches of different phrases are all kept."""
        ws = words(text_or_words) if isinstance(text_or_words, str) else text_or_words
        forms = [_forms(w) for w in ws]
        found: list[Match] = []
        for i, word_forms in enumerate(forms):
            candidates: set[str] = set()
            for f in word_forms:
                candidates.update(self._by_word.get(f, ()))
                candidates.update(self._by_prefix.get(f[:2], ()))
            for phrase in sorted(candidates):
                end = self._match_at(self._phrases[phrase], forms, i)
                if end is not None:
                    found.append(Match(phrase, i, end))
        return found

    def _match_at(self, terms: tuple[_Term | None, ...], forms: list[tuple[str, ...]], i: int) -> int | None:
        if not terms:
            return i
        term, rest = terms[0], terms[1:]
        if term is None:
            for gap in range(MAX_GAP + 1):
                end = self._match_at(rest, forms, i + gap)
                if end is not None:
                    return end
            return None
        if i >= len(forms) or not term.matches(forms[i]):
            return None
        return self._match_at(rest, forms, i + 1)


@cache
def load_json(name: str) -> object:
    """A JSON file from assistant/escalation/data/."""
    return json.loads(resources.files("assistant.escalation").joinpath("data").joinpath(name).read_text("utf-8"))
