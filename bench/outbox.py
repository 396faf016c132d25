"""Webhook outbox under concurrent pollers (not a test; tests/test_webhook.py runs a short form).

Usage: python bench/outbox.py [--tickets 200] [--pollers 2] [--database sqlite|postgresql|URL]
                              [--delay-ms 5] [--time-limit 120] [--json]

N handoff tickets are queued in one database; P poller processes (each a `WebhookOutbox`, as each
app replica runs one) then deliver at the same moment to a local HTTP receiver that counts POSTs
and answers after --delay-ms. Reported: POSTs received, distinct tickets delivered, duplicate
deliveries (must be 0), entries left undelivered (must be 0), deliveries per poller, wall time.
`--database postgresql` starts a throwaway PostgreSQL server (tests/postgres.py). Everything is
local; every poller stops by itself at the time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.config import Settings  # noqa: E402
from assistant.handoff import TicketStore  # noqa: E402
from assistant.types import Turn  # noqa: E402
from assistant.webhook import WebhookOutbox  # noqa: E402


@dataclass
class OutboxReport:
    database: str
    tickets: int
    pollers: int
    posts: int = 0
    delivered_tickets: int = 0
    duplicates: int = 0
    undelivered: int = 0
    per_poller: list[int] = field(default_factory=list)
    seconds: float = 0.0
    timed_out: bool = False


class CountingReceiver:
    """A webhook target on 127.0.0.1 that records every POST's Idempotency-Key."""

    def __init__(self, delay_s: float) -> None:
        self.keys: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.keys.append(self.headers["Idempotency-Key"])
                time.sleep(delay_s)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _settings(database_url: str, webhook_url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=database_url, webhook_url=webhook_url, webhook_max_attempts=5)


def run_outbox(database_url: str, workdir: Path, tickets: int = 200, pollers: int = 2, delay_s: float = 0.005,
               time_limit_s: float = 120.0) -> OutboxReport:
    """Queue `tickets` handoffs, then let `pollers` processes deliver them at once; count what arrived."""
    receiver = CountingReceiver(delay_s)
    settings = _settings(database_url, receiver.url, workdir / "data")
    store, outbox = TicketStore(settings), WebhookOutbox(settings)
    for n in range(tickets):
        outbox.enqueue(store.create(f"bench-{n}", [Turn("user", f"question {n}")], "en"))
    start_at = time.time() + 3.0  # every poller has imported everything by then
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--poll", "--database", database_url, "--webhook-url", receiver.url,
             "--data-dir", str(workdir / "data"), "--start-at", str(start_at), "--time-limit", str(time_limit_s)],
            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        for _ in range(pollers)
    ]
    report = OutboxReport(database=database_url.split(":", 1)[0], tickets=tickets, pollers=pollers)
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=time_limit_s + 30)
            result = json.loads(out.strip().splitlines()[-1])
            report.per_poller.append(result["delivered"])
            report.timed_out |= result["timed_out"]
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            proc.kill()
            report.timed_out = True
    report.seconds = round(max(0.0, time.time() - start_at), 3)
    receiver.stop()
    counts = Counter(receiver.keys)
    report.posts = len(receiver.keys)
    report.delivered_tickets = len(counts)
    report.duplicates = sum(n - 1 for n in counts.values())
    report.undelivered = len(outbox.entries("pending")) + len(outbox.entries("failed"))
    return report


def _poll(database_url: str, webhook_url: str, data_dir: Path, start_at: float, time_limit_s: float) -> dict:
    """One poller process: deliver until nothing is left to deliver (or the time limit)."""
    outbox = WebhookOutbox(_settings(database_url, webhook_url, data_dir), timeout=10.0)
    time.sleep(max(0.0, start_at - time.time()))
    deadline = time.monotonic() + time_limit_s
    delivered = 0
    while time.monotonic() < deadline:
        delivered += outbox.deliver_pending().delivered
        if not outbox.entries("pending"):
            return {"delivered": delivered, "timed_out": False}
        time.sleep(0.01)  # the rest is leased by the other poller; look again shortly
    return {"delivered": delivered, "timed_out": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--pollers", type=int, default=2)
    parser.add_argument("--database", default="sqlite", help="sqlite, postgresql (a throwaway server) or a URL")
    parser.add_argument("--delay-ms", type=float, default=5.0, help="how long the receiver takes per POST")
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--poll", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--webhook-url", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.poll:
        print(json.dumps(_poll(args.database, args.webhook_url, Path(args.data_dir), args.start_at, args.time_limit)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-outbox-") as tmp:
        cluster = None
        url = args.database
        if url == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'data' / 'app.sqlite'}"
        elif url == "postgresql":
            from tests.postgres import PostgresCluster

            cluster = PostgresCluster.start()
            url = cluster.create_database()
        try:
            report = run_outbox(url, Path(tmp), args.tickets, args.pollers, args.delay_ms / 1000, args.time_limit)
        finally:
            if cluster is not None:
                cluster.stop()
    if args.json:
        print(json.dumps(asdict(report)))
    else:
        print(f"{report.database}: {report.tickets} tickets, {report.pollers} pollers -> {report.posts} POSTs, "
              f"{report.delivered_tickets} tickets delivered, {report.duplicates} duplicates, "
              f"{report.undelivered} undelivered, per poller {report.per_poller}, {report.seconds:.2f} s"
              + (" (TIMED OUT)" if report.timed_out else ""))
    return 0 if report.duplicates == 0 and report.undelivered == 0 and not report.timed_out else 1


if __name__ == "__main__":
    raise SystemExit(main())
