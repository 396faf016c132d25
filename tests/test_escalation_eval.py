"""The out-of-KB evaluation on a tiny synthetic eval dir: hold-out, labels and P/R/F1 on a known case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.config import Settings
from evals.datasets import split_cases
from evals.embedding_cache import CachedEmbeddings
from evals.escalation_eval import format_escalation_report, run_out_of_kb_eval
from evals.out_of_kb import (
    HOLDOUT_FRACTION,
    HOLDOUT_SEED,
    detection_metrics,
    hold_out_groups,
    load_protocol,
    roc_auc,
)

# Topics with no content word in common, so a question copied from one passage matches only that passage.
XQUAD = {  # parallel group: (title, English, Arabic)
    "a00p00": ("Etna", "Mount Etna is an active volcano on Sicily whose lava reached Catania in 1669.",
               "جبل إتنا بركان نشط في صقلية وصلت حممه إلى كاتانيا عام 1669."),
    "a01p00": ("Stradivari", "Antonio Stradivari crafted violins in Cremona using spruce and maple wood.",
               "صنع أنطونيو ستراديفاري الكمان في كريمونا من خشب التنوب والقيقب."),
    "a02p00": ("Penguins", "Emperor penguins huddle through Antarctic winters while males incubate eggs on their feet.",
               "تتجمع طيور البطريق الإمبراطوري خلال شتاء القارة القطبية بينما يحضن الذكور البيض فوق أقدامهم."),
    "a03p00": ("Pharos", "The Pharos lighthouse of Alexandria guided sailors with a fire burning atop its tower.",
               "أرشدت منارة فاروس في الإسكندرية البحارة بنار مشتعلة فوق برجها."),
}
SQUAD = {
    "squad2-dev-a90p000": ("Chess", "Magnus Carlsen became world chess champion by defeating Viswanathan Anand "
                                    "in Chennai."),
    "squad2-dev-a91p000": ("Coffee", "Arabica coffee beans grow on Ethiopian highlands and ripen into red cherries."),
    "squad2-dev-a92p000": ("Glaciers", "Glaciers carve fjords when compacted snow slides downhill under gravity."),
}
AFRIQA = {
    "afriqa-en-000000000001": ("Kilimanjaro", "Kilimanjaro is Tanzania's tallest mountain, with Kibo crater "
                                              "rising above Moshi."),
    "afriqa-en-000000000002": ("Zambezi", "The Zambezi river plunges over Victoria Falls between Zambia and Zimbabwe."),
    "afriqa-en-000000000003": ("Timbuktu", "Timbuktu manuscripts preserved astronomy and jurisprudence "
                                           "scholarship in Mali."),
    "afriqa-en-000000000004": ("Baobab", "Baobab trunks store water, letting these trees survive Sahel droughts."),
}
NONSENSE = {"en": "Do quibbling wombats juggle marzipan?", "ar": "هل تقفز الزرافات فوق الغيوم البنفسجية؟"}
# Scores only lexical coverage of the question by the top passage: < 0.45 exactly when under half is covered.
LEXICAL_MODEL = {"weights": {"lexical_coverage": 20.0, "bias": -10.0}}


def _group(source: str, key: str) -> str:
    return f"{source}:{key}"


def _text(group: str, language: str) -> str:
    source, key = group.split(":", 1)
    if source == "xquad":
        return XQUAD[key][1 if language == "en" else 2]
    return (SQUAD if source == "squad" else AFRIQA)[key][1]


def _questions(held: frozenset[str]) -> list[dict]:
    """Every question with its gold group and the group its words come from (None: from nowhere)."""
    xquad = [_group("xquad", k) for k in XQUAD]
    squad = [_group("squad", k) for k in SQUAD]
    afriqa = [_group("afriqa", k) for k in AFRIQA]
    indexed_x = next(g for g in xquad if g not in held)
    held_x = next(g for g in xquad if g in held)
    plan = [(g, lang, g) for g in xquad for lang in ("en", "ar")]  # copied from their own passage
    plan += [(indexed_x, "en", None), (indexed_x, "ar", None)]      # answerable, but no word in common: FP
    plan += [(held_x, "en", indexed_x), (held_x, "ar", indexed_x)]  # out of KB, words of an indexed passage: FN
    plan += [(g, "en", g) for g in squad]
    plan += [(g, lang, g) for g in afriqa for lang in ("ha", "sw")]
    plan += [(next(g for g in afriqa if g in held), "ha", next(g for g in afriqa if g not in held))]
    questions = []
    for i, (gold, lang, words) in enumerate(plan):
        text = NONSENSE[lang] if words is None else _text(words, lang)
        questions.append({"id": f"q{i:03d}", "lang": lang, "gold": gold, "words": words, "question": text})
    return questions


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _write_eval_dir(root: Path, questions: list[dict]) -> None:
    _write(root / "xquad" / "contexts.jsonl", [
        {"context_id": f"xquad-{lang}-{key}", "lang": lang, "parallel_group": key, "title": title, "text": text}
        for key, (title, en, ar) in XQUAD.items() for lang, text in (("en", en), ("ar", ar))
    ])
    _write(root / "squad-v2" / "contexts.jsonl",
           [{"context_id": cid, "lang": "en", "title": t, "text": x} for cid, (t, x) in SQUAD.items()])
    _write(root / "afriqa" / "contexts.jsonl",
           [{"context_id": cid, "lang": "en", "title": t, "text": x} for cid, (t, x) in AFRIQA.items()])
    rows: dict[str, list[dict]] = {"xquad": [], "squad-v2": [], "afriqa": []}
    for q in questions:
        source, key = q["gold"].split(":", 1)
        base = {"id": q["id"], "question": q["question"]}
        if source == "xquad":
            rows["xquad"].append({**base, "lang": q["lang"], "context_id": f"xquad-{q['lang']}-{key}",
                                  "context_id_en": f"xquad-en-{key}", "parallel_group": key})
        elif source == "squad":
            rows["squad-v2"].append({**base, "lang": "en", "context_id": key, "is_impossible": False})
        else:
            rows["afriqa"].append({**base, "lang": {"ha": "hau", "sw": "swa"}[q["lang"]], "context_id": key})
    first_squad = next(iter(SQUAD))
    rows["squad-v2"].append({"id": "imp0", "lang": "en", "question": "Who lost the chess title in Chennai?",
                             "context_id": first_squad, "is_impossible": True})
    for name, items in rows.items():
        _write(root / name / "questions.jsonl", items)


@pytest.fixture(scope="module")
def held() -> frozenset[str]:
    groups = [_group(source, k) for source, keys in (("xquad", XQUAD), ("squad", SQUAD), ("afriqa", AFRIQA))
              for k in keys]
    return hold_out_groups(groups, HOLDOUT_FRACTION, HOLDOUT_SEED)


@pytest.fixture(scope="module")
def eval_dir(tmp_path_factory, held) -> tuple[Path, list[dict]]:
    root = tmp_path_factory.mktemp("eval-data")
    questions = _questions(held)
    _write_eval_dir(root, questions)
    return root, questions


@pytest.fixture(scope="module")
def cached_embeddings(embeddings) -> CachedEmbeddings:
    return CachedEmbeddings(embeddings, None)  # in memory only: shared by the runs of this module


def test_detection_metrics_known_case():
    out_of_kb = [True, True, True, True, False, False, False, False]
    flagged = [True, True, False, False, True, False, False, False]
    m = detection_metrics(out_of_kb, flagged)
    assert (m["tp"], m["fp"], m["fn"], m["positives"]) == (2, 1, 2, 4)
    assert m["precision"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["recall"] == pytest.approx(0.5)
    assert m["f1"] == pytest.approx(4 / 7, abs=1e-4)
    assert m["answerable_escalated"] == pytest.approx(0.25)


def test_roc_auc_counts_ties_as_half():
    assert roc_auc([3.0, 2.0], [1.0, 2.0]) == pytest.approx(0.875)
    assert roc_auc([], [1.0]) is None


def test_hold_out_removes_both_languages_of_a_parallel_group(eval_dir, held):
    root, _ = eval_dir
    protocol = load_protocol(root)
    assert protocol.held_out == held
    assert sum(g.startswith("xquad:") for g in held) == round(len(XQUAD) * HOLDOUT_FRACTION)
    indexed = {p.context_id for p in protocol.passages}
    for key in XQUAD:
        in_kb = _group("xquad", key) not in held
        assert (f"xquad-en-{key}" in indexed, f"xquad-ar-{key}" in indexed) == (in_kb, in_kb)
    for item in protocol.cases:
        assert item.in_kb == (item.group not in held)
    impossible_indexed = _group("squad", next(iter(SQUAD))) not in held
    assert [c.impossible for c in protocol.cases].count(True) == int(impossible_indexed)


def test_out_of_kb_eval_counts_a_known_case(eval_dir, held, cached_embeddings, tmp_path):
    root, questions = eval_dir
    model_path = tmp_path / "confidence.json"
    model_path.write_text(json.dumps(LEXICAL_MODEL), encoding="utf-8")
    result = run_out_of_kb_eval(root, cached_embeddings, Settings(), model_path=model_path)

    test_ids = {c.id for c in split_cases([c.case for c in load_protocol(root).cases if not c.impossible], "test")}
    expected: dict[str, dict[str, int]] = {}
    for q in questions:
        if q["id"] not in test_ids:
            continue
        out_of_kb = q["gold"] in held
        flagged = q["words"] is None or q["words"] in held  # no coverage unless its words are indexed
        for lang in (q["lang"], "all"):
            e = expected.setdefault(lang, {"tp": 0, "fp": 0, "fn": 0})
            e["tp"] += out_of_kb and flagged
            e["fp"] += flagged and not out_of_kb
            e["fn"] += out_of_kb and not flagged
    table = result["models"]["current"]["test"]
    assert set(table) == set(expected)
    for lang, e in expected.items():
        got = table[lang]
        assert {k: got[k] for k in ("tp", "fp", "fn")} == e, lang
        precision = e["tp"] / (e["tp"] + e["fp"]) if e["tp"] + e["fp"] else 0.0
        recall = e["tp"] / (e["tp"] + e["fn"]) if e["tp"] + e["fn"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((precision, recall, f1), abs=1e-4)
    assert expected["all"]["fp"] >= 1 and expected["all"]["fn"] >= 1 and expected["all"]["tp"] >= 3  # not trivial
    adversarial = result["models"]["current"]["adversarial"]
    detection = adversarial["detection"]
    assert detection["positives"] == adversarial["impossible"] and detection["n"] == (
        adversarial["impossible"] + adversarial["answerable"])
    assert detection["recall"] == adversarial["flagged"]["impossible"]
    assert detection["answerable_escalated"] == adversarial["flagged"]["answerable"]
    report = format_escalation_report({"out_of_kb": result})
    assert "| en |" in report and "Out-of-knowledge-base" in report
    assert f"F1 {detection['f1']:.3f}" in report


def test_calibrate_writes_only_the_given_model_file(eval_dir, cached_embeddings, tmp_path):
    root, _ = eval_dir
    model_path = tmp_path / "confidence.json"
    model_path.write_text(json.dumps(LEXICAL_MODEL), encoding="utf-8")
    package_file = Path(__file__).resolve().parents[1] / "assistant" / "data" / "confidence.json"
    before = package_file.read_bytes()
    result = run_out_of_kb_eval(root, cached_embeddings, Settings(), calibrate=True, model_path=model_path)
    assert package_file.read_bytes() == before
    written = json.loads(model_path.read_text(encoding="utf-8"))
    assert "dev" in written["fitted"]["split"] and "dense_top" in written["weights"]
    assert set(result["models"]) == {"before", "after"}
