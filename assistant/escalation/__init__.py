"""Escalation: signals (human request, sensitive topics, frustration, loops) and the policy that combines them."""

from assistant.escalation.frustration import FrustrationDetector, track_frustration, vader_compound
from assistant.escalation.human_request import asks_for_human
from assistant.escalation.loops import detect_loop, says_not_helped
from assistant.escalation.policy import EscalationSignals, EscalationState, decide, signal_values
from assistant.escalation.sensitive import detect_sensitive_topics, known_topics, validate_topics

__all__ = [
    "EscalationSignals",
    "EscalationState",
    "FrustrationDetector",
    "asks_for_human",
    "decide",
    "detect_loop",
    "detect_sensitive_topics",
    "known_topics",
    "says_not_helped",
    "signal_values",
    "track_frustration",
    "validate_topics",
    "vader_compound",
]
