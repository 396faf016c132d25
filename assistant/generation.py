"""LLM answers over numbered sources, with citation checks; plus condensing follow-ups and summaries."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from importlib import resources

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.citations import chunk_body, validate_citations
from assistant.errors import ProviderError
from assistant.extractive import Draft
from assistant.phrases import language_name, phrase
from assistant.safety import remove_unknown_links, strip_injections
from assistant.types import RetrievedChunk, Turn

logger = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"
TokenCallback = Callable[[str], None]


@functools.lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    return resources.files("assistant").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")


def format_sources(hits: Sequence[RetrievedChunk]) -> str:
    """Delimited, numbered sources; their text is data (instruction-like sentences removed)."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        c = hit.chunk
        page = f' page="{c.page}"' if c.page else ""
        body = strip_injections(chunk_body(c.text)).replace("</source>", "")
        blocks.append(f'<source id="{n}" title="{c.title}" language="{c.language}"{page}>\n{body}\n</source>')
    return "\n\n".join(blocks)


def _call(model: BaseChatModel, messages: list, on_token: TokenCallback | None, deadline_s: float) -> str:
    """Stream the reply (tokens go to `on_token`), failing as ProviderError past the deadline."""
    started = time.monotonic()
    parts: list[str] = []
    try:
        for piece in model.stream(messages):
            delta = piece.content if isinstance(piece.content, str) else ""
            if delta:
                parts.append(delta)
                if on_token:
                    on_token(delta)
            if time.monotonic() - started > deadline_s:
                raise ProviderError(f"Expected a reply within {deadline_s:.0f}s, the model was still streaming.")
    except ProviderError:
        raise
    except Exception as exc:
        logger.warning("chat model failed: %s: %s", type(exc).__name__, exc)
        raise ProviderError(f"The chat model failed ({type(exc).__name__}).") from exc
    return "".join(parts)


def _leaks_prompt(text: str, system: str) -> bool:
    """True when the reply repeats a long stretch of the system prompt."""
    lowered = text.lower()
    return any(line.strip().lower()[:60] in lowered for line in system.splitlines() if len(line.strip()) > 60)


def generate_answer(
    model: BaseChatModel,
    question: str,
    language: str,
    hits: Sequence[RetrievedChunk],
    on_token: TokenCallback | None = None,
    deadline_s: float = 30.0,
) -> Draft:
    """Ask the model for a cited answer; anything unsupported becomes the fixed abstain reply."""
    abstain = Draft(phrase("abstain", language), (), grounded=False, mode="llm")
    if not hits:
        return abstain
    name = language_name(language, "en")
    system = load_prompt("system").format(language_name=name)
    user = load_prompt("answer").format(sources=format_sources(hits), question=question, language_name=name)
    raw = _call(model, [SystemMessage(system), HumanMessage(user)], on_token, deadline_s).strip()
    if not raw or raw.startswith(NO_ANSWER) or _leaks_prompt(raw, system):
        return abstain
    allowed = "\n".join(h.chunk.text for h in hits)
    text, removed = remove_unknown_links(raw.replace(NO_ANSWER, "").strip(), allowed)
    if removed:
        logger.warning("removed links not found in the sources: %s", removed)
    text, citations = validate_citations(text, hits)
    if not citations:
        logger.info("LLM answer had no valid citation; treated as unsupported")
        return abstain
    return Draft(text, citations, grounded=True, mode="llm")


def condense_question(model: BaseChatModel, history: Sequence[Turn], message: str, deadline_s: float = 15.0) -> str:
    """A standalone version of a follow-up message, in the customer's language."""
    transcript = "\n".join(f"{t.role}: {t.content}" for t in history[-6:])
    prompt = load_prompt("condense").format(history=transcript, message=message)
    text = _call(model, [HumanMessage(prompt)], None, deadline_s).strip()
    return text.splitlines()[0].strip() if text else message


def summarize_with_llm(model: BaseChatModel, transcript: Sequence[Turn], reasons: Sequence[str]) -> str:
    text = "\n".join(f"{t.role}: {t.content}" for t in transcript)
    prompt = load_prompt("summary").format(transcript=text, reasons=", ".join(reasons) or "customer request")
    return _call(model, [HumanMessage(prompt)], None, 20.0).strip()
