"""Offline answers: the passages that best answer the question, quoted and cited as [n]."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.citations import chunk_body, make_citation
from assistant.lexical import tokenize
from assistant.phrases import language_name, phrase
from assistant.safety import strip_injections
from assistant.text_units import LIST_ITEM, units
from assistant.types import AnswerMode, Citation, RetrievedChunk

_FAQ = re.compile(r"^\s*Q:\s*(?P<q>.*?)\n\s*A:\s*(?P<a>.*)$", re.DOTALL)
MAX_QUOTE_WORDS = 90
SECOND_PASSAGE_GAP = 0.03    # a second source is quoted only when it scores nearly as well as the first
SECOND_PASSAGE_OVERLAP = 0.4
SAME_LANGUAGE_GAP = 0.02     # how much score a passage in the customer's own language may give up


@dataclass(frozen=True, slots=True)
class Draft:
    """An answer before escalation: text with [n] markers and the citations behind them."""

    text: str
    citations: tuple[Citation, ...]
    grounded: bool
    mode: AnswerMode     # "llm" or "extractive"
    notice: str = ""


def _overlap(query_terms: set[str], text: str) -> float:
    if not query_terms:
        return 0.0
    return len(query_terms & set(tokenize(text))) / len(query_terms)


def best_passage(question: str, hit: RetrievedChunk) -> tuple[str, float]:
    """The window of consecutive parts that best covers the question, and its term overlap."""
    body = strip_injections(chunk_body(hit.chunk.text))
    faq = _FAQ.match(body)
    if faq:  # a FAQ entry answers its own question: quote the whole answer
        return faq.group("a").strip(), _overlap(set(tokenize(question)), faq.group("q") + " " + faq.group("a"))
    parts = units(body)
    if not parts:
        return "", 0.0
    terms = set(tokenize(question))
    # Start where a short stretch (this unit and the next two) covers most of the question.
    scores = [_overlap(terms, " ".join(parts[i : i + 3])) + 0.1 * _overlap(terms, parts[i]) for i in range(len(parts))]
    start = max(range(len(parts)), key=lambda i: (scores[i], -i))
    # Grow the window forward (steps and explanations follow their lead sentence).
    end, words = start, len(parts[start].split())
    while end + 1 < len(parts) and words + len(parts[end + 1].split()) <= MAX_QUOTE_WORDS:
        end += 1
        words += len(parts[end].split())
        if end - start >= 4:
            break
    window = parts[start : end + 1]
    passage = ("\n" if any(LIST_ITEM.match(u) for u in window) else " ").join(window)
    return passage, _overlap(terms, passage)


def prefer_customer_language(hits: Sequence[RetrievedChunk], language: str) -> list[RetrievedChunk]:
    """Put a passage in the customer's language first when it scores nearly as well as the top one."""
    hits = list(hits)
    if hits and hits[0].chunk.language != language:
        for i, hit in enumerate(hits[1:4], 1):
            if hit.chunk.language == language and hit.score >= hits[0].score - SAME_LANGUAGE_GAP:
                return [hit] + hits[:i] + hits[i + 1 :]
    return hits


def compose_extractive(question: str, language: str, hits: Sequence[RetrievedChunk]) -> Draft:
    """Quote the best one or two passages with [n] markers; abstain when there is nothing to quote."""
    if not hits:
        return Draft(phrase("abstain", language), (), grounded=False, mode="extractive")
    hits = prefer_customer_language(hits, language)
    chosen: list[tuple[RetrievedChunk, str]] = []
    top_score = hits[0].score
    for hit in hits[:4]:
        if chosen and (hit.score < top_score - SECOND_PASSAGE_GAP or len(chosen) == 2):
            break
        if any(hit.chunk.source == c.chunk.source for c, _ in chosen):
            continue
        passage, overlap = best_passage(question, hit)
        # A second quote must share the question's words, or it is likely a neighbouring topic.
        if passage and (not chosen or overlap >= SECOND_PASSAGE_OVERLAP):
            chosen.append((hit, passage))
    if not chosen:
        return Draft(phrase("abstain", language), (), grounded=False, mode="extractive")
    parts = [phrase("lead", language)]
    citations = []
    for marker, (hit, passage) in enumerate(chosen, 1):
        parts.append(f"{passage} [{marker}]")
        citations.append(make_citation(marker, hit, quote=passage))
    other = sorted({c.language for c in citations if c.language != language})
    if other:
        names = ", ".join(language_name(code, language) for code in other)
        parts.append("_" + phrase("other_language", language, names=names) + "_")
    return Draft("\n\n".join(parts), tuple(citations), grounded=True, mode="extractive")
