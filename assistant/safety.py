"""Guards that keep documents and messages as data: injection-like sentences, claims of staff authority,
numbers the sources do not state, and a guard on streamed text (links: assistant/links.py).

The patterns cover the product's languages (en, ar, sw, ha, et). They target wording that addresses
an AI system ("ignore previous instructions", "note to the assistant", "you are now a staff member")
rather than single words, so ordinary help-centre sentences such as "You are now signed in" or
"When the system prompt appears, tap Allow" are not touched (tests/reliability/test_injection.py
checks both directions).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from assistant.textnorm import visible_text

# Sentences that address an AI system rather than a customer. In a help centre these are never
# legitimate content, so they are dropped from what the answerer sees and quotes.
_INJECTION_PATTERNS = [
    # en
    r"\bignore (?:all |any |the )?(?:previous|prior|above|earlier|your|these|those) (?:instructions|rules|prompts?)",
    r"\bdisregard (?:all |any |the )?(?:previous|prior|above|your) (?:instructions|rules)",
    r"\b(?:reveal|print|show|repeat|output|display|share|leak|tell me) (?:me )?(?:your|the) "
    r"(?:system|hidden|secret|initial|original) (?:prompt|instructions|rules)",
    r"\byour (?:system|hidden|secret) (?:prompt|instructions)\b",
    r"\byou are now (?:a |an |the |in )?(?:staff|admin|administrator|agent|manager|employee|developer|"
    r"support agent|human|unrestricted|dan\b|jailbroken|free)",
    r"\bact as (?:an?|the) (?:admin|administrator|staff|developer|agent|manager)\b",
    r"\b(?:new|updated) instructions?:",
    r"\b(?:note|message|instructions?) (?:to|for) (?:the )?(?:assistant|ai|bot|chatbot|model|llm)\b",
    r"\b(?:assistant|ai|chatbot|llm)\s*:\s*(?:always|never|tell|say|reply|answer|output)\b",
    r"\b(?:always |you must )?tell (?:all |every |the )?(?:customers?|users?|clients?) that\b",
    r"\b(?:output|include|insert|add|post|print|send|give) (?:this|the following) (?:link|url) "
    r"(?:to|for) (?:all |the |every )?(?:customers?|users?|clients?)\b",
    r"\bdeveloper mode\b",
    r"\bjailbreak\b",
    # ar
    r"تجاهل (?:جميع |كل )?(?:التعليمات|الأوامر|القواعد)",
    r"تجاهل قواعدك|تجاهل مصادر",
    r"موجه النظام|(?:اكشف|اكتب|اعرض|أظهر) تعليمات النظام",
    r"ملاحظة (?:إلى|لل)(?:ال)?مساعد",
    r"(?:أخبر|قل ل|أبلغ) ?(?:جميع |كل )?(?:ال)?(?:عملاء|زبائن)",
    r"(?:أرسل|أضف|اعرض|انشر|ضع) (?:دائمًا |دائما )?هذا الرابط (?:دائمًا |دائما )?(?:إلى |لل|ل)(?:ال)?(?:عملاء|زبائن)",
    r"أنت الآن (?:موظف|مدير|مسؤول|وكيل|مشرف)",
    # sw
    r"\bpuuza (?:maagizo|maelekezo|sheria|vyanzo)",
    r"\bmaagizo ya mfumo\b",
    r"\bujumbe kwa msaidizi\b",
    r"\bwaambie wateja\b",
    r"\b(?:tuma|weka|onyesha|toa) kiungo hiki kwa wateja\b",
    r"\bsasa wewe ni (?:mfanyakazi|meneja|msimamizi|wakala|mhudumu)",
    # ha
    r"\b(?:yi watsi|ka yi watsi) da (?:duk |dukkan )?(?:umarni|dokoki|tushen)",
    r"\bumarnin tsarin\b",
    r"\bsaƙo ga mataimaki\b",
    r"\bgaya wa (?:duk )?abokan ciniki\b",
    r"\b(?:aika|saka|nuna) (?:da )?wannan mahaɗi\w* ga (?:duk )?abokan ciniki\b",
    r"\byanzu (?:kai|ke) (?:ma['’]aikaci|manaja|mai gudanarwa)",
    # et
    r"\bignoreeri (?:oma |kõiki |eelmisi |varasemaid |eelnevaid |abikeskuse )*(?:juhiseid|reegleid|allikaid)",
    r"\bsüsteemi (?:viip|juhised)\b",
    r"\bmärkus assistendile\b",
    r"\bütle klientidele\b",
    r"\b(?:saada|lisa|näita|väljasta) (?:alati )?klientidele (?:alati )?(?:see|järgmine) link\b",
    r"\b(?:sa|te) ole(?:d|te) nüüd (?:töötaja|administraator|juhataja|haldur|agent)",
]
_INJECTION = re.compile("|".join(_INJECTION_PATTERNS), re.IGNORECASE)
# Anything that may become a link or an address while an answer streams (assistant/links.py checks the
# final text): the stream stops there and the checked answer replaces it.
_LINKISH = ("http", "www.", "](", "]:", "//", "\\\\", "mailto:", "@", "javascript:", "data:", "<")

# First-person claims of staff authority or of a decision only a person may take. The assistant is
# never staff and never approves anything; a reply saying so is rejected (generation.py).
_AUTHORITY_PATTERNS = [
    r"\bI am (?:a |an |the )?(?:staff|manager|supervisor|employee|human|support agent|agent)\b",
    r"\bas (?:a |an |the )?(?:staff member|manager|supervisor|employee)\b",
    r"\bI (?:have |hereby )?(?:approved|authori[sz]ed|approve|authori[sz]e)\b",
    r"\byour refund (?:is|has been) (?:approved|authori[sz]ed)\b",
    r"أنا (?:موظف|مدير|مشرف|إنسان)|بصفتي (?:المدير|موظف|مشرف)|(?:وافقت|أوافق) على|تمت الموافقة على",
    r"\bmimi ni (?:mfanyakazi|meneja|msimamizi|binadamu)\b|\bkama (?:meneja|mfanyakazi)\b",
    r"\bnimeidhinisha\b|\bninaidhinisha\b",
    r"\bni (?:ma['’]aikaci|manaja) ne\b|\ba matsayina na (?:manaja|ma['’]aikaci)\b|\bna amince\b",
    r"\bma olen (?:töötaja|juhataja|inimene|klienditeenindaja)\b|\bjuhatajana\b|\bkinnitan\b|\bkiitsin heaks\b",
]
_AUTHORITY = re.compile("|".join(_AUTHORITY_PATTERNS), re.IGNORECASE)
# Numbers of two or more digits (any script); single digits are list steps far more often than facts.
_NUMBER = re.compile(r"(?<!\d)\d{2,}(?!\d)")
_MARKER = re.compile(r"\[\d{1,3}\]")


def looks_like_injection(text: str) -> bool:
    # A visible copy: chunks indexed before ingest dropped format characters may still hold them.
    return bool(_INJECTION.search(visible_text(text)))


def strip_injections(text: str) -> str:
    """Remove sentences/lines that try to instruct the assistant."""
    if not looks_like_injection(text):
        return text
    pieces = re.split(r"(?<=[.!?؟\n])\s+", text)
    return " ".join(p for p in pieces if not looks_like_injection(p)).strip()


def claims_authority(text: str) -> bool:
    """True when `text` speaks as staff or approves something ("I have approved your refund")."""
    return bool(_AUTHORITY.search(text))


def unsupported_numbers(answer: str, allowed_text: str) -> list[str]:
    """Numbers (2+ digits, any script) in `answer` that `allowed_text` does not contain.

    A time frame, price or limit the sources never state ("refunds take 100 days") is an invented
    policy even when the sentence carries a valid [n] marker.
    """
    allowed = set(_NUMBER.findall(_ascii_digits(allowed_text)))
    found = _NUMBER.findall(_ascii_digits(_MARKER.sub(" ", answer)))
    return [n for n in dict.fromkeys(found) if n not in allowed]


class StreamGuard:
    """Passes streamed answer text on only once it has cleared the checks a prefix allows; stops at the first failure.

    The last HOLD_CHARS characters are held back, so a link, a run of the system prompt, a staff claim
    or a figure the sources do not state is caught before any of it reaches the customer. The checked
    final answer replaces the streamed text in any case.
    """

    HOLD_CHARS = 32  # >= PROMPT_RUN, so a run of the prompt is caught before any of it is shown
    PROMPT_RUN = 32  # characters in common with the system prompt that count as repeating it

    def __init__(self, forward: Callable[[str], None], prompt: str, allowed_text: str) -> None:
        self._forward = forward
        flat = _flat(prompt)
        self._prompt_runs = {flat[i : i + self.PROMPT_RUN] for i in range(len(flat) - self.PROMPT_RUN + 1)}
        self._allowed = allowed_text
        self._text = ""
        self._sent = 0
        self._checked = 0
        self.stopped = False

    def __call__(self, delta: str) -> None:
        if self.stopped:
            return
        self._text += delta
        if self._suspicious():
            self.stopped = True
            return
        upto = len(self._text) - self.HOLD_CHARS
        if upto > self._sent:
            self._forward(self._text[self._sent : upto])
            self._sent = upto

    def finish(self) -> None:
        """The stream ended: check the whole text once more and pass on what was held back."""
        if not self.stopped and not self._suspicious(final=True) and len(self._text) > self._sent:
            self._forward(self._text[self._sent :])
            self._sent = len(self._text)

    def _suspicious(self, final: bool = False) -> bool:
        flat = _flat(self._text)
        start, self._checked = max(0, self._checked - self.PROMPT_RUN), len(flat)
        repeats_prompt = any(
            flat[i : i + self.PROMPT_RUN] in self._prompt_runs for i in range(start, len(flat) - self.PROMPT_RUN + 1)
        )
        complete = self._text if final else re.sub(r"\d+$", "", self._text)  # "1" may still become "100"
        return (
            any(mark in flat for mark in _LINKISH) or repeats_prompt or claims_authority(self._text)
            or bool(unsupported_numbers(complete, self._allowed))
        )


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def _ascii_digits(text: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)
