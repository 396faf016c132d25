"""Article health for doc writers: per source document, what customers made of the answers citing it.

For each source: how many answers cited it (and in how many conversations); the thumbs-down rate of
those answers; the mean CSAT of the conversations that cited it; the conversations a person had to
take over after an answer citing it; the unanswered questions whose closest article it is. The rank
("needs work") adds up the problems, each a conversation or a vote that went wrong: thumbs-down +
handoffs after + unanswered questions close to it + CSAT answers of 1 or 2. A well-cited article
with no problems scores 0 (docs/metrics.md).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from assistant.cx.facts import ConversationFacts, UnansweredFacts
from assistant.cx.figures import share
from assistant.vectors import unit, unit_rows

# questions -> (source, cosine) of the closest article for each, or None below the threshold
NearestSource = Callable[[list[str]], list[tuple[str, float] | None]]
MAX_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class ArticleHealth:
    source: str
    title: str
    citations: int                       # answers that cited it
    conversations: int                   # conversations with such an answer
    thumbs_down: int
    thumbs_down_rate: float | None       # thumbs-down answers citing it / answers citing it
    csat_mean: float | None              # mean CSAT of the conversations that cited it
    csat_responses: int
    low_csat: int                        # of those, answers 1 or 2
    handoffs_after: int                  # conversations handed to a person after an answer citing it
    unanswered_near: int                 # unanswered questions whose closest article this is
    needs_work: int                      # thumbs_down + handoffs_after + unanswered_near + low_csat
    sessions: tuple[str, ...] = ()       # the conversations behind the row, problems first
    near_questions: tuple[str, ...] = field(default=())  # a few of the unanswered questions (redacted)

    def to_dict(self) -> dict:
        return asdict(self)


def article_health(
    conversations: Sequence[ConversationFacts], unanswered: Sequence[UnansweredFacts],
    titles: Mapping[str, str], nearest: NearestSource | None = None,
) -> list[ArticleHealth]:
    """One row per source cited in `conversations` or listed in `titles` (the indexed ones), most in need first."""
    cited: dict[str, dict] = defaultdict(lambda: {"answers": 0, "down": 0, "sessions": {}, "handoffs": set()})
    for c in conversations:
        for answer in c.answers:
            for source in answer.sources:
                entry = cited[source]
                entry["answers"] += 1
                entry["down"] += answer.rating < 0
                problem = answer.rating < 0 or answer.handoff_after or (c.score("csat") or 5) <= 2
                entry["sessions"][c.session_id] = entry["sessions"].get(c.session_id, False) or problem
                if answer.handoff_after:
                    entry["handoffs"].add(c.session_id)
    csat_by_source: dict[str, list[int]] = defaultdict(list)
    for c in conversations:
        score = c.score("csat")
        if score is not None:
            for source in dict.fromkeys(s for a in c.answers for s in a.sources):
                csat_by_source[source].append(score)
    near: dict[str, list[UnansweredFacts]] = defaultdict(list)
    if nearest is not None and unanswered:
        for gap, match in zip(unanswered, nearest([u.question for u in unanswered]), strict=True):
            if match is not None:
                near[match[0]].append(gap)
    rows = [_row(source, titles.get(source, ""), cited.get(source), csat_by_source.get(source, []),
                 near.get(source, [])) for source in sorted(set(titles) | set(cited) | set(near))]
    return sorted(rows, key=lambda r: (-r.needs_work, -(r.thumbs_down_rate or 0.0), -r.citations, r.source))


def _row(source: str, title: str, entry: dict | None, csat: list[int], gaps: list[UnansweredFacts]) -> ArticleHealth:
    entry = entry or {"answers": 0, "down": 0, "sessions": {}, "handoffs": set()}
    low = sum(1 for s in csat if s <= 2)
    ordered = sorted(entry["sessions"], key=lambda s: not entry["sessions"][s])  # problem conversations first
    ordered += [g.session_id for g in gaps if g.session_id and g.session_id not in entry["sessions"]]
    return ArticleHealth(
        source=source, title=title, citations=entry["answers"], conversations=len(entry["sessions"]),
        thumbs_down=entry["down"], thumbs_down_rate=share(entry["down"], entry["answers"]),
        csat_mean=statistics.fmean(csat) if csat else None, csat_responses=len(csat), low_csat=low,
        handoffs_after=len(entry["handoffs"]), unanswered_near=len(gaps),
        needs_work=entry["down"] + len(entry["handoffs"]) + len(gaps) + low,
        sessions=tuple(dict.fromkeys(ordered)),
        near_questions=tuple(dict.fromkeys(g.question for g in gaps))[:MAX_EXAMPLES],
    )


class SourceMatcher:
    """The closest article to a question: the best cosine between the question and any of its passages."""

    def __init__(self, sources: Sequence[str], vectors: np.ndarray, embed_query: Callable[[str], object],
                 threshold: float) -> None:
        if len(sources) != len(vectors):
            raise ValueError(f"Expected one source per passage vector, got {len(sources)} and {len(vectors)}")
        self._names = sorted(set(sources))
        self._column = np.array([self._names.index(s) for s in sources], dtype=np.int64)
        self._vectors = unit_rows(vectors) if len(vectors) else np.zeros((0, 0), np.float32)
        self._embed = embed_query
        self.threshold = threshold

    def __call__(self, questions: list[str]) -> list[tuple[str, float] | None]:
        if not len(self._vectors):
            return [None] * len(questions)
        found: list[tuple[str, float] | None] = []
        for question in questions:
            cosines = self._vectors @ unit(self._embed(question), np.float32)
            best = np.full(len(self._names), -1.0, dtype=np.float32)
            np.maximum.at(best, self._column, cosines)
            top = int(best.argmax())
            found.append((self._names[top], float(best[top])) if best[top] >= self.threshold else None)
        return found
