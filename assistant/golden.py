"""Golden cases: the gold-set JSONL format the Workbench writes and `kb eval --golden` scores.

One JSON object per line, with ragas-style names:

    {"user_input": "Je, ninawezaje kurejeshewa pesa?",      # the customer's question (required)
     "expected_sources": ["faq/billing.md"],                # sources (or context ids) that answer it
     "reference_contexts": ["Refunds are paid within..."],  # optional: the passages themselves
     "language": "sw", "pair": "sw->en",                    # question language; question->source language
     "expect_escalation": false,                             # true: the assistant should hand over
     "id": "golden-12"}                                      # optional

Staff golden cases (e.g. `data/golden.jsonl`) and the public benchmark questions of the
evaluation harness share this record type, so both are scored by the same code.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from assistant.errors import KBError
from assistant.redaction import redact

GOLDEN_FILE = "golden.jsonl"
# The gold-set format uses ISO 639-3 in places (AfriQA); the product uses ISO 639-1.
_LANGUAGE_CODES = {"hau": "ha", "swa": "sw", "ara": "ar", "eng": "en", "est": "et"}
_append_lock = threading.Lock()


class GoldSetError(KBError):
    """A gold-set (or evaluation data) file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class GoldCase:
    """One question with the sources that answer it."""

    user_input: str
    expected_sources: tuple[str, ...] = ()
    reference_contexts: tuple[str, ...] = ()
    language: str = ""
    pair: str = ""
    expect_escalation: bool = False
    id: str = ""

    @classmethod
    def from_json(cls, row: dict[str, Any], where: str = "gold set") -> GoldCase:
        question = row.get("user_input")
        if not isinstance(question, str) or not question.strip():
            raise GoldSetError(f"Expected a non-empty string in 'user_input' ({where}), got {question!r}.")
        sources = row.get("expected_sources") or []
        contexts = row.get("reference_contexts") or []
        for name, value in (("expected_sources", sources), ("reference_contexts", contexts)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise GoldSetError(f"Expected '{name}' to be a list of strings ({where}), got {value!r}.")
        return cls(
            user_input=question.strip(),
            expected_sources=tuple(sources),
            reference_contexts=tuple(contexts),
            language=normalize_language(str(row.get("language") or "")),
            pair=str(row.get("pair") or ""),
            expect_escalation=bool(row.get("expect_escalation", False)),
            id=str(row.get("id") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["expected_sources"] = list(self.expected_sources)
        row["reference_contexts"] = list(self.reference_contexts)
        return row


def normalize_language(code: str) -> str:
    code = code.strip().lower()
    return _LANGUAGE_CODES.get(code, code)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line fails with its line number."""
    if not path.is_file():
        raise GoldSetError(f"Expected a JSONL file at {path}, found none; check the path.")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise GoldSetError(f"Expected JSON on line {number} of {path}, got: {exc.msg}.") from None
            if not isinstance(row, dict):
                raise GoldSetError(f"Expected a JSON object on line {number} of {path}, got {type(row).__name__}.")
            rows.append(row)
    return rows


def load_gold_set(path: Path | str) -> list[GoldCase]:
    """Read a gold-set JSONL file (staff golden cases or an exported benchmark)."""
    path = Path(path)
    return [GoldCase.from_json(row, f"{path.name} line {i}") for i, row in enumerate(read_jsonl(path), 1)]


def save_gold_set(path: Path | str, cases: Iterable[GoldCase]) -> None:
    """Write cases in the gold-set format (used by staff tools and tests)."""
    lines = [json.dumps(case.to_json(), ensure_ascii=False) for case in cases]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def golden_path(data_dir: Path) -> Path:
    return Path(data_dir) / GOLDEN_FILE


def append_golden_case(
    path: Path, user_input: str, expected_sources: Sequence[str], language: str, expect_escalation: bool
) -> GoldCase:
    """Validate the case with the loader's own rules, then append it as one JSON line.

    The question is redacted: staff often paste a customer's message, personal data included.
    """
    row = {
        "id": f"golden-{secrets.token_hex(4)}",
        "user_input": redact(user_input),
        "expected_sources": list(expected_sources),
        "language": language,
        "expect_escalation": bool(expect_escalation),
    }
    case = GoldCase.from_json(row, where="Workbench")
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with _append_lock, path.open("a", encoding="utf-8") as handle:
        handle.write(line)
    return case
