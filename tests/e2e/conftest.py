"""Fixtures shared by the browser tests."""

from __future__ import annotations

import pytest

from tests.e2e.browser import launch_chromium


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package, see tests/e2e/browser.py), one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = launch_chromium(p)
        yield instance
        instance.close()
