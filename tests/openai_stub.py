"""A local OpenAI-compatible chat server for tests: scripted replies and scripted failures."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = str | Callable[[dict], str]
_SOURCE_1 = re.compile(r'<source id="1"[^>]*>\n(.*?)\n</source>', re.DOTALL)


def prompt_text(body: dict) -> str:
    """The text of every message of a request, joined by blank lines."""
    return "\n\n".join(m.get("content") or "" for m in body.get("messages") or [] if isinstance(m, dict))


class OpenAIStub:
    """Serves /v1/chat/completions on 127.0.0.1; `script` holds what the next requests get.

    Each script item is a reply text, or one of the failure modes:
    "500", "429", "malformed", "stall", "truncated"; or a function of the request body returning one
    of these (a scripted "model" that reads its prompt). `default_reply` may be either too.
    """

    def __init__(self, default_reply: Reply = "NO_ANSWER") -> None:
        self.default_reply = default_reply
        self.script: deque[Reply] = deque()
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(body)
                item = stub.script.popleft() if stub.script else stub.default_reply
                stub._respond(self, body, item(body) if callable(item) else item)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ---- responses ----------------------------------------------------------------------------

    def _respond(self, handler: BaseHTTPRequestHandler, body: dict, item: str) -> None:
        if item == "500":
            return self._send(handler, 500, b'{"error": {"message": "boom"}}')
        if item == "429":
            return self._send(handler, 429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0"})
        if item == "malformed":
            return self._send(handler, 200, b'{"choices": [ this is not json')
        if item == "stall":
            time.sleep(5)
            return self._send(handler, 200, b"{}")
        if body.get("stream"):
            return self._stream(handler, body, item)
        payload = {
            "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": item}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        self._send(handler, 200, json.dumps(payload).encode())

    @staticmethod
    def _send(handler, status: int, data: bytes, headers: dict | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _stream(handler, body: dict, item: str) -> None:
        truncated = item == "truncated"
        text = "Partial answer [1] that never" if truncated else item
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        words = text.split(" ")
        for i, word in enumerate(words):
            delta = {"content": word + (" " if i < len(words) - 1 else "")}
            chunk = {
                "id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            handler.wfile.flush()
        if truncated:
            handler.wfile.write(b'data: {"id": "chatcmpl-stub", "choices": [{"index": 0, "del')
            handler.wfile.flush()
            handler.close_connection = True
            return
        end = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
               "model": body.get("model", "stub"), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        handler.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        handler.wfile.flush()


def translating_quoter(translations: Mapping[str, Mapping[str, str]]) -> Callable[[dict], str]:
    """A scripted model for `OpenAIStub(default_reply=...)`, whatever order the calls come in.

    A request to translate a question (assistant/prompts/translate.txt) gets that question's entry
    of `translations` as the JSON object asked for ({} for any other question). Any other request is
    answered by quoting the first line of the prompt's source [1] (a FAQ row's answer, not its
    question), cited: what the customer sees then depends on what the retrieval put first.
    NO_ANSWER when the prompt has no source.
    """
    from assistant.generation import load_prompt

    opening = load_prompt("translate").split(":")[0]

    def reply(body: dict) -> str:
        prompt = prompt_text(body)
        if opening in prompt:
            question = prompt.rsplit("<question>", 1)[-1].split("</question>", 1)[0].strip()
            return json.dumps(dict(translations.get(question, {})), ensure_ascii=False)
        source = _SOURCE_1.search(prompt)
        if source is None:
            return "NO_ANSWER"
        lines = [line.strip() for line in source.group(1).splitlines()]
        line = next((line for line in lines if line and not line.startswith(("#", "Q: "))), "")
        return f"{line.removeprefix('A: ')} [1]" if line else "NO_ANSWER"

    return reply
