"""Item 11 of issue 12: a failed upload (a scan without text) stayed in uploads/ for good, could not be
removed from the Content page, made every later `kb ingest` exit 1, and a broken re-upload overwrote
a good file on disk.

Now an upload is loaded from a temporary copy first and saved only if it loads; an existing file is
replaced only when the writer ticks "Replace"; files that fail to index are listed on the Content
page (uploads with a delete button); a failure is reported as new once, and later runs with the same
content list it as "still failing" without failing the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant.config import Settings
from tests.e2e.corpus import WRITER
from tests.helpers import streamlit_app_env
from tests.reliability import bad_files as bf
from tests.reliability.conftest import CORPUS, kb_environment, run_kb, write_files
from ui.first_run import first_run_index
from ui.resources import fingerprint, load_resources

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
GOOD_PDF = bf.text_pdf("Loyalty points are added to your account 48 hours after delivery.")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with streamlit_app_env(tmp_path_factory.mktemp("failed-uploads")) as values:
        yield values


@pytest.fixture(scope="module")
def resources(env):
    AppTest.from_file(APP, default_timeout=60).run()
    settings = Settings.from_env()
    res = load_resources(settings, fingerprint(settings))
    assert first_run_index(res, fingerprint(settings)).wait(120)
    return res


def writer(env) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="sign_in_user").set_value(WRITER[0])
    at.text_input(key="sign_in_password").set_value(WRITER[1])
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert at.title[0].value == "Content"
    return at


def upload(at: AppTest, name: str, data: bytes, replace: bool = False) -> AppTest:
    at.file_uploader(key="content_files").set_value([(name, data, "application/octet-stream")])
    at.checkbox(key="content_replace").set_value(replace)
    next(b for b in at.button if b.label == "Upload and index").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def messages(at: AppTest) -> str:
    return " ".join(m.value for kind in (at.error, at.warning, at.success, at.info) for m in kind)


def test_a_scan_without_text_is_refused_and_never_saved(env, resources):
    uploads = Path(env["KB_CORPUS_DIR"]) / "uploads"
    at = upload(writer(env), "scanned-manual.pdf", bf.textless_pdf())
    assert "Not saved" in messages(at) and "no text layer" in messages(at)
    assert not (uploads / "scanned-manual.pdf").exists()


def test_a_broken_re_upload_keeps_the_good_file_and_an_overwrite_needs_consent(env, resources):
    uploads = Path(env["KB_CORPUS_DIR"]) / "uploads"
    at = upload(writer(env), "loyalty.pdf", GOOD_PDF)
    assert (uploads / "loyalty.pdf").read_bytes() == GOOD_PDF
    upload(at, "loyalty.pdf", bf.textless_pdf(), replace=True)        # broken content: refused
    assert "no text layer" in messages(at) and (uploads / "loyalty.pdf").read_bytes() == GOOD_PDF
    newer = bf.text_pdf("Loyalty points are added to your account 24 hours after delivery.")
    upload(at, "loyalty.pdf", newer)                                   # good, but not ticked: a warning
    assert "already exists" in messages(at) and (uploads / "loyalty.pdf").read_bytes() == GOOD_PDF
    upload(at, "loyalty.pdf", newer, replace=True)
    assert (uploads / "loyalty.pdf").read_bytes() == newer
    assert {m.label: m.value for m in at.metric}["Updated"] == "1"


def test_failed_files_are_listed_and_a_failed_upload_can_be_deleted(env, resources):
    uploads = Path(env["KB_CORPUS_DIR"]) / "uploads"
    uploads.mkdir(exist_ok=True)
    (uploads / "old-scan.pdf").write_bytes(bf.textless_pdf())          # saved before uploads were checked
    at = writer(env)
    next(b for b in at.button if b.label.startswith("Reindex")).click().run()
    listed = at.dataframe[[i for i, d in enumerate(at.dataframe) if "reason" in d.value.columns][0]].value
    assert "uploads/old-scan.pdf" in set(listed["source"])
    at.selectbox(key="content_failed_source").set_value("uploads/old-scan.pdf")
    next(b for b in at.button if b.label == "Delete file").click().run()
    assert not (uploads / "old-scan.pdf").exists()
    assert "Deleted uploads/old-scan.pdf" in messages(at).replace("\\", "")
    assert "uploads/old-scan.pdf" not in {f.source for f in resources.indexer.failed_files()}


def test_a_failure_fails_the_run_once_then_is_listed_as_still_failing(tmp_path):
    settings = Settings(corpus_dir=write_files(tmp_path / "corpus", CORPUS), data_dir=tmp_path / "data")
    scan = settings.corpus_dir / "uploads" / "scan.pdf"
    with kb_environment(tmp_path, settings):
        assert run_kb("ingest")[0] == 0
        write_files(settings.corpus_dir, {"uploads/scan.pdf": bf.textless_pdf()})
        code, out, _ = run_kb("ingest", "--json")
        assert code == 1 and json.loads(out)["errors"][0]["known"] is False
        code, out, _ = run_kb("ingest")                                # unchanged: old news
        assert code == 0 and "STILL FAILING (unchanged since it failed) uploads/scan.pdf" in out
        scan.write_bytes(bf.encrypted_pdf())                           # changed and still broken: news again
        code, out, _ = run_kb("ingest")
        assert code == 1 and "  FAILED uploads/scan.pdf" in out
        scan.unlink()
        assert run_kb("ingest")[0] == 0
        scan.write_bytes(bf.encrypted_pdf())                           # back after being deleted: new again
        assert run_kb("ingest")[0] == 1
