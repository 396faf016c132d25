"""Escalation policy: immediate handoff, a single polite offer, declined and accepted offers."""

from __future__ import annotations

import pytest

from assistant.config import Settings
from assistant.escalation import EscalationSignals, EscalationState, decide

SETTINGS = Settings(confidence_threshold=0.45, frustration_threshold=0.6)
CALM = EscalationSignals(confidence=0.9, grounded=True, frustration=0.1, frustration_message=0.1)
LOW = EscalationSignals(confidence=0.2, grounded=True, frustration=0.1, frustration_message=0.1)
FRUSTRATED = EscalationSignals(confidence=0.9, grounded=True, frustration=0.7, frustration_message=0.7)


def run(turns, state=None, settings=SETTINGS):
    state = state or EscalationState()
    decisions = []
    for signals in turns:
        decision, state = decide(signals, settings, state)
        decisions.append(decision)
    return decisions, state


def with_(signals: EscalationSignals, **changes) -> EscalationSignals:
    from dataclasses import replace

    return replace(signals, **changes)


def test_calm_confident_answer_needs_nobody():
    decision, state = decide(CALM, SETTINGS, EscalationState())
    assert (decision.escalate, decision.offer, decision.reasons) == (False, False, ())
    assert decision.action == "none"
    assert state == EscalationState()


def test_explicit_request_hands_off_immediately_even_when_confident():
    decision, state = decide(with_(CALM, asked_for_human=True), SETTINGS, EscalationState())
    assert decision.escalate and decision.action == "handoff"
    assert decision.reasons[0] == "asked_for_human"
    assert state.handed_off


def test_sensitive_topic_hands_off_with_the_topic_in_signals():
    decision, _ = decide(with_(CALM, sensitive_topics=("legal_threat",)), SETTINGS, EscalationState())
    assert decision.escalate
    assert decision.reasons == ("sensitive_topic",)
    assert decision.signals["sensitive_topic"] == 1.0
    assert decision.signals["sensitive_topic.legal_threat"] == 1.0


@pytest.mark.parametrize(
    ("signals", "reason"),
    [
        (LOW, "low_confidence"),
        (with_(CALM, grounded=False), "low_confidence"),
        (FRUSTRATED, "frustration"),
        (with_(CALM, loop=True, loop_similarity=0.95), "loop"),
    ],
)
def test_soft_signals_offer_a_person_without_handing_off(signals, reason):
    decision, state = decide(signals, SETTINGS, EscalationState())
    assert decision.offer and not decision.escalate and decision.action == "offer"
    assert decision.reasons == (reason,)
    assert state.offer_pending and state.offers == 1


def test_offer_lists_every_reason_present():
    decision, _ = decide(with_(FRUSTRATED, confidence=0.1, loop=True), SETTINGS, EscalationState())
    assert decision.offer
    assert decision.reasons == ("low_confidence", "frustration", "loop")


def test_an_unanswered_offer_is_renewed_in_every_doubtful_turn():
    # Issue 11: a frustrated message or a low-confidence answer gets a visible offer in that turn, even
    # when an earlier offer was left unanswered.
    decisions, state = run([LOW, CALM, LOW, with_(LOW, frustration=0.65), FRUSTRATED])
    assert [d.offer for d in decisions] == [True, False, True, True, True]
    assert state.offers == 4 and state.offer_pending
    assert decisions[3].reasons == ("low_confidence", "frustration")


def test_accepted_offer_hands_off_with_the_offer_reasons():
    decisions, state = run([FRUSTRATED, with_(CALM, offer_accepted=True)])
    assert decisions[1].escalate
    assert decisions[1].reasons == ("offer_accepted", "frustration")
    assert decisions[1].signals["offer_accepted"] == 1.0
    assert state.handed_off


def test_declined_offer_is_not_repeated_for_the_same_reason():
    decisions, state = run([LOW, with_(LOW, offer_accepted=False), LOW, LOW])
    assert [d.offer for d in decisions] == [True, False, False, False]
    assert not any(d.escalate for d in decisions)
    assert state.declined and state.declined_reasons == ("low_confidence",)
    assert decisions[1].signals["offer_answered"] == 1.0 and decisions[1].signals["offer_accepted"] == 0.0


def test_after_a_decline_an_explicit_request_still_hands_off():
    decisions, _ = run([FRUSTRATED, with_(FRUSTRATED, offer_accepted=False), with_(FRUSTRATED, asked_for_human=True)])
    assert decisions[2].escalate and decisions[2].reasons[0] == "asked_for_human"


def test_after_a_decline_a_sensitive_topic_still_hands_off():
    decisions, _ = run([LOW, with_(LOW, offer_accepted=False), with_(LOW, sensitive_topics=("account_security",))])
    assert decisions[2].escalate and decisions[2].reasons[0] == "sensitive_topic"


def test_after_a_decline_rising_frustration_past_a_higher_bar_earns_one_more_offer():
    decisions, state = run([
        FRUSTRATED,                                                  # 0.70: offer
        with_(FRUSTRATED, offer_accepted=False),                     # declined at 0.70
        with_(FRUSTRATED, frustration=0.75),                         # below the higher bar (0.8): no offer
        with_(FRUSTRATED, frustration=0.85),                         # above it: offer again
        with_(FRUSTRATED, frustration=0.95),                         # one more after a decline, at most
    ])
    assert [d.offer for d in decisions] == [True, False, False, True, False]
    assert decisions[3].reasons[0] == "frustration_rising"
    assert state.offers == 2


def test_after_a_decline_a_different_reason_earns_one_more_offer():
    decisions, _ = run([LOW, with_(LOW, offer_accepted=False), with_(LOW, loop=True), with_(LOW, loop=True)])
    assert [d.offer for d in decisions] == [True, False, True, False]
    assert decisions[2].reasons[0] == "loop"


def test_after_handoff_every_decision_keeps_the_customer_with_a_person():
    _, state = run([with_(CALM, asked_for_human=True)])
    decision, state_after = decide(CALM, SETTINGS, state)
    assert decision.escalate and decision.reasons == ("already_handed_off",)
    assert state_after == state


def test_every_decision_carries_all_signal_values():
    signals = EscalationSignals(confidence=0.3, citation_support=0.3, grounded=False, frustration=0.65,
                                frustration_message=0.5, asked_for_human=False, loop=True, loop_similarity=0.93,
                                sensitive_topics=(), offer_accepted=None)
    decision, _ = decide(signals, SETTINGS, EscalationState())
    assert decision.confidence == 0.3
    assert dict(decision.signals) == {
        "confidence": 0.3, "citation_support": 0.3, "grounded": 0.0, "frustration": 0.65, "frustration_message": 0.5,
        "asked_for_human": 0.0, "loop": 1.0, "loop_similarity": 0.93, "sensitive_topic": 0.0,
        "offer_answered": 0.0, "offer_accepted": 0.0,
    }
    assert all(isinstance(v, float) for v in decision.signals.values())


def test_thresholds_come_from_settings():
    strict = SETTINGS.with_overrides(confidence_threshold=0.95, frustration_threshold=0.9)
    decision, _ = decide(with_(FRUSTRATED, confidence=0.9), strict, EscalationState())
    assert decision.reasons == ("low_confidence",)
    lenient = SETTINGS.with_overrides(confidence_threshold=0.1)
    decision, _ = decide(LOW, lenient, EscalationState())
    assert decision.reasons == () and not decision.offer


def test_signals_and_state_are_frozen():
    with pytest.raises(AttributeError):
        CALM.confidence = 0.1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        EscalationState().offers = 3  # type: ignore[misc]
