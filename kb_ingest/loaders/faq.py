"""FAQ tables (CSV, JSON, JSONL): one Document per question-and-answer row."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from assistant.config import Settings
from assistant.errors import IngestError
from kb_ingest.loaders.metadata import Metadata, declared_language, detect, document, kind_of, pretty_stem
from kb_ingest.loaders.text import decode_text

logger = logging.getLogger(__name__)

FAQ_ROW_CONFIDENCE = 0.9           # below this, a FAQ row takes the file's language


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
    file_language = detect(" \n".join(_row_text(row) for row in valid), settings)[0]
    common = {
        **base,
        "title": title or pretty_stem(path),
        "kind": kind_of(base["source"], {}, is_faq_table=True),
    }
    return [_faq_document(row, common, file_language, settings) for row in valid]


def _row_text(row: Mapping[str, Any]) -> str:
    return f"{_pick(row, _QUESTION_KEYS)}\n{_pick(row, _ANSWER_KEYS)}"


def _faq_document(
    row: Mapping[str, Any], common: Metadata, file_language: str, settings: Settings
) -> Document:
    question = " ".join(_pick(row, _QUESTION_KEYS).split())  # one line: the chunker repeats it
    answer = _pick(row, _ANSWER_KEYS)
    language = declared_language(_pick(row, _LANGUAGE_KEYS))
    if not language:
        detected, confidence = detect(_row_text(row), settings)
        language = detected if confidence >= FAQ_ROW_CONFIDENCE else file_language
    return document(
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


def load_csv(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
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
                rows.append(dict(zip(header, cells, strict=False)))
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


def load_json(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
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


def load_jsonl(data: bytes, path: Path, base: Metadata, settings: Settings) -> list[Document]:
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
