"""Content (doc writers): upload and index articles, reindex the corpus, remove sources, article health, gaps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import streamlit as st

from assistant.config import Settings
from kb_ingest.indexing import IngestReport
from kb_ingest.loaders import SUPPORTED_EXTENSIONS
from ui import access
from ui.export import download_csv
from ui.gaps import unanswered_groups
from ui.render import diff_rows, escape_inline, format_time, group_rows, source_rows
from ui.resources import Resources
from ui.uploads import UPLOADS_FOLDER, UploadRejected, check_upload, save_upload, upload_path, validate_upload
from ui.views.article_health import render_article_health

logger = logging.getLogger(__name__)

REPORT, FLASH = "content_report", "content_flash"


def render(settings: Settings, res: Resources) -> None:
    if not access.allowed("content"):
        return
    st.title("Content")
    _upload_section(settings, res)
    st.divider()
    _reindex_section(settings, res)
    _show_report()
    st.divider()
    _sources_section(settings, res)
    _failed_section(settings, res)
    st.divider()
    render_article_health(settings, res)
    st.divider()
    _gaps_section(res)


# ---- upload -----------------------------------------------------------------------------------


def _upload_section(settings: Settings, res: Resources) -> None:
    st.subheader("Upload articles")
    extensions = sorted(ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS)
    st.caption(f"{', '.join(extensions)} · at most {settings.max_file_mb} MB each · saved under `{UPLOADS_FOLDER}/`")
    with st.form("content_upload", clear_on_submit=True):
        files = st.file_uploader(
            "Files", type=extensions, accept_multiple_files=True, key="content_files",
            max_upload_size=settings.max_file_mb,
        )
        replace = st.checkbox(f"Replace files of the same name in {UPLOADS_FOLDER}/", key="content_replace")
        submitted = st.form_submit_button("Upload and index", type="primary")
    if submitted:
        _save_and_index(settings, res, files or [], replace)


def _save_and_index(settings: Settings, res: Resources, files, replace: bool = False) -> None:
    if not files:
        st.warning("Expected at least one file; choose files above first.")
        return
    saved: list[Path] = []
    for upload in files:
        data = upload.getvalue()
        try:
            name = check_upload(upload.name, data, settings.max_file_mb)
            if upload_path(settings.corpus_dir, name).exists() and not replace:
                st.warning(
                    f"Not saved: {UPLOADS_FOLDER}/{escape_inline(name)} already exists. Tick “Replace files of the "
                    "same name” and upload again to overwrite it."
                )
                continue
            validate_upload(name, data, settings)  # loads a temporary copy: the real file changes only if it loads
            saved.append(save_upload(settings.corpus_dir, name, data))
        except UploadRejected as exc:
            st.error(f"Not saved: {escape_inline(str(exc))}")
        except OSError:
            logger.exception("could not save upload")
            st.error("Not saved: the file could not be written; see the server log.")
    for path in saved:
        _run_ingest(res, path, f"Indexing {path.name}…")


# ---- reindex ----------------------------------------------------------------------------------


def _reindex_section(settings: Settings, res: Resources) -> None:
    st.subheader("Reindex")
    name = Path(settings.corpus_dir).name or str(settings.corpus_dir)
    if st.button(f"Reindex {name}", key="content_reindex"):
        _run_ingest(res, None, "Reindexing…")


def _run_ingest(res: Resources, path: Path | None, label: str) -> None:
    """Ingest with a progress bar; the diff is kept in the session and shown below."""
    bar = st.progress(0.0, text=label)

    def progress(done: int, total: int, source: str) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{label} {done}/{total} {source}".strip())

    try:
        with res.ingest_lock:
            report = res.indexer.ingest(path, progress=progress)
    except Exception:
        logger.exception("ingest failed")
        bar.empty()
        st.error("Indexing failed unexpectedly; nothing already indexed was removed. See the server log.")
        return
    bar.progress(1.0, text="Done")
    st.session_state[REPORT] = report


def _show_report() -> None:
    report: IngestReport | None = st.session_state.get(REPORT)
    if report is None:
        return
    st.markdown("**Last indexing run**")
    columns = st.columns(5)
    for column, (status, count) in zip(columns, report.counts.items(), strict=False):
        column.metric(status.capitalize(), count)
    st.caption(
        f"{report.chunks_added} chunks embedded, {report.chunks_deleted} deleted, "
        f"{report.chunks_skipped} unchanged, in {report.seconds:.1f}s"
    )
    changed = [f for f in report.files if f.status != "unchanged"]
    if changed:
        st.dataframe(diff_rows(changed), hide_index=True)
    for failure in report.sources("failed"):
        still = "still failing (unchanged): " if failure.known else ""
        st.error(f"{escape_inline(failure.source)}: {still}{escape_inline(failure.reason)}")


# ---- indexed sources --------------------------------------------------------------------------


def _sources_section(settings: Settings, res: Resources) -> None:
    st.subheader("Indexed sources")
    _show_flash()
    indexed = res.indexer.indexed_files()
    orphans = res.indexer.orphan_sources()
    if not indexed and not orphans:
        st.info("Nothing is indexed yet. Upload files or reindex the corpus.")
        return
    if indexed:
        rows = source_rows(indexed)
        st.dataframe(rows, hide_index=True)
        download_csv(rows, "indexed-sources.csv", key="content_sources_download")
    if orphans:
        listed = ", ".join(f"{escape_inline(source)} ({count} chunks)" for source, count in sorted(orphans.items()))
        st.warning(
            f"Left by an interrupted indexing run, still searchable: {listed}. Remove them below; a reindex "
            "also removes those whose file is gone and finishes the others."
        )
    sources = sorted({f.source for f in indexed} | set(orphans))
    with st.form("content_remove"):
        source = st.selectbox(
            "Source", sources, key="content_remove_source",
            format_func=lambda s: f"{s} (interrupted indexing run)" if s in orphans else s,
        )
        removed = st.form_submit_button("Remove source")
    if removed and source:
        _remove(settings, res, source)
        st.rerun()


def _remove(settings: Settings, res: Resources, source: str) -> None:
    try:
        with res.ingest_lock:
            chunks = res.indexer.remove_source(source)
    except Exception:
        logger.exception("could not remove %s", source)
        st.session_state[FLASH] = ("error", f"Could not remove {escape_inline(source)}; see the server log.")
        return
    note = ""
    corpus = Path(settings.corpus_dir).resolve()
    path = (corpus / source).resolve()
    uploads = corpus / UPLOADS_FOLDER
    if path.parent == uploads and path.is_file():
        path.unlink()  # we own uploads/: the file goes too, or the next reindex would bring it back
        note = " The uploaded file was deleted too."
    elif path.is_file():
        note = " The file is still in the corpus folder: delete it there, or the next reindex adds it again."
    st.session_state[FLASH] = ("success", f"Removed {escape_inline(source)} ({chunks} chunks).{note}")


def _failed_section(settings: Settings, res: Resources) -> None:
    """Files that could not be indexed when last tried; uploads among them can be deleted here."""
    failed = res.indexer.failed_files()
    if not failed:
        return
    st.markdown("**Files that could not be indexed**")
    st.dataframe(
        [{"source": f.source, "reason": f.reason, "since": format_time(datetime.fromtimestamp(f.failed_at, tz=UTC))}
         for f in failed],
        hide_index=True,
    )
    uploads = [f.source for f in failed if f.source.startswith(f"{UPLOADS_FOLDER}/")]
    if len(uploads) < len(failed):
        st.caption("Files outside uploads/ are fixed or deleted in the corpus folder; the next reindex notices.")
    if not uploads:
        return
    with st.form("content_failed"):
        source = st.selectbox("Failed upload", uploads, key="content_failed_source")
        deleted = st.form_submit_button("Delete file")
    if deleted and source:
        _delete_failed_upload(settings, res, source)
        st.rerun()


def _delete_failed_upload(settings: Settings, res: Resources, source: str) -> None:
    try:
        upload_path(settings.corpus_dir, source.removeprefix(f"{UPLOADS_FOLDER}/")).unlink(missing_ok=True)
        res.indexer.forget_failure(source)
    except (OSError, UploadRejected):
        logger.exception("could not delete %s", source)
        st.session_state[FLASH] = ("error", f"Could not delete {escape_inline(source)}; see the server log.")
        return
    st.session_state[FLASH] = ("success", f"Deleted {escape_inline(source)}.")


def _show_flash() -> None:
    flash = st.session_state.pop(FLASH, None)
    if flash:
        getattr(st, flash[0])(flash[1])


# ---- unanswered questions ---------------------------------------------------------------------


def _gaps_section(res: Resources) -> None:
    st.subheader("Unanswered customer questions")
    days = st.selectbox(
        "Period", (7, 30, 90, 365), index=1, key="content_gap_days", format_func=lambda d: f"last {d} days"
    )
    try:
        total, groups = unanswered_groups(res, since=datetime.now(UTC) - timedelta(days=days))
    except Exception:
        logger.exception("could not group unanswered questions")
        st.error("Could not load the unanswered questions; see the server log.")
        return
    if not groups:
        st.info("No unanswered questions in this period.")
        return
    st.caption(f"{total} questions in {len(groups)} groups, most asked first.")
    rows = group_rows(groups)
    st.dataframe(rows, hide_index=True)
    download_csv(rows, "unanswered-questions.csv", key="content_gaps_download")
