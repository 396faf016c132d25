"""Units of text: the answerable units of a passage, and the words and sentences the scorers compare.

- Answerable units (`units`): whole sentences, list items and table rows, in any of our scripts. Shared by
  ingestion (one vector per unit, so a needle fact deep in a chunk can be found) and by the extractive
  answerer (which quotes whole units, never a window cut mid-sentence).
- Scoring units (`sentences`, `content_words`, `term_set`, `coverage`): retrieval confidence
  (assistant/confidence.py) applies them to a question and its best passage, citation support
  (assistant/claim_support.py) to the claims of an answer and the passages they cite. Terms are the index
  terms of assistant/lexical.py, so a word matches what BM25 would match. The fitted weights in
  assistant/data were fitted with these exact rules: changing them means refitting.
"""

from __future__ import annotations

import functools
import re

from assistant.lexical import tokenize

# A sentence ends at . ! ? (Latin), ؟ (Arabic) or 。 followed by space; "e.g. " and "3.5 " do not end one.
_SENTENCE_END = re.compile(r"(?<=[.!?؟。])(?<!\b[A-Za-z]\.)(?<!\d\.)\s+")
LIST_ITEM = re.compile(r"^([-*•]|\d+[.)])\s+")
_TABLE_SEPARATOR = re.compile(r":?-{2,}:?")
# The scorers' sentence: any end punctuation followed by space, or a line break.
_SCORED_SENTENCE = re.compile(r"(?<=[.!?؟。])\s+|\n+")
_NAME_OR_NUMBER = re.compile(r"^(?:\d[\d.,]*|[A-ZÀ-ÖØ-ÞƁƊƘ]\w+)$")


# ---- answerable units ---------------------------------------------------------------------------


def table_row(line: str) -> str | None:
    """A Markdown table row as a list item ("- cell — cell"); None for separator rows."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if all(_TABLE_SEPARATOR.fullmatch(c) for c in cells if c):
        return None
    return "- " + " — ".join(c for c in cells if c)


def split_sentences(line: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(line) if s.strip()]


def is_pseudo_heading(line: str) -> bool:
    """A line that is all bold (`**"Card declined"**`, `**Can I pay later?**`): a heading in disguise."""
    text = line.strip().rstrip(":.")
    return len(text) > 4 and text.startswith("**") and text.endswith("**") and "**" not in text[2:-2]


def units(body: str) -> list[str]:
    """List items, table rows and short lines stay whole; prose splits into sentences.

    A bold line standing alone as a heading is joined to the sentence after it, so the heading and
    what it says are one unit (`**"Card details incorrect"** Check the card number...`).
    """
    found: list[str] = []
    heading = ""
    for line in body.split("\n"):
        line = line.strip()
        if not line:
            continue
        if line.startswith("|"):
            row = table_row(line)
            if row:
                found.append(row)
        elif LIST_ITEM.match(line):
            found.append(line)
        elif is_pseudo_heading(line) and not line.rstrip().endswith(":"):
            if heading:
                found.append(heading)
            heading = line
            continue
        else:
            sentences = split_sentences(line)
            if heading and sentences:
                sentences[0] = f"{heading} {sentences[0]}"
                heading = ""
            found.extend(sentences)
        if heading:  # a heading followed by a list or table stays a unit of its own, before them
            found.insert(len(found) - 1, heading)
            heading = ""
    if heading:
        found.append(heading)
    return found


def is_list_unit(unit: str) -> bool:
    return bool(LIST_ITEM.match(unit))


# ---- scoring units ------------------------------------------------------------------------------


def sentences(text: str) -> list[str]:
    """The sentences the scorers compare: split at end punctuation followed by space, and at line breaks."""
    return [s for s in _SCORED_SENTENCE.split(text) if s.strip()]


def content_words(question: str, names_only: bool = False) -> list[tuple[str, str]]:
    """(term, prefix term or "") per content word; with `names_only`, capitalised words and numbers only."""
    words = []
    for position, raw in enumerate(re.findall(r"[^\W_]+", question)):
        if names_only and not (_NAME_OR_NUMBER.match(raw) and (position > 0 or raw[0].isdigit())):
            continue
        terms = tokenize(raw)
        if terms:
            words.append((terms[0], terms[1] if len(terms) > 1 else ""))
    return words


@functools.lru_cache(maxsize=256)
def term_set(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def coverage(words: list[tuple[str, str]], terms: frozenset[str], empty: float = 0.0) -> float:
    """Share of `words` present in `terms`, a word counting when its full form or its prefix occurs."""
    if not words:
        return empty
    found = sum(1 for term, prefix in words if term in terms or (prefix and prefix in terms))
    return found / len(words)


def missing_names(question: str, text: str) -> list[str]:
    """Index terms of the question's names and numbers that do not occur in `text`."""
    terms = term_set(text)
    return [term for term, prefix in content_words(question, names_only=True)
            if not (term in terms or (prefix and prefix in terms))]
