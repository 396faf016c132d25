"""HTML: readable text with h1-h3 as Markdown headings, lists and tables kept; scripts and menus dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from kb_ingest.loaders.metadata import Metadata, text_document
from kb_ingest.loaders.text import decode_text

_SKIPPED_TAGS = frozenset({"script", "style", "nav", "noscript", "template", "svg", "footer", "iframe"})
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "header", "aside", "blockquote", "pre", "table",
    "tr", "dl", "dt", "dd", "figure", "figcaption", "details", "summary", "hr", "form",
    "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
})


class _HTMLToMarkdown(HTMLParser):
    """Readable text from HTML: h1-h3 become Markdown headings, list items '- '/'1. ', rest paragraphs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, bool]] = []   # (text, tight): list items and table rows
        self.title = ""
        self.first_h1 = ""
        self._inline: list[str] = []
        self._prefix = ""
        self._tight = False
        self._heading = 0
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._lists: list[list[Any]] = []          # [tag, items so far]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = True
        elif tag == "br":
            self._inline.append("\n")
        elif tag in ("td", "th"):
            if "".join(self._inline).strip():
                self._inline.append(" | ")
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._open_block(tag)

    def _open_block(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._lists.append([tag, 0])
        elif tag == "li":
            depth = max(len(self._lists) - 1, 0)
            marker = "- "
            if self._lists and self._lists[-1][0] == "ol":
                self._lists[-1][1] += 1
                marker = f"{self._lists[-1][1]}. "
            self._prefix = "  " * depth + marker
            self._tight = True
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self._heading = int(tag[1])
            self._prefix = "#" * self._heading + " " if self._heading <= 3 else ""
        elif tag == "pre":
            self._pre += 1
        elif tag == "tr":
            self._tight = True

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip = max(self._skip - 1, 0)
        elif self._skip:
            return
        elif tag == "title":
            self._in_title = False
        elif tag in _BLOCK_TAGS:
            self._flush()
            if tag in ("ul", "ol") and self._lists:
                self._lists.pop()
            elif tag == "pre":
                self._pre = max(self._pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        else:
            self._inline.append(data if self._pre else re.sub(r"\s+", " ", data))

    def _flush(self) -> None:
        text, self._inline = "".join(self._inline), []
        if self._pre:
            text = f"```\n{text.strip(chr(10))}\n```" if text.strip() else ""
        else:
            text = "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()
        if self._heading:
            text = " ".join(text.split())
            if self._heading == 1 and text and not self.first_h1:
                self.first_h1 = text
        if text:
            self.blocks.append((self._prefix + text, self._tight))
        self._prefix, self._heading, self._tight = "", 0, False

    def markdown(self) -> str:
        self._flush()
        out: list[str] = []
        for index, (text, tight) in enumerate(self.blocks):
            if index:
                out.append("\n" if tight and self.blocks[index - 1][1] else "\n\n")
            out.append(text)
        return "".join(out)


def load_html(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    parser = _HTMLToMarkdown()
    parser.feed(decode_text(data, path.suffix.lower()))
    parser.close()
    text = parser.markdown().strip()
    if not text:
        raise IngestError(
            "Expected readable text in the HTML page, got none (only scripts, menus or markup)."
        )
    title = " ".join(parser.title.split()) or parser.first_h1
    return [text_document(text, base, settings, {}, title=title)]
