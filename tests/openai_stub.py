"""A local OpenAI-compatible chat server for tests: scripted replies and scripted failures."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIStub:
    """Serves /v1/chat/completions on 127.0.0.1; `script` holds what the next requests get.

    Each script item is a reply text, or one of the failure modes:
    "500", "429", "malformed", "stall", "truncated".
    """

    def __init__(self, default_reply: str = "NO_ANSWER") -> None:
        self.default_reply = default_reply
        self.script: deque[str] = deque()
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
                stub._respond(self, body, item)

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
