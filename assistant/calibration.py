"""Confidence calibrated to each knowledge base, from questions the knowledge base asks itself.

A fixed confidence threshold is wrong for most help centres: how high a near miss scores depends
on the content (many similar articles, or few distinct ones) and on the language (a Hausa question
meets English text at lower cosines than an English one). So after every change to the index the
knowledge base is probed with the questions it already contains, in every language it holds
(assistant/self_probe.py):

- probes: each FAQ row's question, and each article section's heading;
- near misses (leave-one-out): the probe's document and all its translations are left out, so
  whatever comes back is the closest thing the knowledge base has to an answer it does not hold;
- answerable probes: only the probe's own language version is left out, so it must be answered
  from a translation; it counts as right when the top hit belongs to the same document group.

Per question language, the offer and abstain thresholds are quantiles of the near misses'
confidence (`OFFER_QUANTILE`, `ABSTAIN_QUANTILE`, tuned once on the help-centre dev split), shrunk
towards the pooled thresholds when a language has few probes, and never below the configured
thresholds (see `Calibration.thresholds`). The answerable probes give the
reliability curve shown to staff. Group labels are strict (a right answer from a duplicate article
counts as wrong), so the curve understates accuracy; the thresholds use only the near misses. The
result travels with the index (stored on the Chroma collection), so every replica uses the same
calibration, and the Insights page shows it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from assistant.text_units import is_list_unit, units

logger = logging.getLogger(__name__)

# Quantiles of the near misses' confidence used as thresholds (tuned on the help-centre dev split:
# docs/evaluation/answers.md). Below the first an answer comes with an offer of a person; below the
# second the assistant says the help centre does not cover it (and offers a person).
OFFER_QUANTILE = 0.6
ABSTAIN_QUANTILE = 0.05
DEFAULT_OFFER, DEFAULT_ABSTAIN = 0.45, 0.15   # with nothing to probe at all (the settings' defaults)
SHRINK_PROBES = 20        # a language's own thresholds count as this many probes against the pooled ones
MIN_PROBES = 6            # below this many near misses, a language uses the pooled thresholds
CURVE_BINS = 10
MIN_HEADING_WORDS = 2
STATEMENT_WORDS = (6, 30)  # a plain-text sentence of this many words stands in for a question
_FAQ = re.compile(r"^\s*Q:\s*(?P<q>.*?)\n\s*A:", re.S)


@dataclass(frozen=True, slots=True)
class Probe:
    """A question the knowledge base asks itself, and the document group that answers it."""

    text: str
    language: str
    group: str          # translation group of the answering document (assistant/translations.py)
    kind: str           # "faq" | "heading" | "statement"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    probe: Probe
    answerable: bool    # False: a leave-one-out near miss
    correct: bool       # the top hit is in the probe's group (always False for near misses)
    confidence: float


@dataclass(frozen=True, slots=True)
class LanguageCalibration:
    """Thresholds for one question language, and the reliability curve they came from."""

    offer_below: float
    abstain_below: float
    answerable: int = 0
    near_misses: int = 0
    curve: tuple[tuple[float, float, int], ...] = ()   # (confidence bin centre, share right, probes)


@dataclass(frozen=True, slots=True)
class Calibration:
    content: str                      # fingerprint of the chunks it was made on
    model: str                        # fingerprint of the confidence models' weights it was made with
    pooled: LanguageCalibration
    languages: Mapping[str, LanguageCalibration] = field(default_factory=dict)
    probes: int = 0

    def thresholds(self, language: str, floor: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
        """(offer below, abstain below) for questions in `language`, never below `floor`.

        The floor is the configured pair (KB_CONFIDENCE_THRESHOLD, KB_ABSTAIN_THRESHOLD), validated on
        help-centre questions: what a knowledge base learns about itself may make it more careful in a
        language, never less (measured in docs/evaluation/answers.md: it keeps confident wrong answers
        at or below 5% on both held-out domains, where the raw quantiles did not on the seed articles).
        """
        own = self.languages.get(language, self.pooled)
        return max(own.offer_below, floor[0]), max(own.abstain_below, floor[1])

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        data = json.loads(text)

        def language(row: Mapping) -> LanguageCalibration:
            return LanguageCalibration(
                offer_below=float(row["offer_below"]), abstain_below=float(row["abstain_below"]),
                answerable=int(row.get("answerable", 0)), near_misses=int(row.get("near_misses", 0)),
                curve=tuple(tuple(point) for point in row.get("curve", ())),
            )

        return cls(
            content=str(data["content"]),
            model=str(data["model"]),
            pooled=language(data["pooled"]),
            languages={code: language(row) for code, row in data.get("languages", {}).items()},
            probes=int(data.get("probes", 0)),
        )


def probe_text(text: str, section: str) -> tuple[str, str] | None:
    """(probe, kind) for a chunk: its FAQ question, the last heading of its section path, or, for
    plain text with neither, its first sentence of a question's length."""
    faq = _FAQ.match(text)
    if faq:
        return " ".join(faq.group("q").split()), "faq"
    heading = section.rsplit(">", 1)[-1].strip()
    if len(heading.split()) >= MIN_HEADING_WORDS:
        return heading, "heading"
    if section:
        return None
    for sentence in units(text):
        if STATEMENT_WORDS[0] <= len(sentence.split()) <= STATEMENT_WORDS[1] and not is_list_unit(sentence):
            return sentence, "statement"
    return None


def fit_language(results: Sequence[ProbeResult], fallback: LanguageCalibration | None = None) -> LanguageCalibration:
    """Offer and abstain thresholds for one language: quantiles of its near misses' confidence.

    Near misses are what this knowledge base answers when it does not hold the answer, so their
    confidence says how high "confident but wrong" reaches here, in this language. The quantile
    levels were tuned once on help-centre questions (see module docstring); a language with few
    probes is shrunk towards the pooled thresholds.
    """
    scores = np.array([r.confidence for r in results], dtype=float)
    right = np.array([r.answerable and r.correct for r in results], dtype=bool)
    misses = scores[[not r.answerable for r in results]]
    if misses.size:
        offer, abstain = float(np.quantile(misses, OFFER_QUANTILE)), float(np.quantile(misses, ABSTAIN_QUANTILE))
    elif fallback is not None:
        offer, abstain = fallback.offer_below, fallback.abstain_below
    else:
        offer, abstain = DEFAULT_OFFER, DEFAULT_ABSTAIN
    if fallback is not None:
        weight = misses.size / (misses.size + SHRINK_PROBES) if misses.size >= MIN_PROBES else 0.0
        offer = weight * offer + (1 - weight) * fallback.offer_below
        abstain = weight * abstain + (1 - weight) * fallback.abstain_below
    return LanguageCalibration(
        offer_below=round(offer, 4), abstain_below=round(min(abstain, offer), 4),
        answerable=int(sum(r.answerable for r in results)), near_misses=int(misses.size),
        curve=reliability_curve(scores, right),
    )


def reliability_curve(scores: np.ndarray, right: np.ndarray) -> tuple[tuple[float, float, int], ...]:
    """Share of right answers per confidence bin (bins with probes only)."""
    points = []
    edges = np.linspace(0.0, 1.0, CURVE_BINS + 1)
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (scores >= low) & ((scores < high) | (high == 1.0))
        if inside.any():
            points.append((round(float((low + high) / 2), 3), round(float(right[inside].mean()), 3), int(inside.sum())))
    return tuple(points)


def fit_calibration(results: Sequence[ProbeResult], content: str, model: str) -> Calibration:
    """Pooled thresholds from every probe, then one set per question language."""
    pooled = fit_language(results)
    by_language: dict[str, list[ProbeResult]] = {}
    for result in results:
        by_language.setdefault(result.probe.language, []).append(result)
    languages = {code: fit_language(rows, pooled) for code, rows in sorted(by_language.items())}
    probes = len({(r.probe.text, r.probe.language) for r in results})
    return Calibration(content=content, model=model, pooled=pooled, languages=languages, probes=probes)


ConfidenceFn = Callable[[Probe, frozenset[str] | None], tuple[bool, float]]


def run_probes(
    probes: Sequence[Probe], answer: ConfidenceFn, languages_of: Mapping[str, set[str]]
) -> list[ProbeResult]:
    """Ask each probe twice: answerable from a translation (when one exists), and with its group left out.

    `answer(probe, excluded)` returns (top hit in the probe's group, confidence), with `excluded` a
    set of (group, language) keys to leave out ("*" as the language: every language of the group).
    `languages_of[group]` is the set of languages the group is indexed in.
    """
    results = []
    for probe in probes:
        if languages_of.get(probe.group, set()) - {probe.language}:
            correct, confidence = answer(probe, frozenset({f"{probe.group}\x00{probe.language}"}))
            results.append(ProbeResult(probe, True, correct, confidence))
        _, confidence = answer(probe, frozenset({f"{probe.group}\x00*"}))
        results.append(ProbeResult(probe, False, False, confidence))
    return results
