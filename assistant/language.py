"""Language identification restricted to the product's languages (py3langid, offline)."""

from __future__ import annotations

import functools
import re

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")


@functools.lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages))
    return identifier


def detect_language(text: str, languages: tuple[str, ...], default: str = "en") -> tuple[str, float]:
    """Return (language code, probability); `default` with 0.0 when the text has too few letters."""
    letters = _LETTERS.findall(text)
    if len(letters) < 3:
        return default, 0.0
    # Arabic script is unambiguous among our languages and langid is unsure on very short inputs.
    if "ar" in languages and len(_ARABIC.findall(text)) > len(letters) / 2:
        return "ar", 1.0
    code, prob = _identifier(tuple(languages)).classify(text)
    return code, float(prob)
