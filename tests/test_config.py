"""Settings: read from the environment, validated with clear messages; .env.example stays complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dotenv import dotenv_values

from assistant.config import Settings, setting_names
from assistant.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
# Settings fields whose environment variable is not KB_<FIELD>.
_ENV_NAMES = {
    "corpus_dir": "KB_CORPUS_DIR", "data_dir": "KB_DATA_DIR", "embedding_backend": "KB_EMBEDDINGS",
    "openai_api_key": "OPENAI_API_KEY", "openai_base_url": "OPENAI_BASE_URL",
    "llm_timeout_s": "KB_LLM_TIMEOUT",
}


def env_name(field: str) -> str:
    return _ENV_NAMES.get(field, "KB_" + field.upper())


def test_env_example_lists_every_setting_and_parses_to_the_defaults():
    example = dotenv_values(ROOT / ".env.example")
    missing = [env_name(f) for f in setting_names() if env_name(f) not in example]
    assert not missing, f".env.example lacks {missing}"
    assert Settings.from_env({k: v for k, v in example.items() if v}) == Settings()


def test_environment_overrides_defaults():
    s = Settings.from_env({"KB_CHROMA_MODE": "server", "KB_CHROMA_PORT": "9001", "KB_LANGUAGES": "en, sw"})
    assert (s.chroma_mode, s.chroma_port, s.languages) == ("server", 9001, ("en", "sw"))
    assert s.resolved_database_url.startswith("sqlite:///") and not s.llm_configured
    assert Settings.from_env({"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1"}).llm_configured


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KB_EMBEDDINGS": "bert"}, "local, openai"),
        ({"KB_CHROMA_MODE": "cloud"}, "embedded, server"),
        ({"KB_CHUNK_TOKENS": "many"}, "whole number"),
        ({"KB_CHUNK_TOKENS": "4"}, "at least 32"),
        ({"KB_CONFIDENCE_THRESHOLD": "2"}, "between 0"),
    ],
)
def test_bad_values_name_what_was_expected(env, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        Settings.from_env(env)


def test_nothing_is_read_at_import_time(monkeypatch):
    import importlib

    import assistant.config

    monkeypatch.setenv("KB_CHROMA_MODE", "not-a-mode")
    importlib.reload(assistant.config)  # would raise if the module read the environment on import


def test_cross_field_checks():
    with pytest.raises(ConfigError, match="KB_CHUNK_OVERLAP below"):
        Settings.from_env({"KB_CHUNK_TOKENS": "64", "KB_CHUNK_OVERLAP": "64"})
    with pytest.raises(ConfigError, match="at least one language"):
        Settings.from_env({"KB_LANGUAGES": " , "})
