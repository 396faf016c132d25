"""Escalation policy: signals + settings + conversation state -> hand off now, offer a person, or carry on.

- An explicit request for a person or a sensitive topic hands off at once.
- Low confidence (or an ungrounded answer), frustration and loops offer a person beside the answer, in
  every turn that warrants it, even when an earlier offer was left unanswered: a doubtful answer never
  comes without a way out.
- A declined offer is not repeated for the same reasons; a stronger signal still hands off, and a new
  reason, or frustration that keeps rising past a higher bar, earns one more offer.
- An accepted offer hands off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.config import Settings
from assistant.types import EscalationDecision
from assistant.types import EscalationReason as Reason

REOFFER_MARGIN = 0.2   # after a decline, frustration must pass threshold + this, and exceed its level at the decline
REOFFER_CEILING = 0.95
MAX_OFFERS_AFTER_DECLINE = 1   # a customer who said no is offered once more at most (for a new reason)


@dataclass(frozen=True, slots=True)
class EscalationSignals:
    """What the signal modules measured for the current customer message."""

    confidence: float = 1.0                   # calibrated answer confidence 0..1 (already capped by support)
    citation_support: float = 1.0             # LLM answers: the weakest claim's support by its citations
    grounded: bool = True                     # False when the assistant abstained
    frustration: float = 0.0                  # conversation level (track_frustration)
    frustration_message: float = 0.0         # this message alone
    asked_for_human: bool = False
    loop: bool = False
    loop_similarity: float = 0.0
    sensitive_topics: tuple[str, ...] = ()
    offer_accepted: bool | None = None        # the customer's answer to a pending offer, if any


@dataclass(frozen=True, slots=True)
class EscalationState:
    """What happened earlier in the conversation; `decide` returns the next state."""

    offers: int = 0                            # offers made so far
    offered_reasons: tuple[str, ...] = ()      # reasons of the last offer
    offer_pending: bool = False                # offered, not yet accepted or declined
    declined: bool = False
    declined_reasons: tuple[str, ...] = ()
    frustration_at_decline: float = 0.0
    offers_at_decline: int = 0
    handed_off: bool = False


def signal_values(signals: EscalationSignals) -> dict[str, float]:
    """Every signal as a flat name -> float map (booleans as 0/1), for staff views and logs."""
    values = {
        "confidence": float(signals.confidence),
        "citation_support": float(signals.citation_support),
        "grounded": float(signals.grounded),
        "frustration": float(signals.frustration),
        "frustration_message": float(signals.frustration_message),
        "asked_for_human": float(signals.asked_for_human),
        "loop": float(signals.loop),
        "loop_similarity": float(signals.loop_similarity),
        "sensitive_topic": float(bool(signals.sensitive_topics)),
        "offer_answered": float(signals.offer_accepted is not None),
        "offer_accepted": float(bool(signals.offer_accepted)),
    }
    values.update({f"sensitive_topic.{topic}": 1.0 for topic in signals.sensitive_topics})
    return values


def soft_reasons(signals: EscalationSignals, settings: Settings) -> tuple[str, ...]:
    """The reasons that warrant offering a person (not handing off by themselves)."""
    reasons = []
    if signals.confidence < settings.confidence_threshold or not signals.grounded:
        reasons.append(Reason.LOW_CONFIDENCE)
    if signals.frustration >= settings.frustration_threshold:
        reasons.append(Reason.FRUSTRATION)
    if signals.loop:
        reasons.append(Reason.LOOP)
    return tuple(reasons)


def _decision(signals: EscalationSignals, reasons: tuple[str, ...], escalate: bool = False,
              offer: bool = False) -> EscalationDecision:
    return EscalationDecision(escalate=escalate, confidence=float(signals.confidence),
                              reasons=tuple(dict.fromkeys(reasons)), offer=offer,
                              signals=signal_values(signals))


def _reoffer_bar(state: EscalationState, settings: Settings) -> float:
    return min(REOFFER_CEILING, max(settings.frustration_threshold + REOFFER_MARGIN,
                                    state.frustration_at_decline + 0.05))


def decide(signals: EscalationSignals, settings: Settings,
           state: EscalationState = EscalationState()) -> tuple[EscalationDecision, EscalationState]:
    """The decision for this message and the conversation state after it."""
    soft = soft_reasons(signals, settings)
    strong = ((Reason.ASKED_FOR_HUMAN,) if signals.asked_for_human else ()) + (
        (Reason.SENSITIVE_TOPIC,) if signals.sensitive_topics else ())
    if state.handed_off:
        return _decision(signals, (Reason.ALREADY_HANDED_OFF, *strong, *soft), escalate=True), state
    if strong:
        return _decision(signals, strong + soft, escalate=True), _handed_off(state)
    if signals.offer_accepted is True:
        return (_decision(signals, (Reason.OFFER_ACCEPTED, *state.offered_reasons, *soft), escalate=True),
                _handed_off(state))
    if signals.offer_accepted is False and (state.offer_pending or state.offers):
        state = replace(state, offer_pending=False, declined=True, declined_reasons=state.offered_reasons,
                        frustration_at_decline=max(signals.frustration, state.frustration_at_decline),
                        offers_at_decline=state.offers)
        return _decision(signals, soft), state
    if not soft:
        return _decision(signals, soft), state
    if not state.declined:  # never declined: every doubtful answer comes with the offer, answered or not
        return _decision(signals, soft, offer=True), _offered(state, soft)
    if state.offers - state.offers_at_decline >= MAX_OFFERS_AFTER_DECLINE:
        return _decision(signals, soft), state
    fresh = tuple(r for r in soft if r not in state.declined_reasons)
    if fresh:  # declined for one reason; a different one has appeared since
        return _decision(signals, fresh + soft, offer=True), _offered(state, fresh)
    if Reason.FRUSTRATION in soft and signals.frustration >= _reoffer_bar(state, settings):
        reasons = (Reason.FRUSTRATION_RISING, *soft)
        return _decision(signals, reasons, offer=True), _offered(state, reasons)
    return _decision(signals, soft), state


def _offered(state: EscalationState, reasons: tuple[str, ...]) -> EscalationState:
    return replace(state, offers=state.offers + 1, offered_reasons=reasons, offer_pending=True)


def _handed_off(state: EscalationState) -> EscalationState:
    return replace(state, handed_off=True, offer_pending=False)
