"""One small loader per file format, turning a help-centre file into LangChain Documents with flat metadata.

Every Document carries: source, title, kind, language, page, section, mtime, content_hash (and
`question` for FAQ rows). Values are str/int/float only, never None, because Chroma rejects None.
Problems a doc writer can fix (empty, encrypted, scanned, wrong columns...) raise IngestError with a
one-line message; the raw library error goes to the log only.
"""


from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from assistant.textnorm import visible_text
from kb_ingest.loaders.faq import load_csv, load_json, load_jsonl
from kb_ingest.loaders.html import load_html
from kb_ingest.loaders.markdown import load_markdown
from kb_ingest.loaders.metadata import KINDS, Metadata
from kb_ingest.loaders.pdf import MAX_PDF_PAGES, MAX_PDF_TEXT_CHARS, load_pdf
from kb_ingest.loaders.text import decode_text, load_text

logger = logging.getLogger(__name__)

Loader = Callable[[bytes, Path, Metadata, Settings], list[Document]]
LOADERS: dict[str, Loader] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".csv": load_csv,
    ".json": load_json,
    ".jsonl": load_jsonl,
}
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(LOADERS)
_TEXT_FIELDS = ("title", "question", "section")  # metadata shown or searched as text (never `source`)

__all__ = [
    "KINDS", "LOADERS", "MAX_PDF_PAGES", "MAX_PDF_TEXT_CHARS", "SUPPORTED_EXTENSIONS",
    "decode_text", "file_sha256", "load_file",
]


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_file(path: Path, root: Path, settings: Settings) -> list[Document]:
    """LangChain Documents for one file; raises IngestError with a one-line reason fit for the doc writer."""
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
    docs = [_visible(doc) for doc in LOADERS[extension](data, path, base, settings)]
    logger.debug("loaded %s: %d document(s)", base["source"], len(docs))
    return docs


def _visible(doc: Document) -> Document:
    """Text and titles without format characters, in NFKC: also what HTML entities (&#8203;) and JSON
    escapes (\\u200b) decode to after the bytes were cleaned."""
    metadata = {
        key: visible_text(value) if key in _TEXT_FIELDS and isinstance(value, str) else value
        for key, value in doc.metadata.items()
    }
    return Document(page_content=visible_text(doc.page_content), metadata=metadata)


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
