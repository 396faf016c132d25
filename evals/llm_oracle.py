"""Gold translations as a chat model: the ceiling of translate-then-search (`kb eval --llm-oracle`).

XQuAD's questions are parallel (the Arabic question and its English original share `squad_id`);
AfriQA's Hausa and Swahili questions carry the English question they were translated from
(`question_en`). The oracle answers the product's translation prompt (assistant/prompts/translate.txt)
with these, as the JSON object the prompt asks for. The translations are perfect, so recall
measured with them is an upper bound for the LLM path, not a forecast of any real model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

from assistant.golden import normalize_language, read_jsonl
from assistant.redaction import redact

_QUESTION = re.compile(r"<question>\n(.*?)\n</question>", re.DOTALL)
_TARGETS = re.compile(r'\{(?:"[a-z]{2,3}": "\.\.\."(?:, )?)+\}')


def read_translation_request(prompt: str) -> tuple[str, tuple[str, ...]] | None:
    """(question, target language codes) of a translation prompt; None for any other prompt."""
    targets = _TARGETS.search(prompt)
    questions = _QUESTION.findall(prompt)
    if targets is None or not questions:
        return None
    return questions[-1].strip(), tuple(json.loads(targets.group(0)))


def question_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def gold_translations(eval_dir: Path | str) -> dict[str, dict[str, str]]:
    """Question text -> {language: the same question in that language}, from XQuAD and AfriQA.

    Keyed by the question as written and as redacted (the product redacts before it sends); a
    question text asked twice keeps its first translation.
    """
    root = Path(eval_dir)
    groups: list[dict[str, str]] = []
    xquad = root / "xquad" / "questions.jsonl"
    if xquad.is_file():
        by_id: dict[str, dict[str, str]] = {}
        for row in read_jsonl(xquad):
            if row.get("squad_id"):  # the id the English original and its translations share
                by_id.setdefault(row["squad_id"], {})[normalize_language(row["lang"])] = row["question"]
        groups += by_id.values()
    afriqa = root / "afriqa" / "questions.jsonl"
    if afriqa.is_file():
        groups += [{normalize_language(row["lang"]): row["question"], "en": row["question_en"]}
                   for row in read_jsonl(afriqa) if row.get("question_en")]
    gold: dict[str, dict[str, str]] = {}
    for group in groups:
        for language, text in group.items():
            others = {code: other for code, other in group.items() if code != language}
            for key in {question_key(text), question_key(redact(text))}:
                gold.setdefault(key, others)
    return gold


class TranslationOracle:
    """A responder for evals.chat_server.LocalChatServer: gold translations for translation prompts."""

    def __init__(self, gold: Mapping[str, Mapping[str, str]]) -> None:
        self.gold = gold
        self.answered = 0  # translation calls answered with gold
        self.unknown = 0   # translation calls for a question without gold: answered "{}"

    def __call__(self, prompt: str) -> str:
        request = read_translation_request(prompt)
        if request is None:
            return "NO_ANSWER"  # the oracle only translates
        question, targets = request
        known = self.gold.get(question_key(question))
        if known is None:
            self.unknown += 1
            return "{}"
        self.answered += 1
        return json.dumps({code: known[code] for code in targets if code in known}, ensure_ascii=False)
