"""A failing chat-model endpoint, through the real ChatOpenAI client against tests/openai_stub.py.

For every fault the turn ends within a bound computed from the settings (timeout x attempts plus
the client's back-off), the customer gets the offline extractive answer with the "answer service is
slow" notice (or a person), never error text, and the failure is in the log.
"""

from __future__ import annotations

import json
import logging
import time

import pytest

from assistant.models import make_chat_model
from assistant.phrases import phrase
from tests.openai_stub import OpenAIStub
from tests.reliability.conftest import PROBE, build_assistant, leaks_error_text

TIMEOUT_S = 1.0
BACKOFF_S = 0.5 + 1.0 + 2.0   # openai-python waits 0.5 s, 1 s, 2 s (+ jitter) before retries 1, 2, 3
SLACK_S = 4.0                 # retrieval, confidence and logging on a busy 2-core machine
GOOD_REPLY = "Refunds reach your card within 5-10 business days [1]."


class FaultyStub(OpenAIStub):
    """The shared stub plus two faults of a slow stream: "trickle" (a token every 0.4 s, for 8 s)
    and "stall-mid-stream" (two tokens, then silence for 5 s)."""

    def _respond(self, handler, body, item):
        if item not in ("trickle", "stall-mid-stream"):
            return super()._respond(handler, body, item)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        try:
            for n in range(20 if item == "trickle" else 2):
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                         "choices": [{"index": 0, "delta": {"content": f"word{n} "}, "finish_reason": None}]}
                handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                handler.wfile.flush()
                time.sleep(0.4)
            time.sleep(5)
        except OSError:  # the client gave up and closed the connection
            pass
        handler.close_connection = True


def bound(retries: int) -> float:
    return TIMEOUT_S * (retries + 1) + sum([0.5, 1.0, 2.0][:retries]) * 1.25 + SLACK_S


@pytest.fixture
def with_stub(kb, embeddings, caplog):
    """(stub, make): `make(retries)` builds an Assistant whose ChatOpenAI talks to the stub."""
    caplog.set_level(logging.WARNING)
    with FaultyStub() as stub:

        def make(retries: int):
            settings = kb.with_overrides(
                openai_base_url=stub.base_url, llm_timeout_s=TIMEOUT_S, llm_max_retries=retries
            )
            return build_assistant(settings, embeddings, chat_model=make_chat_model(settings))

        yield stub, make


FALLBACK_CASES = {
    # fault: (script, max_retries, requests the client must make)
    "stall (no response)": (["stall"] * 3, 1, 2),
    "500 always": (["500"] * 5, 2, 3),
    "429 always": (["429"] * 5, 2, 3),
    "malformed JSON": (["malformed"], 1, 1),
    "truncated stream": (["truncated"], 1, 1),
    "stall mid-stream": (["stall-mid-stream"], 1, 1),
    "trickle past the deadline": (["trickle"], 1, 1),
    "empty reply": ([""], 1, 1),
}


@pytest.mark.parametrize("fault", FALLBACK_CASES)
def test_a_failing_model_falls_back_to_the_extractive_answer_in_bounded_time(with_stub, caplog, fault):
    stub, make = with_stub
    script, retries, requests = FALLBACK_CASES[fault]
    stub.script.extend(script)
    assistant = make(retries)
    tokens: list[str] = []
    started = time.monotonic()
    answer = assistant.reply("s", PROBE, on_token=tokens.append)
    seconds = time.monotonic() - started
    assert seconds < bound(retries), f"{fault}: {seconds:.1f}s"
    assert len(stub.requests) == requests
    assert answer.mode == "extractive" and answer.grounded and answer.notice == phrase("llm_unavailable", "en")
    assert answer.citations[0].source == "docs/refunds.md" and "5-10 business days" in answer.text
    assert not leaks_error_text(answer.text + answer.notice)
    assert "Partial answer" not in answer.text  # the cut-off stream never becomes the answer
    failures = [r for r in caplog.records if r.name == "assistant.generation" and r.levelno >= logging.WARNING]
    assert failures, f"{fault}: not logged"
    stored = assistant.log.messages("s")
    assert [m["role"] for m in stored] == ["user", "assistant"] and stored[1]["content"] == answer.text


def test_429_then_success_is_retried_and_answered_by_the_model(with_stub):
    stub, make = with_stub
    stub.script.extend(["429", GOOD_REPLY])
    started = time.monotonic()
    answer = make(2).reply("s", PROBE)
    assert time.monotonic() - started < bound(1)
    assert len(stub.requests) == 2 and answer.mode == "llm" and answer.grounded and not answer.notice
    assert answer.text == GOOD_REPLY and answer.citations[0].source == "docs/refunds.md"


def test_a_follow_up_and_a_handoff_with_a_dead_model_stay_bounded(with_stub, caplog):
    """Condensing the follow-up, answering, and summarising the ticket all fail; each falls back."""
    stub, make = with_stub
    stub.default_reply = "500"
    assistant = make(1)
    assistant.reply("s", "How long does standard shipping take?")
    started = time.monotonic()
    follow = assistant.reply("s", "and express?")
    handoff = assistant.reply("s", "I want to talk to a person")
    seconds = time.monotonic() - started
    # first answer (2 requests); follow-up: condense (2) + answer (2); handoff: summary (2).
    assert len(stub.requests) == 8 and seconds < 3 * bound(1), f"{len(stub.requests)} requests, {seconds:.1f}s"
    assert follow.mode == "extractive" and "1-2 business days" in follow.text
    assert handoff.escalation.escalate and handoff.ticket_id
    ticket = assistant.tickets.get(handoff.ticket_id)
    assert ticket.summary and not leaks_error_text(ticket.summary)
    assert any("condensing failed" in r.getMessage() for r in caplog.records)
    assert any("LLM summary failed" in r.getMessage() for r in caplog.records)

