"""Checking and saving doc-writer uploads: safe file names, extension + content sniffing, size limit."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

from assistant.config import Settings
from assistant.errors import IngestError, KBError
from kb_ingest.indexing import chunk_file
from kb_ingest.loaders import SUPPORTED_EXTENSIONS, decode_text
from kb_ingest.loaders.pdf import pdf_page_count

logger = logging.getLogger(__name__)

UPLOADS_FOLDER = "uploads"
MAX_NAME_BYTES = 255  # NAME_MAX of ext4, XFS, APFS...: a limit in bytes, so CJK names reach it at 85 characters
_UNSAFE = re.compile(r"[^\w.\- ]+", re.UNICODE)
# Magic numbers of binary formats that must never pass as a text help article.
_BINARY_MAGIC = (
    b"%PDF-", b"PK\x03\x04", b"\x7fELF", b"MZ", b"\x89PNG", b"\xff\xd8\xff", b"GIF8",
    b"\xd0\xcf\x11\xe0", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf",
)


def upload_limit_mismatch(server_mb: int, max_file_mb: int) -> str | None:
    """A warning when Streamlit's upload limit (server.maxUploadSize) and KB_MAX_FILE_MB differ, else None."""
    if server_mb == max_file_mb:
        return None
    return (
        f"server.maxUploadSize is {server_mb} MB but KB_MAX_FILE_MB is {max_file_mb} MB: "
        + ("Streamlit refuses uploads the app would accept" if server_mb < max_file_mb
           else "Streamlit holds uploads in memory that the app then refuses")
        + "; set both (and the proxy's body limit) to the same value."
    )


class UploadRejected(KBError):
    """An uploaded file that may not be saved; the message says why and what to do."""


def safe_filename(name: str) -> str:
    """The upload's base name, cleaned: no folders, no traversal, no hidden or control-character names."""
    raw = unicodedata.normalize("NFC", name or "")
    # Both separators: a Windows browser may send "C:\\fakepath\\x.md"; an attacker "../../x.md".
    base = PureWindowsPath(PurePosixPath(raw.replace("\\", "/")).name).name.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in base):
        raise UploadRejected(f"Expected a plain file name, got {name!r} with control characters; rename it.")
    if not base or base in (".", ".."):
        raise UploadRejected(f"Expected a file name, got {name!r}; rename the file and upload again.")
    if base.startswith("."):
        raise UploadRejected(
            f"Expected a visible file name, got the hidden name {base!r}; rename it without the leading dot."
        )
    cleaned = _UNSAFE.sub("_", base)
    stem, suffix = os.path.splitext(cleaned)
    if len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        # Cut the stem by bytes; "ignore" drops a character the cut would split in half.
        cleaned = stem.encode("utf-8")[:budget].decode("utf-8", "ignore").rstrip() + suffix
    return cleaned


def check_upload(name: str, data: bytes, max_file_mb: int) -> str:
    """Validate extension, size and content of an upload; return its safe file name."""
    safe = safe_filename(name)
    extension = Path(safe).suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(sorted(SUPPORTED_EXTENSIONS))
        raise UploadRejected(f"Expected one of {supported}; got {extension or 'no extension'!r} ({safe}).")
    limit = max_file_mb * 1024 * 1024
    if len(data) > limit:
        raise UploadRejected(
            f"Expected a file of at most {max_file_mb} MB, got {len(data) / 1048576:.1f} MB ({safe}); "
            "split it into smaller files."
        )
    if not data:
        raise UploadRejected(f"Expected some content, got an empty file ({safe}).")
    _sniff(safe, extension, data)
    return safe


def _sniff(safe: str, extension: str, data: bytes) -> None:
    """The content must match the extension: a real PDF for .pdf, text (not a binary) otherwise."""
    if extension == ".pdf":
        if b"%PDF-" not in data[:1024]:
            raise UploadRejected(f"Expected a PDF file, got something else named {safe}; export it as PDF again.")
        return
    if any(data.startswith(magic) for magic in _BINARY_MAGIC):
        raise UploadRejected(
            f"Expected a text {extension} file, got binary content ({safe}); save it as UTF-8 text or PDF."
        )
    try:
        decode_text(_utf8_safe_head(data, 65536), extension)
    except IngestError as exc:
        raise UploadRejected(f"{safe}: {exc}") from None


def _utf8_safe_head(data: bytes, size: int) -> bytes:
    """The first `size` bytes, minus a UTF-8 character the cut would split (it would not decode as UTF-8)."""
    head = data[:size]
    if len(data) <= size:
        return head
    for back in range(1, 4):  # a UTF-8 character is at most 4 bytes: drop an unfinished one
        if (head[-back] & 0xC0) == 0xC0:  # a lead byte: its character started here and may be cut
            return head[:-back]
        if (head[-back] & 0xC0) != 0x80:  # ASCII: nothing cut
            return head
    return head


def validate_upload(safe_name: str, data: bytes, settings: Settings) -> int:
    """Load and chunk the upload from a temporary copy, as the indexer will; returns its chunk count.

    A file that would fail to index (a scan without text, a broken table...) is refused here, before
    it replaces anything in uploads/ or lingers there failing every later run; so is one over the
    upload caps (KB_UPLOAD_MAX_PAGES, KB_UPLOAD_MAX_CHUNKS), whose embedding would take too long.
    """
    if safe_name.lower().endswith(".pdf"):
        try:
            pages = pdf_page_count(data)  # before extracting any text: a 2,000-page PDF is refused at once
        except IngestError as exc:
            raise UploadRejected(f"{safe_name}: {exc}") from None
        if pages > settings.upload_max_pages:
            raise UploadRejected(
                f"Expected a PDF of at most {settings.upload_max_pages} pages for an upload, got {pages} "
                f"({safe_name}); split it, or ask an administrator to index it with `kb ingest`."
            )
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as folder:
        path = Path(folder) / safe_name
        path.write_bytes(data)
        try:
            chunks = chunk_file(path, Path(folder), settings)
        except IngestError as exc:
            raise UploadRejected(f"{safe_name}: {exc}") from None
        except Exception as exc:  # a loader bug: refuse the file, keep the details in the log
            logger.exception("validating upload %s failed", safe_name)
            reason = f"could not be read ({type(exc).__name__}); see the server log."
            raise UploadRejected(f"{safe_name}: {reason}") from None
    if not chunks:
        raise UploadRejected(f"{safe_name}: Expected some text to index, got none after splitting.")
    if len(chunks) > settings.upload_max_chunks:
        raise UploadRejected(
            f"Expected at most {settings.upload_max_chunks} chunks for an upload, got {len(chunks)} ({safe_name}); "
            "split the file, or ask an administrator to index it with `kb ingest`."
        )
    return len(chunks)


def upload_path(corpus_dir: Path, safe_name: str) -> Path:
    """Where an upload named `safe_name` lives: corpus_dir/uploads/<name> (never anywhere else)."""
    folder = (Path(corpus_dir) / UPLOADS_FOLDER).resolve()
    target = (folder / safe_name).resolve()
    if target.parent != folder:  # defence in depth: safe_filename already removed any folder part
        raise UploadRejected(f"Expected a file inside {UPLOADS_FOLDER}/, got {safe_name!r}.")
    return target


def save_upload(corpus_dir: Path, safe_name: str, data: bytes) -> Path:
    """Write the checked upload to corpus_dir/uploads/ atomically (replacing a file of that name); returns its path."""
    target = upload_path(corpus_dir, safe_name)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    logger.info("saved upload %s (%d bytes)", target.name, len(data))
    return target
