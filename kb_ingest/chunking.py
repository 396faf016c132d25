"""Structure-aware, token-bounded splitting of loaded Documents into indexable chunks.

- Markdown and HTML: split on h1-h3 headings; every chunk starts with its heading path line
  ("Returns and refunds > Card payments") so it reads on its own; the line counts toward the limit.
- FAQ rows (metadata `question`): one chunk "Q: ...\\nA: ..."; an answer too long for one chunk is split
  and every piece repeats the question line.
- PDF pages, plain text: each page/file split on its own so page numbers stay right.

Hard guarantees: no chunk is longer than `chunk_tokens` cl100k tokens (assistant.tiktoken_offline.count_tokens),
no chunk is empty, metadata is flat and None-free, chunk ids are stable across runs.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.errors import ConfigError
from assistant.tiktoken_offline import count_tokens, seed_tiktoken_cache

MIN_CHUNK_TOKENS = 16
HEADING_EXTENSIONS = frozenset({".md", ".markdown", ".html", ".htm"})
# Paragraphs, lines, then sentence ends and clause marks (Latin, Arabic, CJK), then words, then characters.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "؟ ", "。", "؛ ", "; ", "، ", ", ", " ", ""]
_REQUIRED_METADATA: Mapping[str, Any] = {
    "source": "", "title": "", "kind": "doc", "language": "", "page": 0,
    "section": "", "mtime": 0.0, "content_hash": "",
}
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,3})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

Fits = Callable[[str], bool]


def split_documents(docs: list[Document], chunk_tokens: int, chunk_overlap: int) -> list[Document]:
    """Structure-aware, token-bounded chunks; every chunk has metadata['chunk_id'] and the flat metadata below.

    Pass all Documents of a file in one call: `position` counts chunks per source across its pages/rows.
    """
    _validate(chunk_tokens, chunk_overlap)
    seed_tiktoken_cache()  # tiktoken must find its encoding locally, never download it
    positions: dict[str, int] = {}
    chunks: list[Document] = []
    for doc in docs:
        source = str(doc.metadata.get("source") or "")
        for section, text in _doc_pieces(doc, chunk_tokens, chunk_overlap):
            position = positions.get(source, 0)
            positions[source] = position + 1
            chunks.append(_make_chunk(doc, section, text, position))
    return chunks


def _validate(chunk_tokens: int, chunk_overlap: int) -> None:
    if chunk_tokens < MIN_CHUNK_TOKENS:
        raise ConfigError(f"Expected KB_CHUNK_TOKENS of at least {MIN_CHUNK_TOKENS}, got {chunk_tokens}.")
    if not 0 <= chunk_overlap < chunk_tokens:
        raise ConfigError(
            f"Expected KB_CHUNK_OVERLAP between 0 and {chunk_tokens - 1} (below KB_CHUNK_TOKENS), "
            f"got {chunk_overlap}."
        )


def _doc_pieces(doc: Document, chunk_tokens: int, overlap: int) -> list[tuple[str, str]]:
    """(section, chunk text) pairs for one Document."""
    own_section = str(doc.metadata.get("section") or "")
    question = str(doc.metadata.get("question") or "")
    if question:
        faq_pieces = _faq_pieces(question, doc.page_content, chunk_tokens, overlap)
        return [(own_section, text) for text in faq_pieces]
    extension = PurePosixPath(str(doc.metadata.get("source") or "")).suffix.lower()
    if extension in HEADING_EXTENSIONS:
        sections = heading_sections(doc.page_content)
    else:
        sections = [("", doc.page_content.strip())]
    pieces = [
        (path or own_section, text)
        for path, body in sections
        for text in _section_pieces(path, body, chunk_tokens, overlap)
    ]
    if not pieces and doc.page_content.strip():  # only headings, no body: keep the headings as text
        raw = _section_pieces("", doc.page_content, chunk_tokens, overlap)
        pieces = [(own_section, text) for text in raw]
    return pieces


def heading_sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown on h1-h3 into (heading path, body) pairs, ignoring '#' lines inside code fences.

    LangChain's MarkdownHeaderTextSplitter is not used: it drops blank lines (so paragraph boundaries,
    the best split points, are lost) and strips indentation from nested lists and code.
    """
    sections: list[tuple[str, str]] = []
    path: list[str] = []
    body: list[str] = []
    fence = ""
    for line in text.split("\n"):
        fence_match = _FENCE.match(line)
        marks = fence_match.group(1) if fence_match else ""
        heading = None if (fence or marks) else _ATX_HEADING.match(line)
        if fence and marks[:1] == fence[0] and len(marks) >= len(fence):
            fence = ""
        elif not fence and marks:
            fence = marks
        if heading:
            sections.append((" > ".join(path), "\n".join(body)))
            path = path[: len(heading.group(1)) - 1] + [" ".join(heading.group(2).split())]
            body = []
        else:
            body.append(line)
    sections.append((" > ".join(path), "\n".join(body)))
    return [(p, b.strip()) for p, b in sections if b.strip()]


def _section_pieces(path: str, body: str, chunk_tokens: int, overlap: int) -> list[str]:
    """Chunks of one section, each starting with the heading path line when there is one."""
    body = body.strip()
    if not body:
        return []
    prefix = _heading_line(path, chunk_tokens // 2)
    return _bounded(prefix, body, chunk_tokens, overlap)


def _heading_line(path: str, max_tokens: int) -> str:
    if not path:
        return ""
    if count_tokens(path + "\n\n") <= max_tokens:
        return path + "\n\n"
    return _truncate(path, max_tokens - count_tokens("\n\n")) + "\n\n"


def _faq_pieces(question: str, content: str, chunk_tokens: int, overlap: int) -> list[str]:
    """"Q: ...\\nA: ..." chunks; a long answer is split and each piece repeats the question line."""
    marker = f"Q: {question}\nA: "
    answer = (content[len(marker):] if content.startswith(marker) else content).strip()
    whole = marker + answer
    if count_tokens(whole) <= chunk_tokens:
        return [whole]
    prefix = f"Q: {_truncate(question, chunk_tokens // 3)}\nA: "
    return _bounded(prefix, answer, chunk_tokens, overlap)


def _bounded(prefix: str, body: str, limit: int, overlap: int) -> list[str]:
    """prefix + piece for token-bounded pieces of body; every result is checked against `limit`."""

    def fits(piece: str) -> bool:
        return count_tokens(prefix + piece) <= limit

    if fits(body):
        return [prefix + body]
    budget = limit - count_tokens(prefix)
    pieces: list[str] = []
    for piece in _splitter(budget, min(overlap, budget // 2)).split_text(body):
        piece = piece.strip()
        if piece:
            # Safety net: the splitter bounds the sum of its parts' token counts, not the joined text's.
            pieces.extend([piece] if fits(piece) else hard_split(piece, fits, limit))
    return [prefix + piece for piece in pieces]


@functools.lru_cache(maxsize=64)
def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    # Same cl100k counting as RecursiveCharacterTextSplitter.from_tiktoken_encoder, but via count_tokens,
    # which never downloads and does not raise on text containing "<|endoftext|>".
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        length_function=count_tokens,
    )


def hard_split(text: str, fits: Fits, limit: int) -> list[str]:
    """Cut text into pieces that each satisfy `fits`, preferring whitespace; the last-resort splitter."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        end = _longest_fitting_prefix(rest, fits, window=limit * 16)
        cut = end
        if end < len(rest):
            space = max(rest.rfind(ch, end // 2, end) for ch in " \n\t")
            if space > 0 and fits(rest[:space].rstrip()):
                cut = space
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip()
    return pieces


def _longest_fitting_prefix(text: str, fits: Fits, window: int) -> int:
    """Largest n (searched by bisection, at most `window`) with fits(text[:n].rstrip())."""
    high = min(len(text), max(window, 1))
    if fits(text[:high].rstrip()):
        return high
    low = 1
    if not fits(text[:low]):  # one character is at most 4 tokens; limits are >= 8 tokens here
        raise ValueError(f"Expected room for at least one character, got none for {text[:1]!r}.")
    while high - low > 1:
        middle = (low + high) // 2
        if fits(text[:middle].rstrip()):
            low = middle
        else:
            high = middle
    return low


def _truncate(text: str, max_tokens: int) -> str:
    """The longest start of `text` that, with a trailing '…', fits in max_tokens."""
    if count_tokens(text) <= max_tokens:
        return text
    def fits(part: str) -> bool:
        return count_tokens(part + "…") <= max_tokens

    end = _longest_fitting_prefix(text, fits, window=max_tokens * 16)
    return text[:end].rstrip() + "…"


def _make_chunk(doc: Document, section: str, text: str, position: int) -> Document:
    metadata = {**_REQUIRED_METADATA, **flat_metadata(doc.metadata)}
    chunk_id = f"{metadata['source']}#{position}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"
    metadata.update(section=section, position=position, chunk_id=chunk_id)
    return Document(id=chunk_id, page_content=text, metadata=metadata)


def flat_metadata(metadata: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    """Chroma-safe metadata: None becomes "", scalars stay, anything else becomes its string form."""
    flat: dict[str, str | int | float | bool] = {}
    for key, value in metadata.items():
        if value is None:
            flat[str(key)] = ""
        elif isinstance(value, (str, int, float, bool)):
            flat[str(key)] = value
        elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
            flat[str(key)] = ", ".join(str(item) for item in value)
        else:
            flat[str(key)] = str(value)
    return flat
