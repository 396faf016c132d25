"""Small helpers shared by the test modules: fixture files, server processes, a webhook receiver, raw rows."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def write_file(path: Path, content: str | bytes) -> Path:
    """Write text (UTF-8) or bytes, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write {relative path: content} under `root`; returns `root`."""
    for relative, content in files.items():
        write_file(root / relative, content)
    return root


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a server started by a test, killing it if it does not exit in time."""
    proc.send_signal(signal.SIGCONT)  # a frozen (SIGSTOPped) server must be able to act on SIGTERM
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def raw_rows(database_url: str, query: str) -> list[tuple]:
    """Rows straight from the app database (SQLite or PostgreSQL), bypassing the product's code."""
    from sqlalchemy import create_engine, text

    from assistant.db import database_url as parse

    engine = create_engine(parse(database_url))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


class Receiver:
    """A webhook target whose replies are scripted: 200 unless told otherwise."""

    def __init__(self) -> None:
        self.script: list[tuple] = []          # ("status", code, headers) or ("hang", seconds)
        self.received: list[tuple[dict, dict]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tickets"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), json.loads(body)))
                action = receiver.script.pop(0) if receiver.script else ("status", 200, {})
                if action[0] == "hang":
                    time.sleep(action[1])
                    return
                self.send_response(action[1])
                for name, value in action[2].items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chroma_executable() -> str:
    found = Path(sys.executable).with_name("chroma")
    if found.exists():
        return str(found)
    path = shutil.which("chroma")
    assert path, "the chroma CLI (from the chromadb package) must be installed"
    return path


def start_chroma(data: Path, port: int) -> subprocess.Popen:
    """A real `chroma run` server on 127.0.0.1:`port`, storing in `data`; returns once it accepts connections."""
    proc = subprocess.Popen(
        [chroma_executable(), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start within 60 s")


@contextlib.contextmanager
def streamlit_app_env(tmp: Path, **overrides: str):
    """Environment for `ui/app.py` under AppTest: the tiny e2e corpus, a fresh data dir, a fresh resource cache."""
    import streamlit as st

    from tests.e2e.corpus import app_env

    values = {**app_env(tmp), **overrides}
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    st.cache_resource.clear()
    try:
        yield values
    finally:
        st.cache_resource.clear()
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
