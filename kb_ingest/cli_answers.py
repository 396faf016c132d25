"""`kb ask`: the answering side of the command line."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path

from assistant.config import Settings
from assistant.types import Answer


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def answer_to_dict(answer: Answer) -> dict:
    """The JSON shape of one answer (also used by the batch mode)."""
    return {
        "answer": answer.text,
        "language": answer.language,
        "confidence": answer.confidence,
        "grounded": answer.grounded,
        "mode": answer.mode,
        "escalate": answer.escalation.escalate,
        "offer_person": answer.escalation.offer,
        "reasons": list(answer.escalation.reasons),
        "signals": dict(answer.escalation.signals),
        "ticket_id": answer.ticket_id,
        "search_query": answer.search_query,
        "citations": [
            {"marker": c.marker, "source": c.source, "chunk_id": c.chunk_id, "page": c.page,
             "title": c.title, "quote": c.quote, "score": c.score}
            for c in answer.citations
        ],
        "retrieved": [
            {"chunk_id": r.chunk.chunk_id, "source": r.chunk.source, "page": r.chunk.page,
             "language": r.chunk.language, "score": round(r.score, 4), "dense": round(r.dense_score, 4),
             "lexical": round(r.lexical_score, 4)}
            for r in answer.retrieved
        ],
    }


def _print_answer(answer: Answer) -> None:
    _out(answer.text)
    if answer.notice:
        _out(f"({answer.notice})")
    for c in answer.citations:
        page = f", page {c.page}" if c.page else ""
        _out(f"  [{c.marker}] {c.title} — {c.source}{page}")
    action = answer.escalation.action
    reasons = ", ".join(answer.escalation.reasons) or "none"
    _out(f"  language={answer.language} confidence={answer.confidence:.2f} escalation={action} reasons={reasons}")


def _batch_items(path: Path):
    """Yield (line number, list of user messages) from a JSONL batch file."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"line {number}: expected JSON, got {exc.msg}"
                continue
            if isinstance(item, dict) and isinstance(item.get("question"), str):
                yield number, [item["question"]], ""
            elif isinstance(item, dict) and isinstance(item.get("messages"), list):
                users = [m.get("content", "") for m in item["messages"]
                         if isinstance(m, dict) and m.get("role") == "user"]
                yield number, users, "" if users else f"line {number}: expected at least one user message"
            else:
                yield number, None, f'line {number}: expected {{"question": ...}} or {{"messages": [...]}}'


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.conversation import Assistant

    if not args.question and not args.batch:
        sys.stderr.write('Expected a question or --batch FILE.jsonl; e.g. kb ask "How do I reset my password?"\n')
        return 2
    assistant = Assistant.from_settings(settings)  # models load once for the whole batch
    if args.batch:
        failures = 0
        for number, messages, error in _batch_items(Path(args.batch)):
            if error:
                failures += 1
                _out(json.dumps({"line": number, "error": error}, ensure_ascii=False))
                continue
            session = f"batch-{uuid.uuid4().hex[:8]}"
            answer = None
            for message in messages:
                answer = assistant.reply(session, message)
            _out(json.dumps({"line": number, **answer_to_dict(answer)}, ensure_ascii=False))
        return 1 if failures else 0
    answer = assistant.reply(f"cli-{uuid.uuid4().hex[:8]}", args.question)
    if args.json:
        _out(json.dumps(answer_to_dict(answer), ensure_ascii=False))
    else:
        _print_answer(answer)
    return 0


def register(sub) -> None:
    p = sub.add_parser("ask", help="ask the assistant (offline extractive unless an LLM is configured)")
    p.add_argument("question", nargs="?", default="")
    p.add_argument("--batch", help='JSONL file: one {"question": ...} or {"messages": [...]} per line')
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)
