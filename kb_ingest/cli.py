"""The `kb` command line: ingest, sources, search, ask, users, db, report, eval."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path

from assistant.config import Settings
from assistant.errors import KBError
from kb_ingest import cli_admin, cli_answers, cli_report

logger = logging.getLogger("kb")
PLUGIN_GROUP = "kb.commands"  # installed packages add subcommands here: register(subparsers)


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _open_store(settings: Settings, reset: bool = False, background: bool = False):
    from assistant.models import make_embeddings
    from assistant.store import open_store

    return open_store(settings, make_embeddings(settings, background=background), reset=reset)


# ---- kb ingest ------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.db import Database
    from kb_ingest.indexing import index_namespace
    from kb_ingest.writelock import writer_lock

    # One writer at a time (the app's uploads and other machines included); a reset happens under the same hold.
    db = Database.from_settings(settings)
    with writer_lock(settings.data_dir, database=db, scope=index_namespace(settings)):
        return _ingest(args, settings, db)


def _ingest(args: argparse.Namespace, settings: Settings, db) -> int:
    from kb_ingest.indexing import Indexer

    store = _open_store(settings, reset=args.reset, background=True)  # yields the CPU to an app beside it
    indexer = Indexer(settings, store, db)
    bar = None
    if not args.json and sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="file", file=sys.stderr, leave=False)

    def progress(done: int, total: int, source: str) -> None:
        if bar is None:
            return
        bar.total = total
        bar.n = done
        bar.set_postfix_str(source[-40:])
        bar.refresh()

    # reset=True also forgets the records of what was indexed, or nothing would be re-embedded.
    report = indexer.ingest(Path(args.path) if args.path else None, reset=args.reset, progress=progress)
    if bar is not None:
        bar.close()
    if args.json:
        _out(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        c = report.counts
        _out(
            f"Indexed in {report.seconds:.1f}s: {c['added']} added, {c['updated']} updated, "
            f"{c['removed']} removed, {c['unchanged']} unchanged, {c['failed']} failed files; "
            f"{report.chunks_added} chunks embedded, {report.chunks_deleted} deleted, "
            f"{store.count()} in the index."
        )
        for failure in report.sources("failed"):
            if failure.known:  # reported when it first failed; not a reason to fail this run again
                _out(f"  STILL FAILING (unchanged since it failed) {failure.source}: {failure.reason}")
            else:
                _out(f"  FAILED {failure.source}: {failure.reason}")
    return 0 if report.ok else 1


# ---- kb sources -----------------------------------------------------------------------------


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from kb_ingest.indexing import Indexer

    indexer = Indexer(settings, _open_store(settings))
    entries = indexer.indexed_files()
    if args.json:
        _out(json.dumps([asdict(e) for e in entries], ensure_ascii=False))
        return 0
    if not entries:
        _out("The index is empty. Run `kb ingest` to index docs_corpus/.")
        return 0
    width = max(len(e.source) for e in entries)
    _out(f"{'SOURCE'.ljust(width)}  CHUNKS  LANG  KIND      INDEXED")
    for e in entries:
        when = datetime.fromtimestamp(e.indexed_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        _out(f"{e.source.ljust(width)}  {e.chunks:6d}  {e.language:4s}  {e.kind:8s}  {when}")
    _out(f"{len(entries)} sources, {sum(e.chunks for e in entries)} chunks.")
    return 0


# ---- kb search ------------------------------------------------------------------------------


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.retrieval import make_retriever

    question = args.question.strip()
    if not question:
        _err("Expected a question to search for, got an empty string.")
        return 2
    retriever = make_retriever(settings, _open_store(settings))
    result = retriever.retrieve(question, k=args.k)
    rows = [
        {
            "chunk_id": r.chunk.chunk_id,
            "source": r.chunk.source,
            "page": r.chunk.page,
            "language": r.chunk.language,
            "score": round(r.score, 4),
            "dense": round(r.dense_score, 4),
            "lexical": round(r.lexical_score, 4),
            "text": r.chunk.text,
        }
        for r in result.chunks
    ]
    if args.json:
        _out(json.dumps({"question": question, "language": result.language, "results": rows}, ensure_ascii=False))
        return 0
    for i, row in enumerate(rows, 1):
        page = f" p.{row['page']}" if row["page"] else ""
        _out(f"[{i}] {row['score']:.4f}  {row['source']}{page}  ({row['language']})  {row['chunk_id']}")
        _out("    " + row["text"][:300].replace("\n", " "))
    if not rows:
        _out("No results: the index is empty. Run `kb ingest` first.")
    return 0


# ---- wiring ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="Help-centre knowledge base and assistant.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index a folder (default: the corpus dir) incrementally")
    p.add_argument("path", nargs="?", help="file or folder to index (default: KB_CORPUS_DIR)")
    p.add_argument("--reset", action="store_true", help="drop the index and rebuild it from scratch")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sources", help="list indexed sources")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("search", help="retrieval only: show the chunks a question finds")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    cli_answers.register(sub)  # ask
    cli_admin.register(sub)    # users, db
    cli_report.register(sub)   # report
    for command in entry_points(group=PLUGIN_GROUP):  # e.g. `kb eval`, from the evaluation harness
        try:
            command.load()(sub)
        except Exception:  # a broken plugin must not take `kb ingest` down with it
            logger.warning("could not load the `kb %s` command from %s", command.name, command.value, exc_info=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env()
        return args.func(args, settings)
    except KBError as exc:
        _err(f"error: {exc}")
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        return 0
    except KeyboardInterrupt:
        _err("interrupted; the index keeps what was fully written.")
        return 130


if __name__ == "__main__":
    sys.exit(main())
