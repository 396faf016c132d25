"""Lexical retrieval: BM25 with tokenisation that works for English, Arabic, Swahili, Hausa and Estonian.

Besides same-language keyword matching, BM25 is the cross-lingual side of retrieval: a Swahili or
Hausa question about an English article shares its names and numbers ("Anambra", "2017"). Latin-
script words are therefore folded to a rough spelling skeleton, so the usual African-language
spellings of English names meet their English forms (Nijeriya/Nigeria, Afrika/Africa, Kongo/Congo).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_ARABIC_MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")  # harakat + tatweel
_ARABIC_PREFIXES = ("وال", "فال", "بال", "كال", "لل", "ال")
_HAUSA_FOLD = str.maketrans({"ɗ": "d", "ƙ": "k", "ɓ": "b", "ƴ": "y", "'": "", "’": ""})
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ؤ": "و", "ئ": "ي"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_COMBINING = re.compile(r"[\u0300-\u036f]")
# Spelling skeleton for Latin script (order matters: digraphs first).
_SKELETON_RULES = [(re.compile(p), r) for p, r in (
    (r"ph", "f"), (r"ck", "k"), (r"[cq]", "k"), (r"x", "ks"), (r"y", "i"), (r"j", "g"), (r"(.)\1+", r"\1"),
)]
PREFIX_LEN = 5  # truncation stemming: cheap and robust for agglutinative Swahili/Estonian/Hausa

# Short stop-word lists (function and question words); kept in their normalised form below.
_STOPWORD_TEXT = """
    a an the and or but of to in on at for from by with is are was were be been being do does did i you he she
    it we they me my your our their this that these those there here what which who whom whose how when where
    why can could would should will shall may might must have has had not no yes if then so as about into than
    too very just also please hi hello thanks thank
    na ya wa za la kwa ni katika kwenye au lakini pia hii hiyo huo hilo je nini gani vipi ninaweza naweza
    tafadhali mimi wewe yeye sisi nyinyi wao kama hata bado sana tu nani lini wapi ngapi upi ipi
    da ta ya na a ko ba ne ce wannan wancan ina kuma amma don domin shi ita su mu ku zan za yaya me mene menene
    allah sannu wane wace wanne wanene awane yaushe nawa shin
    ja ning on ei et see seda mis kuidas kas kui ka ma sa mina sina tema meie teie nemad oma või aga siis ole
    olen oli palun tere kes millal kus miks
    في من على الى إلى عن مع هذا هذه ذلك تلك هو هي انا أنا انت أنت نحن هم كيف ماذا ما هل لا نعم او أو ثم قد
    كان كانت يكون التي الذي الذين متى أين لماذا أي كم تم
"""


# The three folds map disjoint characters, and none produces or removes an Arabic mark: one pass does all.
_FOLD = {**_DIGITS, **_ARABIC_FOLD, **_HAUSA_FOLD}


def normalize(text: str) -> str:
    """Case-fold, fold Arabic letter variants and Hausa hooked letters, strip diacritics marks."""
    if text.isascii():  # the same result, fast: NFKC and every fold but the apostrophe leave ASCII alone
        return text.lower().replace("'", "")
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    return _ARABIC_MARKS.sub("", text)


_STOPWORDS = {normalize(word) for word in _STOPWORD_TEXT.split()}


def _arabic_stem(token: str) -> str:
    for prefix in _ARABIC_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix) :]
    return token


def latin_skeleton(word: str) -> str:
    """A rough spelling skeleton of a Latin-script word: accents dropped, c/k/q, j/g, y/i merged, doubles collapsed."""
    word = _COMBINING.sub("", unicodedata.normalize("NFD", word))
    for pattern, repl in _SKELETON_RULES:
        word = pattern.sub(repl, word)
    return word


@functools.lru_cache(maxsize=100_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The index terms of one normalised word (cached: words repeat, and the skeleton rules are slow)."""
    if word in _STOPWORDS or (len(word) < 2 and not word.isdigit()):
        return ()
    if "\u0600" <= word[0] <= "\u06ff":
        word = _arabic_stem(word)
    elif word[0] < "\u0250" and not word.isdigit():  # Latin script
        word = latin_skeleton(word)
    if len(word) > PREFIX_LEN + 1 and not word.isdigit():
        return word, word[:PREFIX_LEN] + "~"
    return (word,)


def tokenize(text: str) -> list[str]:
    """Index terms: each content word, plus a truncated prefix (ending in "~") for inflected forms."""
    terms: list[str] = []
    for word in _WORD.findall(normalize(text)):
        terms.extend(_word_terms(word))
    return terms


class BM25Index:
    """Okapi BM25 over a fixed list of texts, with numpy scoring (milliseconds at 10k chunks)."""

    def __init__(self, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.size = len(texts)
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths = np.zeros(max(self.size, 1), dtype=np.float32)
        for i, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths[i] = sum(counts.values())
            for term, tf in counts.items():
                postings.setdefault(term, []).append((i, tf))
        avg = float(lengths[: self.size].mean()) if self.size else 1.0
        norm = k1 * (1 - b + b * lengths / max(avg, 1e-9))
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._idf: dict[str, float] = {}
        for term, plist in postings.items():
            ids = np.fromiter((p[0] for p in plist), dtype=np.int32, count=len(plist))
            tf = np.fromiter((p[1] for p in plist), dtype=np.float32, count=len(plist))
            idf = self._idf[term] = math.log(1 + (self.size - len(plist) + 0.5) / (len(plist) + 0.5))
            self._postings[term] = (ids, (idf * tf * (k1 + 1) / (tf + norm[ids])).astype(np.float32))

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.float32)
        for term in set(tokenize(query)):
            hit = self._postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def ceiling(self, query: str) -> float:
        """An upper bound of any text's score for `query` (every indexed query term, saturated).

        Dividing by it turns a BM25 score into "how much of the question's term weight this text
        matches", comparable across questions, unlike the raw score.
        """
        return sum(self._idf.get(term, 0.0) for term in set(tokenize(query))) * (self.k1 + 1)

    def top(self, query: str, k: int) -> list[tuple[int, float]]:
        """(index, score) of the best `k` texts with a positive score, best first."""
        if self.size == 0:
            return []
        scores = self.scores(query)
        k = min(k, self.size)
        idx = np.argpartition(-scores, k - 1)[:k]
        idx = idx[np.argsort(-scores[idx])]
        return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]


@dataclass(frozen=True, slots=True)
class TermStatistics:
    """Document frequencies counted on a sample of the collection, for BM25 over candidates only."""

    documents: int                  # chunks in the whole collection
    sample: int                     # chunks the frequencies were counted on
    frequency: Mapping[str, int]
    average_length: float

    @classmethod
    def from_texts(cls, texts: Sequence[str], documents: int) -> TermStatistics:
        frequency: Counter[str] = Counter()
        total = 0
        for text in texts:
            terms = tokenize(text)
            total += len(terms)
            frequency.update(set(terms))
        return cls(max(documents, len(texts)), len(texts), dict(frequency), total / max(len(texts), 1))

    def idf(self, term: str) -> float:
        share = self.frequency.get(term, 0) * self.documents / max(self.sample, 1)
        return math.log(1 + (self.documents - share + 0.5) / (share + 0.5))


def candidate_bm25(query: str, texts: Sequence[str], stats: TermStatistics,
                   k1: float = 1.2, b: float = 0.75) -> tuple[np.ndarray, float]:
    """BM25 of each of `texts` for `query` with the collection's estimated statistics, and the ceiling.

    The same formula as BM25Index over the whole collection; the ceiling counts the question's
    terms that the collection holds (seen in the sample or in a candidate), as BM25Index.ceiling does.
    """
    terms = set(tokenize(query))
    scores = np.zeros(len(texts), dtype=np.float32)
    if not terms or not texts:
        return scores, 0.0
    idf = {term: stats.idf(term) for term in terms}
    seen = {term for term in terms if term in stats.frequency}
    average = max(stats.average_length, 1e-9)
    for i, text in enumerate(texts):
        tokens = tokenize(text)
        counts = Counter(tokens)
        norm = k1 * (1 - b + b * len(tokens) / average)
        for term in terms:
            tf = counts.get(term, 0)
            if tf:
                scores[i] += idf[term] * tf * (k1 + 1) / (tf + norm)
                seen.add(term)
    return scores, sum(idf[term] for term in seen) * (k1 + 1)
