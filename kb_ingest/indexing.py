"""Incremental indexing: skip unchanged files, replace changed ones, remove vanished ones.

Built on LangChain's indexing API (`index()` with a record manager, incremental cleanup keyed on
`source`). A file-level content hash in front of it skips unchanged files before they are even
loaded, so re-ingesting an unchanged corpus computes no embeddings. A file that fails to load
keeps whatever it had in the index: nothing already indexed is lost to a bad upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.indexing import index

from assistant.config import Settings
from assistant.db import Database
from assistant.errors import IngestError, StoreUnavailableError
from assistant.store import VectorStore
from kb_ingest.calibrate import refresh_calibration
from kb_ingest.chunking import split_documents
from kb_ingest.loaders import file_sha256, load_file
from kb_ingest.records import (
    FailedFile,
    FailureTable,
    FileTable,
    IndexedFile,
    clear_records,
    group_counts,
    import_legacy_records,
    make_record_manager,
)
from kb_ingest.views import sync_views
from kb_ingest.writelock import writer_lock

logger = logging.getLogger(__name__)

ADDED, UPDATED, UNCHANGED, REMOVED, FAILED = "added", "updated", "unchanged", "removed", "failed"
EMBED_BATCH = 64


@dataclass(frozen=True, slots=True)
class FileResult:
    source: str
    status: str          # added | updated | unchanged | removed | failed
    chunks: int = 0
    reason: str = ""
    known: bool = False  # failed: the same content failed before (reported then; not news now)


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The diff one ingest run made, for the CLI summary and the Content page."""

    files: tuple[FileResult, ...]
    chunks_added: int = 0
    chunks_deleted: int = 0
    chunks_skipped: int = 0
    seconds: float = 0.0

    def sources(self, status: str) -> list[FileResult]:
        return [f for f in self.files if f.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.sources(s)) for s in (ADDED, UPDATED, REMOVED, UNCHANGED, FAILED)}

    @property
    def ok(self) -> bool:
        """No new failure: a file that failed before and has not changed since does not fail the run again."""
        return not any(not f.known for f in self.sources(FAILED))

    def to_dict(self) -> dict:
        return {
            **self.counts,
            "chunks_added": self.chunks_added,
            "chunks_deleted": self.chunks_deleted,
            "chunks_skipped": self.chunks_skipped,
            "seconds": round(self.seconds, 3),
            "errors": [{"source": f.source, "reason": f.reason, "known": f.known} for f in self.sources(FAILED)],
            "files": [asdict(f) for f in self.files],
        }


@dataclass
class _Run:
    """Mutable bookkeeping for one run."""

    results: list[FileResult] = field(default_factory=list)
    pending: dict[str, IndexedFile] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)          # source -> sha256 of the file
    failed_before: dict[str, FailedFile] = field(default_factory=dict)
    loaded: list[str] = field(default_factory=list)                # sources that loaded: failures cleared


ProgressFn = Callable[[int, int, str], None]  # (files done, files total, current source)


class Indexer:
    """Keeps one Chroma collection in step with one or more folders of help-centre files."""

    def __init__(
        self, settings: Settings, store: VectorStore, db: Database | None = None, embeddings: Embeddings | None = None
    ) -> None:
        """`embeddings`: an embedder of the indexer's own (the app passes one), so a long ingest never
        holds the embedder that customers' questions wait for; default: the store's."""
        self.settings = settings
        self.store = store
        self.embeddings = embeddings
        self.db = db if db is not None else Database.from_settings(settings)
        import_legacy_records(self.db, settings.legacy_records_path)
        namespace = index_namespace(settings)
        self.records = make_record_manager(self.db, namespace)
        self.files = FileTable(namespace, self.db)
        self.failures = FailureTable(namespace, self.db)

    # ---- public API -------------------------------------------------------------------------

    def ingest(self, path: Path | None = None, reset: bool = False, progress: ProgressFn | None = None) -> IngestReport:
        """Bring the index in line with `path` (default: the corpus directory), as the only writer."""
        with writer_lock(self.settings.data_dir, database=self.db, scope=self.records.namespace):
            self.store.generation()  # follow what another process wrote before writing on top of it
            return self._ingest(path, reset, progress)

    def _ingest(self, path: Path | None, reset: bool, progress: ProgressFn | None) -> IngestReport:
        started = time.perf_counter()
        target = Path(path) if path is not None else self.settings.corpus_dir
        if reset:
            self.store.reset()
            clear_records(self.db, self.records.namespace)
            self.files.clear()
            self.failures.clear()
        if not target.exists():
            return IngestReport(
                files=(FileResult(str(target), FAILED,
                                  reason=f"Expected a file or folder at {target}, found nothing."),),
                seconds=time.perf_counter() - started,
            )
        base = self._base_for(target)
        run = _Run(failed_before={f.source: f for f in self.failures.all(root=str(base))})
        orphaned = self._remove_orphans(base, run)
        paths = self._scan(target, base, run)
        changed = self._classify(paths, base, run)
        try:
            result = index(
                self._documents(changed, base, run, progress, len(paths)),
                self.records,
                self._vector_store(),
                batch_size=EMBED_BATCH,
                cleanup="incremental",
                source_id_key="source",
                key_encoder=_chunk_key,
            )
        except Exception as exc:
            self._raise_if_store_down(exc)
            raise
        self._commit(run)
        deleted = orphaned + result["num_deleted"] + self._remove_vanished(target, base, paths, run)
        # Also fills in views for an index built before them; embedded like the chunks (the indexer's embedder).
        views_changed = any(sync_views(self.store, self.embeddings))
        recalibrated = refresh_calibration(self.store, self.settings)
        if result["num_added"] or deleted or views_changed or recalibrated:
            self.store.bump_generation()
        run.results.sort(key=lambda r: r.source)
        return IngestReport(
            files=tuple(run.results),
            chunks_added=result["num_added"],
            chunks_deleted=deleted,
            chunks_skipped=result["num_skipped"],
            seconds=time.perf_counter() - started,
        )

    def remove_source(self, source: str) -> int:
        """Delete one source's chunks from the index; returns how many chunks went."""
        with writer_lock(self.settings.data_dir, database=self.db, scope=self.records.namespace):
            self.store.generation()
            removed = self._delete_group(source)
            for entry in self.files.all():
                if entry.source == source:
                    self.files.delete(entry.root, source)
            sync_views(self.store, self.embeddings)
            refresh_calibration(self.store, self.settings)
            if removed:
                self.store.bump_generation()
            return removed

    def indexed_files(self) -> list[IndexedFile]:
        return self.files.all()

    def orphan_sources(self) -> dict[str, int]:
        """Sources with chunks in the index that no indexed file accounts for, with their chunk counts.

        An ingest killed after some batches of a new file were written leaves such chunks: the
        record manager knows them, the files table (written only when a run completes) does not.
        """
        indexed = {f.source for f in self.files.all()}
        return {group: n for group, n in group_counts(self.db, self.records.namespace).items() if group not in indexed}

    def failed_files(self) -> list[FailedFile]:
        """Files of the corpus that could not be indexed when last tried (reason and since when)."""
        return self.failures.all(root=str(self.settings.corpus_dir.resolve()))

    def forget_failure(self, source: str) -> None:
        """Drop the failure record of `source` (its file was deleted or replaced)."""
        for entry in self.failures.all():
            if entry.source == source:
                self.failures.delete(entry.root, entry.source)

    # ---- steps ------------------------------------------------------------------------------

    def _base_for(self, target: Path) -> Path:
        """Sources are relative to the corpus dir when the target is inside it, else to the target's parent."""
        corpus = self.settings.corpus_dir.resolve()
        resolved = target.resolve()
        if resolved == corpus or corpus in resolved.parents:
            return corpus
        return resolved.parent

    @staticmethod
    def _scan(target: Path, base: Path, run: _Run) -> list[Path]:
        """Files to consider; links that lead outside the corpus are reported, never followed."""
        if target.is_file():
            candidates = [target]
        else:
            candidates = sorted(
                p for p in target.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(target).parts)
            )
        paths = []
        for p in candidates:
            resolved = p.resolve()
            if base in resolved.parents:
                paths.append(resolved)
            else:
                source = p.absolute().relative_to(base).as_posix() if base in p.absolute().parents else p.name
                run.results.append(FileResult(source, FAILED, reason="link points outside the corpus; not indexed"))
        return paths

    def _raise_if_store_down(self, exc: Exception) -> None:
        """Turn a lost vector store mid-run into StoreUnavailableError (other errors pass through)."""
        if isinstance(exc, StoreUnavailableError):
            raise exc
        try:
            self.store.client.heartbeat()
        except Exception:
            raise StoreUnavailableError(
                "The vector store stopped answering during the ingest; files not finished will be "
                "indexed on the next run once it is back."
            ) from exc

    def _classify(self, paths: list[Path], base: Path, run: _Run) -> list[Path]:
        """Record unchanged files straight away; return the ones that need loading."""
        changed = []
        for p in paths:
            source = p.relative_to(base).as_posix()
            known = self.files.get(str(base), source)
            try:
                digest = file_sha256(p)
            except OSError as exc:
                run.results.append(FileResult(source, FAILED, reason=f"cannot read file: {exc.strerror}"))
                continue
            if known and known.sha256 == digest:
                run.results.append(FileResult(source, UNCHANGED, known.chunks))
                if source in run.failed_before:  # e.g. junk written over an indexed file, then restored
                    run.loaded.append(source)
            else:
                run.digests[source] = digest
                changed.append(p)
        return changed

    def _documents(
        self, changed: list[Path], base: Path, run: _Run, progress: ProgressFn | None, total: int
    ) -> Iterator[Document]:
        """Load and chunk changed files lazily, so index() embeds while we read."""
        done = total - len(changed)
        for p in changed:
            source = p.relative_to(base).as_posix()
            if progress:
                progress(done, total, source)
            try:
                chunks = chunk_file(p, base, self.settings)
                if not chunks:
                    raise IngestError("no text to index after chunking")
            except IngestError as exc:
                self._record_failure(run, base, source, str(exc))
                done += 1
                continue
            except Exception as exc:  # a loader bug must not abort the whole run
                logger.exception("unexpected error loading %s", source)
                self._record_failure(run, base, source, f"unexpected error ({type(exc).__name__})")
                done += 1
                continue
            run.loaded.append(source)
            known = self.files.get(str(base), source)
            run.results.append(FileResult(source, UPDATED if known else ADDED, len(chunks)))
            first = chunks[0].metadata
            stat = p.stat()
            run.pending[source] = IndexedFile(
                root=str(base), source=source, sha256=str(first["content_hash"]), size=stat.st_size,
                mtime=stat.st_mtime, chunks=len(chunks), language=_majority(c.metadata["language"] for c in chunks),
                title=str(first.get("title", "")), kind=str(first.get("kind", "doc")), indexed_at=time.time(),
            )
            done += 1
            yield from chunks
        if progress:
            progress(total, total, "")

    def _record_failure(self, run: _Run, base: Path, source: str, reason: str) -> None:
        """Report a file that did not load; the same content failing again is reported as known, not new."""
        digest = run.digests.get(source, "")
        before = run.failed_before.get(source)
        known = before is not None and before.sha256 == digest
        self.failures.put(FailedFile(
            root=str(base), source=source, sha256=digest, reason=reason,
            failed_at=before.failed_at if known else time.time(),
        ))
        run.results.append(FileResult(source, FAILED, reason=reason, known=known))

    def _commit(self, run: _Run) -> None:
        """Only after index() returned are the new hashes trusted (a crash midway re-does the files)."""
        for entry in run.pending.values():
            self.files.put(entry)
        for source in run.loaded:
            if source in run.failed_before:
                self.failures.delete(run.failed_before[source].root, source)

    def _remove_orphans(self, base: Path, run: _Run) -> int:
        """Delete orphaned chunks whose file is gone (a present file is simply indexed again by this run)."""
        deleted = 0
        for source, count in sorted(self.orphan_sources().items()):
            if (base / source).is_file():
                continue
            deleted += self._delete_group(source)
            run.results.append(FileResult(source, REMOVED, count, reason="left by an interrupted ingest"))
            logger.warning("removed %d chunks of %s left by an interrupted ingest", count, source)
        return deleted

    def _remove_vanished(self, target: Path, base: Path, paths: list[Path], run: _Run) -> int:
        if target.is_file():
            return 0
        present = {p.relative_to(base).as_posix() for p in paths}
        prefix = "" if target.resolve() == base else target.resolve().relative_to(base).as_posix() + "/"
        deleted = 0
        for entry in self.files.all(root=str(base)):
            if entry.source.startswith(prefix) and entry.source not in present:
                deleted += self._delete_group(entry.source)
                self.files.delete(entry.root, entry.source)
                run.results.append(FileResult(entry.source, REMOVED, entry.chunks))
        for failure in run.failed_before.values():
            if failure.source.startswith(prefix) and failure.source not in present:
                self.failures.delete(failure.root, failure.source)
        return deleted

    def _vector_store(self):
        """LangChain's view of the collection, embedding with the indexer's own embedder when it has one."""
        if self.embeddings is None or self.embeddings is self.store.embeddings:
            return self.store.langchain
        return self.store.langchain_with(self.embeddings)

    def _delete_group(self, source: str) -> int:
        keys = self.records.list_keys(group_ids=[source])
        if keys:
            self.store.langchain.delete(keys)
            self.records.delete_keys(keys)
        return len(keys)


def index_namespace(settings: Settings) -> str:
    """The record manager's namespace for the configured collection (also the name of its write lock)."""
    return f"chroma/{settings.collection}"


def chunk_file(path: Path, base: Path, settings: Settings) -> list[Document]:
    """Load one file and split it into index-ready chunks (raises IngestError for bad files)."""
    return split_documents(load_file(path, base, settings), settings.chunk_tokens, settings.chunk_overlap)


def _chunk_key(doc: Document) -> str:
    return str(doc.metadata["chunk_id"])


def _majority(values) -> str:
    counts: dict[str, int] = {}
    for v in values:
        counts[str(v)] = counts.get(str(v), 0) + 1
    return max(counts, key=counts.get) if counts else ""
