"""Follow-up questions: decide when a message leans on the previous turn, and build the search query."""

from __future__ import annotations

import re

from assistant.lexical import normalize, tokenize

# Words that point back at something said before ("and how long does that take?").
_REFERRING = set(
    """
    it that this those these them they there its same also and then what about else more
    hiyo hilo huo hicho hizo yake yao pia na je vipi kuhusu tena zaidi
    shi ita wannan wancan su kuma fa yaya game haka
    see seda sellele selle need neid ja ka aga kuidas
    ذلك هذا هذه تلك هو هي و ماذا عن ايضا أيضا كذلك
    """.split()
)
SHORT_MESSAGE_TERMS = 4


def refers_back(message: str) -> bool:
    """True for short messages or messages opening with/containing a referring word."""
    words = re.findall(r"[^\W_]+", normalize(message))
    if not words:
        return False
    content_terms = [t for t in tokenize(message) if not t.endswith("~")]
    if len(content_terms) <= SHORT_MESSAGE_TERMS - 2:
        return True
    return len(content_terms) <= SHORT_MESSAGE_TERMS and any(w in _REFERRING for w in words)


def offline_search_query(previous_user_message: str | None, message: str) -> str:
    """Without an LLM to condense, prepend the previous question when the message leans on it."""
    if previous_user_message and refers_back(message):
        return f"{previous_user_message} {message}"
    return message
