"""Text decoding shared by the text formats, and the plain-text loader."""

from __future__ import annotations

import re
from pathlib import Path

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.textnorm import visible_text
from kb_ingest.loaders.metadata import TITLE_MAX_CHARS, Metadata, text_document

_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # Unicode Cc except \t \n \v \f \r
_MAX_CONTROL_SHARE = 0.01
# Read as Windows-1252, a non-Latin legacy code page comes out as mostly accented capitals and small
# letters (Arabic Windows-1256 "يمكنك" -> "íãßäß"); real Latin text has only a few of them.
_MOSTLY = 0.5
_ARABIC_CODE_PAGES = ["cp1256", "iso8859_6"]  # the only non-Latin script among the product's languages


def decode_text(data: bytes, extension: str) -> str:
    """Bytes -> text without format characters, in NFKC.

    Read as UTF-8 (BOM stripped), UTF-16/32 with a BOM, Windows-1256/ISO-8859-6 Arabic, else Windows-1252/Latin-1.
    """
    text = decode_bytes(data, extension)
    text, controls = CONTROL_CHARS.subn("", text)
    if controls > _MAX_CONTROL_SHARE * max(len(text) + controls, 1):
        raise binary_error(extension)
    # Format characters go and letters are NFKC, so nothing invisible hides words from the injection guard.
    text = visible_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise IngestError("file is empty (only whitespace); add some content or remove the file.")
    return text


def decode_bytes(data: bytes, extension: str) -> str:
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
        raise binary_error(extension)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # Windows "ANSI" exports are the usual non-UTF-8 text in help centres
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if _share(text, _is_high_latin) < _MOSTLY:
        return text
    arabic = _decode_arabic(data)
    if arabic is None:
        raise IngestError(
            "Expected UTF-8 text, got text in an unsupported encoding (a legacy code page of a non-Latin script: "
            "read as Windows-1252 it is mostly accented letters); save the file as UTF-8 and upload again."
        )
    return arabic


def _decode_arabic(data: bytes) -> str | None:
    """The text if `data` reads as Arabic in Windows-1256 or ISO-8859-6 (charset-normalizer picks one), else None."""
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=_ARABIC_CODE_PAGES).best()
    text = str(best) if best is not None else ""
    return text if text and _share(text, _is_arabic) >= _MOSTLY else None


def _share(text: str, predicate) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    return sum(1 for ch in letters if predicate(ch)) / len(letters) if letters else 0.0


def _is_high_latin(ch: str) -> bool:
    return "\u00c0" <= ch <= "\u00ff"


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufefc"


def binary_error(extension: str) -> IngestError:
    # Also what text in an unsupported encoding looks like (UTF-16 without a byte-order mark,
    # Shift-JIS...): only UTF-8, UTF-16/32 with a BOM and Windows-1252/Latin-1 are read.
    return IngestError(
        "looks like binary data, not text (or text in an unsupported encoding); "
        f"expected a text {extension} file: "
        "save it as UTF-8 text (or give it the right extension) and upload again."
    )


def load_text(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    text = decode_text(data, ".txt").strip()
    first_line = text.split("\n", 1)[0].strip()
    title = first_line if len(first_line) <= TITLE_MAX_CHARS else ""
    return [text_document(text, base, settings, {}, title=title)]
