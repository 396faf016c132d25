"""`kb eval --answers`: what a customer actually gets, on help-centre questions written the way customers write.

The knowledge base is built from the corpus folder by the product's own ingestion (real loaders,
chunking, Chroma) in a temporary directory, and every question goes through `Assistant.reply` as in
the app. Per language, on the chosen split:

  recall@5          a gold source among the first five retrieved chunks
  correct           a gold fact is visible in the answer and a gold source is cited
  wrong_confident   answerable, not correct, and neither an offer, a handoff nor "not in the help centre"
  deflected         answerable, but offered a person, handed off, or told "not found"
  right_but_offered correct, and a person was offered or the conversation handed off anyway
  ooc_caught        out-of-KB question answered with "not found", an offer or a handoff
  ooc_abstained     out-of-KB question answered with "not found" (no quote at all)
  followup_correct  the second turn of a two-turn conversation answered correctly

`dense@5` is the same recall for plain dense retrieval over the same chunks (one Chroma query with
the question's vector), the baseline the hybrid retriever must beat.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.language_models.chat_models import BaseChatModel

from assistant.config import Settings
from assistant.conversation import Assistant
from assistant.retrieval import make_retriever
from assistant.store import VectorStore
from assistant.types import Answer
from evals.answer_cases import AnswerCase, fact_visible
from kb_ingest.indexing import Indexer

logger = logging.getLogger(__name__)

TOP = 5


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one case produced."""

    case: AnswerCase
    retrieved: tuple[str, ...]      # sources of the first TOP retrieved chunks
    dense: tuple[str, ...]          # sources of the first TOP chunks by plain dense retrieval
    cited: tuple[str, ...]
    fact_shown: bool
    offered: bool
    handed_off: bool
    abstained: bool
    confidence: float
    text: str

    @property
    def found(self) -> bool:
        return bool(set(self.retrieved) & set(self.case.gold_sources))

    @property
    def dense_found(self) -> bool:
        return bool(set(self.dense) & set(self.case.gold_sources))

    @property
    def correct(self) -> bool:
        return self.fact_shown and bool(set(self.cited) & set(self.case.gold_sources))

    @property
    def deflected(self) -> bool:
        return self.offered or self.handed_off or self.abstained

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id, "language": self.case.language, "kind": self.case.kind,
            "question": self.case.question, "found": self.found, "dense_found": self.dense_found,
            "correct": self.correct, "deflected": self.deflected, "offered": self.offered,
            "handed_off": self.handed_off, "abstained": self.abstained, "confidence": self.confidence,
            "retrieved": list(self.retrieved), "cited": list(self.cited), "answer": self.text,
        }


@dataclass
class KnowledgeBase:
    """A freshly ingested KB in a temporary directory, and an assistant answering from it."""

    settings: Settings
    store: VectorStore
    assistant: Assistant
    ingest_seconds: float
    chunks: int


def build_kb(corpus_dir: Path, data_dir: Path, embeddings: Embeddings, chat_model: BaseChatModel | None = None,
             base: Settings | None = None) -> KnowledgeBase:
    """Ingest `corpus_dir` with the product's indexer into `data_dir`, and open an Assistant on it."""
    settings = (base or Settings()).with_overrides(
        corpus_dir=Path(corpus_dir), data_dir=Path(data_dir), database_url="", webhook_url="")
    store = VectorStore(settings, embeddings)
    started = time.perf_counter()
    report = Indexer(settings, store).ingest()
    for failure in report.sources("failed"):
        logger.warning("not indexed: %s (%s)", failure.source, failure.reason)
    seconds = time.perf_counter() - started
    assistant = Assistant(settings, make_retriever(settings, store), chat_model=chat_model)
    return KnowledgeBase(settings, store, assistant, seconds, store.count())


def run_case(kb: KnowledgeBase, case: AnswerCase) -> Outcome:
    """Ask the case's question(s) in a fresh session and score the last answer."""
    session = f"eval-{uuid.uuid4().hex[:8]}"
    if case.previous:
        kb.assistant.reply(session, case.previous)
    answer = kb.assistant.reply(session, case.question)
    return _outcome(kb, case, answer)


def _outcome(kb: KnowledgeBase, case: AnswerCase, answer: Answer) -> Outcome:
    query = answer.search_query or case.question
    vector = kb.assistant.retriever.embed_query(query)
    dense = tuple(chunk.source for chunk, _ in kb.store.query(vector, TOP))
    return Outcome(
        case=case,
        retrieved=tuple(hit.chunk.source for hit in answer.retrieved[:TOP]),
        dense=dense,
        cited=tuple(c.source for c in answer.citations),
        fact_shown=fact_visible(answer.text, case.facts) if case.answerable else False,
        offered=answer.escalation.offer,
        handed_off=answer.escalation.escalate,
        abstained=not answer.grounded,
        confidence=answer.confidence,
        text=answer.text,
    )


def run_cases(kb: KnowledgeBase, cases: Sequence[AnswerCase],
              progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
    outcomes = []
    for number, case in enumerate(cases, 1):
        outcomes.append(run_case(kb, case))
        if progress:
            progress(number, len(cases))
    return outcomes


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The figures of the module docstring, for one group of outcomes."""
    answerable = [o for o in outcomes if o.case.kind == "answerable"]
    out_of_kb = [o for o in outcomes if o.case.kind == "out_of_kb"]
    followups = [o for o in outcomes if o.case.kind == "followup"]
    cross = [o for o in answerable if o.case.cross_lingual]
    return {
        "answerable": len(answerable),
        "cross_lingual": len(cross),
        "out_of_kb": len(out_of_kb),
        "followups": len(followups),
        "recall@5": _share([o.found for o in answerable]),
        "dense@5": _share([o.dense_found for o in answerable]),
        "correct": _share([o.correct for o in answerable]),
        "correct_cross_lingual": _share([o.correct for o in cross]),
        "wrong_confident": _share([not o.correct and not o.deflected for o in answerable]),
        "deflected": _share([o.deflected for o in answerable]),
        "right_but_offered": _share([o.correct and o.deflected for o in answerable]),
        "ooc_caught": _share([o.deflected for o in out_of_kb]),
        "ooc_abstained": _share([o.abstained for o in out_of_kb]),
        "ooc_wrong_confident": _share([not o.deflected for o in out_of_kb]),
        "followup_correct": _share([o.correct for o in followups]),
        # Trust over every question asked: a confident answer that is not right (or is out of the KB).
        "trust_violations": _share([not o.deflected and not o.correct for o in outcomes]),
    }


def by_language(outcomes: Sequence[Outcome], languages: Sequence[str]) -> dict[str, dict[str, Any]]:
    table = {lang: summarize([o for o in outcomes if o.case.language == lang]) for lang in languages}
    table["all"] = summarize(outcomes)
    return table


def evaluate(corpus_dir: Path, cases: Sequence[AnswerCase], embeddings: Embeddings,
             chat_model: BaseChatModel | None = None, base: Settings | None = None,
             languages: Sequence[str] = ("en", "ar", "sw", "ha", "et")) -> dict[str, Any]:
    """Build the KB from `corpus_dir`, answer every case, and return the per-language table and the rows."""
    with tempfile.TemporaryDirectory(prefix="answers-eval-") as tmp:
        kb = build_kb(corpus_dir, Path(tmp), embeddings, chat_model, base)
        started = time.perf_counter()
        outcomes = run_cases(kb, cases)
        seconds = time.perf_counter() - started
    return {
        "corpus": Path(corpus_dir).name,
        "chunks": kb.chunks,
        "ingest_seconds": round(kb.ingest_seconds, 2),
        "answer_seconds": round(seconds, 2),
        "mode": "llm" if chat_model is not None else "extractive",
        "table": by_language(outcomes, languages),
        "rows": [o.to_dict() for o in outcomes],
    }
