"""Where the evaluation harness reads public data and keeps its vector cache: one definition each.

- Eval data: `--eval-dir`, else KB_EVAL_DIR, else `../shared/eval-data` beside the repository.
- Vector cache: KB_EVAL_CACHE_DIR, else `helpdesk-eval-cache` in the system temp dir (vectors
  survive between runs, not reboots).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from langchain_core.embeddings import Embeddings

from evals.embedding_cache import CachedEmbeddings

REPO_ROOT = Path(__file__).resolve().parents[1]


def default_eval_dir() -> Path:
    """The public eval sets: KB_EVAL_DIR, else ../shared/eval-data beside the repository."""
    return Path(os.environ.get("KB_EVAL_DIR") or REPO_ROOT.parent / "shared" / "eval-data")


def default_seeds_dir() -> Path:
    """The seed articles (a second help-centre domain): KB_SEEDS_DIR, else ../shared/seeds beside the repository."""
    return Path(os.environ.get("KB_SEEDS_DIR") or REPO_ROOT.parent / "shared" / "seeds")


def default_cache_dir() -> Path:
    """The on-disk vector cache shared by every evaluation: KB_EVAL_CACHE_DIR, else the temp dir."""
    return Path(os.environ.get("KB_EVAL_CACHE_DIR") or Path(tempfile.gettempdir()) / "helpdesk-eval-cache")


def cached_embeddings(embeddings: Embeddings, cache_dir: Path | None = None) -> CachedEmbeddings:
    """The embedder behind a vector cache in `cache_dir` (None: memory only); unchanged when it already is one.

    Command-line entry points pass `default_cache_dir()`; library calls and tests default to memory.
    """
    if isinstance(embeddings, CachedEmbeddings):
        return embeddings
    return CachedEmbeddings(embeddings, cache_dir)
