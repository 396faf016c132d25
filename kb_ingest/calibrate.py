"""Keep the index's confidence calibration current: refit it after content changed (assistant/calibration.py).

Runs inside the writer's lock, after the chunks and their views are written and before the
generation is bumped, so readers see new content and its calibration together.
"""

from __future__ import annotations

import logging

from assistant.answer_confidence import answer_score, default_answer_confidence, model_fingerprint
from assistant.calibration import Calibration
from assistant.confidence import default_confidence_model
from assistant.config import Settings
from assistant.retrieval import RetrievalResult, make_retriever
from assistant.self_probe import calibrate_index, content_fingerprint
from assistant.store import VectorStore

logger = logging.getLogger(__name__)


def refresh_calibration(store: VectorStore, settings: Settings, force: bool = False) -> bool:
    """Refit and store the calibration when the content or the models changed; True when it was rewritten."""
    retrieval, answer = default_confidence_model(), default_answer_confidence()
    model = model_fingerprint(retrieval, answer)
    current = _stored(store)
    content = content_fingerprint(sorted(store.chunk_ids()))
    if not force and current is not None and current.content == content and current.model == model:
        return False
    retriever = make_retriever(settings, store)

    def score(question: str, language: str, result: RetrievalResult) -> float:
        return answer_score(retrieval, answer, question, language, result.chunks)

    calibration = calibrate_index(retriever, score, model)
    store.save_calibration(calibration.to_json() if calibration is not None else "")
    return True


def _stored(store: VectorStore) -> Calibration | None:
    text = store.calibration_json()
    if not text:
        return None
    try:
        return Calibration.from_json(text)
    except (ValueError, KeyError, TypeError):
        logger.warning("stored calibration unreadable; it will be refitted")
        return None
