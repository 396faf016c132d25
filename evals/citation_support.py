"""Citation support part of `kb eval --escalation`: does the support model tell a claim its cited passage
backs from one it does not?

Data: XQuAD (en, ar; parallel paragraphs), read at run time. For every question, the *claim* is the sentence
of its gold paragraph that holds the answer, as an LLM answer would state it. Pairs per claim:
- supported, same language: the claim and its own paragraph;
- supported, cross-language: the claim and the parallel paragraph in the other language (an Arabic answer
  citing an English article, and the reverse);
- unsupported, both ways: the claim and the paragraph of the same article that is *most similar* to it and
  does not contain the answer (a model citing a related passage that does not say what it claims).
Same-language supported claims are copied from their passage, so their lexical overlap is an upper bound;
the cross-language pairs behave like a translated or paraphrased answer.
Split by article (seeded 30% dev, 70% test); baselines and weights are fitted on dev, figures are test.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from assistant.claim_support import FEATURES, SupportModel
from assistant.golden import read_jsonl
from assistant.scoring import reload_shipped
from assistant.text_units import sentences
from assistant.types import Chunk
from assistant.vectors import unit
from evals.logistic import fit_logistic
from evals.metrics import roc_auc

logger = logging.getLogger(__name__)

SPLIT_SEED = 20241123
DEV_FRACTION = 0.3
LANGUAGES = ("en", "ar")
L2 = 1.0


@dataclass(frozen=True, slots=True)
class PairVectors:
    """Claims embedded as queries and passages as documents, each by text (kept apart: a one-sentence
    paragraph is both a claim and a passage, with two different vectors)."""

    claims: dict[str, np.ndarray]
    passages: dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class SupportPair:
    claim: str
    claim_language: str
    chunk: Chunk
    supported: bool
    article: str

    @property
    def pair(self) -> str:
        return f"{self.claim_language}-{self.chunk.language}"


def _article_split(article: str) -> str:
    digest = hashlib.sha256(f"{SPLIT_SEED}:{article}".encode()).digest()
    return "dev" if int.from_bytes(digest[:8], "big") / 2**64 < DEV_FRACTION else "test"


def answer_sentence(text: str, start: int, answer: str) -> str:
    """The sentence of `text` that contains the answer at character `start` ("" when not found)."""
    offset = 0
    for sentence in sentences(text):
        at = text.find(sentence, offset)
        if at < 0:
            continue
        offset = at + len(sentence)
        if at <= start < offset and answer in sentence:
            return sentence.strip()
    return ""


def build_pairs(eval_dir: Path, embeddings) -> tuple[list[SupportPair], PairVectors]:
    """Claim/passage pairs (each claim once per paragraph, however many questions share it) and their vectors."""
    if not (eval_dir / "xquad" / "contexts.jsonl").is_file() or not (eval_dir / "xquad" / "questions.jsonl").is_file():
        return [], PairVectors({}, {})
    contexts = {r["context_id"]: r for r in read_jsonl(eval_dir / "xquad" / "contexts.jsonl")}
    by_group = {(r["parallel_group"], r["lang"]): r for r in contexts.values()}
    article_of = lambda group: group.split("p")[0]  # noqa: E731  "a00p03" -> "a00"
    siblings: dict[tuple[str, str], list[dict]] = {}
    for r in contexts.values():
        siblings.setdefault((article_of(r["parallel_group"]), r["lang"]), []).append(r)
    passages = sorted({r["text"] for r in contexts.values()})
    passage_vectors = dict(zip(passages, (np.asarray(v) for v in embeddings.embed_documents(passages)), strict=False))
    chunk = lambda r: Chunk(r["context_id"], r["text"], "xquad", r["title"].replace("_", " "),  # noqa: E731
                            language=r["lang"])
    claims: list[tuple[str, dict, dict]] = []
    seen: set[tuple[str, str]] = set()
    for q in read_jsonl(eval_dir / "xquad" / "questions.jsonl"):
        gold = contexts.get(q["context_id"])
        if q["lang"] not in LANGUAGES or gold is None or not q.get("answers"):
            continue
        answer = q["answers"][0]
        claim = answer_sentence(gold["text"], answer["answer_start"], answer["text"])
        if claim and (claim, gold["context_id"]) not in seen:
            seen.add((claim, gold["context_id"]))
            claims.append((claim, q, gold))
    claim_vectors = {c: np.asarray(embeddings.embed_query(c)) for c in dict.fromkeys(c for c, _, _ in claims)}
    pairs: list[SupportPair] = []
    for claim, q, gold in claims:
        vector = claim_vectors[claim]
        language, other = gold["lang"], next(lang for lang in LANGUAGES if lang != gold["lang"])
        group, article = gold["parallel_group"], article_of(gold["parallel_group"])
        answer = q["answers"][0]["text"]
        candidates = [r for r in siblings.get((article, language), []) if r["parallel_group"] != group
                      and answer not in r["text"]]
        if not candidates or (group, other) not in by_group:
            continue
        nearest = max(candidates, key=lambda r: float(np.dot(passage_vectors[r["text"]], vector)))
        parallel_wrong = by_group.get((nearest["parallel_group"], other))
        pairs += [SupportPair(claim, language, chunk(gold), True, article),
                  SupportPair(claim, language, chunk(by_group[(group, other)]), True, article),
                  SupportPair(claim, language, chunk(nearest), False, article)]
        if parallel_wrong is not None:
            pairs.append(SupportPair(claim, language, chunk(parallel_wrong), False, article))
    return pairs, PairVectors(claim_vectors, passage_vectors)


def features_of(model: SupportModel, pairs: list[SupportPair], vectors: PairVectors) -> list[dict]:
    return [model.features(p.claim, p.claim_language, vectors.claims[p.claim], p.chunk,
                           vectors.passages[p.chunk.text]) for p in pairs]


def fit(pairs: list[SupportPair], vectors: PairVectors) -> SupportModel:
    """Baselines from the unsupported dev pairs (median and spread of the cosine), then logistic weights."""
    baselines, scales = {}, {}
    for kind in ("same", "cross"):
        cosines = [float(np.dot(unit(vectors.claims[p.claim]), unit(vectors.passages[p.chunk.text]))) for p in pairs
                   if not p.supported and (p.claim_language == p.chunk.language) == (kind == "same")]
        baselines[kind] = round(float(np.median(cosines)), 4)
        scales[kind] = round(float(np.std(cosines)) or 0.03, 4)
    unweighted = SupportModel({}, baselines, scales)
    x = np.array([[f[name] for name in FEATURES] for f in features_of(unweighted, pairs, vectors)])
    y = np.array([p.supported for p in pairs], dtype=float)
    w = fit_logistic(x, y, l2=L2, free=[FEATURES.index("bias")])
    return SupportModel({name: round(float(v), 4) for name, v in zip(FEATURES, w, strict=False)}, baselines, scales)


def evaluate(model: SupportModel, pairs: list[SupportPair], vectors: PairVectors,
             threshold: float) -> dict[str, dict]:
    """Per claim->passage language pair: AUC, supported claims flagged, unsupported ones caught."""
    scores = [model.score(f) for f in features_of(model, pairs, vectors)]
    out = {}
    for pair in sorted({p.pair for p in pairs}) + ["all"]:
        chosen = [(p, s) for p, s in zip(pairs, scores, strict=False) if pair in ("all", p.pair)]
        good = [s for p, s in chosen if p.supported]
        bad = [s for p, s in chosen if not p.supported]
        out[pair] = {
            "supported": len(good), "unsupported": len(bad),
            "auc": roc_auc(good, bad),
            "supported_flagged": round(float(np.mean([s < threshold for s in good])), 4) if good else None,
            "unsupported_caught": round(float(np.mean([s < threshold for s in bad])), 4) if bad else None,
        }
    return out


def support_path() -> Path:
    return Path(str(resources.files("assistant").joinpath("data", "support.json")))


def run_citation_support_eval(eval_dir: Path, embeddings, threshold: float, calibrate: bool = False,
                              model_path: Path | None = None) -> dict:
    """Test-split figures for the support model on disk (or, with `calibrate`, refit on dev and save first).

    `model_path`: where the model is read from and written to (default: the shipped assistant/data/support.json).
    """
    pairs, vectors = build_pairs(Path(eval_dir), embeddings)
    dev = [p for p in pairs if _article_split(p.article) == "dev"]
    test = [p for p in pairs if _article_split(p.article) == "test"]
    if not dev or not test:
        return {"status": "unavailable", "detail": "no XQuAD claims found under " + str(eval_dir)}
    path = model_path or support_path()
    if calibrate:
        model = fit(dev, vectors)
        path.write_text(json.dumps({
            "note": "Fitted by `kb eval --escalation --calibrate`; see docs/evaluation/escalation-out-of-kb.md.",
            "fitted": {"data": "XQuAD en+ar answer sentences vs their paragraphs", "split_seed": SPLIT_SEED,
                       "dev_fraction": DEV_FRACTION, "dev_pairs": len(dev)},
            **model.to_dict()}, indent=2) + "\n", encoding="utf-8")
        reload_shipped()  # later replies in this process use the refit
        logger.info("support model written to %s", path)
    else:
        model = SupportModel.from_dict(json.loads(path.read_text(encoding="utf-8")))
    return {"setup": {"pairs_dev": len(dev), "pairs_test": len(test), "threshold": threshold,
                      "split": f"by article, seed {SPLIT_SEED}, dev {DEV_FRACTION:.0%}"},
            "model": model.to_dict(), "test": evaluate(model, test, vectors, threshold)}
