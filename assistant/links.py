"""Links in a model's answer: only absolute web addresses and e-mail addresses that the sources contain survive.

Markdown offers many ways to point a browser elsewhere, and every one of them renders in the
customer's (and staff's) browser: inline links and images (`[t](//host)`, `![](//host/beacon.png)`,
which load by themselves), reference definitions (`[t][r]` + `[r]: //host`), autolinks
(`<//host>`), bare `http(s)://` and `www.` addresses and e-mail addresses (GitHub-flavoured
Markdown links them), plus UNC paths (`\\\\host\\share`). A target is kept only when it is an
http(s) URL or an e-mail address found verbatim in the source passages; links lose their target
and keep their text, images go entirely.
"""

from __future__ import annotations

import re

_URL = re.compile(r"https?://[^\s)\]>\"'<]+|www\.[^\s)\]>\"'<]+", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# [text](target "title") and ![alt](target); the target may be wrapped in <...>.
_INLINE = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\(\s*(?P<target><[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?\s*\)"
)
_REFERENCE_DEF = re.compile(r"^ {0,3}\[(?P<label>[^\]\n]+)\]:[ \t]*(?P<target><[^>\n]*>|\S+).*$", re.MULTILINE)
_REFERENCE_USE = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\[(?P<label>[^\]\n]*)\]")
_AUTOLINK = re.compile(r"<(?P<target>(?:[a-z][a-z0-9+.-]{1,31}:|//)[^\s<>]*)>", re.IGNORECASE)
_BARE_NETWORK_PATH = re.compile(r"(?<![\w:/])//[\w.-]+[^\s)\]]*|\\\\[\w.-]+[^\s)\]]*")
_TRAILING = ".,;:!?"


def allowed_targets(source_text: str) -> set[str]:
    """Web addresses and e-mail addresses written in `source_text` (the passage bodies, never titles)."""
    urls = {m.group(0).rstrip(_TRAILING) for m in _URL.finditer(source_text)}
    emails = {m.group(0).rstrip(_TRAILING).lower() for m in _EMAIL.finditer(source_text)}
    return urls | {f"mailto:{e}" for e in emails} | emails


def sanitize_links(answer: str, source_text: str) -> tuple[str, list[str]]:
    """`answer` with every link, image and address not in `source_text` removed; returns (text, removed)."""
    allowed = allowed_targets(source_text)
    removed: list[str] = []

    def ok(target: str) -> bool:
        target = target.strip().strip("<>").rstrip(_TRAILING)
        if target.lower().startswith("mailto:"):
            target = "mailto:" + target[7:].lower()
        good = bool(target) and (target in allowed or target.lower() in allowed)
        if not good:
            removed.append(target)
        return good

    definitions = {m.group("label").strip().lower(): m.group("target") for m in _REFERENCE_DEF.finditer(answer)}
    good_labels = {label for label, target in definitions.items() if ok(target)}
    text = _REFERENCE_DEF.sub(lambda m: m.group(0) if m.group("label").strip().lower() in good_labels else "", answer)

    def reference(m: re.Match) -> str:
        label = (m.group("label") or m.group("text")).strip().lower()
        if label not in definitions or label in good_labels:  # "[1][9]" without a definition is plain text
            return m.group(0)
        return "" if m.group("bang") else m.group("text")

    text = _REFERENCE_USE.sub(reference, text)
    text = _INLINE.sub(
        lambda m: m.group(0) if ok(m.group("target")) else ("" if m.group("bang") else m.group("text")), text
    )
    text = _AUTOLINK.sub(lambda m: m.group(0) if ok(m.group("target")) else "", text)
    text = _BARE_NETWORK_PATH.sub(lambda m: "" if not ok(m.group(0)) else m.group(0), text)
    keep_or_drop = lambda m: m.group(0) if ok(m.group(0)) else _trailing(m.group(0))  # noqa: E731
    text = _without_protected(text, lambda plain: _EMAIL.sub(keep_or_drop, _URL.sub(keep_or_drop, plain)))
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text, removed


def _trailing(match: str) -> str:
    """The sentence punctuation a removed address ended with ("see www.x.example." keeps its full stop)."""
    return match[len(match.rstrip(_TRAILING)):]


def _without_protected(text: str, change) -> str:
    """Apply `change` to the text outside the links kept so far (their targets were already checked)."""
    pieces = re.split(r"(\[[^\]\n]*\]\([^)\s]*\)|<[^\s<>]+>)", text)
    return "".join(piece if index % 2 else change(piece) for index, piece in enumerate(pieces))
