"""PDF: one Document per page with text, bounded in pages and characters; clear messages for scans and locks."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.textnorm import visible_text
from kb_ingest.loaders.metadata import Metadata, document, text_metadata
from kb_ingest.loaders.text import CONTROL_CHARS

logger = logging.getLogger(__name__)

MAX_PDF_PAGES = 2000               # a help article never has more; guards against page-count bombs
MAX_PDF_TEXT_CHARS = 20_000_000    # extracted text cap (pypdf already caps stream decompression)


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


def pdf_page_count(data: bytes) -> int:
    """Pages in the PDF, read from its page tree without extracting any text (raises IngestError if unreadable)."""
    reader = _open_pdf(data)
    try:
        return len(reader.pages)
    except Exception as exc:
        logger.info("PDF page tree unreadable: %r", exc)
        raise _corrupt_pdf() from None


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
    text = visible_text(CONTROL_CHARS.sub("", text))
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _pdf_title(reader) -> str:
    try:
        title = reader.metadata.title if reader.metadata else ""
    except Exception:  # broken Info dictionary: fall back to the file name
        return ""
    return " ".join(str(title or "").split())


def load_pdf(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
    reader = _open_pdf(data)
    pages = _pdf_pages(reader)
    if not pages:
        raise IngestError(
            "PDF has no text layer (scanned?): expected selectable text, got only images or drawings; "
            "run OCR on it (e.g. ocrmypdf) and upload again."
        )
    joined = "\n\n".join(text for _, text in pages)
    metadata = text_metadata(joined, base, settings, {}, title=_pdf_title(reader))
    return [document(text, metadata, page=number) for number, text in pages]
