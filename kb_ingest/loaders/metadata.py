"""Metadata shared by every loader: kind, language, title, and the Document they make."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.config import DEFAULT_LANGUAGES, Settings
from assistant.errors import IngestError
from assistant.language import detect_language

KINDS = ("faq", "doc", "tutorial")
# Folder names (first level under the corpus root) and front-matter values that name a kind.
KIND_ALIASES = {
    "faq": "faq", "faqs": "faq",
    "doc": "doc", "docs": "doc",
    "tutorial": "tutorial", "tutorials": "tutorial",
}
DETECT_CHARS = 10_000             # language detection reads this much text at most
TITLE_MAX_CHARS = 120

Metadata = dict[str, Any]


def kind_of(source: str, front_matter: Mapping[str, str], is_faq_table: bool) -> str:
    declared = front_matter.get("kind", "").strip().lower()
    if declared:
        if declared not in KIND_ALIASES:
            raise IngestError(
                f"Expected kind to be one of {', '.join(KINDS)}, got {declared!r}; fix the front matter."
            )
        return KIND_ALIASES[declared]
    parts = source.split("/")
    if len(parts) > 1 and parts[0].lower() in KIND_ALIASES:
        return KIND_ALIASES[parts[0].lower()]
    return "faq" if is_faq_table else "doc"


def declared_language(value: str) -> str:
    """'sw-KE' -> 'sw'; '' stays ''."""
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0] if value.strip() else ""


def languages(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.languages) or DEFAULT_LANGUAGES


def detect(text: str, settings: Settings) -> tuple[str, float]:
    # URLs and code are language-neutral noise that pulls short texts towards English.
    cleaned = re.sub(r"```.*?```|https?://\S+|`[^`]*`", " ", text[:DETECT_CHARS], flags=re.S)
    return detect_language(cleaned, languages(settings))


def pretty_stem(path: Path) -> str:
    words = re.sub(r"[_\-\s.]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


def document(text: str, base: Metadata, **fields: Any) -> Document:
    return Document(page_content=text, metadata={**base, **fields})



def text_metadata(
    text: str, base: Metadata, settings: Settings, front: Mapping[str, str], title: str
) -> Metadata:
    """Metadata of a prose document: front matter first, then folder, detection and file name."""
    language = declared_language(front.get("lang", "") or front.get("language", ""))
    return {
        **base,
        "title": title or pretty_stem(Path(base["source"])),
        "kind": kind_of(base["source"], front, is_faq_table=False),
        "language": language or detect(text, settings)[0],
    }


def text_document(
    text: str, base: Metadata, settings: Settings, front: Mapping[str, str], title: str
) -> Document:
    return Document(page_content=text, metadata=text_metadata(text, base, settings, front, title))
