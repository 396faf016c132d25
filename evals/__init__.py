"""Offline evaluation: retrieval (recall@k / MRR against two baselines), golden sets, escalation.

Entry points: `retrieval_eval.run_retrieval_eval` + `format_retrieval_report`, `retrieval_eval.run_golden_eval`;
data loaders and the gold-set JSONL format live in `datasets`.
"""
