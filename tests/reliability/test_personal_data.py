"""Personal data end to end: every case of tests/data/pii_cases.jsonl goes through `Assistant.reply`
and a handoff ticket; then the SQLite file is read directly (every table, and the file's bytes).

Targets: at least 99% of personal-data items absent from everything stored (transcripts, tickets,
summaries, unanswered questions), and at most 2% of the look-alikes (order numbers, dates, prices...)
changed on their way into the conversation log or a ticket.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.conversation import clean_message
from tests.reliability.conftest import CORPUS, build_assistant, raw_rows

CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "pii_cases.jsonl"
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
POSITIVES = [c for c in CASES if c["kind"] == "positive"]
LOOKALIKES = [c for c in CASES if c["kind"] == "lookalike"]
PER_SESSION = 5


@dataclass(frozen=True)
class Sent:
    case: dict
    session: str
    position: int  # among the session's customer messages


@pytest.fixture(scope="module")
def stored(tmp_path_factory, ingested_kb, embeddings):
    """Send every case as a customer message (5 per session), then ask for a person in each session."""
    root = tmp_path_factory.mktemp("pii")
    settings = ingested_kb(CORPUS, root)
    assistant = build_assistant(settings, embeddings)
    cases = [c for pair in zip(POSITIVES, LOOKALIKES, strict=False) for c in pair]
    cases += POSITIVES[len(LOOKALIKES):] + LOOKALIKES[len(POSITIVES):]
    sent = []
    for start in range(0, len(cases), PER_SESSION):
        session = f"pii-{start // PER_SESSION:02d}"
        for position, case in enumerate(cases[start : start + PER_SESSION]):
            assistant.reply(session, case["text"])
            sent.append(Sent(case, session, position))
        assert assistant.request_human(session).ticket_id
    return settings, sent


def stored_versions(settings) -> dict[str, dict[tuple[str, int], str]]:
    """What SQLite holds for each customer message, keyed by (session, position): log and ticket."""
    log: dict[tuple[str, int], str] = {}
    rows = raw_rows(settings, "SELECT session_id, content FROM messages WHERE role = 'user' ORDER BY session_id, idx")
    for session, content in rows:
        log[(session, sum(1 for key in log if key[0] == session))] = content
    tickets: dict[tuple[str, int], str] = {}
    turns = raw_rows(settings, "SELECT t.session_id, u.content FROM ticket_turns u JOIN tickets t"
                               " ON t.ticket_id = u.ticket_id WHERE u.role = 'user' ORDER BY t.session_id, u.idx")
    for session, content in turns:
        tickets[(session, sum(1 for key in tickets if key[0] == session))] = content
    return {"messages": log, "tickets": tickets}


def test_every_case_reached_the_log_and_a_ticket(stored):
    """Guards the figures below: a message that was never stored would count as redacted."""
    settings, sent = stored
    versions = stored_versions(settings)
    assert raw_rows(settings, "SELECT COUNT(*) FROM tickets")[0][0] == -(-len(CASES) // PER_SESSION)
    for place in ("messages", "tickets"):
        assert set(versions[place]) == {(s.session, s.position) for s in sent}, place


@pytest.mark.parametrize("place", ["messages", "tickets"])
def test_at_least_99_percent_of_personal_data_is_redacted(stored, place):
    settings, sent = stored
    versions = stored_versions(settings)[place]
    items = [(s, pii) for s in sent if s.case["kind"] == "positive" for pii in s.case["pii"]]
    kept = [(s.case["id"], pii) for s, pii in items if pii in versions[(s.session, s.position)]]
    recall = 1 - len(kept) / len(items)
    assert recall >= 0.99, f"{place}: {recall:.3f} of {len(items)} items redacted; kept: {kept}"


@pytest.mark.parametrize("place", ["messages", "tickets"])
def test_at_most_2_percent_of_look_alikes_are_touched(stored, place):
    settings, sent = stored
    versions = stored_versions(settings)[place]
    lookalikes = [s for s in sent if s.case["kind"] == "lookalike"]
    touched = [
        (s.case["id"], versions[(s.session, s.position)]) for s in lookalikes
        if versions[(s.session, s.position)] != clean_message(s.case["text"], 10_000)[0]
    ]
    share = len(touched) / len(lookalikes)
    assert share <= 0.02, f"{place}: {share:.3f} of look-alikes changed: {touched}"


def test_no_message_with_personal_data_is_anywhere_in_the_database(stored):
    """Every table's text, the summaries and unanswered questions included, and the file's bytes
    (main file and write-ahead log): no customer message holding personal data was written as typed."""
    settings, sent = stored
    originals = [clean_message(s.case["text"], 10_000)[0] for s in sent if s.case["kind"] == "positive"]
    values = []
    for (table,) in raw_rows(settings, "SELECT name FROM sqlite_master WHERE type = 'table'"):
        for row in raw_rows(settings, f'SELECT * FROM "{table}"'):
            values += [v for v in row if isinstance(v, str)]
    blob = "\n".join(values + [_json_unescaped(v) for v in values])
    path = Path(settings.resolved_database_url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert [t for t in originals if t in blob] == []
    assert [t for t in originals if t.encode("utf-8") in raw] == []


def _json_unescaped(value: str) -> str:
    """A JSON column as readable text ("\\u0660" -> "٠"), or "" for a plain text value."""
    try:
        return json.dumps(json.loads(value), ensure_ascii=False)
    except ValueError:
        return ""
