"""One small loader per file format, turning a help-centre file into LangChain Documents with flat metadata.

Every Document carries: source, title, kind, language, page, section, mtime, content_hash (and
`question` for FAQ rows). Values are str/int/float only, never None, because Chroma rejects None.
Problems a doc writer can fix (empty, encrypted, scanned, wrong columns...) raise IngestError with a
one-line message; the raw library error goes to the log only.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.config import DEFAULT_LANGUAGES, Settings
from assistant.errors import IngestError
from assistant.language import detect_language

logger = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".md", ".markdown", ".html", ".htm", ".pdf", ".txt", ".csv", ".json", ".jsonl"}
)
FAQ_EXTENSIONS = frozenset({".csv", ".json", ".jsonl"})
KINDS = ("faq", "doc", "tutorial")
# Folder names (first level under the corpus root) and front-matter values that name a kind.
_KIND_ALIASES = {
    "faq": "faq", "faqs": "faq",
    "doc": "doc", "docs": "doc",
    "tutorial": "tutorial", "tutorials": "tutorial",
}
MAX_PDF_PAGES = 2000               # a help article never has more; guards against page-count bombs
MAX_PDF_TEXT_CHARS = 20_000_000    # extracted text cap (pypdf already caps stream decompression)
FAQ_ROW_CONFIDENCE = 0.9           # below this, a FAQ row takes the file's language
_DETECT_CHARS = 10_000             # language detection reads this much text at most
_TITLE_MAX_CHARS = 120

Metadata = dict[str, Any]


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, root: Path, settings: Settings) -> list[Document]:
    """LangChain Documents (langchain_core.documents.Document) for one file; raises IngestError with a one-line, user-fit reason."""
    path = Path(path)
    extension = _check_file(path, settings)
    data = _read_bytes(path, settings)
    if not data:
        raise IngestError("file is empty; add some content or remove the file.")
    base = {
        "source": _relative_source(path, root),
        "mtime": float(path.stat().st_mtime),
        "content_hash": hashlib.sha256(data).hexdigest(),
        "page": 0,
        "section": "",
    }
    docs = _LOADERS[extension](data, path, base, settings)
    logger.debug("loaded %s: %d document(s)", base["source"], len(docs))
    return docs


def _check_file(path: Path, settings: Settings) -> str:
    """Validate existence, extension and size before reading; return the lower-case extension."""
    if not path.exists():
        raise IngestError(f"Expected a file at {path}, got nothing there; check the path.")
    if not path.is_file():
        raise IngestError(f"Expected a file, got a folder or special file at {path}.")
    extension = path.suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise IngestError(
            f"Expected one of {supported}; got {extension or 'no extension'!r}; "
            "convert the file to one of these (e.g. PDF or Markdown)."
        )
    size = path.stat().st_size
    limit = settings.max_file_mb * 1024 * 1024
    if size > limit:
        raise IngestError(
            f"Expected a file of at most {settings.max_file_mb} MB, got {size / 1048576:.1f} MB "
            f"({size:,} bytes); split it into smaller files or raise KB_MAX_FILE_MB."
        )
    return extension


def _read_bytes(path: Path, settings: Settings) -> bytes:
    limit = settings.max_file_mb * 1024 * 1024
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # a file that grew since the size check still cannot blow memory
    except OSError as exc:
        logger.info("cannot read %s: %r", path, exc)
        raise IngestError(
            "Expected a readable file, got an error while reading it; check its permissions."
        ) from None
    if len(data) > limit:
        raise IngestError(
            f"Expected a file of at most {settings.max_file_mb} MB, got more; split it into smaller files."
        )
    return data


def _relative_source(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:  # outside the corpus (e.g. a one-off upload): the name is the best we have
        return path.name


# --- shared metadata helpers -------------------------------------------------------------


def _kind(source: str, front_matter: Mapping[str, str], is_faq_table: bool) -> str:
    declared = front_matter.get("kind", "").strip().lower()
    if declared:
        if declared not in _KIND_ALIASES:
            raise IngestError(
                f"Expected kind to be one of {', '.join(KINDS)}, got {declared!r}; fix the front matter."
            )
        return _KIND_ALIASES[declared]
    parts = source.split("/")
    if len(parts) > 1 and parts[0].lower() in _KIND_ALIASES:
        return _KIND_ALIASES[parts[0].lower()]
    return "faq" if is_faq_table else "doc"


def _declared_language(value: str) -> str:
    """'sw-KE' -> 'sw'; '' stays ''."""
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0] if value.strip() else ""


def _languages(settings: Settings) -> tuple[str, ...]:
    return tuple(settings.languages) or DEFAULT_LANGUAGES


def _detect(text: str, settings: Settings) -> tuple[str, float]:
    # URLs and code are language-neutral noise that pulls short texts towards English.
    cleaned = re.sub(r"```.*?```|https?://\S+|`[^`]*`", " ", text[:_DETECT_CHARS], flags=re.S)
    return detect_language(cleaned, _languages(settings))


def _pretty_stem(path: Path) -> str:
    words = re.sub(r"[_\-\s.]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


def _document(text: str, base: Metadata, **fields: Any) -> Document:
    return Document(page_content=text, metadata={**base, **fields})


# --- text decoding -------------------------------------------------------------------------

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Unicode Cc except \t \n \v \f \r
_MAX_CONTROL_SHARE = 0.01


def decode_text(data: bytes, extension: str) -> str:
    """Bytes -> normalised text: UTF-8 (BOM stripped), UTF-16/32 with BOM, else cp1252/Latin-1."""
    text = _decode(data, extension)
    text, controls = _CONTROL_CHARS.subn("", text)
    if controls > _MAX_CONTROL_SHARE * max(len(text) + controls, 1):
        raise _binary_error(extension)
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise IngestError("file is empty (only whitespace); add some content or remove the file.")
    return text


def _decode(data: bytes, extension: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                raise IngestError(
                    f"Expected {encoding.upper()} text (the file starts with its byte-order mark), "
                    "got invalid bytes; save it again as UTF-8."
                ) from None
    if b"\x00" in data:
        raise _binary_error(extension)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # Windows "ANSI" exports are the usual non-UTF-8 text in help centres
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _binary_error(extension: str) -> IngestError:
    # Also what text in an unsupported encoding looks like (UTF-16 without a byte-order mark,
    # Shift-JIS...): only UTF-8, UTF-16/32 with a BOM and Windows-1252/Latin-1 are read.
    return IngestError(
        "looks like binary data, not text (or text in an unsupported encoding); "
        f"expected a text {extension} file: "
        "save it as UTF-8 text (or give it the right extension) and upload again."
    )


# --- Markdown and plain text ---------------------------------------------------------------

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


def _load_markdown(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    front, body = parse_front_matter(decode_text(data, path.suffix.lower()))
    body = _setext_to_atx(_DATA_URI.sub("", body)).strip()
    if not body:
        raise IngestError("Expected an article after the front matter, got none; add the text.")
    return [_text_document(body, base, settings, front, title=front.get("title") or _first_h1(body))]


def _text_metadata(
    text: str, base: Metadata, settings: Settings, front: Mapping[str, str], title: str
) -> Metadata:
    """Metadata of a prose document: front matter first, then folder, detection and file name."""
    language = _declared_language(front.get("lang", "") or front.get("language", ""))
    return {
        **base,
        "title": title or _pretty_stem(Path(base["source"])),
        "kind": _kind(base["source"], front, is_faq_table=False),
        "language": language or _detect(text, settings)[0],
    }


def _text_document(
    text: str, base: Metadata, settings: Settings, front: Mapping[str, str], title: str
) -> Document:
    return Document(page_content=text, metadata=_text_metadata(text, base, settings, front, title))


def _load_text(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    text = decode_text(data, ".txt").strip()
    first_line = text.split("\n", 1)[0].strip()
    title = first_line if len(first_line) <= _TITLE_MAX_CHARS else ""
    return [_text_document(text, base, settings, {}, title=title)]


# --- HTML ----------------------------------------------------------------------------------

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


def _load_html(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    parser = _HTMLToMarkdown()
    parser.feed(decode_text(data, path.suffix.lower()))
    parser.close()
    text = parser.markdown().strip()
    if not text:
        raise IngestError(
            "Expected readable text in the HTML page, got none (only scripts, menus or markup)."
        )
    title = " ".join(parser.title.split()) or parser.first_h1
    return [_text_document(text, base, settings, {}, title=title)]


# --- PDF -----------------------------------------------------------------------------------


def _open_pdf(data: bytes):
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types for damaged files; the user needs one message
        logger.info("unreadable PDF: %r", exc)
        raise _corrupt_pdf() from None
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # owner-password-only PDFs open with an empty password
        except Exception as exc:  # e.g. AES without a crypto library
            logger.info("PDF decryption failed: %r", exc)
            opened = False
        if not opened:
            raise IngestError(
                "encrypted PDF: expected a PDF that opens without a password, got a protected one; "
                "remove the password and upload again."
            )
    return reader


def _corrupt_pdf() -> IngestError:
    return IngestError(
        "Expected a readable PDF, got a damaged or incomplete file; export or download it again and upload it."
    )


def _pdf_pages(reader) -> list[tuple[int, str]]:
    """(1-based page number, text) for every page with text; blank pages are left out."""
    from pypdf.errors import LimitReachedError

    try:
        pages = reader.pages
        count = len(pages)
    except Exception as exc:
        logger.info("PDF page tree unreadable: %r", exc)
        raise _corrupt_pdf() from None
    if count > MAX_PDF_PAGES:
        raise IngestError(
            f"Expected a PDF of at most {MAX_PDF_PAGES} pages, got {count}; split it into smaller files."
        )
    result, total, failed = [], 0, 0
    for number in range(1, count + 1):
        try:
            text = pages[number - 1].extract_text() or ""
        except LimitReachedError:
            raise IngestError(
                f"Expected PDF pages of a sensible size, got page {number} expanding past pypdf's "
                "decompression limit (a decompression bomb?); export the PDF again."
            ) from None
        except Exception as exc:  # one broken page should not lose the rest of the manual
            logger.warning("PDF page %d unreadable, skipped: %r", number, exc)
            failed += 1
            continue
        text = _clean_pdf_text(text)
        total += len(text)
        if total > MAX_PDF_TEXT_CHARS:
            raise IngestError(
                f"Expected at most {MAX_PDF_TEXT_CHARS:,} characters of text in a PDF, got more; split it."
            )
        if text:
            result.append((number, text))
    if failed == count:
        raise _corrupt_pdf()
    return result


def _clean_pdf_text(text: str) -> str:
    text = unicodedata.normalize("NFC", _CONTROL_CHARS.sub("", text))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _pdf_title(reader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else ""
    except Exception:  # broken Info dictionary: fall back to the file name
        return ""
    return " ".join(str(title or "").split())


def _load_pdf(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    reader = _open_pdf(data)
    pages = _pdf_pages(reader)
    if not pages:
        raise IngestError(
            "PDF has no text layer (scanned?): expected selectable text, got only images or drawings; "
            "run OCR on it (e.g. ocrmypdf) and upload again."
        )
    joined = "\n\n".join(text for _, text in pages)
    metadata = _text_metadata(joined, base, settings, {}, title=_pdf_title(reader))
    return [_document(text, metadata, page=number) for number, text in pages]


# --- FAQ tables ----------------------------------------------------------------------------

_QUESTION_KEYS = ("question", "q")
_ANSWER_KEYS = ("answer", "a")
_SECTION_KEYS = ("category", "section", "topic")
_LANGUAGE_KEYS = ("lang", "language")
_CSV_DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "a comma", ";": "a semicolon", "\t": "a tab"}


def _pick(row: Mapping[str, Any], keys: Iterable[str]) -> str:
    for key in keys:
        value = row.get(key)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _faq_documents(
    rows: list[Mapping[str, Any]], path: Path, base: Metadata, settings: Settings, title: str = ""
) -> list[Document]:
    """One Document per row with both a question and an answer; `rows` have lower-case keys."""
    valid = [row for row in rows if _pick(row, _QUESTION_KEYS) and _pick(row, _ANSWER_KEYS)]
    skipped = len(rows) - len(valid)
    if not valid:
        raise IngestError(
            f"Expected at least one row with both a question and an answer, got none ({skipped} incomplete); "
            "fill in the missing cells."
        )
    if skipped:
        logger.warning("%s: skipped %d row(s) without a question or an answer", base["source"], skipped)
    file_language = _detect(" \n".join(_row_text(row) for row in valid), settings)[0]
    common = {
        **base,
        "title": title or _pretty_stem(path),
        "kind": _kind(base["source"], {}, is_faq_table=True),
    }
    return [_faq_document(row, common, file_language, settings) for row in valid]


def _row_text(row: Mapping[str, Any]) -> str:
    return f"{_pick(row, _QUESTION_KEYS)}\n{_pick(row, _ANSWER_KEYS)}"


def _faq_document(
    row: Mapping[str, Any], common: Metadata, file_language: str, settings: Settings
) -> Document:
    question = " ".join(_pick(row, _QUESTION_KEYS).split())  # one line: the chunker repeats it
    answer = _pick(row, _ANSWER_KEYS)
    language = _declared_language(_pick(row, _LANGUAGE_KEYS))
    if not language:
        detected, confidence = _detect(_row_text(row), settings)
        language = detected if confidence >= FAQ_ROW_CONFIDENCE else file_language
    return _document(
        f"Q: {question}\nA: {answer}",
        common,
        section=_pick(row, _SECTION_KEYS),
        language=language,
        question=question,
    )


def _csv_header(text: str) -> tuple[str, list[str]]:
    """Pick the delimiter that yields question and answer columns in the header row."""
    first_line = text.split("\n", 1)[0]
    best: tuple[str, list[str]] = (",", [])
    for delimiter in _CSV_DELIMITERS:
        header = [cell.strip().lower() for cell in next(csv.reader([first_line], delimiter=delimiter), [])]
        if any(k in header for k in _QUESTION_KEYS) and any(k in header for k in _ANSWER_KEYS):
            return delimiter, header
        if len(header) > len(best[1]):
            best = (delimiter, header)
    shown = ", ".join(cell[:40] for cell in best[1][:8] if cell) or "nothing"
    raise IngestError(
        f"Expected columns question and answer (or q and a) in the first row, got: {shown}; "
        "rename the header cells."
    )


def _load_csv(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    text = decode_text(data, ".csv").lstrip("\n")
    delimiter, header = _csv_header(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    try:
        next(reader)
        for cells in reader:
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                raise IngestError(
                    f"Expected {len(header)} columns on line {reader.line_num}, got {len(cells)}; "
                    f"put double quotes around text that contains {_DELIMITER_NAMES[delimiter]}."
                )
            if any(cell.strip() for cell in cells):
                rows.append(dict(zip(header, cells)))
    except csv.Error as exc:
        raise IngestError(
            f"Expected valid CSV, got a format error on line {reader.line_num} ({exc}); fix that line."
        ) from None
    return _faq_documents(rows, path, base, settings)


def _lower_keys(items: list[Any]) -> list[Mapping[str, Any]]:
    """Case-insensitive keys; a non-object item becomes an empty row (counted as incomplete)."""
    return [
        {str(k).strip().lower(): v for k, v in item.items()} if isinstance(item, dict) else {}
        for item in items
    ]


_JSON_TOO_DEEP = (
    "Expected FAQ entries as a flat list of question/answer objects, got JSON nested too deeply "
    "or holding a number too long to read; reshape the file."
)


def _load_json(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    try:
        payload = json.loads(decode_text(data, ".json"))
    except json.JSONDecodeError as exc:
        raise IngestError(
            f"Expected valid JSON, got an error at line {exc.lineno}, column {exc.colno} ({exc.msg}); "
            "fix it and upload again."
        ) from None
    except (RecursionError, ValueError) as exc:  # nesting thousands deep; a number of 5,000 digits
        logger.info("JSON rejected: %r", exc)
        raise IngestError(_JSON_TOO_DEEP) from None
    title = ""
    if isinstance(payload, dict) and isinstance(payload.get("faq"), list):
        title = str(payload.get("title") or "").strip()
        payload = payload["faq"]
    if not isinstance(payload, list):
        if isinstance(payload, dict):
            got = f"an object with keys {', '.join(list(map(str, payload))[:8])}"
        else:
            got = type(payload).__name__
        raise IngestError(
            f'Expected a list of {{"question", "answer"}} objects (or {{"faq": [...]}}), got {got}; '
            "reshape the file."
        )
    return _faq_documents(_lower_keys(payload), path, base, settings, title=title)


def _load_jsonl(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    items = []
    for number, line in enumerate(decode_text(data, ".jsonl").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise IngestError(
                f"Expected one JSON object per line, got invalid JSON on line {number}, column {exc.colno} "
                f"({exc.msg}); fix that line."
            ) from None
        except (RecursionError, ValueError) as exc:
            logger.info("JSONL line %d rejected: %r", number, exc)
            raise IngestError(f"{_JSON_TOO_DEEP} (line {number})") from None
    return _faq_documents(_lower_keys(items), path, base, settings)


Loader = Callable[[bytes, Path, Metadata, Settings], list[Document]]
_LOADERS: dict[str, Loader] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".csv": _load_csv,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}
