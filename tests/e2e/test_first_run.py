"""Item 20 of issue 12: the first start with an empty data dir (a real `streamlit run`, a real Chromium).

Before: the Help page stayed a blank skeleton (a spinner) for the whole first-run ingest, about 47 s
for the sample corpus. Now it renders at once with a progress message while the corpus is indexed
in the background, and a question asked meanwhile is answered, with its citation, once it is ready.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from tests.e2e.browser import ROOT, launch_chromium, start_app
from tests.e2e.corpus import app_env
from tests.helpers import stop_process

pytestmark = pytest.mark.browser

# Enough of the sample help centre that indexing takes a while on any machine (~150 chunks).
SAMPLE = ("returns-and-refunds.md", "shipping-and-delivery.html", "billing-and-payments.md", "gift-cards.md",
          "orders-and-tracking.md", "accounts-and-login.md", "privacy-and-data.md", "security-and-fraud.md")


@pytest.fixture
def fresh_server(tmp_path):
    env = {**app_env(tmp_path), "KB_CHUNK_TOKENS": "96", "KB_CHUNK_OVERLAP": "16"}
    for name in SAMPLE:
        shutil.copy(ROOT / "docs_corpus" / "docs" / name, Path(env["KB_CORPUS_DIR"]) / "docs" / name)
    assert not Path(env["KB_DATA_DIR"]).exists()
    proc, url = start_app(env, tmp_path / "streamlit.log")
    try:
        yield url
    finally:
        stop_process(proc, timeout=20)


def test_help_renders_during_the_first_run_ingest_and_answers_once_ready(fresh_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(fresh_server)
            # The page itself, with the progress message, before the ingest is done.
            page.get_by_role("heading", name="How can we help?").wait_for(timeout=60_000)
            progress = page.get_by_text("We are getting the help centre ready")
            progress.wait_for(timeout=30_000)
            assert re.search(r"\(\d+ of (\d+|…) articles\)", progress.inner_text())
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill("How long do refunds take to reach my card?")
            box.press("Enter")
            asked = time.monotonic()
            # Answered once the index is ready: the progress message goes and the reply cites a source.
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=stChatMessage]').length >= 2", timeout=600_000
            )
            reply = page.get_by_test_id("stChatMessage").last
            reply.get_by_text(re.compile(r"^\[1\] ")).first.wait_for(timeout=60_000)
            assert "working days" in reply.inner_text() or "business days" in reply.inner_text()
            progress.wait_for(state="detached", timeout=30_000)
            assert time.monotonic() - asked < 600
        finally:
            browser.close()
