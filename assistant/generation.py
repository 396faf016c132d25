"""LLM answers over numbered sources, with citation checks; plus condensing follow-ups and summaries.

Customer text is redacted (`assistant.redaction`) before it goes into any prompt: the model
provider is a third party, and neither answering nor summarising needs a card or phone number.
"""

from __future__ import annotations

import functools
import html
import logging
import re
import time
from collections.abc import Callable, Sequence
from importlib import resources

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.citations import chunk_body, validate_citations
from assistant.errors import ProviderError
from assistant.extractive import Draft
from assistant.links import sanitize_links
from assistant.phrases import language_name, phrase
from assistant.redaction import redact
from assistant.safety import (
    StreamGuard,
    claims_authority,
    strip_injections,
    unsupported_numbers,
)
from assistant.types import RetrievedChunk, Turn

logger = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"
_SOURCE_TAG = re.compile(r"<(/?)(source)\b", re.IGNORECASE)
TokenCallback = Callable[[str], None]


@functools.cache
def load_prompt(name: str) -> str:
    return resources.files("assistant").joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")


def format_sources(hits: Sequence[RetrievedChunk]) -> str:
    """Delimited, numbered sources; their text is data (instruction-like sentences removed)."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        c = hit.chunk
        page = f' page="{c.page}"' if c.page else ""
        # Attributes escaped and source tags in bodies defused: a title or passage cannot close its
        # block and open a fake <source id="9">.
        body = _SOURCE_TAG.sub(r"&lt;\1\2", source_body(c))
        title, language = html.escape(c.title, quote=True), html.escape(c.language, quote=True)
        blocks.append(f'<source id="{n}" title="{title}" language="{language}"{page}>\n{body}\n</source>')
    return "\n\n".join(blocks)


def source_body(chunk) -> str:
    """The passage text the model is shown: the chunk body with instruction-like sentences removed."""
    return strip_injections(chunk_body(chunk.text))


def _call(model: BaseChatModel, messages: list, on_token: TokenCallback | None, deadline_s: float) -> str:
    """Stream the reply (tokens go to `on_token`); a late, cut-off or empty reply is a ProviderError."""
    started = time.monotonic()
    parts: list[str] = []
    reported, finish = False, ""
    try:
        for piece in model.stream(messages):
            meta = piece.response_metadata or {}
            reported = reported or "model_provider" in meta or "finish_reason" in meta
            finish = meta.get("finish_reason") or finish
            delta = piece.content if isinstance(piece.content, str) else ""
            if delta:
                parts.append(delta)
                if on_token:
                    on_token(delta)
            if time.monotonic() - started > deadline_s:
                raise ProviderError(f"Expected a reply within {deadline_s:.0f}s, the model was still streaming.")
    except ProviderError as exc:
        logger.warning("chat model failed: %s", exc)
        raise
    except Exception as exc:
        logger.warning("chat model failed: %s: %s", type(exc).__name__, exc)
        raise ProviderError(f"The chat model failed ({type(exc).__name__}).") from exc
    # A provider that reports finish reasons (OpenAI-compatible servers do) but sent none had its
    # stream cut off; "length" means the answer was cut at the token limit. Half an answer is worse
    # than the extractive fallback.
    if (reported and not finish) or finish == "length":
        logger.warning("chat model reply incomplete (finish_reason=%r) after %d chunks", finish or None, len(parts))
        raise ProviderError("The chat model's reply was cut off.")
    text = "".join(parts)
    if not text.strip():
        logger.warning("chat model returned an empty reply")
        raise ProviderError("The chat model returned an empty reply.")
    return text


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
    question = redact(question)
    name = language_name(language, "en")
    system = load_prompt("system").format(language_name=name)
    user = load_prompt("answer").format(sources=format_sources(hits), question=question, language_name=name)
    # What the model was shown (injection-like sentences removed): figures must come from it, links and
    # addresses from the passage bodies alone (a title is a doc writer's label, not vetted content).
    bodies = "\n".join(source_body(h.chunk) for h in hits)
    allowed = "\n".join(f"{h.chunk.title}\n{source_body(h.chunk)}" for h in hits)
    guard = StreamGuard(on_token, system, f"{allowed}\n{question}") if on_token else None
    raw = _call(model, [SystemMessage(system), HumanMessage(user)], guard, deadline_s).strip()
    if guard is not None:
        guard.finish()
    if raw.startswith(NO_ANSWER):
        return abstain
    if _leaks_prompt(raw, system) or claims_authority(raw):
        logger.warning("LLM answer repeated the prompt or spoke as staff; treated as unsupported")
        return abstain
    text, removed = sanitize_links(raw.replace(NO_ANSWER, "").strip(), bodies)
    if removed:
        logger.warning("removed links not found in the sources: %s", removed)
    invented = unsupported_numbers(text, f"{allowed}\n{question}")
    if invented:
        logger.warning("LLM answer states numbers the sources do not (%s); treated as unsupported", invented)
        return abstain
    text, citations = validate_citations(text, hits)
    if not citations:
        logger.info("LLM answer had no valid citation; treated as unsupported")
        return abstain
    return Draft(text, citations, grounded=True, mode="llm")


def condense_question(model: BaseChatModel, history: Sequence[Turn], message: str, deadline_s: float = 15.0) -> str:
    """A standalone version of a follow-up message, in the customer's language."""
    prompt = load_prompt("condense").format(history=_transcript(history[-6:]), message=redact(message))
    text = _call(model, [HumanMessage(prompt)], None, deadline_s).strip()
    return text.splitlines()[0].strip() if text else message


def summarize_with_llm(model: BaseChatModel, transcript: Sequence[Turn], reasons: Sequence[str]) -> str:
    """A staff summary of the (redacted) conversation."""
    reason_text = ", ".join(reasons) or "customer request"
    prompt = load_prompt("summary").format(transcript=_transcript(transcript), reasons=reason_text)
    return _call(model, [HumanMessage(prompt)], None, 20.0).strip()


def _transcript(turns: Sequence[Turn]) -> str:
    return "\n".join(f"{t.role}: {redact(t.content)}" for t in turns)
