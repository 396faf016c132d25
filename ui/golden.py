"""Saving a Workbench question as a golden test case (one line of `data/golden.jsonl`)."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from pathlib import Path

from assistant.evaluation.datasets import GoldCase
from assistant.redaction import redact

GOLDEN_FILE = "golden.jsonl"
_append_lock = threading.Lock()


def golden_path(data_dir: Path) -> Path:
    return Path(data_dir) / GOLDEN_FILE


def append_golden_case(
    path: Path, user_input: str, expected_sources: Sequence[str], language: str, expect_escalation: bool
) -> GoldCase:
    """Validate the case with the evaluation loader's own rules, then append it as one JSON line.

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
