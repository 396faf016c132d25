"""Settings: every knob of the product, read once from the environment at an entry point."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from assistant.errors import ConfigError

EMBEDDING_BACKENDS = ("local", "openai")
CHROMA_MODES = ("embedded", "server")
WEBHOOK_FORMATS = ("plain", "zendesk")
CALIBRATION_MODES = ("auto", "off")
SWITCH = ("on", "off")
DEFAULT_LANGUAGES = ("en", "ar", "sw", "ha", "et")
DEFAULT_SENSITIVE_TOPICS = ("billing_dispute", "account_security", "legal_threat", "data_deletion")


def _as_int(name: str, raw: str, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"Expected {name} to be a whole number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"Expected {name} to be at least {minimum}, got {value}.")
    return value


def _as_float(name: str, raw: str, low: float | None = None, high: float | None = None) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"Expected {name} to be a number, got {raw!r}.") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(f"Expected {name} between {low} and {high}, got {value}.")
    return value


def _as_choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.strip().lower()
    if value not in allowed:
        raise ConfigError(f"Expected {name} to be one of {', '.join(allowed)}; got {raw!r}.")
    return value


def _as_list(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class Settings:
    """All configuration. Build it with `Settings.from_env()` at an entry point and pass it down."""

    # Where things live.
    corpus_dir: Path = Path("docs_corpus")
    data_dir: Path = Path("data")
    # Vector store.
    chroma_mode: str = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "help_center"
    # Embeddings.
    embedding_backend: str = "local"
    openai_embedding_model: str = "text-embedding-3-small"
    # Ingestion.
    chunk_tokens: int = 320
    chunk_overlap: int = 40
    max_file_mb: int = 20
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    # Uploads through the Content page (the CLI has no such cap): embedding is slow on a small
    # host, so a 2,000-page PDF would keep the indexer busy for most of an hour.
    upload_max_pages: int = 300
    upload_max_chunks: int = 1000
    # Chat model (any OpenAI-compatible endpoint); none configured = offline extractive answers.
    openai_api_key: str = ""
    openai_base_url: str = ""
    chat_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 20.0
    llm_max_retries: int = 2
    # "on": with a chat model, one extra call per turn translates the (redacted) question into the index's
    # other languages and every translation is searched too (assistant/multiquery.py); "off": one search.
    translate_search: str = "on"
    # Retrieval and answering.
    top_k: int = 6
    # Up to this many chunks every replica holds the whole index in memory and scores it exactly
    # (snapshot mode); above it, it asks Chroma's ANN index for candidates (docs/evaluation/benchmarks.md).
    snapshot_max_chunks: int = 20_000   # measured crossover: rebuild ~1.5 min, ~1 GB per replica here
    ann_candidates: int = 100            # ANN mode: chunks asked of the HNSW index per question
    ann_sample: int = 2000               # ANN mode: sampled vectors per language, for language centring
    max_message_chars: int = 4000
    # Escalation thresholds.
    confidence_threshold: float = 0.45   # below: answer, but offer a person
    abstain_threshold: float = 0.15      # below: say it is not in the help centre instead of quoting
    # "auto": the two thresholds above are replaced, per question language, by the ones the index fitted
    # on its own questions at ingest (assistant/calibration.py); "off": always the two above.
    calibration: str = "auto"
    frustration_threshold: float = 0.6
    loop_similarity: float = 0.9
    sensitive_topics: tuple[str, ...] = DEFAULT_SENSITIVE_TOPICS
    # Persistence of conversations, feedback, handoff tickets, staff users and index records:
    # sqlite:///path (default <data_dir>/app.sqlite) or postgresql://user:password@host:5432/dbname.
    database_url: str = ""
    webhook_url: str = ""
    webhook_format: str = "plain"
    webhook_max_attempts: int = 5
    ticket_max_turns: int = 200          # messages kept per ticket: the first one and the latest
    # Staff / doc-writer logins: "user:role:salt$hash" entries separated by commas.
    users: tuple[str, ...] = field(default_factory=tuple)
    staff_idle_minutes: float = 30.0     # a staff sign-in ends after this long without a request
    sign_in_backoff_s: float = 30.0      # first wait after 5 failed sign-ins for a name; doubles each further failure
    # Conversation state kept in memory (the log is in the database): at most this many sessions,
    # each dropped after this long unused.
    max_sessions: int = 10_000
    session_ttl_s: float = 3600.0
    # Customer-experience figures (docs/metrics.md): when a conversation counts as ended, when the survey
    # appears by itself, how often NPS may be asked, and how returns and nearby questions are matched.
    survey_idle_s: float = 120.0             # seconds without a message after an answer before the survey shows
    nps_interval_days: int = 90              # NPS is asked at most once per browser in this many days
    conversation_idle_minutes: float = 30.0  # a conversation with no message for this long has ended
    fcr_window_days: int = 7                 # a same-topic conversation within this many days is a return
    fcr_topic_similarity: float = 0.88       # question cosine at or above which two conversations share a topic
    article_near_similarity: float = 0.82    # question-passage cosine for an unanswered question "close to" an article

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def legacy_records_path(self) -> Path:
        """Where index records lived before they moved into the app database (imported once if found)."""
        return self.data_dir / "index_records.sqlite"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'app.sqlite'}"

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests and CLI flags)."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
        """Read settings from `environ` (default: os.environ, plus a .env file in the working dir)."""
        if environ is None:
            if dotenv:
                from dotenv import dotenv_values

                file_values = {k: v for k, v in dotenv_values(".env").items() if v is not None}
                environ = {**file_values, **os.environ}
            else:
                environ = dict(os.environ)
        env = environ
        d = cls()

        def get(name: str, default: object) -> str:
            return env.get(name, str(default) if not isinstance(default, tuple) else ",".join(default))

        settings = cls(
            corpus_dir=Path(get("KB_CORPUS_DIR", d.corpus_dir)),
            data_dir=Path(get("KB_DATA_DIR", d.data_dir)),
            chroma_mode=_as_choice("KB_CHROMA_MODE", get("KB_CHROMA_MODE", d.chroma_mode), CHROMA_MODES),
            chroma_host=get("KB_CHROMA_HOST", d.chroma_host),
            chroma_port=_as_int("KB_CHROMA_PORT", get("KB_CHROMA_PORT", d.chroma_port), 1),
            collection=get("KB_COLLECTION", d.collection),
            embedding_backend=_as_choice(
                "KB_EMBEDDINGS", get("KB_EMBEDDINGS", d.embedding_backend), EMBEDDING_BACKENDS
            ),
            openai_embedding_model=get("KB_OPENAI_EMBEDDING_MODEL", d.openai_embedding_model),
            chunk_tokens=_as_int("KB_CHUNK_TOKENS", get("KB_CHUNK_TOKENS", d.chunk_tokens), 32),
            chunk_overlap=_as_int("KB_CHUNK_OVERLAP", get("KB_CHUNK_OVERLAP", d.chunk_overlap), 0),
            max_file_mb=_as_int("KB_MAX_FILE_MB", get("KB_MAX_FILE_MB", d.max_file_mb), 1),
            languages=_as_list(get("KB_LANGUAGES", d.languages)),
            upload_max_pages=_as_int("KB_UPLOAD_MAX_PAGES", get("KB_UPLOAD_MAX_PAGES", d.upload_max_pages), 1),
            upload_max_chunks=_as_int("KB_UPLOAD_MAX_CHUNKS", get("KB_UPLOAD_MAX_CHUNKS", d.upload_max_chunks), 1),
            openai_api_key=env.get("OPENAI_API_KEY", ""),
            openai_base_url=env.get("OPENAI_BASE_URL", ""),
            chat_model=get("KB_CHAT_MODEL", d.chat_model),
            llm_timeout_s=_as_float("KB_LLM_TIMEOUT", get("KB_LLM_TIMEOUT", d.llm_timeout_s), 0.1, 600),
            llm_max_retries=_as_int("KB_LLM_MAX_RETRIES", get("KB_LLM_MAX_RETRIES", d.llm_max_retries), 0),
            translate_search=_as_choice("KB_TRANSLATE_SEARCH", get("KB_TRANSLATE_SEARCH", d.translate_search), SWITCH),
            top_k=_as_int("KB_TOP_K", get("KB_TOP_K", d.top_k), 1),
            snapshot_max_chunks=_as_int(
                "KB_SNAPSHOT_MAX_CHUNKS", get("KB_SNAPSHOT_MAX_CHUNKS", d.snapshot_max_chunks), 0
            ),
            ann_candidates=_as_int("KB_ANN_CANDIDATES", get("KB_ANN_CANDIDATES", d.ann_candidates), 10),
            ann_sample=_as_int("KB_ANN_SAMPLE", get("KB_ANN_SAMPLE", d.ann_sample), 10),
            max_message_chars=_as_int(
                "KB_MAX_MESSAGE_CHARS", get("KB_MAX_MESSAGE_CHARS", d.max_message_chars), 10
            ),
            confidence_threshold=_as_float(
                "KB_CONFIDENCE_THRESHOLD", get("KB_CONFIDENCE_THRESHOLD", d.confidence_threshold), 0, 1
            ),
            abstain_threshold=_as_float(
                "KB_ABSTAIN_THRESHOLD", get("KB_ABSTAIN_THRESHOLD", d.abstain_threshold), 0, 1
            ),
            calibration=_as_choice("KB_CALIBRATION", get("KB_CALIBRATION", d.calibration), CALIBRATION_MODES),
            frustration_threshold=_as_float(
                "KB_FRUSTRATION_THRESHOLD", get("KB_FRUSTRATION_THRESHOLD", d.frustration_threshold), 0, 1
            ),
            loop_similarity=_as_float("KB_LOOP_SIMILARITY", get("KB_LOOP_SIMILARITY", d.loop_similarity), 0, 1),
            sensitive_topics=_as_list(get("KB_SENSITIVE_TOPICS", d.sensitive_topics)),
            database_url=env.get("KB_DATABASE_URL", ""),
            webhook_url=env.get("KB_WEBHOOK_URL", ""),
            webhook_format=_as_choice(
                "KB_WEBHOOK_FORMAT", get("KB_WEBHOOK_FORMAT", d.webhook_format), WEBHOOK_FORMATS
            ),
            webhook_max_attempts=_as_int(
                "KB_WEBHOOK_MAX_ATTEMPTS", get("KB_WEBHOOK_MAX_ATTEMPTS", d.webhook_max_attempts), 1
            ),
            ticket_max_turns=_as_int(
                "KB_TICKET_MAX_TURNS", get("KB_TICKET_MAX_TURNS", d.ticket_max_turns), 2
            ),
            users=_as_list(env.get("KB_USERS", "")),
            sign_in_backoff_s=_as_float(
                "KB_SIGN_IN_BACKOFF_S", get("KB_SIGN_IN_BACKOFF_S", d.sign_in_backoff_s), 0.1, 3600
            ),
            staff_idle_minutes=_as_float(
                "KB_STAFF_IDLE_MINUTES", get("KB_STAFF_IDLE_MINUTES", d.staff_idle_minutes), 1, 24 * 60
            ),
            max_sessions=_as_int("KB_MAX_SESSIONS", get("KB_MAX_SESSIONS", d.max_sessions), 1),
            session_ttl_s=_as_float("KB_SESSION_TTL_S", get("KB_SESSION_TTL_S", d.session_ttl_s), 1, 30 * 86_400),
            survey_idle_s=_as_float("KB_SURVEY_IDLE_S", get("KB_SURVEY_IDLE_S", d.survey_idle_s), 0, 86_400),
            nps_interval_days=_as_int("KB_NPS_INTERVAL_DAYS", get("KB_NPS_INTERVAL_DAYS", d.nps_interval_days), 0),
            conversation_idle_minutes=_as_float(
                "KB_CONVERSATION_IDLE_MINUTES", get("KB_CONVERSATION_IDLE_MINUTES", d.conversation_idle_minutes),
                1, 7 * 24 * 60,
            ),
            fcr_window_days=_as_int("KB_FCR_WINDOW_DAYS", get("KB_FCR_WINDOW_DAYS", d.fcr_window_days), 1),
            fcr_topic_similarity=_as_float(
                "KB_FCR_TOPIC_SIMILARITY", get("KB_FCR_TOPIC_SIMILARITY", d.fcr_topic_similarity), 0, 1
            ),
            article_near_similarity=_as_float(
                "KB_ARTICLE_NEAR_SIMILARITY", get("KB_ARTICLE_NEAR_SIMILARITY", d.article_near_similarity), 0, 1
            ),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Checks that involve more than one setting."""
        if self.chunk_overlap >= self.chunk_tokens:
            raise ConfigError(
                f"Expected KB_CHUNK_OVERLAP below KB_CHUNK_TOKENS ({self.chunk_tokens}), got {self.chunk_overlap}."
            )
        if not self.languages:
            raise ConfigError("Expected KB_LANGUAGES to list at least one language code, e.g. en,ar,sw,ha,et.")


def setting_names() -> list[str]:
    """Field names, used by the test that keeps .env.example complete."""
    return [f.name for f in fields(Settings)]
