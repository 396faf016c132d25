"""End-to-end tests in a real headless Chromium (marker `browser`)."""
