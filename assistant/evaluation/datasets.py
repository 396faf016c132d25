"""Evaluation data: the gold-set JSONL format and loaders for the public retrieval benchmarks.

Gold-set format (one JSON object per line; ragas-style names):

    {"user_input": "Je, ninawezaje kurejeshewa pesa?",      # the customer's question (required)
     "expected_sources": ["faq/billing.md"],                # sources (or context ids) that answer it
     "reference_contexts": ["Refunds are paid within..."],  # optional: the passages themselves
     "language": "sw", "pair": "sw->en",                    # question language; question->source language
     "expect_escalation": false,                             # true: the assistant should hand over
     "id": "golden-12"}                                      # optional

Staff golden cases (e.g. `data/golden.jsonl`) and the benchmark questions below share this
record type, so both are scored by the same code. Benchmark data is read from the shared
eval-data directory at evaluation time and never copied into the project.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import KBError

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "eval-data"
SPLIT_SEED = 20240607
DEV_FRACTION = 0.3
# AfriQA and the gold-set format use ISO 639-3 in places; the product uses ISO 639-1.
_LANGUAGE_CODES = {"hau": "ha", "swa": "sw", "ara": "ar", "eng": "en", "est": "et"}


class EvalDataError(KBError):
    """Evaluation data missing or malformed."""


@dataclass(frozen=True, slots=True)
class GoldCase:
    """One question with the sources that answer it."""

    user_input: str
    expected_sources: tuple[str, ...] = ()
    reference_contexts: tuple[str, ...] = ()
    language: str = ""
    pair: str = ""
    expect_escalation: bool = False
    id: str = ""

    @classmethod
    def from_json(cls, row: dict[str, Any], where: str = "gold set") -> "GoldCase":
        question = row.get("user_input")
        if not isinstance(question, str) or not question.strip():
            raise EvalDataError(f"Expected a non-empty string in 'user_input' ({where}), got {question!r}.")
        sources = row.get("expected_sources") or []
        contexts = row.get("reference_contexts") or []
        for name, value in (("expected_sources", sources), ("reference_contexts", contexts)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise EvalDataError(f"Expected '{name}' to be a list of strings ({where}), got {value!r}.")
        language = normalize_language(str(row.get("language") or ""))
        return cls(
            user_input=question.strip(),
            expected_sources=tuple(sources),
            reference_contexts=tuple(contexts),
            language=language,
            pair=str(row.get("pair") or ""),
            expect_escalation=bool(row.get("expect_escalation", False)),
            id=str(row.get("id") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        row = asdict(self)
        row["expected_sources"] = list(self.expected_sources)
        row["reference_contexts"] = list(self.reference_contexts)
        return row


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


def normalize_language(code: str) -> str:
    code = code.strip().lower()
    return _LANGUAGE_CODES.get(code, code)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line fails with its line number."""
    if not path.is_file():
        raise EvalDataError(f"Expected a JSONL file at {path}, found none; check the eval data directory.")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalDataError(f"Expected JSON on line {number} of {path}, got: {exc.msg}.") from None
            if not isinstance(row, dict):
                raise EvalDataError(f"Expected a JSON object on line {number} of {path}, got {type(row).__name__}.")
            rows.append(row)
    return rows


def load_gold_set(path: Path | str) -> list[GoldCase]:
    """Read a gold-set JSONL file (staff golden cases or an exported benchmark)."""
    path = Path(path)
    return [GoldCase.from_json(row, f"{path.name} line {i}") for i, row in enumerate(read_jsonl(path), 1)]


def save_gold_set(path: Path | str, cases: Iterable[GoldCase]) -> None:
    """Write cases in the gold-set format (used by staff tools and tests)."""
    lines = [json.dumps(case.to_json(), ensure_ascii=False) for case in cases]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


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
    root = Path(eval_dir) if eval_dir is not None else DEFAULT_EVAL_DIR
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
