"""The real app (`streamlit run ui/app.py`) in Debian's headless Chromium, driven by Playwright.

Fails (does not skip) when /usr/bin/chromium is missing: install it with `apt-get install chromium`.
Playwright never downloads a browser here: it is always given Debian's executable.
Screenshots of every page go to a temp folder; with KB_UPDATE_SCREENSHOTS=1 they refresh the
README's images in docs/screenshots/ (so a plain test run leaves the work tree clean).
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.cx.figures import week_start
from tests.cx_seed import Clock, Seeder
from tests.cx_story import seed_two_weeks
from tests.e2e.browser import ROOT, STEP_MS, ask, go_to, sign_in, start_app, wait_idle
from tests.e2e.corpus import GIFT_CARDS, STAFF, WRITER, app_env
from tests.helpers import stop_process

pytestmark = pytest.mark.browser

SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("KB_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "kb-screenshots"
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A streamlit server on a free port, with a temp data dir and the tiny corpus."""
    tmp = tmp_path_factory.mktemp("e2e")
    env = app_env(tmp)
    seed_history(Settings.from_env({**os.environ, **env}, dotenv=False))
    log = tmp / "streamlit.log"
    proc, url = start_app(env, log)
    try:
        yield {"url": url, "corpus": Path(env["KB_CORPUS_DIR"]), "log": log, "tmp": tmp}
    finally:
        stop_process(proc, timeout=20)


def seed_history(settings: Settings) -> None:
    """Eight weeks of customer conversations (tests/cx_story.py, told three times), for Insights and Content."""
    this_week = week_start(datetime.now(UTC))
    seed = Seeder(settings, Clock())
    for weeks_ago in (8, 6, 4):
        seed_two_weeks(seed, this_week - timedelta(weeks=weeks_ago) + timedelta(hours=9), tag=f"-{weeks_ago}")
    seed.db.close()


@pytest.fixture
def open_app(app, browser):
    """A fresh browser context (= a fresh Streamlit session) on the app's home page."""
    contexts = []

    def opener(path: str = ""):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(STEP_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{app['url']}/{path}")
        page.get_by_text("An AI assistant answers here", exact=False).first.wait_for()
        return page

    yield opener
    for context in contexts:
        context.close()


def shoot(page, name: str) -> None:
    """Screenshot the whole page: Streamlit scrolls inside its own container, so grow the viewport first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => (document.querySelector('[data-testid=stMainBlockContainer]') || document.body).scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 160), 3000)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size(size)


# ---- scenarios ------------------------------------------------------------------------------


def test_staff_pages_are_unreachable_without_sign_in(open_app):
    page = open_app()
    assert page.get_by_test_id("stSidebarNav").count() == 0  # only Help: no page list at all
    for title in ("Workbench", "Handoffs", "Content", "Insights"):
        page = open_app(title.lower())
        wait_idle(page)
        assert page.get_by_role("heading", name=title, exact=True).count() == 0, title
        assert page.get_by_text("How can we help?").count() == 1


def test_question_gets_a_cited_answer(open_app):
    page = open_app()
    reply = ask(page, "How long do refunds take to reach my card?")
    assert "5 to 10 working days" in reply.inner_text()
    source = reply.get_by_text(re.compile(r"^\[1\] Refunds"))
    source.click()
    reply.get_by_text("Source: docs/refunds.md").wait_for()
    assert reply.locator("blockquote").first.inner_text().startswith("Refunds go back to the card")
    assert page.get_by_role("button", name="Talk to a person").is_visible()
    page.wait_for_timeout(500)  # let the expander finish opening before the screenshot
    shoot(page, "help")


def test_arabic_question_gets_a_right_to_left_answer(open_app):
    page = open_app()
    reply = ask(page, "كم يستغرق التوصيل القياسي؟")
    block = reply.locator('div[dir="rtl"]').first
    assert block.evaluate("e => getComputedStyle(e).direction") == "rtl"
    assert "أيام" in block.inner_text()
    # The interface follows the answer's language.
    page.get_by_role("button", name="تحدّث مع شخص").wait_for()


def test_asking_for_an_agent_puts_the_ticket_in_the_handoffs_queue(open_app):
    customer = open_app()
    ask(customer, "My refund still hasn't arrived, it has been three weeks!!")
    reply = ask(customer, "agent!")
    notice = reply.get_by_text("passed on to our support team").inner_text()
    ticket = re.search(r"T-[0-9A-F]+", notice).group(0)
    assert "People ahead of you:" in notice

    staff = open_app()
    sign_in(staff, *STAFF, landing="Workbench")
    staff.get_by_label("Question").fill("How do I reset my password?")
    staff.get_by_role("button", name="Ask").click()
    staff.get_by_text("Retrieved chunks").wait_for()
    wait_idle(staff)
    shoot(staff, "workbench")
    go_to(staff, "Handoffs")
    staff.get_by_text(f"Ticket {ticket}").wait_for()
    assert staff.get_by_text("agent!").count() >= 1          # the transcript is there
    staff.get_by_text("Frustration per customer message").wait_for()
    shoot(staff, "handoffs")
    go_to(staff, "Insights")
    staff.get_by_text("Week by week").wait_for()
    staff.get_by_test_id("stVegaLiteChart").nth(5).wait_for()      # the six trend charts are drawn
    assert int(staff.get_by_test_id("stMetricValue").first.inner_text()) >= 24   # 3 x 8 seeded, and this run's
    shoot(staff, "insights")


def test_uploaded_document_is_cited_on_help(open_app, app):
    name, data = GIFT_CARDS
    upload = app["tmp"] / name
    upload.write_bytes(data)
    writer = open_app()
    sign_in(writer, *WRITER, landing="Content")
    writer.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
    writer.get_by_text(name).first.wait_for()
    writer.get_by_role("button", name="Upload and index").click()
    writer.get_by_text("Last indexing run").wait_for()
    wait_idle(writer)
    assert (app["corpus"] / "uploads" / name).is_file()
    shoot(writer, "content")

    customer = open_app()
    reply = ask(customer, "How do I redeem a gift card code?")
    reply.get_by_text(re.compile(r"^\[\d\] Gift cards")).first.click()
    assert reply.get_by_text(f"Source: uploads/{name}").is_visible()


# ---- access and upload confinement (tests/reliability) ---------------------------------------

STAFF_PATHS = ("workbench", "handoffs", "content", "insights", "handoffs?ticket=1", "Handoffs", "insights/")


def page_text(page) -> str:
    """Everything the browser holds for the page: rendered text and the DOM's HTML."""
    return page.locator("body").inner_text() + page.content()


def test_staff_urls_show_no_queue_data_without_sign_in(open_app):
    customer = open_app()
    ask(customer, "Where is my blue umbrella parcel 7731?")
    notice = ask(customer, "agent!").get_by_text("passed on to our support team").inner_text()
    ticket = re.search(r"T-[0-9A-F]+", notice).group(0)

    for path in STAFF_PATHS:
        page = open_app(path)
        wait_idle(page)
        text = page_text(page)
        assert ticket not in text and not re.search(r"\bT-[0-9A-F]{10}\b", text), path
        assert "blue umbrella" not in text and "Frustration per customer message" not in text, path
        assert page.get_by_test_id("stSidebarNav").count() == 0, path
        assert page.get_by_text("How can we help?").count() == 1, path


def test_writer_sees_no_queue_and_uploads_stay_in_the_corpus(open_app, app):
    """A doc writer's traversal file name ends up inside corpus/uploads (or is refused), never outside."""
    writer = open_app()
    sign_in(writer, *WRITER, landing="Content")
    nav = writer.get_by_test_id("stSidebarNav").inner_text()
    assert "Content" in nav and not any(title in nav for title in ("Handoffs", "Insights", "Workbench")), nav
    assert not re.search(r"\bT-[0-9A-F]{10}\b", page_text(writer))
    body = b"# Escape hatch\n\nThe escape hatch article must stay inside the corpus.\n"
    files = [{"name": name, "mimeType": "text/markdown", "buffer": body}
             for name in ("../../escape-hatch.md", "..\\..\\escape-hatch-2.md")]
    writer.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(files)
    # The uploader lists both files (names shortened in the middle, so wait on their sizes).
    writer.wait_for_function(
        "size => (document.querySelector('[data-testid=stFileUploader]').innerText.split(size).length - 1) >= 2",
        arg=f"{len(body)}.0B",
    )
    writer.get_by_role("button", name="Upload and index").click()
    writer.get_by_text(re.compile("Last indexing run|Not saved")).first.wait_for()
    wait_idle(writer)
    uploads = (app["corpus"] / "uploads").resolve()
    written = [p.resolve() for p in app["tmp"].rglob("escape-hatch*")]
    assert all(p.parent == uploads for p in written), written
    refused = writer.get_by_text("Not saved").count()
    assert len(written) + refused == len(files), (written, refused)
