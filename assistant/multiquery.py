"""Translate-then-search, the LLM path's retrieval: the question rewritten into the help centre's languages.

multilingual-e5-small matches a question best against passages in its own language; a Hausa question
about an article that exists only in English is where the offline retriever misses most. With a
chat model configured, one call rewrites the (redacted) question into every other language the index
holds; each rewrite is searched in its own language beside the original, and the result lists are
fused. Without a chat model, or when the call fails, is late or replies with something unusable,
the original question is searched alone, exactly as offline: the customer never sees an error.

Fusion: each chunk keeps the hit (and scores) of the query that scored it best, so confidence
features stay on the cosine scale. The lists are merged by the best score ("max", the default) or by
reciprocal rank ("rrf"). On the retrieval dev split with gold translations "max" won on every cross-lingual
pair: with "rrf" the original question's same-language miss ties with the translation's hit
(docs/evaluation/retrieval.md, "LLM path").
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage

from assistant.errors import ProviderError
from assistant.generation import load_prompt
from assistant.phrases import language_name
from assistant.redaction import redact
from assistant.retrieval import HybridRetriever, RetrievalResult
from assistant.types import RetrievedChunk

logger = logging.getLogger(__name__)

FUSIONS = ("max", "rrf")
DEFAULT_FUSION = "max"  # chosen on the dev split: see docs/evaluation/retrieval.md, "LLM path"
RRF_K = 60              # the usual reciprocal-rank constant (Cormack et al. 2009)
SEARCH_DEPTH = 10       # hits fetched per query before fusing
_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_QUESTION_TAG = re.compile(r"<(\s*/?\s*)(question)", re.IGNORECASE)  # defused: the question cannot close its block


def translation_targets(retriever: HybridRetriever, language: str) -> tuple[str, ...]:
    """The languages the index holds passages in, other than the question's."""
    return tuple(code for code in retriever.indexed_languages() if code != language)


def translation_prompt(question: str, language: str, targets: Sequence[str]) -> str:
    """The one-call rewrite request for `targets`; the question is redacted and its tags defused before it is put in."""
    names = ", ".join(f"{code} ({language_name(code, 'en')})" for code in targets)
    example = json.dumps({code: "..." for code in targets}, ensure_ascii=False)
    return load_prompt("translate").format(
        targets=names, example=example, language_name=language_name(language, "en"),
        question=_QUESTION_TAG.sub(r"&lt;\1\2", redact(question)))


def parse_translations(reply: str, targets: Sequence[str], question: str) -> dict[str, str]:
    """The usable rewrites in a reply, by language; {} when the reply is not the JSON object asked for."""
    match = _OBJECT.search(reply or "")
    if match is None:
        return {}
    try:
        data = json.loads(match.group(0))
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    values = {str(key).strip().lower(): value for key, value in data.items()}
    limit = 3 * len(question) + 100  # a "translation" far longer than the question is not one
    out: dict[str, str] = {}
    for code in targets:
        value = values.get(code)
        text = " ".join(value.split()) if isinstance(value, str) else ""
        if text and len(text) <= limit and text.casefold() != " ".join(question.split()).casefold():
            out[code] = text
    return out


def request_translations(
    model: BaseChatModel, question: str, language: str, targets: Sequence[str], deadline_s: float
) -> dict[str, str]:
    """The question in each of `targets` from one LLM call within `deadline_s`; {} on any failure."""
    if not targets:
        return {}
    prompt = translation_prompt(question, language, targets)
    try:
        reply = _invoke_within(model, prompt, deadline_s)
    except ProviderError as exc:
        logger.warning("translating the question failed (%s); searching with the original alone", exc)
        return {}
    translations = parse_translations(reply, targets, redact(question))
    if not translations:
        logger.warning("unusable translation reply (%d chars); searching with the original alone", len(reply))
    return translations


def fuse_results(lists: Sequence[Sequence[RetrievedChunk]], k: int, fusion: str = DEFAULT_FUSION
                 ) -> tuple[RetrievedChunk, ...]:
    """The `k` best chunks over several ranked lists; a chunk keeps its best-scoring hit."""
    if fusion not in FUSIONS:
        raise ValueError(f"Expected fusion to be one of {', '.join(FUSIONS)}, got {fusion!r}.")
    best: dict[str, RetrievedChunk] = {}
    rank_score: dict[str, float] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, 1):
            key = hit.chunk.chunk_id
            if key not in best or hit.score > best[key].score:
                best[key] = hit
            rank_score[key] = rank_score.get(key, 0.0) + 1.0 / (RRF_K + rank)
    if fusion == "max":
        order = sorted(best, key=lambda key: best[key].score, reverse=True)
    else:  # ties in RRF go to the higher score
        order = sorted(best, key=lambda key: (rank_score[key], best[key].score), reverse=True)
    return tuple(best[key] for key in order[:k])


def search_queries(
    retriever: HybridRetriever, question: str, language: str, translations: Mapping[str, str], k: int,
    fusion: str = DEFAULT_FUSION,
) -> RetrievalResult:
    """Search `question` in `language` and every translation in its own language; fuse the lists."""
    depth = max(k, SEARCH_DEPTH)
    original = retriever.retrieve(question, k=depth, language=language)
    lists = [original.chunks]
    lists += [retriever.retrieve(text, k=depth, language=code).chunks for code, text in translations.items()]
    return replace(original, chunks=fuse_results(lists, k, fusion), translations=MappingProxyType(dict(translations)))


def search_across_languages(
    retriever: HybridRetriever, model: BaseChatModel | None, question: str, language: str, k: int,
    deadline_s: float, fusion: str = DEFAULT_FUSION,
) -> RetrievalResult:
    """The retrieval of one turn: translate-then-search with a chat model, the plain search without one."""
    targets = translation_targets(retriever, language) if model is not None else ()
    translations = request_translations(model, question, language, targets, deadline_s) if targets else {}
    if not translations:
        return retriever.retrieve(question, k=k, language=language)
    logger.info("question (%s) also searched as %s", language, translations)
    return search_queries(retriever, question, language, translations, k, fusion)


def _invoke_within(model: BaseChatModel, prompt: str, deadline_s: float) -> str:
    """The model's reply text; a ProviderError when it fails or takes longer than `deadline_s`.

    The call runs in a daemon thread: the client's own timeout applies per attempt (and retries),
    while the customer waits for a translation `deadline_s` at most.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["reply"] = model.invoke([HumanMessage(prompt)])
        except Exception as exc:  # any client error: the search goes on without translations
            box["error"] = exc

    worker = threading.Thread(target=run, name="translate-question", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise ProviderError(f"Expected a translation within {deadline_s:.0f}s, got none.")
    if "error" in box:
        error = box["error"]
        raise ProviderError(f"The chat model failed ({type(error).__name__}: {error}).")
    content = getattr(box.get("reply"), "content", "")
    return content if isinstance(content, str) else ""
