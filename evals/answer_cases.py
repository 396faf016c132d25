"""Help-centre answer cases: customer questions about a knowledge base, with the facts a right answer shows.

One JSON object per line (evals/data/helpcentre_questions.jsonl for docs_corpus/,
evals/data/seed_questions.jsonl for the seed articles):

    {"id": "hc-ha-017", "language": "ha", "kind": "answerable",   # answerable | out_of_kb | followup
     "question": "...", "previous": "...",                       # previous: the first turn of a follow-up
     "group": "shipping",                                         # topic group: the unit of the dev/test split
     "gold_sources": ["docs/shipping-and-delivery.html", ...],    # every file that states the answer
     "facts": ["3.99 USD", ...],                                  # any of these visible = the fact is shown
     "cross_lingual": true}                                       # no gold file in the question's language

Dev and test are split by topic group, so every question about one article (and its translations)
falls on the same side: tuning on dev never sees a test article.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.golden import GoldSetError, read_jsonl

KINDS = ("answerable", "out_of_kb", "followup")
SPLIT_SEED = "helpcentre-2026"
DEV_FRACTION = 0.5
DATA_DIR = Path(__file__).resolve().parent / "data"
HELPCENTRE_CASES = DATA_DIR / "helpcentre_questions.jsonl"
SEED_CASES = DATA_DIR / "seed_questions.jsonl"

_MARKUP = re.compile(r"[*_`]+")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹‐‑‒–—−", "01234567890123456789------")


@dataclass(frozen=True, slots=True)
class AnswerCase:
    """One customer question (or a two-turn follow-up) and what a right answer must show."""

    id: str
    language: str
    kind: str
    question: str
    group: str
    gold_sources: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    cross_lingual: bool = False
    previous: str = ""

    @property
    def answerable(self) -> bool:
        return self.kind != "out_of_kb"

    @classmethod
    def from_json(cls, row: dict, where: str) -> AnswerCase:
        kind = row.get("kind")
        if kind not in KINDS:
            raise GoldSetError(f"Expected kind to be one of {', '.join(KINDS)} ({where}), got {kind!r}.")
        for name in ("id", "language", "question", "group"):
            if not isinstance(row.get(name), str) or not row[name].strip():
                raise GoldSetError(f"Expected a non-empty string in {name!r} ({where}), got {row.get(name)!r}.")
        case = cls(
            id=row["id"], language=row["language"], kind=kind, question=row["question"].strip(),
            group=row["group"], gold_sources=tuple(row.get("gold_sources") or ()),
            facts=tuple(row.get("facts") or ()), cross_lingual=bool(row.get("cross_lingual", False)),
            previous=str(row.get("previous") or "").strip(),
        )
        if case.answerable and not (case.gold_sources and case.facts):
            raise GoldSetError(f"Expected gold_sources and facts for an {kind} case ({where}).")
        if kind == "followup" and not case.previous:
            raise GoldSetError(f"Expected the first turn in 'previous' for a follow-up ({where}).")
        return case


def load_answer_cases(path: Path) -> list[AnswerCase]:
    rows = read_jsonl(Path(path))
    return [AnswerCase.from_json(row, f"{Path(path).name} line {i}") for i, row in enumerate(rows, 1)]


def split_of(case: AnswerCase, seed: str = SPLIT_SEED) -> str:
    """"dev" or "test", by a seeded hash of the case's topic group (never of the question)."""
    digest = hashlib.sha256(f"{seed}:{case.group}".encode()).digest()
    return "dev" if int.from_bytes(digest[:8], "big") / 2**64 < DEV_FRACTION else "test"


def select(cases: Sequence[AnswerCase], split: str) -> list[AnswerCase]:
    if split == "all":
        return list(cases)
    if split not in ("dev", "test"):
        raise GoldSetError(f"Expected split to be dev, test or all, got {split!r}.")
    return [c for c in cases if split_of(c) == split]


def normalize_for_match(text: str) -> str:
    """Case, width, digits, Markdown emphasis and whitespace folded, so a quoted fact matches its source."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS).casefold()
    return " ".join(_MARKUP.sub("", text).split())


def fact_visible(answer_text: str, facts: Sequence[str]) -> bool:
    """True when any of `facts` appears in the answer as whole words ("9.99 USD" is not in "19.99 USD")."""
    shown = normalize_for_match(answer_text)
    for fact in facts:
        wanted = normalize_for_match(fact)
        if not wanted:
            continue
        before = r"(?<![^\W_])" if wanted[0].isalnum() else ""
        after = r"(?![^\W_])" if wanted[-1].isalnum() else ""
        if re.search(before + re.escape(wanted) + after, shown):
            return True
    return False
