"""Public frustration-proxy datasets from the shared eval-data folder, read at eval time, with a seeded dev/test split.

Nothing is copied into the project (MAIA-DQE is CC BY-ND: its original JSON is converted in memory only).
Proxies are our choice, documented in docs/evaluation/escalation-frustration.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings

logger = logging.getLogger(__name__)

SPLIT_SEED = 13           # the frustration sets' dev/test split (fixed: the shipped weights were fitted on it)
DEV_FRACTION = 0.3
PRODUCT_THRESHOLD = Settings().frustration_threshold  # the threshold the product ships with
_PLACEHOLDER = re.compile(r"#[A-Z_]+#")
_LETTER = re.compile(r"[^\W\d_]")
_LANGUAGE = {"hau": "ha", "swa": "sw", "arq": "ar", "ary": "ar", "eng": "en", "en": "en", "ar": "ar", "et": "et"}
MAIA_CUSTOMER_POSITIVE = (5, 6)  # labels.txt line order: 5 frustration, 6 anger


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text; `positive` = the frustration proxy holds; `group` keeps related rows in one split."""

    dataset: str
    language: str   # product language code, or "pt+de" for MAIA source text
    id: str
    text: str
    positive: bool
    variety: str = ""   # e.g. arq / ary for the Arabic dialects
    group: str = ""


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    name: str
    folder: str
    proxy: str
    load: Callable[[Path], Iterator[Example]]
    license: str
    fit_allowed: bool  # may shipped weights be fitted on its dev split (licence permits derivatives)
    evaluated: bool = True  # False: extra training rows only, never a row of the report


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _afrisenti(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "test.jsonl"):
        yield Example("afrisenti", _LANGUAGE[r["lang"]], r["id"], r["text"], r["label"] == "negative", r["lang"])


def _brighter(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "test.jsonl"):
        yield Example("brighter", _LANGUAGE[r["lang"]], r["id"], r["text"], bool(r["anger"]), r["lang"])


def _goemotions(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "test.jsonl"):
        yield Example("goemotions", "en", r["id"], r["text"], bool({"anger", "annoyance"} & set(r["labels"])))


def _tweeteval_sentiment(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "sentiment_test.jsonl"):
        yield Example("tweeteval-sentiment", "en", r["id"], r["text"], r["label"] == "negative")


def _tweeteval(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "emotion_test.jsonl"):
        yield Example("tweeteval-emotion", "en", r["id"], r["text"], r["label"] == "anger")


def _estonian(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "all.jsonl"):
        yield Example("estonian-valence", "et", r["id"], r["text"], r["label"] == "negative")


def _astd(folder: Path) -> Iterator[Example]:
    for r in _jsonl(folder / "test.jsonl"):
        yield Example("astd", "ar", r["id"], r["text"], r["label"] == "negative")


def _maia(folder: Path, field: str, dataset: str, language: str) -> Iterator[Example]:
    for path in sorted((folder / "original").glob("*.json")):
        for dialogue in json.loads(path.read_text(encoding="utf-8")):
            group = f"{path.stem}:{dialogue['id']}"
            for t, turn in enumerate(dialogue["turns"]):
                if turn.get("floor") != "inbound":
                    continue
                for s, (text, emotion) in enumerate(zip(turn[field], turn["Emotion"], strict=False)):
                    if len(_LETTER.findall(_PLACEHOLDER.sub("", text or ""))) < 2:
                        continue  # "#EMAIL#", "#NUMBER#", "?" carry no text to judge
                    yield Example(dataset, language, f"{group}:{t}:{s}", text,
                                  emotion in MAIA_CUSTOMER_POSITIVE, path.stem, group)


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec("afrisenti", "afrisenti", "sentiment = negative", _afrisenti, "CC BY 4.0", True),
    DatasetSpec("brighter", "brighter-emotion", "anger", _brighter, "CC BY 4.0", True),
    DatasetSpec("goemotions", "goemotions", "anger OR annoyance", _goemotions, "Apache-2.0", True),
    DatasetSpec("tweeteval-emotion", "tweeteval", "anger", _tweeteval, "no restrictions (SemEval terms)", True),
    # Training only: 12k English tweets with 3-class sentiment add English negatives to the fit (its dev split,
    # like every other set's); the English frustration proxies are the anger sets above.
    DatasetSpec("tweeteval-sentiment", "tweeteval", "sentiment = negative", _tweeteval_sentiment,
                "no restrictions (SemEval terms)", True, evaluated=False),
    DatasetSpec("estonian-valence", "estonian-valence", "valence = negative", _estonian, "GPL-3.0", False),
    DatasetSpec("astd", "astd", "sentiment = NEG", _astd, "GPL-2.0", False),
    DatasetSpec("maia-dqe-mt", "maia-dqe", "frustration OR anger (customer sentences)",
                lambda f: _maia(f, "text_mt", "maia-dqe-mt", "en"), "CC BY-ND 4.0", False),
    DatasetSpec("maia-dqe-src", "maia-dqe", "frustration OR anger (customer sentences)",
                lambda f: _maia(f, "text_src", "maia-dqe-src", "pt+de"), "CC BY-ND 4.0", False),
)


def load_sets(
    eval_dir: Path, names: tuple[str, ...] | None = None, *, training: bool = False
) -> dict[tuple[str, str], list[Example]]:
    """{(dataset, language): examples} for every dataset folder present under `eval_dir`.

    `training`: also the sets that only add training rows (`evaluated=False`).
    """
    sets: dict[tuple[str, str], list[Example]] = {}
    for spec in DATASETS:
        if (names is not None and spec.name not in names) or not (spec.evaluated or training):
            continue
        folder = eval_dir / spec.folder
        if not folder.is_dir():
            logger.warning("Skipping %s: %s not found.", spec.name, folder)
            continue
        try:
            examples = list(spec.load(folder))
        except FileNotFoundError as exc:  # two sets share the tweeteval folder; either file may be absent
            logger.warning("Skipping %s: %s not found.", spec.name, exc.filename)
            continue
        for example in examples:
            if example.text.strip():
                sets.setdefault((spec.name, example.language), []).append(example)
    return sets


def row_key(example: Example) -> str:
    """A row's identity across the fit and the evaluation: "<dataset>:<id>"."""
    return f"{example.dataset}:{example.id}"


def _unit_hash(*parts: object) -> float:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(example: Example, seed: int) -> str:
    """ "dev" (DEV_FRACTION of rows, or of MAIA dialogues) or "test", fixed by seed and id only."""
    key = example.group or f"{example.dataset}:{example.id}"  # MAIA: one dialogue, one split, both text fields
    return "dev" if _unit_hash(seed, key) < DEV_FRACTION else "test"


def cap_stratified(examples: list[Example], cap: int | None, seed: int) -> list[Example]:
    """At most `cap` examples with the class balance kept, chosen by a seeded hash (stable across runs)."""
    if cap is None or len(examples) <= cap:
        return list(examples)
    chosen: list[Example] = []
    positives = [e for e in examples if e.positive]
    for part in (positives, [e for e in examples if not e.positive]):
        quota = round(cap * len(part) / len(examples))
        chosen += sorted(part, key=lambda e: _unit_hash("cap", seed, e.dataset, e.id))[:quota]
    return sorted(chosen, key=lambda e: e.id)


def dev_test(examples: list[Example], seed: int, cap: int | None) -> tuple[list[Example], list[Example]]:
    """The seeded dev and test parts, each capped in proportion (cap*0.3 dev, the rest test)."""
    dev = [e for e in examples if split_of(e, seed) == "dev"]
    test = [e for e in examples if split_of(e, seed) == "test"]
    dev_cap = None if cap is None else round(cap * DEV_FRACTION)
    test_cap = None if cap is None else cap - dev_cap
    return cap_stratified(dev, dev_cap, seed), cap_stratified(test, test_cap, seed)
