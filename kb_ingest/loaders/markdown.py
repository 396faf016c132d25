"""Markdown: front matter, setext headings as ATX, pasted base64 images dropped."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from kb_ingest.loaders.metadata import Metadata, text_document
from kb_ingest.loaders.text import decode_text

# Images pasted into Markdown as base64 (editors such as Typora do this): megabytes of noise that
# would otherwise become hundreds of junk chunks.
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+;base64,[A-Za-z0-9+/=\s]*", re.IGNORECASE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_FRONT_MATTER_LINE = re.compile(r"^([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$")
_ATX_H1 = re.compile(r"^ {0,3}#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", re.M)
_FENCED_BLOCK = re.compile(r"(^ {0,3}(?:```|~~~).*?^ {0,3}(?:```|~~~)[^\n]*$)", re.M | re.S)
_SETEXT = re.compile(r"^(?P<text>[^\s#>|\-*+`~][^\n]*)\n(?P<rule>=+|-+)[ \t]*$", re.M)


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split simple YAML-style `key: value` front matter from Markdown; returns (fields, body).

    Hand-parsed on purpose: doc writers write `title: Refunds: how they work`, which strict YAML rejects.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in (match.group(1) or "").splitlines():
        found = _FRONT_MATTER_LINE.match(line)
        if found:
            value = found.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            fields[found.group(1).lower()] = value.strip()
    return fields, text[match.end():]


def _setext_to_atx(text: str) -> str:
    """`Title\\n=====` -> `# Title` so one heading syntax reaches the chunker (code blocks untouched)."""
    parts = _FENCED_BLOCK.split(text)  # odd indexes are fenced code blocks
    for index in range(0, len(parts), 2):
        parts[index] = _SETEXT.sub(_atx_heading, parts[index])
    return "".join(parts)


def _atx_heading(match: re.Match[str]) -> str:
    return ("# " if match["rule"][0] == "=" else "## ") + match["text"].strip()


def _first_h1(text: str) -> str:
    in_fence = False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else _ATX_H1.match(line)
        if match:
            return match.group(1).strip()
    return ""


def load_markdown(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    front, body = parse_front_matter(decode_text(data, path.suffix.lower()))
    body = _setext_to_atx(_DATA_URI.sub("", body)).strip()
    if not body:
        raise IngestError("Expected an article after the front matter, got none; add the text.")
    return [text_document(body, base, settings, front, title=front.get("title") or _first_h1(body))]
