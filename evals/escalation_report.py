"""Markdown report of `kb eval --escalation`: out-of-KB tables, then the frustration report."""

from __future__ import annotations

import re
from collections.abc import Mapping

from evals.frustration_report import render_frustration_report

LANGUAGE_ORDER = ("en", "ar", "ha", "sw", "all")


def _languages(table: Mapping[str, dict]) -> list[str]:
    return [lang for lang in LANGUAGE_ORDER if lang in table] + sorted(set(table) - set(LANGUAGE_ORDER))


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _met(m: dict, targets: dict) -> str:
    f1_ok = m["f1"] >= targets["f1"]
    esc_ok = m["answerable_escalated"] <= targets["max_answerable_escalated"]
    return "yes" if f1_ok and esc_ok else ("F1 no" if esc_ok else ("escalation no" if f1_ok else "no"))


def detection_table(table: Mapping[str, dict], targets: dict | None = None) -> list[str]:
    head = "| language | n | out of KB | precision | recall | F1 | answerable escalated | AUC |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if targets:
        head, rule = head + " targets met |", rule + "---|"
    lines = [head, rule]
    for lang in _languages(table):
        m = table[lang]
        auc = f"{m['auc']:.3f}" if m.get("auc") is not None else "–"
        row = (f"| {lang} | {m['n']} | {m['positives']} | {m['precision']:.3f} | {m['recall']:.3f} | "
               f"**{m['f1']:.3f}** | {_pct(m['answerable_escalated'])} | {auc} |")
        lines.append(row + (f" {_met(m, targets)} |" if targets else ""))
    return lines


def _before_after(before: dict, after: dict) -> list[str]:
    lines = ["| language | F1 before | answerable escalated before | F1 after | answerable escalated after |",
             "|---|---:|---:|---:|---:|"]
    for lang in _languages(after["test"]):
        b, a = before["test"].get(lang), after["test"][lang]
        if b is None:
            continue
        lines.append(f"| {lang} | {b['f1']:.3f} | {_pct(b['answerable_escalated'])} | "
                     f"**{a['f1']:.3f}** | {_pct(a['answerable_escalated'])} |")
    return lines


def _retrieval(retrieval: dict, escalated: dict, threshold: float) -> list[str]:
    k = next((key for key in next(iter(retrieval.values()), {}) if key.startswith("hit_at_") and key != "hit_at_1"), "")
    lines = [f"| language | answerable (test) | gold at rank 1 | gold in top {k[7:]} | "
             f"escalated when gold retrieved | escalated when gold missed (n) |", "|---|---:|---:|---:|---:|---:|"]
    for lang in _languages(retrieval):
        r, e = retrieval[lang], escalated.get(lang, {})
        lines.append(f"| {lang} | {r['answerable']} | {_pct(r['hit_at_1'])} | {_pct(r[k])} | "
                     f"{_pct(e.get('found_escalated', 0.0))} | {_pct(e.get('missed_escalated', 0.0))} "
                     f"({e.get('missed', 0)}) |")
    return lines + ["", f"(escalated = confidence below {threshold})"]


def _adversarial(adv: dict, threshold: float) -> list[str]:
    s = adv["signal_auc"]
    return [
        f"{adv['impossible']} SQuAD 2.0 `is_impossible` questions whose paragraph is indexed, against "
        f"{adv['answerable']} answerable SQuAD test questions whose paragraph is indexed. The paragraph is "
        f"retrieved first for {_pct(adv['gold_at_1']['impossible'])} of the unanswerables and "
        f"{_pct(adv['gold_at_1']['answerable'])} of the answerables: retrieval evidence cannot tell them apart.",
        "",
        "| signal | AUC (answerable above unanswerable; 0.5 = chance) | flagged unanswerable | flagged answerable |",
        "|---|---:|---:|---:|",
        f"| confidence score < {threshold} | {adv['score_auc']} | {_pct(adv['flagged']['impossible'])} | "
        f"{_pct(adv['flagged']['answerable'])} |",
        f"| best-sentence coverage of question words | {s['sentence_coverage']} | – | – |",
        f"| passage coverage of question words | {s['lexical_coverage']} | – | – |",
        f"| coverage of question names/numbers | {s['entity_coverage']} | – | – |",
        f"| cue: negation word, or a question name/number absent | – | {_pct(adv['cue_flagged']['impossible'])} | "
        f"{_pct(adv['cue_flagged']['answerable'])} |",
        *_adversarial_detection(adv.get("detection"), threshold),
    ]


def _adversarial_detection(d: dict | None, threshold: float) -> list[str]:
    if not d:
        return []
    return ["", f"As out-of-KB detection (unanswerable = positive, escalated below {threshold}): precision "
                f"{d['precision']:.3f}, recall {d['recall']:.3f}, **F1 {d['f1']:.3f}**, answerable escalated "
                f"{_pct(d['answerable_escalated'])} (n = {d['n']}, {d['positives']} unanswerable)."]


def format_out_of_kb(result: dict) -> list[str]:
    setup, targets = result["setup"], result["targets"]
    models = result["models"]
    name = "after" if "after" in models else "current"
    main = models[name]
    thresholds = main["thresholds"]
    lines = [
        "## (a) Out-of-knowledge-base detection",
        "",
        f"Passage-group hold-out {setup['holdout_fraction']:.0%} (seed {setup['holdout_seed']}); "
        f"{setup['passages_indexed']['passage']} passages indexed in a temporary Chroma; top-{setup['top_k']} "
        f"hybrid retrieval; test split = {1 - setup['dev_fraction']:.0%} of questions (seed {setup['split_seed']}). "
        f"Positives: questions whose gold passage is held out. Escalated: confidence below the offer threshold "
        f"{thresholds['offer']}. Model: "
        f"{'refitted on dev in this run' if name == 'after' else 'assistant/data/confidence.json'}.",
        "",
        f"### Test split, per language (targets: F1 ≥ {targets['f1']}, answerable escalated ≤ "
        f"{_pct(targets['max_answerable_escalated'])})",
        "",
        *detection_table(main["test"], targets),
    ]
    if "before" in models:
        lines += ["", "### Before (weights on disk before this run) vs after calibration, offer threshold "
                  f"{thresholds['offer']}", "", *_before_after(models["before"], main)]
    rec = main["recommended"]
    lines += [
        "",
        "### Thresholds",
        "",
        f"- offer a person below **{thresholds['offer']}** (configured); dev recommends {rec['offer']} "
        f"(highest value escalating ≤ 10% of every language's answerable dev questions, less a safety margin "
        f"of 1.28 standard errors).",
        f"- abstain (offline path) below **{thresholds['abstain']}** (configured); dev recommends {rec['abstain']} "
        f"(≤ 3% of answerable dev questions per language, same margin). At the configured value, test:",
        "",
        *detection_table(main["test_abstain"]),
        "",
        "### When a whole article is missing (article-level hold-out, same model and threshold)",
        "",
        *detection_table(main["article_test"], targets),
        "",
        "### Retrieval context (answerable test questions)",
        "",
        *_retrieval(result["retrieval"], main["escalated_by_retrieval"], thresholds["offer"]),
        "",
        "### SQuAD 2.0 unanswerables inside an indexed paragraph",
        "",
        *_adversarial(main["adversarial"], thresholds["offer"]),
        "",
        "### Timings",
        "",
        ", ".join(f"{k} {v}" for k, v in result["timings"].items())
        + f"; confidence features + score {main['score_us_per_question']} µs per question.",
    ]
    return lines


def format_frustration(result: dict) -> list[str]:
    if not result or result.get("status") == "unavailable":
        return ["## (b) Frustration detection", "", "Not available in this build."]
    text = re.sub(r"(?m)^(#+) ", r"##\1 ", render_frustration_report(result))  # nest its headings under (b)
    return ["## (b) Frustration detection", "", text]


def format_citation_support(result: dict) -> list[str]:
    """Claims vs the passages they cite: AUC and the operating point, per claim -> passage language pair."""
    if "test" not in result:
        return ["## Citation support", "", f"Not run: {result.get('detail', result.get('status', '?'))}"]
    setup = result["setup"]
    lines = ["## Citation support (LLM answers: is each claim backed by the passage it cites?)", "",
             f"XQuAD answer sentences against their own / parallel paragraph (supported) and the most similar "
             f"paragraph of the same article without the answer (unsupported); split {setup['split']}; "
             f"{setup['pairs_test']} test pairs; a claim is flagged below {setup['threshold']}.", "",
             "| claim -> passage | supported | unsupported | AUC | supported flagged | unsupported caught |",
             "|---|---:|---:|---:|---:|---:|"]
    for pair, m in result["test"].items():
        auc = "–" if m["auc"] is None else f"{m['auc']:.3f}"
        lines.append(f"| {pair} | {m['supported']} | {m['unsupported']} | {auc} | "
                     f"{_pct(m['supported_flagged'])} | {_pct(m['unsupported_caught'])} |")
    return lines


def format_escalation_report(result: dict) -> str:
    """Markdown tables for `kb eval --escalation`."""
    lines = ["# Escalation evaluation", ""]
    if "out_of_kb" in result:
        lines += format_out_of_kb(result["out_of_kb"]) + [""]
    if "citation_support" in result:
        lines += format_citation_support(result["citation_support"]) + [""]
    if "frustration" in result:
        lines += format_frustration(result["frustration"])
    return "\n".join(lines).rstrip() + "\n"
