"""Helpers for the browser tests: start `streamlit run ui/app.py`, drive Debian's Chromium through its pages.

Playwright is always given Debian's executable (/usr/bin/chromium); it never downloads a browser.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STARTUP_S = 180
STEP_MS = 90_000


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy in {STARTUP_S}s:\n{log.read_text()[-3000:]}")


def start_app(env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """`streamlit run ui/app.py` on a free port with `env` added; returns the process and its URL once healthy."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "ui/app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
    except BaseException:
        stop_process(proc, timeout=20)
        raise
    return proc, url


def launch_chromium(playwright):
    """Debian's headless Chromium (a failure, not a skip, when it is missing)."""
    if not CHROMIUM.exists():
        pytest.fail(f"Expected Debian's chromium at {CHROMIUM}, found nothing; run `apt-get install -y chromium`.")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def ask(page, question: str):
    """Type a question in the chat box and wait for the reply; returns the last assistant message."""
    before = page.get_by_test_id("stChatMessage").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    # The user's message and the assistant's reply both appear; then the script finishes.
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=stChatMessage]').length >= n", arg=before + 2
    )
    wait_idle(page)
    reply = page.get_by_test_id("stChatMessage").last
    reply.get_by_test_id("stMarkdownContainer").first.wait_for()
    return reply


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (and any rerun it asked for)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


def sign_in(page, user: str, password: str, landing: str) -> None:
    page.get_by_text("Staff sign-in").click()
    page.get_by_label("User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=landing).wait_for()
    wait_idle(page)


def go_to(page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).wait_for()
    wait_idle(page)
