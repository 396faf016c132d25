"""Item 4 of issue 12: Streamlit's own upload limit matches KB_MAX_FILE_MB (the server test is in
tests/e2e/test_hardening_server.py), and a mismatch is reported."""

from __future__ import annotations

import tomllib
from pathlib import Path

from assistant.config import Settings
from ui.uploads import upload_limit_mismatch

ROOT = Path(__file__).resolve().parents[2]


def test_streamlits_upload_limit_is_kb_max_file_mb():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == Settings().max_file_mb == 20


def test_a_mismatch_is_explained_either_way():
    assert upload_limit_mismatch(20, 20) is None
    assert "refuses uploads the app would accept" in upload_limit_mismatch(10, 20)
    assert "holds uploads in memory that the app then refuses" in upload_limit_mismatch(200, 20)
