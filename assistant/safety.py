"""Guards that keep documents and messages as data: injection-like sentences, links not in the sources."""

from __future__ import annotations

import re

# Sentences that address an AI system rather than a customer. In a help centre these are never
# legitimate content, so they are dropped from what the answerer sees and quotes.
_INJECTION_PATTERNS = [
    r"\bignore (?:all |any |the )?(?:previous|prior|above|earlier|your) (?:instructions|rules|prompts?)",
    r"\bdisregard (?:all |any |the )?(?:previous|prior|above|your) (?:instructions|rules)",
    r"\b(?:system|hidden|secret) prompt\b",
    r"\byou are now\b",
    r"\bact as (?:an?|the) (?:admin|administrator|staff|developer|agent)\b",
    r"\b(?:new|updated) instructions?:",
    r"\bdeveloper mode\b",
    r"\bjailbreak\b",
    r"تجاهل (?:جميع |كل )?(?:التعليمات|الأوامر|القواعد)",
    r"موجه النظام|تعليمات النظام",
    r"\bpuuza (?:maagizo|maelekezo)",
    r"\bmaagizo ya mfumo\b",
    r"\b(?:yi watsi|ka yi watsi) da (?:umarni|dokoki)",
    r"\bumarnin tsarin\b",
    r"\bignoreeri (?:kõiki |eelmisi |varasemaid )?(?:juhiseid|reegleid)",
    r"\bsüsteemi (?:viip|juhised)\b",
]
_INJECTION = re.compile("|".join(_INJECTION_PATTERNS), re.IGNORECASE)
_URL = re.compile(r"https?://[^\s)\]>\"']+|www\.[^\s)\]>\"']+", re.IGNORECASE)


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))


def strip_injections(text: str) -> str:
    """Remove sentences/lines that try to instruct the assistant."""
    if not looks_like_injection(text):
        return text
    pieces = re.split(r"(?<=[.!?؟\n])\s+", text)
    return " ".join(p for p in pieces if not looks_like_injection(p)).strip()


def links_in(text: str) -> set[str]:
    return {m.group(0).rstrip(".,;:") for m in _URL.finditer(text)}


def remove_unknown_links(answer: str, allowed_text: str) -> tuple[str, list[str]]:
    """Drop links the sources do not contain (a model must not invent URLs); return what was removed."""
    allowed = links_in(allowed_text)
    removed = [link for link in links_in(answer) if link not in allowed]
    for link in removed:
        answer = answer.replace(link, "")
    return answer, removed
