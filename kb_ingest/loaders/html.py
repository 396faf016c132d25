"""HTML: readable text with h1-h3 as Markdown headings, lists and tables kept; scripts and menus dropped."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from kb_ingest.loaders.metadata import TITLE_MAX_CHARS, Metadata, text_document
from kb_ingest.loaders.text import decode_text

# A help page nests lists a few levels deep. Deeper levels are drawn at MAX_LIST_INDENT, and a page
# nesting past MAX_LIST_NESTING is refused: a "list bomb" of 20,000 nested <ul> (205 KB) otherwise
# became 100 M characters of indentation.
MAX_LIST_INDENT = 6
MAX_LIST_NESTING = 50
MAX_HTML_TEXT_CHARS = 20_000_000   # extracted text cap, as for PDFs (MAX_PDF_TEXT_CHARS)
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
        self._inline_text = False                   # any non-space text in _inline yet
        self._chars = 0                             # characters kept so far, for MAX_HTML_TEXT_CHARS
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
            if self._inline_text:  # a flag, not a join: a row of 40,000 cells took 26 s
                self._inline.append(" | ")
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._open_block(tag)

    def _open_block(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            if len(self._lists) >= MAX_LIST_NESTING:  # stop reading at once: the rest is more of the same
                raise IngestError(
                    f"Expected lists nested at most {MAX_LIST_NESTING} levels deep, got deeper (unclosed <ul>/<ol> "
                    "tags?); fix the page's list markup and upload it again."
                )
            self._lists.append([tag, 0])
        elif tag == "li":
            depth = min(max(len(self._lists) - 1, 0), MAX_LIST_INDENT)
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
            if len(self.title) < TITLE_MAX_CHARS * 10:  # the title is cut to a line later anyway
                self.title += data
        else:
            self._inline.append(data if self._pre else re.sub(r"\s+", " ", data))
            self._inline_text = self._inline_text or bool(data.strip())

    def _flush(self) -> None:
        text, self._inline, self._inline_text = "".join(self._inline), [], False
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
            self._chars += len(self._prefix) + len(text) + 2
            if self._chars > MAX_HTML_TEXT_CHARS:
                raise IngestError(
                    f"Expected at most {MAX_HTML_TEXT_CHARS:,} characters of text in an HTML page, got more; "
                    "split it into smaller pages."
                )
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
