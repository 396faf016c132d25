"""One turn of the whole pipeline: `Assistant.reply(session_id, message) -> Answer`.

The UI and the CLI both go through this class; it never imports Streamlit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from langchain_core.language_models.chat_models import BaseChatModel

from assistant.answer_confidence import (
    AnswerConfidence,
    answer_score,
    default_answer_confidence,
    model_fingerprint,
)
from assistant.claim_support import SupportModel, answer_support, default_support_model
from assistant.confidence import ConfidenceModel, default_confidence_model
from assistant.config import Settings
from assistant.conversation_log import ConversationLog
from assistant.db import Database
from assistant.errors import KBError, ProviderError, StoreUnavailableError
from assistant.escalation import (
    EscalationSignals,
    FrustrationDetector,
    asks_for_human,
    decide,
    detect_loop,
    detect_sensitive_topics,
    validate_topics,
)
from assistant.extractive import Draft, compose_extractive
from assistant.followups import offline_search_query, refers_back
from assistant.generation import condense_question, generate_answer
from assistant.handoff import TicketStore
from assistant.handover import Handover
from assistant.language import detect_language
from assistant.models import make_chat_model, make_embeddings
from assistant.multiquery import search_across_languages
from assistant.phrases import phrase
from assistant.retrieval import HybridRetriever, RetrievalResult, make_retriever
from assistant.session import SessionState, clean_message
from assistant.session_store import SessionStore
from assistant.store import open_store
from assistant.text_units import units
from assistant.types import ANSWERING_MODES, Answer, Citation, EscalationDecision, Turn
from assistant.types import EscalationReason as Reason
from assistant.webhook import WebhookOutbox

__all__ = ["Assistant", "SessionState", "TokenCallback", "clean_message"]

logger = logging.getLogger(__name__)

TokenCallback = Callable[[str], None]
# Reasons that only restate an earlier handoff (plus soft signals): no new ticket, no repeated notice.
_WAITING_REASONS = {Reason.ALREADY_HANDED_OFF, Reason.LOW_CONFIDENCE, Reason.FRUSTRATION, Reason.LOOP,
                    Reason.FRUSTRATION_RISING}


def _units_quoted(citations: Sequence[Citation]) -> frozenset[str]:
    """The units (sentences, list items) the previous answer quoted."""
    return frozenset(unit for c in citations for unit in units(c.quote))


class Assistant:
    """The customer-facing assistant: retrieval, grounded answer, escalation, handoff, logging."""

    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        chat_model: BaseChatModel | None = None,
        tickets: TicketStore | None = None,
        log: ConversationLog | None = None,
        outbox: WebhookOutbox | None = None,
        frustration: FrustrationDetector | None = None,
        confidence_model: ConfidenceModel | None = None,
        answer_confidence: AnswerConfidence | None = None,
        support_model: SupportModel | None = None,
        sessions: SessionStore[SessionState] | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.chat_model = chat_model
        self.tickets = tickets
        self.log = log
        self.outbox = outbox
        validate_topics(settings.sensitive_topics)  # a typo in KB_SENSITIVE_TOPICS fails at start-up
        self.frustration = frustration or FrustrationDetector(retriever.embeddings)
        self.confidence_model = confidence_model or default_confidence_model()
        self.answer_confidence = answer_confidence or default_answer_confidence()
        self._models = model_fingerprint(self.confidence_model, self.answer_confidence)
        self.support_model = support_model or default_support_model()
        self.handover = Handover(tickets, outbox, chat_model)
        self.sessions = sessions or SessionStore(SessionState, settings.max_sessions, settings.session_ttl_s)

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def from_settings(cls, settings: Settings, chat_model: BaseChatModel | None = None) -> Assistant:
        store = open_store(settings, make_embeddings(settings))
        db = Database.from_settings(settings)
        outbox = WebhookOutbox(settings, db) if settings.webhook_url else None
        tickets = TicketStore(settings, db)
        if outbox is not None:
            outbox.enqueue_missing(tickets)
            # Deliveries (and retries of earlier failures) run beside the chat, never in its way.
            threading.Thread(target=outbox.run, args=(threading.Event(),), name="webhook", daemon=True).start()
        return cls(
            settings,
            make_retriever(settings, store),
            chat_model=chat_model if chat_model is not None else make_chat_model(settings),
            tickets=tickets,
            log=ConversationLog(settings, db),
            outbox=outbox,
        )

    def session(self, session_id: str) -> SessionState:
        return self.sessions.get(session_id)

    # ---- the turn ---------------------------------------------------------------------------

    def reply(self, session_id: str, message: str, on_token: TokenCallback | None = None) -> Answer:
        """Answer one customer message, deciding on escalation; never raises for bad input."""
        state = self.session(session_id)
        text, truncated = clean_message(message, self.settings.max_message_chars)
        if not text:
            return self._fixed_answer(session_id, state, phrase("empty_message", state.language))
        language = self._language(text, state)
        if asks_for_human(text):
            state.frustration.append(self.frustration.score(text, language))  # "agent!!!" counts too
            state.turns.append(Turn("user", text))
            self._log_user(session_id, language, text)
            return self._handoff(session_id, state, language, (Reason.ASKED_FOR_HUMAN,), lead="")
        try:
            answer = self._answer(session_id, state, text, language, on_token)
        except StoreUnavailableError:
            logger.exception("vector store unavailable")
            return self._offer_after_failure(session_id, state, language, text, Reason.STORE_UNAVAILABLE)
        except KBError:
            logger.exception("assistant error")
            return self._offer_after_failure(session_id, state, language, text, Reason.ERROR)
        if truncated:
            answer = replace(answer, notice=phrase("too_long", language, limit=self.settings.max_message_chars))
        return answer

    def _answer(
        self, session_id: str, state: SessionState, text: str, language: str, on_token: TokenCallback | None
    ) -> Answer:
        query = self._search_query(state, text)
        # Translate-then-search with a chat model (assistant/multiquery.py); the plain search without one.
        translator = self.chat_model if self.settings.translate_search == "on" else None
        result = search_across_languages(self.retriever, translator, query, language, self.settings.top_k,
                                         self.settings.llm_timeout_s)
        policy = self._policy_settings(language)
        confidence = self._confidence(query, language, result) if result.chunks else 0.0
        question = text if query == text else query
        if self.chat_model is None and confidence < policy.abstain_threshold:
            draft = Draft(phrase("abstain", language), (), grounded=False, mode="extractive")
        else:
            quoted = _units_quoted(state.last_sources) if query != text else frozenset()
            draft = self._draft(question, language, result, on_token, confidence < policy.confidence_threshold, quoted)
        confidence = confidence if draft.grounded else 0.0
        support = self._citation_support(draft, language, result)
        confidence = min(confidence, support)  # an answer is as trustworthy as its weakest cited claim
        decision = self._decide(state, text, language, result, confidence, draft.grounded, support, policy)
        state.turns.append(Turn("user", text))
        state.user_vectors.append(result.query_vector if query == text else self.retriever.embed_query(text))
        state.last_sources = draft.citations
        state.last_confidence = confidence
        state.last_reasons = decision.reasons
        self._log_user(session_id, language, text)
        answer = Answer(
            text=draft.text,
            citations=draft.citations,
            retrieved=result.chunks,
            language=language,
            confidence=round(confidence, 4),
            escalation=decision,
            grounded=draft.grounded,
            mode=draft.mode,
            session_id=session_id,
            search_query=query,
            search_translations=result.translations,
            notice=draft.notice,
        )
        if decision.escalate and state.ticket_id and set(decision.reasons) <= _WAITING_REASONS:
            return self._answer_while_waiting(session_id, state, answer)
        if decision.escalate:
            return self._handoff(session_id, state, language, decision.reasons, lead=draft.text, base=answer)
        if decision.offer:
            answer = replace(answer, text=f"{answer.text}\n\n{phrase('offer_person', language)}")
        answer = self._log_assistant(session_id, answer)
        state.turns.append(Turn("assistant", answer.text))
        return answer

    def _policy_settings(self, language: str) -> Settings:
        """The settings with the offer and abstain thresholds this index calibrated for `language`."""
        calibration = self.retriever.snapshot().calibration
        if self.settings.calibration == "off" or calibration is None or calibration.model != self._models:
            return self.settings
        floor = (self.settings.confidence_threshold, self.settings.abstain_threshold)
        offer, abstain = calibration.thresholds(language, floor)
        return self.settings.with_overrides(confidence_threshold=offer, abstain_threshold=abstain)

    def _confidence(self, query: str, language: str, result: RetrievalResult) -> float:
        """P(the answer shown is right): retrieval confidence refined by the answer-confidence model."""
        return answer_score(self.confidence_model, self.answer_confidence, query, language, result.chunks)

    def _answer_while_waiting(self, session_id: str, state: SessionState, answer: Answer) -> Answer:
        """Already handed off: answer normally and add the new turns to the open ticket."""
        answer = self._log_assistant(session_id, answer)
        state.turns.append(Turn("assistant", answer.text))
        return self.handover.add_to_ticket(state, answer)

    def _search_query(self, state: SessionState, text: str) -> str:
        previous = state.user_messages[-1] if state.user_messages else None
        if previous is None:
            return text
        if self.chat_model is not None and refers_back(text):
            try:
                return condense_question(self.chat_model, state.turns, text, self.settings.llm_timeout_s)
            except ProviderError:
                logger.warning("condensing failed; using the offline follow-up rule")
        return offline_search_query(previous, text)

    def _draft(self, question: str, language: str, result: RetrievalResult, on_token: TokenCallback | None,
               unsure: bool = False, quoted: frozenset[str] = frozenset()) -> Draft:
        if self.chat_model is None:
            return self._extractive(question, language, result, unsure, quoted)
        try:
            return generate_answer(
                self.chat_model, question, language, result.chunks, on_token,
                deadline_s=self.settings.llm_timeout_s * (self.settings.llm_max_retries + 1),
            )
        except ProviderError:
            draft = self._extractive(question, language, result, unsure, quoted)
            return replace(draft, notice=phrase("llm_unavailable", language))

    def _extractive(self, question: str, language: str, result: RetrievalResult, unsure: bool = False,
                    quoted: frozenset[str] = frozenset()) -> Draft:
        """Quote the sentences that answer, from the customer's-language version of a passage when one exists."""
        hits = list(result.chunks)
        if hits:
            translated = self.retriever.in_language(hits[0], language, result.query_vector)
            if translated is not None:
                hits[0] = translated

        def unit_scores(chunk_id: str) -> list[tuple[int, float]]:
            scored = self.retriever.unit_scores(chunk_id, result.query_vector)
            return [(view.position, cosine) for view, cosine in scored]

        return compose_extractive(question, language, hits, unit_scores, unsure, quoted)

    def _citation_support(self, draft: Draft, language: str, result: RetrievalResult) -> float:
        """The weakest claim's support for a grounded LLM answer; 1.0 otherwise (extractive answers quote)."""
        if draft.mode != "llm" or not draft.grounded or not draft.citations:
            return 1.0
        try:
            support, detail = answer_support(
                self.support_model, draft.text, language,
                cited={c.marker: c.chunk_id for c in draft.citations},
                chunks={h.chunk.chunk_id: h.chunk for h in result.chunks},
                chunk_vector=self.retriever.chunk_vector,
                embed_claims=lambda texts: [self.retriever.embed_query(t) for t in texts],
            )
        except Exception:  # a failed check must not cost the customer the answer; retrieval confidence stands
            logger.exception("citation support check failed; using retrieval confidence alone")
            return 1.0
        weakest = min(detail, key=lambda d: d.support, default=None)
        if weakest is not None and weakest.support < self.settings.confidence_threshold:
            logger.info("weakly supported claim (%.2f, %s): %.80s", weakest.support, weakest.chunk_id,
                        weakest.claim.text)
        return support

    def _decide(
        self, state: SessionState, text: str, language: str, result: RetrievalResult, confidence: float,
        grounded: bool, support: float = 1.0, policy: Settings | None = None,
    ) -> EscalationDecision:
        vector = result.query_vector if result.query == text and result.query_vector.size else None
        message_score = self.frustration.score(text, language, vector)
        level, _trend = self.frustration.track(state.frustration, message_score)
        state.frustration.append(message_score)
        loop, loop_sim = detect_loop(
            state.user_messages, text, embed=self._cached_embedder(state, text, result),
            similarity=self.settings.loop_similarity,
        )
        signals = EscalationSignals(
            confidence=confidence,
            citation_support=support,
            grounded=grounded,
            frustration=level,
            frustration_message=message_score,
            asked_for_human=False,
            loop=loop,
            loop_similarity=loop_sim,
            sensitive_topics=detect_sensitive_topics(text, self.settings.sensitive_topics),
            offer_accepted=None,
        )
        decision, state.escalation = decide(signals, policy or self.settings, state.escalation)
        return decision

    def _cached_embedder(self, state: SessionState, text: str, result: RetrievalResult):
        """Embed for loop detection, reusing vectors already computed this session."""
        known = dict(zip(state.user_messages, state.user_vectors, strict=False))
        known.setdefault(text, result.query_vector if result.query == text else None)

        def embed(value: str) -> np.ndarray:
            vector = known.get(value)
            return vector if vector is not None else self.retriever.embed_query(value)

        return embed

    # ---- people -----------------------------------------------------------------------------

    def request_human(self, session_id: str) -> Answer:
        """The always-visible "talk to a person" button."""
        state = self.session(session_id)
        return self._handoff(session_id, state, state.language, (Reason.ASKED_FOR_HUMAN,), lead="")

    def respond_to_offer(self, session_id: str, accept: bool) -> Answer | None:
        """The customer's answer to an offered person: accept hands off, decline is remembered."""
        state = self.session(session_id)
        signals = EscalationSignals(
            confidence=state.last_confidence, grounded=True,
            frustration=state.frustration[-1] if state.frustration else 0.0,
            frustration_message=0.0, asked_for_human=False, loop=False, loop_similarity=0.0,
            sensitive_topics=(), offer_accepted=accept,
        )
        decision, state.escalation = decide(signals, self.settings, state.escalation)
        if decision.escalate:
            return self._handoff(session_id, state, state.language, state.last_reasons or decision.reasons, lead="")
        return None

    def _handoff(
        self, session_id: str, state: SessionState, language: str, reasons: tuple[str, ...], lead: str,
        base: Answer | None = None,
    ) -> Answer:
        return self._log_assistant(session_id, self.handover.hand_off(session_id, state, language, reasons, lead, base))

    # ---- small helpers ----------------------------------------------------------------------

    def _language(self, text: str, state: SessionState) -> str:
        code, probability = detect_language(text, self.settings.languages, default=state.language)
        if probability >= 0.8 or not state.turns:
            state.language = code
        return state.language

    def _fixed_answer(self, session_id: str, state: SessionState, text: str) -> Answer:
        return Answer(
            text=text, citations=(), retrieved=(), language=state.language, confidence=0.0,
            escalation=EscalationDecision(escalate=False, confidence=0.0), grounded=False, mode="none",
            session_id=session_id,
        )

    def _offer_after_failure(
        self, session_id: str, state: SessionState, language: str, text: str, reason: Reason
    ) -> Answer:
        state.turns.append(Turn("user", text))
        self._log_user(session_id, language, text)
        answer = Answer(
            text=f"{phrase(reason, language)}\n\n{phrase('offer_person', language)}", citations=(), retrieved=(),
            language=language, confidence=0.0,
            escalation=EscalationDecision(escalate=False, confidence=0.0, reasons=(reason,), offer=True),
            grounded=False, mode="error", session_id=session_id,
        )
        state.turns.append(Turn("assistant", answer.text))
        return self._log_assistant(session_id, answer)

    def feedback(self, session_id: str, message_index: int, helpful: bool, comment: str = "") -> None:
        """Thumbs up/down on the assistant message at `message_index` (as returned in Answer.message_index)."""
        if self.log is not None:
            self.log.record_feedback(session_id, message_index, helpful, comment)

    def _log_user(self, session_id: str, language: str, text: str) -> None:
        if self.log is not None:
            self.log.record_message(session_id, "user", text, language=language)

    def _log_assistant(self, session_id: str, answer: Answer) -> Answer:
        """Persist the reply (redacted by the log); returns it with its message index set."""
        if self.log is None:
            return answer
        index = self.log.record_answer(session_id, answer)
        if answer.ticket_id:
            self.log.record_handoff(session_id, answer.ticket_id, answer.escalation.reasons)
        if not answer.grounded and answer.mode in ANSWERING_MODES:
            question = next((t.content for t in reversed(self.session(session_id).turns) if t.role == "user"), "")
            self.log.record_unanswered(question, answer.language, session_id)
        return replace(answer, message_index=index)
