"""Same-language bias of the embedder: how much closer a question sits to passages in its own language.

On the parallel XQuAD passages (every English paragraph and its Arabic translation) each question
is compared with its gold passage in both languages and with every other passage of each
language. "beaten" is the share of questions for which some wrong-topic passage in the question's
language scores above the gold passage in the other language, i.e. how often plain cosine search
over a mixed-language index would rank a same-language distractor first; "beaten, centred" is the
same after HybridRetriever's correction (subtracting the question's affinity to each language's
anchor direction). "gap" is the measured bias (others same-lang minus others other-lang) and
"gap, anchors" what the anchor directions predict for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from assistant.golden import normalize_language, read_jsonl
from evals.embedding_cache import CachedEmbeddings
from evals.language_directions import direction_matrix
from evals.paths import default_eval_dir

COLUMNS = (
    "gold same-lang", "gold other-lang", "others same-lang", "others other-lang",
    "gap", "gap, anchors", "beaten", "beaten, centred",
)


def measure_language_bias(
    eval_dir: Path | str | None, embeddings: CachedEmbeddings, limit: int | None = None
) -> dict[str, Any]:
    """Mean cosines per question language on XQuAD (en, ar); English-only AfriQA rows for ha and sw."""
    root = Path(eval_dir) if eval_dir is not None else default_eval_dir()
    rows: dict[str, dict[str, float]] = {}
    if (root / "xquad").is_dir():
        contexts = read_jsonl(root / "xquad" / "contexts.jsonl")
        questions = read_jsonl(root / "xquad" / "questions.jsonl")
        vectors = embeddings.embed_passages([c["text"] for c in contexts])
        for lang in ("ar", "en"):
            asked = [q for q in questions if normalize_language(q["lang"]) == lang][:limit]
            if asked:
                rows[f"{lang} (XQuAD)"] = _parallel_row(asked, contexts, vectors, embeddings, lang)
    if (root / "afriqa").is_dir():
        contexts = read_jsonl(root / "afriqa" / "contexts.jsonl")
        vectors = embeddings.embed_passages([c["text"] for c in contexts])
        position = {c["context_id"]: i for i, c in enumerate(contexts)}
        questions = read_jsonl(root / "afriqa" / "questions.jsonl")
        for lang in ("ha", "sw"):
            asked = [q for q in questions if normalize_language(q["lang"]) == lang][:limit]
            if not asked:
                continue
            cos = np.vstack([embeddings.embed_query_vector(q["question"]) for q in asked]) @ vectors.T
            gold = np.array([position[q["context_id"]] for q in asked])
            on_gold = cos[np.arange(len(asked)), gold]
            others = (cos.sum(axis=1) - on_gold) / (cos.shape[1] - 1)
            rows[f"{lang} (AfriQA)"] = {"n": len(asked), "gold other-lang": float(on_gold.mean()),
                                        "others other-lang": float(others.mean())}
    return {"columns": list(COLUMNS), "rows": rows}


def _parallel_row(questions, contexts, vectors, embeddings, lang: str) -> dict[str, float]:
    langs = np.array([normalize_language(c["lang"]) for c in contexts])
    key = {(normalize_language(c["lang"]), c["parallel_group"]): i for i, c in enumerate(contexts)}
    other = "en" if lang == "ar" else "ar"
    cos = np.vstack([embeddings.embed_query_vector(q["question"]) for q in questions]) @ vectors.T
    rows = np.arange(len(questions))
    gold_same = np.array([key[(lang, q["parallel_group"])] for q in questions])
    gold_other = np.array([key[(other, q["parallel_group"])] for q in questions])
    same, cross = langs == lang, langs == other
    wrong_same = np.where(same[None, :], cos, -np.inf)
    wrong_same[rows, gold_same] = -np.inf
    wrong_cross = np.where(cross[None, :], cos, np.nan)
    wrong_cross[rows, gold_other] = np.nan
    directions = direction_matrix(embeddings, (lang, other))
    queries = np.vstack([embeddings.embed_query_vector(q["question"]) for q in questions])
    affinity = queries @ directions.T  # (n, 2): the question's affinity to each language
    best_wrong = wrong_same.max(axis=1)
    gold_cross = cos[rows, gold_other]
    others_same = float(np.nanmean(np.where(wrong_same == -np.inf, np.nan, wrong_same)))
    others_cross = float(np.nanmean(wrong_cross))
    return {
        "n": len(questions),
        "gold same-lang": float(cos[rows, gold_same].mean()),
        "gold other-lang": float(gold_cross.mean()),
        "others same-lang": others_same,
        "others other-lang": others_cross,
        "gap": others_same - others_cross,
        "gap, anchors": float((affinity[:, 0] - affinity[:, 1]).mean()),
        "beaten": float((best_wrong > gold_cross).mean()),
        "beaten, centred": float((best_wrong - affinity[:, 0] > gold_cross - affinity[:, 1]).mean()),
    }
