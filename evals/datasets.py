"""Evaluation data: loaders for the public retrieval benchmarks, in the gold-set format.

The gold-set record (`GoldCase`) is a product format and lives in assistant/golden.py; the
benchmark questions below are turned into the same record, so both are scored by the same code.
Benchmark data is read from the shared eval-data directory at evaluation time and never copied
into the project.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.golden import GoldCase, GoldSetError, normalize_language, read_jsonl
from evals.paths import default_eval_dir

SPLIT_SEED = 20240607
DEV_FRACTION = 0.3
EvalDataError = GoldSetError  # missing or malformed evaluation data: the same error as a bad gold set


@dataclass(frozen=True, slots=True)
class Passage:
    """One benchmark passage, indexed as one chunk whose source is `context_id`."""

    context_id: str
    text: str
    title: str
    language: str


@dataclass(frozen=True, slots=True)
class EvalCorpus:
    """A passage pool and the questions asked against it, grouped by language pair."""

    name: str
    passages: tuple[Passage, ...]
    cases: tuple[GoldCase, ...] = field(default=())

    def pairs(self) -> list[str]:
        return sorted({c.pair for c in self.cases})


def _passages(rows: Iterable[dict[str, Any]]) -> list[Passage]:
    return [
        Passage(
            context_id=str(r["context_id"]),
            text=str(r["text"]),
            title=str(r.get("title") or ""),
            language=normalize_language(str(r.get("lang") or "en")),
        )
        for r in rows
    ]


def load_xquad(eval_dir: Path) -> EvalCorpus:
    """XQuAD en+ar as a partly translated help centre: every English article, half of them also in Arabic.

    Articles (not paragraphs) are translated or not, as in a real help centre. en->en: English
    questions, English gold. ar->ar: Arabic questions on a translated article (gold: the Arabic
    paragraph). ar->en: Arabic questions on an untranslated article, so the gold is the English
    paragraph and every Arabic passage indexed is a same-language, wrong-topic distractor.
    """
    contexts = read_jsonl(eval_dir / "xquad" / "contexts.jsonl")
    questions = read_jsonl(eval_dir / "xquad" / "questions.jsonl")
    articles = sorted({_article(r["parallel_group"]) for r in contexts})
    translated = set(random.Random(SPLIT_SEED).sample(articles, len(articles) // 2))
    kept = [r for r in contexts if r["lang"] == "en" or _article(r["parallel_group"]) in translated]
    cases = []
    for q in questions:
        lang = normalize_language(q["lang"])
        if lang == "en":
            pair, gold = "en->en", q["context_id"]
        elif _article(q["parallel_group"]) in translated:
            pair, gold = f"{lang}->{lang}", q["context_id"]
        else:
            pair, gold = f"{lang}->en", q["context_id_en"]
        cases.append(GoldCase(q["question"], (gold,), language=lang, pair=pair, id=q["id"]))
    return EvalCorpus("xquad", tuple(_passages(kept)), tuple(cases))


def _article(parallel_group: str) -> str:
    return parallel_group.split("p")[0]  # "a07p03" -> article "a07"


def load_afriqa(eval_dir: Path) -> EvalCorpus:
    """AfriQA ha/sw questions over their English gold passages plus English XQuAD/SQuAD distractors."""
    gold = _passages(read_jsonl(eval_dir / "afriqa" / "contexts.jsonl"))
    distractors = []
    for name in ("xquad", "squad-v2"):
        path = eval_dir / name / "contexts.jsonl"
        if path.is_file():
            distractors += [p for p in _passages(read_jsonl(path)) if p.language == "en"]
    seen: set[str] = {p.text for p in gold}
    pool = list(gold)
    for passage in distractors:  # XQuAD paragraphs reappear verbatim in SQuAD: keep one copy
        if passage.text not in seen:
            seen.add(passage.text)
            pool.append(passage)
    cases = []
    for q in read_jsonl(eval_dir / "afriqa" / "questions.jsonl"):
        lang = normalize_language(q["lang"])
        cases.append(GoldCase(q["question"], (q["context_id"],), language=lang, pair=f"{lang}->en", id=q["id"]))
    return EvalCorpus("afriqa", tuple(pool), tuple(cases))


LOADERS = {"xquad": load_xquad, "afriqa": load_afriqa}


def load_benchmarks(eval_dir: Path | str | None = None) -> list[EvalCorpus]:
    """Every retrieval benchmark found in `eval_dir` (default: ../shared/eval-data beside the repo)."""
    root = Path(eval_dir) if eval_dir is not None else default_eval_dir()
    if not root.is_dir():
        raise EvalDataError(f"Expected the eval data directory at {root}, found none; pass its path.")
    return [load(root) for name, load in LOADERS.items() if (root / name).is_dir()]


def split_cases(cases: Sequence[GoldCase], split: str, seed: int = SPLIT_SEED) -> list[GoldCase]:
    """The dev part (first 30% of a seeded shuffle, used for tuning), the test rest, or all."""
    if split == "all":
        return list(cases)
    if split not in ("dev", "test"):
        raise EvalDataError(f"Expected split to be dev, test or all, got {split!r}.")
    order = sorted(cases, key=lambda c: c.id or c.user_input)
    random.Random(seed).shuffle(order)
    cut = round(len(order) * DEV_FRACTION)
    chosen = {id(c) for c in (order[:cut] if split == "dev" else order[cut:])}
    return [c for c in cases if id(c) in chosen]
