"""Translations of the same content: which chunks say the same thing in other languages.

A help centre marks translations by name: `returns-and-refunds.sw.md` beside `returns-and-refunds.md`,
`faq_ha.csv` beside `faq_en.csv`. Chunks of such files share a document key (the path without its
language tag). Article sections are not aligned one to one across languages, so for articles the
key is enough: an answer can be looked for in the same article in the customer's language. FAQ
tables are aligned by row: two rows of the same key in different languages are one translation
group when each is the other's nearest neighbour and their vectors are close (`ROW_LINK_MIN`;
translated FAQ rows score 0.84-0.92 with multilingual-e5-small, unrelated rows below 0.84).

Used to answer in the customer's language when a translation exists, and to leave whole
translation groups out when the knowledge base calibrates itself (assistant/calibration.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath

import numpy as np

from assistant.types import Chunk

ROW_LINK_MIN = 0.84
# A translated article's section is taken for the customer's language when its vector is this close to
# the section that matched (translated sections score 0.80-0.92 with multilingual-e5-small).
SECTION_MATCH_MIN = 0.8
_SEPARATORS = "._-"
_LANGUAGE_TAG = re.compile(r"(?P<sep>[._-])(?P<lang>[a-z]{2,3})$")


def document_key(source: str, languages: Sequence[str]) -> str:
    """The source path without extension and language tag: `docs/refunds.sw.md` -> `docs/refunds`."""
    path = PurePosixPath(source)
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    tag = _LANGUAGE_TAG.search(stem)
    if tag and tag.group("lang") in languages:
        stem = stem[: tag.start()]
    return str(path.with_name(stem)) if str(path.parent) != "." else stem


def is_faq_row(chunk: Chunk) -> bool:
    return chunk.text.lstrip().startswith("Q: ")


def translation_groups(chunks: Sequence[Chunk], vectors: np.ndarray, languages: Sequence[str]) -> list[str]:
    """One group id per chunk: the document key, or for FAQ rows the key plus the row's link."""
    groups = [document_key(c.source, languages) for c in chunks]
    rows: dict[str, list[int]] = {}
    for index, chunk in enumerate(chunks):
        if is_faq_row(chunk):
            rows.setdefault(groups[index], []).append(index)
    for key, indices in rows.items():
        for index, root in _row_links(chunks, vectors, indices).items():
            groups[index] = f"{key}#{chunks[root].chunk_id}"
    return groups


def _row_links(chunks: Sequence[Chunk], vectors: np.ndarray, indices: list[int]) -> dict[int, int]:
    """Row index -> the index naming its group: linked rows (mutual nearest, close enough) share one."""
    parent = {i: i for i in indices}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_language: dict[str, list[int]] = {}
    for i in indices:
        by_language.setdefault(chunks[i].language, []).append(i)
    codes = sorted(by_language)
    for a_pos, a in enumerate(codes):
        for b in codes[a_pos + 1 :]:
            left, right = by_language[a], by_language[b]
            sims = vectors[left] @ vectors[right].T
            best_right, best_left = sims.argmax(axis=1), sims.argmax(axis=0)
            for li, ri in enumerate(best_right):
                if best_left[ri] == li and sims[li, ri] >= ROW_LINK_MIN:
                    x, y = root(left[li]), root(right[ri])
                    parent[max(x, y)] = min(x, y)
    return {i: root(i) for i in indices}


def pick_translation(chunks: Sequence[Chunk], vectors: np.ndarray, groups: Sequence[str], documents: Sequence[str],
                     row: int, language: str, direction: np.ndarray) -> int | None:
    """The index of chunk `row`'s content in `language`, or None.

    A FAQ row's linked translation; for an article, the section of its translation that best fits
    the question, provided it is close to `row` itself (so a translation missing that section is
    not answered from a neighbouring one).
    """
    faq_row = groups[row] != documents[row]
    key, keys = (groups[row], groups) if faq_row else (documents[row], documents)
    candidates = [i for i, k in enumerate(keys) if k == key and chunks[i].language == language]
    if not candidates:
        return None
    best = max(candidates, key=lambda i: float(vectors[i] @ direction))
    if not faq_row and float(vectors[best] @ vectors[row]) < SECTION_MATCH_MIN:
        return None
    return best


def translation_sources(source: str, languages: Sequence[str]) -> list[str]:
    """The source paths that share `source`'s document key: untagged, and tagged with each language.

    For looking a document's translations up by metadata (same extension; see document_key).
    """
    path = PurePosixPath(source)
    key = document_key(source, languages)
    names = {f"{key}{path.suffix}"}
    names.update(f"{key}{sep}{code}{path.suffix}" for code in languages for sep in _SEPARATORS)
    return sorted(names)
