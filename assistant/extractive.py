"""Offline answers: the sentences that carry the answer, quoted whole and cited as [n].

For the best passage the composer scores each answerable unit (sentence, list item, table row:
assistant/text_units.py) by its vector's cosine to the question (the views built at ingest) plus
the share of the question's words it contains, and quotes the best unit, whole. A list is quoted
with its lead line, a lead line with its list, and a second sentence joins when it scores nearly
as well. A FAQ row answers its own question, so a short FAQ answer is quoted whole. A second source
is quoted only when it scores nearly as well as the first and shares the question's words.

When the passage is in another language than the customer's and the same content exists in the
customer's language (assistant/translations.py), the caller passes that translation first; otherwise
the quote is labelled with its language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.citations import chunk_body, make_citation
from assistant.lexical import tokenize
from assistant.phrases import language_name, phrase
from assistant.safety import strip_injections
from assistant.text_units import is_list_unit, units
from assistant.types import Citation, RetrievedChunk

MAX_QUOTE_WORDS = 70         # a quote is a few sentences, not a page
FAQ_WHOLE_WORDS = 60         # a FAQ answer up to this long is quoted whole
REPEAT_PENALTY = 0.05       # a unit the previous answer already quoted, when the question follows up
LEXICAL_WEIGHT = 0.02        # share of the question's words in a unit, on the cosine scale
SECOND_UNIT_GAP = 0.03
MAX_LIST_ITEMS = 8
CANDIDATES = 3               # passages whose sentences compete for the quote
CANDIDATE_GAP = 0.0          # ... when they score this close to the best passage
UNIT_WEIGHT = 1.0            # how much a passage's best sentence counts beyond the passage's own score
SECOND_PASSAGE_GAP = 0.03    # a second source is quoted only when it scores nearly as well as the first
SECOND_PASSAGE_OVERLAP = 0.4
_FAQ = re.compile(r"^\s*Q:\s*(?P<q>.*?)\n\s*A:\s*(?P<a>.*)$", re.DOTALL)
_EMPHASIS = re.compile(r"[*_`]+")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")

# (chunk id) -> [(unit position, cosine to the question)], from the retriever's views; may be empty.
UnitScorer = Callable[[str], Sequence[tuple[int, float]]]


@dataclass(frozen=True, slots=True)
class Draft:
    """An answer before escalation: text with [n] markers and the citations behind them."""

    text: str
    citations: tuple[Citation, ...]
    grounded: bool
    mode: str
    notice: str = ""


def _overlap(query_terms: set[str], text: str) -> float:
    if not query_terms:
        return 0.0
    return len(query_terms & set(tokenize(text))) / len(query_terms)


def _words(parts: Sequence[str]) -> int:
    return sum(len(p.split()) for p in parts)


def _plain(unit: str) -> str:
    return _EMPHASIS.sub("", _LINK.sub(r"\1", unit)).strip()


def leads_on(unit: str) -> bool:
    """A unit that introduces what follows: "Good to know:", a bold pseudo-heading, a question."""
    plain = _plain(unit)
    bold_only = unit.strip().startswith("**") and unit.rstrip(" .").endswith("**")
    return plain.endswith((":", "?", "؟")) or bold_only


def _says_little(unit: str) -> bool:
    """Only a link or a short lead-in: a poor quote on its own."""
    return len(_plain(_LINK.sub("", unit)).split()) < 3


def best_passage(
    question: str, hit: RetrievedChunk, unit_scores: Sequence[tuple[int, float]] = (),
    avoid: frozenset[str] = frozenset(),
) -> tuple[str, float, float]:
    """The whole units of `hit` that best answer `question`: (quote, share of the question's words in it,
    cosine of its best unit to the question, or the chunk's own cosine without unit scores).

    `unit_scores` are (position, cosine) of the chunk's views; positions count the units of the body
    from 1 (0 is a FAQ row's question), as kb_ingest/views.py numbers them. Units in `avoid` (quoted in
    the previous answer, when this question follows up on it) rank lower: a follow-up asks for more.
    """
    terms = set(tokenize(question))
    faq = _FAQ.match(hit.chunk.text)
    body = strip_injections(faq.group("a") if faq else chunk_body(hit.chunk.text)).strip()
    cosines = dict(unit_scores)
    if faq and len(body.split()) <= FAQ_WHOLE_WORDS:
        strength = max(cosines.values(), default=hit.dense_score)
        return body, _overlap(terms, faq.group("q") + " " + body), strength
    parts = units(body)
    if not parts:
        return "", 0.0, 0.0
    neutral = min(cosines.values()) if cosines else hit.dense_score
    scores = [cosines.get(i, neutral) + LEXICAL_WEIGHT * _overlap(terms, part) - (1.0 if _says_little(part) else 0.0)
              - (REPEAT_PENALTY if part in avoid else 0.0) for i, part in enumerate(parts, 1)]
    best = max(range(len(parts)), key=lambda i: (scores[i], -i))
    chosen = _expand(parts, scores, best)
    passage = ("\n" if any(is_list_unit(parts[i]) for i in chosen) else " ").join(parts[i] for i in chosen)
    return passage, _overlap(terms, passage), cosines.get(best + 1, neutral)


def _expand(parts: list[str], scores: list[float], best: int) -> list[int]:
    """The best unit plus what it needs: its list (and the list's lead line), what it leads on to, or a
    second sentence that scores nearly as well (in the passage's order)."""
    if is_list_unit(parts[best]) or (leads_on(parts[best]) and best + 1 < len(parts) and is_list_unit(parts[best + 1])):
        return _list_around(parts, best)
    chosen = [best]
    if leads_on(parts[best]) and best + 1 < len(parts):
        chosen.append(best + 1)
    runner_up = max((i for i in range(len(parts)) if i not in chosen), key=lambda i: scores[i], default=None)
    if (runner_up is not None and scores[runner_up] >= scores[best] - SECOND_UNIT_GAP
            and not is_list_unit(parts[runner_up])
            and _words([parts[i] for i in chosen] + [parts[runner_up]]) <= MAX_QUOTE_WORDS):
        chosen.append(runner_up)
    return sorted(chosen)


def _list_around(parts: list[str], best: int) -> list[int]:
    """The list `best` is in (or leads), with its lead line, capped in items and words around `best`."""
    start = best
    while start > 0 and is_list_unit(parts[start]):
        start -= 1
    lead = start if not is_list_unit(parts[start]) and leads_on(parts[start]) else None
    first = start + 1 if not is_list_unit(parts[start]) else start
    end = first
    while end + 1 < len(parts) and is_list_unit(parts[end + 1]):
        end += 1
    items = list(range(first, end + 1)) if is_list_unit(parts[first]) else []
    if len(items) > MAX_LIST_ITEMS:  # keep the items nearest the best one
        centre = max(best, first)
        items = sorted(sorted(items, key=lambda i: abs(i - centre))[:MAX_LIST_ITEMS])
    chosen = ([lead] if lead is not None else []) + items
    if best not in chosen:
        chosen = sorted(set(chosen) | {best})
    while len(chosen) > 1 and _words([parts[i] for i in chosen]) > MAX_QUOTE_WORDS:
        far = max((i for i in chosen if i not in (best, lead)), key=lambda i: abs(i - best), default=None)
        if far is None:
            break
        chosen.remove(far)
    return chosen


def _best_quote(question: str, hits: Sequence[RetrievedChunk], unit_scorer: UnitScorer | None,
                avoid: frozenset[str] = frozenset()) -> tuple[RetrievedChunk, str] | None:
    """The (passage, quote) whose best sentence answers best, among the near-top passages of the top one's language."""
    top = hits[0]
    candidates = [h for h in hits[:CANDIDATES] if h.score >= top.score - CANDIDATE_GAP
                  and h.chunk.language == top.chunk.language] or [top]
    best: tuple[float, RetrievedChunk, str] | None = None
    for rank, hit in enumerate(candidates):
        scores = unit_scorer(hit.chunk.chunk_id) if unit_scorer is not None else ()
        passage, _, strength = best_passage(question, hit, scores, avoid)
        if not passage:
            continue
        value = hit.score + UNIT_WEIGHT * (strength - hit.dense_score) if scores else hit.score - rank * 1e-6
        if best is None or value > best[0]:
            best = (value, hit, passage)
    return None if best is None else (best[1], best[2])


def compose_extractive(
    question: str, language: str, hits: Sequence[RetrievedChunk], unit_scorer: UnitScorer | None = None,
    unsure: bool = False, avoid: frozenset[str] = frozenset(),
) -> Draft:
    """Quote the best passage (and a close second) with [n] markers; abstain when there is nothing to quote.

    A second source is quoted when it scores nearly as well and shares the question's words, or,
    when the caller is `unsure` of the first (low confidence), whenever it scores nearly as well:
    two candidate answers beside an offer of a person serve better than one likely-wrong one.
    """
    first = _best_quote(question, hits, unit_scorer, avoid) if hits else None
    if first is None:
        return Draft(phrase("abstain", language), (), grounded=False, mode="extractive")
    chosen: list[tuple[RetrievedChunk, str]] = [first]
    for hit in hits[:4]:
        if hit.score < hits[0].score - SECOND_PASSAGE_GAP or len(chosen) == 2:
            break
        if any(hit.chunk.source == c.chunk.source for c, _ in chosen):
            continue
        scores = unit_scorer(hit.chunk.chunk_id) if unit_scorer is not None else ()
        passage, overlap, _ = best_passage(question, hit, scores, avoid)
        # A second quote must share the question's words, or it is likely a neighbouring topic (when
        # unsure of the first, any close second will do: its language is named below the quotes).
        if passage and (unsure or overlap >= SECOND_PASSAGE_OVERLAP):
            chosen.append((hit, passage))
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
