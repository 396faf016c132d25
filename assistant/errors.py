"""Error types whose messages are fit to show a user: what was expected, what was found, what to do."""


class KBError(Exception):
    """Base class for every error the product reports to a person."""


class ConfigError(KBError):
    """A setting is missing or has a value the product cannot use."""


class IngestError(KBError):
    """A file could not be turned into chunks (corrupt, encrypted, empty, unsupported...)."""


class IndexMismatchError(KBError):
    """The index was built with a different embedding model than the one configured."""


class StoreUnavailableError(KBError):
    """The vector store cannot be reached (e.g. the Chroma server is down)."""


class ProviderError(KBError):
    """The chat or embedding endpoint failed after retries."""


class IndexBusyError(KBError):
    """Another writer (a `kb ingest` run, an upload) held the index for longer than we could wait."""
