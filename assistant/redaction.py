"""Redact personal data (emails, phone numbers, payment cards, IBANs, one-time codes) into typed placeholders.

Decisions, so that callers know what is and is not removed:
- Separators are read the way people type and paste numbers: groups of digits joined by runs of
  spaces, a dot, a slash, a dash with or without spaces around it, or a line break (a number
  wrapped across lines), so "4111  1111  1111  1111", "4111.1111.1111.1111", "4111 - 1111 - ..."
  and "0712  345  678" are found like "4111 1111 1111 1111".
- Emails may have non-ASCII local parts and domains (IDN: "josé@exämple.com", "user@例え.jp",
  Arabic-script domains).
- Digits of any script (Arabic-Indic "٠٧١٢", Persian, full-width...) count as digits, so
  "٠٧١٢٣٤٥٦٧٨" is a phone number; the text around a match keeps its own script.
- Cards must pass the Luhn check, have 13-19 digits and an issuer prefix that fits the length:
  13 digits Visa (4), 14 Diners (30/36/38/39), 15 Amex (34/37), 16-19 any of 2-6 (Visa,
  Mastercard, Mir, JCB, Maestro, Discover, UnionPay, RuPay, Verve). So tracking and transaction
  numbers starting 1, 7, 8, 9 are left alone even when they happen to pass Luhn (1 in 10 do).
- One-time codes, CVVs and PINs (3-8 digits) are redacted as "[code]" only when the text calls
  them that, in our five languages ("my OTP is 482913", "CVV 123", "nambari ya siri ni 4829",
  "lambar sirri 4829", "رمز التحقق 482913", "kood 4829"); "order 482913", "error code 503" and
  postal codes are left alone. A code written before its name ("482913 is my OTP") is not caught.
- IBANs must have the registered length for their country and pass the mod-97 check.
- Phone numbers are recognised by shape: "+" or "00" and 8-15 digits; a trunk "0" and 9-11
  digits ("0712 345678"); North-American "(555) 123-4567" / "555-123-4567"; our markets' mobiles
  with the country code and no "+" ("254712345678"); or 7-12 digits right after a phone word
  ("phone", "simu", "telefon", "هاتف"...), which catches "5123 4567" in Estonian.
- Left alone on purpose: dates, times, IPv4 addresses (useful for troubleshooting, and not the
  customer's identity in a help desk chat), prices, versions, years, order and tracking numbers,
  numbers glued to letters ("TM-2024-000123", "v1.2.3"), and bare 10-digit numbers without a
  trunk "0" or separators, which are more often order numbers than phones.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

EMAIL, PHONE, CARD, IBAN, CODE = "email", "phone", "card", "iban", "code"

# Combining marks (a decomposed "ä", Arabic vowel signs) are not \w, but belong inside a name.
_MARKS = "\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u200c\u200d"
_LABEL = rf"[^\W_][\w{_MARKS}]*(?:-+[\w{_MARKS}]+)*"
_EMAIL = re.compile(
    rf"(?<![\w.%+'{_MARKS}-])[^\W_][\w.%+'{_MARKS}-]*@(?:{_LABEL}\.)+"
    rf"(?:[^\W\d_][\w{_MARKS}]{{1,62}}|xn--[a-z0-9-]{{2,59}})(?![\w{_MARKS}-])"
)
# A lookahead, so a candidate that fails its checks does not swallow a real IBAN that follows it.
_IBAN = re.compile(r"(?<![A-Za-z0-9])(?=([A-Za-z]{2}[0-9]{2}(?:[ -]?[A-Za-z0-9]){11,32}))")
_DATE = re.compile(
    r"(?<![0-9.\-/])(?:(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2}))"
    r"(?![0-9]|[-/.][0-9])"
)
_IPV4 = re.compile(r"(?<![0-9.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?[0-9])")
# A run of digit groups: "+254 712 345 678", "(555) 123-4567", "4111 - 1111 - 1111 - 1111".
# A group is digits or "(digits)"; groups are joined by up to 4 spaces, a dot, a slash, a dash or
# a line break with up to 4 spaces around it, or nothing next to a parenthesis (so `\d+` never
# follows `\d+`, and every repeat is bounded, which keeps the regex linear).
_GROUP = r"(?:\(\+?\d{1,5}\)|\d+)"
_SEPARATOR = r"(?:[ \t]{0,4}(?:-|\r?\n)[ \t]{0,4}|[ \t]{1,4}|[./])"
_RUN = re.compile(rf"(?:\+ ?)?{_GROUP}(?:(?:{_SEPARATOR}|(?<=\))|(?=\())(?:{_GROUP}))*")
_TOKEN = re.compile(r"\(\+?\d{1,5}\)|\d+")
_PHONE_WORDS = (
    r"\b(?:phone\w*|tel\.?|telephone|mobile|cell(?:phone)?|whats ?app|sms|call me(?: on| at)?"
    r"|text me(?: on| at)?|reach me(?: on| at)?|simu|nipigie|waya|telefon\w*|mobiil\w*|helista\w*)"
    r"|هاتف|جوال|تلفون|واتس|اتصل"
)
_PHONE_CONTEXT = re.compile(rf"(?:{_PHONE_WORDS})[^\d\n]{{0,25}}$", re.IGNORECASE)
# Our markets' mobile numbers written with the country code but no "+" (as M-Pesa shows them).
_BARE_INTERNATIONAL = re.compile(r"(?:254[17]\d{8}|255[67]\d{8}|256[37]\d{8}|234[789][01]\d{8}|9665\d{8}|3725\d{6,7})")
_PHONE_ABBREVIATION = re.compile(r"\b(?:tel|mob|ph|cell)\.$", re.IGNORECASE)
# What customers call a one-time code, CVV or PIN, in en, sw, ha, ar and et.
_CODE_NAMES = (
    r"otp|one[- ]time (?:pass(?:word|code)|code|pin)|cvv2?|cvc2?|cv2|csc"
    r"|pin(?:[- ]?(?:code|number|kood))?"
    r"|(?:security|verification|confirmation|authentication|login|sms|access) code|passcode|code"
    r"|namb(?:a|ari) ya siri|msimbo(?: wa (?:siri|uthibitisho|otp|usalama))?"
    r"|lambar (?:sirri|tabbatarwa)"
    r"|[وبل]?(?:ال)?رمز(?: (?:ال)?(?:تحقق|أمان|امان|سري|مرور))?|كود(?: (?:ال)?تحقق)?"
    r"|kood|turvakood|kinnituskood|pin-kood"
)
# Words that may stand between the name and the digits ("my OTP is 482913", "nambari ya siri ni 4829").
_CODE_FILLER = r"(?:is|was|are|no|number|ni|ndio|yangu|yako|ne|shine|ce|dina|on|oli|minu|sinu|هو|هي|كان|لي)"
_CODE_GAP = rf"[\s:=#'\"“”«»()\-–]{{0,4}}(?:{_CODE_FILLER}[\s:=#'\"“”«»()\-–]{{1,4}}){{0,2}}"
_CODE = re.compile(
    rf"(?<![\w-])(?P<name>{_CODE_NAMES})(?!\w){_CODE_GAP}"
    rf"(?P<code>\d{{3,4}}[ -]\d{{3,4}}|\d{{3,8}})(?![0-9A-Za-z_#@]|[.,/:-][0-9])",
    re.IGNORECASE,
)
# "error code 503", "postal code 10115": a "code" that is not a secret.
_NOT_SECRET = re.compile(
    r"\b(?:error|status|http|promo|discount|coupon|voucher|gift|postal|post|zip|area|country|dial(?:l?ing)?"
    r"|product|item|tax|bar|qr|exit|response|reference|ref|order|tracking|colou?r|source|sort|swift|bank)\W{1,3}$",
    re.IGNORECASE,
)
_GENERIC_CODE_NAMES = ("code", "kood", "msimbo")
_JOINERS = "-./"
_TIGHT = ("", " ", "-", ".", "/")  # separators inside one evenly grouped number
_MAX_SKIPS = 3  # leading groups tried past in a run ("order 12 4111 ...")
_CARD_FIRST_DIGITS = ("2", "3", "4", "5", "6")
_CARD_PREFIXES_BY_LENGTH = {13: ("4",), 14: ("30", "36", "38", "39"), 15: ("34", "37")}
_MAX_DIGITS = 19  # the longest card; a phone is at most "00" + 15
# ISO 13616 IBAN lengths (SWIFT registry, plus the partial-registry countries in Africa).
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    "AO": 25, "BF": 28, "BJ": 28, "CF": 27, "CG": 27, "CI": 28, "CM": 27, "CV": 25, "DZ": 26,
    "GA": 27, "GQ": 27, "GW": 25, "HN": 28, "IR": 26, "KM": 27, "MA": 28, "MG": 27, "ML": 28,
    "MZ": 25, "NE": 28, "SN": 28, "TD": 27, "TG": 28,
}
# Same-length replacements, so offsets in the normalised text are offsets in the original.
_SAME_LENGTH = str.maketrans(
    {
        **{c: " " for c in "\u00a0\u2007\u2009\u202f\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
           "\u2066\u2067\u2068\u2069"},
        **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2212"},  # hyphens, en dash, minus (not em dash)
        "\uff0b": "+",
        "\uff20": "@",
        "\u3002": ".",  # ideographic full stop, as in "user@例え。jp"
        "\uff0e": ".",
    }
)
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One piece of personal data found in a text: where it is and what kind it is."""

    start: int
    end: int
    kind: str  # "email" | "phone" | "card" | "iban" | "code"


def redact(text: str) -> str:
    """Return `text` with emails, phones, cards, IBANs and codes replaced by "[email]", "[phone]"..."""
    if not text:
        return text
    parts, cursor = [], 0
    for span in find_pii(text):
        parts.append(text[cursor : span.start])
        parts.append(f"[{span.kind}]")
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


def find_pii(text: str) -> list[PiiSpan]:
    """Every piece of personal data in `text`, in order, without overlaps."""
    norm = normalize(text)
    spans: list[PiiSpan] = []
    masked = norm
    for finder in (_find_emails, _find_ibans):
        found = finder(masked)
        spans.extend(found)
        masked = _mask(masked, [(s.start, s.end) for s in found])
    masked = _mask(masked, _protected(masked))
    numbers = _find_numbers(masked)
    spans.extend(numbers)
    spans.extend(_find_codes(_mask(masked, [(s.start, s.end) for s in numbers])))
    return sorted(spans, key=lambda s: s.start)


def normalize(text: str) -> str:
    """Same-length copy of `text` with every decimal digit in ASCII and odd spaces/dashes plain."""
    text = text.translate(_SAME_LENGTH)
    return _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group(), 0)), text)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """Registered length for the country and the ISO 7064 mod-97 check."""
    compact = compact.upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _mask(text: str, ranges: list[tuple[int, int]]) -> str:
    # "#" both hides the range from later finders and blocks numbers glued to it.
    for start, end in ranges:
        text = text[:start] + "#" * (end - start) + text[end:]
    return text


def _find_emails(norm: str) -> list[PiiSpan]:
    return [PiiSpan(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(norm)]


def _find_ibans(norm: str) -> list[PiiSpan]:
    found: list[PiiSpan] = []
    for match in _IBAN.finditer(norm):
        start, candidate = match.start(), match.group(1)
        length = _IBAN_LENGTHS.get(candidate[:2].upper())
        if length is None or (found and start < found[-1].end):
            continue
        end, kept = start, 0
        for index, char in enumerate(candidate):  # the candidate may have run into the next word
            if char.isalnum():
                kept += 1
                if kept == length:
                    end = start + index + 1
                    break
        compact = re.sub(r"[ -]", "", norm[start:end])
        if kept == length and not _glued_after(norm, end) and iban_ok(compact):
            found.append(PiiSpan(start, end, IBAN))
    return found


def _protected(norm: str) -> list[tuple[int, int]]:
    """Dates and IPv4 addresses: digit runs that must never be read as phones or cards."""
    ranges = []
    for match in _DATE.finditer(norm):
        year_first = match.group(1) is not None
        a, b = (match.group(2), match.group(3)) if year_first else (match.group(4), match.group(5))
        if min(int(a), int(b)) <= 12 and max(int(a), int(b)) <= 31:
            ranges.append(match.span())
    for match in _IPV4.finditer(norm):
        if all(int(part) <= 255 for part in match.group().split(".")):
            ranges.append(match.span())
    return ranges


def _glued_before(norm: str, start: int) -> bool:
    """True when a number starting at `start` is the tail of a token such as "TM-2024" or "v1"."""
    if start == 0:
        return False
    before = norm[start - 1]
    if before == "." and _PHONE_ABBREVIATION.search(norm[max(0, start - 8) : start]):
        return False  # "Tel.0712 345678"
    if _is_word_char(before) or before == "#":
        return True
    return before in _JOINERS and start >= 2 and (_is_word_char(norm[start - 2]) or norm[start - 2] == "#")


def _glued_after(norm: str, end: int) -> bool:
    if end >= len(norm):
        return False
    after = norm[end]
    if _is_word_char(after) or after in "#@":
        return True
    return after in _JOINERS and end + 1 < len(norm) and norm[end + 1].isascii() and norm[end + 1].isalpha()


def _is_word_char(char: str) -> bool:
    # Only Latin letters glue: Arabic, Swahili or Hausa words often sit right next to a number.
    return char.isascii() and (char.isalnum() or char == "_")


def _find_numbers(norm: str) -> list[PiiSpan]:
    found = []
    for run in _RUN.finditer(norm):
        # After "#" only a card counts ("card #4111..."); "#0712345678" is an order number.
        cards_only = run.start() > 0 and norm[run.start() - 1] == "#"
        if _glued_before(norm, run.start()) and not cards_only:
            continue
        tokens = [(run.start() + t.start(), run.start() + t.end()) for t in _TOKEN.finditer(run.group())]
        plus = run.group().startswith("+") or run.group().startswith("(+")
        found.extend(_split_run(norm, tokens, plus, run.start(), run.end(), cards_only))
    return found


def _find_codes(norm: str) -> list[PiiSpan]:
    """Digits the text calls an OTP, CVV, PIN or code ("my otp is 482913"), not "error code 503"."""
    found = []
    for match in _CODE.finditer(norm):
        name = match.group("name").lower()
        if name in _GENERIC_CODE_NAMES and _NOT_SECRET.search(norm[max(0, match.start() - 20) : match.start()]):
            continue
        found.append(PiiSpan(match.start("code"), match.end("code"), CODE))
    return found


def _split_run(
    norm: str, tokens: list[tuple[int, int]], plus: bool, run_start: int, run_end: int, cards_only: bool
) -> list[PiiSpan]:
    """Longest leading groups that are a card or phone; then again right after each hit.

    When nothing starts at a group, the next group is tried only if this one is a short number
    ("order 12", "qty 3") or ends at a loose separator (a line break, spaced dash, several
    spaces): inside one evenly grouped number (a tracking number) a later start is left alone.
    At most `_MAX_SKIPS` groups are skipped in a row, which keeps long runs of small numbers linear.
    """
    found, first, skipped = [], 0, 0
    sizes = [sum(ch.isdigit() for ch in norm[a:b]) for a, b in tokens]
    while first < len(tokens):
        limit, total = first, 0
        while limit < len(tokens) and total + sizes[limit] <= _MAX_DIGITS:
            total += sizes[limit]
            limit += 1
        for last in range(limit, first, -1):
            end = tokens[last - 1][1]
            if end == run_end and _glued_after(norm, end):
                continue
            start = run_start if first == 0 else tokens[first][0]
            kind = _classify(norm, tokens[first:last], plus and first == 0, start)
            if kind and (kind == CARD or not cards_only):
                found.append(PiiSpan(start, end, kind))
                first, skipped = last, 0
                break
        else:
            loose = first + 1 < len(tokens) and norm[tokens[first][1] : tokens[first + 1][0]] not in _TIGHT
            if skipped >= _MAX_SKIPS or (sizes[first] > 3 and not loose):
                break
            first, skipped = first + 1, skipped + 1
    return found


def _classify(norm: str, tokens: list[tuple[int, int]], plus: bool, start: int) -> str | None:
    texts = [norm[a:b] for a, b in tokens]
    digits = "".join(ch for t in texts for ch in t if ch.isdigit())
    seps = {_separator(norm[tokens[i - 1][1] : tokens[i][0]]) for i in range(1, len(tokens))}
    parens = any(t.startswith("(") for t in texts)
    if not plus and not parens and (seps <= {" ", "-"} or seps in ({"."}, {"/"})) and _is_card(digits):
        return CARD
    if any(mark in seps and not seps <= {mark, ""} for mark in "./"):
        return None  # "0.5 0.25 0.75" is a list of decimals, "4.5/5" a rating, not "0712.345.678"
    if plus:
        return PHONE if 8 <= len(digits) <= 15 and digits[0] != "0" else None
    if digits.startswith("00"):
        return PHONE if 10 <= len(digits) - 2 <= 15 and digits[2] != "0" else None
    if _is_nanp(texts) or _is_trunk_local(texts, digits) or _BARE_INTERNATIONAL.fullmatch(digits):
        return PHONE
    if 7 <= len(digits) <= 12 and _PHONE_CONTEXT.search(norm[max(0, start - 60) : start]):
        return PHONE
    return None


def _separator(text: str) -> str:
    """What joins two digit groups: "-", "." or "/"; " " for spaces or a line break; "" for none."""
    return text.strip(" \t\r\n") or (" " if text else "")


def _is_card(digits: str) -> bool:
    """Luhn-valid, with an issuer prefix that fits the length (13: Visa; 14: Diners; 15: Amex)."""
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return False
    prefixes = _CARD_PREFIXES_BY_LENGTH.get(len(digits), _CARD_FIRST_DIGITS)
    return digits.startswith(tuple(prefixes))


def _is_nanp(texts: list[str]) -> bool:
    """(555) 123-4567, 555-123-4567, 555.123.4567, 1-800-555-0199: groups of 3, 3 and 4."""
    if len(texts) == 4 and texts[0] == "1":
        texts = texts[1:]
    if len(texts) != 3:
        return False
    area = texts[0].strip("()")
    return (
        [len(area), len(texts[1]), len(texts[2])] == [3, 3, 4]
        and area[0] in "23456789"
        and not texts[1].startswith("(")
        and not texts[2].startswith("(")
    )


def _is_trunk_local(texts: list[str], digits: str) -> bool:
    """National numbers dialled with a trunk 0: 0712 345678, 050 123 4567, (020) 7946 0958."""
    return (
        9 <= len(digits) <= 11
        and digits[0] == "0"
        and digits[1] != "0"
        and len(texts[0].strip("()")) >= 2
    )
