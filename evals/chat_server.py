"""A local OpenAI-compatible chat-completions endpoint whose replies come from a Python function.

The evaluation harness points a real `ChatOpenAI` client (assistant.models.make_chat_model) at it, so
an evaluation with a scripted "model" (gold translations, a quoting answerer) runs through the same
client, prompts and parsing as production. Streamed and plain replies, both ending with
finish_reason "stop". Serves 127.0.0.1 only, on a free port.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from assistant.config import Settings

logger = logging.getLogger(__name__)

Responder = Callable[[str], str]  # the request's messages, joined -> the reply text


def prompt_text(body: dict) -> str:
    """Every message's text in the request, in order, joined by blank lines."""
    parts = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        parts.append(content if isinstance(content, str) else "")
    return "\n\n".join(parts)


class LocalChatServer:
    """`with LocalChatServer(respond) as server:` serves /v1/chat/completions; `server.requests` counts calls."""

    def __init__(self, respond: Responder, model: str = "local-eval-model") -> None:
        self.respond = respond
        self.model = model
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # one line per request would drown the report
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests += 1
                try:
                    reply = server.respond(prompt_text(body))
                except Exception:  # a responder bug is a 500, as a real provider's would be
                    logger.exception("local chat server responder failed")
                    self._send(500, b'{"error": {"message": "responder failed"}}')
                    return
                if body.get("stream"):
                    self._stream(reply)
                else:
                    self._send(200, json.dumps(server._completion(reply)).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for delta, finish in (({"role": "assistant", "content": reply}, None), ({}, "stop")):
                    chunk = server._chunk(delta, finish)
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-chat-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def settings(self, base: Settings | None = None) -> Settings:
        """`base` (default: defaults) with the chat model pointed at this server."""
        return (base or Settings()).with_overrides(
            openai_base_url=self.base_url, openai_api_key="not-needed", chat_model=self.model)

    def __enter__(self) -> LocalChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _completion(self, reply: str) -> dict:
        return {
            "id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()), "model": self.model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply}}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }

    def _chunk(self, delta: dict, finish: str | None) -> dict:
        return {
            "id": "chatcmpl-local", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": self.model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
